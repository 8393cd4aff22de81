/* bench_store.c - batched insert throughput of the store against raw LMDB
 * puts of the same key/value bytes in the same batches, same run; and
 * on-disk bytes per stored transaction and per block.
 *
 * Data: one chain of 3,136 full blocks (32 txs each) = 100,352 signed-shape
 * transactions (1 or 2 entries, each with a pk and signature), written as
 * own commits (ec_store_put_own_block: block, (creator, height) index,
 * head, tx bodies, tx index, Local token states), 32 blocks = 1,024
 * transactions per batch, durable commits (one fsync per batch).
 * Baseline: a fresh LMDB environment with the same named DBIs, receiving
 * exactly the records the store writes (built with the store's own
 * encoders) through plain mdb_put, in the same batches.
 * Each path runs REPS times alternately into fresh directories; the best
 * run of each is compared.  A no-sync pair shows the CPU-only ratio.  The
 * baseline writes the records without the store's checksums and digest,
 * so the ratio includes what integrity costs on writes.
 *
 * Integrity (docs/STORAGE.md section 6), on the same 100,352-transaction
 * store: the checksum's cost per record size, a token read with and
 * without it, and what an open costs: the structural page walk alone
 * (quick_open), the default verification pass, and the full pass with the
 * cross-table references (ecnode --check-store).  These are CPU-bound and
 * measured in process CPU time, which a machine shared with other jobs
 * disturbs less than wall time.  `bench_store integrity` runs only them.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "ec/crypto.h"
#include "store/ec_store_int.h"
#include "bench_util.h"

#define N_BLOCKS 3136
#define PER_BLOCK 32
#define BLOCKS_PER_BATCH 32
#define N_TX (N_BLOCKS * PER_BLOCK)
#define REPS 2

static ec_tx *g_txs;
static uint8_t **g_txenc;
static size_t *g_txlen;
static ec_block *g_blocks;
static uint8_t (*g_benc)[EC_BLOCK_MAX_BYTES];
static size_t *g_blen;

static int idcmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static void gen(void)
{
	ec_id creator;
	g_txs = calloc(N_TX, sizeof(*g_txs));
	g_txenc = calloc(N_TX, sizeof(*g_txenc));
	g_txlen = calloc(N_TX, sizeof(*g_txlen));
	g_blocks = calloc(N_BLOCKS, sizeof(*g_blocks));
	g_benc = calloc(N_BLOCKS, sizeof(*g_benc));
	g_blen = calloc(N_BLOCKS, sizeof(*g_blen));
	if (!g_txs || !g_txenc || !g_txlen || !g_blocks || !g_benc || !g_blen)
		exit(2);
	idn(&creator, "bench/creator", 0);
	for (uint64_t i = 0; i < N_TX; i++) {
		ec_tx *tx = &g_txs[i];
		ec_id toks[2];
		unsigned n = 1 + (unsigned)(i % 2);
		for (unsigned e = 0; e < n; e++)
			idn(&toks[e], "bench/token", i * 2 + e);
		qsort(toks, n, 32, idcmp);
		tx->timestamp = 1700000000000ull + i;
		tx->n_entries = (uint8_t)n;
		tx->n_sigs = (uint8_t)n;
		for (unsigned e = 0; e < n; e++) {
			tx->entries[e].token = toks[e];
			idn(&tx->entries[e].prev, "bench/prev", i * 2 + e);
			idn(&tx->entries[e].next_key, "bench/key", i * 2 + e);
			tx->sigs[e].entry = (uint8_t)e;
			memset(tx->sigs[e].pk, (int)(i + e), 32);
			memset(tx->sigs[e].sig, (int)(i * 3 + e), 64);
		}
		if (ec_tx_finalize(tx) != EC_OK ||
		    ec_tx_encode(tx, &g_txenc[i], &g_txlen[i]) != EC_OK)
			exit(3);
	}
	for (uint64_t h = 0; h < N_BLOCKS; h++) {
		ec_block *b = &g_blocks[h];
		b->creator = creator;
		b->height = h;
		b->timestamp = 1700000000000ull + h * 1000;
		if (h)
			b->prev = g_blocks[h - 1].id;
		b->n_txs = PER_BLOCK;
		for (unsigned j = 0; j < PER_BLOCK; j++)
			b->txids[j] = g_txs[h * PER_BLOCK + j].id;
		ec_merkle_root(&b->merkle_root, b->txids, PER_BLOCK);
		idn(&b->proof_hash, "bench/proof", h);
		memset(b->sig, 0x5a, 64);
		ec_block_compute_id(b, &b->id);
		g_blen[h] = ec_block_encode_to(b, g_benc[h]);
	}
}

static void rmrf(const char *dir)
{
	static const char *const files[] = {"data.mdb", "lock.mdb", "data.commit"};
	char p[512];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void fresh_dir(char *out, size_t cap, const char *what)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, cap, "%s/ec-bench-%s-XXXXXX", base && *base ? base : "/tmp", what);
	if (!mkdtemp(out))
		exit(4);
}

/* ---- store path ---------------------------------------------------------- */

static double run_store(const char *dir, int no_sync)
{
	ec_store *s;
	ec_store_opts o = {.map_size = 1ull << 30, .no_sync = no_sync, .quick_open = 1};
	double t0;
	if (ec_store_open_lmdb(&s, dir, &o) != EC_OK)
		exit(5);
	t0 = now_s();
	for (uint64_t h = 0; h < N_BLOCKS; h += BLOCKS_PER_BATCH) {
		ec_store_txn *t;
		if (ec_store_txn_begin(s, 1, &t) != EC_OK)
			exit(6);
		for (uint64_t k = h; k < h + BLOCKS_PER_BATCH && k < N_BLOCKS; k++)
			if (ec_store_put_own_block_enc(t, &g_blocks[k], g_benc[k], g_blen[k],
						       &g_txs[k * PER_BLOCK],
						       (const uint8_t *const *)&g_txenc[k * PER_BLOCK],
						       &g_txlen[k * PER_BLOCK]) != EC_OK)
				exit(7);
		if (ec_store_txn_commit(t) != EC_OK)
			exit(8);
	}
	t0 = now_s() - t0;
	ec_store_close(s);
	return t0;
}

/* ---- raw LMDB path --------------------------------------------------------- */

static void put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, const void *v,
		size_t vn)
{
	MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
	if (mdb_put(txn, dbi, &key, &val, 0) != 0)
		exit(9);
}

static double run_raw(const char *dir, int no_sync)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi[EC_T_COUNT];
	double t0;
	uint8_t val[1 + EC_BLOCK_MAX_BYTES];
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
	    mdb_env_set_mapsize(env, 1ull << 30) ||
	    mdb_env_open(env, dir, MDB_NOTLS | (no_sync ? MDB_NOSYNC : 0), 0600))
		exit(10);
	if (mdb_txn_begin(env, NULL, 0, &txn))
		exit(11);
	for (int i = 0; i < EC_T_COUNT; i++)
		if (mdb_dbi_open(txn, ec_store_table_names[i], MDB_CREATE, &dbi[i]))
			exit(12);
	if (mdb_txn_commit(txn))
		exit(13);
	t0 = now_s();
	for (uint64_t h = 0; h < N_BLOCKS; h += BLOCKS_PER_BATCH) {
		if (mdb_txn_begin(env, NULL, 0, &txn))
			exit(14);
		for (uint64_t k = h; k < h + BLOCKS_PER_BATCH && k < N_BLOCKS; k++) {
			const ec_block *b = &g_blocks[k];
			uint8_t ck[EC_CHAIN_KEY_BYTES], cv[EC_CHAIN_VAL_BYTES];
			uint8_t hv[EC_HEAD_VAL_BYTES], iv[EC_TXIDX_VAL_BYTES];
			uint8_t tv[EC_TOKEN_VAL_MAX];
			val[0] = EC_STORE_RV;
			memcpy(val + 1, g_benc[k], g_blen[k]);
			put(txn, dbi[EC_T_BLOCKS], b->id.b, 32, val, 1 + g_blen[k]);
			ec_store_chain_key(ck, &b->creator, b->height);
			ec_store_chain_val(cv, &b->id);
			put(txn, dbi[EC_T_CHAIN], ck, sizeof ck, cv, sizeof cv);
			for (unsigned j = 0; j < PER_BLOCK; j++) {
				uint64_t i = k * PER_BLOCK + j;
				const ec_tx *tx = &g_txs[i];
				memcpy(val + 1, g_txenc[i], g_txlen[i]);
				put(txn, dbi[EC_T_TXS], tx->id.b, 32, val, 1 + g_txlen[i]);
				ec_store_txidx_val(iv, &b->id, (uint8_t)j);
				put(txn, dbi[EC_T_TXIDX], tx->id.b, 32, iv, sizeof iv);
				for (unsigned e = 0; e < tx->n_entries; e++) {
					ec_token_state st;
					size_t n;
					ec_token_set_local(&st, &tx->id, &tx->entries[e].prev,
							   tx->timestamp);
					n = ec_store_token_val(tv, &st);
					put(txn, dbi[EC_T_TOKENS], tx->entries[e].token.b, 32, tv, n);
				}
			}
			ec_store_head_val(hv, &b->id, b->height);
			put(txn, dbi[EC_T_HEADS], b->creator.b, 32, hv, sizeof hv);
		}
		if (mdb_txn_commit(txn))
			exit(15);
	}
	t0 = now_s() - t0;
	mdb_env_close(env);
	return t0;
}

/* ---- on-disk size ------------------------------------------------------------ */

struct sizes {
	uint64_t file, used, tx_bytes, block_bytes;
};

static void measure(const char *dir, struct sizes *sz)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	char p[512];
	memset(sz, 0, sizeof(*sz));
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	if (stat(p, &sb) == 0)
		sz->file = (uint64_t)sb.st_size;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		exit(16);
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	sz->used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	for (int i = 0; i < EC_T_COUNT; i++) {
		MDB_dbi dbi;
		MDB_stat ds;
		uint64_t bytes;
		if (mdb_dbi_open(txn, ec_store_table_names[i], 0, &dbi) ||
		    mdb_stat(txn, dbi, &ds))
			continue;
		bytes = (ds.ms_branch_pages + ds.ms_leaf_pages + ds.ms_overflow_pages) *
			(uint64_t)ds.ms_psize;
		if (i == EC_T_TXS || i == EC_T_TXIDX || i == EC_T_TOKENS)
			sz->tx_bytes += bytes;
		else if (i == EC_T_BLOCKS || i == EC_T_CHAIN || i == EC_T_HEADS)
			sz->block_bytes += bytes;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* ---- integrity ------------------------------------------------------------ */

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns per seal of a value of n bytes (best of 3 x 200,000). */
static double seal_ns(size_t n)
{
	uint8_t v[2048], k[32];
	double best = 1e9;
	memset(v, 0x5a, sizeof v);
	memset(k, 0x11, sizeof k);
	for (int r = 0; r < 3; r++) {
		double t0 = cpu_s();
		for (int i = 0; i < 200000; i++) {
			v[0] = (uint8_t)i;
			ec_store_seal(EC_T_TXS, k, 32, v, n);
		}
		t0 = (cpu_s() - t0) / 200000 * 1e9;
		if (t0 < best)
			best = t0;
	}
	return best;
}

/* ns per token read through the store (checksum verified) and, on the same
 * keys, through plain mdb_get (best of 3). */
static void read_ns(const char *dir, double *store_ns, double *raw_ns)
{
	ec_store *s;
	ec_store_txn *t;
	ec_token_state st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, val;
	const uint64_t n = N_TX;
	*store_ns = *raw_ns = 1e9;
	if (ec_store_open_lmdb(&s, dir, &(ec_store_opts){.read_only = 1, .quick_open = 1}))
		exit(20);
	for (int r = 0; r < 3; r++) {
		double t0 = cpu_s();
		if (ec_store_txn_begin(s, 0, &t))
			exit(21);
		for (uint64_t i = 0; i < n; i++)
			if (ec_store_get_token(t, &g_txs[i].entries[0].token, &st))
				exit(22);
		ec_store_txn_abort(t);
		t0 = (cpu_s() - t0) / n * 1e9;
		if (t0 < *store_ns)
			*store_ns = t0;
	}
	ec_store_close(s);
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) ||
	    mdb_dbi_open(txn, ec_store_table_names[EC_T_TOKENS], 0, &dbi))
		exit(23);
	for (int r = 0; r < 3; r++) {
		double t0 = cpu_s();
		for (uint64_t i = 0; i < n; i++) {
			key.mv_size = 32;
			key.mv_data = g_txs[i].entries[0].token.b;
			if (mdb_get(txn, dbi, &key, &val))
				exit(24);
		}
		t0 = (cpu_s() - t0) / n * 1e9;
		if (t0 < *raw_ns)
			*raw_ns = t0;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Seconds to open (best of 3) with the given options, then close. */
static double open_s(const char *dir, const ec_store_opts *o)
{
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		ec_store *s;
		double t0 = cpu_s();
		if (ec_store_open_lmdb(&s, dir, o) != EC_OK)
			exit(25);
		t0 = cpu_s() - t0;
		ec_store_close(s);
		if (t0 < best)
			best = t0;
	}
	return best;
}

static void integrity(void)
{
	char d[256];
	ec_store *s;
	ec_store_report rep;
	double quick, dflt, full = 1e9, sn, rn;
	fresh_dir(d, sizeof d, "verify");
	(void)run_store(d, 1);
	printf("integrity, CPU time: checksum (SHA-256, first 8 bytes) per record: 41 B %.0f ns, "
	       "75 B %.0f ns, 303 B %.0f ns, 1,428 B %.0f ns\n",
	       seal_ns(41), seal_ns(75), seal_ns(303), seal_ns(1428));
	read_ns(d, &sn, &rn);
	printf("token read: store %.0f ns (checksum verified), plain mdb_get %.0f ns\n", sn, rn);
	quick = open_s(d, &(ec_store_opts){.read_only = 1, .quick_open = 1});
	dflt = open_s(d, &(ec_store_opts){.read_only = 1});
	for (int r = 0; r < 3; r++) {
		double t0;
		if (ec_store_open_lmdb(&s, d, &(ec_store_opts){.read_only = 1, .quick_open = 1}))
			exit(26);
		t0 = cpu_s();
		if (ec_store_verify(s, EC_VERIFY_REFS, &rep) != EC_OK)
			exit(27);
		t0 = cpu_s() - t0;
		ec_store_close(s);
		if (t0 < full)
			full = t0;
	}
	printf("open of the %llu-record store: page walk %.3f s (quick_open), default %.3f s, "
	       "pass with references %.3f s more (--check-store)\n",
	       (unsigned long long)rep.total, quick, dflt, full);
	rmrf(d);
}

static void compare(int no_sync, double *best_store, double *best_raw, struct sizes *sz)
{
	*best_store = *best_raw = 1e9;
	for (int r = 0; r < REPS; r++) {
		char d1[256], d2[256];
		double ts, tr;
		fresh_dir(d1, sizeof d1, "store");
		fresh_dir(d2, sizeof d2, "raw");
		if (r % 2) {
			tr = run_raw(d2, no_sync);
			ts = run_store(d1, no_sync);
		} else {
			ts = run_store(d1, no_sync);
			tr = run_raw(d2, no_sync);
		}
		if (ts < *best_store)
			*best_store = ts;
		if (tr < *best_raw)
			*best_raw = tr;
		if (sz && r == 0)
			measure(d1, sz);
		rmrf(d1);
		rmrf(d2);
	}
}

int main(int argc, char **argv)
{
	double s_sync, r_sync, s_nosync, r_nosync;
	struct sizes sz;
	uint64_t tx_payload = 0, blk_payload = 0;
	if (ec_crypto_init() != EC_OK)
		return 1;
	gen();
	if (argc > 1 && !strcmp(argv[1], "integrity")) {
		integrity();
		return 0;
	}
	for (uint64_t i = 0; i < N_TX; i++)
		tx_payload += g_txlen[i];
	for (uint64_t h = 0; h < N_BLOCKS; h++)
		blk_payload += g_blen[h];
	printf("data: %d txs (avg %.0f B encoded) in %d blocks (avg %.0f B), %d txs per "
	       "batch, %d batches, best of %d\n",
	       N_TX, (double)tx_payload / N_TX, N_BLOCKS, (double)blk_payload / N_BLOCKS,
	       BLOCKS_PER_BATCH * PER_BLOCK, N_BLOCKS / BLOCKS_PER_BATCH, REPS);
	compare(0, &s_sync, &r_sync, &sz);
	compare(1, &s_nosync, &r_nosync, NULL);
	printf("%-28s %12s %12s %8s\n", "insert (own commits)", "store tx/s", "raw tx/s",
	       "ratio");
	printf("%-28s %12.0f %12.0f %8.2f\n", "durable (fsync per batch)", N_TX / s_sync,
	       N_TX / r_sync, r_sync / s_sync);
	printf("%-28s %12.0f %12.0f %8.2f\n", "no-sync (CPU only)", N_TX / s_nosync,
	       N_TX / r_nosync, r_nosync / s_nosync);
	printf("store/raw throughput ratio (durable): %.2f (goal >= 0.70)\n", r_sync / s_sync);
	printf("on disk: data.mdb %.1f MiB, pages in use %.1f MiB\n", sz.file / 1048576.0,
	       sz.used / 1048576.0);
	printf("bytes per transaction (txs + txidx + tokens pages): %.0f (encoding %.0f)\n",
	       (double)sz.tx_bytes / N_TX, (double)tx_payload / N_TX);
	printf("bytes per block (blocks + chain + heads pages): %.0f (encoding %.0f)\n",
	       (double)sz.block_bytes / N_BLOCKS, (double)blk_payload / N_BLOCKS);
	printf("bytes per transaction, whole file: %.0f\n", (double)sz.used / N_TX);
	integrity();
	return r_sync / s_sync >= 0.7 ? 0 : 1;
}
