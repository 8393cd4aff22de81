/* test_chain.c - the commit chain (src/core/ec_chain.c) and the chain file
 * codec (src/wire/ec_chainfile.c): jump references against a brute-force
 * reading of PROTOCOL.md 5.1 on random chains, seal/append/verify round
 * trips, every 5.2 rule broken once, segment verification above genesis,
 * seek against brute force, and the chain file's strictness. */
#include <stdlib.h>

#include "ec/chain.h"
#include "ec/chainfile.h"
#include "ec/crypto.h"
#include "testutil.h"
#include "util/ec_buf.h"

#define MIN_MS 60000ull
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

typedef struct fixture {
	ec_keypair kp;
	ec_id creator;
	ec_chain *chain;
	ec_block *blocks; /* copies, by height */
	size_t n;
} fixture;

enum gap_kind { GAPS_IRREGULAR, GAPS_SECOND, GAPS_MINUTE, GAPS_8H, GAPS_DAYS };

/* Next gap between timestamps: equal timestamps, seconds, minutes, hours,
 * days and gaps longer than 30 days all occur in GAPS_IRREGULAR. */
static uint64_t next_gap(uint64_t *rs, enum gap_kind kind)
{
	uint64_t r = tu_rand_u64(rs) % 100;
	switch (kind) {
	case GAPS_SECOND:
		return 1000;
	case GAPS_MINUTE:
		return MIN_MS;
	case GAPS_8H:
		return 8 * HOUR_MS;
	case GAPS_DAYS:
		return tu_rand_u64(rs) % (3 * DAY_MS);
	default:
		break;
	}
	if (r < 25)
		return 0;
	if (r < 65)
		return tu_rand_u64(rs) % (2 * MIN_MS);
	if (r < 85)
		return tu_rand_u64(rs) % (3 * HOUR_MS);
	if (r < 95)
		return tu_rand_u64(rs) % (3 * DAY_MS);
	if (r < 98)
		return tu_rand_u64(rs) % (40 * DAY_MS);
	/* exactly a delta, to hit the <= boundary */
	return ec_jump_delta_ms[tu_rand_u64(rs) % EC_JUMP_COUNT];
}

static void fx_build(fixture *f, uint64_t seed, size_t n, ec_time start,
		     enum gap_kind kind, unsigned max_txs)
{
	uint8_t kseed[32];
	uint64_t rs = seed;
	ec_time ts = start;

	memset(f, 0, sizeof *f);
	tu_rand_bytes(&rs, kseed, sizeof kseed);
	assert_int_equal(ec_keypair_from_seed(&f->kp, kseed), EC_OK);
	ec_keyhash(&f->creator, f->kp.pk);
	f->chain = ec_chain_new();
	assert_non_null(f->chain);
	f->blocks = calloc(n ? n : 1, sizeof *f->blocks);
	assert_non_null(f->blocks);
	for (size_t h = 0; h < n; h++) {
		ec_id txids[EC_BLOCK_MAX_TXS], ph;
		unsigned k = 1 + (unsigned)(tu_rand_u64(&rs) % max_txs);
		tu_rand_bytes(&rs, txids, k * sizeof txids[0]);
		tu_rand_bytes(&rs, &ph, sizeof ph);
		if (h)
			ts += next_gap(&rs, kind);
		assert_int_equal(ec_chain_seal(f->chain, &f->creator, ts, txids,
					       k, &ph, f->kp.sk, &f->blocks[h]),
				 EC_OK);
		f->n++;
	}
}

static void fx_free(fixture *f)
{
	ec_chain_free(f->chain);
	free(f->blocks);
}

/* PROTOCOL.md 5.1 read literally: newest block at a lower height with
 * timestamp <= ts - delta, zero if none. */
static void brute_jumps(const ec_block *blocks, size_t height, ec_time ts,
			ec_id out[EC_JUMP_COUNT])
{
	for (int i = 0; i < EC_JUMP_COUNT; i++) {
		memset(&out[i], 0, sizeof out[i]);
		if (ts < ec_jump_delta_ms[i])
			continue;
		for (size_t h = height; h-- > 0;) {
			if (blocks[h].timestamp <= ts - ec_jump_delta_ms[i]) {
				out[i] = blocks[h].id;
				break;
			}
		}
	}
}

static void test_jumps_match_brute_force(void **state)
{
	static const struct {
		ec_time start;
		enum gap_kind kind;
		size_t n;
	} cases[] = {
		{0, GAPS_IRREGULAR, 400},  /* timestamps below the deltas */
		{1700000000000ull, GAPS_IRREGULAR, 400},
		{1700000000000ull, GAPS_DAYS, 150},
		{5000, GAPS_SECOND, 200},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		fixture f;
		size_t nonzero[EC_JUMP_COUNT] = {0};
		fx_build(&f, 100 + c, cases[c].n, cases[c].start, cases[c].kind,
			 4);
		for (size_t h = 0; h < f.n; h++) {
			ec_id exp[EC_JUMP_COUNT];
			brute_jumps(f.blocks, h, f.blocks[h].timestamp, exp);
			for (int i = 0; i < EC_JUMP_COUNT; i++) {
				assert_memory_equal(exp[i].b,
						    f.blocks[h].jumps[i].b, 32);
				nonzero[i] += !ec_id_is_zero(&exp[i]);
			}
		}
		if (cases[c].kind == GAPS_IRREGULAR) /* every delta exercised */
			for (int i = 0; i < EC_JUMP_COUNT; i++)
				assert_true(nonzero[i] > 0);
		/* Queries for later and then earlier times (cursor fallback). */
		uint64_t rs = c;
		ec_time head = f.blocks[f.n - 1].timestamp;
		for (int q = 0; q < 200; q++) {
			ec_id got[EC_JUMP_COUNT], exp[EC_JUMP_COUNT];
			ec_time ts = head + tu_rand_u64(&rs) % (50 * DAY_MS);
			assert_int_equal(ec_chain_jumps(f.chain, ts, got), EC_OK);
			brute_jumps(f.blocks, f.n, ts, exp);
			assert_memory_equal(exp, got, sizeof exp);
		}
		if (head > 0) {
			ec_id got[EC_JUMP_COUNT];
			assert_int_equal(ec_chain_jumps(f.chain, head - 1, got),
					 EC_ERR_TIME);
		}
		fx_free(&f);
	}
}

static void test_seal_append_verify_round_trip(void **state)
{
	fixture f;
	ec_chain *c2 = ec_chain_new();
	ec_chain_fail fail;

	fx_build(&f, 7, 300, 1700000000000ull, GAPS_IRREGULAR, 32);
	assert_int_equal(ec_chain_length(f.chain), 300);
	assert_memory_equal(ec_chain_head(f.chain), &f.blocks[299],
			    sizeof(ec_block));
	assert_null(ec_chain_at(f.chain, 300));
	assert_null(ec_chain_head(c2));
	for (size_t h = 0; h < f.n; h++) {
		const ec_block *b = ec_chain_at(f.chain, h);
		assert_memory_equal(b, &f.blocks[h], sizeof *b);
		assert_ptr_equal(ec_chain_find(f.chain, &b->id), b);
		/* the encoding decodes to the same block */
		uint8_t buf[EC_BLOCK_MAX_BYTES];
		ec_block d;
		size_t len = ec_block_encode_to(b, buf);
		assert_int_equal(ec_block_decode(&d, buf, len), EC_OK);
		assert_memory_equal(&d, b, sizeof d);
		assert_int_equal(ec_chain_append(c2, &d, &fail), EC_OK);
	}
	assert_int_equal(ec_chain_length(c2), 300);
	ec_id none;
	memset(&none, 0x5a, sizeof none);
	assert_null(ec_chain_find(c2, &none));
	assert_int_equal(ec_chain_verify(f.blocks, f.n, &fail), EC_OK);
	assert_int_equal(fail.err, EC_OK);
	assert_int_equal(ec_chain_verify(NULL, 0, &fail), EC_OK);
	/* appending a valid block twice fails (height) */
	assert_int_equal(ec_chain_append(c2, &f.blocks[299], &fail),
			 EC_ERR_HEIGHT);
	assert_int_equal(fail.height, 300);
	ec_chain_free(c2);
	fx_free(&f);
}

static void test_seal_errors(void **state)
{
	fixture f;
	ec_id tx[EC_BLOCK_MAX_TXS + 1], ph, other;
	ec_time ts;

	fx_build(&f, 9, 3, 1700000000000ull, GAPS_SECOND, 4);
	ts = f.blocks[2].timestamp;
	memset(tx, 0, sizeof tx);
	for (unsigned i = 0; i <= EC_BLOCK_MAX_TXS; i++)
		tx[i].b[0] = (uint8_t)i, tx[i].b[1] = 1;
	memset(&ph, 0, sizeof ph);
	memset(&other, 7, sizeof other);
	assert_int_equal(ec_chain_seal(f.chain, &f.creator, ts - 1, tx, 1, &ph,
				       f.kp.sk, NULL),
			 EC_ERR_TIME);
	assert_int_equal(ec_chain_seal(f.chain, &f.creator, ts, tx, 0, &ph,
				       f.kp.sk, NULL),
			 EC_ERR_VALUE);
	assert_int_equal(ec_chain_seal(f.chain, &f.creator, ts, tx, 33, &ph,
				       f.kp.sk, NULL),
			 EC_ERR_LIMIT);
	assert_int_equal(ec_chain_seal(f.chain, &other, ts, tx, 1, &ph,
				       f.kp.sk, NULL),
			 EC_ERR_CREATOR);
	tx[1] = tx[0];
	assert_int_equal(ec_chain_seal(f.chain, &f.creator, ts, tx, 2, &ph,
				       f.kp.sk, NULL),
			 EC_ERR_ORDER);
	assert_int_equal(ec_chain_length(f.chain), 3);
	/* equal timestamp is fine */
	assert_int_equal(ec_chain_seal(f.chain, &f.creator, ts, tx + 1, 32,
				       &ph, f.kp.sk, NULL),
			 EC_OK);
	assert_int_equal(ec_chain_length(f.chain), 4);
	fx_free(&f);
}

/* Breaks one rule in a copy of the chain at height k, re-signing unless
 * the signature or id is what is broken, and checks that both the segment
 * verifier and ec_chain_append name height k and the expected error. */
enum mutation {
	M_HEIGHT, M_PREV, M_CREATOR, M_TIME, M_MERKLE, M_JUMP0, M_JUMP1,
	M_JUMP2, M_JUMP3, M_JUMP4, M_ID, M_SIG, M_SIGNER, M_NTXS0, M_DUP,
	M_COUNT
};

static int mutate(ec_block *b, const ec_block *parent, enum mutation m,
		  const uint8_t sk[64], int *jump)
{
	int resign = 1, err;
	*jump = -1;
	switch (m) {
	case M_HEIGHT:
		b->height++;
		err = EC_ERR_HEIGHT;
		break;
	case M_PREV:
		b->prev.b[31] ^= 1;
		err = EC_ERR_PREV;
		break;
	case M_CREATOR:
		b->creator.b[0] ^= 0x80;
		err = EC_ERR_CREATOR;
		break;
	case M_TIME:
		b->timestamp = parent->timestamp - 1;
		err = EC_ERR_TIME;
		break;
	case M_MERKLE:
		b->txids[0].b[5] ^= 4;
		err = EC_ERR_MERKLE;
		break;
	case M_JUMP0:
	case M_JUMP1:
	case M_JUMP2:
	case M_JUMP3:
	case M_JUMP4:
		*jump = (int)(m - M_JUMP0);
		b->jumps[*jump].b[17] ^= 0x10;
		err = EC_ERR_JUMP;
		break;
	case M_ID:
		b->id.b[3] ^= 1;
		resign = 0;
		err = EC_ERR_ID;
		break;
	case M_SIG:
		b->sig[10] ^= 1;
		resign = 0;
		err = EC_ERR_SIGNATURE;
		break;
	case M_SIGNER: /* the key in the block no longer matches the sig */
		b->signer_pk[0] ^= 1;
		resign = 0;
		ec_block_compute_id(b, &b->id); /* the id covers signer_pk */
		err = EC_ERR_SIGNATURE;
		break;
	case M_NTXS0:
		b->n_txs = 0;
		resign = 0;
		err = EC_ERR_VALUE;
		break;
	case M_DUP:
		b->txids[1] = b->txids[0];
		resign = 0;
		err = EC_ERR_ORDER;
		break;
	default:
		fail();
		return 0;
	}
	if (resign)
		assert_int_equal(ec_block_sign(b, sk), EC_OK);
	return err;
}

static void test_every_rule_broken_once(void **state)
{
	fixture f;
	const size_t k = 150; /* every jump reference is non-zero here */
	ec_block *copy;

	/* one block every 8 hours: 150 blocks span 50 days */
	fx_build(&f, 11, 160, 1700000000000ull, GAPS_8H, 8);
	for (int i = 0; i < EC_JUMP_COUNT; i++)
		assert_false(ec_id_is_zero(&f.blocks[k].jumps[i]));
	copy = malloc(f.n * sizeof *copy);
	assert_non_null(copy);
	for (int at_genesis = 0; at_genesis < 2; at_genesis++) {
		size_t kk = at_genesis ? 0 : k;
		for (int m = 0; m < M_COUNT; m++) {
			ec_chain_fail fail;
			ec_chain *c;
			int jump, err;

			/* Genesis: any creator is fine (block 1 then breaks
			 * the creator rule); prev and jumps are tested below,
			 * time has no parent. */
			if (at_genesis && (m == M_TIME || m == M_PREV ||
					   m == M_CREATOR ||
					   (m >= M_JUMP0 && m <= M_JUMP4)))
				continue;
			c = ec_chain_new();
			assert_non_null(c);
			memcpy(copy, f.blocks, f.n * sizeof *copy);
			err = mutate(&copy[kk], kk ? &copy[kk - 1] : NULL,
				     (enum mutation)m, f.kp.sk, &jump);
			assert_int_equal(ec_chain_verify(copy, f.n, &fail), err);
			assert_int_equal(fail.err, err);
			assert_int_equal(fail.height, kk);
			assert_int_equal(fail.index, kk);
			assert_int_equal(fail.jump, jump);
			for (size_t h = 0; h < kk; h++)
				assert_int_equal(
					ec_chain_append(c, &copy[h], NULL),
					EC_OK);
			assert_int_equal(ec_chain_append(c, &copy[kk], &fail),
					 err);
			assert_int_equal(fail.height, kk);
			assert_int_equal(fail.jump, jump);
			assert_int_equal(ec_chain_length(c), kk);
			/* the chain is unchanged and still takes the original */
			assert_int_equal(ec_chain_append(c, &f.blocks[kk], NULL),
					 EC_OK);
			ec_chain_free(c);
		}
	}
	/* Genesis: non-zero prev, non-zero jump reference. */
	{
		ec_chain_fail fail;
		memcpy(copy, f.blocks, f.n * sizeof *copy);
		copy[0].prev.b[0] = 1;
		ec_block_sign(&copy[0], f.kp.sk);
		assert_int_equal(ec_chain_verify(copy, 3, &fail), EC_ERR_PREV);
		assert_int_equal(fail.height, 0);
		memcpy(copy, f.blocks, f.n * sizeof *copy);
		copy[0].jumps[EC_JUMP_MONTH].b[0] = 1;
		ec_block_sign(&copy[0], f.kp.sk);
		assert_int_equal(ec_chain_verify(copy, 3, &fail), EC_ERR_JUMP);
		assert_int_equal(fail.height, 0);
		assert_int_equal(fail.jump, EC_JUMP_MONTH);
	}
	/* A later block breaks the rule while the one before is fine: the
	 * FIRST bad block is named (two bad blocks, k and k + 5). */
	{
		ec_chain_fail fail;
		int jump;
		memcpy(copy, f.blocks, f.n * sizeof *copy);
		mutate(&copy[k + 5], &copy[k + 4], M_MERKLE, f.kp.sk, &jump);
		mutate(&copy[k], &copy[k - 1], M_SIG, f.kp.sk, &jump);
		assert_int_equal(ec_chain_verify(copy, f.n, &fail),
				 EC_ERR_SIGNATURE);
		assert_int_equal(fail.height, k);
	}
	free(copy);
	fx_free(&f);
}

static void test_segment_above_genesis(void **state)
{
	fixture f;
	ec_chain_fail fail;
	ec_block *seg;
	const size_t from = 100, n = 100;

	fx_build(&f, 21, 250, 1700000000000ull, GAPS_IRREGULAR, 3);
	seg = malloc(n * sizeof *seg);
	assert_non_null(seg);
	memcpy(seg, f.blocks + from, n * sizeof *seg);
	assert_int_equal(ec_chain_verify(seg, n, &fail), EC_OK);
	/* Find a block whose minute reference points inside the segment and
	 * one whose month reference points before it. */
	int inside = 0, before = 0;
	for (size_t k = 1; k < n; k++) {
		for (int i = 0; i < EC_JUMP_COUNT; i++) {
			const ec_block *t = ec_chain_find(f.chain,
							  &seg[k].jumps[i]);
			if (!t)
				continue;
			/* block k is the last of the segment: nothing after
			 * it refers to its (changed) id */
			memcpy(seg, f.blocks + from, n * sizeof *seg);
			seg[k].jumps[i].b[0] ^= 1;
			ec_block_sign(&seg[k], f.kp.sk);
			int r = ec_chain_verify(seg, k + 1, &fail);
			if (t->height >= from) {
				assert_int_equal(r, EC_ERR_JUMP);
				assert_int_equal(fail.height, from + k);
				assert_int_equal(fail.index, k);
				assert_int_equal(fail.jump, i);
				inside++;
			} else {
				assert_int_equal(r, EC_OK); /* documented */
				before++;
			}
			break;
		}
		if (inside > 3 && before > 3)
			break;
	}
	assert_true(inside > 0);
	assert_true(before > 0);
	/* links inside the segment are checked */
	memcpy(seg, f.blocks + from, n * sizeof *seg);
	seg[10].prev.b[0] ^= 1;
	ec_block_sign(&seg[10], f.kp.sk);
	assert_int_equal(ec_chain_verify(seg, n, &fail), EC_ERR_PREV);
	assert_int_equal(fail.height, from + 10);
	free(seg);
	fx_free(&f);
}

/* Newest block at height <= from with timestamp <= from.ts - back. */
static uint64_t brute_seek(const ec_block *blocks, size_t from, uint64_t back)
{
	if (back > blocks[from].timestamp)
		return UINT64_MAX;
	ec_time t = blocks[from].timestamp - back;
	for (size_t h = from + 1; h-- > 0;)
		if (blocks[h].timestamp <= t)
			return h;
	return UINT64_MAX;
}

static void check_seek(const fixture *f, uint64_t *rs, int queries,
		       size_t hop_bound, double *mean)
{
	ec_seek_hop hops[512];
	size_t total = 0;
	for (int q = 0; q < queries; q++) {
		size_t from = tu_rand_u64(rs) % 4 ? f->n - 1
						   : tu_rand_u64(rs) % f->n;
		ec_time span = f->blocks[from].timestamp -
			       f->blocks[0].timestamp;
		uint64_t back;
		switch (tu_rand_u64(rs) % 4) {
		case 0:
			back = tu_rand_u64(rs) % (span + 1);
			break;
		case 1:
			back = tu_rand_u64(rs) % (2 * HOUR_MS);
			break;
		case 2: /* past genesis, possibly past the epoch */
			back = span + tu_rand_u64(rs) % (2 * DAY_MS);
			break;
		default: /* exactly a block's age */
			back = f->blocks[from].timestamp -
			       f->blocks[tu_rand_u64(rs) % (from + 1)].timestamp;
		}
		uint64_t exp = brute_seek(f->blocks, from, back), found;
		size_t nh;
		size_t cap = tu_rand_u64(rs) % 8 ? 512 : 2; /* truncated log */
		int r = ec_chain_seek(f->chain, &f->blocks[from].id, back, hops,
				      cap, &nh, &found);
		assert_int_equal(r, exp == UINT64_MAX ? EC_ERR_NOTFOUND : EC_OK);
		assert_int_equal(found, exp);
		assert_true(nh <= hop_bound);
		total += nh;
		uint64_t prev_h = from;
		for (size_t i = 0; i < nh && i < cap; i++) {
			const ec_block *at = ec_chain_at(f->chain, prev_h);
			assert_true(hops[i].height < prev_h);
			assert_true(hops[i].via >= -1 &&
				    hops[i].via < EC_JUMP_COUNT);
			const ec_id *ref = hops[i].via < 0
						   ? &at->prev
						   : &at->jumps[hops[i].via];
			assert_memory_equal(
				ref->b, f->blocks[hops[i].height].id.b, 32);
			prev_h = hops[i].height;
		}
		if (r == EC_OK && nh && nh <= cap)
			assert_int_equal(hops[nh - 1].height, exp);
	}
	if (mean)
		*mean = (double)total / queries;
}

static void test_seek_matches_brute_force(void **state)
{
	uint64_t rs = 77;
	double mean;
	fixture f;
	ec_id missing;
	size_t nh;
	uint64_t found;

	fx_build(&f, 31, 600, 1700000000000ull, GAPS_IRREGULAR, 2);
	check_seek(&f, &rs, 3000, 600, &mean);
	fx_free(&f);

	fx_build(&f, 32, 300, 0, GAPS_IRREGULAR, 2); /* near the epoch */
	check_seek(&f, &rs, 2000, 300, &mean);
	fx_free(&f);

	/* Regular chains: hops bounded by the gaps between the deltas
	 * (<= 59 prev + 59 minute + 23 hour + 6 day + 4 week + months). */
	fx_build(&f, 33, 8000, 1700000000000ull, GAPS_SECOND, 1);
	check_seek(&f, &rs, 3000, 59 + 59 + 23, &mean);
	assert_true(mean < 70);
	fx_free(&f);
	fx_build(&f, 34, 3000, 1700000000000ull, GAPS_MINUTE, 1);
	check_seek(&f, &rs, 3000, 59 + 23 + 6 + 4 + 1, &mean);
	assert_true(mean < 40);

	memset(&missing, 0x11, sizeof missing);
	assert_int_equal(ec_chain_seek(f.chain, &missing, 0, NULL, 0, &nh,
				       &found),
			 EC_ERR_ARG);
	assert_int_equal(nh, 0);
	assert_int_equal(ec_chain_seek(f.chain, &f.blocks[10].id, 0, NULL, 0,
				       &nh, &found),
			 EC_OK);
	assert_int_equal(found, 10);
	assert_int_equal(nh, 0);
	fx_free(&f);
}

static void test_chainfile_round_trip(void **state)
{
	fixture f;
	ec_chainfile_span proofs[6];
	uint8_t *pbuf[6] = {NULL};
	uint8_t *file;
	size_t len;
	ec_block *blocks;
	ec_chainfile_span *got;
	size_t n;
	ec_chainfile_err err;

	fx_build(&f, 41, 6, 1700000000000ull, GAPS_IRREGULAR, 32);
	/* Proofs are decoded strictly and must name their block's txids:
	 * zero-vote proofs of each block, and none stored for block 2. */
	for (size_t i = 0; i < 6; i++) {
		ec_proof pr;
		memset(&pr, 0, sizeof pr);
		pr.n_txs = f.blocks[i].n_txs;
		for (unsigned k = 0; k < pr.n_txs; k++)
			pr.txs[k].txid = f.blocks[i].txids[k];
		proofs[i].p = NULL;
		proofs[i].len = 0;
		if (i != 2) {
			assert_int_equal(ec_proof_encode(&pr, &pbuf[i], &proofs[i].len), EC_OK);
			proofs[i].p = pbuf[i];
		}
	}
	assert_int_equal(ec_chainfile_encode(f.blocks, proofs, 6, &file, &len),
			 EC_OK);
	assert_memory_equal(file, "ECCHAIN1\0\0\0\6", 12);
	assert_int_equal(ec_chainfile_decode(file, len, &blocks, &got, &n, &err),
			 EC_OK);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_memory_equal(&blocks[i], &f.blocks[i], sizeof blocks[i]);
		assert_int_equal(got[i].len, proofs[i].len);
		if (got[i].len)
			assert_memory_equal(got[i].p, proofs[i].p, got[i].len);
		else
			assert_null(got[i].p);
	}
	free(blocks);
	free(got);

	/* Every truncation is rejected, naming the record it cuts. */
	size_t rec_start[7], off = 12;
	for (size_t i = 0; i < 6; i++) {
		rec_start[i] = off;
		off += 8 + EC_BLOCK_FIXED_BYTES + 32u * f.blocks[i].n_txs +
		       proofs[i].len;
	}
	rec_start[6] = off;
	assert_int_equal(off, len);
	for (size_t cut = 0; cut < len; cut++) {
		int r = ec_chainfile_decode(file, cut, &blocks, NULL, &n, &err);
		assert_int_not_equal(r, EC_OK);
		assert_null(blocks);
		if (cut < 12) {
			assert_int_equal(r, EC_ERR_SHORT);
			assert_int_equal(err.record, EC_CHAINFILE_HEADER);
			continue;
		}
		size_t rec = 0;
		while (rec_start[rec + 1] <= cut)
			rec++;
		assert_int_equal(err.record, rec);
		assert_int_equal(err.offset, rec_start[rec]);
		/* the block decoder or the framing says it ends early */
		assert_int_equal(r, EC_ERR_SHORT);
	}
	/* Trailing bytes, wrong magic, a count larger than the records. */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, file, len);
	longer[len] = 0;
	assert_int_equal(ec_chainfile_decode(longer, len + 1, &blocks, NULL,
					     &n, &err),
			 EC_ERR_TRAILING);
	assert_int_equal(err.record, 6);
	longer[11] = 7;
	assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL, &n,
					     &err),
			 EC_ERR_SHORT);
	assert_int_equal(err.record, 6);
	longer[11] = 5;
	assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL, &n,
					     &err),
			 EC_ERR_TRAILING);
	assert_int_equal(err.record, 5);
	longer[11] = 6;
	longer[0] = 'X';
	assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL, &n,
					     &err),
			 EC_ERR_FORMAT);
	assert_int_equal(err.record, EC_CHAINFILE_HEADER);
	longer[0] = 'E';
	/* a block that does not decode: wrong type byte in record 3 */
	longer[rec_start[3] + 4] = EC_MSG_TX;
	assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL, &n,
					     &err),
			 EC_ERR_TYPE);
	assert_int_equal(err.record, 3);
	longer[rec_start[3] + 4] = EC_MSG_BLOCK;
	/* a block length one too long: the block has a trailing byte */
	longer[rec_start[1] + 3]++;
	assert_int_not_equal(ec_chainfile_decode(longer, len, &blocks, NULL,
						 &n, &err),
			     EC_OK);
	assert_int_equal(err.record, 1);
	longer[rec_start[1] + 3]--;
	/* a proof length one too short: the proof is decoded strictly, so the
	 * damage is named at its own record, not the next one */
	{
		size_t pl = rec_start[4] + 4 + EC_BLOCK_FIXED_BYTES +
			    32u * f.blocks[4].n_txs + 3;
		longer[pl]--;
		assert_int_not_equal(ec_chainfile_decode(longer, len, &blocks, NULL,
							 &n, &err),
				     EC_OK);
		assert_int_equal(err.record, 4);
		longer[pl]++;
	}
	/* a proof naming other transactions than its block */
	{
		size_t pt = rec_start[5] + 8 + EC_BLOCK_FIXED_BYTES +
			    32u * f.blocks[5].n_txs + 3; /* first txid byte */
		longer[pt] ^= 1;
		assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL,
						     &n, &err),
				 EC_ERR_PROOF);
		assert_int_equal(err.record, 5);
		longer[pt] ^= 1;
	}
	assert_int_equal(ec_chainfile_decode(longer, len, &blocks, NULL, &n, &err),
			 EC_OK);
	free(blocks);
	free(longer);
	free(file);
	for (size_t i = 0; i < 6; i++)
		free(pbuf[i]);

	/* Empty file: header only. */
	assert_int_equal(ec_chainfile_encode(NULL, NULL, 0, &file, &len), EC_OK);
	assert_int_equal(len, 12);
	assert_int_equal(ec_chainfile_decode(file, len, &blocks, NULL, &n, &err),
			 EC_OK);
	assert_int_equal(n, 0);
	assert_null(blocks);
	free(file);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jumps_match_brute_force),
		cmocka_unit_test(test_seal_append_verify_round_trip),
		cmocka_unit_test(test_seal_errors),
		cmocka_unit_test(test_every_rule_broken_once),
		cmocka_unit_test(test_segment_above_genesis),
		cmocka_unit_test(test_seek_matches_brute_force),
		cmocka_unit_test(test_chainfile_round_trip),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
