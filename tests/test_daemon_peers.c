/* test_daemon_peers.c - the transport peer table under a flood of
 * throw-away keys (PROTOCOL 16 "Peer table"), against one ecnode process
 * (scripts/ecnet.sh, $BUILD).
 *
 * 8 clients bind themselves with a hello of their own identity and
 * validate their address.  Then 1,400 fresh transport keys each send a
 * mapping request from one socket, paced to the node's budget of new-key
 * derivations (200/s, burst 400), more than the 1,024 entries unbound keys
 * may hold.  The table evicts unbound entries (counted), never holds more
 * than the share, and every bound peer survives: each is still bound and
 * in the core's peer set, and its next request is answered at once, with
 * no challenge (its entry, keys and validated address are the ones it had:
 * lookup by key on receipt, by peer id for the answer). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "ec/transport.h"
#include "ec/wire.h"
#include "testutil.h"
#include "tu_udp.h"

#define NET 42
#define BOUND 8
#define FLOOD 1400
#define UNBOUND_SHARE 1024

static char dir[64];
static const char *build;
static tu_node node;

/* Small table, quick dead-peer detection: 16 entries (4 unbound, 12
 * bound), dead after 2 s of silence. */
#define SMALL_FLAGS "--peer-table-max 16 --peer-dead-after 2000 --hello-interval 1000"
#define SMALL_BOUND 12

static int start(const char *flags)
{
	char script[512];
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	snprintf(dir, sizeof dir, "/tmp/ec-peers-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof script,
		 "ecnet_init \"$ECNET_DIR\" 1 0 %s && ecnet_start_all 1", flags);
	assert_int_equal(tu_ecnet(build, dir, script), 0);
	tu_node_get(&node, build, dir, 0, NET);
	return 0;
}

static int setup(void **state)
{
	return start("");
}

static int setup_small(void **state)
{
	return start(SMALL_FLAGS);
}

static int teardown(void **state)
{
	char cmd[128];
	(void)tu_ecnet(build, dir, "ecnet_stop_all");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
	return 0;
}

static long long status_int(const char *key)
{
	json_t *j = tu_ctl(build, dir, 0, "status");
	long long r;
	assert_non_null(j);
	r = json_integer_value(json_object_get(j, key));
	json_decref(j);
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void test_flood_keeps_bound_peers(void **state)
{
	static tu_client peer[BOUND];
	ec_id token, ids[BOUND];
	tu_client flood;
	uint8_t *enc;
	size_t len;
	/* the node's own id as the token: the node is always in its
	 * neighbourhood, so it answers with a mapping, never a referral to one
	 * of the (randomly placed) bound peers */
	token = node.id;
	/* 8 bound peers, their addresses validated */
	for (int i = 0; i < BOUND; i++) {
		tu_cli_open(&peer[i], &node, 1);
		tu_hello(&peer[i], &enc, &len, &ids[i]);
		peer[i].want = EC_MSG_HELLO;
		tu_cli_send(&peer[i], enc, len, 1);
		free(enc);
	}
	tu_pump(peer, BOUND, 20000, 1);
	for (int i = 0; i < BOUND; i++) {
		assert_non_null(peer[i].msg); /* the node's own hello, after the echo */
		assert_int_equal(peer[i].challenges, 1);
	}
	assert_int_equal(status_int("bound_peers"), BOUND);
	assert_int_equal(status_int("peers"), BOUND);
	assert_true(tu_tstat(build, dir, 0, "av_validated") >= BOUND);

	/* the flood: a fresh key per request, one socket */
	tu_cli_open(&flood, &node, 0);
	tu_mapping_req(&token, &enc, &len);
	for (int i = 0; i < FLOOD; i++) {
		assert_int_equal(ec_kx_keypair_generate(&flood.kx), EC_OK);
		assert_int_equal(ec_transport_derive(&flood.keys, &flood.kx, node.kx, NET), EC_OK);
		tu_cli_send(&flood, enc, len, 1);
		if (i >= 380 && i % 4 == 0)
			sleep_ms(21); /* under 200 new keys a second */
	}
	free(enc);
	/* until the node has read all of it (a loaded machine is slow) */
	for (int k = 0; k < 300 && tu_tstat(build, dir, 0, "datagrams_rx") < 2 * BOUND + FLOOD;
	     k++)
		sleep_ms(100);
	assert_true(tu_tstat(build, dir, 0, "datagrams_rx") >= 2 * BOUND + FLOOD);
	{
		long long evicted = tu_tstat(build, dir, 0, "peers_evicted");
		long long lru = tu_tstat(build, dir, 0, "peers_unbound_lru");
		long long limited = tu_tstat(build, dir, 0, "dropped_kx_limited");
		long long tpeers = status_int("transport_peers");
		printf("flood of %d keys: %lld refused by the derivation budget, %lld unbound "
		       "entries evicted, %lld unbound held, %lld entries in all\n",
		       FLOOD, limited, evicted, lru, tpeers);
		assert_true(FLOOD - limited > UNBOUND_SHARE);
		assert_true(evicted >= FLOOD - limited - UNBOUND_SHARE);
		assert_true(lru <= UNBOUND_SHARE);
		assert_true(tpeers <= UNBOUND_SHARE + BOUND);
		assert_int_equal(tu_tstat(build, dir, 0, "peers_refused"), 0);
	}
	/* every bound peer survived: still bound, still in the core */
	assert_int_equal(status_int("bound_peers"), BOUND);
	assert_int_equal(status_int("peers"), BOUND);
	/* and still known by key and by id with its validated address: a
	 * request is answered without a new challenge (an evicted entry would
	 * start over: a new key derivation, an unvalidated address) */
	for (int i = 0; i < BOUND; i++) {
		tu_cli_forget(&peer[i]);
		peer[i].echo = 0;
		peer[i].want = EC_MSG_MAPPING_RESP;
		tu_mapping_req(&token, &enc, &len);
		tu_cli_send(&peer[i], enc, len, 1);
		free(enc);
	}
	tu_pump(peer, BOUND, 20000, 1);
	for (int i = 0; i < BOUND; i++) {
		ec_mapping_resp m;
		assert_non_null(peer[i].msg);
		assert_int_equal(peer[i].challenges, 1);
		assert_int_equal(ec_mapping_resp_decode(&m, peer[i].msg, peer[i].len), EC_OK);
		assert_memory_equal(m.responder.b, node.id.b, 32);
	}
	for (int i = 0; i < BOUND; i++)
		tu_cli_close(&peer[i]);
	tu_cli_close(&flood);
}

/* A client whose hello binds and whose address validates (an echo). */
static void bind_client(tu_client *c, uint8_t **enc, size_t *len)
{
	uint8_t *e;
	size_t l;
	tu_cli_open(c, &node, 1);
	tu_hello(c, &e, &l, NULL);
	c->want = EC_MSG_HELLO;
	tu_cli_send(c, e, l, 1);
	if (enc) {
		*enc = e;
		*len = l;
	} else {
		free(e);
	}
}

/* A request from each of cs[0..n): the node hears from them. */
static void keep_alive(tu_client *cs, int n)
{
	uint8_t *enc;
	size_t len;
	tu_mapping_req(&node.id, &enc, &len);
	for (int i = 0; i < n; i++)
		tu_cli_send(&cs[i], enc, len, 1);
	free(enc);
	tu_pump(cs, (size_t)n, 300, 0);
}

/* PROTOCOL 16 "Address validation", probes; "Peer table", stored records.
 * A peer binds and validates address A; the same key then sends its hello
 * from address B and never echoes.  The stored record keeps A (B never
 * proved anything), so the restarted node greets A and not B; and A, which
 * no longer answers, gets at most 4 probes (1, 2, 4 s apart), not one per
 * second or per hello interval. */
static void test_probes_capped(void **state)
{
	tu_client a, b;
	uint8_t *enc;
	size_t len;
	bind_client(&a, &enc, &len);
	tu_pump(&a, 1, 15000, 1);
	assert_non_null(a.msg);
	/* the same key from another socket, not echoing */
	tu_cli_open(&b, &node, 0);
	b.kx = a.kx;
	b.keys = a.keys;
	b.pseudo = a.pseudo;
	b.ctr = a.ctr + 1000;
	tu_cli_send(&b, enc, len, 1);
	free(enc);
	tu_pump(&b, 1, 1500, 0);
	assert_true(b.challenges >= 1); /* the node heard B, unvalidated */
	assert_int_equal(tu_ecnet(build, dir,
				  "ecnet_stop 0 && ecnet_start 0 " SMALL_FLAGS " && ecnet_wait_rpc 0"),
			 0);
	tu_node_get(&node, build, dir, 0, NET);
	a.echo = 0;
	a.challenges = b.challenges = 0;
	a.in_node = a.in_other = b.in_node = b.in_other = 0;
	{
		tu_client both[2] = {a, b};
		tu_pump(both, 2, 10000, 0);
		a = both[0];
		b = both[1];
	}
	printf("after a restart, 10 s: %u probes to the stored address, %llu bytes to the "
	       "unvalidated one; av_probes %lld\n",
	       a.challenges, (unsigned long long)(b.in_node + b.in_other),
	       tu_tstat(build, dir, 0, "av_probes"));
	assert_true(a.challenges >= 1);
	assert_true(a.challenges <= 4);
	assert_int_equal(b.in_node + b.in_other, 0);
	tu_cli_close(&a);
	tu_cli_close(&b);
}

/* PROTOCOL 16 "Peer table", the bound share: 12 bound entries fill it;
 * 4 of them go silent and are declared dead; 4 new bindings each unbind
 * one of the dead (the core drops them), the 8 live ones stay; with the
 * share full of live peers a further binding is refused. */
static void test_bound_share(void **state)
{
	static tu_client peer[SMALL_BOUND], fresh[5];
	enum { LIVE = 8 };
	for (int i = 0; i < SMALL_BOUND; i++)
		bind_client(&peer[i], NULL, NULL);
	tu_pump(peer, SMALL_BOUND, 20000, 1);
	for (int i = 0; i < SMALL_BOUND; i++)
		assert_non_null(peer[i].msg);
	assert_int_equal(status_int("bound_peers"), SMALL_BOUND);
	for (int i = 0; i < SMALL_BOUND; i++)
		peer[i].want = 0;
	for (int i = LIVE; i < SMALL_BOUND; i++)
		tu_cli_close(&peer[i]);
	/* until the silent ones are dead (2 s), the others heard from */
	for (int k = 0; k < 60 && status_int("dead_peers") < SMALL_BOUND - LIVE; k++)
		keep_alive(peer, LIVE);
	assert_int_equal(status_int("dead_peers"), SMALL_BOUND - LIVE);
	for (int i = 0; i < SMALL_BOUND - LIVE; i++) {
		keep_alive(peer, LIVE);
		bind_client(&fresh[i], NULL, NULL);
		tu_pump(&fresh[i], 1, 15000, 1);
		assert_non_null(fresh[i].msg);
	}
	keep_alive(peer, LIVE);
	assert_int_equal(tu_tstat(build, dir, 0, "peers_bound_evicted"), SMALL_BOUND - LIVE);
	assert_int_equal(status_int("bound_peers"), SMALL_BOUND);
	assert_int_equal(status_int("dead_peers"), 0);
	assert_int_equal(status_int("peers"), SMALL_BOUND);
	/* full of live peers: refused */
	bind_client(&fresh[4], NULL, NULL);
	tu_pump(&fresh[4], 1, 1500, 0);
	assert_null(fresh[4].msg);
	assert_int_equal(tu_tstat(build, dir, 0, "peers_bound_refused"), 1);
	assert_int_equal(status_int("bound_peers"), SMALL_BOUND);
	/* the live ones kept their entries: answered with no new challenge */
	for (int i = 0; i < LIVE; i++) {
		uint8_t *enc;
		size_t len;
		peer[i].echo = 0;
		peer[i].challenges = 0;
		peer[i].want = EC_MSG_MAPPING_RESP;
		tu_cli_forget(&peer[i]);
		tu_mapping_req(&node.id, &enc, &len);
		tu_cli_send(&peer[i], enc, len, 1);
		free(enc);
	}
	tu_pump(peer, LIVE, 15000, 1);
	for (int i = 0; i < LIVE; i++) {
		assert_non_null(peer[i].msg);
		assert_int_equal(peer[i].challenges, 0);
	}
	printf("bound share %d: %lld dead entries evicted for new bindings, %lld refused\n",
	       SMALL_BOUND, tu_tstat(build, dir, 0, "peers_bound_evicted"),
	       tu_tstat(build, dir, 0, "peers_bound_refused"));
	for (int i = 0; i < LIVE; i++)
		tu_cli_close(&peer[i]);
	for (int i = 0; i < 5; i++)
		tu_cli_close(&fresh[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_keeps_bound_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probes_capped, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_bound_share, setup_small, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
