/* bench_daemon.c - signed token-mapping responses served per second by a
 * real ecnode process over loopback UDP (encrypted datagrams, PROTOCOL 16),
 * against two raw baselines measured in the same run:
 *   - raw UDP echo: a forked process echoing datagrams of the same size on
 *     loopback, driven by the same client loop (same window);
 *   - raw Ed25519 signing: ec_sign_raw over the 42 bytes a protocol
 *     signature signs, in this process.
 * The client keeps WINDOW requests in flight from one socket with its own
 * X25519 key (an unknown client to the node, which first proves its address
 * with one challenge-echo round trip), sealing requests and opening
 * the answers (it does not verify their signatures: that would measure the
 * client, which shares the machine's 2 cores with the node).  The node runs with --rate-limit off
 * (the limits exist to refuse exactly this load) and an empty store, so
 * each answer is a signed "no mapping held" response: lookup miss, build,
 * sign, encode, seal.  Rounds are interleaved (the machine is shared); the
 * best round of each is kept.  Needs $BUILD/ecnode (BUILD, default build).
 *
 * The fragment path (PROTOCOL 16 "Fragments"): the node's store is filled
 * beforehand with an own chain of 16 blocks x 32 transactions, and the
 * client asks range requests for all 16 blocks (no proofs): a ~23 KB
 * signed answer.  Measured on two ecnode processes over copies of that data
 * directory: --datagram-max 1232 (the answer in ~20 fragments, each sealed,
 * reassembled by the client with ec_reasm) and --datagram-max 65507 (one
 * datagram, loopback only); the raw baseline is a UDP "burst echo" that
 * answers each request with the same number of datagrams of the same
 * sizes, without crypto.  RANGE_WINDOW answers in flight. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/store.h"
#include "ec/transport.h"
#include "ec/wire.h"
#include "bench_util.h"

#define WINDOW 32
#define ROUND_S 1.5
#define REPS 3
#define RANGE_WINDOW 4
#define RANGE_BLOCKS 16
#define PER_BLOCK 32

static char g_dir[64];
static pid_t g_node, g_echo, g_node2, g_node3;

static void die(const char *m)
{
	fprintf(stderr, "bench_daemon: %s\n", m);
	if (g_node > 0)
		kill(g_node, SIGTERM);
	if (g_node2 > 0)
		kill(g_node2, SIGTERM);
	if (g_node3 > 0)
		kill(g_node3, SIGTERM);
	if (g_echo > 0)
		kill(g_echo, SIGKILL);
	exit(2);
}

static json_t *status(const char *path)
{
	struct sockaddr_un sa;
	char buf[65536];
	size_t len = 0;
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}\n";
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	json_t *m, *r;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return NULL;
	}
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	if (!(m = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL)))
		return NULL;
	r = json_incref(json_object_get(m, "result"));
	json_decref(m);
	return r;
}

/* One measured round of request/answer pairs with WINDOW in flight.
 * make(i, buf) builds datagram i; check(buf, n) says whether an answer
 * counts.  Returns answers per second. */
typedef size_t (*make_fn)(void *ctx, uint64_t i, uint8_t *buf);
typedef int (*check_fn)(void *ctx, const uint8_t *buf, size_t n);

static double drive_w(int fd, const struct sockaddr_in *to, make_fn make, check_fn check,
		      void *ctx, uint64_t *seq, uint64_t window);

static double drive(int fd, const struct sockaddr_in *to, make_fn make, check_fn check,
		    void *ctx, uint64_t *seq)
{
	return drive_w(fd, to, make, check, ctx, seq, WINDOW);
}

/* check returns 1 for a completed answer, 0 for a datagram that completes
 * nothing yet (a fragment), -1 for a datagram that is no answer. */
static double drive_w(int fd, const struct sockaddr_in *to, make_fn make, check_fn check,
		      void *ctx, uint64_t *seq, uint64_t window)
{
	static uint8_t buf[EC_DGRAM_MAX_BYTES];
	uint64_t answered = 0, inflight = 0;
	double t0 = now_s(), t;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while ((t = now_s()) - t0 < ROUND_S) {
		while (inflight < window) {
			size_t n = make(ctx, (*seq)++, buf);
			if (sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof *to) < 0)
				break;
			inflight++;
		}
		if (poll(&p, 1, 50) != 1) {
			inflight = 0; /* lost (buffer overflow): refill the window */
			continue;
		}
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			int done;
			if (n <= 0)
				break;
			/* one datagram is one answer, or a fragment of one */
			done = check(ctx, buf, (size_t)n);
			if (done > 0)
				answered += (uint64_t)done;
			if (done != 0 && inflight)
				inflight--;
		}
	}
	return (double)answered / (now_s() - t0);
}

/* Proves the client's address to the node (PROTOCOL 16 "Address
 * validation"): a sealed mapping request draws a challenge, which is
 * echoed; the answer held until then is drained.  Without it every answer
 * larger than its request would wait for an echo. */
static void validate_addr(int fd, const struct sockaddr_in *to, const ec_kx_keypair *kx,
			  const ec_transport_keys *keys, uint64_t ctr)
{
	static uint8_t buf[EC_DGRAM_MAX_BYTES], pt[EC_DGRAM_MAX_BYTES];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ec_mapping_req q;
	ec_dgram_hdr h;
	uint8_t *e;
	size_t len, n, ptlen;
	double t0 = now_s();
	memset(&q, 0, sizeof q);
	if (ec_mapping_req_encode(&q, &e, &len) != EC_OK ||
	    ec_dgram_seal(buf, sizeof buf, &n, keys->tx, kx->pk, ctr, e, len) != EC_OK)
		die("validate");
	free(e);
	if (sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof *to) < 0)
		die("validate: send");
	while (now_s() - t0 < 5) {
		ssize_t r;
		if (poll(&p, 1, 100) != 1 || (r = recv(fd, buf, sizeof buf, 0)) <= 0)
			continue;
		if (ec_dgram_parse(&h, buf, (size_t)r) != EC_OK || h.flags != EC_DGRAM_FLAG_VALIDATE ||
		    ec_dgram_open(pt, &ptlen, keys->rx, buf, (size_t)r) != EC_OK ||
		    ptlen != EC_VALIDATE_BYTES || pt[0] != EC_VALIDATE_CHALLENGE)
			continue;
		pt[0] = EC_VALIDATE_ECHO;
		if (ec_dgram_seal_flags(buf, sizeof buf, &n, keys->tx, kx->pk, ctr + 1,
					EC_DGRAM_FLAG_VALIDATE, pt, ptlen) != EC_OK ||
		    sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof *to) < 0)
			die("validate: echo");
		usleep(200000);
		while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
		return;
	}
	die("no address-validation challenge from ecnode");
}

typedef struct mctx {
	ec_kx_keypair kx;
	ec_transport_keys keys;
	uint8_t req_len;
	size_t last_len;
} mctx;

static size_t make_mapping(void *ctx, uint64_t i, uint8_t *buf)
{
	mctx *m = ctx;
	ec_mapping_req q;
	uint8_t enc[64];
	uint8_t *e;
	size_t len, n;
	memset(&q, 0, sizeof q);
	memcpy(q.nonce, &i, sizeof i);
	idn(&q.token, "bench/token", i);
	if (ec_mapping_req_encode(&q, &e, &len) != EC_OK || len > sizeof enc)
		die("encode");
	if (ec_dgram_seal(buf, EC_DGRAM_MAX_BYTES, &n, m->keys.tx, m->kx.pk, (1ull << 40) + i, e,
			  len) != EC_OK)
		die("seal");
	free(e);
	return n;
}

static int check_mapping(void *ctx, const uint8_t *buf, size_t n)
{
	mctx *m = ctx;
	static uint8_t pt[EC_DGRAM_MAX_BYTES];
	size_t ptlen;
	if (ec_dgram_open(pt, &ptlen, m->keys.rx, buf, n) != EC_OK)
		return 0;
	m->last_len = n;
	return ptlen > 0 && pt[0] == EC_MSG_MAPPING_RESP ? 1 : -1;
}

typedef struct ectx {
	size_t req, resp;
} ectx;

static size_t make_echo(void *ctx, uint64_t i, uint8_t *buf)
{
	ectx *e = ctx;
	memset(buf, (int)(i & 0xff), e->req);
	return e->req;
}

static int check_echo(void *ctx, const uint8_t *buf, size_t n)
{
	return n > 0;
}

/* Echoes each datagram; a 12-byte "BURS" || u32 k || u32 size request is
 * answered with k datagrams of `size` bytes (the burst baseline). */
static void echo_server(int fd)
{
	static uint8_t b[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
		if (n == 12 && !memcmp(b, "BURS", 4)) {
			uint32_t k, sz;
			memcpy(&k, b + 4, 4);
			memcpy(&sz, b + 8, 4);
			for (uint32_t i = 0; i < k && sz <= sizeof b; i++)
				(void)sendto(fd, b + 12, sz, 0, (struct sockaddr *)&from, fl);
		} else if (n > 0) {
			(void)sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
}

/* ---- the fragment path: 16-block range answers --------------------------- */

typedef struct rctx {
	ec_kx_keypair kx;
	ec_transport_keys keys;
	ec_keypair sk;      /* the client's request signing key */
	ec_id requester;    /* H_tag("ec/v1/kxpeer", kx.pk): what the node calls us */
	ec_id head;         /* the node's chain head */
	uint8_t node_kx[32];
	ec_reasm *ra;
	size_t answer_len;  /* bytes of the last complete answer */
	uint64_t dgrams, answers; /* datagrams and answers received */
	size_t max_dgram;
} rctx;

static size_t make_range(void *ctx, uint64_t i, uint8_t *buf)
{
	rctx *c = ctx;
	ec_range_req q;
	uint8_t *e;
	size_t len, n;
	memset(&q, 0, sizeof q);
	q.start = c->head;
	q.max_blocks = RANGE_BLOCKS;
	q.max_bytes = 1u << 20;
	q.priority = 1;
	q.auth.requester = c->requester;
	q.auth.timestamp = (ec_time)time(NULL) * 1000;
	memcpy(q.auth.nonce, &i, sizeof i);
	if (ec_range_req_sign(&q, c->sk.sk) != EC_OK || ec_range_req_encode(&q, &e, &len) != EC_OK)
		die("range request");
	if (ec_dgram_seal(buf, EC_DGRAM_MAX_BYTES, &n, c->keys.tx, c->kx.pk, (2ull << 40) + i, e,
			  len) != EC_OK)
		die("seal");
	free(e);
	return n;
}

static int check_range(void *ctx, const uint8_t *buf, size_t n)
{
	rctx *c = ctx;
	static uint8_t pt[EC_DGRAM_MAX_BYTES];
	size_t ptlen, ml = 0;
	uint8_t *m = NULL;
	ec_dgram_hdr h;
	int ok;
	if (ec_dgram_parse(&h, buf, n) != EC_OK || ec_dgram_open(pt, &ptlen, c->keys.rx, buf, n) != EC_OK)
		return -1;
	c->dgrams++;
	if (n > c->max_dgram)
		c->max_dgram = n;
	if (!(h.flags & EC_DGRAM_FLAG_FRAG)) {
		m = pt, ml = ptlen;
	} else if (ec_reasm_add(c->ra, h.sender, pt, ptlen, (uint64_t)(now_s() * 1000), &m, &ml) !=
			   EC_OK ||
		   !m) {
		return 0;
	}
	ok = ml > 0 && m[0] == EC_MSG_RANGE_RESP;
	if (ok) {
		c->answer_len = ml;
		c->answers++;
	}
	if (m != pt)
		free(m);
	return ok ? 1 : -1;
}

typedef struct bctx {
	uint32_t k, size; /* datagrams per answer and their size */
	uint32_t got;     /* datagrams of the current burst */
} bctx;

static size_t make_burst(void *ctx, uint64_t i, uint8_t *buf)
{
	bctx *b = ctx;
	memcpy(buf, "BURS", 4);
	memcpy(buf + 4, &b->k, 4);
	memcpy(buf + 8, &b->size, 4);
	return 12;
}

static int check_burst(void *ctx, const uint8_t *buf, size_t n)
{
	bctx *b = ctx;
	if (++b->got < b->k)
		return 0;
	b->got = 0;
	return 1;
}

/* An own chain of RANGE_BLOCKS blocks x PER_BLOCK one-token creations in
 * the node's store (before it starts), signed with its key; *head set. */
static void fill_chain(const char *data, ec_id *head)
{
	char p[160], l1[64], pid[80];
	ec_keypair kp;
	ec_id self, prev;
	ec_store *s;
	ec_store_txn *t;
	FILE *f;
	uint64_t t0 = (uint64_t)time(NULL) * 1000 - 3600 * 1000;
	snprintf(p, sizeof p, "%s/node.key", data);
	if (ec_keyfile_read(p, &kp) != EC_OK)
		die("node.key");
	snprintf(p, sizeof p, "%s/identity", data);
	if (!(f = fopen(p, "r")) || fscanf(f, "%63s %79s", l1, pid) != 2 ||
	    ec_hex_decode(self.b, 32, pid) != EC_OK)
		die("identity");
	fclose(f);
	snprintf(p, sizeof p, "%s/store", data);
	mkdir(p, 0700);
	if (ec_store_open_lmdb(&s, p, NULL) != EC_OK || ec_store_txn_begin(s, 1, &t) != EC_OK)
		die("store");
	memset(&prev, 0, sizeof prev);
	for (uint64_t h = 0; h < RANGE_BLOCKS; h++) {
		ec_tx txs[PER_BLOCK];
		ec_block b;
		memset(&b, 0, sizeof b);
		for (unsigned i = 0; i < PER_BLOCK; i++) {
			ec_tx *tx = &txs[i];
			memset(tx, 0, sizeof *tx);
			tx->timestamp = t0 + h * 1000;
			tx->n_entries = 1;
			idn(&tx->entries[0].token, "bench/rtoken", h * PER_BLOCK + i);
			idn(&tx->entries[0].next_key, "bench/rkey", h * PER_BLOCK + i);
			if (ec_tx_finalize(tx) != EC_OK)
				die("tx");
			b.txids[i] = tx->id;
		}
		b.creator = self;
		b.height = h;
		b.timestamp = t0 + h * 1000;
		b.prev = prev;
		b.n_txs = PER_BLOCK;
		ec_merkle_root(&b.merkle_root, b.txids, PER_BLOCK);
		idn(&b.proof_hash, "bench/rproof", h);
		if (ec_block_sign(&b, kp.sk) != EC_OK ||
		    ec_store_put_own_block(t, &b, NULL, 0, txs) != EC_OK)
			die("block");
		prev = b.id;
	}
	if (ec_store_txn_commit(t) != EC_OK)
		die("store commit");
	ec_store_close(s);
	ec_keypair_wipe(&kp);
	*head = prev;
}

/* Starts ecnode on data with extra flags; returns its pid, fills *to. */
static pid_t start_node(const char *build, const char *data, const char *dmax,
			struct sockaddr_in *to, uint8_t node_kx[32])
{
	char bin[160], sock[120];
	json_t *st = NULL;
	pid_t pid;
	snprintf(sock, sizeof sock, "%s/ecnode.sock", data);
	if ((pid = fork()) == 0) {
		snprintf(bin, sizeof bin, "%s/ecnode", build);
		freopen("/dev/null", "w", stderr);
		execl(bin, "ecnode", "--data", data, "--pow", "test", "--listen", "127.0.0.1:0",
		      "--rate-limit", "off", "--log-level", "error", "--datagram-max", dmax,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !(st = status(sock)); i++)
		usleep(100000);
	if (!st)
		die("ecnode (range) did not start");
	char host[64];
	unsigned port;
	if (sscanf(json_string_value(json_object_get(st, "listen")), "%63[^:]:%u", host, &port) !=
	    2)
		die("listen");
	memset(to, 0, sizeof *to);
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &to->sin_addr);
	ec_hex_decode(node_kx, 32, json_string_value(json_object_get(st, "kx_pk")));
	json_decref(st);
	return pid;
}

static double sign_rate(void)
{
	ec_keypair kp;
	uint8_t seed[32] = {9}, msg[42] = {1}, sig[64];
	uint64_t n = 0;
	double t0 = now_s();
	ec_keypair_from_seed(&kp, seed);
	while (now_s() - t0 < ROUND_S / 2) {
		for (int i = 0; i < 64; i++) {
			msg[0] = (uint8_t)n++;
			ec_sign_raw(sig, msg, sizeof msg, kp.sk);
		}
	}
	return (double)n / (now_s() - t0);
}

int main(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char cmd[512], sock[96], data[80];
	json_t *st = NULL;
	mctx m;
	ectx e;
	struct sockaddr_in node, echo;
	int fd, efd;
	uint64_t seq = 0;
	double best_map = 0, best_echo = 0, best_sign = 0;
	if (ec_crypto_init() != EC_OK)
		die("crypto");
	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof g_dir, "/tmp/ec-bdaemon-XXXXXX");
	if (!mkdtemp(g_dir))
		die("mkdtemp");
	snprintf(data, sizeof data, "%s/d", g_dir);
	snprintf(sock, sizeof sock, "%s/ecnode.sock", data);
	snprintf(cmd, sizeof cmd, "%s/ecnode --init --data %s --pow test >/dev/null 2>&1", build,
		 data);
	if (system(cmd) != 0)
		die("ecnode --init (build ecnode first)");
	if ((g_node = fork()) == 0) {
		char bin[160];
		snprintf(bin, sizeof bin, "%s/ecnode", build);
		freopen("/dev/null", "w", stderr);
		execl(bin, "ecnode", "--data", data, "--pow", "test", "--listen", "127.0.0.1:0",
		      "--rate-limit", "off", "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !(st = status(sock)); i++)
		usleep(100000);
	if (!st)
		die("ecnode did not start");
	{
		char host[64];
		unsigned port;
		if (sscanf(json_string_value(json_object_get(st, "listen")), "%63[^:]:%u", host,
			   &port) != 2)
			die("listen");
		memset(&node, 0, sizeof node);
		node.sin_family = AF_INET;
		node.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &node.sin_addr);
		uint8_t nkx[32];
		ec_hex_decode(nkx, 32, json_string_value(json_object_get(st, "kx_pk")));
		ec_kx_keypair_generate(&m.kx);
		ec_transport_derive(&m.keys, &m.kx, nkx, 1);
	}
	json_decref(st);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	efd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&echo, 0, sizeof echo);
	echo.sin_family = AF_INET;
	echo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(efd, (struct sockaddr *)&echo, sizeof echo) != 0)
		die("bind echo");
	{
		socklen_t l = sizeof echo;
		getsockname(efd, (struct sockaddr *)&echo, &l);
	}
	if ((g_echo = fork()) == 0)
		echo_server(efd);
	close(efd);
	/* warm-up and the answer size for the echo baseline */
	validate_addr(fd, &node, &m.kx, &m.keys, 1);
	m.last_len = 0;
	drive(fd, &node, make_mapping, check_mapping, &m, &seq);
	if (!m.last_len)
		die("no mapping answers from ecnode");
	{
		uint8_t tmp[EC_DGRAM_MAX_BYTES];
		e.req = make_mapping(&m, 0, tmp);
		e.resp = m.last_len;
	}
	/* the fragment path: two nodes over copies of one filled data dir */
	rctx rc[2];
	bctx bfrag, bone;
	struct sockaddr_in rnode[2];
	int rfd = socket(AF_INET, SOCK_DGRAM, 0);
	double best_rng[2] = {0, 0}, best_bfrag = 0, best_bone = 0;
	{
		char r1[96], r2[96];
		ec_id head;
		int sz = 8 << 20;
		ec_reasm_cfg rcf;
		snprintf(r1, sizeof r1, "%s/r1", g_dir);
		snprintf(r2, sizeof r2, "%s/r2", g_dir);
		snprintf(cmd, sizeof cmd, "%s/ecnode --init --data %s --pow test >/dev/null 2>&1",
			 build, r1);
		if (system(cmd) != 0)
			die("ecnode --init (range)");
		fill_chain(r1, &head);
		snprintf(cmd, sizeof cmd, "cp -a %s %s", r1, r2);
		if (system(cmd) != 0)
			die("cp");
		(void)setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		g_node2 = start_node(build, r1, "1232", &rnode[0], rc[0].node_kx);
		g_node3 = start_node(build, r2, "65507", &rnode[1], rc[1].node_kx);
		ec_reasm_cfg_default(&rcf);
		for (int k = 0; k < 2; k++) {
			memset(&rc[k].ra, 0, sizeof rc[k] - offsetof(rctx, ra));
			ec_kx_keypair_generate(&rc[k].kx);
			ec_transport_derive(&rc[k].keys, &rc[k].kx, rc[k].node_kx, 1);
			ec_keypair_generate(&rc[k].sk);
			ec_hash(&rc[k].requester, "ec/v1/kxpeer", rc[k].kx.pk, 32);
			rc[k].head = head;
			if (ec_reasm_new(&rc[k].ra, &rcf) != EC_OK)
				die("reasm");
			validate_addr(rfd, &rnode[k], &rc[k].kx, &rc[k].keys, 1);
			drive_w(rfd, &rnode[k], make_range, check_range, &rc[k], &seq, RANGE_WINDOW);
			if (!rc[k].answers)
				die("no range answers from ecnode");
		}
		bfrag.k = (uint32_t)ec_frag_count(rc[0].answer_len, 1232 - EC_DGRAM_OVERHEAD);
		bfrag.size = (uint32_t)((rc[0].answer_len + bfrag.k * (EC_FRAG_HEADER_BYTES +
									 EC_DGRAM_OVERHEAD)) /
					bfrag.k);
		bfrag.got = 0;
		bone.k = 1;
		bone.size = (uint32_t)(rc[1].answer_len + EC_DGRAM_OVERHEAD);
		bone.got = 0;
	}
	for (int r = 0; r < REPS; r++) {
		double x;
		for (int k = 0; k < 2; k++)
			if ((x = drive_w(rfd, &rnode[k], make_range, check_range, &rc[k], &seq,
					 RANGE_WINDOW)) > best_rng[k])
				best_rng[k] = x;
		bfrag.got = 0;
		if ((x = drive_w(rfd, &echo, make_burst, check_burst, &bfrag, &seq,
				 RANGE_WINDOW)) > best_bfrag)
			best_bfrag = x;
		bone.got = 0;
		if ((x = drive_w(rfd, &echo, make_burst, check_burst, &bone, &seq, RANGE_WINDOW)) >
		    best_bone)
			best_bone = x;
	}
	kill(g_node2, SIGTERM);
	waitpid(g_node2, NULL, 0);
	kill(g_node3, SIGTERM);
	waitpid(g_node3, NULL, 0);
	g_node2 = g_node3 = 0;
	for (int r = 0; r < REPS; r++) {
		double a = drive(fd, &node, make_mapping, check_mapping, &m, &seq);
		double b = drive(fd, &echo, make_echo, check_echo, &e, &seq);
		double c = sign_rate();
		if (a > best_map)
			best_map = a;
		if (b > best_echo)
			best_echo = b;
		if (c > best_sign)
			best_sign = c;
	}
	kill(g_echo, SIGKILL);
	waitpid(g_echo, NULL, 0);
	kill(g_node, SIGTERM);
	waitpid(g_node, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
	(void)system(cmd);
	printf("ecnode over loopback UDP, %d requests in flight, best of %d rounds of %.1f s\n",
	       WINDOW, REPS, ROUND_S);
	printf("  request datagram %zu B, answer datagram %zu B (signed \"no mapping\" response)\n",
	       e.req, e.resp);
	printf("  %-44s %12.0f /s\n", "signed mapping responses served (ecnode)", best_map);
	printf("  %-44s %12.0f /s\n", "raw UDP echo (same size, same client loop)", best_echo);
	printf("  %-44s %12.0f /s\n", "raw Ed25519 signatures (one core)", best_sign);
	printf("  ratio mapping / UDP echo      %6.3f\n", best_map / best_echo);
	printf("  ratio mapping / Ed25519 sign  %6.3f\n", best_map / best_sign);
	printf("range answers of %d blocks x %d txs (no proofs, %zu B signed), %d in flight\n",
	       RANGE_BLOCKS, PER_BLOCK, rc[0].answer_len, RANGE_WINDOW);
	printf("  %-44s %12.0f /s  (%u datagrams of <= %zu B)\n",
	       "fragmented, --datagram-max 1232 (ecnode)", best_rng[0], bfrag.k, rc[0].max_dgram);
	printf("  %-44s %12.0f /s  (1 datagram of %zu B)\n",
	       "one datagram, --datagram-max 65507 (ecnode)", best_rng[1], rc[1].max_dgram);
	printf("  %-44s %12.0f /s\n", "raw UDP burst echo, same datagrams", best_bfrag);
	printf("  %-44s %12.0f /s\n", "raw UDP echo, same bytes in one datagram", best_bone);
	printf("  ratio fragmented / raw burst echo      %6.3f\n", best_rng[0] / best_bfrag);
	printf("  ratio one datagram / raw echo          %6.3f\n", best_rng[1] / best_bone);
	printf("  ratio fragmented / one datagram        %6.3f  (the fragment path's cost)\n",
	       best_rng[0] / best_rng[1]);
	return 0;
}
