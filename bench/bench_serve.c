/* bench_serve.c - signed token-mapping responses per second (rate limit +
 * store lookups + build + sign + encode, ec_serve_mapping) against raw
 * Ed25519 signatures per second (ec_sign_raw over the 42 bytes a protocol
 * signature signs), measured in the same run.  Signing dominates a mapping
 * response, so the ratio says how much the query service adds on top.
 *
 * Data: an own chain of 1,100 blocks x 32 one-token creation transactions
 * (35,200 Local tokens; queries pick among the 16,384 of the first 512
 * blocks) in a memory store and in an LMDB store (no-sync writes; reads
 * are what is measured).  Queries ask for tokens in a fixed
 * pseudo-random order, half with minefield evidence, through a rate
 * limiter whose limits never bite (the lookup cost is included).  Also: a
 * range response of 1,024 blocks without proofs (assembled from stored
 * encodings and signed once), per second and MB/s.  The measurements are
 * interleaved, REPS rounds of each in turn (the machine is shared: load
 * moves absolute rates), and the best round of each is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ec/serve.h"
#include "bench_util.h"

#define N_BLOCKS 1100
#define PER_BLOCK 32
#define N_TOK (512 * PER_BLOCK) /* tokens queried: those of the first 512 blocks */
#define REPS 5
#define T0 1700000000000ull

static ec_id g_tokens[N_TOK];
static ec_id g_self;
static ec_id g_head;
static ec_keypair g_kp;

static void must(int r, const char *what)
{
	if (r != EC_OK) {
		fprintf(stderr, "bench_serve: %s: %s\n", what, ec_strerror(r));
		exit(2);
	}
}

static void fill(ec_store *s)
{
	ec_store_txn *t;
	ec_id prev;
	memset(&prev, 0, sizeof prev);
	must(ec_store_txn_begin(s, 1, &t), "begin");
	for (uint64_t h = 0; h < N_BLOCKS; h++) {
		ec_tx txs[PER_BLOCK];
		ec_block b;
		memset(&b, 0, sizeof b);
		for (unsigned i = 0; i < PER_BLOCK; i++) {
			uint64_t k = h * PER_BLOCK + i;
			ec_tx *tx = &txs[i];
			memset(tx, 0, sizeof *tx);
			tx->timestamp = T0 + h * 1000;
			tx->n_entries = 1;
			idn(&tx->entries[0].token, "bench/token", k);
			idn(&tx->entries[0].next_key, "bench/key", k);
			must(ec_tx_finalize(tx), "tx");
			if (k < N_TOK)
				g_tokens[k] = tx->entries[0].token;
			b.txids[i] = tx->id;
		}
		b.creator = g_self;
		b.height = h;
		b.timestamp = T0 + h * 1000;
		b.prev = prev;
		b.n_txs = PER_BLOCK;
		ec_merkle_root(&b.merkle_root, b.txids, PER_BLOCK);
		idn(&b.proof_hash, "bench/proof", h);
		must(ec_block_sign(&b, g_kp.sk), "block sign");
		must(ec_store_put_own_block(t, &b, NULL, 0, txs), "put_own_block");
		prev = b.id;
	}
	g_head = prev;
	must(ec_store_txn_commit(t), "commit");
}

static ec_ratelimit *open_limiter(void)
{
	ec_ratelimit_cfg c;
	ec_ratelimit *rl;
	memset(&c, 0, sizeof c);
	c.max_entries = 4096;
	c.per_peer[EC_RL_MAPPING] = (ec_rl_limit){1000000000u, 1000000000u};
	c.total[EC_RL_MAPPING] = (ec_rl_limit){1000000000u, 1000000000u};
	must(ec_ratelimit_new(&rl, &c), "ratelimit");
	return rl;
}

/* Mapping responses per second, one round. */
static double bench_mapping(ec_serve *srv, ec_store *s, unsigned n, size_t *bytes)
{
	ec_store_txn *t;
	ec_id from;
	double t0, dt;
	uint64_t x = 88172645463325252ull;
	idn(&from, "bench/requester", 0);
	must(ec_store_txn_begin(s, 0, &t), "begin read");
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		ec_mapping_req q;
		ec_serve_answer a;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memset(&q, 0, sizeof q);
		memcpy(q.nonce, &x, sizeof x);
		q.token = g_tokens[x % N_TOK];
		q.flags = (i & 1) ? EC_MAPPING_WANT_EVIDENCE : 0;
		must(ec_serve_mapping(srv, t, &from, &q, NULL, T0 + 5000000 + i, &a),
		     "serve_mapping");
		if (a.type != EC_MSG_MAPPING_RESP) {
			fprintf(stderr, "bench_serve: unexpected answer %u\n", a.type);
			exit(2);
		}
		*bytes = a.len;
		ec_serve_answer_clear(&a);
	}
	dt = now_s() - t0;
	ec_store_txn_abort(t);
	return n / dt;
}

static double bench_sign(unsigned n)
{
	uint8_t msg[42], sig[64];
	double t0 = now_s();
	memset(msg, 0xab, sizeof msg);
	for (unsigned i = 0; i < n; i++) {
		msg[0] = (uint8_t)i;
		must(ec_sign_raw(sig, msg, sizeof msg, g_kp.sk), "sign");
	}
	return n / (now_s() - t0);
}

static ec_range_req g_rq;

static void make_range_req(void)
{
	ec_keypair rk;
	uint8_t seed[32];
	memset(seed, 7, sizeof seed);
	must(ec_keypair_from_seed(&rk, seed), "req key");
	memset(&g_rq, 0, sizeof g_rq);
	g_rq.start = g_head;
	g_rq.max_blocks = 1024;
	g_rq.max_bytes = EC_MSG_MAX_BYTES;
	g_rq.priority = EC_PRIO_SYNC;
	idn(&g_rq.auth.requester, "bench/requester", 0);
	g_rq.auth.timestamp = T0;
	must(ec_range_req_sign(&g_rq, rk.sk), "range sign");
}

/* 1,024-block range responses per second, one round; *bytes = size. */
static double bench_range(ec_serve *srv, ec_store *s, unsigned n, size_t *bytes)
{
	ec_store_txn *t;
	double t0, dt;
	must(ec_store_txn_begin(s, 0, &t), "begin read");
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		ec_serve_answer a;
		must(ec_serve_range(srv, t, &g_rq.auth.requester, &g_rq, T0, &a), "range");
		if (a.type != EC_MSG_RANGE_RESP) {
			fprintf(stderr, "bench_serve: range answer %u\n", a.type);
			exit(2);
		}
		*bytes = a.len;
		ec_serve_answer_clear(&a);
	}
	dt = now_s() - t0;
	ec_store_txn_abort(t);
	return n / dt;
}

static void best(double *b, double v)
{
	if (v > *b)
		*b = v;
}

int main(void)
{
	ec_store *mem, *lm;
	ec_store_opts o = {0};
	char dir[] = "/tmp/ec-bench-serve-XXXXXX";
	uint8_t seed[32];
	const unsigned NQ = 20000, NS = 20000, NR = 20;
	size_t mbytes = 0, rbytes = 0;
	double sign, map_mem, map_lmdb, rng_mem, rng_lmdb;
	ec_serve *srv, *rsrv;
	ec_ratelimit *rl;
	must(ec_crypto_init(), "crypto");
	memset(seed, 0x42, sizeof seed);
	must(ec_keypair_from_seed(&g_kp, seed), "key");
	idn(&g_self, "bench/self", 0);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	o.no_sync = 1;
	must(ec_store_open_memory(&mem), "open memory");
	must(ec_store_open_lmdb(&lm, dir, &o), "open lmdb");
	fill(mem);
	fill(lm);

	make_range_req();
	rl = open_limiter();
	must(ec_serve_new(&srv, NULL, &g_self, &g_kp, rl, NULL), "serve_new");
	for (unsigned i = 0; i < 4; i++)
		ec_serve_note_commit(srv, &g_tokens[i], &g_tokens[i], T0);
	{
		ec_serve_cfg c = ec_serve_default_cfg;
		c.max_range_bytes = EC_MSG_MAX_BYTES;
		c.req_max_skew_ms = 0;
		must(ec_serve_new(&rsrv, &c, &g_self, &g_kp, NULL, NULL), "serve_new");
	}
	sign = map_mem = map_lmdb = rng_mem = rng_lmdb = 0;
	for (int rep = 0; rep < REPS; rep++) {
		best(&sign, bench_sign(NS));
		best(&map_mem, bench_mapping(srv, mem, NQ, &mbytes));
		best(&map_lmdb, bench_mapping(srv, lm, NQ, &mbytes));
		best(&rng_mem, bench_range(rsrv, mem, NR, &rbytes));
		best(&rng_lmdb, bench_range(rsrv, lm, NR, &rbytes));
	}
	ec_serve_free(srv);
	ec_serve_free(rsrv);
	ec_ratelimit_free(rl);

	printf("bench_serve: %u blocks x %u txs, %u tokens queried, best of %d\n",
	       N_BLOCKS, PER_BLOCK, N_TOK, REPS);
	printf("%-44s %12s %10s\n", "measure", "per second", "ratio");
	printf("%-44s %12.0f %10s\n", "raw Ed25519 sign (ec_sign_raw, 42 B)", sign, "1.00");
	printf("%-44s %12.0f %10.2f\n", "mapping responses, memory store", map_mem,
	       map_mem / sign);
	printf("%-44s %12.0f %10.2f\n", "mapping responses, LMDB store", map_lmdb,
	       map_lmdb / sign);
	printf("mapping response size: %zu bytes (with 4 evidence entries)\n", mbytes);
	printf("%-44s %12.1f %10s\n", "range responses (1,024 blocks), memory", rng_mem, "");
	printf("%-44s %12.1f %10s\n", "range responses (1,024 blocks), LMDB", rng_lmdb, "");
	printf("range response size: %zu bytes; memory %.0f MB/s, LMDB %.0f MB/s\n", rbytes,
	       rng_mem * rbytes / 1e6, rng_lmdb * rbytes / 1e6);

	ec_store_close(mem);
	ec_store_close(lm);
	{
		char p[64];
		snprintf(p, sizeof p, "%s/data.mdb", dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/lock.mdb", dir);
		unlink(p);
		rmdir(dir);
	}
	return 0;
}
