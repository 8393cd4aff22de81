/* test_node_conv.c - conversation tests of one ec_node: bytes in at
 * explicit times, the messages it emits asserted byte by byte where it
 * matters.  The node knows 15 peers whose keys the test holds, so the test
 * speaks for them (votes, hellos, responses). */
#include <stdlib.h>

#include "ec/chain.h"
#include "ec/node.h"
#include "harness.h"
#include "testutil.h"
#include "tu_store.h"

#define NP 16 /* node 0 is the node under test */
#define T0 1700000000000ull

static ec_keypair keys[NP];
static ec_identity ids[NP];
static ec_peerset ring;
static hn_owner alice, bob;

static void rng_fill(void *ctx, void *out, size_t len)
{
	tu_rand_bytes(ctx, out, len);
}

static int setup_group(void **state)
{
	uint64_t rs = 99;
	(void)state;
	assert_int_equal(ec_crypto_init(), EC_OK);
	ec_peerset_init(&ring);
	for (int i = 0; i < NP; i++) {
		uint8_t seed[32];
		tu_rand_bytes(&rs, seed, 32);
		assert_int_equal(ec_keypair_from_seed(&keys[i], seed), EC_OK);
		assert_int_equal(ec_identity_mine(&ids[i], keys[i].pk, 7, T0 / 1000,
						  &ec_pow_test, rng_fill, &rs, 100000, NULL),
				 EC_OK);
		assert_int_equal(ec_peerset_add(&ring, &ids[i].peer_id), EC_OK);
	}
	hn_owner_make(&alice, 1);
	hn_owner_make(&bob, 2);
	return 0;
}

static int teardown_group(void **state)
{
	(void)state;
	ec_peerset_free(&ring);
	return 0;
}

typedef struct conv {
	ec_store *store;
	ec_node *n;
	uint64_t rng;
} conv;

static void conv_new(conv *c, uint64_t seed)
{
	ec_node_cfg cfg;
	ec_node_cfg_default(&cfg);
	c->rng = seed;
	assert_int_equal(ec_store_open_memory(&c->store), EC_OK);
	cfg.key = keys[0];
	cfg.identity = ids[0];
	cfg.store = c->store;
	cfg.pow = &ec_pow_test;
	cfg.identity_tx = 0;
	cfg.block_interval_ms = 1000;
	cfg.repush_ms = 300;
	/* these conversations assert the full +-4 fan-out (vote_fanout 0);
	 * test_bounded_fanout below covers the default bounded one */
	cfg.vote_fanout = 0;
	cfg.rng = rng_fill;
	cfg.rng_ctx = &c->rng;
	assert_int_equal(ec_node_new(&c->n, &cfg, T0), EC_OK);
	for (int i = 1; i < NP; i++)
		assert_int_equal(ec_node_add_peer_key(c->n, &ids[i].peer_id, keys[i].pk),
				 EC_OK);
}

static void conv_free(conv *c)
{
	ec_node_free(c->n);
	ec_store_close(c->store);
}

/* Collected output. */
typedef struct outs {
	size_t n;
	ec_node_out o[4096];
} outs;

static void drain(conv *c, outs *o)
{
	o->n = 0;
	while (o->n < 4096 && ec_node_poll(c->n, &o->o[o->n]))
		o->n++;
}

static void outs_free(outs *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->o[i].msg);
	o->n = 0;
}

static size_t count_type(const outs *o, uint8_t type, const ec_id *to)
{
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->o[i].len && o->o[i].msg[0] == type &&
		    (!to || ec_id_eq(&o->o[i].to, to)))
			k++;
	return k;
}

static int peer_index(const ec_id *id)
{
	for (int i = 0; i < NP; i++)
		if (ec_id_eq(&ids[i].peer_id, id))
			return i;
	return -1;
}

/* Expected vote targets: the +-4 neighbourhoods of the tokens and the
 * txid over the 16 ids, without node 0; returns a membership mask. */
static uint32_t expected_targets(const ec_tx *tx)
{
	uint32_t mask = 0;
	ec_id nb[8];
	for (unsigned i = 0; i <= tx->n_entries; i++) {
		const ec_id *a = i < tx->n_entries ? &tx->entries[i].token : &tx->id;
		size_t k = ec_peerset_neighbourhood(&ring, a, EC_NEIGHBOURS, nb);
		for (size_t j = 0; j < k; j++)
			mask |= 1u << peer_index(&nb[j]);
	}
	return mask & ~1u;
}

static uint8_t *enc_tx(const ec_tx *tx, size_t *len)
{
	uint8_t *e;
	assert_int_equal(ec_tx_encode(tx, &e, len), EC_OK);
	return e;
}

static uint8_t *make_vote(int voter, const ec_tx *tx, uint32_t seq, int yes, size_t *len)
{
	ec_vote v;
	uint8_t *e;
	memset(&v, 0, sizeof v);
	v.txid = tx->id;
	v.voter = ids[voter].peer_id;
	v.seq = seq;
	v.timestamp = T0;
	v.n_flags = tx->n_entries;
	for (unsigned i = 0; i < tx->n_entries; i++) {
		v.flags[i].token = tx->entries[i].token;
		v.flags[i].flag = yes ? EC_VOTE_YES : EC_VOTE_NO;
	}
	assert_int_equal(ec_vote_sign(&v, keys[voter].sk), EC_OK);
	assert_int_equal(ec_vote_encode(&v, &e, len), EC_OK);
	return e;
}

static void recv_vote(conv *c, int voter, const ec_tx *tx, int yes, ec_time t)
{
	size_t len;
	uint8_t *m = make_vote(voter, tx, 1, yes, &len);
	assert_int_equal(ec_node_recv(c->n, &ids[voter].peer_id, m, len, t), EC_OK);
	free(m);
}

/* A creation of a token that node 0 is responsible for: the token is
 * node 0's own id plus one. */
static void creation(ec_tx *tx, const hn_owner *owner, ec_time ts, uint8_t salt)
{
	hn_entry e;
	memset(&e, 0, sizeof e);
	e.token = ids[0].peer_id;
	e.token.b[31] ^= salt;
	e.next = owner;
	assert_int_equal(hn_tx_build(tx, ts, &e, 1), EC_OK);
}

static void test_tx_in_votes_out(void **state)
{
	conv c, d;
	outs *o = malloc(sizeof *o), *o2 = malloc(sizeof *o2);
	ec_tx tx;
	size_t len;
	uint8_t *m;
	uint32_t mask, seen = 0;
	(void)state;
	conv_new(&c, 5);
	creation(&tx, &alice, T0, 1);
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0), EC_OK);
	drain(&c, o);
	mask = expected_targets(&tx);
	/* one tx and one vote to each target, nothing else */
	assert_int_equal(o->n, 2 * (size_t)__builtin_popcount(mask));
	for (size_t i = 0; i < o->n; i++) {
		int k = peer_index(&o->o[i].to);
		assert_true(k > 0 && (mask & (1u << k)));
		if (o->o[i].msg[0] == EC_MSG_TX) {
			assert_int_equal(o->o[i].len, len);
			assert_memory_equal(o->o[i].msg, m, len);
		} else {
			ec_vote v;
			assert_int_equal(o->o[i].msg[0], EC_MSG_VOTE);
			assert_int_equal(ec_vote_decode(&v, o->o[i].msg, o->o[i].len), EC_OK);
			assert_int_equal(ec_vote_verify(&v), EC_OK);
			assert_true(ec_id_eq(&v.voter, &ids[0].peer_id));
			assert_true(ec_id_eq(&v.txid, &tx.id));
			assert_int_equal(v.seq, 1);
			assert_int_equal(v.flags[0].flag, EC_VOTE_YES);
			seen |= 1u << k;
		}
	}
	assert_int_equal(seen, mask);
	/* a duplicate changes nothing */
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0 + 1), EC_ERR_EXISTS);
	assert_int_equal(ec_node_stats_get(c.n)->dropped_replayed, 1);
	/* determinism: a second node with the same inputs says the same bytes */
	conv_new(&d, 5);
	assert_int_equal(ec_node_submit_tx(d.n, m, len, T0), EC_OK);
	drain(&d, o2);
	assert_int_equal(o2->n, o->n);
	for (size_t i = 0; i < o->n; i++) {
		assert_true(ec_id_eq(&o->o[i].to, &o2->o[i].to));
		assert_int_equal(o->o[i].len, o2->o[i].len);
		assert_memory_equal(o->o[i].msg, o2->o[i].msg, o->o[i].len);
	}
	/* no vote arrives: the vote is re-pushed after repush_ms (+jitter),
	 * with the tx again to targets that have not voted */
	outs_free(o);
	assert_int_equal(ec_node_next_deadline(c.n), T0); /* decision check */
	assert_int_equal(ec_node_tick(c.n, T0), EC_OK);
	drain(&c, o);
	assert_int_equal(o->n, 0);
	assert_true(ec_node_next_deadline(c.n) > T0);
	assert_true(ec_node_next_deadline(c.n) <= T0 + 300 + 151);
	assert_int_equal(ec_node_tick(c.n, ec_node_next_deadline(c.n)), EC_OK);
	drain(&c, o);
	assert_int_equal(count_type(o, EC_MSG_VOTE, NULL), (size_t)__builtin_popcount(mask));
	assert_int_equal(count_type(o, EC_MSG_TX, NULL), (size_t)__builtin_popcount(mask));
	outs_free(o);
	outs_free(o2);
	free(m);
	free(o);
	free(o2);
	conv_free(&c);
	conv_free(&d);
}

/* Feeds YES votes from every target; returns the time of the last. */
static ec_time vote_all(conv *c, const ec_tx *tx, ec_time t)
{
	uint32_t mask = expected_targets(tx);
	for (int k = 1; k < NP; k++)
		if (mask & (1u << k))
			recv_vote(c, k, tx, 1, ++t);
	return t;
}

static void test_votes_commit_and_seal(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx;
	ec_node_tx_info info;
	ec_id cur, head;
	uint64_t height;
	size_t len;
	uint8_t *m;
	ec_time t;
	(void)state;
	conv_new(&c, 6);
	creation(&tx, &alice, T0, 2);
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0), EC_OK);
	drain(&c, o);
	outs_free(o);
	/* one YES from a neighbour: not enough (self + 1 = +2, not > +2) */
	{
		ec_id nb[8];
		size_t k = ec_peerset_neighbourhood(&ring, &tx.entries[0].token, 4, nb);
		int first = -1;
		for (size_t i = 0; i < k && first < 0; i++)
			if (peer_index(&nb[i]) > 0)
				first = peer_index(&nb[i]);
		recv_vote(&c, first, &tx, 1, T0 + 10);
		assert_int_equal(ec_node_tick(c.n, T0 + 10), EC_OK);
		assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &info), EC_OK);
		assert_int_equal(info.state, EC_NODE_TX_PENDING);
	}
	t = vote_all(&c, &tx, T0 + 20);
	assert_true(ec_node_next_deadline(c.n) <= t); /* a decision is due */
	assert_int_equal(ec_node_tick(c.n, t), EC_OK);
	assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &info), EC_OK);
	assert_int_equal(info.state, EC_NODE_TX_DECIDED);
	assert_int_equal(info.decided_at, t);
	/* the seal waits for block_interval after the first decision */
	while (ec_node_next_deadline(c.n) < t + 1000) {
		assert_int_equal(ec_node_tick(c.n, ec_node_next_deadline(c.n)), EC_OK);
		assert_int_equal(ec_node_stats_get(c.n)->blocks_sealed, 0);
	}
	assert_int_equal(ec_node_next_deadline(c.n), t + 1000);
	assert_int_equal(ec_node_tick(c.n, t + 999), EC_OK);
	assert_int_equal(ec_node_stats_get(c.n)->blocks_sealed, 0);
	assert_false(hn_token_current_store(c.store, &tx.entries[0].token, &cur));
	assert_int_equal(ec_node_tick(c.n, t + 1000), EC_OK);
	assert_int_equal(ec_node_stats_get(c.n)->blocks_sealed, 1);
	assert_int_equal(ec_node_stats_get(c.n)->txs_committed, 1);
	assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &info), EC_OK);
	assert_int_equal(info.state, EC_NODE_TX_COMMITTED);
	assert_true(hn_token_current_store(c.store, &tx.entries[0].token, &cur));
	assert_true(ec_id_eq(&cur, &tx.id));
	assert_int_equal(ec_node_head(c.n, &head, &height), EC_OK);
	assert_int_equal(height, 0);
	/* the stored block and proof: proof hash matches, votes ascending */
	{
		ec_store_txn *st;
		ec_block b;
		const uint8_t *p;
		size_t plen;
		ec_proof pr;
		ec_id ph;
		assert_int_equal(ec_store_txn_begin(c.store, 0, &st), EC_OK);
		assert_int_equal(ec_store_get_block(st, &head, &b), EC_OK);
		assert_int_equal(ec_store_get_proof_raw(st, &head, &p, &plen), EC_OK);
		ec_hash(&ph, EC_TAG_PROOF, p, plen);
		assert_true(ec_id_eq(&ph, &b.proof_hash));
		assert_int_equal(ec_proof_decode(&pr, p, plen), EC_OK);
		assert_int_equal(pr.n_txs, 1);
		assert_true(pr.txs[0].n_votes >= 3);
		for (unsigned i = 0; i < pr.txs[0].n_votes; i++)
			assert_int_equal(ec_vote_verify(&pr.txs[0].votes[i]), EC_OK);
		ec_proof_free(&pr);
		assert_int_equal(b.n_txs, 1);
		assert_true(ec_id_eq(&b.txids[0], &tx.id));
		assert_true(ec_id_eq(&b.creator, &ids[0].peer_id));
		ec_store_txn_abort(st);
	}
	/* a late re-push after the decision gets our vote back, once */
	drain(&c, o);
	outs_free(o);
	free(m);
	free(o);
	conv_free(&c);
}

/* Commits a creation of token (salt) owned by `owner`; returns its tx. */
static ec_time commit_creation(conv *c, ec_tx *tx, const hn_owner *owner, uint8_t salt,
			       ec_time t)
{
	outs *o = malloc(sizeof *o);
	size_t len;
	uint8_t *m;
	creation(tx, owner, t, salt);
	m = enc_tx(tx, &len);
	assert_int_equal(ec_node_submit_tx(c->n, m, len, t), EC_OK);
	t = vote_all(c, tx, t);
	assert_int_equal(ec_node_tick(c->n, t), EC_OK);
	assert_int_equal(ec_node_tick(c->n, t + 1000), EC_OK);
	assert_true(hn_committed_store(c->store, &tx->id));
	drain(c, o);
	outs_free(o);
	free(o);
	free(m);
	return t + 1000;
}

static int8_t our_flag(conv *c, const ec_tx *tx)
{
	ec_node_tx_info info;
	assert_int_equal(ec_node_tx_info_get(c->n, &tx->id, &info), EC_OK);
	return info.our_flags[0];
}

static void test_transfer_votes(void **state)
{
	conv c;
	ec_tx cr, ok, wrongkey, early, lo, hi;
	hn_entry e;
	size_t len;
	uint8_t *m;
	ec_time t;
	(void)state;
	conv_new(&c, 7);
	t = commit_creation(&c, &cr, &alice, 3, T0);
	/* signed by the owner: YES */
	e = (hn_entry){cr.entries[0].token, cr.id, &bob, &alice};
	assert_int_equal(hn_tx_build(&ok, t + 5, &e, 1), EC_OK);
	m = enc_tx(&ok, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, t + 5), EC_OK);
	free(m);
	assert_int_equal(our_flag(&c, &ok), 1);
	/* signed by someone else (valid signature, wrong key): NO */
	e = (hn_entry){cr.entries[0].token, cr.id, &bob, &bob};
	assert_int_equal(hn_tx_build(&wrongkey, t + 6, &e, 1), EC_OK);
	m = enc_tx(&wrongkey, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, t + 6), EC_OK);
	free(m);
	assert_int_equal(our_flag(&c, &wrongkey), -1);
	/* timestamp not after the parent's: NO */
	e = (hn_entry){cr.entries[0].token, cr.id, &bob, &alice};
	assert_int_equal(hn_tx_build(&early, cr.timestamp, &e, 1), EC_OK);
	m = enc_tx(&early, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, t + 7), EC_OK);
	free(m);
	assert_int_equal(our_flag(&c, &early), -1);
	/* the two unauthorized ones are no conflict for the valid one, whatever
	 * their ids: it keeps its YES */
	assert_int_equal(our_flag(&c, &ok), 1);
	conv_free(&c);

	/* double-sign on a fresh node: the lower first (YES), then the higher
	 * flips it to NO with seq 2 and gets YES itself */
	conv_new(&c, 8);
	t = commit_creation(&c, &cr, &alice, 4, T0);
	{
		ec_tx x, y;
		e = (hn_entry){cr.entries[0].token, cr.id, &bob, &alice};
		assert_int_equal(hn_tx_build(&x, t + 10, &e, 1), EC_OK);
		e.next = &alice;
		assert_int_equal(hn_tx_build(&y, t + 10, &e, 1), EC_OK);
		lo = ec_id_cmp(&x.id, &y.id) < 0 ? x : y;
		hi = ec_id_cmp(&x.id, &y.id) < 0 ? y : x;
	}
	m = enc_tx(&lo, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, t + 20), EC_OK);
	free(m);
	assert_int_equal(our_flag(&c, &lo), 1);
	m = enc_tx(&hi, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, t + 21), EC_OK);
	free(m);
	assert_int_equal(our_flag(&c, &hi), 1);
	assert_int_equal(our_flag(&c, &lo), -1);
	{
		ec_node_tx_info info;
		assert_int_equal(ec_node_tx_info_get(c.n, &lo.id, &info), EC_OK);
		assert_int_equal(info.our_seq, 2);
	}
	/* votes for the lower alone cannot commit it while the higher is
	 * pending (spec 8.5) */
	t = vote_all(&c, &lo, t + 30);
	assert_int_equal(ec_node_tick(c.n, t), EC_OK);
	{
		ec_node_tx_info info;
		assert_int_equal(ec_node_tx_info_get(c.n, &lo.id, &info), EC_OK);
		assert_int_equal(info.state, EC_NODE_TX_PENDING);
	}
	t = vote_all(&c, &hi, t);
	assert_int_equal(ec_node_tick(c.n, t), EC_OK);
	assert_int_equal(ec_node_tick(c.n, t + 1000), EC_OK);
	assert_true(hn_committed_store(c.store, &hi.id));
	assert_false(hn_committed_store(c.store, &lo.id));
	assert_int_equal(ec_node_stats_get(c.n)->lower_conflict_decided, 0);
	conv_free(&c);
}

static void test_bad_input_dropped(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx;
	ec_node_stats before;
	ec_node_tx_info i0, i1;
	size_t len, vlen;
	uint8_t *m, *v;
	const ec_node_stats *st;
	(void)state;
	conv_new(&c, 9);
	st = ec_node_stats_get(c.n);
	creation(&tx, &alice, T0, 5);
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0), EC_OK);
	drain(&c, o);
	outs_free(o);
	v = make_vote(1, &tx, 1, 1, &vlen);
	before = *st;
	assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &i0), EC_OK);

	/* truncated vote */
	assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, v, vlen - 1, T0 + 1), EC_OK);
	assert_int_equal(st->dropped_malformed, before.dropped_malformed + 1);
	/* trailing byte */
	{
		uint8_t *x = malloc(vlen + 1);
		memcpy(x, v, vlen);
		x[vlen] = 0;
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, vlen + 1, T0 + 1), EC_OK);
		free(x);
	}
	assert_int_equal(st->dropped_malformed, before.dropped_malformed + 2);
	/* oversized */
	{
		size_t big = EC_MSG_MAX_BYTES + 1;
		uint8_t *x = calloc(1, big);
		memcpy(x, v, vlen);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, big, T0 + 1), EC_OK);
		free(x);
	}
	assert_int_equal(st->dropped_malformed, before.dropped_malformed + 3);
	/* unknown type, empty message */
	{
		uint8_t x[2] = {0x7f, 1};
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, 2, T0 + 1), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, 0, T0 + 1), EC_OK);
	}
	assert_int_equal(st->dropped_malformed, before.dropped_malformed + 5);
	/* wrong signature */
	{
		uint8_t *x = malloc(vlen);
		memcpy(x, v, vlen);
		x[vlen - 1] ^= 1;
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, vlen, T0 + 1), EC_OK);
		free(x);
	}
	assert_int_equal(st->dropped_bad_sig, before.dropped_bad_sig + 1);
	/* relayed: peer 2 hands us peer 1's vote */
	assert_int_equal(ec_node_recv(c.n, &ids[2].peer_id, v, vlen, T0 + 1), EC_OK);
	/* unknown voter: a valid vote from a key we do not know */
	{
		ec_vote u;
		uint8_t *x;
		size_t xl;
		ec_keypair kp;
		uint8_t seed[32] = {42};
		assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
		assert_int_equal(ec_vote_decode(&u, v, vlen), EC_OK);
		memset(u.voter.b, 0x55, 32);
		assert_int_equal(ec_vote_sign(&u, kp.sk), EC_OK);
		assert_int_equal(ec_vote_encode(&u, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &u.voter, x, xl, T0 + 1), EC_OK);
		/* and a tx from an unknown peer */
		assert_int_equal(ec_node_recv(c.n, &u.voter, m, len, T0 + 1), EC_OK);
		free(x);
	}
	/* an unsolicited tx response (we asked for nothing) */
	{
		ec_tx_resp r;
		uint8_t *x;
		size_t xl;
		memset(&r, 0, sizeof r);
		r.responder = ids[1].peer_id;
		r.tx = tx;
		assert_int_equal(ec_tx_resp_sign(&r, keys[1].sk), EC_OK);
		assert_int_equal(ec_tx_resp_encode(&r, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, T0 + 1), EC_OK);
		free(x);
	}
	assert_int_equal(st->dropped_unsolicited, before.dropped_unsolicited + 4);
	/* nothing changed, nothing was sent */
	assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &i1), EC_OK);
	assert_memory_equal(&i0, &i1, sizeof i0);
	drain(&c, o);
	assert_int_equal(o->n, 0);

	/* the real vote counts once; its replay is dropped before crypto */
	assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, v, vlen, T0 + 2), EC_OK);
	assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, v, vlen, T0 + 3), EC_OK);
	assert_int_equal(st->dropped_replayed, before.dropped_replayed + 1);

	/* a transaction with a broken signature and one too far in the future */
	{
		ec_tx tr, fut;
		hn_entry e = {tx.entries[0].token, tx.id, &bob, &alice};
		uint8_t *x;
		size_t xl;
		assert_int_equal(hn_tx_build(&tr, T0 + 5, &e, 1), EC_OK);
		tr.sigs[0].sig[3] ^= 1;
		assert_int_equal(ec_tx_finalize(&tr), EC_OK);
		x = enc_tx(&tr, &xl);
		assert_int_equal(ec_node_recv(c.n, &ids[3].peer_id, x, xl, T0 + 5), EC_OK);
		free(x);
		assert_int_equal(st->dropped_bad_sig, before.dropped_bad_sig + 2);
		creation(&fut, &alice, T0 + 3 * 3600 * 1000, 6);
		x = enc_tx(&fut, &xl);
		assert_int_equal(ec_node_submit_tx(c.n, x, xl, T0 + 5), EC_ERR_TIME);
		free(x);
		assert_int_equal(st->dropped_invalid, before.dropped_invalid + 1);
	}
	drain(&c, o);
	assert_int_equal(o->n, 0);
	free(v);
	free(m);
	free(o);
	conv_free(&c);
}

static void test_vote_before_tx_requests_it(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx;
	size_t vlen, len;
	uint8_t *v, *m;
	ec_tx_req q;
	int asked;
	(void)state;
	conv_new(&c, 10);
	creation(&tx, &alice, T0, 7);
	v = make_vote(4, &tx, 1, 1, &vlen);
	assert_int_equal(ec_node_recv(c.n, &ids[4].peer_id, v, vlen, T0), EC_OK);
	drain(&c, o);
	assert_int_equal(o->n, 1);
	assert_true(ec_id_eq(&o->o[0].to, &ids[4].peer_id));
	assert_int_equal(ec_tx_req_decode(&q, o->o[0].msg, o->o[0].len), EC_OK);
	assert_true(ec_id_eq(&q.txid, &tx.id));
	outs_free(o);
	/* BUSY from the voter: retried (another voter, or the same) at once */
	{
		ec_refusal r;
		uint8_t *x;
		size_t xl;
		memset(&r, 0, sizeof r);
		memcpy(r.nonce, q.nonce, EC_NONCE_BYTES);
		r.responder = ids[4].peer_id;
		r.request_type = EC_MSG_TX_REQ;
		r.reason = EC_REFUSE_BUSY;
		assert_int_equal(ec_refusal_sign(&r, keys[4].sk), EC_OK);
		assert_int_equal(ec_refusal_encode(&r, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[4].peer_id, x, xl, T0 + 5), EC_OK);
		assert_int_equal(ec_node_tick(c.n, T0 + 5), EC_OK);
		drain(&c, o);
		assert_int_equal(count_type(o, EC_MSG_TX_REQ, NULL), 1);
		assert_int_equal(ec_tx_req_decode(&q, o->o[0].msg, o->o[0].len), EC_OK);
		asked = peer_index(&o->o[0].to);
		assert_true(asked > 0);
		outs_free(o);
		/* the same refusal again is not ours any more (new nonce) */
		assert_int_equal(ec_node_recv(c.n, &ids[4].peer_id, x, xl, T0 + 6), EC_OK);
		assert_int_equal(ec_node_stats_get(c.n)->dropped_unsolicited, 1);
		free(x);
	}
	/* the tx arrives in a signed response to the retried request: the
	 * node takes it and votes; the early vote counts */
	m = enc_tx(&tx, &len);
	{
		ec_tx_resp r;
		uint8_t *x;
		size_t xl;
		memset(&r, 0, sizeof r);
		memcpy(r.nonce, q.nonce, EC_NONCE_BYTES);
		r.responder = ids[asked].peer_id;
		r.tx = tx;
		assert_int_equal(ec_tx_resp_sign(&r, keys[asked].sk), EC_OK);
		assert_int_equal(ec_tx_resp_encode(&r, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[asked].peer_id, x, xl, T0 + 10), EC_OK);
		/* a second copy: the request is answered, so it is unsolicited */
		assert_int_equal(ec_node_recv(c.n, &ids[asked].peer_id, x, xl, T0 + 11), EC_OK);
		assert_int_equal(ec_node_stats_get(c.n)->dropped_unsolicited, 2);
		free(x);
	}
	drain(&c, o);
	assert_true(count_type(o, EC_MSG_VOTE, NULL) > 0);
	/* peer 4 already voted: it gets our vote but not the tx */
	if (expected_targets(&tx) & (1u << 4)) {
		assert_int_equal(count_type(o, EC_MSG_TX, &ids[4].peer_id), 0);
		assert_int_equal(count_type(o, EC_MSG_VOTE, &ids[4].peer_id), 1);
	}
	outs_free(o);
	free(m);
	free(v);
	/* a flood of votes for unseen txs: placeholders capped per voter */
	{
		ec_tx fake;
		size_t made = 0;
		for (int k = 0; k < 200; k++) {
			uint8_t *x;
			size_t xl;
			creation(&fake, &alice, T0 + 100 + (ec_time)k, (uint8_t)(100 + k % 100));
			fake.timestamp += (ec_time)k * 1000; /* distinct txids */
			assert_int_equal(ec_tx_finalize(&fake), EC_OK);
			x = make_vote(5, &fake, 1, 1, &xl);
			assert_int_equal(ec_node_recv(c.n, &ids[5].peer_id, x, xl, T0 + 100), EC_OK);
			free(x);
			made++;
		}
		assert_int_equal(made, 200);
		assert_int_equal(ec_node_stats_get(c.n)->dropped_refused, 200 - 64);
		drain(&c, o);
		outs_free(o);
	}
	free(o);
	conv_free(&c);
}

/* The one answer the node queued for a query, to `to`. */
static const ec_node_out *one_answer(conv *c, outs *o, const ec_id *to, uint8_t type)
{
	drain(c, o);
	assert_int_equal(o->n, 1);
	assert_true(ec_id_eq(&o->o[0].to, to));
	assert_int_equal(o->o[0].msg[0], type);
	return &o->o[0];
}

static void sign_auth(ec_req_auth *a, int who, ec_time ts, uint8_t nb)
{
	a->requester = ids[who].peer_id;
	a->timestamp = ts;
	memset(a->nonce, nb, EC_NONCE_BYTES);
	memcpy(a->pk, keys[who].pk, 32);
}

/* Every query type gets its real answer from the query service, signed
 * with our lamppost key and sent back to the asker; rate limits refuse
 * with retry_after; then hellos. */
static void test_queries_answered_and_hello(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	const ec_node_out *a;
	ec_mapping_req mq;
	ec_refusal r;
	ec_tx tx;
	ec_id head;
	uint64_t height;
	uint8_t *x;
	size_t xl;
	ec_keypair kp;
	ec_identity id;
	uint64_t rs = 77;
	uint8_t seed[32] = {9};
	ec_hello h;
	ec_time t;
	const ec_node_stats *st;
	(void)state;
	conv_new(&c, 11);
	st = ec_node_stats_get(c.n);
	t = commit_creation(&c, &tx, &alice, 3, T0);
	assert_int_equal(ec_node_head(c.n, &head, &height), EC_OK);

	/* mapping query from the local client, with evidence */
	memset(&mq, 0, sizeof mq);
	memset(mq.nonce, 0xab, EC_NONCE_BYTES);
	mq.token = tx.entries[0].token;
	mq.flags = EC_MAPPING_WANT_EVIDENCE;
	assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
	assert_int_equal(ec_node_recv(c.n, &(ec_id){{0}}, x, xl, t), EC_OK);
	free(x);
	a = one_answer(&c, o, &(ec_id){{0}}, EC_MSG_MAPPING_RESP);
	{
		ec_mapping_resp m;
		assert_int_equal(ec_mapping_resp_decode(&m, a->msg, a->len), EC_OK);
		assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
		assert_memory_equal(m.pk, keys[0].pk, 32);
		assert_memory_equal(m.nonce, mq.nonce, EC_NONCE_BYTES);
		assert_true(ec_id_eq(&m.responder, &ids[0].peer_id));
		assert_true(ec_id_eq(&m.token, &mq.token));
		assert_true(ec_id_eq(&m.txid, &tx.id));
		assert_true(ec_id_eq(&m.owner_key_hash, &alice.keyhash));
		assert_true(ec_id_is_zero(&m.prev_txid));
		assert_true(ec_id_eq(&m.commit_block, &head));
		assert_true(ec_id_eq(&m.head, &head));
		assert_int_equal(m.height, height);
		assert_int_equal(m.n_evidence, 1); /* noted at the seal */
		assert_true(ec_id_eq(&m.evidence[0].txid, &tx.id));
		assert_true(ec_id_eq(&m.evidence[0].token, &mq.token));
	}
	outs_free(o);
	assert_int_equal(st->queries_served, 1);

	/* a token far from us: referral to peers closer to it */
	{
		ec_id far;
		ec_referral f;
		uint64_t fs = 5;
		do
			tu_rand_bytes(&fs, far.b, 32);
		while (ec_peerset_is_eligible(&ring, &ids[0].peer_id, &far));
		mq.token = far;
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t), EC_OK);
		free(x);
		a = one_answer(&c, o, &ids[1].peer_id, EC_MSG_REFERRAL);
		assert_int_equal(ec_referral_decode(&f, a->msg, a->len), EC_OK);
		assert_true(ec_id_eq(&f.target, &far));
		assert_true(f.n_peers >= 1);
		for (unsigned i = 0; i < f.n_peers; i++) {
			assert_false(ec_id_eq(&f.peers[i].peer, &ids[0].peer_id));
			assert_false(ec_id_eq(&f.peers[i].peer, &ids[1].peer_id));
		}
		outs_free(o);
		assert_int_equal(st->queries_referred, 1);
	}

	/* tx query from a peer: committed here, block and position */
	{
		ec_tx_req tq;
		ec_tx_resp tr;
		memset(&tq, 0, sizeof tq);
		memset(tq.nonce, 0x11, EC_NONCE_BYTES);
		tq.txid = tx.id;
		assert_int_equal(ec_tx_req_encode(&tq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t), EC_OK);
		a = one_answer(&c, o, &ids[1].peer_id, EC_MSG_TX_RESP);
		assert_int_equal(ec_tx_resp_decode(&tr, a->msg, a->len), EC_OK);
		assert_int_equal(ec_tx_resp_verify(&tr), EC_OK);
		assert_memory_equal(tr.pk, keys[0].pk, 32);
		assert_memory_equal(tr.nonce, tq.nonce, EC_NONCE_BYTES);
		assert_true(ec_id_eq(&tr.tx.id, &tx.id));
		assert_true(ec_id_eq(&tr.commit_block, &head));
		assert_int_equal(tr.position, 0);
		assert_int_equal(tr.confirmations, 0);
		outs_free(o);
		free(x);
		/* pending in our mempool (pending_tx hook): no commit block */
		{
			ec_tx p;
			uint8_t *pm;
			size_t pl;
			creation(&p, &bob, t, 0x61);
			pm = enc_tx(&p, &pl);
			assert_int_equal(ec_node_submit_tx(c.n, pm, pl, t), EC_OK);
			free(pm);
			drain(&c, o);
			outs_free(o);
			tq.txid = p.id;
		}
		assert_int_equal(ec_tx_req_encode(&tq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t), EC_OK);
		free(x);
		a = one_answer(&c, o, &ids[1].peer_id, EC_MSG_TX_RESP);
		assert_int_equal(ec_tx_resp_decode(&tr, a->msg, a->len), EC_OK);
		assert_int_equal(ec_tx_resp_verify(&tr), EC_OK);
		assert_true(ec_id_eq(&tr.tx.id, &tq.txid));
		assert_true(ec_id_is_zero(&tr.commit_block));
		assert_int_equal(tr.confirmations, 0);
		outs_free(o);
		/* an unknown txid: NOTFOUND refusal */
		tq.txid.b[0] ^= 0x55;
		assert_int_equal(ec_tx_req_encode(&tq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t), EC_OK);
		free(x);
		a = one_answer(&c, o, &ids[1].peer_id, EC_MSG_REFUSAL);
		assert_int_equal(ec_refusal_decode(&r, a->msg, a->len), EC_OK);
		assert_int_equal(ec_refusal_verify(&r), EC_OK);
		assert_int_equal(r.reason, EC_REFUSE_NOTFOUND);
		assert_int_equal(r.request_type, EC_MSG_TX_REQ);
		outs_free(o);
	}

	/* block request signed by peer 2: the block with its proof */
	{
		ec_block_req bq;
		ec_block_resp br;
		memset(&bq, 0, sizeof bq);
		bq.block_id = head;
		bq.priority = EC_PRIO_VALIDATION;
		sign_auth(&bq.auth, 2, t, 0x22);
		assert_int_equal(ec_block_req_sign(&bq, keys[2].sk), EC_OK);
		assert_int_equal(ec_block_req_encode(&bq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[2].peer_id, x, xl, t), EC_OK);
		a = one_answer(&c, o, &ids[2].peer_id, EC_MSG_BLOCK_RESP);
		assert_int_equal(ec_block_resp_decode(&br, a->msg, a->len), EC_OK);
		assert_int_equal(ec_block_resp_verify(&br), EC_OK);
		assert_memory_equal(br.pk, keys[0].pk, 32);
		assert_true(ec_id_eq(&br.block.id, &head));
		assert_int_equal(br.has_proof, 1);
		assert_int_equal(br.proof.n_txs, 1);
		assert_true(ec_id_eq(&br.proof.txs[0].txid, &tx.id));
		ec_block_resp_free(&br);
		outs_free(o);
		/* the same bytes from another peer: requester != from, BAD */
		assert_int_equal(ec_node_recv(c.n, &ids[3].peer_id, x, xl, t), EC_OK);
		free(x);
		a = one_answer(&c, o, &ids[3].peer_id, EC_MSG_REFUSAL);
		assert_int_equal(ec_refusal_decode(&r, a->msg, a->len), EC_OK);
		assert_int_equal(r.reason, EC_REFUSE_BAD);
		outs_free(o);
	}

	/* range request: the whole (one-block) chain, complete */
	{
		ec_range_req rq;
		ec_range_resp rr;
		memset(&rq, 0, sizeof rq);
		rq.start = head;
		rq.max_blocks = 16;
		rq.max_bytes = EC_RANGE_MIN_MAX_BYTES * 4;
		rq.flags = EC_RANGE_WITH_PROOFS;
		rq.priority = EC_PRIO_SYNC;
		sign_auth(&rq.auth, 2, t, 0x33);
		assert_int_equal(ec_range_req_sign(&rq, keys[2].sk), EC_OK);
		assert_int_equal(ec_range_req_encode(&rq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[2].peer_id, x, xl, t), EC_OK);
		free(x);
		a = one_answer(&c, o, &ids[2].peer_id, EC_MSG_RANGE_RESP);
		assert_int_equal(ec_range_resp_decode(&rr, a->msg, a->len), EC_OK);
		assert_int_equal(ec_range_resp_verify(&rr), EC_OK);
		assert_memory_equal(rr.pk, keys[0].pk, 32);
		assert_int_equal(rr.n_items, 1);
		assert_int_equal(rr.complete, 1);
		assert_true(ec_id_eq(&rr.items[0].block.id, &head));
		assert_int_equal(rr.items[0].has_proof, 1);
		ec_range_resp_free(&rr);
		outs_free(o);
	}
	assert_int_equal(st->queries_served, 5);
	assert_int_equal(st->queries_refused, 2);

	/* rate limit: peer 4 floods mapping queries at one instant; past the
	 * burst (100) a RATE refusal with retry_after, past the refusal
	 * burst (20) silence */
	{
		size_t served = 0, refused = 0, silent = 0;
		mq.token = tx.entries[0].token;
		mq.flags = 0;
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		for (int k = 0; k < 150; k++) {
			assert_int_equal(ec_node_recv(c.n, &ids[4].peer_id, x, xl, t + 1), EC_OK);
			drain(&c, o);
			if (o->n == 0) {
				silent++;
				continue;
			}
			assert_int_equal(o->n, 1);
			if (o->o[0].msg[0] == EC_MSG_MAPPING_RESP) {
				assert_int_equal(refused, 0);
				served++;
			} else {
				assert_int_equal(o->o[0].msg[0], EC_MSG_REFUSAL);
				assert_int_equal(ec_refusal_decode(&r, o->o[0].msg, o->o[0].len),
						 EC_OK);
				assert_int_equal(ec_refusal_verify(&r), EC_OK);
				assert_int_equal(r.reason, EC_REFUSE_RATE);
				assert_int_equal(r.request_type, EC_MSG_MAPPING_REQ);
				assert_true(r.retry_after_ms >= 1 && r.retry_after_ms <= 20);
				refused++;
			}
			outs_free(o);
		}
		assert_int_equal(served, 100);
		assert_int_equal(refused, 20);
		assert_int_equal(silent, 30);
		assert_int_equal(st->queries_rate_limited, 20);
		assert_int_equal(st->queries_dropped, 30);
		/* after the wait, served again */
		assert_int_equal(ec_node_recv(c.n, &ids[4].peer_id, x, xl, t + 1 + r.retry_after_ms),
				 EC_OK);
		free(x);
		one_answer(&c, o, &ids[4].peer_id, EC_MSG_MAPPING_RESP);
		outs_free(o);
		/* other requesters are not affected */
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &ids[5].peer_id, x, xl, t + 1), EC_OK);
		free(x);
		one_answer(&c, o, &ids[5].peer_id, EC_MSG_MAPPING_RESP);
		outs_free(o);
	}

	/* a new peer says hello: checked, added, greeted back */
	assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	assert_int_equal(ec_identity_mine(&id, kp.pk, 7, T0 / 1000, &ec_pow_test,
					  rng_fill, &rs, 100000, NULL), EC_OK);
	memset(&h, 0, sizeof h);
	h.peer_id = id.peer_id;
	memcpy(h.pk, kp.pk, 32);
	h.network_id = 7;
	memcpy(h.salt, id.salt, 16);
	h.timestamp = T0;
	assert_int_equal(ec_hello_sign(&h, kp.sk), EC_OK);
	assert_int_equal(ec_hello_encode(&h, &x, &xl), EC_OK);
	/* a flipped signature first */
	x[xl - 1] ^= 1;
	assert_int_equal(ec_node_recv(c.n, &id.peer_id, x, xl, T0), EC_OK);
	assert_int_equal(ec_node_stats_get(c.n)->dropped_bad_sig, 1);
	assert_int_equal(ec_node_peer_count(c.n), NP - 1);
	x[xl - 1] ^= 1;
	assert_int_equal(ec_node_recv(c.n, &id.peer_id, x, xl, T0), EC_OK);
	assert_int_equal(ec_node_peer_count(c.n), NP);
	drain(&c, o);
	assert_int_equal(o->n, 1);
	assert_true(ec_id_eq(&o->o[0].to, &id.peer_id));
	{
		ec_hello back;
		assert_int_equal(ec_hello_decode(&back, o->o[0].msg, o->o[0].len), EC_OK);
		assert_int_equal(ec_hello_verify(&back), EC_OK);
		assert_true(ec_id_eq(&back.peer_id, &ids[0].peer_id));
	}
	outs_free(o);
	/* replayed hello: no change */
	assert_int_equal(ec_node_recv(c.n, &id.peer_id, x, xl, T0 + 1), EC_OK);
	assert_int_equal(ec_node_stats_get(c.n)->dropped_replayed, 1);
	free(x);
	/* a hello from another network is refused */
	h.network_id = 8;
	h.peer_id.b[0] ^= 1;
	assert_int_equal(ec_hello_sign(&h, kp.sk), EC_OK);
	assert_int_equal(ec_node_add_peer(c.n, &h, T0), EC_ERR_VALUE);
	free(o);
	conv_free(&c);
}

/* A committed tx with one token inside our ±4 neighbourhood and one
 * outside (we are only its witness / target through the txid or the other
 * token): the store gets Local only for ours; the other token stays
 * unknown here, and a mapping query for it is referred to its neighbours
 * instead of being answered from a state we would not keep up to date. */
static void test_local_only_where_responsible(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx;
	hn_entry e[2];
	ec_id far, cur;
	uint64_t fs = 17;
	uint8_t *x;
	size_t xl;
	ec_mapping_req mq;
	ec_time t;
	(void)state;
	conv_new(&c, 13);
	do
		tu_rand_bytes(&fs, far.b, 32);
	while (ec_peerset_is_eligible(&ring, &ids[0].peer_id, &far));
	memset(e, 0, sizeof e);
	e[0].token = ids[0].peer_id;
	e[0].token.b[31] ^= 0x42;
	e[0].next = &alice;
	e[1].token = far;
	e[1].next = &bob;
	assert_int_equal(hn_tx_build(&tx, T0, e, 2), EC_OK);
	x = enc_tx(&tx, &xl);
	assert_int_equal(ec_node_submit_tx(c.n, x, xl, T0), EC_OK);
	free(x);
	t = vote_all(&c, &tx, T0);
	assert_int_equal(ec_node_tick(c.n, t), EC_OK);
	assert_int_equal(ec_node_tick(c.n, t + 1000), EC_OK);
	assert_true(hn_committed_store(c.store, &tx.id));
	assert_true(hn_token_current_store(c.store, &e[0].token, &cur));
	assert_true(ec_id_eq(&cur, &tx.id));
	assert_false(hn_token_current_store(c.store, &far, &cur));
	drain(&c, o);
	outs_free(o);

	memset(&mq, 0, sizeof mq);
	mq.token = far;
	assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
	assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t + 1001), EC_OK);
	free(x);
	one_answer(&c, o, &ids[1].peer_id, EC_MSG_REFERRAL);
	outs_free(o);
	mq.token = e[0].token;
	assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
	assert_int_equal(ec_node_recv(c.n, &ids[1].peer_id, x, xl, t + 1001), EC_OK);
	free(x);
	{
		ec_mapping_resp m;
		const ec_node_out *a = one_answer(&c, o, &ids[1].peer_id, EC_MSG_MAPPING_RESP);
		assert_int_equal(ec_mapping_resp_decode(&m, a->msg, a->len), EC_OK);
		assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
		assert_true(ec_id_eq(&m.txid, &tx.id));
		assert_true(ec_id_eq(&m.owner_key_hash, &alice.keyhash));
	}
	outs_free(o);
	free(o);
	conv_free(&c);
}

static void test_identity_token_at_start(void **state)
{
	ec_node_cfg cfg;
	ec_store *s;
	ec_node *n;
	uint64_t rs = 3;
	ec_node_out out;
	(void)state;
	ec_node_cfg_default(&cfg);
	assert_int_equal(ec_store_open_memory(&s), EC_OK);
	cfg.key = keys[0];
	cfg.identity = ids[0];
	cfg.store = s;
	cfg.pow = &ec_pow_test;
	cfg.rng = rng_fill;
	cfg.rng_ctx = &rs;
	assert_int_equal(ec_node_new(&n, &cfg, T0), EC_OK);
	/* no peers yet: nothing to send, but the tx is pending */
	assert_int_equal(ec_node_poll(n, &out), 0);
	for (int i = 1; i < NP; i++)
		assert_int_equal(ec_node_add_peer_key(n, &ids[i].peer_id, keys[i].pk), EC_OK);
	/* the re-push sends it to the neighbourhood of our id */
	{
		size_t txs = 0;
		for (int k = 0; k < 4 && !txs; k++) {
		assert_int_equal(ec_node_tick(n, ec_node_next_deadline(n)), EC_OK);
		while (ec_node_poll(n, &out)) {
			if (out.msg[0] == EC_MSG_TX) {
				ec_tx tx;
				ec_id kh;
				assert_int_equal(ec_tx_decode(&tx, out.msg, out.len), EC_OK);
				assert_true(ec_id_eq(&tx.entries[0].token, &ids[0].peer_id));
				assert_true(ec_id_is_zero(&tx.entries[0].prev));
				ec_keyhash(&kh, keys[0].pk);
				assert_true(ec_id_eq(&tx.entries[0].next_key, &kh));
				txs++;
			}
			free(out.msg);
		}
		}
		assert_true(txs > 0);
	}
	/* votes from the neighbourhood commit it: the lamppost key resolves */
	assert_int_equal(ec_node_check_lamppost(n, &ids[0].peer_id, keys[0].pk),
			 EC_ERR_NOTFOUND);
	{
		ec_tx idtx;
		ec_id kh;
		ec_time t = T0 + 2000;
		memset(&idtx, 0, sizeof idtx);
		idtx.timestamp = T0;
		idtx.n_entries = 1;
		idtx.entries[0].token = ids[0].peer_id;
		ec_keyhash(&kh, keys[0].pk);
		idtx.entries[0].next_key = kh;
		assert_int_equal(ec_tx_finalize(&idtx), EC_OK); /* the same bytes */
		for (int k = 1; k < NP; k++)
			if (expected_targets(&idtx) & (1u << k)) {
				size_t len;
				uint8_t *m = make_vote(k, &idtx, 1, 1, &len);
				assert_int_equal(ec_node_recv(n, &ids[k].peer_id, m, len, ++t), EC_OK);
				free(m);
			}
		assert_int_equal(ec_node_tick(n, t), EC_OK);
		assert_int_equal(ec_node_check_lamppost(n, &ids[0].peer_id, keys[0].pk), EC_OK);
		assert_int_equal(ec_node_check_lamppost(n, &ids[0].peer_id, keys[1].pk),
				 EC_ERR_KEY);
		assert_int_equal(ec_node_tick(n, t + 1000), EC_OK);
		assert_true(hn_committed_store(s, &idtx.id));
		assert_int_equal(ec_node_check_lamppost(n, &ids[0].peer_id, keys[0].pk), EC_OK);
	}
	while (ec_node_poll(n, &out))
		free(out.msg);
	ec_node_free(n);
	ec_store_close(s);

	/* bootstrap: a hello to each configured peer at start, nothing else
	 * (no peers known yet, so the identity tx waits) */
	{
		ec_id boot[2] = {ids[3].peer_id, ids[4].peer_id};
		size_t hellos = 0;
		assert_int_equal(ec_store_open_memory(&s), EC_OK);
		cfg.store = s;
		cfg.bootstrap = boot;
		cfg.n_bootstrap = 2;
		assert_int_equal(ec_node_new(&n, &cfg, T0), EC_OK);
		while (ec_node_poll(n, &out)) {
			ec_hello h;
			assert_int_equal(ec_hello_decode(&h, out.msg, out.len), EC_OK);
			assert_int_equal(ec_hello_verify(&h), EC_OK);
			assert_true(ec_id_eq(&out.to, &boot[hellos]));
			assert_true(ec_id_eq(&h.peer_id, &ids[0].peer_id));
			hellos++;
			free(out.msg);
		}
		assert_int_equal(hellos, 2);
		ec_node_free(n);
		ec_store_close(s);
	}
}

/* Mutated messages of every kind, from peers and the client: never a
 * crash, every one accounted for, and the node still works afterwards. */
static void test_garbage_never_crashes(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx, tx2;
	uint8_t *src[6];
	size_t srclen[6], ns = 0;
	uint64_t rs = 1234;
	const ec_node_stats *st;
	uint64_t rx_before = 0, rx_after = 0;
	(void)state;
	conv_new(&c, 12);
	st = ec_node_stats_get(c.n);
	creation(&tx, &alice, T0, 8);
	src[ns] = enc_tx(&tx, &srclen[ns]);
	ns++;
	src[ns] = make_vote(1, &tx, 1, 1, &srclen[ns]);
	ns++;
	{
		ec_mapping_req mq;
		memset(&mq, 0, sizeof mq);
		assert_int_equal(ec_mapping_req_encode(&mq, &src[ns], &srclen[ns]), EC_OK);
		ns++;
	}
	{
		ec_tx_resp r;
		memset(&r, 0, sizeof r);
		r.responder = ids[1].peer_id;
		r.tx = tx;
		assert_int_equal(ec_tx_resp_sign(&r, keys[1].sk), EC_OK);
		assert_int_equal(ec_tx_resp_encode(&r, &src[ns], &srclen[ns]), EC_OK);
		ns++;
	}
	{
		ec_hello h;
		memset(&h, 0, sizeof h);
		h.peer_id = ids[2].peer_id;
		memcpy(h.pk, keys[2].pk, 32);
		h.network_id = 7;
		memcpy(h.salt, ids[2].salt, 16);
		assert_int_equal(ec_hello_sign(&h, keys[2].sk), EC_OK);
		assert_int_equal(ec_hello_encode(&h, &src[ns], &srclen[ns]), EC_OK);
		ns++;
	}
	{
		ec_refusal r;
		memset(&r, 0, sizeof r);
		r.responder = ids[3].peer_id;
		r.request_type = EC_MSG_TX_REQ;
		r.reason = EC_REFUSE_BUSY;
		assert_int_equal(ec_refusal_sign(&r, keys[3].sk), EC_OK);
		assert_int_equal(ec_refusal_encode(&r, &src[ns], &srclen[ns]), EC_OK);
		ns++;
	}
	for (int i = 0; i < EC_NODE_TYPES; i++)
		rx_before += st->rx[i];
	for (int k = 0; k < 3000; k++) {
		size_t w = tu_rand_u64(&rs) % ns, len = srclen[w];
		uint8_t *m = malloc(len + 8);
		int from = (int)(tu_rand_u64(&rs) % NP); /* 0 = the client */
		memcpy(m, src[w], len);
		switch (tu_rand_u64(&rs) % 3) {
		case 0: /* flip 1..3 bytes */
			for (int f = 0, nf = 1 + (int)(tu_rand_u64(&rs) % 3); f < nf; f++)
				m[tu_rand_u64(&rs) % len] ^= (uint8_t)(1 + tu_rand_u64(&rs) % 255);
			break;
		case 1: /* truncate */
			len = tu_rand_u64(&rs) % len;
			break;
		default: /* extend */
			for (int f = 0; f < 8; f++)
				m[len + f] = (uint8_t)tu_rand_u64(&rs);
			len += 1 + tu_rand_u64(&rs) % 8;
			break;
		}
		assert_int_equal(ec_node_recv(c.n, from ? &ids[from].peer_id : &(ec_id){{0}},
					      m, len, T0 + (ec_time)k),
				 EC_OK);
		if (k % 100 == 0)
			assert_int_equal(ec_node_tick(c.n, T0 + (ec_time)k), EC_OK);
		free(m);
		drain(&c, o);
		outs_free(o);
	}
	for (int i = 0; i < EC_NODE_TYPES; i++)
		rx_after += st->rx[i];
	/* every message either had a known type (rx) or was malformed */
	assert_true(rx_after - rx_before + st->dropped_malformed >= 3000);
	assert_true(st->dropped_malformed > 1000);
	/* still alive: a fresh tx gets our votes out */
	creation(&tx2, &alice, T0 + 5000, 9);
	{
		size_t len;
		uint8_t *m = enc_tx(&tx2, &len);
		assert_int_equal(ec_node_submit_tx(c.n, m, len, T0 + 5000), EC_OK);
		free(m);
	}
	drain(&c, o);
	assert_true(count_type(o, EC_MSG_VOTE, NULL) > 0);
	outs_free(o);
	for (size_t i = 0; i < ns; i++)
		free(src[i]);
	free(o);
	conv_free(&c);
}

/* A restart over the same store: the chain is reloaded and extended; the
 * open (decided, unsealed) block of a node that stops is simply lost. */
static void test_restart_reloads_chain(void **state)
{
	conv c;
	ec_node_cfg cfg;
	ec_tx a, b, lost;
	ec_id head0, head1;
	uint64_t h0, h1;
	uint64_t rs = 31;
	ec_time t;
	outs *o = malloc(sizeof *o);
	(void)state;
	conv_new(&c, 13);
	t = commit_creation(&c, &a, &alice, 10, T0);
	assert_int_equal(ec_node_head(c.n, &head0, &h0), EC_OK);
	assert_int_equal(h0, 0);
	/* decided but not sealed when the node goes away */
	{
		size_t len;
		uint8_t *m;
		ec_node_tx_info info;
		creation(&lost, &alice, t, 11);
		m = enc_tx(&lost, &len);
		assert_int_equal(ec_node_submit_tx(c.n, m, len, t), EC_OK);
		free(m);
		t = vote_all(&c, &lost, t);
		assert_int_equal(ec_node_tick(c.n, t), EC_OK);
		assert_int_equal(ec_node_tx_info_get(c.n, &lost.id, &info), EC_OK);
		assert_int_equal(info.state, EC_NODE_TX_DECIDED);
	}
	ec_node_free(c.n);
	/* same store, same identity: identity_tx on, but the chain is not empty */
	ec_node_cfg_default(&cfg);
	cfg.key = keys[0];
	cfg.identity = ids[0];
	cfg.store = c.store;
	cfg.pow = &ec_pow_test;
	cfg.block_interval_ms = 1000;
	cfg.rng = rng_fill;
	cfg.rng_ctx = &rs;
	assert_int_equal(ec_node_new(&c.n, &cfg, t + 1), EC_OK);
	assert_int_equal(ec_node_poll(c.n, &o->o[0]), 0); /* nothing submitted */
	assert_int_equal(ec_node_head(c.n, &head1, &h1), EC_OK);
	assert_true(ec_id_eq(&head0, &head1));
	assert_int_equal(h1, 0);
	assert_false(hn_committed_store(c.store, &lost.id));
	for (int i = 1; i < NP; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &ids[i].peer_id, keys[i].pk), EC_OK);
	/* the minefield evidence was reloaded from the store at start */
	{
		ec_mapping_req mq;
		ec_mapping_resp m;
		const ec_node_out *ans;
		uint8_t *x;
		size_t xl;
		memset(&mq, 0, sizeof mq);
		mq.token = a.entries[0].token;
		mq.flags = EC_MAPPING_WANT_EVIDENCE;
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &(ec_id){{0}}, x, xl, t + 2), EC_OK);
		free(x);
		ans = one_answer(&c, o, &(ec_id){{0}}, EC_MSG_MAPPING_RESP);
		assert_int_equal(ec_mapping_resp_decode(&m, ans->msg, ans->len), EC_OK);
		assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
		assert_true(ec_id_eq(&m.txid, &a.id));
		assert_true(ec_id_eq(&m.head, &head0));
		assert_int_equal(m.n_evidence, 1);
		assert_true(ec_id_eq(&m.evidence[0].txid, &a.id));
		outs_free(o);
	}
	t = commit_creation(&c, &b, &alice, 12, t + 10);
	assert_int_equal(ec_node_head(c.n, &head1, &h1), EC_OK);
	assert_int_equal(h1, 1);
	{
		ec_store_txn *st;
		ec_block blk[2];
		ec_id id;
		assert_int_equal(ec_store_txn_begin(c.store, 0, &st), EC_OK);
		for (uint64_t k = 0; k < 2; k++) {
			assert_int_equal(ec_store_get_block_at(st, &ids[0].peer_id, k, &id), EC_OK);
			assert_int_equal(ec_store_get_block(st, &id, &blk[k]), EC_OK);
		}
		ec_store_txn_abort(st);
		assert_int_equal(ec_chain_verify(blk, 2, NULL), EC_OK);
	}
	free(o);
	conv_free(&c);
}

/* A node responsible for no token of a tx and no witness of it relays the
 * tx once to the targets and does not vote; a pending tx expires after
 * the mempool timeout and its re-pushes stop. */
static void test_relay_and_expiry(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_tx tx;
	ec_id nb[8];
	size_t len;
	uint8_t *m;
	int found = 0;
	(void)state;
	conv_new(&c, 14);
	/* a token and a txid whose neighbourhoods both exclude node 0 */
	for (uint32_t k = 0; k < 100000 && !found; k++) {
		hn_entry e;
		int in = 0;
		memset(&e, 0, sizeof e);
		e.token = ids[0].peer_id;
		e.token.b[0] ^= 0x80; /* the far side of the ring */
		e.next = &alice;
		assert_int_equal(hn_tx_build(&tx, T0 + k, &e, 1), EC_OK);
		for (unsigned a = 0; a < 2; a++) {
			const ec_id *x = a ? &tx.id : &tx.entries[0].token;
			size_t kk = ec_peerset_neighbourhood(&ring, x, 4, nb);
			for (size_t j = 0; j < kk; j++)
				in |= ec_id_eq(&nb[j], &ids[0].peer_id);
		}
		found = !in;
	}
	assert_true(found);
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0), EC_OK);
	drain(&c, o);
	assert_int_equal(count_type(o, EC_MSG_VOTE, NULL), 0);
	assert_int_equal(count_type(o, EC_MSG_TX, NULL),
			 (size_t)__builtin_popcount(expected_targets(&tx)));
	outs_free(o);
	/* nothing more from a relay: no re-push */
	for (int k = 0; k < 5 && ec_node_next_deadline(c.n) < T0 + 10000; k++)
		assert_int_equal(ec_node_tick(c.n, ec_node_next_deadline(c.n)), EC_OK);
	drain(&c, o);
	assert_int_equal(o->n, 0);
	outs_free(o);
	free(m);

	/* a tx we vote on, with no votes coming back: re-pushed until the
	 * mempool timeout (60 s by default), then dropped */
	creation(&tx, &alice, T0 + 1, 13);
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0 + 1), EC_OK);
	free(m);
	{
		size_t pushes = 0;
		ec_node_tx_info info;
		ec_time t = T0 + 1;
		while ((t = ec_node_next_deadline(c.n)) <= T0 + 61000) {
			assert_int_equal(ec_node_tick(c.n, t), EC_OK);
			drain(&c, o);
			pushes += count_type(o, EC_MSG_VOTE, NULL) ? 1 : 0;
			outs_free(o);
		}
		/* ~60 s / (300 + 0..150 ms) re-pushes */
		assert_true(pushes > 120 && pushes < 210);
		assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &info), EC_OK);
		assert_int_equal(info.state, EC_NODE_TX_UNKNOWN);
		assert_true(ec_node_stats_get(c.n)->txs_expired >= 1);
		assert_int_equal(ec_node_next_deadline(c.n), UINT64_MAX); /* idle */
	}
	free(o);
	conv_free(&c);
}

/* The same over LMDB, with the store closed and reopened in between. */
static void test_restart_lmdb(void **state)
{
	conv c;
	ec_tx a, b;
	ec_id head0, head1;
	uint64_t h;
	char dir[256];
	ec_time t;
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-node");
	for (int round = 0; round < 2; round++) {
		ec_node_cfg cfg;
		c.rng = 40 + (uint64_t)round;
		assert_int_equal(ec_store_open_lmdb(&c.store, dir, NULL), EC_OK);
		ec_node_cfg_default(&cfg);
		cfg.key = keys[0];
		cfg.identity = ids[0];
		cfg.store = c.store;
		cfg.pow = &ec_pow_test;
		cfg.identity_tx = 0;
		cfg.rng = rng_fill;
		cfg.rng_ctx = &c.rng;
		assert_int_equal(ec_node_new(&c.n, &cfg, T0 + 5000 * (ec_time)round), EC_OK);
		for (int i = 1; i < NP; i++)
			assert_int_equal(ec_node_add_peer_key(c.n, &ids[i].peer_id, keys[i].pk),
					 EC_OK);
		if (round == 0) {
			t = commit_creation(&c, &a, &alice, 20, T0);
			assert_int_equal(ec_node_head(c.n, &head0, &h), EC_OK);
			assert_int_equal(h, 0);
		} else {
			assert_int_equal(ec_node_head(c.n, &head1, &h), EC_OK);
			assert_true(ec_id_eq(&head0, &head1));
			assert_true(hn_committed_store(c.store, &a.id));
			t = commit_creation(&c, &b, &alice, 21, T0 + 5000);
			assert_int_equal(ec_node_head(c.n, &head1, &h), EC_OK);
			assert_int_equal(h, 1);
		}
		(void)t;
		conv_free(&c);
	}
	tu_rmrf(dir);
}

/* Bounded fan-out (vote_fanout 4, PROTOCOL 14b "Vote fan-out"): the first
 * vote goes to the 2 nearest peers on each side of the token and of the
 * txid only; the tx goes with it, and node 0, the node nearest to the
 * token, also sends the tx (no vote) to the rest of the token's +-4
 * neighbourhood.  A new vote from a neighbour outside those targets is
 * answered with our vote; that neighbour's repeats are answered at most
 * once per repush_ms. */
static void test_bounded_fanout(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_peerset peers;
	ec_tx tx;
	ec_id nb[8];
	uint32_t near = 0, wide = 0;
	size_t len, vl;
	uint8_t *m, *v;
	int x = -1;
	(void)state;
	assert_non_null(o);
	conv_new(&c, 41);
	ec_node_free(c.n);
	ec_store_close(c.store);
	{
		ec_node_cfg cfg;
		ec_node_cfg_default(&cfg);
		assert_int_equal(cfg.vote_fanout, 4); /* the default */
		assert_int_equal(ec_store_open_memory(&c.store), EC_OK);
		cfg.key = keys[0];
		cfg.identity = ids[0];
		cfg.store = c.store;
		cfg.pow = &ec_pow_test;
		cfg.identity_tx = 0;
		cfg.repush_ms = 300;
		cfg.rng = rng_fill;
		cfg.rng_ctx = &c.rng;
		assert_int_equal(ec_node_new(&c.n, &cfg, T0), EC_OK);
		for (int i = 1; i < NP; i++)
			assert_int_equal(ec_node_add_peer_key(c.n, &ids[i].peer_id, keys[i].pk),
					 EC_OK);
	}
	ec_peerset_init(&peers);
	for (int i = 1; i < NP; i++)
		assert_int_equal(ec_peerset_add(&peers, &ids[i].peer_id), EC_OK);
	creation(&tx, &alice, T0, 9);
	for (unsigned a = 0; a < 2; a++) {
		size_t k = ec_peerset_neighbourhood(&peers, a ? &tx.id : &tx.entries[0].token,
						    2, nb);
		for (size_t j = 0; j < k; j++)
			near |= 1u << peer_index(&nb[j]);
	}
	{
		/* the 4 nearest others on each side (over the peer set) */
		size_t k = ec_peerset_neighbourhood(&peers, &tx.entries[0].token, 4, nb);
		for (size_t j = 0; j < k; j++)
			wide |= 1u << peer_index(&nb[j]);
	}
	m = enc_tx(&tx, &len);
	assert_int_equal(ec_node_submit_tx(c.n, m, len, T0), EC_OK);
	drain(&c, o);
	assert_int_equal(count_type(o, EC_MSG_VOTE, NULL), (size_t)__builtin_popcount(near));
	for (size_t i = 0; i < o->n; i++) {
		int k = peer_index(&o->o[i].to);
		assert_true(k > 0);
		if (o->o[i].msg[0] == EC_MSG_VOTE)
			assert_true(near & (1u << k));
		else
			assert_true((near | wide) & (1u << k));
	}
	assert_true(count_type(o, EC_MSG_TX, NULL) > (size_t)__builtin_popcount(near));
	outs_free(o);
	/* a neighbour of the token that is not among the nearest targets */
	for (int k = 1; k < NP && x < 0; k++)
		if ((wide & (1u << k)) && !(near & (1u << k)))
			x = k;
	assert_true(x > 0);
	v = make_vote(x, &tx, 1, 1, &vl);
	assert_int_equal(ec_node_recv(c.n, &ids[x].peer_id, v, vl, T0 + 5), EC_OK);
	drain(&c, o);
	assert_int_equal(o->n, 1);
	assert_int_equal(count_type(o, EC_MSG_VOTE, &ids[x].peer_id), 1);
	outs_free(o);
	/* its repeat right away: not answered again; after repush_ms: once */
	assert_int_equal(ec_node_recv(c.n, &ids[x].peer_id, v, vl, T0 + 10), EC_OK);
	drain(&c, o);
	assert_int_equal(count_type(o, EC_MSG_VOTE, &ids[x].peer_id), 0);
	outs_free(o);
	assert_int_equal(ec_node_recv(c.n, &ids[x].peer_id, v, vl, T0 + 400), EC_OK);
	drain(&c, o);
	assert_int_equal(count_type(o, EC_MSG_VOTE, &ids[x].peer_id), 1);
	outs_free(o);
	free(v);
	free(m);
	free(o);
	ec_peerset_free(&peers);
	conv_free(&c);
}

/* Rotated-key lookup (PROTOCOL 14b "Key rotation", ec_node_key.c): peer X
 * votes with a key we do not hold, and we hold no state of its identity
 * token: the vote is dropped and a mapping request for X's id goes to the
 * 3 peers nearest to that id.  Answers count only from a peer asked, with
 * our nonce, signed by its key; 2 agreeing answers adopt the key, and X's
 * next vote with it is taken. */
static uint8_t *key_answer(int responder, const uint8_t *nonce, const ec_id *token,
			   const uint8_t *new_pk, int bad_sig, size_t *len)
{
	ec_mapping_resp m;
	uint8_t *e;
	memset(&m, 0, sizeof m);
	memcpy(m.nonce, nonce, EC_NONCE_BYTES);
	m.responder = ids[responder].peer_id;
	m.token = *token;
	memset(m.txid.b, 0x42, sizeof m.txid.b);
	ec_keyhash(&m.owner_key_hash, new_pk);
	m.response_ts = T0;
	memcpy(m.pk, keys[responder].pk, EC_PUBKEY_BYTES);
	assert_int_equal(ec_mapping_resp_sign(&m, keys[responder].sk), EC_OK);
	if (bad_sig)
		m.sig[5] ^= 1;
	assert_int_equal(ec_mapping_resp_encode(&m, &e, len), EC_OK);
	return e;
}

static void test_key_lookup(void **state)
{
	conv c;
	outs *o = malloc(sizeof *o);
	ec_peerset peers;
	hn_owner nk;
	ec_tx tx;
	ec_vote v;
	ec_id near[4], asked[3];
	uint8_t nonces[3][EC_NONCE_BYTES], pk[EC_PUBKEY_BYTES];
	uint8_t *m, *r;
	size_t len, rl, na = 0;
	const ec_node_stats *st;
	uint64_t bad, unsol, acc;
	int x = 7, idx[3], other = -1;
	(void)state;
	assert_non_null(o);
	conv_new(&c, 43);
	st = ec_node_stats_get(c.n);
	hn_owner_make(&nk, 777);
	creation(&tx, &alice, T0, 3);
	memset(&v, 0, sizeof v);
	v.txid = tx.id;
	v.voter = ids[x].peer_id;
	v.seq = 1;
	v.timestamp = T0;
	v.n_flags = 1;
	v.flags[0].token = tx.entries[0].token;
	v.flags[0].flag = EC_VOTE_YES;
	assert_int_equal(ec_vote_sign(&v, nk.kp.sk), EC_OK); /* the new key */
	assert_int_equal(ec_vote_encode(&v, &m, &len), EC_OK);
	bad = st->dropped_bad_sig;
	assert_int_equal(ec_node_recv(c.n, &ids[x].peer_id, m, len, T0), EC_OK);
	assert_int_equal(st->dropped_bad_sig, bad + 1);
	assert_int_equal(st->key_lookups, 3);
	/* the 3 peers nearest to X's id, never X */
	ec_peerset_init(&peers);
	for (int i = 1; i < NP; i++)
		assert_int_equal(ec_peerset_add(&peers, &ids[i].peer_id), EC_OK);
	assert_int_equal(ec_peerset_closest(&peers, &ids[x].peer_id, 4, near), 4);
	for (int i = 0; i < 4 && na < 3; i++)
		if (!ec_id_eq(&near[i], &ids[x].peer_id))
			asked[na++] = near[i];
	drain(&c, o);
	assert_int_equal(o->n, 3);
	for (size_t i = 0; i < o->n; i++) {
		ec_mapping_req q;
		size_t k;
		assert_int_equal(ec_mapping_req_decode(&q, o->o[i].msg, o->o[i].len), EC_OK);
		assert_true(ec_id_eq(&q.token, &ids[x].peer_id));
		for (k = 0; k < 3 && !ec_id_eq(&asked[k], &o->o[i].to); k++)
			;
		assert_true(k < 3);
		memcpy(nonces[k], q.nonce, EC_NONCE_BYTES);
		idx[k] = peer_index(&asked[k]);
	}
	outs_free(o);
	for (int i = 1; i < NP && other < 0; i++)
		if (i != x && i != idx[0] && i != idx[1] && i != idx[2])
			other = i;
	/* one agreeing answer: not enough */
	r = key_answer(idx[0], nonces[0], &ids[x].peer_id, nk.kp.pk, 0, &rl);
	assert_int_equal(ec_node_recv(c.n, &ids[idx[0]].peer_id, r, rl, T0 + 5), EC_OK);
	free(r);
	assert_int_equal(ec_node_peer_key(c.n, &ids[x].peer_id, pk), EC_OK);
	assert_memory_equal(pk, keys[x].pk, EC_PUBKEY_BYTES);
	/* a peer not asked, with another's nonce: unsolicited */
	unsol = st->dropped_unsolicited;
	r = key_answer(other, nonces[1], &ids[x].peer_id, nk.kp.pk, 0, &rl);
	assert_int_equal(ec_node_recv(c.n, &ids[other].peer_id, r, rl, T0 + 6), EC_OK);
	free(r);
	assert_int_equal(st->dropped_unsolicited, unsol + 1);
	/* the asked peer, bad signature */
	bad = st->dropped_bad_sig;
	r = key_answer(idx[1], nonces[1], &ids[x].peer_id, nk.kp.pk, 1, &rl);
	assert_int_equal(ec_node_recv(c.n, &ids[idx[1]].peer_id, r, rl, T0 + 7), EC_OK);
	free(r);
	assert_int_equal(st->dropped_bad_sig, bad + 1);
	assert_int_equal(st->keys_learned, 0);
	/* the second agreeing answer adopts the key */
	r = key_answer(idx[2], nonces[2], &ids[x].peer_id, nk.kp.pk, 0, &rl);
	assert_int_equal(ec_node_recv(c.n, &ids[idx[2]].peer_id, r, rl, T0 + 8), EC_OK);
	free(r);
	assert_int_equal(st->keys_learned, 1);
	assert_int_equal(ec_node_peer_key(c.n, &ids[x].peer_id, pk), EC_OK);
	assert_memory_equal(pk, nk.kp.pk, EC_PUBKEY_BYTES);
	/* X's vote with the new key is taken now */
	acc = st->votes_accepted;
	assert_int_equal(ec_node_recv(c.n, &ids[x].peer_id, m, len, T0 + 9), EC_OK);
	assert_int_equal(st->votes_accepted, acc + 1);
	drain(&c, o);
	outs_free(o);
	free(m);
	free(o);
	ec_peerset_free(&peers);
	conv_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_in_votes_out),
		cmocka_unit_test(test_votes_commit_and_seal),
		cmocka_unit_test(test_transfer_votes),
		cmocka_unit_test(test_bad_input_dropped),
		cmocka_unit_test(test_vote_before_tx_requests_it),
		cmocka_unit_test(test_queries_answered_and_hello),
		cmocka_unit_test(test_local_only_where_responsible),
		cmocka_unit_test(test_identity_token_at_start),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_restart_reloads_chain),
		cmocka_unit_test(test_relay_and_expiry),
		cmocka_unit_test(test_restart_lmdb),
		cmocka_unit_test(test_bounded_fanout),
		cmocka_unit_test(test_key_lookup),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
