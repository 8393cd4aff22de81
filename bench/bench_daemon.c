/* bench_daemon.c - signed token-mapping responses served per second by a
 * real ecnode process over loopback UDP (encrypted datagrams, PROTOCOL 16),
 * against two raw baselines measured in the same run:
 *   - raw UDP echo: a forked process echoing datagrams of the same size on
 *     loopback, driven by the same client loop (same window);
 *   - raw Ed25519 signing: ec_sign_raw over the 42 bytes a protocol
 *     signature signs, in this process.
 * The client keeps WINDOW requests in flight from one socket with its own
 * X25519 key (an unknown client to the node), sealing requests and opening
 * the answers (it does not verify their signatures: that would measure the
 * client, which shares the machine's 2 cores with the node).  The node runs with --rate-limit off
 * (the limits exist to refuse exactly this load) and an empty store, so
 * each answer is a signed "no mapping held" response: lookup miss, build,
 * sign, encode, seal.  Rounds are interleaved (the machine is shared); the
 * best round of each is kept.  Needs $BUILD/ecnode (BUILD, default build). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/transport.h"
#include "ec/wire.h"
#include "bench_util.h"

#define WINDOW 32
#define ROUND_S 1.5
#define REPS 3

static char g_dir[64];
static pid_t g_node, g_echo;

static void die(const char *m)
{
	fprintf(stderr, "bench_daemon: %s\n", m);
	if (g_node > 0)
		kill(g_node, SIGTERM);
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

static double drive(int fd, const struct sockaddr_in *to, make_fn make, check_fn check,
		    void *ctx, uint64_t *seq)
{
	static uint8_t buf[EC_DGRAM_MAX_BYTES];
	uint64_t answered = 0, inflight = 0;
	double t0 = now_s(), t;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while ((t = now_s()) - t0 < ROUND_S) {
		while (inflight < WINDOW) {
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
			if (n <= 0)
				break;
			if (check(ctx, buf, (size_t)n))
				answered++;
			if (inflight)
				inflight--;
		}
	}
	return (double)answered / (now_s() - t0);
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
	return ptlen > 0 && pt[0] == EC_MSG_MAPPING_RESP;
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

static void echo_server(int fd)
{
	static uint8_t b[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			(void)sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
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
	m.last_len = 0;
	drive(fd, &node, make_mapping, check_mapping, &m, &seq);
	if (!m.last_len)
		die("no mapping answers from ecnode");
	{
		uint8_t tmp[EC_DGRAM_MAX_BYTES];
		e.req = make_mapping(&m, 0, tmp);
		e.resp = m.last_len;
	}
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
	return 0;
}
