/* test_transport.c - the datagram transport (transport.h, PROTOCOL 16):
 * keying symmetry, round trip, tampering of every byte, wrong key, wrong
 * network, wrong receiver, replay window, truncation and size limits, key
 * files, the known-answer vectors of PROTOCOL 16 (printed with
 * EC_PRINT_VECTORS=1), and the address-validation cookies: vector, every
 * input bound, the jar's rotation and tolerance of one rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ec/crypto.h"
#include "ec/transport.h"
#include "testutil.h"

static void kp_seed(ec_kx_keypair *kp, uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	assert_int_equal(ec_kx_keypair_from_seed(kp, seed), EC_OK);
}

static void test_derive_symmetric(void **state)
{
	ec_kx_keypair a, b, c;
	ec_transport_keys ab, ba, ac, ab2;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	kp_seed(&c, 3);
	assert_int_equal(ec_transport_derive(&ab, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_transport_derive(&ba, &b, a.pk, 7), EC_OK);
	/* A's send key is B's receive key and vice versa */
	assert_memory_equal(ab.tx, ba.rx, 32);
	assert_memory_equal(ab.rx, ba.tx, 32);
	/* the two directions differ */
	assert_memory_not_equal(ab.tx, ab.rx, 32);
	/* another peer, another network: other keys */
	assert_int_equal(ec_transport_derive(&ac, &a, c.pk, 7), EC_OK);
	assert_memory_not_equal(ab.tx, ac.tx, 32);
	assert_int_equal(ec_transport_derive(&ab2, &a, b.pk, 8), EC_OK);
	assert_memory_not_equal(ab.tx, ab2.tx, 32);
	/* a low-order public key (all zero) is refused */
	uint8_t zero[32] = {0};
	assert_int_equal(ec_transport_derive(&ab2, &a, zero, 7), EC_ERR_KEY);
}

/* Seals "payload" from a to b; returns the datagram length. */
static size_t seal_ab(uint8_t *d, const ec_kx_keypair *a, const ec_kx_keypair *b,
		      uint64_t net, uint64_t ctr, const uint8_t *pl, size_t len)
{
	ec_transport_keys k;
	size_t n = 0;
	assert_int_equal(ec_transport_derive(&k, a, b->pk, net), EC_OK);
	assert_int_equal(ec_dgram_seal(d, EC_DGRAM_MAX_BYTES, &n, k.tx, a->pk, ctr, pl, len),
			 EC_OK);
	assert_int_equal(n, len + EC_DGRAM_OVERHEAD);
	return n;
}

/* Parses and opens at b; returns the error; the payload goes to out, its length to olen. */
static int open_at(const ec_kx_keypair *b, uint64_t net, const uint8_t *d, size_t n,
		   uint8_t *out, size_t *olen)
{
	ec_dgram_hdr h;
	ec_transport_keys k;
	int err;
	if ((err = ec_dgram_parse(&h, d, n)) != EC_OK)
		return err;
	if ((err = ec_transport_derive(&k, b, h.sender, net)) != EC_OK)
		return err;
	return ec_dgram_open(out, olen, k.rx, d, n);
}

static void test_round_trip(void **state)
{
	ec_kx_keypair a, b;
	static uint8_t d[EC_DGRAM_MAX_BYTES], out[EC_DGRAM_MAX_BYTES], pl[EC_DGRAM_MAX_PAYLOAD];
	size_t sizes[] = {0, 1, 51, 1400, EC_DGRAM_MAX_PAYLOAD}, olen;
	uint64_t rs = 5;
	ec_dgram_hdr h;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	tu_rand_bytes(&rs, pl, sizeof pl);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = seal_ab(d, &a, &b, 7, 1000 + i, pl, sizes[i]);
		assert_int_equal(ec_dgram_parse(&h, d, n), EC_OK);
		assert_int_equal(h.counter, 1000 + i);
		assert_memory_equal(h.sender, a.pk, 32);
		olen = 12345;
		assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_OK);
		assert_int_equal(olen, sizes[i]);
		if (olen)
			assert_memory_equal(out, pl, olen);
	}
	/* one byte over the payload limit is refused at sealing */
	ec_transport_keys k;
	size_t n;
	assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_dgram_seal(d, sizeof d, &n, k.tx, a.pk, 1, pl,
				       EC_DGRAM_MAX_PAYLOAD + 1),
			 EC_ERR_LIMIT);
	/* a buffer too small is an argument error, not an overflow */
	assert_int_equal(ec_dgram_seal(d, 10 + EC_DGRAM_OVERHEAD, &n, k.tx, a.pk, 1, pl, 11),
			 EC_ERR_ARG);
}

static void test_tamper_every_byte(void **state)
{
	ec_kx_keypair a, b;
	uint8_t d[200], out[200], pl[100];
	size_t olen;
	uint64_t rs = 9;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	tu_rand_bytes(&rs, pl, sizeof pl);
	size_t n = seal_ab(d, &a, &b, 7, 42, pl, sizeof pl);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			d[i] ^= (uint8_t)(1u << bit);
			int err = open_at(&b, 7, d, n, out, &olen);
			/* version/flags bytes fail the cheap checks, a changed
			 * sender key fails derivation or authentication, the
			 * counter (nonce + ad), body and tag fail authentication */
			assert_int_not_equal(err, EC_OK);
			if (i >= 2)
				assert_true(err == EC_ERR_SIGNATURE || err == EC_ERR_KEY);
			d[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_OK);
}

static void test_wrong_key_network_receiver(void **state)
{
	ec_kx_keypair a, b, c, m;
	uint8_t d[200], out[200], pl[64] = "mapping request";
	size_t olen;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	kp_seed(&c, 3);
	kp_seed(&m, 4);
	size_t n = seal_ab(d, &a, &b, 7, 1, pl, sizeof pl);
	/* wrong network id at the receiver */
	assert_int_equal(open_at(&b, 8, d, n, out, &olen), EC_ERR_SIGNATURE);
	/* a third peer that was not the receiver */
	assert_int_equal(open_at(&c, 7, d, n, out, &olen), EC_ERR_SIGNATURE);
	/* sealed by m with the key of the pair (m, b) but claiming to be a */
	ec_transport_keys k;
	assert_int_equal(ec_transport_derive(&k, &m, b.pk, 7), EC_OK);
	assert_int_equal(ec_dgram_seal(d, sizeof d, &n, k.tx, a.pk, 1, pl, sizeof pl), EC_OK);
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_ERR_SIGNATURE);
	/* the receiver's own tx key instead of rx */
	n = seal_ab(d, &a, &b, 7, 1, pl, sizeof pl);
	assert_int_equal(ec_transport_derive(&k, &b, a.pk, 7), EC_OK);
	assert_int_equal(ec_dgram_open(out, &olen, k.tx, d, n), EC_ERR_SIGNATURE);
}

static void test_truncation_and_header(void **state)
{
	ec_kx_keypair a, b;
	uint8_t d[300], out[300], pl[120];
	size_t olen;
	ec_dgram_hdr h;
	memset(pl, 0x5a, sizeof pl);
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	size_t n = seal_ab(d, &a, &b, 7, 3, pl, sizeof pl);
	for (size_t k = 0; k < n; k++) {
		int err = open_at(&b, 7, d, k, out, &olen);
		if (k < EC_DGRAM_OVERHEAD)
			assert_int_equal(err, EC_ERR_SHORT);
		else
			assert_int_equal(err, EC_ERR_SIGNATURE);
	}
	/* extended by one byte: authentication fails too */
	d[n] = 0;
	assert_int_equal(open_at(&b, 7, d, n + 1, out, &olen), EC_ERR_SIGNATURE);
	/* header checks */
	assert_int_equal(ec_dgram_parse(&h, d, EC_DGRAM_MAX_BYTES + 1), EC_ERR_LIMIT);
	d[0] = 2;
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_ERR_VERSION);
	d[0] = 1;
	d[1] = EC_DGRAM_FLAG_FRAG | EC_DGRAM_FLAG_VALIDATE; /* at most one flag */
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_ERR_VALUE);
	d[1] = 4; /* only bits 0 and 1 are defined */
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_ERR_VALUE);
	d[1] = 0x81;
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_ERR_VALUE);
	d[1] = EC_DGRAM_FLAG_FRAG; /* parses; the changed ad then fails authentication */
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_OK);
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_ERR_SIGNATURE);
	d[1] = EC_DGRAM_FLAG_VALIDATE;
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_OK);
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_ERR_SIGNATURE);
	d[1] = 0;
	assert_int_equal(ec_dgram_parse(&h, d, n), EC_OK);
	{
		ec_transport_keys k;
		assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
		assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, k.tx, a.pk, 1, 3, pl, 10),
				 EC_ERR_VALUE);
	}
}

static void test_replay_window(void **state)
{
	ec_replay r;
	memset(&r, 0, sizeof r);
	assert_int_equal(ec_replay_check(&r, 100), EC_OK);
	ec_replay_accept(&r, 100);
	assert_int_equal(ec_replay_check(&r, 100), EC_ERR_EXISTS);
	/* reordering inside the window is fine, once */
	assert_int_equal(ec_replay_check(&r, 99), EC_OK);
	ec_replay_accept(&r, 99);
	assert_int_equal(ec_replay_check(&r, 99), EC_ERR_EXISTS);
	assert_int_equal(ec_replay_check(&r, 101), EC_OK);
	ec_replay_accept(&r, 105);
	for (uint64_t c = 101; c < 105; c++)
		assert_int_equal(ec_replay_check(&r, c), EC_OK);
	assert_int_equal(ec_replay_check(&r, 105), EC_ERR_EXISTS);
	assert_int_equal(ec_replay_check(&r, 100), EC_ERR_EXISTS);
	/* slide by most of a window: old marks must not alias new counters */
	ec_replay_accept(&r, 105 + EC_REPLAY_WINDOW - 1);
	assert_int_equal(ec_replay_check(&r, 106), EC_OK); /* still in, unseen */
	assert_int_equal(ec_replay_check(&r, 105), EC_ERR_EXISTS);
	assert_int_equal(ec_replay_check(&r, 104), EC_ERR_TIME);
	assert_int_equal(ec_replay_check(&r, 0), EC_ERR_TIME);
	/* a jump far ahead clears everything */
	ec_replay_accept(&r, 1ull << 40);
	assert_int_equal(ec_replay_check(&r, (1ull << 40) - 1), EC_OK);
	assert_int_equal(ec_replay_check(&r, (1ull << 40) - EC_REPLAY_WINDOW), EC_ERR_TIME);
	/* every counter of a long shuffled-by-pairs stream accepted once */
	memset(&r, 0, sizeof r);
	for (uint64_t c = 0; c < 10000; c += 2) {
		assert_int_equal(ec_replay_check(&r, c + 1), EC_OK);
		ec_replay_accept(&r, c + 1);
		assert_int_equal(ec_replay_check(&r, c), EC_OK);
		ec_replay_accept(&r, c);
		assert_int_equal(ec_replay_check(&r, c), EC_ERR_EXISTS);
		assert_int_equal(ec_replay_check(&r, c + 1), EC_ERR_EXISTS);
	}
}

static void test_kx_keyfile(void **state)
{
	char dir[] = "/tmp/ec-kxkey-XXXXXX", path[64];
	ec_kx_keypair a, back;
	struct stat st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/kx.key", dir);
	assert_int_equal(ec_kx_keypair_generate(&a), EC_OK);
	assert_int_equal(ec_kx_keyfile_write(path, &a), EC_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ec_kx_keyfile_write(path, &a), EC_ERR_EXISTS);
	assert_int_equal(ec_kx_keyfile_read(path, &back), EC_OK);
	assert_memory_equal(a.pk, back.pk, 32);
	assert_memory_equal(a.sk, back.sk, 32);
	chmod(path, 0644);
	assert_int_equal(ec_kx_keyfile_read(path, &back), EC_ERR_PERM);
	chmod(path, 0600);
	/* an Ed25519 key file is not a transport key file */
	ec_keypair ed;
	char p2[64];
	snprintf(p2, sizeof p2, "%s/ed.key", dir);
	assert_int_equal(ec_keypair_generate(&ed), EC_OK);
	assert_int_equal(ec_keyfile_write(p2, &ed), EC_OK);
	assert_int_equal(ec_kx_keyfile_read(p2, &back), EC_ERR_FORMAT);
	unlink(p2);
	unlink(path);
	rmdir(dir);
}

/* PROTOCOL 16 vector: A = kx seed 32x01, B = 32x02, network 7, counter
 * 0x0000000100000002, payload "ec" (0x6563), A -> B. */
static const char *VEC_A_PK = "a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209";
static const char *VEC_KEY_AB = "65801c11d814a8e914f9d59eddb9218c5e730069a9456682c766d0b97e4219b1";
static const char *VEC_DGRAM =
	"01000000000100000002a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b44"
	"09f8a20902141829079f5cee35a358a80614ee2e5259";

static void hexprint(const char *name, const uint8_t *p, size_t n)
{
	printf("%s = ", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void test_vector(void **state)
{
	ec_kx_keypair a, b;
	ec_transport_keys k;
	uint8_t d[64], out[8];
	size_t n, olen;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_dgram_seal(d, sizeof d, &n, k.tx, a.pk, 0x0000000100000002ull,
				       (const uint8_t *)"ec", 2),
			 EC_OK);
	if (getenv("EC_PRINT_VECTORS")) {
		hexprint("A.pk", a.pk, 32);
		hexprint("B.pk", b.pk, 32);
		hexprint("key(A->B)", k.tx, 32);
		hexprint("key(B->A)", k.rx, 32);
		hexprint("datagram", d, n);
	}
	tu_assert_hex(a.pk, 32, VEC_A_PK);
	tu_assert_hex(k.tx, 32, VEC_KEY_AB);
	tu_assert_hex(d, n, VEC_DGRAM);
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_OK);
	assert_int_equal(olen, 2);
	assert_memory_equal(out, "ec", 2);
}

/* PROTOCOL 16 "Address validation" vector: secret 00 01 .. 1f, kx_pk =
 * A.kx_pk above, address 127.0.0.1:9000 (7f000001 2328), bucket 12345; and
 * the challenge carrying it, A -> B, network 7, counter 0x0000000100000003
 * (checked against Python hashlib.blake2b + cryptography). */
static const char *VEC_COOKIE = "1bfa5b6a0229cb9998cbb6d160df0e85";
static const char *VEC_COOKIE6 = "b3b24f3737a2acc8c7e30ec9c281bec7"; /* [::1]:9000 */
static const char *VEC_CHALLENGE =
	"01020000000100000003a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b44"
	"09f8a2098ef1759b8d284a8dd68329c4c15feea4cec41ff40769b4815c2993486e874a0553";

static void test_cookie_vector(void **state)
{
	ec_kx_keypair a, b;
	ec_transport_keys k;
	uint8_t secret[32], c[EC_COOKIE_BYTES], c2[EC_COOKIE_BYTES], pl[EC_VALIDATE_BYTES],
		d[128], out[64], kind;
	const uint8_t v4[6] = {0x7f, 0, 0, 1, 0x23, 0x28};
	uint8_t v6[18] = {0};
	size_t n, olen;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	v6[15] = 1;
	v6[16] = 0x23;
	v6[17] = 0x28;
	assert_int_equal(ec_cookie_compute(c, secret, a.pk, v4, sizeof v4, 12345), EC_OK);
	tu_assert_hex(c, sizeof c, VEC_COOKIE);
	assert_int_equal(ec_cookie_compute(c2, secret, a.pk, v6, sizeof v6, 12345), EC_OK);
	tu_assert_hex(c2, sizeof c2, VEC_COOKIE6);
	/* every input is bound: another bucket, key, port or secret */
	assert_int_equal(ec_cookie_compute(c2, secret, a.pk, v4, sizeof v4, 12346), EC_OK);
	assert_memory_not_equal(c, c2, sizeof c);
	assert_int_equal(ec_cookie_compute(c2, secret, b.pk, v4, sizeof v4, 12345), EC_OK);
	assert_memory_not_equal(c, c2, sizeof c);
	{
		uint8_t v4b[6];
		memcpy(v4b, v4, 6);
		v4b[5] ^= 1;
		assert_int_equal(ec_cookie_compute(c2, secret, a.pk, v4b, 6, 12345), EC_OK);
		assert_memory_not_equal(c, c2, sizeof c);
	}
	secret[31] ^= 1;
	assert_int_equal(ec_cookie_compute(c2, secret, a.pk, v4, sizeof v4, 12345), EC_OK);
	assert_memory_not_equal(c, c2, sizeof c);
	assert_int_equal(ec_cookie_compute(c2, secret, a.pk, v4, 256, 1), EC_ERR_ARG);
	/* the challenge datagram of the vector */
	assert_int_equal(ec_validate_encode(pl, EC_VALIDATE_CHALLENGE, c), EC_OK);
	assert_int_equal(ec_transport_derive(&k, &a, b.pk, 7), EC_OK);
	assert_int_equal(ec_dgram_seal_flags(d, sizeof d, &n, k.tx, a.pk, 0x0000000100000003ull,
					     EC_DGRAM_FLAG_VALIDATE, pl, sizeof pl),
			 EC_OK);
	if (getenv("EC_PRINT_VECTORS")) {
		hexprint("cookie", c, sizeof c);
		hexprint("challenge", d, n);
	}
	assert_int_equal(n, EC_VALIDATE_DGRAM_BYTES);
	tu_assert_hex(d, n, VEC_CHALLENGE);
	assert_int_equal(open_at(&b, 7, d, n, out, &olen), EC_OK);
	assert_int_equal(ec_validate_parse(&kind, c2, out, olen), EC_OK);
	assert_int_equal(kind, EC_VALIDATE_CHALLENGE);
	assert_memory_equal(c2, c, sizeof c);
	/* parse: exact length, known kind */
	assert_int_equal(ec_validate_parse(&kind, c2, out, olen - 1), EC_ERR_SHORT);
	assert_int_equal(ec_validate_parse(&kind, c2, out, olen + 1), EC_ERR_TRAILING);
	out[0] = 3;
	assert_int_equal(ec_validate_parse(&kind, c2, out, olen), EC_ERR_VALUE);
	out[0] = 0;
	assert_int_equal(ec_validate_parse(&kind, c2, out, olen), EC_ERR_VALUE);
	assert_int_equal(ec_validate_encode(pl, 0, c), EC_ERR_VALUE);
}

/* The jar: a cookie is good in its bucket and the next, not later; each
 * (key, address) its own; a step of two buckets forgets both secrets. */
static void test_cookie_jar(void **state)
{
	ec_cookie_jar j;
	ec_kx_keypair a, b;
	const uint8_t addr[6] = {127, 0, 0, 1, 0x23, 0x28}, other[6] = {127, 0, 0, 1, 0x23, 0x29};
	uint8_t c[EC_COOKIE_BYTES], c2[EC_COOKIE_BYTES];
	const uint64_t B = EC_COOKIE_BUCKET_MS, t0 = 1000 * B + 5;
	kp_seed(&a, 1);
	kp_seed(&b, 2);
	memset(&j, 0, sizeof j);
	/* nothing made yet: nothing is good */
	memset(c, 0, sizeof c);
	assert_int_equal(ec_cookie_jar_check(&j, t0, a.pk, addr, 6, c), EC_ERR_SIGNATURE);
	assert_int_equal(ec_cookie_jar_make(&j, t0, a.pk, addr, 6, c), EC_OK);
	assert_int_equal(ec_cookie_jar_check(&j, t0, a.pk, addr, 6, c), EC_OK);
	/* the same pair, the same bucket: the same cookie (stateless) */
	assert_int_equal(ec_cookie_jar_make(&j, t0 + B - 10, a.pk, addr, 6, c2), EC_OK);
	assert_memory_equal(c, c2, sizeof c);
	/* another key or address: refused */
	assert_int_equal(ec_cookie_jar_check(&j, t0, b.pk, addr, 6, c), EC_ERR_SIGNATURE);
	assert_int_equal(ec_cookie_jar_check(&j, t0, a.pk, other, 6, c), EC_ERR_SIGNATURE);
	assert_int_equal(ec_cookie_jar_check(&j, t0, a.pk, addr, 5, c), EC_ERR_SIGNATURE);
	/* one rotation later: still good; a fresh cookie differs */
	assert_int_equal(ec_cookie_jar_check(&j, t0 + B, a.pk, addr, 6, c), EC_OK);
	assert_int_equal(ec_cookie_jar_make(&j, t0 + B, a.pk, addr, 6, c2), EC_OK);
	assert_memory_not_equal(c, c2, sizeof c);
	/* a clock stepping back keeps the newest bucket */
	assert_int_equal(ec_cookie_jar_check(&j, t0 - 3 * B, a.pk, addr, 6, c2), EC_OK);
	/* two rotations after it was made: refused; the newer one still good */
	assert_int_equal(ec_cookie_jar_check(&j, t0 + 2 * B, a.pk, addr, 6, c), EC_ERR_SIGNATURE);
	assert_int_equal(ec_cookie_jar_check(&j, t0 + 2 * B, a.pk, addr, 6, c2), EC_OK);
	/* a jump of two buckets forgets both secrets */
	assert_int_equal(ec_cookie_jar_check(&j, t0 + 4 * B, a.pk, addr, 6, c2), EC_ERR_SIGNATURE);
	/* a flipped bit anywhere in the cookie: refused */
	assert_int_equal(ec_cookie_jar_make(&j, t0 + 4 * B, a.pk, addr, 6, c), EC_OK);
	for (int i = 0; i < EC_COOKIE_BYTES * 8; i++) {
		c[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(ec_cookie_jar_check(&j, t0 + 4 * B, a.pk, addr, 6, c),
				 EC_ERR_SIGNATURE);
		c[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(ec_cookie_jar_check(&j, t0 + 4 * B, a.pk, addr, 6, c), EC_OK);
	ec_cookie_jar_wipe(&j);
	assert_int_equal(j.have, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_symmetric),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_wrong_key_network_receiver),
		cmocka_unit_test(test_truncation_and_header),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_kx_keyfile),
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_cookie_vector),
		cmocka_unit_test(test_cookie_jar),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
