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

static int setup(void **state)
{
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	snprintf(dir, sizeof dir, "/tmp/ec-peers-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tu_ecnet(build, dir, "ecnet_init \"$ECNET_DIR\" 1 0 && ecnet_start_all 1"),
			 0);
	tu_node_get(&node, build, dir, 0, NET);
	return 0;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_keeps_bound_peers, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
