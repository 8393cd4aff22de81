/* test_mempool_index.c - the mempool's scale structures (issue 6) against
 * brute force: the per-id counter (util/ec_idcount), the (token, prev)
 * conflict index (conflicts in pool order, higher-conflict rules), the
 * per-voter placeholder count, across expiry; and compact votes of decided
 * entries (same tally, same replay rule, later votes still kept). */
#include <stdlib.h>

#include "ec/mempool.h"
#include "testutil.h"
#include "util/ec_idcount.h"

static uint64_t rs = 4321;

static ec_id rid(void)
{
	ec_id x;
	tu_rand_bytes(&rs, x.b, 32);
	return x;
}

static void test_idcount(void **state)
{
	ec_idcount c;
	ec_id ids[300];
	ec_idcount_init(&c);
	for (int i = 0; i < 300; i++)
		ids[i] = rid();
	assert_int_equal(ec_idcount_get(&c, &ids[0]), 0);
	/* id i gets i % 5 + 1 increments: forces several growths */
	for (int i = 0; i < 300; i++)
		for (int k = 0; k <= i % 5; k++)
			assert_int_equal(ec_idcount_add(&c, &ids[i], 1), EC_OK);
	for (int i = 0; i < 300; i++)
		assert_int_equal(ec_idcount_get(&c, &ids[i]), (uint32_t)(i % 5 + 1));
	/* decrements stop at zero; unknown ids stay absent */
	assert_int_equal(ec_idcount_add(&c, &ids[0], -1), EC_OK);
	assert_int_equal(ec_idcount_add(&c, &ids[0], -1), EC_OK);
	assert_int_equal(ec_idcount_get(&c, &ids[0]), 0);
	ec_id other = rid();
	assert_int_equal(ec_idcount_add(&c, &other, -1), EC_OK);
	assert_int_equal(ec_idcount_get(&c, &other), 0);
	assert_int_equal(ec_idcount_get(&c, &ids[7]), 3);
	ec_idcount_clear(&c);
	for (int i = 0; i < 300; i++)
		assert_int_equal(ec_idcount_get(&c, &ids[i]), 0);
	ec_idcount_free(&c);
}

/* Brute-force references over the pool (ec_mempool_at). */
static int shares(const ec_tx *a, const ec_tx *b)
{
	for (unsigned i = 0; i < a->n_entries; i++)
		for (unsigned j = 0; j < b->n_entries; j++)
			if (ec_id_eq(&a->entries[i].token, &b->entries[j].token) &&
			    ec_id_eq(&a->entries[i].prev, &b->entries[j].prev))
				return 1;
	return 0;
}

static size_t ref_conflicts(ec_mempool *mp, const ec_mp_entry *e, ec_id *out, size_t max)
{
	ec_mp_entry *o;
	size_t total = 0;
	for (size_t i = 0; (o = ec_mempool_at(mp, i)) != NULL; i++) {
		if (o == e || !o->has_tx || !shares(&e->tx, &o->tx))
			continue;
		if (total < max)
			out[total] = o->txid; /* first max in pool order */
		total++;
	}
	/* ascending */
	size_t n = total < max ? total : max;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && ec_id_cmp(&out[k - 1], &out[k]) > 0; k--) {
			ec_id x = out[k];
			out[k] = out[k - 1];
			out[k - 1] = x;
		}
	return total;
}

static int ref_higher(ec_mempool *mp, const ec_mp_entry *e)
{
	ec_mp_entry *o;
	for (size_t i = 0; (o = ec_mempool_at(mp, i)) != NULL; i++)
		if (o != e && o->has_tx && o->state == EC_MP_PENDING &&
		    ec_id_cmp(&o->txid, &e->txid) > 0 && shares(&e->tx, &o->tx))
			return 1;
	return 0;
}

static int ref_higher_on(ec_mempool *mp, const ec_mp_entry *e, const ec_id *tok,
			 const ec_id *prev)
{
	ec_mp_entry *o;
	for (size_t i = 0; (o = ec_mempool_at(mp, i)) != NULL; i++) {
		if (o == e || !o->has_tx || o->state == EC_MP_REJECTED ||
		    ec_id_cmp(&o->txid, &e->txid) <= 0)
			continue;
		for (unsigned j = 0; j < o->tx.n_entries; j++)
			if (ec_id_eq(&o->tx.entries[j].token, tok) &&
			    ec_id_eq(&o->tx.entries[j].prev, prev))
				return 1;
	}
	return 0;
}

static size_t ref_placeholders(ec_mempool *mp, const ec_id *voter)
{
	ec_mp_entry *o;
	size_t c = 0;
	for (size_t i = 0; (o = ec_mempool_at(mp, i)) != NULL; i++)
		if (!o->has_tx && o->n_votes && ec_id_eq(ec_mp_voter(o, 0), voter))
			c++;
	return c;
}

static void check_all(ec_mempool *mp, const ec_id *voters, size_t nv)
{
	ec_mp_entry *e;
	for (size_t i = 0; (e = ec_mempool_at(mp, i)) != NULL; i++) {
		ec_id got[EC_VOTE_MAX_CONFLICTS], want[EC_VOTE_MAX_CONFLICTS];
		size_t g, w;
		if (!e->has_tx)
			continue;
		/* a small max exercises the truncation (first in pool order) */
		g = ec_mempool_conflicts(mp, e, got, 2);
		w = ref_conflicts(mp, e, want, 2);
		assert_int_equal(g, w);
		assert_memory_equal(got, want, (g < 2 ? g : 2) * sizeof got[0]);
		g = ec_mempool_conflicts(mp, e, got, EC_VOTE_MAX_CONFLICTS);
		w = ref_conflicts(mp, e, want, EC_VOTE_MAX_CONFLICTS);
		assert_int_equal(g, w);
		assert_memory_equal(got, want,
				    (g < EC_VOTE_MAX_CONFLICTS ? g : EC_VOTE_MAX_CONFLICTS) *
					    sizeof got[0]);
		assert_int_equal(ec_mempool_has_higher_conflict(mp, e), ref_higher(mp, e));
		for (unsigned k = 0; k < e->tx.n_entries; k++)
			assert_int_equal(ec_mempool_higher_on(mp, e, &e->tx.entries[k].token,
							      &e->tx.entries[k].prev),
					 ref_higher_on(mp, e, &e->tx.entries[k].token,
						       &e->tx.entries[k].prev));
	}
	for (size_t i = 0; i < nv; i++)
		assert_int_equal(ec_mempool_placeholders_of(mp, &voters[i]),
				 ref_placeholders(mp, &voters[i]));
}

static void test_index_matches_scan(void **state)
{
	enum { NTOK = 12, NTX = 400, NV = 5 };
	ec_mempool *mp;
	ec_mempool_cfg cfg = ec_mempool_default_cfg;
	ec_id toks[NTOK], prevs[3], voters[NV], zero = {{0}};
	ec_tx *txs = calloc(NTX, sizeof *txs);
	cfg.tx_timeout_ms = 1000;
	assert_non_null(txs);
	assert_int_equal(ec_mempool_new(&mp, &cfg), EC_OK);
	for (int i = 0; i < NTOK; i++)
		toks[i] = rid();
	prevs[0] = zero;
	prevs[1] = rid();
	prevs[2] = rid();
	for (int i = 0; i < NV; i++)
		voters[i] = rid();
	for (int i = 0; i < NTX; i++) {
		/* few tokens and prevs: many conflicts, some > 8 per tx */
		ec_tx *tx = &txs[i];
		uint8_t r[4];
		tu_rand_bytes(&rs, r, sizeof r);
		memset(tx, 0, sizeof *tx);
		tx->n_entries = (uint8_t)(1 + r[0] % 3);
		for (unsigned k = 0; k < tx->n_entries; k++) {
			tx->entries[k].token = toks[(r[1] + 5 * k) % NTOK];
			tx->entries[k].prev = prevs[(r[2] + k) % 3];
		}
		tx->id = rid();
		ec_time now = (ec_time)i * 5; /* 200 txs per timeout */
		if (r[3] % 4 == 0) {
			/* vote first: a placeholder, filled later or never */
			ec_vote v;
			memset(&v, 0, sizeof v);
			v.txid = tx->id;
			v.voter = voters[r[3] % NV];
			v.seq = 1;
			assert_int_equal(ec_mempool_add_vote(mp, &v, now), EC_OK);
			if (r[3] % 8 == 0)
				continue;
		}
		ec_id sender = voters[r[0] % NV];
		int err = ec_mempool_add_tx(mp, tx, &sender, now);
		assert_true(err == EC_OK || err == EC_ERR_REFUSED);
		ec_mp_entry *e = ec_mempool_get(mp, &tx->id);
		if (e && e->has_tx && r[2] % 5 == 0)
			ec_mempool_set_state(mp, e, r[2] % 2 ? EC_MP_REJECTED : EC_MP_COMMITTED);
		if (i % 50 == 49) {
			check_all(mp, voters, NV);
			(void)ec_mempool_expire(mp, now);
			check_all(mp, voters, NV);
		}
	}
	check_all(mp, voters, NV);
	ec_mempool_free(mp);
	free(txs);
}

static void test_compact_votes(void **state)
{
	ec_mempool *mp;
	ec_peerset ps;
	ec_id toks[2] = {rid(), rid()}, zero = {{0}}, nb[3][8];
	ec_tally before, after;
	ec_vote v, out[64];
	ec_peerset_init(&ps);
	while (ps.n < 40) {
		ec_id x = rid();
		(void)ec_peerset_add(&ps, &x);
	}
	if (ec_id_cmp(&toks[0], &toks[1]) > 0) {
		ec_id x = toks[0];
		toks[0] = toks[1];
		toks[1] = x;
	}
	ec_tx tx;
	memset(&tx, 0, sizeof tx);
	tx.n_entries = 2;
	tx.entries[0].token = toks[0];
	tx.entries[1].token = toks[1];
	tx.id = rid();
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	assert_int_equal(ec_mempool_add_tx(mp, &tx, &zero, 0), EC_OK);
	ec_peerset_neighbourhood(&ps, &toks[0], 4, nb[0]);
	ec_peerset_neighbourhood(&ps, &toks[1], 4, nb[1]);
	ec_peerset_neighbourhood(&ps, &tx.id, 4, nb[2]);
	/* mixed votes: YES on token 0, NO on token 1 from some, one-flag
	 * votes from others */
	for (int g = 0; g < 3; g++)
		for (int i = 0; i < 4; i++) {
			memset(&v, 0, sizeof v);
			v.txid = tx.id;
			v.voter = nb[g][i];
			v.seq = 2;
			v.n_flags = (uint8_t)(g == 2 ? 1 : 2);
			v.flags[0].token = toks[0];
			v.flags[0].flag = EC_VOTE_YES;
			v.flags[1].token = toks[1];
			v.flags[1].flag = i % 2 ? EC_VOTE_YES : EC_VOTE_NO;
			(void)ec_mempool_add_vote(mp, &v, 1);
		}
	ec_mp_entry *e = ec_mempool_get(mp, &tx.id);
	uint32_t nvotes = e->n_votes;
	assert_true(nvotes >= 8);
	assert_true(ec_mempool_counted_votes(mp, e, &ps, out, 64) > 0);
	assert_int_equal(ec_mempool_tally(mp, e, &ps, &before), EC_OK);
	int flag_before = ec_mp_vote_flag(e, 1, &toks[1]);
	assert_int_equal(ec_mempool_compact(mp, e), EC_OK);
	assert_null(e->votes);
	assert_non_null(e->cvotes);
	assert_int_equal(e->n_votes, nvotes);
	assert_int_equal(ec_mempool_tally(mp, e, &ps, &after), EC_OK);
	assert_memory_equal(&before, &after, sizeof before);
	assert_int_equal(ec_mp_vote_flag(e, 1, &toks[1]), flag_before);
	assert_int_equal(ec_mp_vote_seq(e, 0), 2);
	/* the proof is built before: nothing to copy any more */
	assert_int_equal(ec_mempool_counted_votes(mp, e, &ps, out, 64), 0);
	/* replays are still recognised; a newer version replaces */
	memset(&v, 0, sizeof v);
	v.txid = tx.id;
	v.voter = *ec_mp_voter(e, 0);
	v.seq = 2;
	v.n_flags = 2;
	v.flags[0].token = toks[0];
	v.flags[0].flag = EC_VOTE_NO;
	v.flags[1].token = toks[1];
	v.flags[1].flag = EC_VOTE_NO;
	assert_int_equal(ec_mempool_add_vote(mp, &v, 2), EC_ERR_EXISTS);
	v.seq = 3;
	assert_int_equal(ec_mempool_add_vote(mp, &v, 2), EC_OK);
	assert_int_equal(ec_mp_vote_seq(e, 0), 3);
	assert_int_equal(ec_mp_vote_flag(e, 0, &toks[0]), -1);
	/* and a new voter is appended in compact form */
	ec_id newcomer = rid();
	v.voter = newcomer;
	v.seq = 1;
	assert_int_equal(ec_mempool_add_vote(mp, &v, 2), EC_OK);
	assert_int_equal(e->n_votes, nvotes + 1);
	assert_true(ec_id_eq(ec_mp_voter(e, nvotes), &newcomer));
	assert_int_equal(ec_mp_vote_flag(e, nvotes, &toks[1]), -1);
	/* compaction needs the tx */
	ec_vote pv;
	memset(&pv, 0, sizeof pv);
	pv.txid = rid();
	pv.voter = newcomer;
	pv.seq = 1;
	assert_int_equal(ec_mempool_add_vote(mp, &pv, 3), EC_OK);
	assert_int_equal(ec_mempool_compact(mp, ec_mempool_get(mp, &pv.txid)), EC_ERR_ARG);
	ec_mempool_free(mp);
	ec_peerset_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idcount),
		cmocka_unit_test(test_index_matches_scan),
		cmocka_unit_test(test_compact_votes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
