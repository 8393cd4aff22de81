/* test_chain.c - the commit chain (src/core/ec_chain.c) and the chain file
 * codec (src/wire/ec_chainfile.c): jump references against a brute-force
 * reading of PROTOCOL.md 5.1 on random chains, seal/append/verify round
 * trips, every 5.2 rule broken once, segment verification above genesis,
 * seek against brute force, and the chain file's strictness; the skip
 * reference (height function against a forest model, version rules, the
 * hop bound of the height walk for every target of a 10^4-block chain)
 * and inclusion proofs (round trip and every kind of tampering). */
#include <stdio.h>
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
				    hops[i].via <= EC_REF_SKIP);
			const ec_id *ref = hops[i].via < 0 ? &at->prev
					   : hops[i].via == EC_REF_SKIP
						   ? &at->skip
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
		off += 8 + ec_block_encoded_len(&f.blocks[i]) + proofs[i].len;
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
		size_t pl = rec_start[4] + 4 + ec_block_encoded_len(&f.blocks[4]) +
			    3;
		longer[pl]--;
		assert_int_not_equal(ec_chainfile_decode(longer, len, &blocks, NULL,
							 &n, &err),
				     EC_OK);
		assert_int_equal(err.record, 4);
		longer[pl]++;
	}
	/* a proof naming other transactions than its block */
	{
		size_t pt = rec_start[5] + 8 + ec_block_encoded_len(&f.blocks[5]) +
			    3; /* first txid byte */
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

/* ---- skip references ------------------------------------------------------ */

/* PROTOCOL.md 5.1's skip height read as a process: the skew-binary forest
 * of perfect trees grown one block at a time. */
static void test_skip_height_model(void **state)
{
	uint64_t root[130];
	unsigned ord[130];
	size_t np = 0;

	for (uint64_t h = 0; h < 300000; h++) {
		uint64_t exp;
		if (np >= 2 && ord[np - 1] == ord[np - 2]) {
			unsigned k = ord[np - 1] + 1;
			uint64_t tree = ((uint64_t)1 << k) - 1;
			exp = h >= tree ? h - tree : 0;
			np -= 2;
			root[np] = h;
			ord[np++] = k;
		} else {
			exp = np >= 2 ? root[np - 2] : 0;
			root[np] = h;
			ord[np++] = 1;
		}
		if (ec_skip_height(h) != exp)
			fail_msg("skip(%llu) = %llu, model %llu",
				 (unsigned long long)h,
				 (unsigned long long)ec_skip_height(h),
				 (unsigned long long)exp);
		if (h >= 2)
			assert_true(exp + 2 <= h);
	}
	/* the first values, by hand from the definition */
	static const uint64_t first[] = {0, 0, 0, 0, 2, 2, 0, 0, 6, 6, 6, 9};
	for (uint64_t h = 0; h < 12; h++)
		assert_int_equal(ec_skip_height(h), first[h]);
	/* far heights stay below h */
	assert_true(ec_skip_height(UINT64_MAX / 2) < UINT64_MAX / 2);
	assert_true(ec_skip_height(UINT64_MAX - 1) < UINT64_MAX - 1);
}

static unsigned floor_log2(uint64_t v)
{
	unsigned k = 0;
	while (v >>= 1)
		k++;
	return k;
}

/* The height walk of PROTOCOL.md 5.1 on heights alone. */
static size_t model_walk(uint64_t from, uint64_t t)
{
	size_t n = 0;
	while (from > t) {
		uint64_t s = ec_skip_height(from);
		from = s >= t && s + 1 < from ? s : from - 1;
		n++;
	}
	return n;
}

/* Checks hops[0..nh) as links of f's chain from `from` ending at `to`. */
static void check_hops(const fixture *f, uint64_t from, uint64_t to,
		       const ec_seek_hop *hops, size_t nh)
{
	uint64_t at = from;
	for (size_t i = 0; i < nh; i++) {
		const ec_block *b = &f->blocks[at];
		const ec_id *ref = hops[i].via < 0 ? &b->prev
				   : hops[i].via == EC_REF_SKIP
					   ? &b->skip
					   : &b->jumps[hops[i].via];
		assert_true(hops[i].height < at);
		assert_memory_equal(ref->b, f->blocks[hops[i].height].id.b, 32);
		at = hops[i].height;
	}
	assert_int_equal(at, to);
}

/* Every target of a 10^4-block chain from its head, and from 60 other
 * blocks to every 7th height: the walk reaches the target through the
 * references it names, in the hops the height model predicts, within the
 * proven bound 3*floor(log2(H + 2)) - 2. */
static void test_seek_height_bound(void **state)
{
	enum { N = 10000 };
	fixture f;
	ec_seek_hop hops[64];
	size_t nh, max = 0, total = 0;
	unsigned bound = 3 * floor_log2(N + 1) - 2, lg = 0;

	while (((uint64_t)1 << lg) < N)
		lg++;
	fx_build(&f, 41, N, 1700000000000ull, GAPS_SECOND, 1);
	for (uint64_t t = 0; t < N; t++) {
		assert_int_equal(ec_chain_seek_height(f.chain,
						      &f.blocks[N - 1].id, t,
						      hops, 64, &nh),
				 EC_OK);
		assert_true(nh <= bound);
		assert_int_equal(nh, model_walk(N - 1, t));
		check_hops(&f, N - 1, t, hops, nh);
		if (nh > max)
			max = nh;
		total += nh;
	}
	printf("# height seek, N=%d: max %zu mean %.1f hops (proven bound "
	       "%u, 2*ceil(log2 N) = %u)\n",
	       N, max, (double)total / N, bound, 2 * lg);
	for (uint64_t from = 1; from < N; from += N / 60) {
		unsigned b = 3 * floor_log2(from + 2) - 2;
		for (uint64_t t = 0; t <= from; t += 7) {
			assert_int_equal(
				ec_chain_seek_height(f.chain, &f.blocks[from].id,
						     t, hops, 64, &nh),
				EC_OK);
			assert_true(nh <= b);
			check_hops(&f, from, t, hops, nh);
		}
	}
	assert_int_equal(ec_chain_seek_height(f.chain, &f.blocks[5].id, 6, hops,
					      64, &nh),
			 EC_ERR_ARG);
	fx_free(&f);

	/* Time seek on irregular version-2 chains: the answer is the brute
	 * force's, and the walk is at most one hop longer than the height
	 * walk to the answer's height + 1. */
	uint64_t rs = 99;
	fx_build(&f, 42, N, 1700000000000ull, GAPS_IRREGULAR, 1);
	uint64_t span = f.blocks[N - 1].timestamp - f.blocks[0].timestamp;
	max = 0;
	for (int q = 0; q < 4000; q++) {
		uint64_t from = q % 2 ? N - 1 : tu_rand_u64(&rs) % N, found;
		uint64_t back = tu_rand_u64(&rs) % (span + 1);
		uint64_t exp = brute_seek(f.blocks, from, back);
		int r = ec_chain_seek(f.chain, &f.blocks[from].id, back, hops,
				      64, &nh, &found);
		assert_int_equal(r, exp == UINT64_MAX ? EC_ERR_NOTFOUND : EC_OK);
		assert_int_equal(found, exp);
		if (r == EC_OK && exp < from)
			assert_true(nh <= model_walk(from, exp + 1) + 1);
		if (nh > max)
			max = nh;
	}
	printf("# time seek, N=%d irregular: max %zu hops\n", N, max);
	fx_free(&f);
}

/* A version-1 block sealed by hand onto c (the chain's own seal makes
 * version 2). */
static void seal_v1(fixture *f, ec_time ts, uint64_t *rs, ec_block *out)
{
	ec_block b;
	const ec_block *head = ec_chain_head(f->chain);
	memset(&b, 0, sizeof b);
	b.creator = f->creator;
	b.height = ec_chain_length(f->chain);
	b.timestamp = ts;
	if (head)
		b.prev = head->id;
	b.n_txs = 1;
	tu_rand_bytes(rs, &b.txids[0], sizeof b.txids[0]);
	assert_int_equal(ec_chain_jumps(f->chain, ts, b.jumps), EC_OK);
	ec_merkle_root(&b.merkle_root, b.txids, 1);
	assert_int_equal(ec_block_sign(&b, f->kp.sk), EC_OK);
	assert_int_equal(ec_chain_append(f->chain, &b, NULL), EC_OK);
	*out = b;
}

static void resign(fixture *f, ec_block *b)
{
	assert_int_equal(ec_block_sign(b, f->kp.sk), EC_OK);
}

/* Version 1 then version 2 on one chain; never back; the skip reference
 * checked wherever its target is known. */
static void test_version_switch(void **state)
{
	fixture f;
	uint64_t rs = 5;
	ec_block blocks[40], b;
	ec_chain_fail fail;
	ec_time ts = 1700000000000ull;
	ec_id ph;

	fx_build(&f, 51, 0, ts, GAPS_SECOND, 1);
	memset(&ph, 0, sizeof ph);
	for (size_t h = 0; h < 8; h++)
		seal_v1(&f, ts + h * 1000, &rs, &blocks[h]);
	for (size_t h = 8; h < 40; h++) {
		ec_id tx;
		tu_rand_bytes(&rs, &tx, sizeof tx);
		assert_int_equal(ec_chain_seal(f.chain, &f.creator,
					       ts + h * 1000, &tx, 1, &ph,
					       f.kp.sk, &blocks[h]),
				 EC_OK);
		assert_int_equal(blocks[h].version, EC_BLOCK_V2);
		assert_memory_equal(
			blocks[h].skip.b,
			blocks[ec_skip_height(h)].id.b, 32);
	}
	assert_int_equal(blocks[7].version, 0);
	assert_int_equal(ec_chain_verify(blocks, 40, &fail), EC_OK);
	/* the encodings differ by the skip reference */
	assert_int_equal(ec_block_encoded_len(&blocks[7]),
			 EC_BLOCK_FIXED_BYTES + 32);
	assert_int_equal(ec_block_encoded_len(&blocks[8]),
			 EC_BLOCK_V2_FIXED_BYTES + 32);

	/* back to version 1 after version 2: refused */
	{
		fixture g = f;
		ec_block v1;
		memset(&v1, 0, sizeof v1);
		v1 = blocks[39];
		v1.height = 40;
		v1.prev = blocks[39].id;
		v1.version = 0;
		memset(&v1.skip, 0, sizeof v1.skip);
		resign(&g, &v1);
		assert_int_equal(ec_chain_append(f.chain, &v1, &fail),
				 EC_ERR_VERSION);
		assert_int_equal(ec_chain_length(f.chain), 40);
		/* and an unknown version */
		v1.version = 3;
		assert_int_equal(ec_chain_append(f.chain, &v1, &fail),
				 EC_ERR_VERSION);
	}
	/* a wrong skip reference (re-signed): EC_ERR_JUMP naming "skip" */
	b = blocks[30];
	b.skip = blocks[ec_skip_height(30) + 1].id;
	resign(&f, &b);
	{
		ec_block seg[40];
		memcpy(seg, blocks, sizeof seg);
		seg[30] = b;
		assert_int_equal(ec_chain_verify(seg, 31, &fail), EC_ERR_JUMP);
		assert_int_equal(fail.jump, EC_REF_SKIP);
		assert_int_equal(fail.height, 30);
		assert_string_equal(ec_chain_ref_name(fail.jump), "skip");
		/* a segment starting above the skip target cannot check it */
		uint64_t s = ec_skip_height(30);
		assert_int_equal(ec_chain_verify(seg + s + 1, 30 - s, &fail),
				 EC_OK);
		/* ... but one holding it does */
		assert_int_equal(ec_chain_verify(seg + s, 31 - s, &fail),
				 EC_ERR_JUMP);
	}
	/* a version-2 genesis carries a zero skip reference */
	{
		fixture g;
		ec_block gen;
		ec_id tx;
		fx_build(&g, 52, 0, ts, GAPS_SECOND, 1);
		tu_rand_bytes(&rs, &tx, sizeof tx);
		assert_int_equal(ec_chain_seal(g.chain, &g.creator, ts, &tx, 1,
					       &ph, g.kp.sk, &gen),
				 EC_OK);
		assert_true(ec_id_is_zero(&gen.skip));
		memset(gen.skip.b, 1, 32);
		resign(&g, &gen);
		assert_int_equal(ec_chain_verify(&gen, 1, &fail), EC_ERR_JUMP);
		assert_int_equal(fail.jump, EC_REF_SKIP);
		fx_free(&g);
	}
	fx_free(&f);
}

/* ---- inclusion proofs ------------------------------------------------------ */

/* Offsets of the block records of a proof (after its u16 length). */
static size_t proof_blocks(const uint8_t *p, size_t n, size_t *off,
			   size_t *len, size_t max)
{
	size_t o = 4 + 1 + 32 + 1, nb, i;
	size_t np = p[o++];
	o += 32 * np;
	nb = (size_t)p[o] << 8 | p[o + 1];
	o += 2;
	for (i = 0; i < nb && i < max; i++) {
		len[i] = (size_t)p[o] << 8 | p[o + 1];
		off[i] = o + 2;
		o += 2 + len[i];
	}
	assert_int_equal(o, n);
	return nb;
}

static void test_inclusion_proof(void **state)
{
	enum { N = 3000 };
	fixture f;
	uint64_t rs = 9;
	uint8_t *p;
	size_t n, off[64], len[64];
	ec_incl_info info;
	unsigned bound = 3 * floor_log2(N + 1) - 2;

	fx_build(&f, 61, N, 1700000000000ull, GAPS_SECOND, 9);
	for (int k = 0; k < 200; k++) {
		uint64_t h = tu_rand_u64(&rs) % N;
		unsigned i = (unsigned)(tu_rand_u64(&rs) % f.blocks[h].n_txs);
		assert_int_equal(ec_incl_build(f.chain, &f.blocks[N - 1].id, h,
					       &f.blocks[h].txids[i], &p, &n),
				 EC_OK);
		assert_int_equal(ec_incl_verify(p, n, &info), EC_OK);
		assert_int_equal(info.height, h);
		assert_int_equal(info.index, i);
		assert_memory_equal(info.block_id.b, f.blocks[h].id.b, 32);
		assert_memory_equal(info.head.id.b, f.blocks[N - 1].id.b, 32);
		assert_true(info.n_blocks >= 1 && info.n_blocks <= bound + 1);
		free(p);
	}
	/* a txid the block does not hold */
	{
		ec_id other;
		memset(&other, 0x5a, sizeof other);
		assert_int_equal(ec_incl_build(f.chain, &f.blocks[N - 1].id, 3,
					       &other, &p, &n),
				 EC_ERR_NOTFOUND);
		assert_null(p);
	}

	/* Tampering, on a proof of several blocks into a block of several
	 * transactions. */
	uint64_t h = 1;
	while (f.blocks[h].n_txs < 3)
		h++;
	assert_int_equal(ec_incl_build(f.chain, &f.blocks[N - 1].id, h,
				       &f.blocks[h].txids[2], &p, &n),
			 EC_OK);
	size_t nb = proof_blocks(p, n, off, len, 64);
	assert_true(nb >= 4);
	assert_int_equal(ec_incl_verify(p, n, NULL), EC_OK);

	/* a byte of a block on the path (its timestamp): its id changes, so
	 * its signature no longer verifies */
	p[off[2] + 2 + 32 + 8 + 7] ^= 1;
	assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_SIGNATURE);
	assert_int_equal(info.bad_block, 2);
	p[off[2] + 2 + 32 + 8 + 7] ^= 1;
	/* the head's signature */
	p[off[0] + len[0] - 1] ^= 0x40;
	assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_SIGNATURE);
	assert_int_equal(info.bad_block, 0);
	p[off[0] + len[0] - 1] ^= 0x40;
	/* a path link: two blocks of the path swapped (both validly signed) */
	if (len[1] == len[2]) {
		uint8_t tmp[EC_BLOCK_MAX_BYTES];
		memcpy(tmp, p + off[1], len[1]);
		memcpy(p + off[1], p + off[2], len[1]);
		memcpy(p + off[2], tmp, len[1]);
		assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_PREV);
		assert_int_equal(info.bad_block, 1);
		memcpy(p + off[2], p + off[1], len[1]);
		memcpy(p + off[1], tmp, len[1]);
	}
	/* a block of the path replaced by another block of the chain */
	{
		uint64_t other = f.blocks[N - 2].height;
		uint8_t enc[EC_BLOCK_MAX_BYTES];
		size_t el = ec_block_encode_to(&f.blocks[other], enc);
		uint8_t *q = malloc(n + EC_BLOCK_MAX_BYTES);
		size_t qn = 0;
		memcpy(q, p, off[1] - 2);
		qn = off[1] - 2;
		q[qn++] = (uint8_t)(el >> 8);
		q[qn++] = (uint8_t)el;
		memcpy(q + qn, enc, el);
		qn += el;
		memcpy(q + qn, p + off[1] + len[1], n - off[1] - len[1]);
		qn += n - off[1] - len[1];
		int r = ec_incl_verify(q, qn, &info);
		/* the head's prev is block N - 2, so that link holds and the
		 * next one breaks */
		assert_int_equal(r, EC_ERR_PREV);
		free(q);
	}
	/* a Merkle sibling */
	size_t sib = 4 + 1 + 32 + 2;
	assert_true(p[4 + 1 + 32 + 1] >= 1);
	p[sib + 5] ^= 1;
	assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_MERKLE);
	p[sib + 5] ^= 1;
	/* the txid, and the index */
	p[5] ^= 1;
	assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_MERKLE);
	p[5] ^= 1;
	p[4 + 1 + 32] = 1;
	assert_int_equal(ec_incl_verify(p, n, &info), EC_ERR_MERKLE);
	p[4 + 1 + 32] = 2;
	assert_int_equal(ec_incl_verify(p, n, NULL), EC_OK);
	/* every truncation, a trailing byte, the magic */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(ec_incl_verify(p, cut, NULL), EC_OK);
	{
		uint8_t *q = malloc(n + 1);
		memcpy(q, p, n);
		q[n] = 0;
		assert_int_equal(ec_incl_verify(q, n + 1, NULL),
				 EC_ERR_TRAILING);
		q[0] = 'X';
		assert_int_equal(ec_incl_verify(q, n, NULL), EC_ERR_FORMAT);
		free(q);
	}
	free(p);
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
		cmocka_unit_test(test_skip_height_model),
		cmocka_unit_test(test_seek_height_bound),
		cmocka_unit_test(test_version_switch),
		cmocka_unit_test(test_inclusion_proof),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
