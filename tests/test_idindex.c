/* test_idindex.c - util/ec_idindex.h: insert, get, grow and remove
 * (backward shift) against a reference, with keys chosen to collide on
 * the home slot and to wrap around the table's end, so every shift case
 * runs; after every step each present item is found and each removed one
 * is not. */
#include <stdlib.h>

#include "testutil.h"
#include "util/ec_idindex.h"

#define N 300

typedef struct item {
	int present;
	ec_id key;
} item;

/* Home slots crowd into a few values (the first 8 bytes are the hash):
 * 0, the last slots of a 64- or 1024-slot table, and a handful more. */
static void make_key(uint64_t *s, ec_id *k)
{
	static const uint64_t homes[] = {0, 1, 62, 63, 1022, 1023, 500, 7};
	uint64_t h = homes[tu_rand_u64(s) % 8];
	tu_rand_bytes(s, k->b, sizeof k->b);
	for (int i = 0; i < 8; i++)
		k->b[i] = (uint8_t)(h >> (56 - 8 * i));
}

static void check_all(const ec_idindex *x, item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *got = ec_idindex_get(x, &it[i].key);
		if (it[i].present)
			assert_ptr_equal(got, &it[i]);
		else
			assert_null(got);
	}
}

static void test_remove_backward_shift(void **state)
{
	static item it[N];
	ec_idindex x;
	uint64_t s = 99;
	size_t held = 0;
	int emptied;
	assert_int_equal(ec_idindex_init(&x, offsetof(item, key)), EC_OK);
	for (size_t i = 0; i < N; i++)
		make_key(&s, &it[i].key);
	for (int step = 0; step < 3000; step++) {
		size_t i = tu_rand_u64(&s) % N;
		if (it[i].present) {
			assert_int_equal(ec_idindex_remove(&x, &it[i]), 1);
			assert_int_equal(ec_idindex_remove(&x, &it[i]), 0);
			it[i].present = 0;
			held--;
		} else {
			assert_int_equal(ec_idindex_reserve(&x, held + 1, &emptied), EC_OK);
			if (emptied)
				for (size_t j = 0; j < N; j++)
					if (it[j].present)
						ec_idindex_insert(&x, &it[j]);
			ec_idindex_insert(&x, &it[i]);
			it[i].present = 1;
			held++;
		}
		if (step % 7 == 0)
			check_all(&x, it, N);
	}
	check_all(&x, it, N);
	/* removing everything leaves an empty table */
	for (size_t i = 0; i < N; i++)
		if (it[i].present)
			assert_int_equal(ec_idindex_remove(&x, &it[i]), 1);
	for (size_t i = 0; i < x.cap; i++)
		assert_null(x.slot[i]);
	ec_idindex_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_backward_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
