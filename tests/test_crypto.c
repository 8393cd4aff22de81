/* test_crypto.c - SHA-256, tagged hashes, RFC 9162 Merkle vectors, RFC 8032
 * Ed25519 vectors, digest signatures, constant-time compare, key files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ec/crypto.h"
#include "testutil.h"

static void test_sha256_vectors(void **state)
{
	uint8_t out[32];
	ec_sha256(out, "", 0);
	tu_assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ec_sha256(out, "abc", 3);
	tu_assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_tagged_hash(void **state)
{
	ec_id a, b;
	uint8_t manual[64];
	size_t tl = strlen(EC_TAG_TXID) + 1;
	/* H_tag(tag, data) == SHA-256(tag || 0x00 || data) */
	memcpy(manual, EC_TAG_TXID, tl);
	memcpy(manual + tl, "xyz", 3);
	ec_hash(&a, EC_TAG_TXID, "xyz", 3);
	ec_sha256(b.b, manual, tl + 3);
	assert_memory_equal(a.b, b.b, 32);
	/* distinct tags separate domains */
	ec_hash(&b, EC_TAG_BLOCK, "xyz", 3);
	assert_memory_not_equal(a.b, b.b, 32);
	/* incremental == one-shot */
	ec_hash_ctx h;
	ec_hash_init(&h, EC_TAG_TXID);
	ec_hash_update(&h, "x", 1);
	ec_hash_update(&h, "yz", 2);
	ec_hash_final(&h, &b);
	assert_memory_equal(a.b, b.b, 32);
}

/* RFC 9162 / Certificate Transparency reference vectors: the eight leaves
 * used by the CT test suite and the roots of their first n leaves. */
static const char *ct_leaves[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *ct_roots[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void test_merkle_rfc9162(void **state)
{
	uint8_t *bufs[8];
	size_t lens[8];
	ec_id root;
	for (int i = 0; i < 8; i++)
		bufs[i] = tu_unhex(ct_leaves[i], &lens[i]);
	for (int n = 1; n <= 8; n++) {
		assert_int_equal(ec_merkle_root_var(&root, (const uint8_t *const *)bufs, lens, (size_t)n), EC_OK);
		tu_assert_hex(root.b, 32, ct_roots[n - 1]);
	}
	assert_int_equal(ec_merkle_root_var(&root, NULL, NULL, 0), EC_OK);
	tu_assert_hex(root.b, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (int i = 0; i < 8; i++)
		free(bufs[i]);
}

/* The fast 32-byte-leaf path must equal the recursive definition for every
 * size up to well past a block's 32 (it switches strategy above 32). */
static void test_merkle_fixed_matches_var(void **state)
{
	ec_id leaves[100], a, b;
	const uint8_t *ptrs[100];
	size_t lens[100];
	uint64_t s = 42;
	for (int i = 0; i < 100; i++) {
		tu_rand_bytes(&s, leaves[i].b, 32);
		ptrs[i] = leaves[i].b;
		lens[i] = 32;
	}
	for (size_t n = 0; n <= 100; n++) {
		ec_merkle_root(&a, leaves, n);
		assert_int_equal(ec_merkle_root_var(&b, ptrs, lens, n), EC_OK);
		assert_memory_equal(a.b, b.b, 32);
	}
	/* order matters */
	ec_merkle_root(&a, leaves, 2);
	ec_id sw[2] = {leaves[1], leaves[0]};
	ec_merkle_root(&b, sw, 2);
	assert_memory_not_equal(a.b, b.b, 32);
}

/* RFC 8032 section 7.1, tests 1-3. */
static const struct {
	const char *sk, *pk, *msg, *sig;
} rfc8032[] = {
	{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	 "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	 "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_ed25519_rfc8032(void **state)
{
	for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
		size_t n;
		uint8_t *seed = tu_unhex(rfc8032[i].sk, &n);
		uint8_t *msg = tu_unhex(rfc8032[i].msg, &n);
		uint8_t sig[64];
		ec_keypair kp;
		assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
		tu_assert_hex(kp.pk, 32, rfc8032[i].pk);
		assert_int_equal(ec_sign_raw(sig, msg, n, kp.sk), EC_OK);
		tu_assert_hex(sig, 64, rfc8032[i].sig);
		assert_int_equal(ec_verify_raw(sig, msg, n, kp.pk), EC_OK);
		sig[i] ^= 1;
		assert_int_equal(ec_verify_raw(sig, msg, n, kp.pk), EC_ERR_SIGNATURE);
		free(seed);
		free(msg);
	}
}

static void test_digest_signatures(void **state)
{
	ec_keypair kp, other;
	uint8_t seed[32] = {1}, seed2[32] = {2}, sig[64];
	ec_id d, d2;
	assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	assert_int_equal(ec_keypair_from_seed(&other, seed2), EC_OK);
	ec_hash(&d, EC_TAG_BLOCK, "payload", 7);
	assert_int_equal(ec_sign_digest(sig, &d, kp.sk), EC_OK);
	assert_int_equal(ec_verify_digest(sig, &d, kp.pk), EC_OK);
	assert_int_equal(ec_verify_digest(sig, &d, other.pk), EC_ERR_SIGNATURE);
	d2 = d;
	d2.b[31] ^= 0x80;
	assert_int_equal(ec_verify_digest(sig, &d2, kp.pk), EC_ERR_SIGNATURE);
	/* a digest signature is not a raw signature over the digest bytes */
	assert_int_equal(ec_verify_raw(sig, d.b, 32, kp.pk), EC_ERR_SIGNATURE);
	ec_keypair_wipe(&kp);
	for (int i = 0; i < 32; i++)
		assert_int_equal(kp.sk[i], 0);
}

/* The simulation stand-in: same sizes, checks bind key and message, and the
 * switch really switches (a fake signature is not a valid Ed25519 one). */
static void test_fake_signatures(void **state)
{
	ec_keypair kp, other;
	uint8_t seed[32] = {5}, seed2[32] = {6}, sig[64], real[64];
	ec_id d;
	assert_int_equal(ec_keypair_from_seed(&kp, seed), EC_OK);
	assert_int_equal(ec_keypair_from_seed(&other, seed2), EC_OK);
	ec_hash(&d, EC_TAG_VOTE, "v", 1);
	assert_int_equal(ec_sign_digest(real, &d, kp.sk), EC_OK);
	ec_crypto_set_fake_signatures(1);
	assert_true(ec_crypto_fake_signatures());
	assert_int_equal(ec_sign_digest(sig, &d, kp.sk), EC_OK);
	assert_memory_not_equal(sig, real, 64);
	assert_int_equal(ec_verify_digest(sig, &d, kp.pk), EC_OK);
	assert_int_equal(ec_verify_digest(sig, &d, other.pk), EC_ERR_SIGNATURE);
	assert_int_equal(ec_verify_digest(real, &d, kp.pk), EC_ERR_SIGNATURE);
	d.b[0] ^= 1;
	assert_int_equal(ec_verify_digest(sig, &d, kp.pk), EC_ERR_SIGNATURE);
	d.b[0] ^= 1;
	sig[63] ^= 1;
	assert_int_equal(ec_verify_digest(sig, &d, kp.pk), EC_ERR_SIGNATURE);
	sig[63] ^= 1;
	ec_crypto_set_fake_signatures(0);
	assert_int_equal(ec_verify_digest(sig, &d, kp.pk), EC_ERR_SIGNATURE);
	assert_int_equal(ec_verify_digest(real, &d, kp.pk), EC_OK);
}

static void test_ct_compare_and_zero(void **state)
{
	uint8_t a[40], b[40];
	memset(a, 7, sizeof a);
	memcpy(b, a, sizeof a);
	assert_true(ec_memeq_ct(a, b, sizeof a));
	b[39] ^= 1;
	assert_false(ec_memeq_ct(a, b, sizeof a));
	ec_memzero(a, sizeof a);
	for (size_t i = 0; i < sizeof a; i++)
		assert_int_equal(a[i], 0);
}

static void test_keyfile(void **state)
{
	char dir[] = "/tmp/ec-test-keyXXXXXX";
	char path[256];
	ec_keypair kp, back;
	struct stat st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/node.key", dir);
	assert_int_equal(ec_keypair_generate(&kp), EC_OK);
	assert_int_equal(ec_keyfile_write(path, &kp), EC_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ec_keyfile_read(path, &back), EC_OK);
	assert_memory_equal(kp.pk, back.pk, 32);
	assert_memory_equal(kp.sk, back.sk, 64);
	/* never overwrites */
	assert_int_equal(ec_keyfile_write(path, &kp), EC_ERR_EXISTS);
	/* refuses a group/world-readable key */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ec_keyfile_read(path, &back), EC_ERR_PERM);
	assert_int_equal(chmod(path, 0600), 0);
	/* a corrupted file is a format error, a mismatched public key a key error */
	{
		FILE *f = fopen(path, "r+");
		assert_non_null(f);
		long at = (long)strlen("ec-secret-key-v1\n") + 65;
		fseek(f, at, SEEK_SET);
		int c = fgetc(f);
		/* a read must be followed by a seek before a write (C11
		 * 7.21.5.3); without it glibc wrote the next digit, which
		 * was already the new value 1 time in ~17 */
		fseek(f, at, SEEK_SET);
		fputc(c == '0' ? '1' : '0', f); /* flips one pk hex digit */
		fclose(f);
		int r = ec_keyfile_read(path, &back);
		assert_true(r == EC_ERR_KEY || r == EC_ERR_FORMAT);
		f = fopen(path, "w");
		fputs("garbage\n", f);
		fclose(f);
		assert_int_equal(ec_keyfile_read(path, &back), EC_ERR_FORMAT);
	}
	assert_int_equal(ec_keyfile_read("/nonexistent/x.key", &back), EC_ERR_NOTFOUND);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_tagged_hash),
		cmocka_unit_test(test_merkle_rfc9162),
		cmocka_unit_test(test_merkle_fixed_matches_var),
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_digest_signatures),
		cmocka_unit_test(test_fake_signatures),
		cmocka_unit_test(test_ct_compare_and_zero),
		cmocka_unit_test(test_keyfile),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
