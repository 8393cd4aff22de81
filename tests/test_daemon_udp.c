/* test_daemon_udp.c - a real ecnode process (build/ecnode, $BUILD) under
 * hostile datagrams on loopback (issue 7): random bytes, truncated,
 * replayed, wrongly keyed (another network id, another receiver's key,
 * a forged sender key) and bit-flipped datagrams are dropped before
 * parsing and counted in the status RPC, exactly; a well-formed encrypted
 * mapping request is answered before and after, so the node keeps serving.
 * The client side uses libec's transport (transport.h) with its own
 * X25519 key, as any unknown client would.  Fragments (PROTOCOL 16
 * "Fragments"): a request sent as fragments, in order and reversed, is
 * answered; duplicate, inconsistent, malformed and forged fragments are
 * dropped and counted; a flood of first fragments stays within the
 * per-sender bound and times out (the node runs with --reassembly-timeout
 * 1000).  Malformed fragment headers (count 0 and 1, index >= count, total
 * 0 and over the limit, overlapping chunks, count or total disagreeing
 * within a message, duplicates), each from a fresh transport key, sent to
 * one daemon of a three-node network: counted, and the node stays alive,
 * answers `ecctl status` and commits a transaction. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "ec/transport.h"
#include "ec/wire.h"
#include "testutil.h"

static char dir[64], sock[96];
static pid_t child;
static const char *build;

static json_t *rpc(const char *method)
{
	struct sockaddr_un sa;
	char req[256], buf[65536];
	size_t len = 0;
	json_t *msg, *res;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return NULL;
	}
	int n = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}\n", method);
	assert_int_equal(write(fd, req, (size_t)n), n);
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	msg = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
	if (!msg)
		return NULL;
	res = json_incref(json_object_get(msg, "result"));
	json_decref(msg);
	return res;
}

/* Sends raw text to the RPC socket and returns the error code of the
 * JSON-RPC answer (0 when it was a result). */
static long long rpc_raw(const char *text)
{
	struct sockaddr_un sa;
	char buf[4096];
	size_t len = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	json_t *msg;
	long long code = 0;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	msg = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(msg);
	if (json_object_get(msg, "error"))
		code = json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
	json_decref(msg);
	return code;
}

static long long tstat(const char *k)
{
	json_t *s = rpc("status");
	long long v;
	assert_non_null(s);
	v = json_integer_value(json_object_get(json_object_get(s, "transport"), k));
	json_decref(s);
	return v;
}

static long long nstat(const char *k)
{
	json_t *s = rpc("status");
	long long v;
	assert_non_null(s);
	v = json_integer_value(json_object_get(json_object_get(s, "node"), k));
	json_decref(s);
	return v;
}

static int setup(void **state)
{
	char cmd[512];
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	snprintf(dir, sizeof dir, "/tmp/ec-dudp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/d/ecnode.sock", dir);
	snprintf(cmd, sizeof cmd, "%s/ecnode --init --data %s/d --pow test --network 5 >/dev/null 2>&1",
		 build, dir);
	assert_int_equal(system(cmd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char data[128], logp[128];
		snprintf(data, sizeof data, "%s/d", dir);
		snprintf(logp, sizeof logp, "%s/log", dir);
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		snprintf(cmd, sizeof cmd, "%s/ecnode", build);
		execl(cmd, "ecnode", "--data", data, "--pow", "test", "--network", "5", "--listen",
		      "127.0.0.1:0", "--rate-limit", "off", "--reassembly-timeout", "1000",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		json_t *s = rpc("status");
		if (s) {
			json_decref(s);
			return 0;
		}
		usleep(100000);
	}
	fail_msg("ecnode did not start");
	return 0;
}

static int teardown(void **state)
{
	int st = 0;
	char cmd[160];
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, &st, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	(void)system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* clean stop */
	return 0;
}

typedef struct client {
	int fd;
	struct sockaddr_in node;
	ec_kx_keypair kx;
	ec_transport_keys keys;
	uint8_t node_kx[32];
	uint64_t net;
	uint64_t ctr;
} client;

static void client_init(client *c)
{
	json_t *s = rpc("status");
	const char *listen, *kx;
	char host[64];
	unsigned port;
	assert_non_null(s);
	listen = json_string_value(json_object_get(s, "listen"));
	kx = json_string_value(json_object_get(s, "kx_pk"));
	c->net = (uint64_t)json_integer_value(json_object_get(s, "network"));
	assert_int_equal(sscanf(listen, "%63[^:]:%u", host, &port), 2);
	assert_int_equal(ec_hex_decode(c->node_kx, 32, kx), EC_OK);
	json_decref(s);
	memset(&c->node, 0, sizeof c->node);
	c->node.sin_family = AF_INET;
	c->node.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &c->node.sin_addr);
	c->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(ec_kx_keypair_generate(&c->kx), EC_OK);
	assert_int_equal(ec_transport_derive(&c->keys, &c->kx, c->node_kx, c->net), EC_OK);
	c->ctr = 1u << 20; /* so that counter 1 is behind the replay window */
}

/* A new transport key for the client: to the node, a stranger it has
 * never heard of (no hello, no identity). */
static void client_new_key(client *c)
{
	assert_int_equal(ec_kx_keypair_generate(&c->kx), EC_OK);
	assert_int_equal(ec_transport_derive(&c->keys, &c->kx, c->node_kx, c->net), EC_OK);
	c->ctr = 1;
}

static void send_raw(client *c, const uint8_t *d, size_t n)
{
	assert_int_equal(sendto(c->fd, d, n, 0, (struct sockaddr *)&c->node, sizeof c->node),
			 (ssize_t)n);
}

/* A sealed mapping request for token 32x07. */
static size_t mapping_dgram(client *c, uint8_t *d, size_t cap, const uint8_t key[32],
			    const uint8_t sender[32], uint64_t ctr, uint8_t nonce_byte)
{
	ec_mapping_req q;
	uint8_t *enc;
	size_t len, n;
	memset(&q, 0, sizeof q);
	memset(q.nonce, nonce_byte, sizeof q.nonce);
	memset(q.token.b, 7, 32);
	assert_int_equal(ec_mapping_req_encode(&q, &enc, &len), EC_OK);
	assert_int_equal(ec_dgram_seal(d, cap, &n, key, sender, ctr, enc, len), EC_OK);
	free(enc);
	return n;
}

/* Waits up to ms for a datagram; returns 1 and checks it is a mapping
 * response with our nonce, 0 on timeout.  The node's address-validation
 * challenge (PROTOCOL 16) is echoed on the way, as any client's transport
 * does. */
static int expect_answer(client *c, uint8_t nonce_byte, int ms)
{
	uint8_t buf[EC_DGRAM_MAX_BYTES], pt[EC_DGRAM_MAX_BYTES];
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	ec_dgram_hdr h;
	size_t ptlen;
	ssize_t n;
again:
	if (poll(&p, 1, ms) != 1)
		return 0;
	n = recv(c->fd, buf, sizeof buf, 0);
	assert_true(n > 0);
	assert_int_equal(ec_dgram_parse(&h, buf, (size_t)n), EC_OK);
	assert_memory_equal(h.sender, c->node_kx, 32);
	assert_int_equal(ec_dgram_open(pt, &ptlen, c->keys.rx, buf, (size_t)n), EC_OK);
	if (h.flags == EC_DGRAM_FLAG_VALIDATE) {
		assert_int_equal(pt[0], EC_VALIDATE_CHALLENGE);
		pt[0] = EC_VALIDATE_ECHO;
		assert_int_equal(ec_dgram_seal_flags(buf, sizeof buf, &ptlen, c->keys.tx, c->kx.pk,
						     c->ctr++, EC_DGRAM_FLAG_VALIDATE, pt,
						     EC_VALIDATE_BYTES),
				 EC_OK);
		send_raw(c, buf, ptlen);
		goto again;
	}
	ec_mapping_resp m;
	assert_int_equal(ec_mapping_resp_decode(&m, pt, ptlen), EC_OK);
	assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
	for (int i = 0; i < EC_NONCE_BYTES; i++)
		assert_int_equal(m.nonce[i], nonce_byte);
	return 1;
}

/* Let the node read everything sent so far: a served request after the
 * junk is answered only after the junk was processed (one socket, FIFO). */
static void barrier(client *c, uint8_t nonce_byte)
{
	uint8_t d[256];
	size_t n = mapping_dgram(c, d, sizeof d, c->keys.tx, c->kx.pk, c->ctr++, nonce_byte);
	send_raw(c, d, n);
	assert_true(expect_answer(c, nonce_byte, 3000));
}

static void test_hostile_datagrams(void **state)
{
	client c;
	uint8_t d[EC_DGRAM_MAX_BYTES], keep[256];
	size_t n, keep_n;
	uint64_t rs = 77;
	long long mal0, auth0, rep0, stale0;
	client_init(&c);
	/* served: an encrypted mapping request from an unknown client */
	keep_n = mapping_dgram(&c, keep, sizeof keep, c.keys.tx, c.kx.pk, c.ctr++, 0x11);
	send_raw(&c, keep, keep_n);
	assert_true(expect_answer(&c, 0x11, 3000));
	mal0 = tstat("dropped_malformed");
	auth0 = tstat("dropped_auth");
	rep0 = tstat("dropped_replayed");
	stale0 = tstat("dropped_stale");

	/* 40 random datagrams of random lengths (1..2000), first byte forced to
	 * something other than version 1 half of the time: each is either
	 * malformed (header) or fails authentication */
	int n_rand = 40;
	for (int i = 0; i < n_rand; i++) {
		size_t len = 1 + tu_rand_u64(&rs) % 2000;
		tu_rand_bytes(&rs, d, len);
		if (i % 2 == 0 && len >= 2) {
			d[0] = 1;
			d[1] = 0;
		}
		send_raw(&c, d, len);
	}
	/* 10 truncations of a valid datagram */
	for (int i = 0; i < 10; i++) {
		n = mapping_dgram(&c, d, sizeof d, c.keys.tx, c.kx.pk, c.ctr++, 0x22);
		send_raw(&c, d, (size_t)i * 9 + 1 < n ? (size_t)i * 9 + 1 : n - 1);
	}
	barrier(&c, 0x31);
	long long mal = tstat("dropped_malformed") - mal0, auth = tstat("dropped_auth") - auth0;
	/* every junk datagram counted exactly once, in one of the two */
	assert_int_equal(mal + auth, n_rand + 10);
	/* truncations below 58 bytes are malformed: i*9+1 < 58 for i <= 6 */
	assert_true(mal >= 7);

	/* replays: the first served datagram again, 5 times -> no answers */
	for (int i = 0; i < 5; i++)
		send_raw(&c, keep, keep_n);
	barrier(&c, 0x32);
	assert_int_equal(tstat("dropped_replayed") - rep0, 5);

	/* wrongly keyed: another network id; keys for another receiver; the
	 * right key but a forged sender key in the header; bit flips */
	auth0 = tstat("dropped_auth");
	{
		ec_transport_keys wrong;
		ec_kx_keypair other;
		assert_int_equal(ec_transport_derive(&wrong, &c.kx, c.node_kx, 6), EC_OK);
		n = mapping_dgram(&c, d, sizeof d, wrong.tx, c.kx.pk, c.ctr++, 0x41);
		send_raw(&c, d, n);
		assert_int_equal(ec_kx_keypair_generate(&other), EC_OK);
		assert_int_equal(ec_transport_derive(&wrong, &c.kx, other.pk, 5), EC_OK);
		n = mapping_dgram(&c, d, sizeof d, wrong.tx, c.kx.pk, c.ctr++, 0x42);
		send_raw(&c, d, n);
		n = mapping_dgram(&c, d, sizeof d, c.keys.tx, other.pk, c.ctr++, 0x43);
		send_raw(&c, d, n);
		for (int i = 0; i < 5; i++) {
			n = mapping_dgram(&c, d, sizeof d, c.keys.tx, c.kx.pk, c.ctr++, 0x44);
			d[10 + 32 + (size_t)i * 7] ^= 0x20;
			send_raw(&c, d, n);
		}
	}
	barrier(&c, 0x33);
	assert_int_equal(tstat("dropped_auth") - auth0, 8);
	/* a counter that fell behind the replay window */
	stale0 = tstat("dropped_stale");
	n = mapping_dgram(&c, d, sizeof d, c.keys.tx, c.kx.pk, 1, 0x51);
	send_raw(&c, d, n);
	barrier(&c, 0x34);
	assert_int_equal(tstat("dropped_stale") - stale0, 1);
	/* nothing of it reached the protocol core's decoders */
	assert_int_equal(nstat("dropped_malformed"), 0);
	assert_int_equal(nstat("dropped_bad_sig"), 0);
	/* and the node still serves, and its RPC answers malformed input */
	barrier(&c, 0x35);
	assert_int_equal(rpc_raw("this is not json\n"), -32700);
	assert_int_equal(rpc_raw("{\"jsonrpc\":\"2.0\",\"id\":3}\n"), -32600);
	assert_int_equal(rpc_raw("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}\n"), -32601);
	assert_int_equal(rpc_raw("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"get_tx\",\"params\":{\"txid\":5}}\n"),
			 -32602);
	assert_int_equal(rpc_raw("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"submit_tx\",\"params\":{\"tx\":\"0102\"}}\n"),
			 -32602);
	assert_int_equal(rpc_raw("[1,2,3]\n"), -32600);
	assert_int_equal(rpc_raw("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"status\"}\n"), 0);
	close(c.fd);
}

/* Sends fragment `index` of `count` of msg under msg_id (total = len). */
static void send_frag(client *c, uint64_t id, const uint8_t *msg, size_t len, uint16_t index,
		      uint16_t count)
{
	uint8_t f[2048], d[2200];
	size_t fl, n;
	assert_int_equal(ec_frag_make(f, sizeof f, &fl, id, msg, len, index, count), EC_OK);
	assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c->keys.tx, c->kx.pk, c->ctr++,
					     EC_DGRAM_FLAG_FRAG, f, fl),
			 EC_OK);
	send_raw(c, d, n);
}

static size_t mapping_msg(uint8_t *out, uint8_t nonce_byte)
{
	ec_mapping_req q;
	uint8_t *enc;
	size_t len;
	memset(&q, 0, sizeof q);
	memset(q.nonce, nonce_byte, sizeof q.nonce);
	memset(q.token.b, 7, 32);
	assert_int_equal(ec_mapping_req_encode(&q, &enc, &len), EC_OK);
	memcpy(out, enc, len);
	free(enc);
	return len;
}

static void test_hostile_fragments(void **state)
{
	client c;
	uint8_t m[256], big[200000] = {0}, d[2200];
	size_t len, n;
	long long auth0;
	client_init(&c);
	/* a mapping request in 3 fragments, in order: answered */
	len = mapping_msg(m, 0x61);
	for (uint16_t i = 0; i < 3; i++)
		send_frag(&c, 1000, m, len, i, 3);
	assert_true(expect_answer(&c, 0x61, 3000));
	/* reversed, with fragment 1 sent twice (a duplicate under a new
	 * counter: the replay window passes it, reassembly drops it) */
	len = mapping_msg(m, 0x62);
	send_frag(&c, 2000, m, len, 2, 3);
	send_frag(&c, 2000, m, len, 1, 3);
	send_frag(&c, 2000, m, len, 1, 3);
	send_frag(&c, 2000, m, len, 0, 3);
	assert_true(expect_answer(&c, 0x62, 3000));
	assert_int_equal(tstat("frag_msgs_rx"), 2);
	assert_int_equal(tstat("frag_dgrams_rx"), 7);
	assert_int_equal(tstat("frag_duplicate"), 1);
	/* inconsistent: the same msg_id with another total: dropped, no answer */
	len = mapping_msg(m, 0x63);
	send_frag(&c, 3000, m, len, 0, 2);
	send_frag(&c, 3000, m, len + 1, 1, 2);
	/* malformed: a chunk one byte short of the rule */
	{
		uint8_t f[256];
		size_t fl;
		assert_int_equal(ec_frag_make(f, sizeof f, &fl, 4000, m, len, 0, 2), EC_OK);
		assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c.keys.tx, c.kx.pk, c.ctr++,
						     EC_DGRAM_FLAG_FRAG, f, fl - 1),
				 EC_OK);
		send_raw(&c, d, n);
	}
	/* forged: a fragment with a flipped ciphertext byte, and one whose
	 * flag was cleared in transit (the header is authenticated) */
	auth0 = tstat("dropped_auth");
	{
		uint8_t f[256];
		size_t fl;
		assert_int_equal(ec_frag_make(f, sizeof f, &fl, 5000, m, len, 0, 2), EC_OK);
		assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c.keys.tx, c.kx.pk, c.ctr++,
						     EC_DGRAM_FLAG_FRAG, f, fl),
				 EC_OK);
		d[EC_DGRAM_HEADER_BYTES + 5] ^= 1;
		send_raw(&c, d, n);
		assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c.keys.tx, c.kx.pk, c.ctr++,
						     EC_DGRAM_FLAG_FRAG, f, fl),
				 EC_OK);
		d[1] = 0;
		send_raw(&c, d, n);
	}
	barrier(&c, 0x64);
	assert_int_equal(tstat("frag_inconsistent"), 1);
	assert_int_equal(tstat("frag_malformed"), 1);
	assert_int_equal(tstat("dropped_auth") - auth0, 2);
	assert_int_equal(tstat("frag_msgs_rx"), 2);
	/* a flood of 100 first fragments of 200,000-byte messages: at most 4
	 * partial messages of this sender held (4 x 262,144 bytes allowed) */
	for (uint64_t i = 0; i < 100; i++)
		send_frag(&c, 10000 + i, big, sizeof big, 0, (uint16_t)ec_frag_count(sizeof big, 1174));
	barrier(&c, 0x65);
	assert_true(tstat("frag_held_msgs") <= 4);
	assert_true(tstat("frag_held_bytes") <= 4 * 262144);
	assert_true(tstat("frag_evicted") >= 96);
	/* everything held times out (--reassembly-timeout 1000; the daemon
	 * expires every 250 ms) */
	usleep(1600 * 1000);
	assert_int_equal(tstat("frag_held_msgs"), 0);
	assert_int_equal(tstat("frag_held_bytes"), 0);
	assert_true(tstat("frag_timed_out") >= 1);
	/* nothing broken reached the core; the node still serves */
	assert_int_equal(nstat("dropped_malformed"), 0);
	barrier(&c, 0x66);
	close(c.fd);
}

/* ---- malformed fragment headers against a network that commits -------------
 *
 * Three daemons (scripts/ecnet.sh, ephemeral ports); node 0 gets one
 * fragment header of each malformed kind, each case from a freshly
 * generated transport key (no hello): count 0, count 1, index >= count,
 * total 0, total over --message-max and 2^32-1, a chunk overlapping the
 * next one, a fragment whose count or total disagrees with the earlier
 * fragment of its message, a duplicate.  Each is counted (frag_malformed,
 * frag_inconsistent, frag_duplicate) and nothing else happens: node 0 is
 * alive, `ecctl status` answers, and a transaction submitted to it commits. */

static char net_dir[64];

static int net_sh(const char *fn)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "BUILD='%s' sh -c '. scripts/ecnet.sh; ECNET_DIR=%s/net; %s' >>%s/sh.log 2>&1",
		 build, net_dir, fn, net_dir);
	return system(cmd);
}

static int setup_net(void **state)
{
	char cmd[256];
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	snprintf(net_dir, sizeof net_dir, "/tmp/ec-dfhdr-XXXXXX");
	assert_non_null(mkdtemp(net_dir));
	snprintf(sock, sizeof sock, "%s/net/n0/ecnode.sock", net_dir);
	snprintf(cmd, sizeof cmd,
		 "ecnet_init %s/net 3 0 && ecnet_start_all 3 && ecnet_wait_peers 3", net_dir);
	assert_int_equal(net_sh(cmd), 0);
	return 0;
}

static int teardown_net(void **state)
{
	char cmd[160];
	(void)net_sh("ecnet_stop_all");
	snprintf(cmd, sizeof cmd, "rm -rf %s", net_dir);
	(void)system(cmd);
	return 0;
}

/* Seals one fragment plaintext with the given header fields and a chunk
 * of `len` bytes of `fill`, from the client's current key. */
static void send_frag_hdr(client *c, uint64_t id, uint16_t index, uint16_t count,
			  uint32_t total, size_t len, uint8_t fill)
{
	uint8_t f[EC_FRAG_HEADER_BYTES + 512], d[EC_FRAG_HEADER_BYTES + 512 + EC_DGRAM_OVERHEAD];
	size_t n;
	assert_true(len <= 512);
	(void)tu_frag_raw(f, id, index, count, total, len, fill);
	assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c->keys.tx, c->kx.pk, c->ctr++,
					     EC_DGRAM_FLAG_FRAG, f, EC_FRAG_HEADER_BYTES + len),
			 EC_OK);
	send_raw(c, d, n);
}

/* The node process recorded in DIR/nI.pid is running. */
static int node_alive(int i)
{
	char p[128];
	long pid = 0;
	FILE *f;
	snprintf(p, sizeof p, "%s/net/n%d.pid", net_dir, i);
	if (!(f = fopen(p, "r")))
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && kill((pid_t)pid, 0) == 0;
}

/* Runs an ecctl command against node 0 and returns its exit status; its
 * standard output is appended to net_dir/out. */
static int ctl(const char *args)
{
	char cmd[512];
	int st;
	snprintf(cmd, sizeof cmd, "%s/ecctl %s --rpc %s >%s/out 2>>%s/sh.log", build, args, sock,
		 net_dir, net_dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* First "key": "value" string in net_dir/out, into v. */
static int out_field(const char *key, char *v, size_t cap)
{
	char p[128], buf[4096];
	size_t n;
	json_t *j;
	FILE *f;
	int ok = 0;
	snprintf(p, sizeof p, "%s/out", net_dir);
	if (!(f = fopen(p, "r")))
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	if ((j = json_loads(buf, 0, NULL))) {
		const char *s = json_string_value(json_object_get(j, key));
		if (s && strlen(s) < cap) {
			strcpy(v, s);
			ok = 1;
		}
		json_decref(j);
	}
	return ok;
}

static void test_malformed_frag_headers(void **state)
{
	client c;
	long long mal0, inc0, dup0, mal, inc, dup;
	char txid[80] = "", st[32] = "", args[256];
	int k;
	client_init(&c);
	assert_int_equal(c.net, 42); /* scripts/ecnet.sh */
	mal0 = tstat("frag_malformed");
	inc0 = tstat("frag_inconsistent");
	dup0 = tstat("frag_duplicate");
	/* count 0 (the divisor of the chunk rule), with any index and total */
	client_new_key(&c);
	send_frag_hdr(&c, 1, 0, 0, 100, 50, 0xa1);
	client_new_key(&c);
	send_frag_hdr(&c, 2, 65535, 0, 262144, 1, 0xa2);
	/* count 1: a message that fits one datagram is never fragmented */
	client_new_key(&c);
	send_frag_hdr(&c, 3, 0, 1, 100, 100, 0xa3);
	/* index >= count */
	client_new_key(&c);
	send_frag_hdr(&c, 4, 2, 2, 100, 50, 0xa4);
	client_new_key(&c);
	send_frag_hdr(&c, 5, 65535, 3, 300, 100, 0xa5);
	/* total 0 */
	client_new_key(&c);
	send_frag_hdr(&c, 6, 0, 2, 0, 0, 0xa6);
	/* total over --message-max (262,144), and the largest u32 */
	client_new_key(&c);
	send_frag_hdr(&c, 7, 0, 2, 262145, 1, 0xa7);
	client_new_key(&c);
	send_frag_hdr(&c, 8, 0, 65535, 0xffffffffu, 1, 0xa8);
	/* a chunk overlapping the next one: fragment 0 of 3 (bytes 0..100 of
	 * 300) carrying 150 bytes */
	client_new_key(&c);
	send_frag_hdr(&c, 9, 0, 3, 300, 150, 0xa9);
	/* count disagreeing with the earlier fragment of the message (its
	 * chunk would overlap the held ones) */
	client_new_key(&c);
	send_frag_hdr(&c, 10, 0, 3, 300, 100, 0xb0);
	send_frag_hdr(&c, 10, 1, 2, 300, 150, 0xb1);
	/* total disagreeing */
	client_new_key(&c);
	send_frag_hdr(&c, 11, 0, 2, 100, 50, 0xb2);
	send_frag_hdr(&c, 11, 1, 2, 102, 51, 0xb3);
	/* a duplicate (under a new counter: the replay window passes it) */
	client_new_key(&c);
	send_frag_hdr(&c, 12, 0, 2, 100, 50, 0xb4);
	send_frag_hdr(&c, 12, 0, 2, 100, 50, 0xb5);
	/* every one counted (the datagrams are read in order, so the counts
	 * reach these values and stay there) */
	for (k = 0; k < 100; k++) {
		assert_true(node_alive(0));
		mal = tstat("frag_malformed") - mal0;
		inc = tstat("frag_inconsistent") - inc0;
		dup = tstat("frag_duplicate") - dup0;
		if (mal >= 9 && inc >= 2 && dup >= 1)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(mal, 9);
	assert_int_equal(inc, 2);
	assert_int_equal(dup, 1);
	/* alive, answering its operator, and committing */
	assert_true(node_alive(0));
	assert_int_equal(ctl("status"), 0);
	{
		char kf[128];
		snprintf(kf, sizeof kf, "%s/o.key", net_dir);
		snprintf(args, sizeof args, "%s/ecctl keygen %s >/dev/null", build, kf);
		assert_int_equal(system(args), 0);
		snprintf(args, sizeof args, "token create --owner %s --submit --json", kf);
		assert_int_equal(ctl(args), 0);
		assert_true(out_field("txid", txid, sizeof txid));
	}
	snprintf(args, sizeof args, "tx %s --json", txid);
	for (k = 0; k < 300; k++) {
		if (ctl(args) == 0 && out_field("state", st, sizeof st) && !strcmp(st, "committed"))
			break;
		usleep(100 * 1000);
	}
	assert_string_equal(st, "committed");
	assert_true(node_alive(0) && node_alive(1) && node_alive(2));
	close(c.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile_datagrams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frag_headers, setup_net,
						teardown_net),
	};
	signal(SIGPIPE, SIG_IGN);
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
