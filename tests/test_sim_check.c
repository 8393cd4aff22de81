/* test_sim_check.c - the simulator's invariant checker (src/sim/ec_sim_check.h)
 * on synthetic commit records: double commits on one (token, prev), twins
 * or not, member commits against witness commits; atomicity of multi-token
 * transactions (established at a commit moment, or held at the end, or
 * nowhere); divergence of a neighbourhood's final heads; the JSON and text
 * forms of the result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sim/ec_sim_check.h"

static ec_id idn(unsigned v)
{
	ec_id x;
	memset(&x, 0, sizeof x);
	x.b[0] = (uint8_t)(v >> 8);
	x.b[1] = (uint8_t)v;
	x.b[31] = 1; /* never the zero id */
	return x;
}

static const ec_id zero;

/* The neighbourhood of nodes first .. first + n - 1. */
static ec_chk_nbhd nbhd(uint32_t first, uint32_t n)
{
	ec_chk_nbhd nb;
	memset(&nb, 0, sizeof nb);
	nb.n = n;
	for (uint32_t j = 0; j < n; j++)
		nb.node[j] = first + j;
	return nb;
}

/* A one-token transaction on (token, prev). */
static void tx1(ec_chk *c, unsigned txid, unsigned token, const ec_id *prev)
{
	ec_id t = idn(token), id = idn(txid);
	assert_int_equal(ec_chk_tx(c, &id, 1, &t, prev), EC_OK);
}

static void commit1(ec_chk *c, unsigned txid, uint32_t node, uint64_t t_us, ec_chk_nbhd nb)
{
	ec_id id = idn(txid);
	assert_int_equal(ec_chk_commit(c, &id, node, t_us, &nb), EC_OK);
}

static void eval(ec_chk *c, ec_chk_result *r)
{
	assert_int_equal(ec_chk_eval(c, r), EC_OK);
}

/* Transactions 1 and 2 on (token 50, prev 900): 1 committed by node 3 at
 * t1 (a member of nodes 0..7), 2 by node n2 at t2 with neighbourhood nb2. */
static ec_chk *two_on_one_prev(uint64_t t1, uint32_t n2, uint64_t t2, ec_chk_nbhd nb2)
{
	ec_chk *c;
	ec_id prev = idn(900);
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx1(c, 1, 50, &prev);
	tx1(c, 2, 50, &prev);
	commit1(c, 1, 3, t1, nbhd(0, 8));
	commit1(c, 2, n2, t2, nb2);
	return c;
}

/* Two different transactions committed on one (token, prev) by members of
 * its neighbourhood: one violation, whether they are twins or a stale
 * transaction committed much later; the example names both sides. */
static void test_double_commit(void **state)
{
	(void)state;
	ec_chk_result r;
	ec_id prev = idn(900);
	/* 2: 95 s later, in a moved neighbourhood */
	ec_chk *c = two_on_one_prev(1000, 7, 95000000, nbhd(4, 8));
	commit1(c, 1, 4, 1200, nbhd(0, 8));
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_DOUBLE_COMMIT], 1);
	assert_int_equal(r.double_commit_any, 1);
	assert_int_equal(ec_chk_violations(&r), 1);
	assert_int_equal(r.n_double, 1);
	ec_id t = idn(50), a = idn(1), b = idn(2);
	assert_true(ec_id_eq(&r.dbl[0].token, &t));
	assert_true(ec_id_eq(&r.dbl[0].prev, &prev));
	assert_true(ec_id_eq(&r.dbl[0].a.txid, &a));
	assert_true(ec_id_eq(&r.dbl[0].b.txid, &b));
	assert_int_equal(r.dbl[0].a.node, 3);
	assert_int_equal(r.dbl[0].a.t_us, 1000);
	assert_int_equal(r.dbl[0].b.node, 7);
	assert_int_equal(r.dbl[0].b.t_us, 95000000);
	assert_int_equal(r.dbl[0].txs, 2);
	assert_int_equal(r.commits, 3);
	assert_int_equal(r.member_commits, 3);

	/* a third transaction on the same (token, prev): still one (token,
	 * prev) violated, three transactions on it */
	tx1(c, 3, 50, &prev);
	commit1(c, 3, 1, 500, nbhd(0, 8));
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_DOUBLE_COMMIT], 1);
	assert_int_equal(r.dbl[0].txs, 3);
	ec_id x3 = idn(3);
	assert_true(ec_id_eq(&r.dbl[0].a.txid, &x3)); /* the earliest first */
	ec_chk_free(c);
}

/* The same transaction committed by many members, and twice by one: no
 * violation.  Transactions extending each other (different prev): none. */
static void test_same_tx_twice(void **state)
{
	(void)state;
	ec_chk *c;
	ec_chk_result r;
	ec_id p0 = zero, p1 = idn(1);
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx1(c, 1, 50, &p0);  /* creation */
	tx1(c, 2, 50, &p1);  /* extends 1 */
	for (uint32_t k = 0; k < 8; k++) {
		commit1(c, 1, k, 100 + k, nbhd(0, 8));
		commit1(c, 2, k, 900 + k, nbhd(0, 8));
	}
	commit1(c, 1, 2, 5000, nbhd(0, 8)); /* node 2 again */
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_DOUBLE_COMMIT], 0);
	assert_int_equal(r.double_commit_any, 0);
	assert_int_equal(ec_chk_violations(&r), 0);
	/* a txid given twice is one transaction */
	tx1(c, 1, 50, &p0);
	eval(c, &r);
	assert_int_equal(r.txs, 2);
	/* commits of an unknown txid are refused and not recorded */
	ec_id unk = idn(77);
	ec_chk_nbhd nb = nbhd(0, 8);
	assert_int_equal(ec_chk_commit(c, &unk, 1, 1, &nb), EC_ERR_NOTFOUND);
	eval(c, &r);
	assert_int_equal(r.commits, 17);
	ec_chk_free(c);
}

/* A conflicting transaction committed only by nodes outside the token's
 * neighbourhood (witnesses, relays) is no double commit of the token's
 * history, but is counted apart (double_commit_any_node). */
static void test_witness_commit(void **state)
{
	(void)state;
	ec_chk_result r;
	ec_chk *c = two_on_one_prev(1000, 20, 2000, nbhd(0, 8)); /* node 20: not a member */
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_DOUBLE_COMMIT], 0);
	assert_int_equal(r.double_commit_any, 1);
	assert_int_equal(r.member_commits, 1);
	assert_int_equal(r.commits, 2);
	ec_chk_free(c);
}

/* Members of each token's final neighbourhood holding `head` (has = 1) or
 * nothing, all online and honest. */
static void final_all(ec_chk *c, unsigned token, uint32_t first, uint32_t n, int has,
		      const ec_id *head)
{
	ec_chk_member m[EC_CHK_NB];
	ec_id t = idn(token);
	memset(m, 0, sizeof m);
	for (uint32_t j = 0; j < n; j++) {
		m[j].node = first + j;
		m[j].honest = m[j].online = 1;
		m[j].has = (uint8_t)has;
		if (head)
			m[j].head = *head;
	}
	assert_int_equal(ec_chk_final(c, &t, m, n), EC_OK);
}

/* A 2-token transaction (tokens 50 and 60, prevs 900/901). */
static void tx2(ec_chk *c, unsigned txid)
{
	ec_id t[2] = {idn(50), idn(60)}, p[2] = {idn(900), idn(901)}, id = idn(txid);
	assert_int_equal(ec_chk_tx(c, &id, 2, t, p), EC_OK);
}

static void commit2(ec_chk *c, unsigned txid, uint32_t node, uint64_t t_us)
{
	ec_chk_nbhd nb[2] = {nbhd(0, 8), nbhd(100, 8)}; /* token 50: 0..7, 60: 100..107 */
	ec_id id = idn(txid);
	assert_int_equal(ec_chk_commit(c, &id, node, t_us, nb), EC_OK);
}

/* Committed by a majority of one token's neighbourhood and by nobody of
 * the other's: an atomicity violation, also when the final states agree
 * with that (no divergence needed to see it). */
static void test_partial_multi_token(void **state)
{
	(void)state;
	ec_chk *c;
	ec_chk_result r;
	ec_id x = idn(1), p50 = idn(900), p60 = idn(901);
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx2(c, 1);
	for (uint32_t k = 0; k < 8; k++)
		commit2(c, 1, k, 1000 + k);
	final_all(c, 50, 0, 8, 1, &x);
	final_all(c, 60, 100, 8, 1, &p60); /* token 60 stays on its prev */
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 1);
	assert_int_equal(r.count[EC_CHK_DOUBLE_COMMIT], 0);
	assert_int_equal(r.count[EC_CHK_DIVERGENCE], 0);
	assert_int_equal(r.multi_token_txs, 1);
	assert_int_equal(r.n_atomic, 1);
	assert_true(ec_id_eq(&r.atom[0].txid, &x));
	assert_int_equal(r.atom[0].established, 1);  /* token 50 only */
	assert_int_equal(r.atom[0].committed, 1);
	assert_int_equal(r.atom[0].committers[0], 8);
	assert_int_equal(r.atom[0].committers[1], 0);
	assert_int_equal(r.atom[0].holders[0], 8);
	assert_int_equal(r.atom[0].holders[1], 0);
	assert_int_equal(r.atom[0].members[1], 8);
	assert_int_equal(r.atom[0].first.node, 0);
	assert_int_equal(r.atom[0].first.t_us, 1000);
	ec_chk_free(c);

	/* the same with 4 of token 60's 8 members committing: half is no
	 * majority, still a violation; a fifth one establishes it */
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx2(c, 1);
	for (uint32_t k = 0; k < 8; k++)
		commit2(c, 1, k, 1000 + k);
	for (uint32_t k = 0; k < 4; k++)
		commit2(c, 1, 100 + k, 2000 + k);
	final_all(c, 50, 0, 8, 1, &x);
	final_all(c, 60, 100, 8, 1, &p60);
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 1);
	commit2(c, 1, 104, 3000);
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 0);
	ec_chk_free(c);

	/* committed everywhere at once, or nowhere: no violation */
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx2(c, 1);
	tx2(c, 2); /* never committed by anyone */
	for (uint32_t k = 0; k < 5; k++) {
		commit2(c, 1, k, 1000 + k);
		commit2(c, 1, 100 + k, 1000 + k);
	}
	final_all(c, 50, 0, 8, 1, &p50);
	final_all(c, 60, 100, 8, 1, &p60);
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 0);
	ec_chk_free(c);
}

/* An entry no majority committed at one moment is still established when,
 * at the end, a majority of the token's neighbourhood holds the transaction
 * or a descendant of it (learned by sync, or moved on). */
static void test_established_at_end(void **state)
{
	(void)state;
	ec_chk *c;
	ec_chk_result r;
	ec_id x = idn(1), y = idn(2), t60 = idn(60), m60[1] = {idn(60)};
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx2(c, 1);
	assert_int_equal(ec_chk_tx(c, &y, 1, m60, &x), EC_OK); /* y extends x on 60 */
	for (uint32_t k = 0; k < 8; k++)
		commit2(c, 1, k, 1000 + k);
	commit2(c, 1, 100, 1500); /* one member of 60 */
	final_all(c, 50, 0, 8, 1, &x);
	final_all(c, 60, 100, 8, 1, &y);
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 0);
	ec_chk_free(c);

	/* holders must be a strict majority of the final neighbourhood, and
	 * honest: 4 honest + 2 dishonest of 8 is no majority */
	assert_int_equal(ec_chk_new(&c), EC_OK);
	tx2(c, 1);
	for (uint32_t k = 0; k < 8; k++)
		commit2(c, 1, k, 1000 + k);
	commit2(c, 1, 100, 1500);
	final_all(c, 50, 0, 8, 1, &x);
	ec_chk_member m[8];
	memset(m, 0, sizeof m);
	for (uint32_t j = 0; j < 8; j++) {
		m[j].node = 100 + j;
		m[j].online = 1;
		m[j].honest = j != 4 && j != 5; /* 4 and 5: an attacker's */
		m[j].has = j < 6;               /* 6 and 7 hold nothing */
		m[j].head = x;
	}
	assert_int_equal(ec_chk_final(c, &t60, m, 8), EC_OK);
	eval(c, &r);
	assert_int_equal(r.count[EC_CHK_ATOMICITY], 1);
	assert_int_equal(r.atom[0].holders[1], 4);
	ec_chk_free(c);
}

/* Final heads: two different heads among the online honest members, or
 * one head and members with none, are divergence; offline and dishonest
 * members are not looked at. */
static void test_divergence(void **state)
{
	(void)state;
	ec_chk *c;
	ec_chk_result r;
	ec_id h1 = idn(1), h2 = idn(2), t = idn(70);
	assert_int_equal(ec_chk_new(&c), EC_OK);
	final_all(c, 50, 0, 8, 1, &h1);   /* agreed */
	final_all(c, 51, 10, 8, 0, NULL); /* agreed on nothing */
	ec_chk_member m[8];
	memset(m, 0, sizeof m);
	for (uint32_t j = 0; j < 8; j++) {
		m[j].node = 20 + j;
		m[j].honest = m[j].online = m[j].has = 1;
		m[j].head = j < 5 ? h1 : h2;
	}
	assert_int_equal(ec_chk_final(c, &t, m, 8), EC_OK); /* 5 vs 3 */
	ec_id t2 = idn(71);
	m[7].has = 0;
	for (uint32_t j = 5; j < 7; j++)
		m[j].online = 0;                /* the other head: offline */
	assert_int_equal(ec_chk_final(c, &t2, m, 8), EC_OK); /* h1 x5, none x1 */
	ec_id t3 = idn(72);
	m[7].honest = 0;                        /* the one without: dishonest */
	assert_int_equal(ec_chk_final(c, &t3, m, 8), EC_OK);
	eval(c, &r);
	assert_int_equal(r.tokens, 5);
	assert_int_equal(r.count[EC_CHK_DIVERGENCE], 2);
	assert_int_equal(r.divergence_heads, 1);
	assert_int_equal(r.divergence_missing, 1);
	assert_int_equal(r.n_diverge, 2);
	/* sorted by token: 70 then 71 */
	assert_true(ec_id_eq(&r.div[0].token, &t));
	assert_int_equal(r.div[0].n_values, 2);
	assert_int_equal(r.div[0].v[0].count, 5);
	assert_int_equal(r.div[0].v[1].count, 3);
	assert_true(ec_id_eq(&r.div[0].v[1].head, &h2));
	assert_int_equal(r.div[1].v[1].has, 0);
	assert_int_equal(r.div[1].v[1].node, 27);
	ec_chk_member big[EC_CHK_NB + 1];
	memset(big, 0, sizeof big);
	assert_int_equal(ec_chk_final(c, &t, big, EC_CHK_NB + 1), EC_ERR_ARG);
	ec_chk_free(c);
}

/* The JSON object and the text lines carry the counts and the examples. */
static void test_outputs(void **state)
{
	(void)state;
	ec_chk_result r;
	ec_chk *c = two_on_one_prev(1500, 4, 2500, nbhd(0, 8));
	eval(c, &r);
	json_t *j = ec_chk_json(&r);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "double_commit")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "violations")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "atomicity")), 0);
	json_t *ex = json_array_get(json_object_get(json_object_get(j, "examples"),
						    "double_commit"), 0);
	assert_non_null(ex);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "b"), "node")), 4);
	assert_true(json_real_value(json_object_get(json_object_get(ex, "a"), "t_ms")) == 1.5);
	assert_string_equal(json_string_value(json_object_get(ex, "token")),
			    "0032000000000000000000000000000000000000000000000000000000000001");
	json_decref(j);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ec_chk_print(f, "x: ", &r, 3);
	fclose(f);
	assert_non_null(strstr(buf, "x: invariants: 1 double_commit, 0 atomicity, 0 divergence"));
	assert_non_null(strstr(buf, "x: double_commit: token 0032000000000000 prev 0384000000000000: "
				    "tx 0001000000000000 by node 3 at 1.500 ms, "
				    "tx 0002000000000000 by node 4 at 2.500 ms"));
	free(buf);
	ec_chk_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_commit),
		cmocka_unit_test(test_same_tx_twice),
		cmocka_unit_test(test_witness_commit),
		cmocka_unit_test(test_partial_multi_token),
		cmocka_unit_test(test_established_at_end),
		cmocka_unit_test(test_divergence),
		cmocka_unit_test(test_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
