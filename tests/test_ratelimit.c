/* test_ratelimit.c - token buckets at explicit times: burst, exact refill
 * and retry-after, per-requester isolation, classes, the class-wide bucket,
 * costs above the burst, time going backwards, unlimited classes, the
 * bounded table with LRU eviction under id rotation, and limits replaced
 * at run time. */
#include <stdlib.h>

#include "ec/ratelimit.h"
#include "testutil.h"

#define T0 1700000000000ull

static ec_id pid(uint64_t n)
{
	ec_id x;
	memset(&x, 0, sizeof x);
	for (int i = 0; i < 8; i++)
		x.b[i] = (uint8_t)(n >> (56 - 8 * i));
	return x;
}

/* Everything unlimited except what a test sets. */
static ec_ratelimit_cfg open_cfg(void)
{
	ec_ratelimit_cfg c;
	memset(&c, 0, sizeof c);
	c.max_entries = 16;
	c.hash_seed = 42;
	return c;
}

static void test_burst_refill_retry(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl;
	ec_id a = pid(1);
	uint32_t ra = 99;
	(void)state;
	c.per_peer[EC_RL_MAPPING] = (ec_rl_limit){10, 3}; /* 10/s, burst 3 */
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
		assert_int_equal(ra, 0);
	}
	/* empty: one token every 100 ms */
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 100);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 40, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 60); /* 0.4 token held: 60 ms more */
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 99, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 1);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 100, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 100, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 100);
	/* a long pause refills to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 100000, &ra),
				 EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 100000, &ra),
			 EC_ERR_REFUSED);
	{
		ec_ratelimit_stats st;
		ec_ratelimit_get_stats(rl, &st);
		assert_int_equal(st.allowed[EC_RL_MAPPING], 7);
		assert_int_equal(st.refused[EC_RL_MAPPING], 5);
	}
	ec_ratelimit_free(rl);
}

static void test_peers_and_classes_isolated(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl;
	ec_id a = pid(1), b = pid(2);
	uint32_t ra;
	(void)state;
	c.per_peer[EC_RL_BLOCK_SYNC] = (ec_rl_limit){100, 2};
	c.per_peer[EC_RL_BLOCK_HISTORICAL] = (ec_rl_limit){1, 1};
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_HISTORICAL, 1, T0, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_HISTORICAL, 1, T0, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 1000);
	/* sync is a different bucket, b a different requester */
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_SYNC, 2, T0, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &b, EC_RL_BLOCK_HISTORICAL, 1, T0, &ra), EC_OK);
	/* unlimited class (per_sec 0) */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_TX, 5, T0, &ra), EC_OK);
	/* cost: 2 tokens need 2 refills at 100/s: 20 ms */
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_SYNC, 2, T0 + 5, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 15);
	/* cost over the burst is charged as the burst */
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_SYNC, 50, T0 + 20, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_SYNC, 50, T0 + 20, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 20);
	/* the priority mapping */
	assert_int_equal(ec_ratelimit_class_of_priority(1), EC_RL_BLOCK_SYNC);
	assert_int_equal(ec_ratelimit_class_of_priority(2), EC_RL_BLOCK_VALIDATION);
	assert_int_equal(ec_ratelimit_class_of_priority(3), EC_RL_BLOCK_HISTORICAL);
	assert_int_equal(ec_ratelimit_class_of_priority(0), -1);
	assert_int_equal(ec_ratelimit_class_of_priority(4), -1);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_CLASSES, 1, T0, &ra), EC_ERR_ARG);
	ec_ratelimit_free(rl);
}

static void test_class_total_caps_rotation(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl;
	uint32_t ra;
	(void)state;
	c.per_peer[EC_RL_MAPPING] = (ec_rl_limit){10, 10};
	c.total[EC_RL_MAPPING] = (ec_rl_limit){100, 50};
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_OK);
	/* 50 distinct ids: all served, then the class is dry for everybody */
	for (uint64_t i = 0; i < 50; i++) {
		ec_id p = pid(100 + i);
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
	}
	{
		ec_id p = pid(999);
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_MAPPING, 1, T0, &ra),
				 EC_ERR_REFUSED);
		assert_int_equal(ra, 10); /* 100/s class-wide */
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_MAPPING, 1, T0 + 10, &ra),
				 EC_OK);
	}
	/* memory stayed bounded while ids rotated */
	assert_int_equal(ec_ratelimit_entries(rl), 16);
	{
		ec_ratelimit_stats st;
		ec_ratelimit_get_stats(rl, &st);
		assert_int_equal(st.evicted, 51 - 16);
	}
	ec_ratelimit_free(rl);
}

static void test_lru_eviction_keeps_active(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl;
	ec_id hot = pid(7);
	uint32_t ra;
	(void)state;
	c.per_peer[EC_RL_TX] = (ec_rl_limit){1, 2};
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_OK);
	/* hot empties its bucket */
	assert_int_equal(ec_ratelimit_take(rl, &hot, EC_RL_TX, 2, T0, &ra), EC_OK);
	/* 10,000 rotating ids, hot asking again between each (refused): it
	 * stays most recent and is never evicted, so its debt is remembered */
	for (uint64_t i = 0; i < 10000; i++) {
		ec_id p = pid(1000 + i);
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_TX, 1, T0, &ra), EC_OK);
		assert_int_equal(ec_ratelimit_take(rl, &hot, EC_RL_TX, 1, T0, &ra),
				 EC_ERR_REFUSED);
		assert_int_equal(ra, 1000);
	}
	assert_int_equal(ec_ratelimit_entries(rl), 16);
	/* the stalest entries are gone: the first rotated id comes back full */
	{
		ec_id p = pid(1000);
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_TX, 2, T0, &ra), EC_OK);
	}
	/* a recent one is still remembered (it spent 1 of 2) */
	{
		ec_id p = pid(1000 + 9999);
		assert_int_equal(ec_ratelimit_take(rl, &p, EC_RL_TX, 2, T0, &ra),
				 EC_ERR_REFUSED);
		assert_int_equal(ra, 1000);
	}
	/* time going backwards refills nothing and breaks nothing */
	assert_int_equal(ec_ratelimit_take(rl, &hot, EC_RL_TX, 1, T0 - 5000, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ec_ratelimit_take(rl, &hot, EC_RL_TX, 1, T0 + 1000, &ra), EC_OK);
	ec_ratelimit_free(rl);
}

static void test_bad_cfg(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl = (ec_ratelimit *)1;
	(void)state;
	c.max_entries = 15;
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_ERR_ARG);
	assert_null(rl);
	c.max_entries = 16;
	c.per_peer[EC_RL_TX] = (ec_rl_limit){5, 0};
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_ERR_ARG);
	assert_int_equal(ec_ratelimit_new(&rl, NULL), EC_OK); /* defaults */
	{
		ec_id a = pid(1);
		uint32_t ra;
		for (int i = 0; i < 10; i++)
			assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_HISTORICAL, 1, T0,
							   &ra),
					 EC_OK);
		assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_BLOCK_HISTORICAL, 1, T0, &ra),
				 EC_ERR_REFUSED);
		assert_int_equal(ra, 200); /* 5/s */
	}
	ec_ratelimit_free(rl);
	ec_ratelimit_free(NULL);
}

/* Limits replaced at run time: levels over the new burst are cut, rates
 * apply from then on, a bad limit changes nothing, unlimited and back. */
static void test_set_limits(void **state)
{
	ec_ratelimit_cfg c = open_cfg();
	ec_ratelimit *rl;
	ec_id a = pid(1), b = pid(2);
	ec_rl_limit pp[EC_RL_CLASSES], tot[EC_RL_CLASSES];
	uint32_t ra;
	(void)state;
	c.per_peer[EC_RL_MAPPING] = (ec_rl_limit){10, 10};
	c.total[EC_RL_MAPPING] = (ec_rl_limit){100, 100};
	assert_int_equal(ec_ratelimit_new(&rl, &c), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
	/* a's bucket holds 9 tokens; the new burst is 2 */
	memcpy(pp, c.per_peer, sizeof pp);
	memcpy(tot, c.total, sizeof tot);
	pp[EC_RL_MAPPING] = (ec_rl_limit){1, 2};
	tot[EC_RL_MAPPING] = (ec_rl_limit){1, 3};
	assert_int_equal(ec_ratelimit_set_limits(rl, pp, tot), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ra, 1000); /* 1/s now */
	/* the class-wide bucket was cut to 3: one left, for b */
	assert_int_equal(ec_ratelimit_take(rl, &b, EC_RL_MAPPING, 1, T0, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &b, EC_RL_MAPPING, 1, T0, &ra),
			 EC_ERR_REFUSED);
	/* a bad limit: refused, nothing changed */
	pp[EC_RL_TX] = (ec_rl_limit){5, 0};
	assert_int_equal(ec_ratelimit_set_limits(rl, pp, tot), EC_ERR_ARG);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 1000, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 1000, &ra),
			 EC_ERR_REFUSED);
	/* unlimited, then limited again */
	memset(pp, 0, sizeof pp);
	memset(tot, 0, sizeof tot);
	assert_int_equal(ec_ratelimit_set_limits(rl, pp, tot), EC_OK);
	for (int i = 0; i < 50; i++)
		assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 1000, &ra),
				 EC_OK);
	pp[EC_RL_MAPPING] = (ec_rl_limit){1, 1};
	assert_int_equal(ec_ratelimit_set_limits(rl, pp, tot), EC_OK);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 1000, &ra),
			 EC_ERR_REFUSED);
	assert_int_equal(ec_ratelimit_take(rl, &a, EC_RL_MAPPING, 1, T0 + 2000, &ra), EC_OK);
	assert_int_equal(ec_ratelimit_set_limits(NULL, pp, tot), EC_ERR_ARG);
	ec_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_refill_retry),
		cmocka_unit_test(test_peers_and_classes_isolated),
		cmocka_unit_test(test_class_total_caps_rotation),
		cmocka_unit_test(test_lru_eviction_keeps_active),
		cmocka_unit_test(test_bad_cfg),
		cmocka_unit_test(test_set_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
