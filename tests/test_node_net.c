/* test_node_net.c - 64 ec_nodes over the in-process harness (delay, jitter,
 * loss): random workloads commit (multi-token creations, transfers signed
 * by the owners, destructions), the nodes of every token's neighbourhood
 * agree on its state, every chain verifies with the chain module and, in
 * the 64-node workload, written as chain files with its stored proofs, with
 * the real `ecctl chain verify` (a flipped byte is rejected), and a
 * conflict storm (owners double-sign) never gives a token two committed
 * successors on any node; where both conflicting txs reached a node before
 * it decided, the higher id won there.  Real Ed25519 throughout, except the
 * last test (128 nodes, 2% loss), which switches on the simulation-scale
 * signature stand-in and says so. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ec/chainfile.h"
#include "harness.h"
#include "testutil.h"

/* NET_TXS=n in the environment changes the workload size (default 150). */
static size_t n_txs(void)
{
	const char *e = getenv("NET_TXS");
	size_t n = e ? (size_t)strtoul(e, NULL, 10) : 150;
	return n < 10 ? 10 : n > 2000 ? 2000 : n;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static hn *net_new(size_t nodes, uint64_t seed, uint32_t loss_ppm)
{
	hn_cfg c;
	hn *h;
	hn_cfg_default(&c);
	c.n_nodes = nodes;
	c.seed = seed;
	c.loss_ppm = loss_ppm;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	return h;
}

static uint64_t check_chains(hn *h)
{
	uint64_t blocks = 0, sealed = 0;
	for (size_t i = 0; i < h->n; i++) {
		uint64_t len;
		assert_int_equal(hn_verify_chain(h, i, &len), EC_OK);
		blocks += len;
		sealed += ec_node_stats_get(h->nodes[i].node)->blocks_sealed;
	}
	assert_true(blocks == sealed);
	return blocks;
}

extern char **environ;

/* Runs the real `$BUILD/ecctl chain verify FILE...` (stdout, and stderr
 * when quiet, to /dev/null); returns its exit status, -1 if it did not
 * exit normally. */
static int ecctl_verify(char **files, size_t n, int quiet)
{
	const char *b = getenv("BUILD");
	char exe[4096];
	char **argv = calloc(n + 4, sizeof *argv);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = 0;
	assert_non_null(argv);
	snprintf(exe, sizeof exe, "%s/ecctl", b && *b ? b : "build");
	argv[0] = exe;
	argv[1] = (char *)"chain";
	argv[2] = (char *)"verify";
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = files[i];
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
							  O_WRONLY, 0), 0);
	if (quiet)
		assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
								  O_WRONLY, 0), 0);
	assert_int_equal(posix_spawn(&pid, exe, &fa, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes node i's chain with its stored proofs as a chain file (PROTOCOL
 * 14) to path; returns the number of blocks (0: empty chain, no file). */
static size_t write_chainfile(hn *h, size_t i, const char *path)
{
	const ec_id *self = &h->nodes[i].ident.peer_id;
	ec_store_txn *t;
	ec_id head;
	uint64_t height;
	ec_block *blocks;
	ec_chainfile_span *spans;
	uint8_t *enc;
	size_t len, n;
	FILE *f;
	assert_int_equal(ec_store_txn_begin(h->nodes[i].store, 0, &t), EC_OK);
	if (ec_store_get_head(t, self, &head, &height) != EC_OK) {
		ec_store_txn_abort(t);
		return 0;
	}
	n = (size_t)height + 1;
	blocks = calloc(n, sizeof *blocks);
	spans = calloc(n, sizeof *spans);
	assert_true(blocks && spans);
	for (size_t k = 0; k < n; k++) {
		ec_id id;
		const uint8_t *p;
		size_t plen;
		uint8_t *c;
		assert_int_equal(ec_store_get_block_at(t, self, k, &id), EC_OK);
		assert_int_equal(ec_store_get_block(t, &id, &blocks[k]), EC_OK);
		assert_int_equal(ec_store_get_proof_raw(t, &id, &p, &plen), EC_OK);
		assert_non_null(c = malloc(plen));
		memcpy(c, p, plen);
		spans[k].p = c;
		spans[k].len = plen;
	}
	ec_store_txn_abort(t);
	assert_int_equal(ec_chainfile_encode(blocks, spans, n, &enc, &len), EC_OK);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(enc, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(enc);
	for (size_t k = 0; k < n; k++)
		free((void *)spans[k].p);
	free(spans);
	free(blocks);
	return n;
}

/* Every node's chain, with its stored proofs, written to chain files in a
 * temp dir and checked by the real `ecctl chain verify` (exit 0); then one
 * byte of the first block's Merkle root flipped in one file: that file is
 * rejected (exit 1).  The dir is removed. */
static void ecctl_verify_chains(hn *h)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], **files = calloc(h->n, sizeof *files);
	size_t nf = 0, blocks = 0;
	double w0 = wall();
	int r;
	assert_non_null(files);
	snprintf(dir, sizeof dir, "%s/ec_chains_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < h->n; i++) {
		char path[4200];
		size_t n;
		snprintf(path, sizeof path, "%s/node%03zu.chain", dir, i);
		if (!(n = write_chainfile(h, i, path)))
			continue;
		blocks += n;
		assert_non_null(files[nf] = strdup(path));
		nf++;
	}
	assert_true(nf > 0);
	r = ecctl_verify(files, nf, 0);
	assert_int_equal(r, 0);
	{
		/* header 12, record length 4, then the block: type, version,
		 * creator, height, timestamp, prev, 5 jumps, merkle_root */
		long off = 12 + 4 + 2 + 32 + 8 + 8 + 32 + 5 * 32 + 5;
		FILE *f;
		int c;
		assert_non_null(f = fopen(files[0], "r+b"));
		assert_int_equal(fseek(f, off, SEEK_SET), 0);
		assert_true((c = fgetc(f)) != EOF);
		assert_int_equal(fseek(f, off, SEEK_SET), 0);
		assert_true(fputc(c ^ 0x01, f) != EOF);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(ecctl_verify(files, 1, 1), 1);
	}
	for (size_t i = 0; i < nf; i++) {
		assert_int_equal(unlink(files[i]), 0);
		free(files[i]);
	}
	free(files);
	assert_int_equal(rmdir(dir), 0);
	printf("ecctl chain verify: %zu chain files (%zu blocks with proofs) "
	       "verified by the binary, a flipped byte rejected, wall %.2f s\n",
	       nf, blocks, wall() - w0);
}

/* Creations, then transfers (multi-token, 10% destructions), then
 * transfers of destroyed tokens (must never commit); checks and prints. */
static void workload(size_t nodes, uint64_t seed, uint32_t loss_ppm, size_t n,
		     const char *label, int with_ecctl)
{
	hn *h = net_new(nodes, seed, loss_ppm);
	hn_wl w;
	size_t n1, n2, c1, c2, agree, off = 0, s1, bad = 0;
	uint64_t committed = 0, blocks;
	ec_time t0 = h->now;
	double w0 = wall();
	hn_wl_init(&w, seed);

	n1 = hn_wl_creations(h, &w, n, 3, t0 + 500, 2000);
	hn_run_until(h, t0 + 6000);
	c1 = hn_wl_apply(h, &w, 0, w.n_sent);

	s1 = w.n_sent;
	n2 = hn_wl_transfers(h, &w, n, 3, 10, h->now + 100, 2000);
	hn_run_until(h, h->now + 6000);
	c2 = hn_wl_apply(h, &w, s1, w.n_sent);

	/* a destroyed token cannot be updated, even by its last owner */
	{
		ec_tx probe[8];
		size_t np = 0;
		for (size_t i = 0; i < w.n_toks && np < 8; i++) {
			hn_tok *t = &w.toks[i];
			hn_entry e = {t->id, t->head, &w.owners[0], &w.owners[0]};
			if (t->owner >= 0 || ec_id_is_zero(&t->head))
				continue;
			assert_int_equal(hn_tx_build(&probe[np], h->now + 10, &e, 1), EC_OK);
			hn_submit_tx(h, hn_rand(h) % h->n, &probe[np], h->now + 10);
			np++;
		}
		hn_run_until(h, h->now + 2000);
		for (size_t k = 0; k < np; k++)
			for (size_t j = 0; j < h->n; j++)
				bad += (size_t)hn_committed(h, j, &probe[k].id);
		assert_true(np > 0);
	}
	assert_int_equal(bad, 0);

	agree = hn_wl_agreement(h, &w, &off);
	blocks = check_chains(h);
	if (with_ecctl)
		ecctl_verify_chains(h);
	for (size_t i = 0; i < h->n; i++) {
		const ec_node_stats *st = ec_node_stats_get(h->nodes[i].node);
		committed += st->txs_committed;
		assert_int_equal(st->dropped_bad_sig, 0);
		assert_int_equal(st->dropped_malformed, 0);
	}
	{
		size_t live = 0;
		for (size_t i = 0; i < w.n_toks; i++)
			live += !ec_id_is_zero(&w.toks[i].head);
		printf("%s: %zu nodes, loss %.1f%%, creations %zu/%zu committed, "
		       "transfers %zu/%zu committed, committed tokens %zu, "
		       "neighbourhoods agreeing %zu (node states off %zu), "
		       "%llu blocks (%llu node-level tx commits), %llu msgs "
		       "delivered, %llu lost, sim %.1f s, wall %.2f s\n",
		       label, h->n, loss_ppm / 1e4, c1, n1, c2, n2, live, agree, off,
		       (unsigned long long)blocks, (unsigned long long)committed,
		       (unsigned long long)h->delivered, (unsigned long long)h->lost,
		       (double)(h->now - t0) / 1000.0, wall() - w0);
		assert_int_equal(agree, live);
	}
	assert_true(c1 >= n1 * 95 / 100);
	assert_true(c2 >= n2 * 95 / 100);
	assert_int_equal(off, 0);
	hn_wl_free(&w);
	hn_free(h);
}

static void test_net_workload(void **state)
{
	(void)state;
	workload(64, 42, 5000, n_txs(), "net", 1); /* 0.5% loss */
}

static void test_net_conflict_storm(void **state)
{
	hn *h = net_new(64, 7, 0);
	hn_wl w;
	size_t np, s1, two = 0, higher_won = 0, lower_won = 0, none = 0,
	       violations = 0, checked = 0, forks = 0;
	ec_time t0 = h->now;
	double w0 = wall();
	uint64_t blocks;
	(void)state;
	hn_wl_init(&w, 7);

	hn_wl_creations(h, &w, 48, 3, t0 + 200, 1000);
	hn_run_until(h, t0 + 4000);
	hn_wl_apply(h, &w, 0, w.n_sent);

	/* every live token double-signed by its owner */
	s1 = w.n_sent;
	np = hn_wl_double_signs(h, &w, 80, h->now + 100, 1000);
	hn_run_until(h, h->now + 5000);

	for (size_t k = s1; k < w.n_sent; k += 2) {
		const ec_tx *a = &w.sent[k].tx, *b = &w.sent[k + 1].tx;
		const ec_tx *hi = ec_id_cmp(&a->id, &b->id) > 0 ? a : b;
		const ec_tx *lo = hi == a ? b : a;
		for (size_t i = 0; i < h->n; i++) {
			int ch = hn_committed(h, i, &hi->id), cl = hn_committed(h, i, &lo->id);
			ec_node_tx_info ih, il;
			two += ch && cl;
			if (!cl)
				continue;
			/* the lower one committed here: the higher's body must
			 * not have been here before that decision */
			assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, &hi->id, &ih), EC_OK);
			assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, &lo->id, &il), EC_OK);
			assert_true(il.decided_at != 0); /* still in the mempool */
			checked++;
			violations += ih.body_at && ih.body_at < il.decided_at;
		}
		/* across the token's neighbourhood: never both twins (a
		 * fork between nodes, PROTOCOL 14b "Conflicts under bounded
		 * fan-out") */
		{
			size_t nb[2 * EC_NEIGHBOURS], m = hn_neighbourhood(h, &hi->entries[0].token, nb);
			size_t ch = 0, cl = 0;
			for (size_t j = 0; j < m; j++) {
				ch += (size_t)hn_committed(h, nb[j], &hi->id);
				cl += (size_t)hn_committed(h, nb[j], &lo->id);
			}
			forks += ch && cl;
		}
		if (hn_committed_majority(h, hi))
			higher_won++;
		else if (hn_committed_majority(h, lo))
			lower_won++;
		else
			none++;
	}
	blocks = check_chains(h);
	printf("storm: %zu nodes, %zu double-signed tokens: higher id won %zu, "
	       "lower won %zu, neither %zu; neighbourhoods with both twins %zu; "
	       "nodes with both committed %zu; "
	       "node commits of the lower checked %zu, higher body there first %zu; "
	       "%llu blocks, wall %.2f s\n",
	       h->n, np, higher_won, lower_won, none, forks, two, checked, violations,
	       (unsigned long long)blocks, wall() - w0);
	assert_int_equal(forks, 0);
	assert_int_equal(two, 0);
	assert_int_equal(violations, 0);
	assert_true(np > 64);
	hn_wl_free(&w);
	hn_free(h);
}

/* Scale and heavier loss with INSECURE stand-in signatures (identical
 * sizes, ~100x cheaper), so that the protocol logic, not Ed25519, is what
 * this test spends its time on. */
static void test_net_large_fake_sigs(void **state)
{
	(void)state;
	ec_crypto_set_fake_signatures(1);
	workload(128, 9, 20000, 400, "large (fake signatures)", 0); /* 2% loss */
	ec_crypto_set_fake_signatures(0);
}

/* Same seed, same run: every node's chain head and counters, and the
 * network's message counts, identical between two runs. */
static void run_small(uint64_t seed, ec_id *heads, uint64_t *counts)
{
	hn *h = net_new(16, seed, 10000);
	hn_wl w;
	hn_wl_init(&w, seed);
	hn_wl_creations(h, &w, 30, 3, h->now + 100, 500);
	hn_run_until(h, h->now + 2000);
	hn_wl_apply(h, &w, 0, w.n_sent);
	hn_wl_transfers(h, &w, 20, 2, 10, h->now + 100, 500);
	hn_run_until(h, h->now + 2000);
	for (size_t i = 0; i < h->n; i++) {
		uint64_t height;
		const ec_node_stats *st = ec_node_stats_get(h->nodes[i].node);
		(void)ec_node_head(h->nodes[i].node, &heads[i], &height);
		counts[i] = st->votes_accepted * 1000003u + st->txs_committed * 101u +
			    st->votes_changed;
	}
	counts[16] = h->delivered;
	counts[17] = h->lost;
	hn_wl_free(&w);
	hn_free(h);
}

static void test_net_deterministic(void **state)
{
	ec_id a[16], b[16];
	uint64_t ca[18], cb[18];
	(void)state;
	run_small(5, a, ca);
	run_small(5, b, cb);
	assert_memory_equal(a, b, sizeof a);
	assert_memory_equal(ca, cb, sizeof ca);
	assert_true(ca[16] > 0);
}

/* Missing history, end to end (spec 8.10): node V, responsible for token
 * T, hears nothing of T's creation A (every tx and vote to V is lost until
 * A is committed elsewhere).  The transfer B (prev = A) then reaches V,
 * which asks the sender for A with a tx request; the sender's query
 * service answers from its store (a signed tx response), and V commits B
 * with its neighbourhood: T's current state at V is B.  (V decides B on
 * the majority's votes, spec 8.10, possibly before A's body arrives; A
 * itself is then a creation of a token V already holds and is not
 * committed at V again.) */
struct blackout {
	size_t victim;
	ec_time until;
};

static int drop_to_victim(void *ctx, const hn *h, size_t from, size_t to,
			  const uint8_t *msg, size_t len)
{
	const struct blackout *b = ctx;
	(void)from;
	return to == b->victim && h->now < b->until && len &&
	       (msg[0] == EC_MSG_TX || msg[0] == EC_MSG_VOTE);
}

static void test_net_missing_parent_recovered(void **state)
{
	hn_cfg c;
	hn *h;
	hn_owner a, b;
	hn_entry e;
	ec_tx ta, tb;
	ec_id tok, cur;
	size_t nb[8], k, v, src;
	struct blackout bo;
	uint64_t txreq_before, served_before = 0, served_after = 0;
	(void)state;
	hn_cfg_default(&c);
	c.n_nodes = 16;
	c.seed = 21;
	c.identity_tx = 0;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_owner_make(&a, 31);
	hn_owner_make(&b, 32);
	tok = hn_rand_id(h);
	k = hn_neighbourhood(h, &tok, nb);
	assert_true(k >= 5);
	v = nb[0];
	src = nb[1];
	bo.victim = v;
	bo.until = h->now + 3000;
	h->drop = drop_to_victim;
	h->drop_ctx = &bo;

	memset(&e, 0, sizeof e);
	e.token = tok;
	e.next = &a;
	assert_int_equal(hn_tx_build(&ta, h->now + 10, &e, 1), EC_OK);
	hn_submit_tx(h, src, &ta, h->now + 10);
	hn_run_until(h, bo.until);
	assert_true(hn_committed_majority(h, &ta));
	assert_false(hn_committed(h, v, &ta.id));
	assert_false(hn_token_current(h, v, &tok, &cur));

	for (size_t i = 0; i < h->n; i++)
		served_before += ec_node_stats_get(h->nodes[i].node)->queries_served;
	txreq_before = ec_node_stats_get(h->nodes[v].node)->tx_requests;
	e.prev = ta.id;
	e.next = &b;
	e.signer = &a;
	assert_int_equal(hn_tx_build(&tb, h->now + 10, &e, 1), EC_OK);
	hn_submit_tx(h, src, &tb, h->now + 10);
	hn_run_until(h, h->now + 5000);
	for (size_t i = 0; i < h->n; i++)
		served_after += ec_node_stats_get(h->nodes[i].node)->queries_served;

	assert_true(ec_node_stats_get(h->nodes[v].node)->tx_requests > txreq_before);
	assert_true(served_after > served_before); /* a tx response went out */
	{
		ec_node_tx_info ia;
		const ec_node_stats *sv = ec_node_stats_get(h->nodes[v].node);
		/* A's body reached V only through a tx response */
		assert_true(sv->rx[EC_MSG_TX_RESP] >= 1);
		assert_int_equal(ec_node_tx_info_get(h->nodes[v].node, &ta.id, &ia), EC_OK);
		assert_true(ia.has_tx || ia.state == EC_NODE_TX_COMMITTED);
	}
	assert_true(hn_committed(h, v, &tb.id));
	assert_true(hn_token_current(h, v, &tok, &cur));
	assert_true(ec_id_eq(&cur, &tb.id));
	assert_true(hn_committed_majority(h, &tb));
	/* the decision of PROTOCOL 14b "Missing parent": A is not put into
	 * V's chain after B (V never decided A; its chain is its decisions
	 * in commit order), and V's chain verifies without it */
	assert_false(hn_committed(h, v, &ta.id));
	{
		uint64_t len;
		assert_int_equal(hn_verify_chain(h, v, &len), EC_OK);
		assert_true(len >= 1);
	}
	printf("missing parent: node %zu of %zu fetched A by tx request "
	       "(%llu requests), committed B\n", v, h->n,
	       (unsigned long long)(ec_node_stats_get(h->nodes[v].node)->tx_requests -
				    txreq_before));
	hn_free(h);
}

/* ---- lamppost verification (issue 4) --------------------------------------
 * Queries travel through the harness; the link filter captures the answer
 * the responder sends back to the querier (the querier's node would drop it
 * as unsolicited: clients, not the node core, make mapping queries). */

/* Mapping query q -> r for tok through the harness, following referrals
 * (at most 4 hops).  Fills *m with the verified signed response and
 * returns the index of the node that gave it; *hops = referrals followed. */
static size_t ask_mapping(hn *h, hn_capture *c, size_t q, size_t r,
			  const ec_id *tok, ec_mapping_resp *m, unsigned *hops)
{
	static uint64_t ctr;
	*hops = 0;
	for (;;) {
		ec_mapping_req mq;
		uint8_t *x;
		size_t xl;
		memset(&mq, 0, sizeof mq);
		ctr++;
		memcpy(mq.nonce, &ctr, sizeof ctr);
		mq.token = *tok;
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		c->from = r;
		c->to = q;
		memcpy(c->nonce, mq.nonce, EC_NONCE_BYTES);
		c->msg = NULL;
		hn_inject(h, &h->nodes[q].ident.peer_id, r, x, xl, h->now);
		free(x);
		hn_run_until(h, h->now + 40);
		assert_non_null(c->msg);
		if (c->msg[0] == EC_MSG_MAPPING_RESP) {
			assert_int_equal(ec_mapping_resp_decode(m, c->msg, c->len), EC_OK);
			free(c->msg);
			c->msg = NULL;
			assert_int_equal(ec_mapping_resp_verify(m), EC_OK);
			assert_true(ec_id_eq(&m->token, tok));
			assert_true(ec_id_eq(&m->responder, &h->nodes[r].ident.peer_id));
			return r;
		}
		{
			ec_referral f;
			assert_int_equal(ec_referral_decode(&f, c->msg, c->len), EC_OK);
			free(c->msg);
			c->msg = NULL;
			assert_true(f.n_peers >= 1);
			assert_true(++*hops <= 4);
			r = hn_index_of(h, &f.peers[0].peer);
			assert_true(r != SIZE_MAX && r != q);
		}
	}
}

/* 64 nodes, identity tokens and a creation workload committed; then for
 * random (querier, responder, token) triples: the signed mapping response
 * verifies with its pk; the responder's lamppost key resolves through ITS
 * identity token, asked of another node responsible for that token
 * (owner_key_hash = H_tag("ec/v1/keyhash", pk)); head/height are the
 * responder's chain head; a non-zero commit_block is a block of the
 * responder's chain holding txid; txid is the responder's current state. */
static void test_net_lamppost_verification(void **state)
{
	hn_cfg cf;
	hn *h;
	hn_wl w;
	hn_capture cap;
	ec_id *pool;
	size_t n_pool = 0, triples = 1000, ok = 0, with_block = 0, nomap = 0;
	unsigned total_hops = 0;
	const char *env = getenv("LAMPPOST_TRIPLES");
	double w0 = wall();
	(void)state;
	if (env)
		triples = (size_t)strtoul(env, NULL, 10);
	hn_cfg_default(&cf);
	cf.n_nodes = 64;
	cf.seed = 404;
	assert_int_equal(hn_new(&h, &cf), EC_OK);
	hn_wl_init(&w, 404);
	hn_wl_creations(h, &w, 100, 2, h->now + 3000, 2000);
	hn_run_until(h, h->now + 10000);
	assert_int_equal(hn_wl_apply(h, &w, 0, w.n_sent), 100);
	pool = malloc((h->n + w.n_toks) * sizeof *pool);
	assert_non_null(pool);
	for (size_t i = 0; i < h->n; i++)
		pool[n_pool++] = h->nodes[i].ident.peer_id;
	for (size_t i = 0; i < w.n_toks; i++)
		if (!ec_id_is_zero(&w.toks[i].head))
			pool[n_pool++] = w.toks[i].id;
	memset(&cap, 0, sizeof cap);
	h->drop = hn_capture_answer;
	h->drop_ctx = &cap;

	for (size_t k = 0; k < triples; k++) {
		size_t q = hn_rand(h) % h->n, r = hn_rand(h) % h->n, a, res;
		const ec_id *tok = &pool[hn_rand(h) % n_pool];
		ec_mapping_resp m, idm;
		ec_id head, kh, cur;
		uint64_t height;
		unsigned hops, hops2;
		size_t nb[8], k_nb, pick;
		if (r == q)
			r = (r + 1) % h->n;
		a = ask_mapping(h, &cap, q, r, tok, &m, &hops);
		total_hops += hops;
		/* head / height: the answering node's chain */
		if (ec_node_head(h->nodes[a].node, &head, &height) == EC_OK) {
			assert_true(ec_id_eq(&m.head, &head));
			assert_int_equal(m.height, height);
		} else {
			assert_true(ec_id_is_zero(&m.head));
		}
		/* txid: its current state of the token */
		if (hn_token_current(h, a, tok, &cur))
			assert_true(ec_id_eq(&m.txid, &cur));
		else
			assert_true(ec_id_is_zero(&m.txid));
		if (ec_id_is_zero(&m.txid))
			nomap++;
		/* commit_block: a block of its chain holding txid */
		if (!ec_id_is_zero(&m.commit_block)) {
			ec_store_txn *t;
			ec_block b;
			ec_id at;
			int found = 0;
			assert_int_equal(ec_store_txn_begin(h->nodes[a].store, 0, &t), EC_OK);
			assert_int_equal(ec_store_get_block(t, &m.commit_block, &b), EC_OK);
			assert_true(ec_id_eq(&b.creator, &h->nodes[a].ident.peer_id));
			assert_int_equal(ec_store_get_block_at(t, &b.creator, b.height, &at), EC_OK);
			assert_true(ec_id_eq(&at, &b.id));
			assert_true(b.height <= m.height);
			assert_int_equal(m.commit_block_ts, b.timestamp);
			for (unsigned i = 0; i < b.n_txs; i++)
				found |= ec_id_eq(&b.txids[i], &m.txid);
			assert_true(found);
			ec_store_txn_abort(t);
			with_block++;
		}
		/* lamppost: the answering node's identity token, asked of
		 * another node of that token's neighbourhood */
		k_nb = hn_neighbourhood(h, &h->nodes[a].ident.peer_id, nb);
		assert_true(k_nb >= 2);
		do
			pick = nb[hn_rand(h) % k_nb];
		while (pick == a);
		res = ask_mapping(h, &cap, q == pick ? a : q, pick,
				  &h->nodes[a].ident.peer_id, &idm, &hops2);
		assert_int_equal(hops2, 0); /* responsible: answers itself */
		assert_int_equal(res, pick);
		ec_keyhash(&kh, m.pk);
		assert_true(ec_id_eq(&idm.owner_key_hash, &kh));
		assert_memory_equal(m.pk, h->nodes[a].key.pk, EC_PUBKEY_BYTES);
		ok++;
	}
	printf("lamppost: %zu nodes, %zu triples verified (%zu with commit_block, "
	       "%zu no mapping, %u referrals followed), wall %.2f s\n",
	       h->n, ok, with_block, nomap, total_hops, wall() - w0);
	assert_int_equal(ok, triples);
	assert_true(with_block > 0);
	free(pool);
	hn_wl_free(&w);
	hn_free(h);
}

/* Lamppost key rotation (PROTOCOL 14b "Key rotation"), 16 nodes: a node
 * cannot rotate before its identity token is decided here (NOTFOUND); then
 * node a rotates: a second rotation while pending is BUSY, the node signs
 * with the old key until its own block commits the transfer, then with the
 * new one; a creation workload still commits; a mapping response of a
 * verifies with the new pk and its identity token's owner key hash, asked
 * of another responsible node, is H(new pk); every node holding that
 * token's state accepts the new key and rejects the old one (EC_ERR_KEY);
 * a's chain verifies as one chain with old-key blocks then new-key blocks
 * (ec_chain_verify and the ecctl binary); a's new-key hello is taken by a
 * node holding its identity token only; a restart takes the new key and
 * refuses the old one. */
static void rot_rng(void *ctx, void *out, size_t len)
{
	uint64_t *st = ctx;
	uint8_t *o = out;
	for (size_t i = 0; i < len; i++) {
		*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
		o[i] = (uint8_t)(*st >> 56);
	}
}

static void test_net_key_rotation(void **state)
{
	hn *h = net_new(16, 77, 0);
	hn_wl w;
	hn_owner nk;
	hn_capture cap;
	ec_mapping_resp m, idm;
	ec_id rot, kh, cur;
	size_t a = 5, nb[8], k_nb, pick = SIZE_MAX, holders = 0, learned = 0, res, c1;
	unsigned hops;
	uint64_t len, n_old = 0, n_new = 0, bad_sig = 0;
	uint8_t old_pk[EC_PUBKEY_BYTES];
	const ec_id *aid = &h->nodes[a].ident.peer_id;
	(void)state;
	hn_owner_make(&nk, 4242);
	memcpy(old_pk, h->nodes[a].key.pk, EC_PUBKEY_BYTES);
	/* identity token still pending at start: nothing to rotate yet */
	assert_int_equal(ec_node_rotate_key(h->nodes[a].node, &nk.kp, h->now),
			 EC_ERR_NOTFOUND);
	assert_int_equal(ec_node_rotation_pending(h->nodes[a].node, NULL), 0);
	hn_run_until(h, h->now + 5000);
	assert_true(hn_token_current(h, a, aid, &cur));
	assert_int_equal(ec_node_check_lamppost(h->nodes[a].node, aid, old_pk), EC_OK);

	assert_int_equal(ec_node_rotate_key(h->nodes[a].node, NULL, h->now), EC_ERR_ARG);
	assert_int_equal(ec_node_rotate_key(h->nodes[a].node, &h->nodes[a].key, h->now),
			 EC_ERR_ARG); /* the current key */
	assert_int_equal(ec_node_rotate_key(h->nodes[a].node, &nk.kp, h->now), EC_OK);
	assert_int_equal(ec_node_rotation_pending(h->nodes[a].node, &rot), 1);
	/* pending: responses still signed with the old key */
	memset(&cap, 0, sizeof cap);
	h->drop = hn_capture_answer;
	h->drop_ctx = &cap;
	res = ask_mapping(h, &cap, (a + 1) % h->n, a, aid, &m, &hops);
	assert_int_equal(res, a);
	assert_memory_equal(m.pk, old_pk, EC_PUBKEY_BYTES);
	h->drop = NULL;
	assert_int_equal(ec_node_rotate_key(h->nodes[a].node, &nk.kp, h->now),
			 EC_ERR_BUSY);
	hn_run_until(h, h->now + 4000);
	assert_int_equal(ec_node_rotation_pending(h->nodes[a].node, NULL), 0);
	assert_true(hn_committed(h, a, &rot));
	assert_true(hn_token_current(h, a, aid, &cur));
	assert_true(ec_id_eq(&cur, &rot));

	/* blocks after the switch: a creation workload */
	hn_wl_init(&w, 77);
	hn_wl_creations(h, &w, 60, 2, h->now + 100, 1500);
	hn_run_until(h, h->now + 6000);
	c1 = hn_wl_apply(h, &w, 0, w.n_sent);
	assert_true(c1 >= 57);

	/* mapping response of a: new pk; its identity token through another
	 * responsible node: owner key hash = H(new pk) */
	h->drop = hn_capture_answer;
	h->drop_ctx = &cap;
	res = ask_mapping(h, &cap, (a + 1) % h->n, a, aid, &m, &hops);
	assert_int_equal(res, a);
	assert_memory_equal(m.pk, nk.kp.pk, EC_PUBKEY_BYTES);
	ec_keyhash(&kh, nk.kp.pk);
	assert_true(ec_id_eq(&m.owner_key_hash, &kh));
	k_nb = hn_neighbourhood(h, aid, nb);
	for (size_t i = 0; i < k_nb && pick == SIZE_MAX; i++)
		if (nb[i] != a)
			pick = nb[i];
	assert_true(pick != SIZE_MAX);
	res = ask_mapping(h, &cap, a, pick, aid, &idm, &hops);
	assert_int_equal(res, pick);
	assert_true(ec_id_eq(&idm.owner_key_hash, &kh));
	assert_true(ec_id_eq(&idm.txid, &rot));
	h->drop = NULL;

	/* the lamppost check wherever the identity token's state is held */
	for (size_t j = 0; j < h->n; j++) {
		if (!hn_token_current(h, j, aid, &cur))
			continue;
		assert_true(ec_id_eq(&cur, &rot));
		assert_int_equal(ec_node_check_lamppost(h->nodes[j].node, aid, nk.kp.pk),
				 EC_OK);
		assert_int_equal(ec_node_check_lamppost(h->nodes[j].node, aid, old_pk),
				 EC_ERR_KEY);
		holders++;
	}
	assert_true(holders >= 2);
	/* every other node now holds the new key for a: the holders from
	 * their state of the identity token, the others learned it by
	 * mapping queries to that token's neighbours (ec_node_key.c) */
	for (size_t j = 0; j < h->n; j++) {
		uint8_t pk[EC_PUBKEY_BYTES];
		if (j == a)
			continue;
		assert_int_equal(ec_node_peer_key(h->nodes[j].node, aid, pk), EC_OK);
		assert_memory_equal(pk, nk.kp.pk, EC_PUBKEY_BYTES);
		if (!hn_token_current(h, j, aid, &cur)) {
			const ec_node_stats *sj = ec_node_stats_get(h->nodes[j].node);
			assert_true(sj->key_lookups >= 1);
			assert_int_equal(sj->keys_learned, 1);
			learned++;
		}
	}
	assert_true(learned >= 1);

	/* one chain: old-key blocks, then new-key blocks */
	assert_int_equal(hn_verify_chain(h, a, &len), EC_OK);
	{
		ec_store_txn *t;
		assert_int_equal(ec_store_txn_begin(h->nodes[a].store, 0, &t), EC_OK);
		for (uint64_t k = 0; k < len; k++) {
			ec_id id;
			ec_block b;
			assert_int_equal(ec_store_get_block_at(t, aid, k, &id), EC_OK);
			assert_int_equal(ec_store_get_block(t, &id, &b), EC_OK);
			if (memcmp(b.signer_pk, old_pk, EC_PUBKEY_BYTES) == 0) {
				assert_int_equal(n_new, 0);
				n_old++;
			} else {
				assert_memory_equal(b.signer_pk, nk.kp.pk, EC_PUBKEY_BYTES);
				n_new++;
			}
		}
		ec_store_txn_abort(t);
	}
	assert_true(n_old >= 2 && n_new >= 1);
	check_chains(h);
	ecctl_verify_chains(h); /* the binary too: two signer keys, one chain */
	for (size_t j = 0; j < h->n; j++)
		bad_sig += ec_node_stats_get(h->nodes[j].node)->dropped_bad_sig;
	printf("rotation: %zu nodes, rotation tx committed, creations %zu/%zu, "
	       "chain of the rotated node %llu blocks (%llu old key, %llu new), "
	       "%zu nodes hold its identity token, %zu learned the new key by "
	       "mapping queries, %llu votes dropped as bad sig\n",
	       h->n, c1, w.n_sent, (unsigned long long)len,
	       (unsigned long long)n_old, (unsigned long long)n_new, holders,
	       learned, (unsigned long long)bad_sig);
	/* a's hello, now signed with the new key (over which its peer id was
	 * not computed): a node holding a's identity token re-adds it, one
	 * without that state cannot tell and drops it */
	{
		size_t hold = SIZE_MAX, other = SIZE_MAX;
		uint64_t inv;
		for (size_t j = 0; j < h->n; j++) {
			if (j == a)
				continue;
			if (hn_token_current(h, j, aid, &cur)) {
				if (hold == SIZE_MAX)
					hold = j;
			} else if (other == SIZE_MAX) {
				other = j;
			}
		}
		assert_true(hold != SIZE_MAX && other != SIZE_MAX);
		assert_int_equal(ec_node_remove_peer(h->nodes[hold].node, aid), EC_OK);
		assert_int_equal(ec_node_remove_peer(h->nodes[other].node, aid), EC_OK);
		inv = ec_node_stats_get(h->nodes[other].node)->dropped_invalid;
		assert_int_equal(ec_node_send_hello(h->nodes[a].node,
						    &h->nodes[hold].ident.peer_id, h->now), EC_OK);
		assert_int_equal(ec_node_send_hello(h->nodes[a].node,
						    &h->nodes[other].ident.peer_id, h->now), EC_OK);
		{ /* a is idle: hand its outbox to the network ourselves */
			ec_node_out o;
			while (ec_node_poll(h->nodes[a].node, &o)) {
				size_t to = hn_index_of(h, &o.to);
				if (to != SIZE_MAX)
					hn_inject(h, aid, to, o.msg, o.len, h->now);
				free(o.msg);
			}
		}
		hn_run_until(h, h->now + 200);
		assert_int_equal(ec_node_peer_count(h->nodes[hold].node), h->n - 1);
		assert_int_equal(ec_node_peer_count(h->nodes[other].node), h->n - 2);
		assert_int_equal(ec_node_stats_get(h->nodes[other].node)->dropped_invalid,
				 inv + 1);
	}
	/* restart on a's store: the new key is accepted; the old one (stale)
	 * and an unrelated one are not the identity token's key: EC_ERR_KEY */
	{
		ec_node_cfg nc;
		ec_node *r = NULL;
		hn_owner other;
		uint64_t rs = 1;
		hn_owner_make(&other, 999);
		ec_node_cfg_default(&nc);
		nc.identity = h->nodes[a].ident;
		nc.store = h->nodes[a].store;
		nc.pow = &ec_pow_test;
		nc.rng = rot_rng;
		nc.rng_ctx = &rs;
		nc.key = nk.kp;
		assert_int_equal(ec_node_new(&r, &nc, h->now), EC_OK);
		assert_int_equal(ec_node_rotation_pending(r, NULL), 0);
		ec_node_free(r);
		nc.key = h->nodes[a].key;
		assert_int_equal(ec_node_new(&r, &nc, h->now), EC_ERR_KEY);
		nc.key = other.kp;
		assert_int_equal(ec_node_new(&r, &nc, h->now), EC_ERR_KEY);
		/* the daemon restarting with the old key and the next one
		 * (cfg.rotate_to): the store names the next, so it signs
		 * with it at once */
		nc.key = h->nodes[a].key;
		nc.has_rotate_to = 1;
		nc.rotate_to = nk.kp;
		assert_int_equal(ec_node_new(&r, &nc, h->now), EC_OK);
		assert_int_equal(ec_node_rotation_pending(r, NULL), 0);
		{
			ec_node_out o;
			ec_hello hl;
			assert_int_equal(ec_node_send_hello(r, &h->nodes[0].ident.peer_id,
							    h->now), EC_OK);
			assert_int_equal(ec_node_poll(r, &o), 1);
			assert_int_equal(ec_hello_decode(&hl, o.msg, o.len), EC_OK);
			assert_memory_equal(hl.pk, nk.kp.pk, EC_PUBKEY_BYTES);
			assert_int_equal(ec_hello_verify(&hl), EC_OK);
			free(o.msg);
			while (ec_node_poll(r, &o))
				free(o.msg);
		}
		ec_node_free(r);
		/* a rotation pending at a stop (node b, its key never
		 * rotated): resubmitted at start, signed with b's key */
		{
			size_t b = (a + 3) % h->n;
			ec_id rt;
			ec_node_tx_info ti;
			ec_node_cfg nb2;
			ec_node_cfg_default(&nb2);
			nb2.identity = h->nodes[b].ident;
			nb2.store = h->nodes[b].store;
			nb2.pow = &ec_pow_test;
			nb2.rng = rot_rng;
			nb2.rng_ctx = &rs;
			nb2.key = h->nodes[b].key;
			nb2.has_rotate_to = 1;
			nb2.rotate_to = other.kp;
			assert_int_equal(ec_node_new(&r, &nb2, h->now), EC_OK);
			assert_int_equal(ec_node_rotation_pending(r, &rt), 1);
			assert_int_equal(ec_node_tx_info_get(r, &rt, &ti), EC_OK);
			assert_int_equal(ti.state, EC_NODE_TX_PENDING);
			assert_int_equal(ti.has_tx, 1);
			ec_node_free(r);
		}
	}
	hn_wl_free(&w);
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_deterministic),
		cmocka_unit_test(test_net_missing_parent_recovered),
		cmocka_unit_test(test_net_lamppost_verification),
		cmocka_unit_test(test_net_key_rotation),
		cmocka_unit_test(test_net_workload),
		cmocka_unit_test(test_net_conflict_storm),
		cmocka_unit_test(test_net_large_fake_sigs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
