/* test_mempool.c - versioned votes, early votes, eligibility-filtered
 * balances, the +2 and witness thresholds, conflicts (highest id wins),
 * fair share, capacity and timeouts. */
#include <stdlib.h>

#include "ec/mempool.h"
#include "testutil.h"

static uint64_t rs = 1234;

static ec_id rid(void)
{
	ec_id x;
	tu_rand_bytes(&rs, x.b, 32);
	return x;
}

static ec_tx make_tx(size_t n, const ec_id *tokens, const ec_id *prevs)
{
	ec_tx tx;
	memset(&tx, 0, sizeof tx);
	tx.timestamp = 1000;
	tx.n_entries = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		tx.entries[i].token = tokens[i];
		tx.entries[i].prev = prevs ? prevs[i] : (ec_id){{0}};
	}
	tu_rand_bytes(&rs, tx.id.b, 32); /* ids are opaque to the mempool */
	return tx;
}

static ec_vote make_vote(const ec_tx *tx, const ec_id *voter, uint32_t seq, int yes)
{
	ec_vote v;
	memset(&v, 0, sizeof v);
	v.txid = tx->id;
	v.voter = *voter;
	v.seq = seq;
	v.n_flags = tx->n_entries;
	for (unsigned i = 0; i < tx->n_entries; i++) {
		v.flags[i].token = tx->entries[i].token;
		v.flags[i].flag = yes ? EC_VOTE_YES : EC_VOTE_NO;
	}
	return v;
}

static void peers_init(ec_peerset *ps, size_t n)
{
	ec_peerset_init(ps);
	while (ps->n < n) {
		ec_id x = rid();
		(void)ec_peerset_add(ps, &x);
	}
}

static void test_versioned_votes_and_placeholder(void **state)
{
	ec_mempool *mp;
	ec_id tok = rid(), voter = rid(), zero = {{0}};
	ec_tx tx = make_tx(1, &tok, NULL);
	ec_vote v1 = make_vote(&tx, &voter, 1, 1), v2 = make_vote(&tx, &voter, 2, 0);
	ec_peerset ps;
	ec_tally t;
	peers_init(&ps, 3);
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	/* vote before tx: placeholder, tally impossible */
	assert_int_equal(ec_mempool_add_vote(mp, &v2, 10), EC_OK);
	ec_mp_entry *e = ec_mempool_get(mp, &tx.id);
	assert_non_null(e);
	assert_false(e->has_tx);
	assert_int_equal(ec_mempool_tally(mp, e, &ps, &t), EC_ERR_NOTFOUND);
	/* older and equal versions are refused, newer replace */
	assert_int_equal(ec_mempool_add_vote(mp, &v1, 11), EC_ERR_EXISTS);
	assert_int_equal(ec_mempool_add_vote(mp, &v2, 11), EC_ERR_EXISTS);
	v1.seq = 3;
	assert_int_equal(ec_mempool_add_vote(mp, &v1, 12), EC_OK);
	e = ec_mempool_get(mp, &tx.id);
	assert_int_equal(e->n_votes, 1);
	assert_int_equal(e->votes[0].seq, 3);
	/* the tx fills the placeholder; a second copy is a duplicate */
	assert_int_equal(ec_mempool_add_tx(mp, &tx, &zero, 13), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &tx, &zero, 13), EC_ERR_EXISTS);
	assert_int_equal(ec_mempool_size(mp), 1);
	ec_mempool_free(mp);
	ec_peerset_free(&ps);
}

static void test_thresholds_and_eligibility(void **state)
{
	ec_mempool *mp;
	ec_peerset ps;
	ec_id toks[2] = {rid(), rid()}, zero = {{0}}, nb0[8], nb1[8], nbw[8];
	ec_tally t;
	peers_init(&ps, 40);
	if (ec_id_cmp(&toks[0], &toks[1]) > 0) {
		ec_id x = toks[0];
		toks[0] = toks[1];
		toks[1] = x;
	}
	ec_tx tx = make_tx(2, toks, NULL);
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &tx, &zero, 0), EC_OK);
	ec_peerset_neighbourhood(&ps, &toks[0], 4, nb0);
	ec_peerset_neighbourhood(&ps, &toks[1], 4, nb1);
	ec_peerset_neighbourhood(&ps, &tx.id, 4, nbw);
	/* a peer outside every neighbourhood counts for nothing */
	ec_id outsider = rid();
	ec_vote v = make_vote(&tx, &outsider, 1, 1);
	assert_int_equal(ec_mempool_add_vote(mp, &v, 1), EC_OK);
	ec_mp_entry *e = ec_mempool_get(mp, &tx.id);
	assert_int_equal(ec_mempool_tally(mp, e, &ps, &t), EC_OK);
	assert_int_equal(t.balance[0], 0);
	assert_int_equal(t.witnesses, 0);
	/* three YES from token 0's neighbourhood: balance 3 > 2 there only */
	for (int i = 0; i < 3; i++) {
		v = make_vote(&tx, &nb0[i], 1, 1);
		assert_int_equal(ec_mempool_add_vote(mp, &v, 1), EC_OK);
	}
	e = ec_mempool_get(mp, &tx.id);
	ec_mempool_tally(mp, e, &ps, &t);
	assert_true(t.balance[0] >= 3);
	assert_false(t.accepted); /* token 1 and witnesses still short */
	/* token 1: two YES and one NO = +1, not enough; then two more YES = +3 */
	for (int i = 0; i < 3; i++) {
		v = make_vote(&tx, &nb1[i], 1, i != 2);
		ec_mempool_add_vote(mp, &v, 2);
	}
	e = ec_mempool_get(mp, &tx.id);
	ec_mempool_tally(mp, e, &ps, &t);
	assert_false(t.accepted);
	for (int i = 3; i < 5; i++) {
		v = make_vote(&tx, &nb1[i], 1, 1);
		ec_mempool_add_vote(mp, &v, 2);
	}
	/* witnesses: two voters from the neighbourhood of H(tx) */
	for (int i = 0; i < 2; i++) {
		v = make_vote(&tx, &nbw[i], 1, 1);
		ec_mempool_add_vote(mp, &v, 3);
	}
	e = ec_mempool_get(mp, &tx.id);
	ec_mempool_tally(mp, e, &ps, &t);
	assert_true(t.balance[0] > 2);
	assert_true(t.balance[1] > 2);
	assert_true(t.witnesses >= 2);
	assert_true(t.accepted);
	/* the counted votes exclude the outsider */
	ec_vote out[64];
	size_t m = ec_mempool_counted_votes(mp, e, &ps, out, 64);
	assert_int_equal(m, e->n_votes - 1);
	for (size_t i = 0; i < m; i++)
		assert_false(ec_id_eq(&out[i].voter, &outsider));
	/* a voter flipping to NO (newer seq) takes the balance back down */
	int before = t.balance[1];
	v = make_vote(&tx, &nb1[3], 2, 0);
	assert_int_equal(ec_mempool_add_vote(mp, &v, 4), EC_OK);
	e = ec_mempool_get(mp, &tx.id);
	ec_mempool_tally(mp, e, &ps, &t);
	assert_int_equal(t.balance[1], before - 2);
	ec_mempool_free(mp);
	ec_peerset_free(&ps);
}

static void test_conflicts_highest_wins(void **state)
{
	ec_mempool *mp;
	ec_id tok = rid(), prev = rid(), zero = {{0}}, other = rid();
	ec_tx a = make_tx(1, &tok, &prev), b = make_tx(1, &tok, &prev);
	ec_tx c = make_tx(1, &other, &prev); /* same prev, other token: no conflict */
	if (ec_id_cmp(&a.id, &b.id) > 0) {
		ec_tx x = a;
		a = b;
		b = x;
	} /* now b has the higher id */
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	ec_mempool_add_tx(mp, &a, &zero, 0);
	ec_mempool_add_tx(mp, &b, &zero, 0);
	ec_mempool_add_tx(mp, &c, &zero, 0);
	ec_mp_entry *ea = ec_mempool_get(mp, &a.id), *eb = ec_mempool_get(mp, &b.id);
	ec_id ids[4];
	assert_int_equal(ec_mempool_conflicts(mp, ea, ids, 4), 1);
	assert_memory_equal(ids[0].b, b.id.b, 32);
	assert_true(ec_mempool_has_higher_conflict(mp, ea));
	assert_false(ec_mempool_has_higher_conflict(mp, eb));
	assert_false(ec_mempool_has_higher_conflict(mp, ec_mempool_get(mp, &c.id)));
	/* once the winner is no longer pending, the loser is not blocked by it */
	ec_mempool_set_state(mp, eb, EC_MP_REJECTED);
	assert_false(ec_mempool_has_higher_conflict(mp, ea));
	ec_mempool_free(mp);
}

static void test_fair_share_capacity_timeout(void **state)
{
	ec_mempool *mp;
	ec_mempool_cfg cfg = ec_mempool_default_cfg;
	ec_id s1 = rid(), s2 = rid(), zero = {{0}};
	ec_tx txs[8];
	cfg.per_sender_max = 2;
	cfg.max_entries = 5;
	cfg.tx_timeout_ms = 100;
	assert_int_equal(ec_mempool_new(&mp, &cfg), EC_OK);
	for (int i = 0; i < 8; i++) {
		ec_id t = rid();
		txs[i] = make_tx(1, &t, NULL);
	}
	assert_int_equal(ec_mempool_add_tx(mp, &txs[0], &s1, 0), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[1], &s1, 0), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[2], &s1, 0), EC_ERR_REFUSED);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[2], &s2, 50), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[3], &zero, 50), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[4], &zero, 60), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &txs[5], &zero, 60), EC_ERR_REFUSED); /* full */
	/* at t=100 the two from t=0 expire; the rest stay findable */
	assert_int_equal(ec_mempool_expire(mp, 100), 2);
	assert_null(ec_mempool_get(mp, &txs[0].id));
	assert_non_null(ec_mempool_get(mp, &txs[2].id));
	assert_non_null(ec_mempool_get(mp, &txs[4].id));
	assert_int_equal(ec_mempool_add_tx(mp, &txs[5], &s1, 100), EC_OK);
	assert_int_equal(ec_mempool_expire(mp, 149), 0);
	assert_int_equal(ec_mempool_expire(mp, 150), 2); /* the two from t=50 */
	assert_int_equal(ec_mempool_expire(mp, 160), 1); /* the one from t=60 */
	assert_int_equal(ec_mempool_size(mp), 1);
	assert_non_null(ec_mempool_get(mp, &txs[5].id));
	ec_mempool_free(mp);
}

/* Many entries: the index survives growth and repeated expiry. */
static void test_index_stress(void **state)
{
	ec_mempool *mp;
	ec_id zero = {{0}};
	static ec_tx txs[3000];
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	for (int i = 0; i < 3000; i++) {
		ec_id t = rid();
		txs[i] = make_tx(1, &t, NULL);
		assert_int_equal(ec_mempool_add_tx(mp, &txs[i], &zero, (ec_time)i * 100), EC_OK);
	}
	ec_mempool_expire(mp, 1500 * 100 + 60000 - 1); /* drops i < 1500 */
	assert_int_equal(ec_mempool_size(mp), 1500);
	for (int i = 0; i < 3000; i++)
		assert_true((ec_mempool_get(mp, &txs[i].id) != NULL) == (i >= 1500));
	ec_mempool_free(mp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versioned_votes_and_placeholder),
		cmocka_unit_test(test_thresholds_and_eligibility),
		cmocka_unit_test(test_conflicts_highest_wins),
		cmocka_unit_test(test_fair_share_capacity_timeout),
		cmocka_unit_test(test_index_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
