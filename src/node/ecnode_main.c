/* ecnode_main.c - the daemon: data directory (keys, identity, LMDB store,
 * transport epoch), the node core, bootstrap and stored peers, the
 * housekeeping timer (re-greeting, sync start), signals, and the offline
 * store check (--check-store). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ec/crypto.h"
#include "ec/identity.h"
#include "node/ecnode.h"

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	if (a + b + 2 > cap)
		return -1;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return 0;
}

/* ---- identity file: "ec-identity-v1", peer id, salt, network id ----------- */

static int identity_write(const char *path, const ec_identity *id)
{
	char pid[65], salt[33];
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	ec_hex_encode(pid, id->peer_id.b, 32);
	ec_hex_encode(salt, id->salt, 16);
	fprintf(f, "ec-identity-v1\n%s\n%s\n%llu\n", pid, salt,
		(unsigned long long)id->network_id);
	fflush(f);
	fsync(fd);
	return fclose(f) == 0 ? 0 : -1;
}

static int identity_read(const char *path, ec_identity *id)
{
	char l1[64], pid[80], salt[80];
	unsigned long long net;
	FILE *f = fopen(path, "r");
	int ok;
	if (!f)
		return -1;
	ok = fscanf(f, "%63s %79s %79s %llu", l1, pid, salt, &net) == 4 &&
	     !strcmp(l1, "ec-identity-v1") && ec_hex_decode(id->peer_id.b, 32, pid) == EC_OK &&
	     ec_hex_decode(id->salt, 16, salt) == EC_OK;
	fclose(f);
	id->network_id = net;
	return ok ? 0 : -1;
}

static int open_data_dir(ecnode *d)
{
	char p[700];
	int r;
	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		ecn_log(ECN_ERROR, "%s: %s", d->cfg.data_dir, strerror(errno));
		return -1;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "node.key");
	r = ec_keyfile_read(p, &d->key);
	if (r == EC_ERR_NOTFOUND) {
		if ((r = ec_keypair_generate(&d->key)) == EC_OK)
			r = ec_keyfile_write(p, &d->key);
		if (r == EC_OK)
			ecn_log(ECN_INFO, "created %s", p);
	}
	if (r != EC_OK) {
		ecn_log(ECN_ERROR, "%s: %s", p, ec_strerror(r));
		return -1;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "kx.key");
	r = ec_kx_keyfile_read(p, &d->kx);
	if (r == EC_ERR_NOTFOUND) {
		if ((r = ec_kx_keypair_generate(&d->kx)) == EC_OK)
			r = ec_kx_keyfile_write(p, &d->kx);
		if (r == EC_OK)
			ecn_log(ECN_INFO, "created %s", p);
	}
	if (r != EC_OK) {
		ecn_log(ECN_ERROR, "%s: %s", p, ec_strerror(r));
		return -1;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "identity");
	if (identity_read(p, &d->ident) == 0) {
		memcpy(d->ident.pk, d->key.pk, 32);
		if (d->ident.network_id != d->cfg.network_id) {
			ecn_log(ECN_ERROR, "%s: identity is for network %llu, configured %llu", p,
				(unsigned long long)d->ident.network_id,
				(unsigned long long)d->cfg.network_id);
			return -1;
		}
		if ((r = ec_identity_verify(&d->ident, ecn_now_ms() / 1000, d->pow)) != EC_OK) {
			ecn_log(ECN_ERROR, "%s: identity does not verify: %s", p, ec_strerror(r));
			return -1;
		}
	} else if (access(p, F_OK) == 0) {
		ecn_log(ECN_ERROR, "%s: malformed identity file", p);
		return -1;
	} else {
		uint64_t tries = 0;
		ecn_log(ECN_INFO, "mining identity (difficulty %u bits)...", d->pow->difficulty);
		r = ec_identity_mine(&d->ident, d->key.pk, d->cfg.network_id,
				     ecn_now_ms() / 1000, d->pow, ecn_rng, NULL, UINT64_MAX,
				     &tries);
		if (r != EC_OK || identity_write(p, &d->ident) != 0) {
			ecn_log(ECN_ERROR, "%s: could not create identity", p);
			return -1;
		}
		ecn_log(ECN_INFO, "identity mined after %llu attempts", (unsigned long long)tries);
	}
	return 0;
}

/* The transport counter epoch: raised and persisted at every start so that
 * no (key, nonce) pair is ever used twice (PROTOCOL 16). */
int ecn_epoch_raise(ecnode *d, uint64_t min_epoch)
{
	char p[700], tmp[720];
	unsigned long long old = 0, now_s = ecn_now_ms() / 1000, e;
	FILE *f;
	path_in(p, sizeof p, d->cfg.data_dir, "transport.epoch");
	if ((f = fopen(p, "r"))) {
		if (fscanf(f, "%llu", &old) != 1)
			old = 0;
		fclose(f);
	}
	e = now_s > old ? now_s : old + 1;
	if (e < min_epoch)
		e = min_epoch;
	if (e > 0xffffffffull) {
		ecn_log(ECN_ERROR, "%s: transport epoch exhausted", p);
		return -1;
	}
	memcpy(tmp, p, strlen(p));
	memcpy(tmp + strlen(p), ".tmp", 5);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	dprintf(fd, "%llu\n", e);
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, p) != 0)
		return -1;
	d->counter = (uint64_t)e << 32;
	return 0;
}

/* ---- store integrity ------------------------------------------------------- */

static int g_serving; /* the node runs: a corrupt read now stops the process */

/* The store's log hook: problems as errors, progress as info.  Once the
 * node runs, a damaged record ends the process at once: whatever the
 * caller computes from the failed read (an answer, a vote, an RPC reply)
 * must not leave it.  Committed data is safe (LMDB), the write in
 * progress is discarded. */
static void on_store_log(void *ctx, int corrupt, const char *msg)
{
	const char *data_dir = ctx;
	ecn_log(corrupt ? ECN_ERROR : ECN_INFO, "%s", msg);
	if (corrupt && g_serving) {
		ecn_log(ECN_ERROR, "stopping: the store is damaged ('ecnode --check-store --data "
				   "%s' lists every problem)",
			data_dir);
		exit(1);
	}
}

/* --check-store: opens DATA/store read-only, verifies everything, prints
 * a summary; 0 clean, 1 damaged or unreadable. */
static int check_store(const char *data_dir)
{
	char p[700];
	ec_store *s;
	ec_store_report rep;
	ec_store_opts o = {.read_only = 1, .quick_open = 1, .log = on_store_log};
	ec_time t0 = ecn_now_ms();
	int r;
	o.log_ctx = (void *)data_dir;
	path_in(p, sizeof p, data_dir, "store");
	r = ec_store_open_lmdb(&s, p, &o);
	if (r != EC_OK) {
		fprintf(stderr, "store %s: cannot be opened: %s\n", p,
			r == EC_ERR_NOTFOUND ? "no store there" : ec_strerror(r));
		return 1;
	}
	r = ec_store_verify(s, EC_VERIFY_REFS, &rep);
	printf("store %s: format %u, commit %llu\n", p, (unsigned)ec_store_format(s),
	       (unsigned long long)rep.commit);
	for (unsigned i = 0; i < EC_STORE_TABLES; i++)
		printf("  %-10s %10llu records\n", ec_store_table_name(i),
		       (unsigned long long)rep.records[i]);
	printf("  %-10s %10llu records verified in %.2f s\n", "total",
	       (unsigned long long)rep.total, (double)(ecn_now_ms() - t0) / 1000.0);
	ec_store_close(s);
	if (r == EC_OK) {
		printf("store %s: ok\n", p);
		return 0;
	}
	if (r == EC_ERR_CORRUPT)
		printf("store %s: damaged, %llu problem%s found\n", p,
		       (unsigned long long)rep.problems, rep.problems == 1 ? "" : "s");
	else
		printf("store %s: the check stopped: %s\n", p, ec_strerror(r));
	return 1;
}

/* ---- peers at start --------------------------------------------------------- */

static int load_peer(void *ctx, const ec_peer_rec *r)
{
	ecnode *d = ctx;
	static const uint8_t zero[32];
	ecn_peer *p;
	if (!memcmp(r->kx_pk, zero, 32) || !memcmp(r->sign_pk, zero, 32))
		return 0;
	if (!(p = ecn_peer_add(d, r->kx_pk)))
		return 0;
	if (ecn_addr_parse(r->addr, &p->addr, &p->addr_len) == 0)
		p->has_addr = 1;
	p->id = r->peer;
	p->bound = 1;
	(void)ec_node_add_peer_key(d->node, &r->peer, r->sign_pk);
	return 0;
}

static int add_bootstrap(ecnode *d, const char *spec)
{
	char kxhex[65];
	uint8_t kx[32];
	const char *at = strchr(spec, '@');
	ecn_peer *p;
	if (!at || at - spec != 64) {
		ecn_log(ECN_ERROR, "bootstrap '%s': expected KXPUBKEY@HOST:PORT", spec);
		return -1;
	}
	memcpy(kxhex, spec, 64);
	kxhex[64] = 0;
	if (ec_hex_decode(kx, 32, kxhex) != EC_OK) {
		ecn_log(ECN_ERROR, "bootstrap '%s': bad key", spec);
		return -1;
	}
	if (!memcmp(kx, d->kx.pk, 32))
		return 0; /* ourselves (shared config files) */
	if (!(p = ecn_peer_add(d, kx))) {
		ecn_log(ECN_ERROR, "bootstrap '%s': unusable key", spec);
		return -1;
	}
	if (ecn_addr_parse(at + 1, &p->addr, &p->addr_len) != 0) {
		ecn_log(ECN_ERROR, "bootstrap '%s': bad address", spec);
		return -1;
	}
	p->has_addr = 1;
	p->bootstrap = 1;
	return 0;
}

static void greet(ecnode *d, ecn_peer *p, ec_time now)
{
	p->hello_sent = now;
	if (ec_node_send_hello(d->node, &p->id, now) == EC_OK)
		ecn_flush(d);
}

/* ---- housekeeping ----------------------------------------------------------- */

static void on_housekeeping(uv_timer_t *t)
{
	ecnode *d = t->data;
	ec_time now = ecn_now_ms();
	(void)ecn_peers_check_dead(d, now);
	(void)ec_reasm_expire(d->reasm, now);
	for (size_t i = 0; i < d->n_peers; i++) {
		ecn_peer *p = &d->peers[i];
		if (!p->has_addr)
			continue;
		/* bootstrap peers until they answer, every second; known
		 * peers we have not heard from in hello_ms, and (keepalive,
		 * so that a quiet link does not look dead from the other
		 * side: PROTOCOL 16 "Dead peers") known peers we sent
		 * nothing to in hello_ms */
		if ((p->bootstrap && !p->bound && now - p->hello_sent >= 1000) ||
		    (p->bound && now - p->hello_sent >= d->cfg.hello_ms &&
		     (now - p->last_rx >= d->cfg.hello_ms || now - p->last_tx >= d->cfg.hello_ms)))
			greet(d, p, now);
	}
	if (d->cfg.sync != EC_SYNC_OFF && d->sync_started == 0 &&
	    now - d->started >= d->cfg.sync_delay_ms) {
		int err = ec_node_sync_start(d->node, (uint8_t)d->cfg.sync, now);
		d->sync_err = err;
		if (err == EC_OK || err == EC_ERR_BUSY) {
			d->sync_started = 1;
			ecn_log(ECN_INFO, "sync started (%s)",
				d->cfg.sync == EC_SYNC_CHAIN ? "chain traversal" : "polling");
		} else {
			d->sync_started = -1;
			ecn_log(ECN_WARN, "sync not available: %s",
				err == EC_ERR_NOTFOUND ? "no sync engine in this build"
						       : ec_strerror(err));
		}
		ecn_flush(d);
	}
	ecn_schedule(d);
}

static void on_close(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *s, int signum)
{
	ecnode *d = s->data;
	ecn_log(ECN_INFO, "signal %d: stopping", signum);
	d->stopping = 1;
	uv_stop(d->loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, on_close);
}

int main(int argc, char **argv)
{
	static ecnode D;
	ecnode *d = &D;
	ec_node_cfg nc;
	char p[700];
	int r;

	ecn_cfg_default(&d->cfg);
	if ((r = ecn_cfg_load(&d->cfg, argc, argv)) != 0)
		return r > 0 ? 0 : 2;
	ecn_log_level = d->cfg.log_level;
	if (ec_crypto_init() != EC_OK) {
		ecn_log(ECN_ERROR, "crypto library failed to initialise");
		return 2;
	}
	d->pow = d->cfg.pow_test ? &ec_pow_test : &ec_pow_production;
	if (d->cfg.check_store)
		return check_store(d->cfg.data_dir);
	umask(077);
	if (open_data_dir(d) != 0)
		return 2;
	if (d->cfg.init_only) {
		char pid[65], kx[65];
		ec_hex_encode(pid, d->ident.peer_id.b, 32);
		ec_hex_encode(kx, d->kx.pk, 32);
		printf("peer_id %s\nkx_pk %s\n", pid, kx);
		return 0;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "store");
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		ecn_log(ECN_ERROR, "%s: %s", p, strerror(errno));
		return 2;
	}
	{
		ec_store_opts so = {.log = on_store_log, .log_ctx = d->cfg.data_dir};
		ec_time t0 = ecn_now_ms();
		if ((r = ec_store_open_lmdb(&d->store, p, &so)) != EC_OK) {
			ecn_log(ECN_ERROR, "store %s: %s", p, ec_strerror(r));
			return r == EC_ERR_CORRUPT || r == EC_ERR_FORMAT ? 1 : 2;
		}
		ecn_log(ECN_INFO, "store %s verified in %llu ms", p,
			(unsigned long long)(ecn_now_ms() - t0));
	}
	if (ecn_epoch_raise(d, 0) != 0) {
		ecn_log(ECN_ERROR, "cannot persist the transport epoch");
		return 2;
	}
	d->loop = uv_default_loop();
	if (ecn_net_start(d) != 0)
		return 2;

	ec_node_cfg_default(&nc);
	nc.key = d->key;
	nc.identity = d->ident;
	nc.store = d->store;
	nc.pow = d->pow;
	nc.block_interval_ms = d->cfg.block_interval_ms;
	nc.rng = ecn_rng;
	nc.rng_ctx = NULL;
	memcpy(nc.kx_pk, d->kx.pk, 32);
	{
		struct sockaddr_storage ann = d->listen_addr;
		socklen_t al;
		if (d->cfg.announce[0] && ecn_addr_parse(d->cfg.announce, &ann, &al) != 0) {
			ecn_log(ECN_ERROR, "bad announce address '%s'", d->cfg.announce);
			return 2;
		}
		nc.addr_len = ecn_addr_pack((const struct sockaddr *)&ann, nc.addr);
	}
	nc.rate_limit = (uint8_t)d->cfg.rate_limit;
	for (int c = 0; c < EC_RL_CLASSES; c++) {
		ec_rl_limit *lims[2] = {&nc.ratelimit.per_peer[c], &nc.ratelimit.total[c]};
		for (int k = 0; k < 2; k++) {
			double ps = lims[k]->per_sec * d->cfg.rate_scale;
			double b = lims[k]->burst * d->cfg.rate_scale;
			lims[k]->per_sec = ps > 4e9 ? 4000000000u : (uint32_t)(ps < 1 ? 1 : ps);
			lims[k]->burst = b > 4e9 ? 4000000000u : (uint32_t)(b < 1 ? 1 : b);
		}
	}
	/* Messages over one datagram travel as fragments up to --message-max
	 * (PROTOCOL 16 "Fragments"): what we serve stays under it, and the
	 * range answers we ask for are bounded to --answer-datagrams
	 * datagrams, so a lost datagram costs a small answer, not a big one */
	if (nc.serve.max_range_bytes > d->cfg.msg_max)
		nc.serve.max_range_bytes = d->cfg.msg_max;
	nc.sync.strategy = (uint8_t)d->cfg.sync;
	if (d->cfg.sync_range_blocks)
		nc.sync.range_max_blocks = d->cfg.sync_range_blocks;
	nc.sync.range_max_bytes = ecn_answer_bytes(&d->cfg);
	/* tx-batch answers alike: about 256 bytes a body (a one-token
	 * transfer is 205), at least 8 ids, at most the engine's default */
	{
		uint32_t ids = ecn_answer_bytes(&d->cfg) / 256;
		if (ids < 8)
			ids = 8;
		if (ids < nc.sync.txbatch_max)
			nc.sync.txbatch_max = (uint16_t)ids;
	}
	{
		ec_reasm_cfg rc;
		ec_reasm_cfg_default(&rc);
		rc.max_msg = d->cfg.msg_max;
		if (rc.max_bytes_peer < 4ull * rc.max_msg)
			rc.max_bytes_peer = 4 * rc.max_msg;
		if (rc.max_bytes < 4ull * rc.max_bytes_peer)
			rc.max_bytes = 4 * rc.max_bytes_peer;
		rc.timeout_ms = d->cfg.reasm_timeout_ms;
		if ((r = ec_reasm_new(&d->reasm, &rc)) != EC_OK) {
			ecn_log(ECN_ERROR, "reassembly: %s", ec_strerror(r));
			return 2;
		}
	}
	d->started = ecn_now_ms();
	ecn_swap_node_cfg(&d->cfg, &nc);
	if ((r = ec_node_new(&d->node, &nc, d->started)) != EC_OK) {
		if (ec_store_corruptions(d->store)) {
			ecn_log(ECN_ERROR, "node not started: %s",
				ec_store_first_corruption(d->store));
			return 1;
		}
		ecn_log(ECN_ERROR, "node not started: %s%s", ec_strerror(r),
			r == EC_ERR_CORRUPT ? " (the store's contents do not fit together)"
					    : "");
		return r == EC_ERR_CORRUPT ? 1 : 2;
	}
	ec_memzero(&nc.key, sizeof nc.key);
	g_serving = 1;
	{
		ec_store_txn *t;
		if (ec_store_txn_begin(d->store, 0, &t) == EC_OK) {
			(void)ec_store_iter_peers(t, load_peer, d);
			ec_store_txn_abort(t);
		}
	}
	for (size_t i = 0; i < d->cfg.n_bootstrap; i++)
		if (add_bootstrap(d, d->cfg.bootstrap[i]) != 0)
			return 2;
	if (ecn_rpc_start(d) != 0)
		return 2;
	{
		char pid[65], kx[65];
		ec_id head;
		uint64_t height = 0;
		int has = ec_node_head(d->node, &head, &height) == EC_OK;
		ec_hex_encode(pid, d->ident.peer_id.b, 32);
		ec_hex_encode(kx, d->kx.pk, 32);
		ecn_log(ECN_INFO, "peer %s listening on %s (network %llu), contact %s@%s", pid,
			d->listen_str, (unsigned long long)d->ident.network_id, kx, d->listen_str);
		ecn_log(ECN_INFO, "chain: %s, %zu stored peers, %zu bootstrap, rpc %s",
			has ? "resumed" : "empty", ec_node_peer_count(d->node),
			d->cfg.n_bootstrap, d->cfg.rpc_path);
		(void)height;
	}
	/* greet everyone we know: stored peers (rejoin) and bootstrap */
	for (size_t i = 0; i < d->n_peers; i++)
		if (d->peers[i].has_addr)
			greet(d, &d->peers[i], d->started);
	uv_timer_init(d->loop, &d->housekeeping);
	d->housekeeping.data = d;
	uv_timer_start(&d->housekeeping, on_housekeeping, 250, 250);
	uv_signal_init(d->loop, &d->sigint);
	uv_signal_init(d->loop, &d->sigterm);
	d->sigint.data = d->sigterm.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	ecn_flush(d);
	ecn_schedule(d);

	uv_run(d->loop, UV_RUN_DEFAULT);

	/* stopped: the current callback (batch) finished; close everything */
	d->stopping = 1;
	ecn_rpc_close(d);
	uv_walk(d->loop, close_walk, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	uv_loop_close(d->loop);
	ec_node_free(d->node);
	ec_reasm_free(d->reasm);
	ec_store_close(d->store);
	ec_keypair_wipe(&d->key);
	ec_kx_keypair_wipe(&d->kx);
	for (size_t i = 0; i < d->n_peers; i++)
		free(d->peers[i].hello);
	free(d->peers);
	ecn_cfg_free(&d->cfg);
	ecn_log(ECN_INFO, "stopped");
	return 0;
}
