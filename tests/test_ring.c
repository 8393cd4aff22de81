/* test_ring.c - ring arithmetic, neighbourhoods, eligibility and closest-peer
 * selection against brute-force definitions on random peer sets. */
#include <stdlib.h>

#include "ec/ring.h"
#include "testutil.h"

static ec_id id_u64(uint64_t v) /* small ids: value in the last 8 bytes */
{
	ec_id x;
	memset(&x, 0, sizeof x);
	for (int i = 0; i < 8; i++)
		x.b[31 - i] = (uint8_t)(v >> (8 * i));
	return x;
}

static void test_sub_and_distance(void **state)
{
	ec_id a = id_u64(5), b = id_u64(7), d, max;
	memset(&max, 0xff, sizeof max);
	ec_ring_sub(&d, &a, &b); /* 5 - 7 = 2^256 - 2 */
	ec_id expect = max;
	expect.b[31] = 0xfe;
	assert_memory_equal(d.b, expect.b, 32);
	ec_ring_distance(&d, &a, &b);
	assert_memory_equal(d.b, id_u64(2).b, 32);
	/* across the wrap: max and 1 are 2 apart */
	ec_id one = id_u64(1);
	ec_ring_distance(&d, &max, &one);
	assert_memory_equal(d.b, id_u64(2).b, 32);
	/* symmetric, and zero to itself */
	ec_ring_distance(&d, &one, &max);
	assert_memory_equal(d.b, id_u64(2).b, 32);
	ec_ring_distance(&d, &one, &one);
	assert_true(ec_id_is_zero(&d));
	/* closer: tie broken by smaller id */
	ec_id t = id_u64(10), l = id_u64(8), r = id_u64(12);
	assert_true(ec_ring_closer(&t, &l, &r) < 0);
	assert_true(ec_ring_closer(&t, &r, &l) > 0);
	assert_int_equal(ec_ring_closer(&t, &l, &l), 0);
}

static void random_set(ec_peerset *ps, uint64_t *s, size_t n)
{
	ec_peerset_init(ps);
	while (ps->n < n) {
		ec_id x;
		tu_rand_bytes(s, x.b, 32);
		(void)ec_peerset_add(ps, &x);
	}
	for (size_t i = 1; i < ps->n; i++)
		assert_true(ec_id_cmp(&ps->ids[i - 1], &ps->ids[i]) < 0);
}

/* Brute force: clockwise distance (p - t) for the successors, (t - p) for
 * the predecessors; take the 4 smallest of each side. */
static void test_neighbourhood_bruteforce(void **state)
{
	uint64_t s = 7;
	for (int round = 0; round < 200; round++) {
		ec_peerset ps;
		size_t n = 1 + (size_t)(tu_rand_u64(&s) % 40);
		ec_id t, nb[8];
		random_set(&ps, &s, n);
		tu_rand_bytes(&s, t.b, 32);
		if (round % 5 == 0) /* token equal to a peer id */
			t = ps.ids[tu_rand_u64(&s) % ps.n];
		size_t m = ec_peerset_neighbourhood(&ps, &t, 4, nb);
		if (n <= 8) {
			assert_int_equal(m, n);
		} else {
			assert_int_equal(m, 8);
			/* successors: nearest-first clockwise; predecessors likewise */
			for (int side = 0; side < 2; side++) {
				for (size_t i = 0; i < ps.n; i++) {
					ec_id d, dk;
					const ec_id *p = &ps.ids[i];
					int is_succ = ec_id_cmp(p, &t) >= 0;
					(void)is_succ;
					if (side == 0)
						ec_ring_sub(&d, p, &t);
					else
						ec_ring_sub(&d, &t, p);
					if (side == 1 && ec_id_is_zero(&d))
						continue; /* p == t belongs to the clockwise side */
					/* p is in the side's 4 iff fewer than 4 peers are strictly nearer */
					int nearer = 0;
					for (size_t j = 0; j < ps.n; j++) {
						if (side == 0)
							ec_ring_sub(&dk, &ps.ids[j], &t);
						else
							ec_ring_sub(&dk, &t, &ps.ids[j]);
						if (side == 1 && ec_id_is_zero(&dk))
							continue;
						if (ec_id_cmp(&dk, &d) < 0)
							nearer++;
					}
					int listed = 0;
					for (size_t j = 0; j < 4; j++)
						if (ec_id_eq(&nb[side * 4 + j], p))
							listed = 1 + (int)j;
					if (nearer < 4) {
						assert_int_equal(listed, nearer + 1);
						assert_true(ec_peerset_is_eligible(&ps, p, &t));
					} else {
						assert_int_equal(listed, 0);
					}
				}
			}
			/* exactly 8 distinct eligible peers */
			int elig = 0;
			for (size_t i = 0; i < ps.n; i++)
				elig += ec_peerset_is_eligible(&ps, &ps.ids[i], &t);
			assert_int_equal(elig, 8);
		}
		ec_peerset_free(&ps);
	}
}

/* would_be_eligible(ps, id, t) equals is_eligible in a copy of ps with id
 * added: random sets, ids equal to t, members and non-members. */
static void test_would_be_eligible(void **state)
{
	uint64_t s = 11;
	(void)state;
	for (int round = 0; round < 2000; round++) {
		ec_peerset ps, with;
		size_t n = (size_t)(tu_rand_u64(&s) % 24);
		ec_id t, id;
		random_set(&ps, &s, n);
		tu_rand_bytes(&s, t.b, 32);
		tu_rand_bytes(&s, id.b, 32);
		if (round % 7 == 0)
			id = t;
		if (round % 11 == 0 && ps.n)
			id = ps.ids[tu_rand_u64(&s) % ps.n];
		if (round % 13 == 0 && ps.n)
			t = ps.ids[tu_rand_u64(&s) % ps.n];
		ec_peerset_init(&with);
		for (size_t i = 0; i < ps.n; i++)
			assert_int_equal(ec_peerset_add(&with, &ps.ids[i]), EC_OK);
		(void)ec_peerset_add(&with, &id);
		assert_int_equal(ec_peerset_would_be_eligible(&ps, &id, &t),
				 ec_peerset_is_eligible(&with, &id, &t));
		ec_peerset_free(&with);
		ec_peerset_free(&ps);
	}
}

static void test_closest_bruteforce(void **state)
{
	uint64_t s = 99;
	for (int round = 0; round < 200; round++) {
		ec_peerset ps;
		size_t n = 1 + (size_t)(tu_rand_u64(&s) % 30), want;
		ec_id t, out[30];
		random_set(&ps, &s, n);
		tu_rand_bytes(&s, t.b, 32);
		want = 1 + (size_t)(tu_rand_u64(&s) % 12);
		size_t m = ec_peerset_closest(&ps, &t, want, out);
		assert_int_equal(m, want < n ? want : n);
		for (size_t i = 1; i < m; i++)
			assert_true(ec_ring_closer(&t, &out[i - 1], &out[i]) < 0);
		/* nothing outside the answer is closer than its last element */
		for (size_t i = 0; i < ps.n; i++) {
			int in = 0;
			for (size_t j = 0; j < m; j++)
				in |= ec_id_eq(&out[j], &ps.ids[i]);
			if (!in)
				assert_true(ec_ring_closer(&t, &out[m - 1], &ps.ids[i]) < 0);
		}
		ec_peerset_free(&ps);
	}
}

static void test_add_remove(void **state)
{
	ec_peerset ps;
	ec_id a = id_u64(1), b = id_u64(2);
	ec_peerset_init(&ps);
	assert_int_equal(ec_peerset_add(&ps, &b), EC_OK);
	assert_int_equal(ec_peerset_add(&ps, &a), EC_OK);
	assert_int_equal(ec_peerset_add(&ps, &a), EC_ERR_EXISTS);
	assert_true(ec_peerset_contains(&ps, &a));
	assert_int_equal(ec_peerset_remove(&ps, &a), EC_OK);
	assert_int_equal(ec_peerset_remove(&ps, &a), EC_ERR_NOTFOUND);
	assert_false(ec_peerset_contains(&ps, &a));
	assert_int_equal(ps.n, 1);
	/* a peer not in the set is never eligible */
	assert_false(ec_peerset_is_eligible(&ps, &a, &a));
	ec_peerset_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sub_and_distance),
		cmocka_unit_test(test_neighbourhood_bruteforce),
		cmocka_unit_test(test_would_be_eligible),
		cmocka_unit_test(test_closest_bruteforce),
		cmocka_unit_test(test_add_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
