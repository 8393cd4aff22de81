/* test_wire.c - properties of every wire codec (docs/PROTOCOL.md sections
 * 3-13b): random valid objects round-trip field for field and byte for byte;
 * every truncation is EC_ERR_SHORT, an appended byte EC_ERR_TRAILING, a
 * wrong type/version byte EC_ERR_TYPE/EC_ERR_VERSION; flipping any byte of
 * a signed object breaks decoding or verification; and each LIMIT, VALUE
 * and ORDER rule is enforced by the decoder and refused by the writer. */
#include <stdio.h>
#include <stdlib.h>

#include "ec/crypto.h"
#include "ec/wire.h"
#include "testutil.h"
#include "wiregen.h"

/* ---- a table of codecs, so each property is written once ---------------- */

typedef struct codec {
	const char *name;
	uint8_t type;
	size_t size;
	void (*gen)(uint64_t *s, void *o, unsigned shape);
	int (*enc)(const void *o, uint8_t **out, size_t *len);
	int (*dec)(void *o, const uint8_t *p, size_t n);
	int (*eq)(const void *a, const void *b);  /* NULL: memcmp */
	int (*verify)(const void *o);             /* NULL: unsigned */
	void (*release)(void *o);                 /* NULL: flat */
} codec;

#define CODEC_FNS(NAME, T)                                                     \
	static void NAME##_gen(uint64_t *s, void *o, unsigned shape)           \
	{                                                                      \
		wg_##NAME(s, o, shape);                                        \
	}                                                                      \
	static int NAME##_enc(const void *o, uint8_t **out, size_t *len)      \
	{                                                                      \
		return ec_##NAME##_encode(o, out, len);                        \
	}                                                                      \
	static int NAME##_dec(void *o, const uint8_t *p, size_t n)            \
	{                                                                      \
		return ec_##NAME##_decode(o, p, n);                            \
	}
#define CODEC_VERIFY(NAME, T)                                                  \
	static int NAME##_ver(const void *o)                                   \
	{                                                                      \
		return ec_##NAME##_verify(o);                                  \
	}

/* tx: always signed here (creation-only transactions have their own test) */
static void tx_gen(uint64_t *s, void *o, unsigned shape)
{
	wg_tx(s, o, shape, 0);
}
static int tx_enc(const void *o, uint8_t **out, size_t *len)
{
	return ec_tx_encode(o, out, len);
}
static int tx_dec(void *o, const uint8_t *p, size_t n)
{
	return ec_tx_decode(o, p, n);
}
static int tx_ver(const void *o)
{
	return ec_tx_verify_sigs(o);
}

static void vote_gen(uint64_t *s, void *o, unsigned shape)
{
	wg_vote(s, o, NULL, shape);
}
static int vote_enc(const void *o, uint8_t **out, size_t *len)
{
	return ec_vote_encode(o, out, len);
}
static int vote_dec(void *o, const uint8_t *p, size_t n)
{
	return ec_vote_decode(o, p, n);
}
CODEC_VERIFY(vote, ec_vote)

static void block_gen(uint64_t *s, void *o, unsigned shape)
{
	wg_block(s, o, shape);
}
static int block_enc(const void *o, uint8_t **out, size_t *len)
{
	return ec_block_encode(o, out, len);
}
static int block_dec(void *o, const uint8_t *p, size_t n)
{
	return ec_block_decode(o, p, n);
}
/* A block verifies when its id matches its fields and sig signs the id. */
static int block_ver(const void *o)
{
	const ec_block *b = o;
	ec_id id;
	ec_block_compute_id(b, &id);
	if (!ec_id_eq(&id, &b->id))
		return EC_ERR_ID;
	return ec_verify_digest(b->sig, &id, b->signer_pk);
}

static void proof_gen(uint64_t *s, void *o, unsigned shape)
{
	ec_block b;
	wg_block(s, &b, shape);
	wg_proof(s, o, &b, shape == 1 ? 3 : 2, shape);
}
static int proof_enc(const void *o, uint8_t **out, size_t *len)
{
	return ec_proof_encode(o, out, len);
}
static int proof_dec(void *o, const uint8_t *p, size_t n)
{
	return ec_proof_decode(o, p, n);
}
static int proof_eq(const void *a, const void *b)
{
	return wg_proof_eq(a, b);
}
static void proof_rel(void *o)
{
	ec_proof_free(o);
}

CODEC_FNS(mapping_resp, ec_mapping_resp)
CODEC_VERIFY(mapping_resp, ec_mapping_resp)
CODEC_FNS(tx_resp, ec_tx_resp)
CODEC_VERIFY(tx_resp, ec_tx_resp)
CODEC_FNS(block_req, ec_block_req)
CODEC_VERIFY(block_req, ec_block_req)
CODEC_FNS(range_req, ec_range_req)
CODEC_VERIFY(range_req, ec_range_req)
CODEC_FNS(block_resp, ec_block_resp)
CODEC_VERIFY(block_resp, ec_block_resp)
CODEC_FNS(range_resp, ec_range_resp)
CODEC_VERIFY(range_resp, ec_range_resp)
CODEC_FNS(refusal, ec_refusal)
CODEC_VERIFY(refusal, ec_refusal)
CODEC_FNS(mapping_req, ec_mapping_req)
CODEC_FNS(tx_req, ec_tx_req)
CODEC_FNS(referral, ec_referral)
CODEC_FNS(hello, ec_hello)
CODEC_VERIFY(hello, ec_hello)

static int block_resp_eq(const void *a, const void *b)
{
	return wg_block_resp_eq(a, b);
}
static void block_resp_rel(void *o)
{
	ec_block_resp_free(o);
}
static int range_resp_eq(const void *a, const void *b)
{
	return wg_range_resp_eq(a, b);
}
static void range_resp_rel(void *o)
{
	ec_range_resp_free(o);
}

#define FLAT(NAME, T, TYPE)                                                    \
	{#NAME, TYPE, sizeof(T), NAME##_gen, NAME##_enc, NAME##_dec, NULL,     \
	 NAME##_ver, NULL}
#define UNSIGNED(NAME, T, TYPE)                                                \
	{#NAME, TYPE, sizeof(T), NAME##_gen, NAME##_enc, NAME##_dec, NULL,     \
	 NULL, NULL}

static const codec codecs[] = {
	FLAT(tx, ec_tx, EC_MSG_TX),
	FLAT(vote, ec_vote, EC_MSG_VOTE),
	FLAT(block, ec_block, EC_MSG_BLOCK),
	{"proof", EC_MSG_PROOF, sizeof(ec_proof), proof_gen, proof_enc,
	 proof_dec, proof_eq, NULL, proof_rel},
	FLAT(mapping_resp, ec_mapping_resp, EC_MSG_MAPPING_RESP),
	FLAT(tx_resp, ec_tx_resp, EC_MSG_TX_RESP),
	FLAT(block_req, ec_block_req, EC_MSG_BLOCK_REQ),
	FLAT(range_req, ec_range_req, EC_MSG_RANGE_REQ),
	{"block_resp", EC_MSG_BLOCK_RESP, sizeof(ec_block_resp),
	 block_resp_gen, block_resp_enc, block_resp_dec, block_resp_eq,
	 block_resp_ver, block_resp_rel},
	{"range_resp", EC_MSG_RANGE_RESP, sizeof(ec_range_resp),
	 range_resp_gen, range_resp_enc, range_resp_dec, range_resp_eq,
	 range_resp_ver, range_resp_rel},
	FLAT(refusal, ec_refusal, EC_MSG_REFUSAL),
	UNSIGNED(mapping_req, ec_mapping_req, EC_MSG_MAPPING_REQ),
	UNSIGNED(tx_req, ec_tx_req, EC_MSG_TX_REQ),
	UNSIGNED(referral, ec_referral, EC_MSG_REFERRAL),
	FLAT(hello, ec_hello, EC_MSG_HELLO),
};
#define N_CODECS (sizeof codecs / sizeof codecs[0])

static void *obj_new(const codec *c)
{
	void *o = calloc(1, c->size);
	assert_non_null(o);
	return o;
}

static void obj_del(const codec *c, void *o)
{
	if (c->release)
		c->release(o);
	free(o);
}

static int obj_eq(const codec *c, const void *a, const void *b)
{
	return c->eq ? c->eq(a, b) : memcmp(a, b, c->size) == 0;
}

/* Generates object `seed` of codec c in shape and encodes it. */
static void *make(const codec *c, uint64_t seed, unsigned shape, uint8_t **enc,
		  size_t *len)
{
	uint64_t s = seed * 7919 + c->type;
	void *o = obj_new(c);
	c->gen(&s, o, shape);
	assert_int_equal(c->enc(o, enc, len), EC_OK);
	return o;
}

/* Decodes p and expects err; a failed decode must leave nothing to free
 * (LeakSanitizer checks it in `make SAN=1 test`). */
static void expect_dec(const codec *c, const uint8_t *p, size_t n, int err)
{
	void *o = obj_new(c);
	int r = c->dec(o, p, n);
	if (r != err)
		fail_msg("%s: decode of %zu bytes gave %s, want %s", c->name, n,
			 ec_errname(r), ec_errname(err));
	if (r == EC_OK && c->release)
		c->release(o);
	free(o);
}

/* The positions a per-byte property visits: all of a small encoding, a
 * sample of a large one. */
static size_t next_pos(size_t i, size_t n, uint64_t *s)
{
	if (n <= 4096 || i + 1 < 1024 || i + 1 >= n - 1024)
		return i + 1;
	return i + 1 + (size_t)(tu_rand_u64(s) % 64);
}

#define SHAPES 24 /* objects per codec: shape 0, 1, then random */

/* ---- properties --------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	for (size_t k = 0; k < N_CODECS; k++) {
		const codec *c = &codecs[k];
		for (unsigned i = 0; i < SHAPES; i++) {
			uint8_t *e1, *e2;
			size_t n1, n2;
			void *a = make(c, i, i, &e1, &n1);
			void *b = obj_new(c);
			uint8_t t;
			assert_int_equal(ec_msg_peek(e1, n1, &t), EC_OK);
			assert_int_equal(t, c->type);
			assert_int_equal(c->dec(b, e1, n1), EC_OK);
			if (!obj_eq(c, a, b))
				fail_msg("%s: shape %u decodes to other fields", c->name, i);
			assert_int_equal(c->enc(b, &e2, &n2), EC_OK);
			assert_int_equal(n1, n2);
			assert_memory_equal(e1, e2, n1);
			if (c->verify) {
				assert_int_equal(c->verify(a), EC_OK);
				assert_int_equal(c->verify(b), EC_OK);
			}
			free(e1);
			free(e2);
			obj_del(c, a);
			obj_del(c, b);
		}
	}
}

static void test_truncation_trailing_header(void **state)
{
	for (size_t k = 0; k < N_CODECS; k++) {
		const codec *c = &codecs[k];
		for (unsigned i = 0; i < 4; i++) {
			uint64_t s = i;
			uint8_t *e, *longer;
			size_t n;
			void *o = make(c, 100 + i, i, &e, &n);
			for (size_t m = 0; m < n; m = next_pos(m, n, &s))
				expect_dec(c, e, m, EC_ERR_SHORT);
			longer = malloc(n + 1);
			assert_non_null(longer);
			memcpy(longer, e, n);
			for (unsigned v = 0; v < 256; v += 85) {
				longer[n] = (uint8_t)v;
				expect_dec(c, longer, n + 1, EC_ERR_TRAILING);
			}
			for (unsigned t = 0; t < 256; t++) {
				longer[0] = (uint8_t)t;
				expect_dec(c, longer, n, t == c->type ? EC_OK : EC_ERR_TYPE);
			}
			longer[0] = c->type;
			for (unsigned v = 0; v < 256; v += 17) {
				longer[1] = (uint8_t)v;
				expect_dec(c, longer, n,
					   v == EC_WIRE_VERSION ? EC_OK : EC_ERR_VERSION);
			}
			free(longer);
			free(e);
			obj_del(c, o);
		}
	}
}

/* Any single changed byte of a signed object: decode fails, or the decoded
 * object does not verify. */
static void test_flip_breaks_signature(void **state)
{
	for (size_t k = 0; k < N_CODECS; k++) {
		const codec *c = &codecs[k];
		if (!c->verify)
			continue;
		for (unsigned i = 0; i < 3; i++) {
			uint64_t s = 55 + i;
			uint8_t *e;
			size_t n;
			void *o = make(c, 200 + i, i, &e, &n);
			void *d = obj_new(c);
			for (size_t p = 0; p < n; p = next_pos(p, n, &s)) {
				uint8_t x = (uint8_t)(1u << (tu_rand_u64(&s) % 8));
				e[p] ^= x;
				if (c->dec(d, e, n) == EC_OK) {
					if (c->verify(d) == EC_OK)
						fail_msg("%s: byte %zu flipped, still verifies",
							 c->name, p);
					if (c->release)
						c->release(d);
				}
				e[p] ^= x;
			}
			free(e);
			obj_del(c, o);
			free(d);
		}
	}
}

/* _free accepts a zeroed struct, a freed struct, and a failed decode. */
static void test_free_safety(void **state)
{
	for (size_t k = 0; k < N_CODECS; k++) {
		const codec *c = &codecs[k];
		uint8_t *e;
		size_t n;
		void *o, *d;
		if (!c->release)
			continue;
		d = obj_new(c);
		c->release(d);
		c->release(d);
		o = make(c, 300, 1, &e, &n);
		assert_int_equal(c->dec(d, e, n - 1), EC_ERR_SHORT);
		c->release(d);
		assert_int_equal(c->dec(d, e, n), EC_OK);
		c->release(d);
		c->release(d);
		free(e);
		obj_del(c, o);
		free(d);
	}
}

/* ---- rule helpers -------------------------------------------------------- */

/* The struct-side half of a rule: the writer refuses with err, and so do
 * encode and (for signed objects) digest via the codec's verify. */
static void expect_enc(const codec *c, const void *o, int err)
{
	uint8_t *e = NULL;
	size_t n = 0;
	int r = c->enc(o, &e, &n);
	if (r != err)
		fail_msg("%s: encode gave %s, want %s", c->name, ec_errname(r),
			 ec_errname(err));
	assert_null(e);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

/* A count byte over its limit is rejected before the array is read: the
 * encoding cut right after the count still gives EC_ERR_LIMIT. */
static void expect_limit_u8(const codec *c, uint8_t *e, size_t n, size_t at,
			    unsigned over)
{
	uint8_t keep = e[at];
	e[at] = (uint8_t)over;
	expect_dec(c, e, n, EC_ERR_LIMIT);
	expect_dec(c, e, at + 1, EC_ERR_LIMIT);
	e[at] = 0xff;
	expect_dec(c, e, at + 1, EC_ERR_LIMIT);
	e[at] = keep;
}

static const codec *find(const char *name)
{
	for (size_t k = 0; k < N_CODECS; k++)
		if (strcmp(codecs[k].name, name) == 0)
			return &codecs[k];
	fail_msg("no codec %s", name);
	return NULL;
}

/* ---- transaction ------------------------------------------------------- */
/* layout: 2 header, 8 ts, u8 n at 10, entries at 11 (96 each: token, prev
 * +32, next_key +64), u8 n_sigs, sigs (97 each: entry, pk, sig) */
#define TX_ENTRY(i) (11 + 96 * (i))

static void test_tx_rules(void **state)
{
	const codec *c = find("tx");
	uint64_t s = 1;
	ec_tx tx, bad;
	uint8_t *e;
	size_t n;
	const ec_keypair *k = wg_key(0);

	/* creation-only transactions carry no signature and verify trivially */
	wg_tx(&s, &tx, 0, 1);
	assert_int_equal(tx.n_sigs, 0);
	assert_int_equal(ec_tx_encode(&tx, &e, &n), EC_OK);
	assert_int_equal(n, 108);
	assert_int_equal(ec_tx_verify_sigs(&tx), EC_OK);
	/* a creation entry may not be signed */
	assert_int_equal(ec_tx_sign_entry(&tx, 0, k->pk, k->sk), EC_ERR_ARG);
	/* an update entry needs a signature: set prev in the bytes */
	e[TX_ENTRY(0) + 32] = 1;
	expect_dec(c, e, n, EC_ERR_VALUE);
	bad = tx;
	bad.entries[0].prev.b[0] = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	free(e);

	/* one signed transfer: 205 bytes; zero its prev -> signed creation */
	wg_tx(&s, &tx, 0, 0);
	assert_int_equal(tx.n_sigs, 1);
	assert_int_equal(ec_tx_encode(&tx, &e, &n), EC_OK);
	assert_int_equal(n, 205);
	assert_int_equal(ec_tx_verify_sigs(&tx), EC_OK);
	memset(e + TX_ENTRY(0) + 32, 0, 32);
	expect_dec(c, e, n, EC_ERR_VALUE);
	bad = tx;
	memset(bad.entries[0].prev.b, 0, 32);
	expect_enc(c, &bad, EC_ERR_VALUE);
	free(e);
	/* signature entry index out of range */
	assert_int_equal(ec_tx_encode(&tx, &e, &n), EC_OK);
	e[TX_ENTRY(1) + 1] = 1;
	expect_dec(c, e, n, EC_ERR_VALUE);
	bad = tx;
	bad.sigs[0].entry = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	/* a wrong signature decodes but does not verify */
	bad = tx;
	bad.sigs[0].sig[5] ^= 1;
	assert_int_equal(ec_tx_verify_sigs(&bad), EC_ERR_SIGNATURE);
	/* counts */
	expect_limit_u8(c, e, n, 10, EC_TX_MAX_ENTRIES + 1);
	expect_limit_u8(c, e, n, TX_ENTRY(1), EC_TX_MAX_ENTRIES + 1);
	e[10] = 0;
	expect_dec(c, e, n, EC_ERR_VALUE);
	bad = tx;
	bad.n_entries = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad.n_entries = EC_TX_MAX_ENTRIES + 1;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	free(e);

	/* six updates: tokens ascending, signatures ascending */
	wg_tx(&s, &tx, 1, 0);
	assert_int_equal(tx.n_sigs, 6);
	assert_int_equal(ec_tx_verify_sigs(&tx), EC_OK);
	assert_int_equal(ec_tx_encode(&tx, &e, &n), EC_OK);
	assert_int_equal(n, 12 + 96 * 6 + 97 * 6);
	swap_bytes(e + TX_ENTRY(2), e + TX_ENTRY(3), 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	memcpy(e + TX_ENTRY(3), e + TX_ENTRY(2), 32); /* duplicate token */
	expect_dec(c, e, n, EC_ERR_ORDER);
	bad = tx;
	bad.entries[3].token = bad.entries[2].token;
	expect_enc(c, &bad, EC_ERR_ORDER);
	free(e);
	assert_int_equal(ec_tx_encode(&tx, &e, &n), EC_OK);
	e[TX_ENTRY(6) + 1 + 97 * 4] = 5; /* sigs: 0 1 2 3 5 5 */
	expect_dec(c, e, n, EC_ERR_ORDER);
	bad = tx;
	bad.sigs[4].entry = 5;
	expect_enc(c, &bad, EC_ERR_ORDER);
	free(e);
	/* re-signing an entry replaces its signature in place */
	bad = tx;
	assert_int_equal(ec_tx_sign_entry(&bad, 3, wg_key(2)->pk, wg_key(2)->sk), EC_OK);
	assert_int_equal(bad.n_sigs, 6);
	assert_int_equal(ec_tx_verify_sigs(&bad), EC_OK);
	/* any change to the signed part breaks every signature */
	bad.timestamp ^= 1;
	assert_int_equal(ec_tx_verify_sigs(&bad), EC_ERR_SIGNATURE);
}

/* ---- vote: n_flags at 78, flags at 79 (33 each), then n_conflicts ------- */
static void test_vote_rules(void **state)
{
	const codec *c = find("vote");
	uint64_t s = 2;
	ec_vote v, bad;
	uint8_t *e;
	size_t n, nc;

	wg_vote(&s, &v, NULL, 1); /* 6 flags, 8 conflicts */
	assert_int_equal(ec_vote_encode(&v, &e, &n), EC_OK);
	assert_int_equal(n, 78 + 1 + 33 * 6 + 1 + 32 * 8 + 96);
	nc = 79 + 33 * 6;
	expect_limit_u8(c, e, n, 78, EC_TX_MAX_ENTRIES + 1);
	expect_limit_u8(c, e, n, nc, EC_VOTE_MAX_CONFLICTS + 1);
	e[78] = 0;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[78] = 6;
	for (unsigned f = 0; f < 256; f += 1) {
		e[79 + 33 * 2 + 32] = (uint8_t)f;
		expect_dec(c, e, n, f == 1 || f == 2 ? EC_OK : EC_ERR_VALUE);
	}
	e[79 + 33 * 2 + 32] = v.flags[2].flag;
	swap_bytes(e + 79 + 33, e + 79 + 66, 33);
	expect_dec(c, e, n, EC_ERR_ORDER);
	swap_bytes(e + 79 + 33, e + 79 + 66, 33);
	swap_bytes(e + nc + 1 + 32 * 4, e + nc + 1 + 32 * 7, 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	memcpy(e + nc + 1 + 32 * 4, e + nc + 1 + 32 * 3, 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	free(e);

	bad = v;
	bad.n_flags = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad.n_flags = 7;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = v;
	bad.n_conflicts = 9;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = v;
	bad.flags[0].flag = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = v;
	bad.flags[5].token = bad.flags[4].token;
	expect_enc(c, &bad, EC_ERR_ORDER);
	bad = v;
	bad.conflicts[7] = bad.conflicts[0];
	expect_enc(c, &bad, EC_ERR_ORDER);
	/* the key is covered by the digest */
	bad = v;
	memcpy(bad.pk, wg_key(3)->pk, 32);
	if (memcmp(bad.pk, v.pk, 32) == 0)
		memcpy(bad.pk, wg_key(2)->pk, 32);
	assert_int_equal(ec_vote_verify(&bad), EC_ERR_SIGNATURE);
}

/* ---- block: n_txs at 338, txids at 339 ---------------------------------- */
static void test_block_rules(void **state)
{
	const codec *c = find("block");
	uint64_t s = 3;
	ec_block b, bad;
	uint8_t *e;
	size_t n;

	wg_block(&s, &b, 1);
	assert_int_equal(ec_block_encode(&b, &e, &n), EC_OK);
	assert_int_equal(n, EC_BLOCK_FIXED_BYTES + 32 * EC_BLOCK_MAX_TXS);
	assert_int_equal(n, 1427);
	expect_limit_u8(c, e, n, 338, EC_BLOCK_MAX_TXS + 1);
	e[338] = 0;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[338] = 32;
	memcpy(e + 339 + 32 * 31, e + 339 + 32 * 7, 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	free(e);
	bad = b;
	bad.n_txs = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad.n_txs = 33;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = b;
	bad.txids[9] = bad.txids[1];
	expect_enc(c, &bad, EC_ERR_ORDER);
	/* commit order is free: any order without duplicates is valid */
	bad = b;
	swap_bytes(bad.txids[0].b, bad.txids[1].b, 32);
	assert_int_equal(ec_block_encode(&bad, &e, &n), EC_OK);
	free(e);
}

/* ---- proof: n_txs at 2; each tx: txid, u8 n_votes, votes ----------------- */

/* A proof with one transaction and nv minimal votes (209 bytes each). */
static void small_proof(uint64_t *s, ec_proof *p, unsigned nv)
{
	ec_block b;
	wg_block(s, &b, 0);
	wg_proof(s, p, &b, nv, 1);
	for (unsigned j = 0; j < nv; j++) {
		ec_vote *v = &p->txs[0].votes[j];
		v->n_flags = 1;
		v->n_conflicts = 0;
		assert_int_equal(ec_vote_sign(v, wg_key(j)->sk), EC_OK);
	}
}

static void test_proof_rules(void **state)
{
	const codec *c = find("proof");
	uint64_t s = 4;
	ec_proof p;
	ec_vote keep;
	ec_id h;
	uint8_t *e;
	size_t n;
	const size_t v0 = 2 + 1 + 32 + 1; /* first vote */

	small_proof(&s, &p, 3);
	assert_int_equal(ec_proof_encode(&p, &e, &n), EC_OK);
	assert_int_equal(n, v0 + 3 * 209);
	assert_int_equal(ec_proof_hash(&p, &h), EC_OK);
	expect_limit_u8(c, e, n, 2, EC_BLOCK_MAX_TXS + 1);
	expect_limit_u8(c, e, n, 35, EC_PROOF_MAX_VOTES + 1);
	e[2] = 0;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[2] = 1;
	/* a vote for another transaction */
	e[v0 + 2 + 5] ^= 1;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[v0 + 2 + 5] ^= 1;
	/* voters ascending, no voter twice */
	swap_bytes(e + v0 + 209, e + v0 + 2 * 209, 209);
	expect_dec(c, e, n, EC_ERR_ORDER);
	memcpy(e + v0 + 209, e + v0 + 2 * 209, 209);
	expect_dec(c, e, n, EC_ERR_ORDER);
	/* a bad vote inside is the vote's error */
	memcpy(e + v0 + 209, e + v0, 209);
	e[v0 + 209 + 79 + 32] = 3;
	expect_dec(c, e, n, EC_ERR_VALUE);
	free(e);
	/* a count cannot buy memory the input does not hold */
	{
		uint8_t hdr[36] = {EC_MSG_PROOF, 1, 1};
		hdr[35] = EC_PROOF_MAX_VOTES;
		expect_dec(c, hdr, sizeof hdr, EC_ERR_SHORT);
	}

	/* writer side */
	p.txs[0].votes[0].txid.b[0] ^= 1;
	expect_enc(c, &p, EC_ERR_VALUE);
	p.txs[0].votes[0].txid.b[0] ^= 1;
	keep = p.txs[0].votes[1];
	p.txs[0].votes[1] = p.txs[0].votes[2];
	p.txs[0].votes[2] = keep;
	expect_enc(c, &p, EC_ERR_ORDER);
	p.txs[0].votes[2] = p.txs[0].votes[1];
	expect_enc(c, &p, EC_ERR_ORDER);
	p.txs[0].n_votes = EC_PROOF_MAX_VOTES + 1;
	expect_enc(c, &p, EC_ERR_LIMIT);
	p.txs[0].n_votes = 0;
	p.n_txs = 0;
	expect_enc(c, &p, EC_ERR_VALUE);
	p.n_txs = 33;
	expect_enc(c, &p, EC_ERR_LIMIT);
	assert_int_equal(ec_proof_hash(&p, &h), EC_ERR_LIMIT);
	ec_proof_free(&p);
}

/* The largest proof (32 x 64 full votes) round-trips. */
static void test_proof_full(void **state)
{
	uint64_t s = 41;
	ec_block b;
	ec_proof p, d;
	uint8_t *e;
	size_t n;
	wg_block(&s, &b, 1);
	wg_proof(&s, &p, &b, EC_PROOF_MAX_VOTES, 1);
	assert_int_equal(ec_proof_encode(&p, &e, &n), EC_OK);
	assert_int_equal(n, 3 + 32 * (33 + 64 * (78 + 1 + 33 * 6 + 1 + 32 * 8 + 96)));
	assert_int_equal(ec_proof_decode(&d, e, n), EC_OK);
	assert_true(wg_proof_eq(&p, &d));
	free(e);
	ec_proof_free(&p);
	ec_proof_free(&d);
}

/* ---- mapping response: txid 82, owner 114, prev 146, block 178, ts 210,
 * n_evidence 266 ---------------------------------------------------------- */
static void test_mapping_rules(void **state)
{
	const codec *c = find("mapping_resp");
	uint64_t s = 5;
	ec_mapping_resp m, bad;
	uint8_t *e;
	size_t n;
	static const size_t dep[] = {114, 146, 178, 210};

	wg_mapping_resp(&s, &m, 1);
	assert_int_equal(ec_mapping_resp_encode(&m, &e, &n), EC_OK);
	assert_int_equal(n, 267 + 72 * 4 + 96);
	expect_limit_u8(c, e, n, 266, EC_RESP_MAX_EVIDENCE + 1);
	bad = m;
	bad.n_evidence = 5;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	/* no mapping held: each dependent field must be zero */
	memset(e + 82, 0, 32);
	memset(e + 114, 0, 210 + 8 - 114);
	expect_dec(c, e, n, EC_OK);
	for (size_t i = 0; i < 4; i++) {
		e[dep[i] + 3] = 1;
		expect_dec(c, e, n, EC_ERR_VALUE);
		e[dep[i] + 3] = 0;
	}
	free(e);
	memset(&m.txid, 0, 32);
	memset(&m.owner_key_hash, 0, 32);
	memset(&m.prev_txid, 0, 32);
	memset(&m.commit_block, 0, 32);
	m.commit_block_ts = 0;
	assert_int_equal(ec_mapping_resp_encode(&m, &e, &n), EC_OK);
	free(e);
	bad = m;
	bad.owner_key_hash.b[0] = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = m;
	bad.prev_txid.b[31] = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = m;
	bad.commit_block.b[9] = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = m;
	bad.commit_block_ts = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
}

/* ---- transaction response: tx at 50 (L bytes), block, position, conf ---- */
static void test_tx_resp_rules(void **state)
{
	const codec *c = find("tx_resp");
	uint64_t s = 6;
	ec_tx_resp r, bad;
	uint8_t *e;
	size_t n, L;

	wg_tx_resp(&s, &r, 1);
	assert_int_equal(ec_tx_resp_encode(&r, &e, &n), EC_OK);
	L = 12 + 96u * r.tx.n_entries + 97u * r.tx.n_sigs;
	assert_int_equal(n, 50 + L + 32 + 1 + 8 + 96);
	assert_int_equal(e[50 + L + 32], 31);
	e[50 + L + 32] = 32;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[50 + L + 32] = 0;
	expect_dec(c, e, n, EC_OK);
	/* pending: position and confirmations zero */
	memset(e + 50 + L, 0, 32);
	e[50 + L + 32] = 1;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[50 + L + 32] = 0;
	memset(e + 50 + L + 33, 0, 8);
	expect_dec(c, e, n, EC_OK);
	e[50 + L + 40] = 1;
	expect_dec(c, e, n, EC_ERR_VALUE);
	/* an invalid embedded tx is the tx's error */
	e[50 + 10] = 0;
	expect_dec(c, e, n, EC_ERR_VALUE);
	e[50] = EC_MSG_VOTE;
	expect_dec(c, e, n, EC_ERR_TYPE);
	free(e);
	bad = r;
	bad.position = 32;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = r;
	memset(&bad.commit_block, 0, 32);
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad.position = 0;
	bad.confirmations = 0;
	assert_int_equal(ec_tx_resp_encode(&bad, &e, &n), EC_OK);
	free(e);
	bad.tx.n_entries = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
}

/* ---- requests: block priority at 34; range: max_blocks 66, max_bytes 68,
 * flags 72, priority 73 ----------------------------------------------------- */
static void test_request_rules(void **state)
{
	const codec *cb = find("block_req"), *cr = find("range_req");
	uint64_t s = 7;
	ec_block_req b, bb;
	ec_range_req r, rb;
	uint8_t *e;
	size_t n;

	wg_block_req(&s, &b, 2);
	assert_int_equal(ec_block_req_encode(&b, &e, &n), EC_OK);
	assert_int_equal(n, 35 + 32 + 8 + 16 + 96);
	for (unsigned p = 0; p < 256; p++) {
		e[34] = (uint8_t)p;
		expect_dec(cb, e, n, p >= 1 && p <= 3 ? EC_OK : EC_ERR_VALUE);
	}
	free(e);
	bb = b;
	bb.priority = 4;
	expect_enc(cb, &bb, EC_ERR_VALUE);
	bb.priority = 0;
	expect_enc(cb, &bb, EC_ERR_VALUE);

	wg_range_req(&s, &r, 2);
	assert_int_equal(ec_range_req_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, 74 + 32 + 8 + 16 + 96);
	put16(e + 66, 0);
	expect_dec(cr, e, n, EC_ERR_VALUE);
	put16(e + 66, EC_RANGE_MAX_BLOCKS + 1);
	expect_dec(cr, e, n, EC_ERR_LIMIT);
	put16(e + 66, EC_RANGE_MAX_BLOCKS);
	expect_dec(cr, e, n, EC_OK);
	assert_int_equal(EC_RANGE_MIN_MAX_BYTES, 1641);
	put32(e + 68, EC_RANGE_MIN_MAX_BYTES - 1);
	expect_dec(cr, e, n, EC_ERR_VALUE);
	put32(e + 68, EC_RANGE_MIN_MAX_BYTES);
	expect_dec(cr, e, n, EC_OK);
	put32(e + 68, EC_MSG_MAX_BYTES);
	expect_dec(cr, e, n, EC_OK);
	put32(e + 68, EC_MSG_MAX_BYTES + 1);
	expect_dec(cr, e, n, EC_ERR_VALUE);
	put32(e + 68, EC_MSG_MAX_BYTES);
	for (unsigned f = 0; f < 256; f++) {
		e[72] = (uint8_t)f;
		expect_dec(cr, e, n, f <= EC_RANGE_WITH_PROOFS ? EC_OK : EC_ERR_VALUE);
	}
	e[72] = 0;
	e[73] = 4;
	expect_dec(cr, e, n, EC_ERR_VALUE);
	e[73] = 0;
	expect_dec(cr, e, n, EC_ERR_VALUE);
	free(e);
	rb = r;
	rb.max_blocks = 0;
	expect_enc(cr, &rb, EC_ERR_VALUE);
	rb.max_blocks = EC_RANGE_MAX_BLOCKS + 1;
	expect_enc(cr, &rb, EC_ERR_LIMIT);
	rb = r;
	rb.max_bytes = EC_RANGE_MIN_MAX_BYTES - 1;
	expect_enc(cr, &rb, EC_ERR_VALUE);
	rb.max_bytes = EC_MSG_MAX_BYTES + 1;
	expect_enc(cr, &rb, EC_ERR_VALUE);
	rb = r;
	rb.flags = 0x80;
	expect_enc(cr, &rb, EC_ERR_VALUE);
	rb = r;
	rb.priority = 9;
	expect_enc(cr, &rb, EC_ERR_VALUE);
	/* both requests share one digest tag; their type bytes keep them apart */
	assert_int_equal(ec_range_req_verify(&r), EC_OK);
}

/* ---- block response: block at 50 (B bytes), has_proof, proof, n_endorse --- */
static void test_block_resp_rules(void **state)
{
	const codec *c = find("block_resp");
	uint64_t s = 8;
	ec_block_resp r, bad;
	uint8_t *e;
	size_t n, B, ne;

	wg_block_resp(&s, &r, 0); /* 1-tx block, no proof, no endorsement */
	assert_int_equal(ec_block_resp_encode(&r, &e, &n), EC_OK);
	B = EC_BLOCK_FIXED_BYTES + 32;
	assert_int_equal(n, 50 + B + 1 + 1 + 96);
	for (unsigned v = 2; v < 256; v += 50) {
		e[50 + B] = (uint8_t)v;
		expect_dec(c, e, n, EC_ERR_VALUE);
	}
	e[50 + B] = 1; /* claims a proof; the next byte is no proof header */
	expect_dec(c, e, n, EC_ERR_TYPE);
	free(e);
	bad = r;
	bad.has_proof = 2;
	expect_enc(c, &bad, EC_ERR_VALUE);

	wg_block_resp(&s, &r, 1); /* full block, proof, 8 endorsements */
	assert_int_equal(r.has_proof, 1);
	for (unsigned i = 0; i < r.n_endorse; i++)
		assert_int_equal(ec_endorsement_verify(&r.endorse[i], &r.block.id), EC_OK);
	assert_int_equal(ec_endorsement_verify(&r.endorse[0], &r.block.prev),
			 EC_ERR_SIGNATURE);
	assert_int_equal(ec_block_resp_encode(&r, &e, &n), EC_OK);
	ne = n - 96 - 1 - 8 * 128;
	assert_int_equal(e[ne], 8);
	expect_limit_u8(c, e, n, ne, EC_RESP_MAX_ENDORSE + 1);
	swap_bytes(e + ne + 1 + 128 * 2, e + ne + 1 + 128 * 5, 128);
	expect_dec(c, e, n, EC_ERR_ORDER);
	memcpy(e + ne + 1 + 128 * 2, e + ne + 1 + 128 * 5, 128);
	expect_dec(c, e, n, EC_ERR_ORDER);
	free(e);
	bad = r; /* shares r's proof: not freed */
	bad.n_endorse = 9;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = r;
	bad.endorse[7].peer = bad.endorse[0].peer;
	expect_enc(c, &bad, EC_ERR_ORDER);
	/* an invalid embedded proof is refused */
	bad = r;
	bad.proof.n_txs = 0;
	expect_enc(c, &bad, EC_ERR_VALUE);
	ec_block_resp_free(&r);
}

/* ---- range response: n_items u16 at 82, items at 84, then complete ------- */
static void test_range_resp_rules(void **state)
{
	const codec *c = find("range_resp");
	uint64_t s = 9;
	ec_range_resp r, d;
	uint8_t *e;
	size_t n;

	wg_range_resp(&s, &r, 0); /* no items */
	assert_int_equal(ec_range_resp_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, EC_RANGE_RESP_FIXED_BYTES);
	put16(e + 82, EC_RANGE_MAX_BLOCKS + 1);
	expect_dec(c, e, n, EC_ERR_LIMIT);
	expect_dec(c, e, 84, EC_ERR_LIMIT);
	put16(e + 82, 0xffff);
	expect_dec(c, e, 84, EC_ERR_LIMIT);
	put16(e + 82, EC_RANGE_MAX_BLOCKS); /* allowed, but the input is short */
	expect_dec(c, e, n, EC_ERR_SHORT);
	put16(e + 82, 0);
	e[84] = 2;
	expect_dec(c, e, n, EC_ERR_VALUE);
	free(e);
	r.complete = 2;
	expect_enc(c, &r, EC_ERR_VALUE);
	r.complete = 1;
	r.n_items = 1; /* items == NULL */
	expect_enc(c, &r, EC_ERR_ARG);

	wg_range_resp(&s, &r, 1);
	r.items[0].has_proof = 0;
	ec_proof_free(&r.items[0].proof);
	assert_int_equal(ec_range_resp_sign(&r, wg_key(1)->sk), EC_OK);
	assert_int_equal(ec_range_resp_encode(&r, &e, &n), EC_OK);
	e[84 + EC_BLOCK_FIXED_BYTES + 32u * r.items[0].block.n_txs] = 2;
	expect_dec(c, e, n, EC_ERR_VALUE);
	free(e);
	r.items[0].has_proof = 2;
	expect_enc(c, &r, EC_ERR_VALUE);
	r.items[0].has_proof = 0;
	n = r.n_items;
	r.n_items = EC_RANGE_MAX_BLOCKS + 1;
	expect_enc(c, &r, EC_ERR_LIMIT);
	r.n_items = (uint16_t)n;
	ec_range_resp_free(&r);
	assert_null(r.items);
	assert_int_equal(ec_range_resp_decode(&d, (const uint8_t *)"", 0), EC_ERR_SHORT);
}

/* 1,024 items round-trip; an encoding over 4 MiB is refused both ways. */
static void test_range_resp_limits(void **state)
{
	uint64_t s = 10;
	ec_range_resp r, d;
	ec_block b;
	ec_proof p;
	uint8_t *e;
	size_t n;

	memset(&r, 0, sizeof r);
	wg_block(&s, &b, 1);
	r.n_items = EC_RANGE_MAX_BLOCKS;
	r.items = calloc(r.n_items, sizeof *r.items);
	assert_non_null(r.items);
	for (unsigned i = 0; i < r.n_items; i++)
		r.items[i].block = b;
	assert_int_equal(ec_range_resp_sign(&r, wg_key(0)->sk), EC_OK);
	assert_int_equal(ec_range_resp_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, EC_RANGE_RESP_FIXED_BYTES +
				 1024u * (EC_BLOCK_FIXED_BYTES + 32 * EC_BLOCK_MAX_TXS + 1));
	assert_int_equal(ec_range_resp_decode(&d, e, n), EC_OK);
	assert_true(wg_range_resp_eq(&r, &d));
	assert_int_equal(ec_range_resp_verify(&d), EC_OK);
	ec_range_resp_free(&d);
	free(e);

	/* four full proofs (1.29 MB each): over 4 MiB */
	wg_proof(&s, &p, &b, EC_PROOF_MAX_VOTES, 1);
	for (unsigned i = 0; i < 4; i++) {
		r.items[i].has_proof = 1;
		r.items[i].proof = p; /* shared: freed once below */
	}
	assert_int_equal(ec_range_resp_encode(&r, &e, &n), EC_ERR_LIMIT);
	assert_null(e);
	free(r.items);
	ec_proof_free(&p);
	/* decode refuses input over 4 MiB before reading it */
	e = calloc(1, EC_MSG_MAX_BYTES + 1);
	assert_non_null(e);
	e[0] = EC_MSG_RANGE_RESP;
	e[1] = EC_WIRE_VERSION;
	assert_int_equal(ec_range_resp_decode(&d, e, EC_MSG_MAX_BYTES + 1), EC_ERR_LIMIT);
	ec_range_resp_free(&d);
	free(e);
}

/* ---- refusal: request_type 50, reason 51 --------------------------------- */
static void test_refusal_rules(void **state)
{
	const codec *c = find("refusal");
	uint64_t s = 11;
	ec_refusal r, bad;
	uint8_t *e;
	size_t n;

	wg_refusal(&s, &r, 2);
	assert_int_equal(ec_refusal_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, 56 + 96);
	for (unsigned t = 0; t < 256; t++) {
		e[50] = (uint8_t)t;
		expect_dec(c, e, n,
			   t == 0x10 || t == 0x12 || t == 0x14 || t == 0x16 || t == 0x1B
				   ? EC_OK
				   : EC_ERR_VALUE);
	}
	e[50] = 0x14;
	for (unsigned v = 0; v < 256; v++) {
		e[51] = (uint8_t)v;
		expect_dec(c, e, n, v >= 1 && v <= 4 ? EC_OK : EC_ERR_VALUE);
	}
	free(e);
	bad = r;
	bad.request_type = EC_MSG_BLOCK_RESP;
	expect_enc(c, &bad, EC_ERR_VALUE);
	bad = r;
	bad.reason = 5;
	expect_enc(c, &bad, EC_ERR_VALUE);
}

/* ---- mapping request: flags at 50 ---------------------------------------- */
static void test_mapping_req_rules(void **state)
{
	const codec *c = find("mapping_req");
	uint64_t s = 12;
	ec_mapping_req r, bad;
	uint8_t *e;
	size_t n;

	wg_mapping_req(&s, &r, 2);
	assert_int_equal(ec_mapping_req_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, 51);
	for (unsigned v = 0; v < 256; v++) {
		e[50] = (uint8_t)v;
		expect_dec(c, e, n, v <= EC_MAPPING_WANT_EVIDENCE ? EC_OK
								 : EC_ERR_VALUE);
	}
	free(e);
	for (unsigned b = 1; b < 8; b++) {
		bad = r;
		bad.flags = (uint8_t)(1u << b);
		expect_enc(c, &bad, EC_ERR_VALUE);
	}
}

/* ---- referral: n_peers 82, peer i at 83 + 65 i when every addr is full --- */
#define REF_PEER(i) (83 + 65 * (i))

static void test_referral_rules(void **state)
{
	const codec *c = find("referral");
	uint64_t s = 13;
	ec_referral r, bad;
	uint8_t *e;
	size_t n;

	wg_referral(&s, &r, 1);
	assert_int_equal(ec_referral_encode(&r, &e, &n), EC_OK);
	assert_int_equal(n, REF_PEER(EC_REFERRAL_MAX));
	expect_limit_u8(c, e, n, 82, EC_REFERRAL_MAX + 1);
	expect_limit_u8(c, e, n, REF_PEER(3) + 32, EC_ADDR_MAX + 1);
	/* the same peer id twice, adjacent or not */
	memcpy(e + REF_PEER(5), e + REF_PEER(0), 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	memcpy(e + REF_PEER(1), e + REF_PEER(0), 32);
	expect_dec(c, e, n, EC_ERR_ORDER);
	free(e);

	/* order is the responder's choice: any permutation decodes */
	bad = r;
	bad.peers[0] = r.peers[7];
	bad.peers[7] = r.peers[0];
	assert_int_equal(ec_referral_encode(&bad, &e, &n), EC_OK);
	expect_dec(c, e, n, EC_OK);
	free(e);

	bad = r;
	bad.n_peers = EC_REFERRAL_MAX + 1;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = r;
	bad.peers[2].addr_len = EC_ADDR_MAX + 1;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	bad = r;
	bad.peers[6].peer = bad.peers[4].peer;
	expect_enc(c, &bad, EC_ERR_ORDER);
	bad.peers[7].addr_len = EC_ADDR_MAX + 1; /* the decoder meets it first */
	expect_enc(c, &bad, EC_ERR_LIMIT);
	/* bytes past addr_len must be zero (one struct, one encoding) */
	bad = r;
	bad.peers[3].addr_len = 5;
	bad.peers[3].addr[EC_ADDR_MAX - 1] = 1;
	expect_enc(c, &bad, EC_ERR_VALUE);
	memset(bad.peers[3].addr + 5, 0, EC_ADDR_MAX - 5);
	assert_int_equal(ec_referral_encode(&bad, &e, &n), EC_OK);
	assert_int_equal(n, REF_PEER(EC_REFERRAL_MAX) - (EC_ADDR_MAX - 5));
	free(e);
	/* peers past n_peers are not part of the object and not checked */
	bad = r;
	bad.n_peers = 2;
	bad.peers[5].addr_len = 0xff;
	bad.peers[6].peer = bad.peers[0].peer;
	assert_int_equal(ec_referral_encode(&bad, &e, &n), EC_OK);
	free(e);
}

/* ---- hello: addr_len at 90, addr at 91 ------------------------------------ */
static void test_hello_rules(void **state)
{
	const codec *c = find("hello");
	uint64_t s = 14;
	ec_hello h, bad;
	uint8_t *e;
	size_t n;

	wg_hello(&s, &h, 1);
	assert_int_equal(ec_hello_encode(&h, &e, &n), EC_OK);
	assert_int_equal(n, 91 + EC_ADDR_MAX + 144);
	expect_limit_u8(c, e, n, 90, EC_ADDR_MAX + 1);
	free(e);

	bad = h;
	bad.addr_len = EC_ADDR_MAX + 1;
	expect_enc(c, &bad, EC_ERR_LIMIT);
	assert_int_equal(ec_hello_verify(&bad), EC_ERR_LIMIT);
	bad = h;
	bad.addr_len = 7;
	expect_enc(c, &bad, EC_ERR_VALUE);
	assert_int_equal(ec_hello_sign(&bad, wg_key(0)->sk), EC_ERR_VALUE);

	/* every field is covered by the signature */
	assert_int_equal(ec_hello_verify(&h), EC_OK);
	for (unsigned f = 0; f < 11; f++) {
		bad = h;
		switch (f) {
		case 0: bad.peer_id.b[31] ^= 1; break;
		case 1: bad.kx_pk[0] ^= 1; break;
		case 2: bad.network_id ^= 1ull << 63; break;
		case 3: bad.salt[15] ^= 1; break;
		case 4: bad.addr_len--; /* one byte shorter, still valid */
			bad.addr[bad.addr_len] = 0; break;
		case 5: bad.addr[0] ^= 0x80; break;
		case 6: bad.timestamp ^= 1; break;
		case 7: bad.head.b[0] ^= 1; break;
		case 8: bad.height ^= 1; break;
		case 9: memcpy(bad.pk, wg_key(0)->pk, sizeof bad.pk);
			if (memcmp(h.pk, bad.pk, sizeof bad.pk) == 0)
				memcpy(bad.pk, wg_key(1)->pk, sizeof bad.pk);
			break;
		default: bad.sig[63] ^= 1; break;
		}
		if (ec_hello_verify(&bad) == EC_OK)
			fail_msg("hello: field %u changed, still verifies", f);
	}
}

static void test_msg_peek(void **state)
{
	uint8_t b[2] = {EC_MSG_REFUSAL, EC_WIRE_VERSION};
	uint8_t t = 0;
	assert_int_equal(ec_msg_peek(b, 1, &t), EC_ERR_SHORT);
	assert_int_equal(ec_msg_peek(b, 2, &t), EC_OK);
	assert_int_equal(t, EC_MSG_REFUSAL);
	assert_string_equal(ec_msg_name(t), "refusal");
	b[1] = 2;
	assert_int_equal(ec_msg_peek(b, 2, &t), EC_ERR_VERSION);
	b[0] = 0x05; /* unassigned type code */
	assert_int_equal(ec_msg_peek(b, 2, &t), EC_ERR_TYPE);
	assert_null(ec_msg_name(0x05));
	assert_string_equal(ec_msg_name(EC_MSG_MAPPING_REQ), "mapping_req");
	assert_string_equal(ec_msg_name(EC_MSG_HELLO), "hello");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation_trailing_header),
		cmocka_unit_test(test_flip_breaks_signature),
		cmocka_unit_test(test_free_safety),
		cmocka_unit_test(test_tx_rules),
		cmocka_unit_test(test_vote_rules),
		cmocka_unit_test(test_block_rules),
		cmocka_unit_test(test_proof_rules),
		cmocka_unit_test(test_proof_full),
		cmocka_unit_test(test_mapping_rules),
		cmocka_unit_test(test_tx_resp_rules),
		cmocka_unit_test(test_request_rules),
		cmocka_unit_test(test_block_resp_rules),
		cmocka_unit_test(test_range_resp_rules),
		cmocka_unit_test(test_range_resp_limits),
		cmocka_unit_test(test_refusal_rules),
		cmocka_unit_test(test_mapping_req_rules),
		cmocka_unit_test(test_referral_rules),
		cmocka_unit_test(test_hello_rules),
		cmocka_unit_test(test_msg_peek),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
