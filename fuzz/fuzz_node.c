/* fuzz_node.c - libFuzzer target for the whole node (node.h): datagrams
 * from peers and clients into a fresh ec_node over a memory store, ticks,
 * every output polled and freed; never a crash, every message accounted.
 *
 * Input: a sequence of records, each
 *     u8  ctl     bits 0-2: sender (0 = the zero id / local client,
 *                           1..4 = known peers P1..P4, 5..7 = an unknown id)
 *                 bit 3:    tick the node after this message
 *                 bits 4-7: time advance before it, in units of 100 ms
 *     u16 len     big-endian; cut to what is left of the input
 *     len bytes   one message, handed to ec_node_recv as is.
 * The node (identity N) and the peers use fixed keys (seeds 0x4e, 0x11..
 * 0x14), so committed corpus entries can hold valid signed txs, votes,
 * requests and hellos (hellos are checked with ec_pow_test).
 *
 * Invariants (abort otherwise):
 *   - ec_node_recv and ec_node_tick return EC_OK (a memory store does not
 *     fail; peer input never makes a call fail);
 *   - accounting: every recv raises the sum of rx[] by exactly one (known
 *     type) or leaves it and raises dropped_malformed by one; a vote ends
 *     in exactly one of votes_accepted / dropped_*; a query in exactly one
 *     of queries_served / _referred / _refused / _dropped /
 *     dropped_malformed;
 *   - every queued output is a message of at most EC_MSG_MAX_BYTES whose
 *     type byte is known, and tx[] counts exactly what was polled.
 * At the end the node is ticked an hour later (expiry paths) and freed.
 * FUZZ_NODE_VERBOSE=1 prints the counters of each input.
 *
 * Seeds: fuzz/corpus/node/ is written by the generator in this file:
 *   cc -DFUZZ_NODE_GEN -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Itests/util \
 *      fuzz/fuzz_node.c build/libec.a \
 *      $(pkg-config --libs libsodium lmdb libcrypto) -lm -lpthread \
 *      -o /tmp/gen_node && /tmp/gen_node fuzz/corpus/node */
#include <stdio.h>

#include "ec/node.h"
#include "fuzz_common.h"

#define FN_T0 1700000000000ull
#define FN_PEERS 4

static ec_keypair g_node_kp, g_peer_kp[FN_PEERS];
static ec_id g_node_id, g_peer_id[FN_PEERS], g_stranger[3];

static void fn_key(ec_keypair *kp, uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	fuzz_check(ec_keypair_from_seed(kp, seed) == EC_OK);
}

static void fn_init(void)
{
	static int ready;
	if (ready)
		return;
	fuzz_init();
	fn_key(&g_node_kp, 0x4e);
	ec_hash(&g_node_id, "fuzz/node", g_node_kp.pk, 32);
	for (int i = 0; i < FN_PEERS; i++) {
		fn_key(&g_peer_kp[i], (uint8_t)(0x11 + i));
		ec_hash(&g_peer_id[i], "fuzz/node-peer", g_peer_kp[i].pk, 32);
	}
	for (int i = 0; i < 3; i++) {
		uint8_t b = (uint8_t)i;
		ec_hash(&g_stranger[i], "fuzz/node-stranger", &b, 1);
	}
	ready = 1;
}

/* Deterministic "randomness" for nonces and jitter. */
static void fn_rng(void *ctx, void *out, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *o = out;
	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		o[i] = (uint8_t)(*s >> 56);
	}
}

static const ec_id *sender_of(uint8_t sel)
{
	static const ec_id zero;
	sel &= 7;
	if (sel == 0)
		return &zero;
	if (sel <= FN_PEERS)
		return &g_peer_id[sel - 1];
	return &g_stranger[sel - 5];
}

static uint64_t rx_sum(const ec_node_stats *st)
{
	uint64_t s = 0;
	for (int i = 0; i < EC_NODE_TYPES; i++)
		s += st->rx[i];
	return s;
}

static uint64_t tx_sum(const ec_node_stats *st)
{
	uint64_t s = 0;
	for (int i = 0; i < EC_NODE_TYPES; i++)
		s += st->tx[i];
	return s;
}

static uint64_t drops(const ec_node_stats *st)
{
	return st->dropped_malformed + st->dropped_bad_sig + st->dropped_unsolicited +
	       st->dropped_replayed + st->dropped_invalid + st->dropped_refused;
}

static uint64_t query_outcomes(const ec_node_stats *st)
{
	return st->queries_served + st->queries_referred + st->queries_refused +
	       st->queries_dropped + st->dropped_malformed;
}

static uint64_t drain(ec_node *n)
{
	ec_node_out o;
	uint64_t k = 0;
	while (ec_node_poll(n, &o)) {
		uint8_t t;
		fuzz_check(o.msg && o.len <= EC_MSG_MAX_BYTES);
		fuzz_check(ec_msg_peek(o.msg, o.len, &t) == EC_OK);
		free(o.msg);
		k++;
	}
	return k;
}

static ec_node *fn_node(ec_store **store, uint64_t *rng)
{
	ec_node_cfg cfg;
	ec_node *n;
	ec_node_cfg_default(&cfg);
	fuzz_check(ec_store_open_memory(store) == EC_OK);
	cfg.key = g_node_kp;
	memset(&cfg.identity, 0, sizeof cfg.identity);
	memcpy(cfg.identity.pk, g_node_kp.pk, 32);
	cfg.identity.network_id = 7;
	cfg.identity.peer_id = g_node_id;
	cfg.store = *store;
	cfg.pow = &ec_pow_test;
	cfg.identity_tx = 1;
	cfg.block_interval_ms = 500;
	cfg.mempool.tx_timeout_ms = 5000;
	cfg.ratelimit.max_entries = 16;
	cfg.rng = fn_rng;
	cfg.rng_ctx = rng;
	fuzz_check(ec_node_new(&n, &cfg, FN_T0) == EC_OK);
	for (int i = 0; i < FN_PEERS; i++)
		fuzz_check(ec_node_add_peer_key(n, &g_peer_id[i], g_peer_kp[i].pk) == EC_OK);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ec_store *store;
	uint64_t rng = 1, polled = 0;
	ec_time now = FN_T0;
	ec_node *n;
	const ec_node_stats *st;
	size_t off = 0;
	fn_init();
	n = fn_node(&store, &rng);
	st = ec_node_stats_get(n);
	polled += drain(n);
	while (off + 3 <= size) {
		uint8_t ctl = data[off], type = 0xff;
		size_t len = ((size_t)data[off + 1] << 8) | data[off + 2];
		uint64_t rx0 = rx_sum(st), mal0 = st->dropped_malformed;
		uint64_t d0 = drops(st), va0 = st->votes_accepted, q0 = query_outcomes(st);
		off += 3;
		if (len > size - off)
			len = size - off;
		now += (ec_time)(ctl >> 4) * 100;
		fuzz_check(ec_node_recv(n, sender_of(ctl), data + off, len, now) == EC_OK);
		if (rx_sum(st) == rx0) {
			fuzz_check(st->dropped_malformed == mal0 + 1);
		} else {
			fuzz_check(rx_sum(st) == rx0 + 1);
			fuzz_check(ec_msg_peek(data + off, len, &type) == EC_OK);
		}
		if (type == EC_MSG_VOTE)
			fuzz_check(drops(st) + st->votes_accepted == d0 + va0 + 1);
		if (type == EC_MSG_MAPPING_REQ || type == EC_MSG_TX_REQ ||
		    type == EC_MSG_BLOCK_REQ || type == EC_MSG_RANGE_REQ)
			fuzz_check(query_outcomes(st) == q0 + 1);
		off += len;
		if (ctl & 8) {
			if (ec_node_next_deadline(n) > now && ec_node_next_deadline(n) < now + 60000)
				now = ec_node_next_deadline(n);
			fuzz_check(ec_node_tick(n, now) == EC_OK);
		}
		polled += drain(n);
	}
	fuzz_check(ec_node_tick(n, now + 3600 * 1000ull) == EC_OK);
	polled += drain(n);
	fuzz_check(tx_sum(st) == polled);
	if (getenv("FUZZ_NODE_VERBOSE"))
		fprintf(stderr,
			"node: rx %llu malformed %llu badsig %llu unsol %llu replay %llu "
			"invalid %llu refused %llu votes %llu committed %llu peers %llu "
			"served %llu referred %llu q-refused %llu q-dropped %llu out %llu\n",
			(unsigned long long)rx_sum(st),
			(unsigned long long)st->dropped_malformed,
			(unsigned long long)st->dropped_bad_sig,
			(unsigned long long)st->dropped_unsolicited,
			(unsigned long long)st->dropped_replayed,
			(unsigned long long)st->dropped_invalid,
			(unsigned long long)st->dropped_refused,
			(unsigned long long)st->votes_accepted,
			(unsigned long long)st->txs_committed,
			(unsigned long long)st->peers_added,
			(unsigned long long)st->queries_served,
			(unsigned long long)st->queries_referred,
			(unsigned long long)st->queries_refused,
			(unsigned long long)st->queries_dropped, (unsigned long long)polled);
	ec_node_free(n);
	ec_store_close(store);
	return 0;
}

#ifdef FUZZ_NODE_GEN
/* ---- seed corpus generator (see the header) ----------------------------- */

typedef struct fn_buf {
	uint8_t b[1 << 16];
	size_t n;
} fn_buf;

static void put(fn_buf *f, uint8_t ctl, const uint8_t *m, size_t len)
{
	fuzz_check(f->n + 3 + len <= sizeof f->b && len <= 0xffff);
	f->b[f->n++] = ctl;
	f->b[f->n++] = (uint8_t)(len >> 8);
	f->b[f->n++] = (uint8_t)len;
	memcpy(f->b + f->n, m, len);
	f->n += len;
}

static void put_owned(fn_buf *f, uint8_t ctl, uint8_t *m, size_t len)
{
	put(f, ctl, m, len);
	free(m);
}

static void save(const char *dir, const char *name, const fn_buf *f)
{
	char path[1024];
	FILE *o;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	o = fopen(path, "wb");
	fuzz_check(o && fwrite(f->b, 1, f->n, o) == f->n && fclose(o) == 0);
}

/* A creation of a token next to the node's id, owned by key kp. */
static void gen_tx(ec_tx *tx, uint8_t salt, ec_time ts)
{
	memset(tx, 0, sizeof *tx);
	tx->timestamp = ts;
	tx->n_entries = 1;
	tx->entries[0].token = g_node_id;
	tx->entries[0].token.b[31] ^= salt;
	ec_keyhash(&tx->entries[0].next_key, g_peer_kp[0].pk);
	fuzz_check(ec_tx_finalize(tx) == EC_OK);
}

static void gen_vote(fn_buf *f, uint8_t ctl, int peer, const ec_tx *tx, uint32_t seq)
{
	ec_vote v;
	uint8_t *m;
	size_t len;
	memset(&v, 0, sizeof v);
	v.txid = tx->id;
	v.voter = g_peer_id[peer];
	v.seq = seq;
	v.timestamp = FN_T0;
	v.n_flags = tx->n_entries;
	for (unsigned i = 0; i < tx->n_entries; i++) {
		v.flags[i].token = tx->entries[i].token;
		v.flags[i].flag = EC_VOTE_YES;
	}
	fuzz_check(ec_vote_sign(&v, g_peer_kp[peer].sk) == EC_OK);
	fuzz_check(ec_vote_encode(&v, &m, &len) == EC_OK);
	put_owned(f, ctl, m, len);
}

static void auth(ec_req_auth *a, int peer, uint8_t nb)
{
	a->requester = g_peer_id[peer];
	a->timestamp = FN_T0;
	memset(a->nonce, nb, EC_NONCE_BYTES);
	memcpy(a->pk, g_peer_kp[peer].pk, 32);
}

static void gen_requests(fn_buf *f, const ec_tx *tx)
{
	ec_mapping_req mq;
	ec_tx_req tq;
	ec_block_req bq;
	ec_range_req rq;
	uint8_t *m;
	size_t len;
	memset(&mq, 0, sizeof mq);
	memset(mq.nonce, 1, EC_NONCE_BYTES);
	mq.token = tx->entries[0].token;
	mq.flags = EC_MAPPING_WANT_EVIDENCE;
	fuzz_check(ec_mapping_req_encode(&mq, &m, &len) == EC_OK);
	put_owned(f, 0, m, len);
	memset(&tq, 0, sizeof tq);
	memset(tq.nonce, 2, EC_NONCE_BYTES);
	tq.txid = tx->id;
	fuzz_check(ec_tx_req_encode(&tq, &m, &len) == EC_OK);
	put_owned(f, 2, m, len);
	memset(&bq, 0, sizeof bq);
	bq.block_id = tx->id; /* not a block: NOTFOUND */
	bq.priority = EC_PRIO_SYNC;
	auth(&bq.auth, 0, 3);
	fuzz_check(ec_block_req_sign(&bq, g_peer_kp[0].sk) == EC_OK);
	fuzz_check(ec_block_req_encode(&bq, &m, &len) == EC_OK);
	put_owned(f, 1, m, len);
	memset(&rq, 0, sizeof rq);
	rq.start = tx->id;
	rq.max_blocks = 8;
	rq.max_bytes = EC_RANGE_MIN_MAX_BYTES;
	rq.flags = EC_RANGE_WITH_PROOFS;
	rq.priority = EC_PRIO_VALIDATION;
	auth(&rq.auth, 1, 4);
	fuzz_check(ec_range_req_sign(&rq, g_peer_kp[1].sk) == EC_OK);
	fuzz_check(ec_range_req_encode(&rq, &m, &len) == EC_OK);
	put_owned(f, 2, m, len);
}

int main(int argc, char **argv)
{
	static fn_buf f;
	ec_tx tx, tx2;
	uint8_t *m;
	size_t len;
	const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/node";
	fn_init();
	gen_tx(&tx, 1, FN_T0);
	gen_tx(&tx2, 2, FN_T0 + 1);

	/* a tx from P1 */
	f.n = 0;
	fuzz_check(ec_tx_encode(&tx, &m, &len) == EC_OK);
	put_owned(&f, 1 | 8, m, len);
	save(dir, "tx", &f);

	/* a tx from the client, votes from every peer, ticks to the seal,
	 * then every request type about it */
	f.n = 0;
	fuzz_check(ec_tx_encode(&tx, &m, &len) == EC_OK);
	put_owned(&f, 0, m, len);
	for (int p = 0; p < FN_PEERS; p++)
		gen_vote(&f, (uint8_t)((p + 1) | 8), p, &tx, 1);
	put(&f, 0x50 | 8, (const uint8_t *)"", 0); /* empty: malformed, tick */
	put(&f, 0x50 | 8, (const uint8_t *)"", 0);
	gen_requests(&f, &tx);
	save(dir, "commit-then-query", &f);

	/* a vote before its tx (placeholder, tx request), then the tx */
	f.n = 0;
	gen_vote(&f, 2 | 8, 1, &tx2, 1);
	gen_vote(&f, 2, 1, &tx2, 1); /* replay */
	fuzz_check(ec_tx_encode(&tx2, &m, &len) == EC_OK);
	put_owned(&f, 3 | 0x20 | 8, m, len);
	save(dir, "vote-then-tx", &f);

	/* a vote from an unknown sender, one relayed */
	f.n = 0;
	gen_vote(&f, 5, 0, &tx, 1);
	gen_vote(&f, 2, 0, &tx, 1);
	save(dir, "vote-unsolicited", &f);

	/* requests only, about nothing stored */
	f.n = 0;
	gen_requests(&f, &tx);
	save(dir, "requests", &f);

	/* hello of a mined identity (ec_pow_test), then it asks a mapping */
	{
		ec_keypair kp;
		ec_identity id;
		ec_hello h;
		uint64_t rs = 5;
		fn_key(&kp, 0x66);
		fuzz_check(ec_identity_mine(&id, kp.pk, 7, FN_T0 / 1000, &ec_pow_test,
					    fn_rng, &rs, 1000000, NULL) == EC_OK);
		memset(&h, 0, sizeof h);
		h.peer_id = id.peer_id;
		memcpy(h.pk, kp.pk, 32);
		h.network_id = 7;
		memcpy(h.salt, id.salt, sizeof h.salt);
		h.addr_len = 4;
		memcpy(h.addr, "\x7f\x00\x00\x01", 4);
		h.timestamp = FN_T0;
		fuzz_check(ec_hello_sign(&h, kp.sk) == EC_OK);
		fuzz_check(ec_hello_encode(&h, &m, &len) == EC_OK);
		f.n = 0;
		put(&f, 0, m, len); /* from the client: allowed */
		put_owned(&f, 0, m, len);
		save(dir, "hello", &f);
	}

	/* unsolicited answers: a tx response and a refusal from P3 */
	{
		ec_tx_resp r;
		ec_refusal rf;
		memset(&r, 0, sizeof r);
		r.responder = g_peer_id[2];
		r.tx = tx;
		fuzz_check(ec_tx_resp_sign(&r, g_peer_kp[2].sk) == EC_OK);
		f.n = 0;
		fuzz_check(ec_tx_resp_encode(&r, &m, &len) == EC_OK);
		put_owned(&f, 3, m, len);
		memset(&rf, 0, sizeof rf);
		rf.responder = g_peer_id[2];
		rf.request_type = EC_MSG_TX_REQ;
		rf.reason = EC_REFUSE_BUSY;
		fuzz_check(ec_refusal_sign(&rf, g_peer_kp[2].sk) == EC_OK);
		fuzz_check(ec_refusal_encode(&rf, &m, &len) == EC_OK);
		put_owned(&f, 3, m, len);
		save(dir, "answers-unsolicited", &f);
	}

	/* garbage: short, unknown type, random bytes, a length past the end */
	{
		uint8_t g[200];
		uint64_t s = 9;
		fn_rng(&s, g, sizeof g);
		f.n = 0;
		put(&f, 0, g, 1);
		g[0] = 0x7f;
		put(&f, 1, g, 40);
		g[0] = EC_MSG_TX;
		put(&f, 2 | 8, g, 120);
		g[0] = EC_MSG_VOTE;
		put(&f, 5, g, 150);
		f.b[f.n++] = 1;
		f.b[f.n++] = 0xff;
		f.b[f.n++] = 0xff;
		f.b[f.n++] = EC_MSG_MAPPING_REQ;
		save(dir, "garbage", &f);
	}
	return 0;
}
#endif
