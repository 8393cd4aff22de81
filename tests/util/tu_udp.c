/* tu_udp.c - see tu_udp.h. */
#include "tu_udp.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "ec/identity.h"
#include "testutil.h"

static void cli_socket(tu_client *c)
{
	socklen_t sl = sizeof c->self;
	c->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(c->fd >= 0);
	memset(&c->self, 0, sizeof c->self);
	c->self.sin_family = AF_INET;
	c->self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(c->fd, (struct sockaddr *)&c->self, sizeof c->self), 0);
	assert_int_equal(getsockname(c->fd, (struct sockaddr *)&c->self, &sl), 0);
}

void tu_cli_open(tu_client *c, const tu_node *n, int echo)
{
	ec_reasm_cfg rc;
	memset(c, 0, sizeof *c);
	c->node = n;
	cli_socket(c);
	assert_int_equal(ec_kx_keypair_generate(&c->kx), EC_OK);
	assert_int_equal(ec_transport_derive(&c->keys, &c->kx, n->kx, n->net), EC_OK);
	ec_hash(&c->pseudo, "ec/v1/kxpeer", c->kx.pk, 32);
	c->ctr = 1;
	c->echo = echo;
	ec_reasm_cfg_default(&rc);
	assert_int_equal(ec_reasm_new(&c->ra, &rc), EC_OK);
}

void tu_cli_rebind(tu_client *c)
{
	close(c->fd);
	cli_socket(c);
}

void tu_cli_close(tu_client *c)
{
	close(c->fd);
	ec_reasm_free(c->ra);
	free(c->msg);
	c->msg = NULL;
}

void tu_cli_forget(tu_client *c)
{
	free(c->msg);
	c->msg = NULL;
	c->len = 0;
}

void tu_cli_dgram(tu_client *c, uint8_t flags, const uint8_t *pt, size_t len)
{
	uint8_t d[1400];
	size_t n;
	assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, c->keys.tx, c->kx.pk, c->ctr++, flags,
					     pt, len),
			 EC_OK);
	assert_int_equal(sendto(c->fd, d, n, 0, (const struct sockaddr *)&c->node->addr,
				sizeof c->node->addr),
			 (ssize_t)n);
	c->out += n;
}

void tu_cli_send(tu_client *c, const uint8_t *msg, size_t len, unsigned frags)
{
	uint8_t f[1400];
	size_t fl;
	uint64_t id = c->ctr; /* the counter of the first fragment */
	if (frags < 2) {
		tu_cli_dgram(c, 0, msg, len);
		return;
	}
	for (unsigned i = 0; i < frags; i++) {
		assert_int_equal(ec_frag_make(f, sizeof f, &fl, id, msg, len, (uint16_t)i,
					      (uint16_t)frags),
				 EC_OK);
		tu_cli_dgram(c, EC_DGRAM_FLAG_FRAG, f, fl);
	}
}

/* One datagram waiting on c's socket. */
static void cli_recv(tu_client *c)
{
	uint8_t d[EC_DGRAM_MAX_BYTES], pt[EC_DGRAM_MAX_BYTES];
	ec_dgram_hdr h;
	size_t ptlen, ml = 0;
	ssize_t r = recv(c->fd, d, sizeof d, MSG_DONTWAIT);
	uint8_t *m = NULL;
	if (r <= 0)
		return;
	if (ec_dgram_parse(&h, d, (size_t)r) != EC_OK ||
	    memcmp(h.sender, c->node->kx, EC_KX_BYTES) != 0) {
		c->in_other += (size_t)r;
		return;
	}
	c->in_node += (size_t)r;
	assert_int_equal(ec_dgram_open(pt, &ptlen, c->keys.rx, d, (size_t)r), EC_OK);
	if (h.flags == EC_DGRAM_FLAG_VALIDATE) {
		uint8_t kind, cookie[EC_COOKIE_BYTES], e[EC_VALIDATE_BYTES];
		assert_int_equal(ec_validate_parse(&kind, cookie, pt, ptlen), EC_OK);
		if (kind != EC_VALIDATE_CHALLENGE)
			return;
		c->challenges++;
		if (c->echo) {
			assert_int_equal(ec_validate_encode(e, EC_VALIDATE_ECHO, cookie), EC_OK);
			tu_cli_dgram(c, EC_DGRAM_FLAG_VALIDATE, e, sizeof e);
		}
		return;
	}
	if (h.flags == EC_DGRAM_FLAG_FRAG) {
		assert_int_equal(ec_reasm_add(c->ra, c->node->kx, pt, ptlen, 0, &m, &ml), EC_OK);
		if (!m)
			return;
	} else {
		assert_non_null(m = malloc(ptlen ? ptlen : 1));
		memcpy(m, pt, ptlen);
		ml = ptlen;
	}
	if (ml && m[0] == EC_MSG_HELLO) {
		/* a node introduces the peers it knows before its own hello */
		ec_hello hl;
		c->hellos++;
		if (c->watch && ec_hello_decode(&hl, m, ml) == EC_OK && hl.addr_len == 6 &&
		    !memcmp(hl.addr, &c->watch->sin_addr, 4) &&
		    !memcmp(hl.addr + 4, &c->watch->sin_port, 2))
			c->watched++;
		if (ec_hello_decode(&hl, m, ml) != EC_OK || !ec_id_eq(&hl.peer_id, &c->node->id)) {
			free(m);
			return;
		}
	}
	if (!c->msg && ml && m[0] == c->want) {
		c->msg = m;
		c->len = ml;
		return;
	}
	free(m);
}

void tu_pump(tu_client *cs, size_t n, int ms, int until_answered)
{
	struct pollfd p[64];
	struct timespec t0, t;
	assert_true(n <= 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long el;
		int done = 1;
		for (size_t i = 0; i < n; i++)
			done &= !cs[i].want || cs[i].msg != NULL;
		if (until_answered && done)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= ms)
			return;
		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
		if (poll(p, n, (int)(ms - el)) <= 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (p[i].revents & POLLIN)
				cli_recv(&cs[i]);
	}
}

ec_time tu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ec_time)ts.tv_sec * 1000u + (ec_time)(ts.tv_nsec / 1000000);
}

static uint64_t seed;

/* Randomness for salts and nonces: a splitmix64 stream seeded once from
 * the clock and the pid, so runs differ. */
static void rng(void *ctx, void *out, size_t len)
{
	(void)ctx;
	if (!seed)
		seed = tu_now_ms() ^ ((uint64_t)getpid() << 32) ^ 1;
	tu_rand_bytes(&seed, out, len);
}

void tu_hello(const tu_client *c, uint8_t **enc, size_t *len, ec_id *id)
{
	tu_hello_at(c, &c->self, enc, len, id);
}

void tu_hello_at(const tu_client *c, const struct sockaddr_in *at, uint8_t **enc, size_t *len,
		 ec_id *id)
{
	ec_keypair k;
	ec_identity ident;
	ec_hello h;
	assert_int_equal(ec_keypair_generate(&k), EC_OK);
	assert_int_equal(ec_identity_mine(&ident, k.pk, c->node->net, tu_now_ms() / 1000,
					  &ec_pow_test, rng, NULL, 100000, NULL),
			 EC_OK);
	memset(&h, 0, sizeof h);
	h.peer_id = ident.peer_id;
	memcpy(h.pk, k.pk, 32);
	memcpy(h.kx_pk, c->kx.pk, 32);
	h.network_id = c->node->net;
	memcpy(h.salt, ident.salt, sizeof h.salt);
	h.addr_len = 6;
	memcpy(h.addr, &at->sin_addr, 4);
	memcpy(h.addr + 4, &at->sin_port, 2);
	h.timestamp = tu_now_ms();
	assert_int_equal(ec_hello_sign(&h, k.sk), EC_OK);
	assert_int_equal(ec_hello_encode(&h, enc, len), EC_OK);
	ec_keypair_wipe(&k);
	if (id)
		*id = ident.peer_id;
}

void tu_mapping_req(const ec_id *token, uint8_t **enc, size_t *len)
{
	ec_mapping_req q;
	memset(&q, 0, sizeof q);
	rng(NULL, q.nonce, sizeof q.nonce);
	q.token = *token;
	q.flags = EC_MAPPING_WANT_EVIDENCE;
	assert_int_equal(ec_mapping_req_encode(&q, enc, len), EC_OK);
}

int tu_ecnet(const char *build, const char *dir, const char *script)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "BUILD='%s'; . scripts/ecnet.sh; ECNET_DIR='%s/net'; %s", build,
		 dir, script);
	return system(cmd);
}

json_t *tu_ctl(const char *build, const char *dir, int i, const char *args)
{
	char cmd[1024], buf[65536];
	size_t len;
	FILE *f;
	snprintf(cmd, sizeof cmd, "'%s/ecctl' %s --json --rpc '%s/net/n%d/ecnode.sock' 2>/dev/null",
		 build, args, dir, i);
	if (!(f = popen(cmd, "r")))
		return NULL;
	len = fread(buf, 1, sizeof buf - 1, f);
	pclose(f);
	return json_loadb(buf, len, 0, NULL);
}

void tu_node_get(tu_node *n, const char *build, const char *dir, int i, uint64_t net)
{
	json_t *j = tu_ctl(build, dir, i, "status");
	const char *listen, *kx, *id;
	char host[64];
	unsigned port;
	assert_non_null(j);
	listen = json_string_value(json_object_get(j, "listen"));
	kx = json_string_value(json_object_get(j, "kx_pk"));
	id = json_string_value(json_object_get(j, "peer_id"));
	assert_true(listen && kx && id);
	memset(n, 0, sizeof *n);
	assert_int_equal(ec_hex_decode(n->kx, 32, kx), EC_OK);
	assert_int_equal(ec_hex_decode(n->id.b, 32, id), EC_OK);
	assert_int_equal(sscanf(listen, "%63[^:]:%u", host, &port), 2);
	n->addr.sin_family = AF_INET;
	n->addr.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, host, &n->addr.sin_addr), 1);
	n->net = net;
	json_decref(j);
}

long long tu_tstat(const char *build, const char *dir, int i, const char *key)
{
	json_t *j = tu_ctl(build, dir, i, "status"), *v;
	long long r;
	assert_non_null(j);
	v = json_object_get(json_object_get(j, "transport"), key);
	assert_non_null(v);
	r = json_integer_value(v);
	json_decref(j);
	return r;
}
