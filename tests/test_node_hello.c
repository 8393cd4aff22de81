/* test_node_hello.c - hellos of unknown peers and the budget of identity-
 * proof checks (ec_node.c "hello_check").  A false proof costs its sender
 * nothing (any key may claim an id with the right zero bits) and its
 * verifier one Argon2id run, so a node checks at most a bounded amount of
 * Argon2 work per second for strangers: 262,144 KiB-passes a second, one
 * second of burst (64 checks of 4 MiB).  Here the node's parameters are
 * the production cost (4 MiB, 1 pass) with 4 bits of difficulty, so that a
 * genuine identity can be mined in the test:
 *   - 100 forged hellos at one instant: 64 proofs checked (all false,
 *     dropped_invalid), 36 refused before the hash (hellos_limited);
 *   - a genuine hello right after is refused too, and accepted (the peer
 *     added) once a second has refilled the budget;
 *   - hellos whose claim fails the cheap checks (too few zero bits, mined
 *     in the future) cost no budget: the next 64 forged ones are checked. */
#include <stdlib.h>

#include "ec/identity.h"
#include "harness.h"
#include "testutil.h"

static const ec_pow_params P = {4, 1, 4096, 365ull * 86400, 86400};

static void use_p(void *ctx, size_t i, ec_node_cfg *nc)
{
	(void)ctx;
	(void)i;
	nc->pow = &P;
}

static void rng(void *ctx, void *out, size_t len)
{
	tu_rand_bytes(ctx, out, len);
}

/* A signed hello of key seed `k` (or kp_in) claiming `id`; its salt says
 * mined at now_s, or is the given identity's salt when ident is not NULL. */
static uint64_t net_id;

static size_t hello(uint8_t *out, size_t cap, uint32_t k, const ec_id *id,
		    const ec_identity *ident, uint64_t now_s, const ec_keypair *kp_in)
{
	ec_keypair kp;
	ec_hello h;
	uint8_t seed[32] = {0}, *enc;
	size_t len;
	if (kp_in) {
		kp = *kp_in;
	} else {
		memcpy(seed, &k, sizeof k);
		seed[31] = 0x5a;
		assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	}
	memset(&h, 0, sizeof h);
	h.peer_id = *id;
	h.network_id = net_id;
	if (ident) {
		memcpy(h.salt, ident->salt, sizeof h.salt);
	} else {
		for (int i = 0; i < 8; i++)
			h.salt[8 + i] = (uint8_t)(now_s >> (56 - 8 * i));
		memcpy(h.salt, &k, sizeof k);
	}
	h.timestamp = now_s * 1000;
	assert_int_equal(ec_hello_sign(&h, kp.sk), EC_OK);
	assert_int_equal(ec_hello_encode(&h, &enc, &len), EC_OK);
	assert_true(len <= cap);
	memcpy(out, enc, len);
	free(enc);
	return len;
}

/* A claimed id with `zeros` trailing zero bits and nothing else. */
static void claim(ec_id *id, uint32_t k, unsigned zeros)
{
	memset(id, 0xee, sizeof *id);
	memcpy(id->b, &k, sizeof k);
	id->b[31] = (uint8_t)(0xff << zeros); /* zeros <= 7 */
}

static void test_hello_budget(void **state)
{
	hn_cfg c;
	hn *h;
	ec_node *n;
	const ec_node_stats *st;
	uint8_t buf[512];
	ec_keypair kp;
	ec_identity good;
	ec_id id;
	uint64_t rs = 11, now_s;
	ec_time now;
	size_t len, peers0;
	uint8_t seed[32] = {0x77};
	hn_cfg_default(&c);
	c.n_nodes = 1;
	c.identity_tx = 0;
	c.node_cfg = use_p;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	n = h->nodes[0].node;
	st = ec_node_stats_get(n);
	now = h->now;
	now_s = now / 1000;
	net_id = h->nodes[0].ident.network_id;
	/* a genuine identity under P */
	assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	assert_int_equal(ec_identity_mine(&good, kp.pk, net_id, now_s, &P,
					  rng, &rs, 10000, NULL),
			 EC_OK);
	peers0 = ec_node_peer_count(n);

	/* 100 forged hellos at one instant (ids with 4 zero bits: the cheap
	 * checks pass, the hash does not) */
	for (uint32_t k = 0; k < 100; k++) {
		claim(&id, k, 4);
		len = hello(buf, sizeof buf, k, &id, NULL, now_s, NULL);
		assert_int_equal(ec_node_recv(n, &id, buf, len, now), EC_OK);
	}
	assert_int_equal(st->hellos_limited, 36);
	assert_int_equal(st->dropped_invalid, 64);
	assert_int_equal(ec_node_peer_count(n), peers0);
	/* the genuine one: refused while the budget is spent ... */
	len = hello(buf, sizeof buf, 0, &good.peer_id, &good, now_s, &kp);
	assert_int_equal(ec_node_recv(n, &good.peer_id, buf, len, now), EC_OK);
	assert_int_equal(st->hellos_limited, 37);
	assert_int_equal(ec_node_peer_count(n), peers0);
	/* ... and accepted a second later */
	assert_int_equal(ec_node_recv(n, &good.peer_id, buf, len, now + 1000), EC_OK);
	assert_int_equal(st->hellos_limited, 37);
	assert_int_equal(st->dropped_invalid, 64);
	assert_int_equal(ec_node_peer_count(n), peers0 + 1);

	/* cheap failures cost nothing: 200 with 3 zero bits, 50 mined a day
	 * and an hour in the future */
	now += 2000; /* budget full again (one second of burst) */
	for (uint32_t k = 1000; k < 1200; k++) {
		claim(&id, k, 3);
		len = hello(buf, sizeof buf, k, &id, NULL, now / 1000, NULL);
		assert_int_equal(ec_node_recv(n, &id, buf, len, now), EC_OK);
	}
	for (uint32_t k = 1200; k < 1250; k++) {
		claim(&id, k, 4);
		len = hello(buf, sizeof buf, k, &id, NULL, now / 1000 + 90000, NULL);
		assert_int_equal(ec_node_recv(n, &id, buf, len, now), EC_OK);
	}
	assert_int_equal(st->hellos_limited, 37);
	assert_int_equal(st->dropped_invalid, 64 + 250);
	for (uint32_t k = 2000; k < 2065; k++) {
		claim(&id, k, 4);
		len = hello(buf, sizeof buf, k, &id, NULL, now / 1000, NULL);
		assert_int_equal(ec_node_recv(n, &id, buf, len, now), EC_OK);
	}
	assert_int_equal(st->dropped_invalid, 64 + 250 + 64);
	assert_int_equal(st->hellos_limited, 38);
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
