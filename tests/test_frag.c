/* test_frag.c - transport fragments and their reassembly (transport.h
 * "fragments", PROTOCOL 16 "Fragments"): the chunk rule, in-order,
 * reordered and duplicated fragments, a lost fragment freed by the
 * timeout, a forged fragment dropped by authentication, inconsistent and
 * malformed fragments (every header field out of range on its own, count
 * 0 included), conflicting and duplicate chunks, senders kept apart, a flood of first fragments
 * bounded per sender and in total, the maximum message size, and the
 * known-answer vector of PROTOCOL 16 (printed with EC_PRINT_VECTORS=1,
 * checked against Python `cryptography`). */
#include <stdio.h>
#include <stdlib.h>

#include "ec/crypto.h"
#include "ec/transport.h"
#include "testutil.h"

static const uint8_t P1[32] = {1}, P2[32] = {2};

static void hexprint(const char *name, const uint8_t *p, size_t n)
{
	printf("%s (%zu bytes): ", name, n);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* All fragment plaintexts of msg for a budget of max_plain bytes. */
typedef struct frags {
	size_t n;
	uint8_t *f[4096];
	size_t len[4096];
} frags;

static frags *split(const uint8_t *msg, size_t len, size_t max_plain, uint64_t id)
{
	frags *fs = calloc(1, sizeof *fs);
	assert_non_null(fs);
	fs->n = ec_frag_count(len, max_plain);
	assert_true(fs->n >= 2 && fs->n <= 4096);
	for (size_t i = 0; i < fs->n; i++) {
		fs->f[i] = malloc(max_plain);
		assert_int_equal(ec_frag_make(fs->f[i], max_plain, &fs->len[i], id, msg, len,
					      (uint16_t)i, (uint16_t)fs->n),
				 EC_OK);
		assert_true(fs->len[i] <= max_plain);
		assert_true(fs->len[i] > EC_FRAG_HEADER_BYTES);
	}
	return fs;
}

static void frags_free(frags *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i]);
	free(fs);
}

static ec_reasm *mk(uint32_t max_msg)
{
	ec_reasm_cfg c;
	ec_reasm *r;
	ec_reasm_cfg_default(&c);
	if (max_msg)
		c.max_msg = max_msg;
	assert_int_equal(ec_reasm_new(&r, &c), EC_OK);
	return r;
}

/* Feeds fragment i; returns the completed message or NULL. */
static uint8_t *feed(ec_reasm *r, const uint8_t *peer, frags *fs, size_t i, uint64_t now,
		     size_t *olen)
{
	uint8_t *m = NULL;
	assert_int_equal(ec_reasm_add(r, peer, fs->f[i], fs->len[i], now, &m, olen), EC_OK);
	return m;
}

static void test_chunk_rule(void **state)
{
	ec_frag_hdr h;
	uint8_t msg[10], out[64];
	size_t n;
	for (int i = 0; i < 10; i++)
		msg[i] = (uint8_t)i;
	/* 10 bytes in 4: c = 3, chunks 3,3,3,1 */
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(ec_frag_make(out, sizeof out, &n, 9, msg, 10, i, 4), EC_OK);
		assert_int_equal(ec_frag_parse(&h, out, n, 100), EC_OK);
		assert_int_equal(h.offset, 3u * i);
		assert_int_equal(h.chunk_len, i < 3 ? 3 : 1);
		assert_int_equal(h.total, 10);
		assert_true(h.msg_id == 9);
	}
	/* 10 bytes in 6: c = 2, the sixth chunk would be empty */
	assert_int_equal(ec_frag_make(out, sizeof out, &n, 9, msg, 10, 0, 6), EC_ERR_VALUE);
	assert_int_equal(ec_frag_make(out, sizeof out, &n, 9, msg, 10, 0, 1), EC_ERR_VALUE);
	assert_int_equal(ec_frag_make(out, sizeof out, &n, 9, msg, 10, 4, 4), EC_ERR_VALUE);
	/* count: ceil(len / room), balanced */
	assert_int_equal(ec_frag_count(1000, 16 + 100), 10);
	assert_int_equal(ec_frag_count(1001, 16 + 100), 11);
	assert_int_equal(ec_frag_count(50, 16 + 100), 2); /* never 1 */
	assert_int_equal(ec_frag_count(1, 16 + 100), 0);  /* cannot split */
	assert_int_equal(ec_frag_count(1000, 16), 0);     /* no room */
	assert_int_equal(ec_frag_count(70000, 17), 0);    /* > 65,535 fragments */
	for (size_t len = 2; len < 3000; len += 7) {
		size_t cnt = ec_frag_count(len, 16 + 97);
		uint32_t sum = 0;
		assert_true(cnt >= 2);
		for (uint16_t i = 0; i < cnt; i++) {
			uint8_t big[200], src[3000] = {0};
			assert_int_equal(ec_frag_make(big, sizeof big, &n, 1, src, len, i,
						      (uint16_t)cnt),
					 EC_OK);
			assert_true(n <= 16 + 97);
			assert_int_equal(ec_frag_parse(&h, big, n, 3000), EC_OK);
			assert_int_equal(h.offset, sum);
			sum += h.chunk_len;
		}
		assert_int_equal(sum, len);
	}
	/* parse: wrong lengths, limits */
	assert_int_equal(ec_frag_make(out, sizeof out, &n, 9, msg, 10, 0, 4), EC_OK);
	assert_int_equal(ec_frag_parse(&h, out, n - 1, 100), EC_ERR_SHORT);
	assert_int_equal(ec_frag_parse(&h, out, 15, 100), EC_ERR_SHORT);
	out[n] = 0;
	assert_int_equal(ec_frag_parse(&h, out, n + 1, 100), EC_ERR_TRAILING);
	assert_int_equal(ec_frag_parse(&h, out, n, 9), EC_ERR_LIMIT);
	out[10] = 0, out[11] = 1; /* count 1 */
	assert_int_equal(ec_frag_parse(&h, out, n, 100), EC_ERR_VALUE);
}

static void check_sizes(size_t len, size_t max_plain, int order)
{
	uint8_t *msg = malloc(len), *got;
	uint64_t rs = len * 31 + max_plain;
	size_t olen = 0, perm[4096];
	ec_reasm *r = mk(0);
	ec_reasm_stats st;
	tu_rand_bytes(&rs, msg, len);
	frags *fs = split(msg, len, max_plain, 77);
	for (size_t i = 0; i < fs->n; i++)
		perm[i] = order == 1 ? fs->n - 1 - i : i;
	if (order == 2) /* a seeded shuffle */
		for (size_t i = fs->n - 1; i > 0; i--) {
			size_t j = tu_rand_u64(&rs) % (i + 1), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
	for (size_t i = 0; i + 1 < fs->n; i++)
		assert_null(feed(r, P1, fs, perm[i], 1000, &olen));
	got = feed(r, P1, fs, perm[fs->n - 1], 1000, &olen);
	assert_non_null(got);
	assert_int_equal(olen, len);
	assert_memory_equal(got, msg, len);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.fragments, fs->n);
	assert_int_equal(st.held_msgs, 0);
	assert_int_equal(st.held_bytes, 0);
	free(got);
	free(msg);
	frags_free(fs);
	ec_reasm_free(r);
}

static void test_in_order_reordered(void **state)
{
	const size_t budgets[] = {1232 - EC_DGRAM_OVERHEAD, 600 - EC_DGRAM_OVERHEAD, 64};
	const size_t lens[] = {1427, 1500, 4000, 23000, 65449, 100000};
	for (int o = 0; o < 3; o++)
		for (size_t b = 0; b < 3; b++)
			for (size_t l = 0; l < 6; l++)
				if (lens[l] / (budgets[b] - 16) < 4000)
					check_sizes(lens[l], budgets[b], o);
}

static void test_duplicate_and_interleaved(void **state)
{
	uint8_t a[5000], b[3000], *got;
	uint64_t rs = 5;
	size_t olen;
	ec_reasm *r = mk(0);
	ec_reasm_stats st;
	tu_rand_bytes(&rs, a, sizeof a);
	tu_rand_bytes(&rs, b, sizeof b);
	frags *fa = split(a, sizeof a, 1000, 10), *fb = split(b, sizeof b, 1000, 11);
	/* the same msg_id from another sender is another message */
	frags *fc = split(b, sizeof b, 1000, 10);
	assert_null(feed(r, P1, fa, 0, 1, &olen));
	assert_null(feed(r, P1, fa, 0, 1, &olen)); /* duplicate */
	assert_null(feed(r, P1, fb, 1, 2, &olen));
	assert_null(feed(r, P2, fc, 0, 2, &olen));
	for (size_t i = 1; i + 1 < fa->n; i++) {
		assert_null(feed(r, P1, fa, i, 3, &olen));
		assert_null(feed(r, P1, fa, i, 3, &olen)); /* duplicate */
	}
	got = feed(r, P1, fa, fa->n - 1, 4, &olen);
	assert_non_null(got);
	assert_int_equal(olen, sizeof a);
	assert_memory_equal(got, a, sizeof a);
	free(got);
	/* a late duplicate after completion starts nothing complete */
	assert_null(feed(r, P1, fa, 0, 5, &olen));
	for (size_t i = 0; i < fb->n; i++)
		if (i != 1) {
			got = feed(r, P1, fb, i, 6, &olen);
			assert_true(got == NULL || i == fb->n - 1);
			if (got) {
				assert_int_equal(olen, sizeof b);
				assert_memory_equal(got, b, sizeof b);
			}
			free(got);
		}
	ec_reasm_get_stats(r, &st);
	/* fb finished on its last fragment */
	assert_int_equal(st.completed, 2);
	for (size_t i = 1; i < fc->n; i++)
		got = feed(r, P2, fc, i, 7, &olen);
	assert_non_null(got);
	assert_memory_equal(got, b, sizeof b);
	free(got);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.completed, 3);
	assert_int_equal(st.duplicate, 1 + (fa->n - 2));
	assert_int_equal(st.held_msgs, 1); /* the late duplicate's partial */
	frags_free(fa);
	frags_free(fb);
	frags_free(fc);
	ec_reasm_free(r);
}

static void test_lost_fragment_times_out(void **state)
{
	uint8_t a[10000];
	uint64_t rs = 6;
	size_t olen;
	ec_reasm *r = mk(0);
	ec_reasm_stats st;
	tu_rand_bytes(&rs, a, sizeof a);
	frags *fa = split(a, sizeof a, 1174, 1);
	for (size_t i = 0; i < fa->n; i++)
		if (i != 3)
			assert_null(feed(r, P1, fa, i, 100 + i, &olen));
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 1);
	assert_int_equal(st.held_bytes, sizeof a);
	assert_true(ec_reasm_next_deadline(r) == 100 + 5000);
	/* one ms before the timeout it is still held; at it, freed */
	assert_int_equal(ec_reasm_expire(r, 5099), 0);
	assert_int_equal(ec_reasm_expire(r, 5100), 1);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 0);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(st.timed_out, 1);
	assert_true(ec_reasm_next_deadline(r) == UINT64_MAX);
	/* the lost fragment arriving late starts a new partial, never a
	 * message from stale pieces */
	assert_null(feed(r, P1, fa, 3, 6000, &olen));
	/* and ec_reasm_add expires by itself */
	assert_null(feed(r, P2, fa, 0, 20000, &olen));
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.timed_out, 2);
	assert_int_equal(st.held_msgs, 1);
	ec_reasm_drop_peer(r, P2);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 0);
	frags_free(fa);
	ec_reasm_free(r);
}

static void test_inconsistent_and_malformed(void **state)
{
	uint8_t a[3000], b[3001];
	uint64_t rs = 7;
	size_t olen;
	ec_reasm *r = mk(0);
	ec_reasm_stats st;
	tu_rand_bytes(&rs, a, sizeof a);
	tu_rand_bytes(&rs, b, sizeof b);
	frags *fa = split(a, sizeof a, 1000, 5), *fb = split(b, sizeof b, 1000, 5);
	assert_null(feed(r, P1, fa, 0, 1, &olen));
	/* same msg_id, another total: the partial message goes with it */
	assert_null(feed(r, P1, fb, 1, 1, &olen));
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.inconsistent, 1);
	assert_int_equal(st.held_msgs, 0);
	/* a fragment whose length breaks the chunk rule (an overlap) */
	uint8_t bad[1100];
	memcpy(bad, fa->f[1], fa->len[1]);
	uint8_t *m = NULL;
	assert_int_equal(ec_reasm_add(r, P1, bad, fa->len[1] - 1, 2, &m, &olen), EC_OK);
	assert_null(m);
	bad[fa->len[1]] = 0xaa;
	assert_int_equal(ec_reasm_add(r, P1, bad, fa->len[1] + 1, 2, &m, &olen), EC_OK);
	assert_null(m);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.malformed, 2);
	assert_int_equal(st.held_msgs, 0);
	frags_free(fa);
	frags_free(fb);
	ec_reasm_free(r);
}

/* Feeds one raw fragment from P1 and expects it dropped as malformed with
 * nothing held and nothing handed out. */
static void expect_malformed(ec_reasm *r, const uint8_t *f, size_t n, int parse_err)
{
	ec_reasm_stats a, b;
	ec_frag_hdr h;
	uint8_t *m = NULL;
	size_t ml = 0;
	assert_int_equal(ec_frag_parse(&h, f, n, 262144), parse_err);
	ec_reasm_get_stats(r, &a);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 1, &m, &ml), EC_OK);
	assert_null(m);
	ec_reasm_get_stats(r, &b);
	assert_int_equal(b.malformed, a.malformed + 1);
	assert_int_equal(b.held_msgs, a.held_msgs);
	assert_int_equal(b.held_bytes, a.held_bytes);
}

/* Every header field a peer controls, each out of range on its own: the
 * fields are refused before they enter any arithmetic (count 0 is a
 * divisor of the chunk rule). */
static void test_malformed_headers(void **state)
{
	static uint8_t f[EC_FRAG_HEADER_BYTES + 70000];
	ec_reasm *r = mk(0);
	uint8_t msg[8];
	size_t n, ol;
	/* count 0, with and without a chunk, any index and total */
	n = tu_frag_raw(f, 1, 0, 0, 100, 0, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 1, 0, 0, 100, 50, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 1, 65535, 0, 0xffffffffu, 1, 0);
	expect_malformed(r, f, n, EC_ERR_LIMIT);
	n = tu_frag_raw(f, 1, 65535, 0, 262144, 1, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	/* count 1: a message of one fragment is never fragmented */
	n = tu_frag_raw(f, 2, 0, 1, 100, 100, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	/* index >= count */
	n = tu_frag_raw(f, 3, 2, 2, 100, 50, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 3, 65535, 2, 100, 50, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 3, 65535, 65535, 262144, 4, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	/* total 0 */
	n = tu_frag_raw(f, 4, 0, 2, 0, 0, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 4, 1, 65535, 0, 0, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	/* total over the receiver's limit, up to the largest u32 */
	n = tu_frag_raw(f, 5, 0, 2, 262145, 1, 0);
	expect_malformed(r, f, n, EC_ERR_LIMIT);
	n = tu_frag_raw(f, 5, 0, 65535, 0xffffffffu, 1, 0);
	expect_malformed(r, f, n, EC_ERR_LIMIT);
	/* total < count: some chunk would be empty (also total 10, count 6) */
	n = tu_frag_raw(f, 6, 0, 65535, 100, 1, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	n = tu_frag_raw(f, 6, 0, 6, 10, 2, 0);
	expect_malformed(r, f, n, EC_ERR_VALUE);
	/* header cut short, chunk short of / past the rule's length */
	expect_malformed(r, f, EC_FRAG_HEADER_BYTES - 1, EC_ERR_SHORT);
	n = tu_frag_raw(f, 7, 0, 2, 100, 49, 0);
	expect_malformed(r, f, n, EC_ERR_SHORT);
	n = tu_frag_raw(f, 7, 1, 2, 100, 51, 0);
	expect_malformed(r, f, n, EC_ERR_TRAILING);
	/* the largest count with its last chunk still parses (c = 4 here) */
	n = tu_frag_raw(f, 8, 65534, 65535, 65535u * 4, 4, 0);
	{
		ec_frag_hdr h;
		assert_int_equal(ec_frag_parse(&h, f, n, 262144), EC_OK);
		assert_int_equal(h.count, 65535);
		assert_int_equal(h.offset + h.chunk_len, 65535u * 4);
	}
	/* ec_frag_make refuses the same fields without dividing by them */
	memset(msg, 1, sizeof msg);
	assert_int_equal(ec_frag_make(f, sizeof f, &ol, 1, msg, sizeof msg, 0, 0), EC_ERR_VALUE);
	assert_int_equal(ec_frag_make(f, sizeof f, &ol, 1, msg, 0, 0, 2), EC_ERR_VALUE);
	assert_int_equal(ec_frag_make(f, sizeof f, &ol, 1, msg, sizeof msg, 3, 3), EC_ERR_VALUE);
	ec_reasm_free(r);
}

/* Fragments of one msg_id that disagree with the first one: another count
 * (chunks that would overlap the held ones) or another total; and a
 * duplicate index with other bytes, which must not overwrite the first. */
static void test_conflicting_fragments(void **state)
{
	static uint8_t f[EC_FRAG_HEADER_BYTES + 4096];
	ec_reasm *r = mk(0);
	ec_reasm_stats st;
	uint8_t *m = NULL;
	size_t n, ol;
	/* 3000 bytes in 3 chunks of 1000; then index 1 of a 2-fragment split
	 * of 3000 (bytes 1500..3000: overlaps chunks 1 and 2) */
	n = tu_frag_raw(f, 9, 0, 3, 3000, 1000, 0xa0);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 1, &m, &ol), EC_OK);
	n = tu_frag_raw(f, 9, 1, 2, 3000, 1500, 0xb1);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 1, &m, &ol), EC_OK);
	assert_null(m);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.inconsistent, 1);
	assert_int_equal(st.held_msgs, 0);
	assert_int_equal(st.held_bytes, 0);
	/* the rest of the first split starts nothing complete */
	n = tu_frag_raw(f, 9, 1, 3, 3000, 1000, 0xa1);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 1, &m, &ol), EC_OK);
	n = tu_frag_raw(f, 9, 2, 3, 3000, 1000, 0xa2);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 1, &m, &ol), EC_OK);
	assert_null(m);
	/* another total under the same count */
	n = tu_frag_raw(f, 10, 0, 2, 100, 50, 0xc0);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 2, &m, &ol), EC_OK);
	n = tu_frag_raw(f, 10, 1, 2, 102, 51, 0xc1);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 2, &m, &ol), EC_OK);
	assert_null(m);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.inconsistent, 2);
	/* a duplicate of index 0 with other bytes: the first copy stays */
	n = tu_frag_raw(f, 11, 0, 2, 100, 50, 0xd0);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 3, &m, &ol), EC_OK);
	n = tu_frag_raw(f, 11, 0, 2, 100, 50, 0xee);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 3, &m, &ol), EC_OK);
	assert_null(m);
	n = tu_frag_raw(f, 11, 1, 2, 100, 50, 0xd1);
	assert_int_equal(ec_reasm_add(r, P1, f, n, 3, &m, &ol), EC_OK);
	assert_non_null(m);
	assert_int_equal(ol, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(m[i], i < 50 ? 0xd0 : 0xd1);
	free(m);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.duplicate, 1);
	ec_reasm_free(r);
}

static void test_max_size(void **state)
{
	const uint32_t max = 40000;
	uint8_t *a = malloc(max + 1), *got;
	uint64_t rs = 8;
	size_t olen;
	ec_reasm *r = mk(max);
	ec_reasm_stats st;
	tu_rand_bytes(&rs, a, max + 1);
	frags *fa = split(a, max, 1174, 1), *fb = split(a, max + 1, 1174, 2);
	for (size_t i = 0; i < fb->n; i++)
		assert_null(feed(r, P1, fb, i, 1, &olen));
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.malformed, fb->n); /* one byte over: nothing held */
	assert_int_equal(st.held_bytes, 0);
	got = NULL;
	for (size_t i = 0; i < fa->n; i++)
		got = feed(r, P1, fa, i, 1, &olen);
	assert_non_null(got);
	assert_int_equal(olen, max);
	assert_memory_equal(got, a, max);
	free(got);
	free(a);
	frags_free(fa);
	frags_free(fb);
	ec_reasm_free(r);
	/* contradicting limits are refused */
	ec_reasm_cfg c;
	ec_reasm_cfg_default(&c);
	c.max_msg = c.max_bytes_peer + 1;
	assert_int_equal(ec_reasm_new(&r, &c), EC_ERR_VALUE);
	ec_reasm_cfg_default(&c);
	c.timeout_ms = 0;
	assert_int_equal(ec_reasm_new(&r, &c), EC_ERR_VALUE);
}

/* First fragments claiming the largest message, each of a new msg_id. */
static void flood(ec_reasm *r, const uint8_t *peer, uint64_t id0, size_t k, uint64_t now)
{
	uint8_t f[16 + 2000];
	size_t olen;
	uint8_t *m;
	static uint8_t big[262144];
	for (size_t i = 0; i < k; i++) {
		size_t n;
		uint16_t cnt = (uint16_t)ec_frag_count(sizeof big, 16 + 1200);
		assert_int_equal(ec_frag_make(f, sizeof f, &n, id0 + i, big, sizeof big, 0, cnt),
				 EC_OK);
		assert_int_equal(ec_reasm_add(r, peer, f, n, now, &m, &olen), EC_OK);
		assert_null(m);
	}
}

static void test_flood_bounded(void **state)
{
	ec_reasm_cfg c;
	ec_reasm_stats st;
	ec_reasm *r = mk(0);
	uint8_t legit[3000], *got = NULL, peer[32] = {0};
	uint64_t rs = 9;
	size_t olen;
	ec_reasm_cfg_default(&c);
	/* one sender: 10,000 first fragments of 256 KiB messages */
	flood(r, P1, 1, 10000, 10);
	ec_reasm_get_stats(r, &st);
	assert_true(st.held_msgs <= c.max_partial_peer);
	assert_true(st.held_bytes <= c.max_bytes_peer);
	assert_int_equal(st.evicted, 10000 - st.held_msgs);
	ec_reasm_drop_peer(r, P1);
	/* a legitimate sender starts a message, then 2,000 senders flood */
	tu_rand_bytes(&rs, legit, sizeof legit);
	frags *fl = split(legit, sizeof legit, 1174, 1);
	assert_null(feed(r, P2, fl, 0, 20, &olen));
	for (int i = 0; i < 2000; i++) {
		peer[0] = 0xf0;
		peer[1] = (uint8_t)(i >> 8);
		peer[2] = (uint8_t)i;
		flood(r, peer, 1, 2, 21);
		ec_reasm_get_stats(r, &st);
		assert_true(st.held_msgs <= c.max_partial);
		assert_true(st.held_bytes <= c.max_bytes);
	}
	/* the flooders displaced each other (the heaviest first), not the
	 * light legitimate message */
	for (size_t i = 1; i < fl->n; i++)
		got = feed(r, P2, fl, i, 22, &olen);
	assert_non_null(got);
	assert_memory_equal(got, legit, sizeof legit);
	free(got);
	/* everything goes at the timeout */
	ec_reasm_expire(r, 21 + c.timeout_ms);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 0);
	assert_int_equal(st.held_bytes, 0);
	frags_free(fl);
	ec_reasm_free(r);
}

/* First fragment (index 0 of 2) of a message of `total` bytes. */
static void first_of(ec_reasm *r, const uint8_t *peer, uint64_t id, uint32_t total,
		     uint64_t now)
{
	static uint8_t f[EC_FRAG_HEADER_BYTES + 4096];
	uint8_t *m = NULL;
	size_t n = tu_frag_raw(f, id, 0, 2, total, (total + 1) / 2, (uint8_t)id), ol;
	assert_int_equal(ec_reasm_add(r, peer, f, n, now, &m, &ol), EC_OK);
	assert_null(m);
}

/* Second fragment: 1 when it completed the message. */
static int second_of(ec_reasm *r, const uint8_t *peer, uint64_t id, uint32_t total,
		     uint64_t now)
{
	static uint8_t f[EC_FRAG_HEADER_BYTES + 4096];
	uint8_t *m = NULL;
	size_t n = tu_frag_raw(f, id, 1, 2, total, total / 2, (uint8_t)id), ol;
	assert_int_equal(ec_reasm_add(r, peer, f, n, now, &m, &ol), EC_OK);
	free(m);
	return m != NULL;
}

/* What each sender holds is kept up to date through completion, timeout
 * and drop_peer (a sender that finished its messages may start as many
 * again without evicting anything), and past the global limit the
 * oldest message of the sender holding the most bytes goes first. */
static void test_sender_accounting(void **state)
{
	ec_reasm_cfg c;
	ec_reasm_stats st;
	ec_reasm *r;
	ec_reasm_cfg_default(&c);
	r = mk(0);
	for (uint64_t id = 1; id <= 4; id++)
		first_of(r, P1, id, 1000, 1);
	assert_true(second_of(r, P1, 1, 1000, 2) && second_of(r, P1, 2, 1000, 2));
	first_of(r, P1, 5, 1000, 3);
	first_of(r, P1, 6, 1000, 3);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 4);
	assert_int_equal(st.held_bytes, 4000);
	assert_int_equal(st.evicted, 0);
	ec_reasm_expire(r, 3 + c.timeout_ms);
	for (uint64_t id = 7; id <= 10; id++)
		first_of(r, P1, id, 1000, 4 + c.timeout_ms);
	ec_reasm_drop_peer(r, P1);
	for (uint64_t id = 11; id <= 14; id++)
		first_of(r, P1, id, 1000, 5 + c.timeout_ms);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.held_msgs, 4);
	assert_int_equal(st.evicted, 0);
	/* a fifth message: P1's oldest (11) goes, 12..15 complete */
	first_of(r, P1, 15, 1000, 6 + c.timeout_ms);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.evicted, 1);
	for (uint64_t id = 12; id <= 15; id++)
		assert_true(second_of(r, P1, id, 1000, 7 + c.timeout_ms));
	assert_false(second_of(r, P1, 11, 1000, 7 + c.timeout_ms));
	ec_reasm_free(r);

	/* global limit of 4 messages: P1 holds 2 x 1000 bytes, P2 2 x 100;
	 * a message from P3 evicts P1's oldest, not P2's older ones */
	c.max_partial = 4;
	assert_int_equal(ec_reasm_new(&r, &c), EC_OK);
	first_of(r, P2, 21, 100, 1);
	first_of(r, P2, 22, 100, 2);
	first_of(r, P1, 23, 1000, 3);
	first_of(r, P1, 24, 1000, 4);
	first_of(r, (const uint8_t[32]){3}, 25, 100, 5);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.held_msgs, 4);
	assert_int_equal(st.held_bytes, 100 + 100 + 1000 + 100);
	assert_true(second_of(r, P2, 21, 100, 6) && second_of(r, P2, 22, 100, 6));
	assert_true(second_of(r, P1, 24, 1000, 6));
	assert_false(second_of(r, P1, 23, 1000, 6));
	ec_reasm_free(r);
	/* equal bytes: the one holding more messages goes first, then (equal
	 * counts too) the lower key */
	assert_int_equal(ec_reasm_new(&r, &c), EC_OK);
	first_of(r, P2, 31, 100, 1);
	first_of(r, P2, 32, 100, 2);
	first_of(r, P1, 33, 200, 3);
	first_of(r, (const uint8_t[32]){4}, 34, 100, 4);
	first_of(r, (const uint8_t[32]){5}, 35, 100, 5);
	ec_reasm_get_stats(r, &st);
	assert_int_equal(st.evicted, 1);
	assert_true(second_of(r, P2, 32, 100, 6) && second_of(r, P1, 33, 200, 6));
	assert_false(second_of(r, P2, 31, 100, 6));
	ec_reasm_free(r);
	assert_int_equal(ec_reasm_new(&r, &c), EC_OK);
	first_of(r, P2, 41, 100, 1);
	first_of(r, P1, 42, 100, 2);
	first_of(r, (const uint8_t[32]){4}, 43, 50, 3);
	first_of(r, (const uint8_t[32]){5}, 44, 50, 4);
	first_of(r, (const uint8_t[32]){6}, 45, 50, 5);
	assert_true(second_of(r, P2, 41, 100, 6));
	assert_false(second_of(r, P1, 42, 100, 6));
	ec_reasm_free(r);
}

/* Fragments travel sealed: a forged or altered fragment fails
 * authentication and never reaches the reassembler; a fragment sealed
 * for another receiver does not open. */
static void test_forged_fragment(void **state)
{
	ec_kx_keypair a, b, c;
	ec_transport_keys k, kb, kc;
	uint8_t seed[32], msg[4000], d[1300], pt[1300];
	uint64_t rs = 10;
	size_t n, ptlen;
	ec_dgram_hdr h;
	memset(seed, 1, 32);
	ec_kx_keypair_from_seed(&a, seed);
	memset(seed, 2, 32);
	ec_kx_keypair_from_seed(&b, seed);
	memset(seed, 3, 32);
	ec_kx_keypair_from_seed(&c, seed);
	assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_transport_derive(&kb, &b, a.pk, 7), EC_OK);
	assert_int_equal(ec_transport_derive(&kc, &c, a.pk, 7), EC_OK);
	tu_rand_bytes(&rs, msg, sizeof msg);
	frags *fs = split(msg, sizeof msg, 1232 - EC_DGRAM_OVERHEAD, 500);
	ec_reasm *r = mk(0);
	uint8_t *got = NULL;
	size_t olen;
	for (size_t i = 0; i < fs->n; i++) {
		assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, k.tx, a.pk, 500 + i,
						     EC_DGRAM_FLAG_FRAG, fs->f[i], fs->len[i]),
				 EC_OK);
		assert_true(n <= 1232);
		assert_int_equal(ec_dgram_parse(&h, d, n), EC_OK);
		assert_int_equal(h.flags, EC_DGRAM_FLAG_FRAG);
		/* the receiver c cannot open what was sealed for b */
		assert_int_equal(ec_dgram_open(pt, &ptlen, kc.rx, d, n), EC_ERR_SIGNATURE);
		/* one flipped byte in the fragment header, or the flag cleared */
		d[EC_DGRAM_HEADER_BYTES + 3] ^= 0x40;
		assert_int_equal(ec_dgram_open(pt, &ptlen, kb.rx, d, n), EC_ERR_SIGNATURE);
		d[EC_DGRAM_HEADER_BYTES + 3] ^= 0x40;
		d[1] = 0;
		assert_int_equal(ec_dgram_open(pt, &ptlen, kb.rx, d, n), EC_ERR_SIGNATURE);
		d[1] = EC_DGRAM_FLAG_FRAG;
		assert_int_equal(ec_dgram_open(pt, &ptlen, kb.rx, d, n), EC_OK);
		assert_int_equal(ec_reasm_add(r, a.pk, pt, ptlen, 1, &got, &olen), EC_OK);
	}
	assert_non_null(got);
	assert_memory_equal(got, msg, sizeof msg);
	free(got);
	/* other flag bits are refused before any crypto */
	d[1] = 0x04;
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_ERR_VALUE);
	assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, k.tx, a.pk, 1, 0x80, msg, 10),
			 EC_ERR_VALUE);
	frags_free(fs);
	ec_reasm_free(r);
}

/* PROTOCOL 16 "Fragments" test vector: A = X25519 secret 32x01, B = 32x02,
 * network 7, the 7-byte message "ec/frag" in 2 fragments, msg_id =
 * 0x0000000100000005 = the first fragment's counter. */
#define VEC_F0                                                                 \
	"01010000000100000005a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc" \
	"2b4409f8a209a87545f8c4a223c746ae63ad8f52624929d52ab96af679a88a923afd50a6" \
	"e86860c754d3"
#define VEC_F1                                                                 \
	"01010000000100000006a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc" \
	"2b4409f8a209a8a6340b0abda5ef47828ef9e1337a9a6a3cc71eada46345afd211050ada" \
	"23022b82f1"

static void test_vector(void **state)
{
	ec_kx_keypair a, b;
	ec_transport_keys k, kb;
	uint8_t seed[32], d[2][200], f[64], pt[200], *got = NULL;
	size_t n[2], fl, ptlen, olen;
	const uint8_t *msg = (const uint8_t *)"ec/frag";
	const uint64_t id = 0x0000000100000005ull;
	memset(seed, 1, 32);
	ec_kx_keypair_from_seed(&a, seed);
	memset(seed, 2, 32);
	ec_kx_keypair_from_seed(&b, seed);
	assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_transport_derive(&kb, &b, a.pk, 7), EC_OK);
	for (uint16_t i = 0; i < 2; i++) {
		assert_int_equal(ec_frag_make(f, sizeof f, &fl, id, msg, 7, i, 2), EC_OK);
		assert_int_equal(ec_dgram_seal_flags(d[i], sizeof d[i], &n[i], k.tx, a.pk, id + i,
						     EC_DGRAM_FLAG_FRAG, f, fl),
				 EC_OK);
		if (getenv("EC_PRINT_VECTORS")) {
			char name[32];
			snprintf(name, sizeof name, "fragment %u", i);
			hexprint(name, d[i], n[i]);
		}
	}
	tu_assert_hex(d[0], n[0], VEC_F0);
	tu_assert_hex(d[1], n[1], VEC_F1);
	ec_reasm *r = mk(0);
	for (int i = 1; i >= 0; i--) { /* reordered */
		assert_int_equal(ec_dgram_open(pt, &ptlen, kb.rx, d[i], n[i]), EC_OK);
		assert_int_equal(ec_reasm_add(r, a.pk, pt, ptlen, 1, &got, &olen), EC_OK);
	}
	assert_non_null(got);
	assert_int_equal(olen, 7);
	assert_memory_equal(got, "ec/frag", 7);
	free(got);
	ec_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_rule),
		cmocka_unit_test(test_in_order_reordered),
		cmocka_unit_test(test_duplicate_and_interleaved),
		cmocka_unit_test(test_lost_fragment_times_out),
		cmocka_unit_test(test_inconsistent_and_malformed),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_conflicting_fragments),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_sender_accounting),
		cmocka_unit_test(test_forged_fragment),
		cmocka_unit_test(test_vector),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
