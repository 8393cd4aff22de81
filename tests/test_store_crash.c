/* test_store_crash.c - crash atomicity of the LMDB store.
 *
 * A child process opens the store and writes batches as fast as it can;
 * each batch is one own commit (block, head, tx bodies, tx index, Local
 * token states) plus a proof, a new peer record and an overwritten sync
 * progress record.  Only after ec_store_txn_commit returned EC_OK does the
 * child report the batch number through a pipe.  The parent kills it with
 * SIGKILL at a random moment, reopens the store and checks:
 *   - every batch ever reported is fully present;
 *   - every batch after the last reported one is fully present or fully
 *     absent (a commit that finished before the kill but was not reported
 *     yet), and the present ones are contiguous;
 *   - the chain head is the highest present batch, its block is stored at
 *     that height, every height below it is indexed, and the progress
 *     record written by the head batch is the one stored.
 * Then the next child continues the same store.  EC_CRASH_KILLS and
 * EC_CRASH_SEED override the defaults (100 kills, seed from the clock; the
 * seed is printed).
 * SIGKILL tests process crashes (the page cache survives); power loss is
 * covered by LMDB's commit protocol, not by this test.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ec/crypto.h"
#include "testutil.h"
#include "tu_store.h"

/* ---- deterministic batch contents (no cmocka calls: used by the child) ---- */

static int idcmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static unsigned batch_ntx(uint64_t i)
{
	return 1 + (unsigned)(i % 5);
}

static int batch_tx(ec_tx *tx, uint64_t i, unsigned j)
{
	ec_id toks[EC_TX_MAX_ENTRIES];
	unsigned n = 1 + (unsigned)((i + j) % 3);
	memset(tx, 0, sizeof(*tx));
	for (unsigned e = 0; e < n; e++)
		tu_id(&toks[e], "crash/token", (i * 8 + j) * 8 + e);
	qsort(toks, n, 32, idcmp);
	tx->timestamp = 1000 + i;
	tx->n_entries = (uint8_t)n;
	for (unsigned e = 0; e < n; e++) {
		tx->entries[e].token = toks[e];
		tu_id(&tx->entries[e].next_key, "crash/key", (i * 8 + j) * 8 + e);
	}
	return ec_tx_finalize(tx);
}

static void batch_block(ec_block *b, const ec_id *prev, uint64_t i, const ec_tx *txs)
{
	memset(b, 0, sizeof(*b));
	tu_id(&b->creator, "crash/creator", 0);
	b->height = i;
	b->timestamp = 1000 + i;
	if (prev)
		b->prev = *prev;
	b->n_txs = (uint8_t)batch_ntx(i);
	for (unsigned j = 0; j < b->n_txs; j++)
		b->txids[j] = txs[j].id;
	ec_merkle_root(&b->merkle_root, b->txids, b->n_txs);
	ec_block_compute_id(b, &b->id);
}

static size_t batch_proof(uint8_t *buf, uint64_t i)
{
	size_t n = 100 + (size_t)((i * 37) % 3000);
	for (size_t k = 0; k < n; k++)
		buf[k] = (uint8_t)(i * 131 + k * 7);
	return n;
}

static void batch_peer(ec_peer_rec *p, uint64_t i)
{
	memset(p, 0, sizeof(*p));
	tu_id(&p->peer, "crash/peer", i);
	snprintf(p->addr, sizeof p->addr, "peer-%llu.example:7000", (unsigned long long)i);
	p->height = i;
	p->reputation = (double)i / 3.0;
}

static void batch_progress(ec_sync_progress *p, uint64_t i, const ec_id *head)
{
	memset(p, 0, sizeof(*p));
	tu_id(&p->chain, "crash/chain", i % 3);
	p->head = *head;
	p->head_height = i;
	p->low_height = i / 2;
	p->started = 7;
	p->updated = 1000 + i;
}

static uint8_t proofbuf[4096];

/* Writes batch i in one txn. */
static int write_batch(ec_store *s, uint64_t i)
{
	ec_store_txn *t;
	ec_tx txs[8];
	ec_block b;
	ec_id prev, cr;
	ec_peer_rec pr;
	ec_sync_progress pg;
	uint64_t h;
	size_t pn;
	int r = ec_store_txn_begin(s, 1, &t);
	if (r != EC_OK)
		return r;
	tu_id(&cr, "crash/creator", 0);
	if (i > 0) {
		r = ec_store_get_head(t, &cr, &prev, &h);
		if (r == EC_OK && h != i - 1)
			r = EC_ERR_HEIGHT;
		if (r != EC_OK)
			goto fail;
	}
	for (unsigned j = 0; j < batch_ntx(i); j++)
		if ((r = batch_tx(&txs[j], i, j)) != EC_OK)
			goto fail;
	batch_block(&b, i ? &prev : NULL, i, txs);
	if ((r = ec_store_put_own_block(t, &b, NULL, 0, txs)) != EC_OK)
		goto fail;
	pn = batch_proof(proofbuf, i);
	if ((r = ec_store_put_proof(t, &b.id, proofbuf, pn)) != EC_OK)
		goto fail;
	batch_peer(&pr, i);
	if ((r = ec_store_put_peer(t, &pr)) != EC_OK)
		goto fail;
	batch_progress(&pg, i, &b.id);
	if ((r = ec_store_put_progress(t, &pg)) != EC_OK)
		goto fail;
	return ec_store_txn_commit(t);
fail:
	ec_store_txn_abort(t);
	return r;
}

static void child(const char *dir, int fd)
{
	ec_store *s;
	ec_store_txn *t;
	ec_id cr, id;
	uint64_t h, i = 0;
	int r = ec_store_open_lmdb(&s, dir, NULL);
	if (r != EC_OK)
		_exit(10);
	tu_id(&cr, "crash/creator", 0);
	if (ec_store_txn_begin(s, 0, &t) != EC_OK)
		_exit(11);
	r = ec_store_get_head(t, &cr, &id, &h);
	if (r == EC_OK)
		i = h + 1;
	else if (r != EC_ERR_NOTFOUND)
		_exit(12);
	ec_store_txn_abort(t);
	for (;; i++) {
		if (write_batch(s, i) != EC_OK)
			_exit(13);
		/* reported only after commit returned */
		if (write(fd, &i, sizeof i) != (ssize_t)sizeof i)
			_exit(14);
	}
}

/* ---- checks (parent) --------------------------------------------------------------- */

static ec_id *g_ids; /* expected block id per height */
static size_t g_nids;

static const ec_id *expected_id(uint64_t i)
{
	while (g_nids <= i) {
		ec_tx txs[8];
		ec_block b;
		uint64_t k = g_nids;
		for (unsigned j = 0; j < batch_ntx(k); j++)
			assert_int_equal(batch_tx(&txs[j], k, j), EC_OK);
		batch_block(&b, k ? &g_ids[k - 1] : NULL, k, txs);
		g_ids = realloc(g_ids, (g_nids + 1) * sizeof(ec_id));
		assert_non_null(g_ids);
		g_ids[g_nids++] = b.id;
	}
	return &g_ids[i];
}

/* Counts how many of batch i's records are present; *total gets how many
 * it has.  Present records must hold exactly the expected bytes. */
static unsigned batch_presence(ec_store_txn *t, uint64_t i, unsigned *total)
{
	const ec_id *bid = expected_id(i);
	ec_id cr, id;
	unsigned present = 0, n = 0;
	ec_tx txs[8];
	const uint8_t *p;
	size_t pn;
	ec_peer_rec pr, want;
	uint8_t pos;

	tu_id(&cr, "crash/creator", 0);
	n++;
	if (ec_store_get_block_at(t, &cr, i, &id) == EC_OK) {
		assert_true(ec_id_eq(&id, bid));
		present++;
	}
	n++;
	if (ec_store_has_block(t, bid) == 1)
		present++;
	for (unsigned j = 0; j < batch_ntx(i); j++) {
		ec_token_state st;
		assert_int_equal(batch_tx(&txs[j], i, j), EC_OK);
		n++;
		if (ec_store_get_tx_raw(t, &txs[j].id, &p, &pn) == EC_OK)
			present++;
		n++;
		if (ec_store_get_tx_index(t, &txs[j].id, &id, &pos) == EC_OK) {
			assert_true(ec_id_eq(&id, bid));
			assert_int_equal(pos, j);
			present++;
		}
		for (unsigned e = 0; e < txs[j].n_entries; e++) {
			n++;
			if (ec_store_get_token(t, &txs[j].entries[e].token, &st) == EC_OK) {
				assert_true(st.has_current);
				assert_int_equal(st.current.source, EC_TOKEN_LOCAL);
				assert_true(ec_id_eq(&st.current.txid, &txs[j].id));
				present++;
			}
		}
	}
	n++;
	if (ec_store_get_proof_raw(t, bid, &p, &pn) == EC_OK) {
		assert_int_equal(pn, batch_proof(proofbuf, i));
		assert_memory_equal(p, proofbuf, pn);
		present++;
	}
	n++;
	batch_peer(&want, i);
	if (ec_store_get_peer(t, &want.peer, &pr) == EC_OK) {
		assert_memory_equal(&pr, &want, sizeof pr);
		present++;
	}
	*total = n;
	return present;
}

static void check_store(const char *dir, int64_t reported, uint64_t *head_out)
{
	ec_store *s;
	ec_store_txn *t;
	ec_id cr, id;
	uint64_t h;
	unsigned total, pres;
	int r;
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	tu_id(&cr, "crash/creator", 0);
	r = ec_store_get_head(t, &cr, &id, &h);
	if (r == EC_ERR_NOTFOUND) {
		assert_true(reported < 0);
		pres = batch_presence(t, 0, &total);
		assert_int_equal(pres, 0);
		*head_out = UINT64_MAX;
		goto done;
	}
	assert_int_equal(r, EC_OK);
	/* the head covers every reported batch, and points at its block */
	assert_true((int64_t)h >= reported);
	assert_true(ec_id_eq(&id, expected_id(h)));
	{
		ec_block b;
		assert_int_equal(ec_store_get_block(t, &id, &b), EC_OK);
		assert_int_equal(b.height, h);
	}
	/* every batch up to the head fully present */
	for (uint64_t i = 0; i <= h; i++) {
		pres = batch_presence(t, i, &total);
		if (pres != total)
			fail_msg("batch %llu: %u of %u records present (head %llu, reported %lld)",
				 (unsigned long long)i, pres, total, (unsigned long long)h,
				 (long long)reported);
	}
	/* nothing of any later batch */
	for (uint64_t i = h + 1; i <= h + 2; i++) {
		pres = batch_presence(t, i, &total);
		if (pres != 0)
			fail_msg("batch %llu beyond head %llu: %u of %u records present",
				 (unsigned long long)i, (unsigned long long)h, pres, total);
	}
	/* the overwritten progress record is the head batch's */
	{
		ec_sync_progress want, got;
		batch_progress(&want, h, &id);
		assert_int_equal(ec_store_get_progress(t, &want.chain, &got), EC_OK);
		assert_memory_equal(&want, &got, sizeof want);
	}
	*head_out = h;
done:
	ec_store_txn_abort(t);
	ec_store_close(s);
}

static void test_crash_kill(void **state)
{
	char dir[256];
	int kills = 100, killed = 0, unreported = 0;
	uint64_t seed, total_batches = 0;
	int64_t reported_max = -1;
	const char *e;

	e = getenv("EC_CRASH_KILLS");
	if (e && atoi(e) > 0)
		kills = atoi(e);
	e = getenv("EC_CRASH_SEED");
	seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("crash test: %d kills, seed %llu (EC_CRASH_SEED to repeat)\n", kills,
	       (unsigned long long)seed);
	tu_tmpdir(dir, sizeof dir, "ec-test-crash");

	for (int round = 0; round < kills; round++) {
		int fds[2], status;
		pid_t pid;
		uint64_t head, v;
		int64_t got_max = reported_max;
		struct timespec t0, now;
		long delay_us = 2000 + (long)(tu_rand_u64(&seed) % 60000);

		assert_int_equal(pipe(fds), 0);
		fflush(stdout);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(dir, fds[1]);
			_exit(99);
		}
		close(fds[1]);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) { /* read reports until the kill moment */
			struct pollfd pfd = {fds[0], POLLIN, 0};
			long el;
			clock_gettime(CLOCK_MONOTONIC, &now);
			el = (now.tv_sec - t0.tv_sec) * 1000000L +
			     (now.tv_nsec - t0.tv_nsec) / 1000;
			if (el >= delay_us)
				break;
			if (poll(&pfd, 1, (int)((delay_us - el) / 1000) + 1) > 0) {
				ssize_t n = read(fds[0], &v, sizeof v);
				if (n == (ssize_t)sizeof v)
					got_max = (int64_t)v;
				else if (n <= 0)
					break; /* child died on its own */
			}
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		for (;;) { /* drain what was reported before the kill */
			ssize_t n = read(fds[0], &v, sizeof v);
			if (n != (ssize_t)sizeof v)
				break;
			got_max = (int64_t)v;
		}
		close(fds[0]);
		if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
			fail_msg("round %d: child exited by itself (status 0x%x)", round, status);
		killed++;
		check_store(dir, got_max, &head);
		if (head != UINT64_MAX && (int64_t)head > got_max)
			unreported++; /* committed, killed before reporting */
		reported_max = got_max;
		total_batches = head == UINT64_MAX ? 0 : head + 1;
	}
	printf("crash test: %d kills, %llu batches committed, %d kills landed between a "
	       "commit and its report; every check passed\n",
	       killed, (unsigned long long)total_batches, unreported);
	assert_true(total_batches > 0);
	tu_rmrf(dir);
	free(g_ids);
	g_ids = NULL;
	g_nids = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_kill),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
