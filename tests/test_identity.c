/* test_identity.c - Argon2id proof-of-work identities: mining meets the
 * difficulty, verification recomputes, every field is bound, time window. */
#include "ec/identity.h"
#include "testutil.h"

static void rng(void *ctx, void *out, size_t len)
{
	tu_rand_bytes(ctx, out, len);
}

static void test_trailing_zeros(void **state)
{
	ec_id x;
	memset(&x, 0, sizeof x);
	assert_int_equal(ec_id_trailing_zeros(&x), 256);
	x.b[31] = 0x08;
	assert_int_equal(ec_id_trailing_zeros(&x), 3);
	x.b[31] = 0;
	x.b[30] = 0x01;
	assert_int_equal(ec_id_trailing_zeros(&x), 8);
	x.b[0] = 0x80; /* leading bits do not count */
	assert_int_equal(ec_id_trailing_zeros(&x), 8);
}

static void test_mine_and_verify(void **state)
{
	uint8_t seed[32] = {3};
	ec_keypair kp;
	ec_identity id, bad;
	uint64_t s = 1, attempts = 0, now = 1800000000;
	ec_pow_params p = ec_pow_test;
	p.difficulty = 6;
	assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	assert_int_equal(ec_identity_mine(&id, kp.pk, 7, now, &p, rng, &s, 5000, &attempts), EC_OK);
	assert_true(attempts >= 1);
	assert_true(ec_id_trailing_zeros(&id.peer_id) >= 6);
	assert_int_equal(ec_identity_verify(&id, now, &p), EC_OK);
	/* deterministic for the same seed */
	{
		ec_identity again;
		uint64_t s2 = 1;
		assert_int_equal(ec_identity_mine(&again, kp.pk, 7, now, &p, rng, &s2, 5000, NULL), EC_OK);
		assert_memory_equal(again.peer_id.b, id.peer_id.b, 32);
	}
	/* key, network and salt are all bound */
	bad = id;
	bad.pk[0] ^= 1;
	assert_int_equal(ec_identity_verify(&bad, now, &p), EC_ERR_ID);
	bad = id;
	bad.network_id = 8;
	assert_int_equal(ec_identity_verify(&bad, now, &p), EC_ERR_ID);
	bad = id;
	bad.salt[0] ^= 1;
	assert_int_equal(ec_identity_verify(&bad, now, &p), EC_ERR_ID);
	/* a claimed id below difficulty fails before any Argon2 work */
	bad = id;
	bad.peer_id.b[31] |= 1;
	assert_int_equal(ec_identity_verify(&bad, now, &p), EC_ERR_VALUE);
	/* mining time window: too old, too far in the future */
	assert_int_equal(ec_identity_verify(&id, now + p.max_age_s + 1, &p), EC_ERR_TIME);
	assert_int_equal(ec_identity_verify(&id, now - p.future_tol_s - 1, &p), EC_ERR_TIME);
	assert_int_equal(ec_identity_verify(&id, now + p.max_age_s, &p), EC_OK);
	/* the cheap part alone: it passes a false proof with enough zero bits
	 * (only the hash tells), and fails exactly where verify fails early */
	bad = id;
	bad.pk[0] ^= 1;
	assert_int_equal(ec_identity_precheck(&bad, now, &p), EC_OK);
	bad = id;
	bad.peer_id.b[31] |= 1;
	assert_int_equal(ec_identity_precheck(&bad, now, &p), EC_ERR_VALUE);
	assert_int_equal(ec_identity_precheck(&id, now + p.max_age_s + 1, &p), EC_ERR_TIME);
	assert_int_equal(ec_identity_precheck(&id, now - p.future_tol_s - 1, &p), EC_ERR_TIME);
}

static void test_mine_gives_up(void **state)
{
	uint8_t pk[32] = {9};
	ec_identity id;
	uint64_t s = 5, attempts = 0;
	ec_pow_params p = ec_pow_test;
	p.difficulty = 200; /* unreachable */
	assert_int_equal(ec_identity_mine(&id, pk, 0, 100, &p, rng, &s, 3, &attempts), EC_ERR_NOTFOUND);
	assert_int_equal(attempts, 3);
	p.mem_kib = 1; /* below Argon2's minimum: an argument error, not a crash */
	assert_int_equal(ec_identity_mine(&id, pk, 0, 100, &p, rng, &s, 3, NULL), EC_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trailing_zeros),
		cmocka_unit_test(test_mine_and_verify),
		cmocka_unit_test(test_mine_gives_up),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
