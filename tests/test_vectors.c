/* test_vectors.c - the fixed test vectors of docs/PROTOCOL.md section 15:
 * objects built from fixed seeds and values, whose encodings and derived
 * ids/digests are asserted byte for byte (Ed25519 is deterministic).  Each
 * vector also decodes back to an equal encoding and its signatures verify.
 * EC_PRINT_VECTORS=1 prints every vector as "name hex" to regenerate the
 * document after an intended format change. */
#include <stdio.h>
#include <stdlib.h>

#include "ec/chain.h"
#include "ec/crypto.h"
#include "ec/identity.h"
#include "ec/wire.h"
#include "testutil.h"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */

/* name -> expected hex, in build order */
static const struct {
	const char *name;
	const char *hex;
} expect[] = {
	{"pk_A",
	 "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"},
	{"pk_B",
	 "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"},
	{"pk_C",
	 "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"},
	{"keyhash_A",
	 "fbed494bf41163aae1a3522ec0a68006921edc4bc5de44651f8a4a79e0a849cf"},
	{"creation",
	 "01010000018bcfe5680001111111111111111111111111111111111111111111"
	 "1111111111111111111111000000000000000000000000000000000000000000"
	 "0000000000000000000000fbed494bf41163aae1a3522ec0a68006921edc4bc5"
	 "de44651f8a4a79e0a849cf00"},
	{"creation_id",
	 "de75cd23e14f345826401e647a4eac7135cec78586c2a7b8b4a1073aadc066e8"},
	{"transfer_sig_digest",
	 "c5e3664fa83e806fcc24f8e6a16e3185df7b61206da90d3630bc46917ea07f2e"},
	{"transfer",
	 "01010000018bcfe6526001111111111111111111111111111111111111111111"
	 "1111111111111111111111de75cd23e14f345826401e647a4eac7135cec78586"
	 "c2a7b8b4a1073aadc066e8876e44a33f9b39d2df0d78a8c75249a86666751e3e"
	 "49f988b7b2c56cb422dbef01008a88e3dd7409f195fd52db2d3cba5d72ca6709"
	 "bf1d94121bf3748801b40f6f5c102a69b86b843fd22f01e40aa26b615f263879"
	 "6f342cd341d70d39bc262c5df12d7b607f78f1e9c5768cbaa6ece03b19e41d5f"
	 "2bad2850b39d5a21ee6cd8c303"},
	{"transfer_id",
	 "88fbe9badcb26696f3b656134bc378f3ab15b6eb50696d6c966543b55a010043"},
	{"vote_digest",
	 "4ebdb016291fd49baf9a807660fdd54faf3fa5b8bae7b4ca9851186535a0acec"},
	{"vote",
	 "020188fbe9badcb26696f3b656134bc378f3ab15b6eb50696d6c966543b55a01"
	 "0043222222222222222222222222222222222222222222222222222222222222"
	 "2222000000010000018bcfe65648011111111111111111111111111111111111"
	 "1111111111111111111111111111110100ed4928c628d1c2c6eae90338905995"
	 "612959273a5c63f93636c14614ac8737d17bc00dcaad0121df4b1f9263c10011"
	 "c01f83708951e3eeb4a30c5e2aa36ee6041180225ac890a1ac4745a4bc4a872f"
	 "905e74dc5d8d3e3d97316307f40b8cdd0c"},
	{"proof",
	 "040102de75cd23e14f345826401e647a4eac7135cec78586c2a7b8b4a1073aad"
	 "c066e80088fbe9badcb26696f3b656134bc378f3ab15b6eb50696d6c966543b5"
	 "5a01004301020188fbe9badcb26696f3b656134bc378f3ab15b6eb50696d6c96"
	 "6543b55a01004322222222222222222222222222222222222222222222222222"
	 "22222222222222000000010000018bcfe6564801111111111111111111111111"
	 "11111111111111111111111111111111111111110100ed4928c628d1c2c6eae9"
	 "0338905995612959273a5c63f93636c14614ac8737d17bc00dcaad0121df4b1f"
	 "9263c10011c01f83708951e3eeb4a30c5e2aa36ee6041180225ac890a1ac4745"
	 "a4bc4a872f905e74dc5d8d3e3d97316307f40b8cdd0c"},
	{"proof_hash",
	 "a74c4a8bc5bda98490bc31bf2ce2ef92295f672296986634633dd27c2c0238f1"},
	{"merkle_root",
	 "4613ab4e650e8c52f1d846a5e05566266f7243072177a82460db9458de40e359"},
	{"block",
	 "0301333333333333333333333333333333333333333333333333333333333333"
	 "333300000000000000000000018bcfe65a300000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000004613ab4e650e8c52f1d846a5e055"
	 "66266f7243072177a82460db9458de40e359a74c4a8bc5bda98490bc31bf2ce2"
	 "ef92295f672296986634633dd27c2c0238f1ed4928c628d1c2c6eae903389059"
	 "95612959273a5c63f93636c14614ac8737d102de75cd23e14f345826401e647a"
	 "4eac7135cec78586c2a7b8b4a1073aadc066e888fbe9badcb26696f3b656134b"
	 "c378f3ab15b6eb50696d6c966543b55a01004382d35cc4265560ebb8694c424e"
	 "2a4f09a11090da28737e8be172f012326030ebb83b83e94102e02752b61d86bc"
	 "66c4f48d99e77846057a3ebcb36d16d47ec70e"},
	{"block_id",
	 "7666dcd9b174c0995e7c230e3331a5b8af3adbe58a36869bdea7342b6de68c9d"},
	{"mapping_resp_digest",
	 "106587ca065f3879b6e5b79e235f1d314e76b9d9a1a49f29550ba804d50ce7eb"},
	{"mapping_resp",
	 "1101444444444444444444444444444444443333333333333333333333333333"
	 "3333333333333333333333333333333333331111111111111111111111111111"
	 "11111111111111111111111111111111111188fbe9badcb26696f3b656134bc3"
	 "78f3ab15b6eb50696d6c966543b55a010043876e44a33f9b39d2df0d78a8c752"
	 "49a86666751e3e49f988b7b2c56cb422dbefde75cd23e14f345826401e647a4e"
	 "ac7135cec78586c2a7b8b4a1073aadc066e87666dcd9b174c0995e7c230e3331"
	 "a5b8af3adbe58a36869bdea7342b6de68c9d0000018bcfe65a307666dcd9b174"
	 "c0995e7c230e3331a5b8af3adbe58a36869bdea7342b6de68c9d000000000000"
	 "00000000018bcfe65e1801111111111111111111111111111111111111111111"
	 "111111111111111111111188fbe9badcb26696f3b656134bc378f3ab15b6eb50"
	 "696d6c966543b55a0100430000018bcfe65a30ed4928c628d1c2c6eae9033890"
	 "5995612959273a5c63f93636c14614ac8737d1b6ae71c91de51957117e246ad3"
	 "b27961875612aa6d7066411a230fc9e973558521699e05cf8be0772d6683f340"
	 "a40ba791ec010f94870b48c8bbf8dbb8f31d08"},
	{"tx_resp_digest",
	 "9b6aba293790994452c112b8c629dd2f68721b24c426b7c5a8dc6fa2c87a6bf5"},
	{"tx_resp",
	 "1301555555555555555555555555555555553333333333333333333333333333"
	 "33333333333333333333333333333333333301010000018bcfe6526001111111"
	 "1111111111111111111111111111111111111111111111111111111111de75cd"
	 "23e14f345826401e647a4eac7135cec78586c2a7b8b4a1073aadc066e8876e44"
	 "a33f9b39d2df0d78a8c75249a86666751e3e49f988b7b2c56cb422dbef01008a"
	 "88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c10"
	 "2a69b86b843fd22f01e40aa26b615f2638796f342cd341d70d39bc262c5df12d"
	 "7b607f78f1e9c5768cbaa6ece03b19e41d5f2bad2850b39d5a21ee6cd8c30376"
	 "66dcd9b174c0995e7c230e3331a5b8af3adbe58a36869bdea7342b6de68c9d01"
	 "0000000000000000ed4928c628d1c2c6eae90338905995612959273a5c63f936"
	 "36c14614ac8737d1836ca674f71a671ce3dc1688c5f57dc8090c61f403fd7eaf"
	 "96635200d1b638948a5cb905c9843941cb8e41811332f940ede3559b8924216d"
	 "b3b755b1f7bbd50e"},
	{"block_req_digest",
	 "a69344245151ad0e0a466acc3fe3f5e644d53b6e1cf8c4f92724ba1174632334"},
	{"block_req",
	 "14017666dcd9b174c0995e7c230e3331a5b8af3adbe58a36869bdea7342b6de6"
	 "8c9d016666666666666666666666666666666666666666666666666666666666"
	 "6666660000018bcfe66200777777777777777777777777777777778139770ea8"
	 "7d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394939df1a980"
	 "4f3a9ebfc033d3280a2ef993097424bde5b2121f0d5f1e00a99662b34c0eb005"
	 "70772282a65c59fa69b9c53dc5106102ba9036c9801446b1fa7107"},
	{"range_req_digest",
	 "76053524c0be4904994a8ca7e0d5d8e0d23940612785878be08daad5ef3bd215"},
	{"range_req",
	 "16017666dcd9b174c0995e7c230e3331a5b8af3adbe58a36869bdea7342b6de6"
	 "8c9d000000000000000000000000000000000000000000000000000000000000"
	 "0000001000010000010366666666666666666666666666666666666666666666"
	 "666666666666666666660000018bcfe662008888888888888888888888888888"
	 "88888139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9"
	 "b39481f03f787d8252f9f5806ff2357be628607212c07d8fd249fe54e9b7d974"
	 "b5298253d9e09e1d9025b4a4a280332921501e111747ed8f2c5d43ab3b7a867c"
	 "940c"},
	{"refusal_digest",
	 "f3dd5080f9f948a16b3f09a5d56802abc9893abf17c7ed4333df8e7e17d977ee"},
	{"refusal",
	 "1801777777777777777777777777777777773333333333333333333333333333"
	 "3333333333333333333333333333333333331402000003e8ed4928c628d1c2c6"
	 "eae90338905995612959273a5c63f93636c14614ac8737d1d1a4e3688f9c3442"
	 "43417651e661d7c7db80296b7cf8c86b2f9c9fd0790c78b75a911dee55f0c7a1"
	 "d33835cdd3ea558d3c92d8b203f1ccbb4c61ca8c60dc6800"},
	{"mapping_req",
	 "1001999999999999999999999999999999991111111111111111111111111111"
	 "11111111111111111111111111111111111101"},
	{"tx_req",
	 "1201aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa88fbe9badcb26696f3b656134bc3"
	 "78f3ab15b6eb50696d6c966543b55a010043"},
	{"referral",
	 "1901999999999999999999999999999999993333333333333333333333333333"
	 "3333333333333333333333333333333333331111111111111111111111111111"
	 "1111111111111111111111111111111111110222222222222222222222222222"
	 "22222222222222222222222222222222222222067f0000011b59444444444444"
	 "444444444444444444444444444444444444444444444444444400"},
	{"hello_peer_id",
	 "d68a255ee8aec96dc583e00f675fb922c00f2711e5aadf6f437d668a263f1f10"},
	{"hello_digest",
	 "d94b85ba6688d4f526e733b1bf85ad0b04b6c6fbf6a2cdf460527873d58381dc"},
	{"hello",
	 "1a01d68a255ee8aec96dc583e00f675fb922c00f2711e5aadf6f437d668a263f"
	 "1f10bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	 "bbbb00000000000000010000000000000009000000006553f100067f0000011b"
	 "580000018bcfe665e87666dcd9b174c0995e7c230e3331a5b8af3adbe58a3686"
	 "9bdea7342b6de68c9d0000000000000000ed4928c628d1c2c6eae90338905995"
	 "612959273a5c63f93636c14614ac8737d1fd0c316fa54149045937f5db9481d0"
	 "37d442cb6084fa229b6d6a75b3c46385f72460d7b8e4724b78c2eca0a73443e2"
	 "da6bc0205f23c13fce6db8890615f5b505"},
	{"txbatch_req",
	 "1b01cccccccccccccccccccccccccccccccc0288fbe9badcb26696f3b656134b"
	 "c378f3ab15b6eb50696d6c966543b55a010043de75cd23e14f345826401e647a"
	 "4eac7135cec78586c2a7b8b4a1073aadc066e8"},
	{"txbatch_resp_digest",
	 "97592c622f0b67391e1a5f572cfaa92a25fa680a0d7a1cad8559c9b60991f947"},
	{"txbatch_resp",
	 "1c01cccccccccccccccccccccccccccccccc3333333333333333333333333333"
	 "3333333333333333333333333333333333330200000000000000020101000001"
	 "8bcfe65260011111111111111111111111111111111111111111111111111111"
	 "111111111111de75cd23e14f345826401e647a4eac7135cec78586c2a7b8b4a1"
	 "073aadc066e8876e44a33f9b39d2df0d78a8c75249a86666751e3e49f988b7b2"
	 "c56cb422dbef01008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121b"
	 "f3748801b40f6f5c102a69b86b843fd22f01e40aa26b615f2638796f342cd341"
	 "d70d39bc262c5df12d7b607f78f1e9c5768cbaa6ece03b19e41d5f2bad2850b3"
	 "9d5a21ee6cd8c303ed4928c628d1c2c6eae90338905995612959273a5c63f936"
	 "36c14614ac8737d16958986cfc6160f6b016199b19ec7d70b0642bbcabed3608"
	 "2894f7c07bc5a36e2dabb93827c926c9198a6405f5e29325e719e411257dba4b"
	 "62dbfadab927ed0b"},
	{"v2_block0",
	 "0302333333333333333333333333333333333333333333333333333333333333"
	 "333300000000000000000000018bcfe568000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "000000000000000000000000000000000000d6b85b86de27746c1cf446c44620"
	 "b3f8665c3d6715641b6596a9a0b82b0b75d47777777777777777777777777777"
	 "777777777777777777777777777777777777ed4928c628d1c2c6eae903389059"
	 "95612959273a5c63f93636c14614ac8737d102a0a0a0a0a0a0a0a0a0a0a0a0a0"
	 "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a1a1a1a1a1a1a1a1a1a1a1a1a1"
	 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a19ef433da36d7bc9a54766a36f0"
	 "e77c2484f34ef6ef286bbe7e2e0e2dabfd1d3cdede8e8d22e8d6ed0548340ffa"
	 "5c244f9b5ac55362836e14ba6925cdaf98aa07"},
	{"v2_block4",
	 "0302333333333333333333333333333333333333333333333333333333333333"
	 "333300000000000000040000018bcfe91180a011bed707773a89b0e053a2b8bb"
	 "6d04d72c958c8fd2510e4cd9705bcfa7d838a011bed707773a89b0e053a2b8bb"
	 "6d04d72c958c8fd2510e4cd9705bcfa7d8380000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000004f855dc77595d0b38eb838d723af"
	 "60ef5c843e267ac68d39c8d8663708cf8132580ab534e45d658ad69dac65aa1a"
	 "ebfcc9d997cf742a6c3dab1bc223521c854b7777777777777777777777777777"
	 "777777777777777777777777777777777777ed4928c628d1c2c6eae903389059"
	 "95612959273a5c63f93636c14614ac8737d102a8a8a8a8a8a8a8a8a8a8a8a8a8"
	 "a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a9a9a9a9a9a9a9a9a9a9a9a9a9"
	 "a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a996d401ee94685392ee957c32ce"
	 "1c3a2aeb6326b00b280ae5a4dcfb6d0ba435fed8da3be8e1418a24068e65631d"
	 "d1b50be716ec83d1fc6d495712acd3ae20a601"},
	{"v2_block4_id",
	 "0d55b0f67285c2da3107c5d30e3c75763d151794995357042a44eef5e8222df7"},
	{"incl_proof_head",
	 "6563697001a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
	 "a3a3a3a3a30101a71ff0e222312d9d08ed8712b403b77bf1abfd626cd26f07c1"
	 "4716a073cca60e0003"},
	{"incl_proof_sha256",
	 "e6690cd99fc58482bdffe6e9631243e038ff8a5ce5c9beac0263bfb381bb6ed7"},
};

static int print_mode;

static void check_hex(const char *name, const uint8_t *p, size_t n)
{
	if (print_mode) {
		char *h = malloc(2 * n + 1);
		assert_non_null(h);
		ec_hex_encode(h, p, n);
		printf("%s %s\n", name, h);
		free(h);
		return;
	}
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		if (strcmp(expect[i].name, name) == 0) {
			tu_assert_hex(p, n, expect[i].hex);
			return;
		}
	fail_msg("no expected vector %s", name);
}

static void check_id(const char *name, const ec_id *id)
{
	check_hex(name, id->b, EC_HASH_BYTES);
}

static void fill(void *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

static ec_id id_of(uint8_t v)
{
	ec_id id;
	fill(id.b, sizeof id.b, v);
	return id;
}

static void key(ec_keypair *kp, uint8_t v)
{
	uint8_t seed[32];
	fill(seed, sizeof seed, v);
	assert_int_equal(ec_keypair_from_seed(kp, seed), EC_OK);
}

/* Encodes with enc, checks the hex, decodes with dec and re-encodes to the
 * same bytes. */
#define CHECK_CODEC(LABEL, NAME, T, obj, rel)                                         \
	do {                                                                   \
		uint8_t *e_, *e2_;                                             \
		size_t n_, n2_;                                                \
		T *d_ = calloc(1, sizeof(T));                                  \
		assert_non_null(d_);                                           \
		assert_int_equal(ec_##NAME##_encode(obj, &e_, &n_), EC_OK);    \
		check_hex(LABEL, e_, n_);                                      \
		assert_int_equal(ec_##NAME##_decode(d_, e_, n_), EC_OK);       \
		assert_int_equal(ec_##NAME##_encode(d_, &e2_, &n2_), EC_OK);   \
		assert_int_equal(n_, n2_);                                     \
		assert_memory_equal(e_, e2_, n_);                              \
		rel;                                                           \
		free(d_);                                                      \
		free(e_);                                                      \
		free(e2_);                                                     \
	} while (0)

#define CHECK_SIGNED(NAME, T, obj)                                             \
	do {                                                                   \
		ec_id dg_;                                                     \
		assert_int_equal(ec_##NAME##_verify(obj), EC_OK);              \
		assert_int_equal(ec_##NAME##_digest(obj, &dg_), EC_OK);        \
		check_id(#NAME "_digest", &dg_);                               \
		CHECK_CODEC(#NAME, NAME, T, obj, (void)0);                     \
	} while (0)

static void test_vectors(void **state)
{
	ec_keypair A, B, C;
	ec_tx create, transfer;
	ec_vote vote;
	ec_proof proof;
	ec_block block;
	ec_mapping_resp map;
	ec_tx_resp txr;
	ec_block_req breq;
	ec_range_req rreq;
	ec_refusal ref;
	ec_mapping_req mreq;
	ec_tx_req treq;
	ec_referral refer;
	ec_hello hello;
	ec_identity ident;
	static const uint8_t addr[6] = {127, 0, 0, 1, 0x1b, 0x58}; /* :7000 */
	static const uint8_t salt[16] = {0, 0, 0, 0, 0, 0, 0, 9, /* mined */
					 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00};
	ec_id d, kh;

	key(&A, 0x01);
	key(&B, 0x02);
	key(&C, 0x03);
	check_hex("pk_A", A.pk, 32);
	check_hex("pk_B", B.pk, 32);
	check_hex("pk_C", C.pk, 32);

	/* creation: token 32x11 owned by A */
	memset(&create, 0, sizeof create);
	create.timestamp = T0;
	create.n_entries = 1;
	create.entries[0].token = id_of(0x11);
	ec_keyhash(&create.entries[0].next_key, A.pk);
	assert_int_equal(ec_tx_finalize(&create), EC_OK);
	check_id("keyhash_A", &create.entries[0].next_key);
	CHECK_CODEC("creation", tx, ec_tx, &create, (void)0);
	check_id("creation_id", &create.id);

	/* transfer of 32x11 from A to B, signed by A */
	memset(&transfer, 0, sizeof transfer);
	transfer.timestamp = T0 + 60000;
	transfer.n_entries = 1;
	transfer.entries[0].token = id_of(0x11);
	transfer.entries[0].prev = create.id;
	ec_keyhash(&transfer.entries[0].next_key, B.pk);
	assert_int_equal(ec_tx_sign_entry(&transfer, 0, A.pk, A.sk), EC_OK);
	assert_int_equal(ec_tx_finalize(&transfer), EC_OK);
	assert_int_equal(ec_tx_verify_sigs(&transfer), EC_OK);
	assert_int_equal(ec_tx_sig_digest(&transfer, &d), EC_OK);
	check_id("transfer_sig_digest", &d);
	CHECK_CODEC("transfer", tx, ec_tx, &transfer, (void)0);
	check_id("transfer_id", &transfer.id);

	/* voter 32x22 (key C) votes yes on the transfer */
	memset(&vote, 0, sizeof vote);
	vote.txid = transfer.id;
	vote.voter = id_of(0x22);
	vote.seq = 1;
	vote.timestamp = T0 + 61000;
	vote.n_flags = 1;
	vote.flags[0].token = id_of(0x11);
	vote.flags[0].flag = EC_VOTE_YES;
	assert_int_equal(ec_vote_sign(&vote, C.sk), EC_OK);
	CHECK_SIGNED(vote, ec_vote, &vote);

	/* proof: creation without votes, transfer with the vote */
	memset(&proof, 0, sizeof proof);
	proof.n_txs = 2;
	proof.txs[0].txid = create.id;
	proof.txs[1].txid = transfer.id;
	proof.txs[1].n_votes = 1;
	proof.txs[1].votes = &vote; /* not heap: never freed */
	CHECK_CODEC("proof", proof, ec_proof, &proof, ec_proof_free(d_));
	assert_int_equal(ec_proof_hash(&proof, &d), EC_OK);
	check_id("proof_hash", &d);

	/* genesis block of chain 32x33 (key C) committing both */
	memset(&block, 0, sizeof block);
	block.creator = id_of(0x33);
	block.height = 0;
	block.timestamp = T0 + 62000;
	block.n_txs = 2;
	block.txids[0] = create.id;
	block.txids[1] = transfer.id;
	ec_merkle_root(&block.merkle_root, block.txids, 2);
	check_id("merkle_root", &block.merkle_root);
	block.proof_hash = d;
	assert_int_equal(ec_block_sign(&block, C.sk), EC_OK);
	assert_int_equal(ec_verify_digest(block.sig, &block.id, block.signer_pk), EC_OK);
	CHECK_CODEC("block", block, ec_block, &block, (void)0);
	check_id("block_id", &block.id);

	/* mapping of 32x11 at responder 32x33 */
	memset(&map, 0, sizeof map);
	fill(map.nonce, sizeof map.nonce, 0x44);
	map.responder = id_of(0x33);
	map.token = id_of(0x11);
	map.txid = transfer.id;
	ec_keyhash(&kh, B.pk);
	map.owner_key_hash = kh;
	map.prev_txid = create.id;
	map.commit_block = block.id;
	map.commit_block_ts = block.timestamp;
	map.head = block.id;
	map.height = 0;
	map.response_ts = T0 + 63000;
	map.n_evidence = 1;
	map.evidence[0].token = id_of(0x11);
	map.evidence[0].txid = transfer.id;
	map.evidence[0].commit_ts = block.timestamp;
	assert_int_equal(ec_mapping_resp_sign(&map, C.sk), EC_OK);
	CHECK_SIGNED(mapping_resp, ec_mapping_resp, &map);

	/* the transfer, committed at position 1 of the block */
	memset(&txr, 0, sizeof txr);
	fill(txr.nonce, sizeof txr.nonce, 0x55);
	txr.responder = id_of(0x33);
	txr.tx = transfer;
	txr.commit_block = block.id;
	txr.position = 1;
	txr.confirmations = 0;
	assert_int_equal(ec_tx_resp_sign(&txr, C.sk), EC_OK);
	CHECK_SIGNED(tx_resp, ec_tx_resp, &txr);

	/* requester 32x66 (key B) asks for the block, then the range */
	memset(&breq, 0, sizeof breq);
	breq.block_id = block.id;
	breq.priority = EC_PRIO_SYNC;
	breq.auth.requester = id_of(0x66);
	breq.auth.timestamp = T0 + 64000;
	fill(breq.auth.nonce, sizeof breq.auth.nonce, 0x77);
	assert_int_equal(ec_block_req_sign(&breq, B.sk), EC_OK);
	CHECK_SIGNED(block_req, ec_block_req, &breq);

	memset(&rreq, 0, sizeof rreq);
	rreq.start = block.id;
	rreq.max_blocks = 16;
	rreq.max_bytes = 65536;
	rreq.flags = EC_RANGE_WITH_PROOFS;
	rreq.priority = EC_PRIO_HISTORICAL;
	rreq.auth = breq.auth;
	fill(rreq.auth.nonce, sizeof rreq.auth.nonce, 0x88);
	assert_int_equal(ec_range_req_sign(&rreq, B.sk), EC_OK);
	CHECK_SIGNED(range_req, ec_range_req, &rreq);

	/* responder 32x33 refuses the block request: not found, retry in 1 s */
	memset(&ref, 0, sizeof ref);
	fill(ref.nonce, sizeof ref.nonce, 0x77);
	ref.responder = id_of(0x33);
	ref.request_type = EC_MSG_BLOCK_REQ;
	ref.reason = EC_REFUSE_NOTFOUND;
	ref.retry_after_ms = 1000;
	assert_int_equal(ec_refusal_sign(&ref, C.sk), EC_OK);
	CHECK_SIGNED(refusal, ec_refusal, &ref);

	/* queries: the mapping of 32x11 with evidence; the transfer */
	memset(&mreq, 0, sizeof mreq);
	fill(mreq.nonce, sizeof mreq.nonce, 0x99);
	mreq.token = id_of(0x11);
	mreq.flags = EC_MAPPING_WANT_EVIDENCE;
	CHECK_CODEC("mapping_req", mapping_req, ec_mapping_req, &mreq, (void)0);

	memset(&treq, 0, sizeof treq);
	fill(treq.nonce, sizeof treq.nonce, 0xaa);
	treq.txid = transfer.id;
	CHECK_CODEC("tx_req", tx_req, ec_tx_req, &treq, (void)0);

	/* 32x33 answers the mapping request with a referral: 32x22 at
	 * 127.0.0.1:7001 (closer to 32x11), then 32x44 with no address */
	memset(&refer, 0, sizeof refer);
	fill(refer.nonce, sizeof refer.nonce, 0x99);
	refer.responder = id_of(0x33);
	refer.target = id_of(0x11);
	refer.n_peers = 2;
	refer.peers[0].peer = id_of(0x22);
	refer.peers[0].addr_len = sizeof addr;
	memcpy(refer.peers[0].addr, addr, sizeof addr);
	refer.peers[0].addr[5] = 0x59;
	refer.peers[1].peer = id_of(0x44);
	CHECK_CODEC("referral", referral, ec_referral, &refer, (void)0);

	/* C's hello: a real identity of the test preset (network 1, mined at
	 * T0 / 1000 s with the salt counter at 9) at 127.0.0.1:7000, head
	 * block_id at height 0 */
	memset(&ident, 0, sizeof ident);
	memcpy(ident.pk, C.pk, sizeof ident.pk);
	ident.network_id = 1;
	memcpy(ident.salt, salt, sizeof salt);
	assert_int_equal(ec_identity_hash(&ident.peer_id, C.pk, 1, salt,
					  &ec_pow_test), EC_OK);
	assert_int_equal(ec_identity_verify(&ident, T0 / 1000 + 65, &ec_pow_test),
			 EC_OK);
	check_id("hello_peer_id", &ident.peer_id);
	memset(&hello, 0, sizeof hello);
	hello.peer_id = ident.peer_id;
	fill(hello.kx_pk, sizeof hello.kx_pk, 0xbb);
	hello.network_id = ident.network_id;
	memcpy(hello.salt, salt, sizeof salt);
	hello.addr_len = sizeof addr;
	memcpy(hello.addr, addr, sizeof addr);
	hello.timestamp = T0 + 65000;
	hello.head = block.id;
	hello.height = 0;
	assert_int_equal(ec_hello_sign(&hello, C.sk), EC_OK);
	CHECK_SIGNED(hello, ec_hello, &hello);

	/* tx-batch (13d): the bodies of the transfer and the creation; 32x33
	 * holds the transfer only */
	{
		ec_txbatch_req bq;
		ec_txbatch_resp br;
		memset(&bq, 0, sizeof bq);
		fill(bq.nonce, sizeof bq.nonce, 0xcc);
		bq.n = 2;
		bq.txids[0] = transfer.id;
		bq.txids[1] = create.id;
		CHECK_CODEC("txbatch_req", txbatch_req, ec_txbatch_req, &bq, (void)0);
		memset(&br, 0, sizeof br);
		fill(br.nonce, sizeof br.nonce, 0xcc);
		br.responder = id_of(0x33);
		br.n_asked = 2;
		br.missing = 0x2;
		br.n_txs = 1;
		br.txs = &transfer;
		assert_int_equal(ec_txbatch_resp_sign(&br, C.sk), EC_OK);
		assert_int_equal(ec_txbatch_resp_verify(&br), EC_OK);
		{
			ec_id dg;
			assert_int_equal(ec_txbatch_resp_digest(&br, &dg), EC_OK);
			check_id("txbatch_resp_digest", &dg);
		}
		CHECK_CODEC("txbatch_resp", txbatch_resp, ec_txbatch_resp, &br,
			    ec_txbatch_resp_free(d_));
	}
}

/* Version-2 blocks (section 5) and an inclusion proof (5.3): chain
 * 32x33 signed by C, block h at T0 + h * 60,000 with txids 32x(a0 + 2h)
 * and 32x(a1 + 2h), proof_hash 32x77; the proof from block 4 to txid
 * 32xa3 (block 1, index 1) walks 4 -skip-> 2 -prev-> 1. */
static void test_vectors_v2(void **state)
{
	ec_keypair C;
	ec_chain *c = ec_chain_new();
	ec_id creator = id_of(0x33), ph = id_of(0x77), tx = id_of(0xa3);
	ec_block b;
	uint8_t *p, dg[32];
	size_t n;
	ec_incl_info info;

	key(&C, 0x03);
	assert_non_null(c);
	for (uint64_t h = 0; h < 5; h++) {
		ec_id txids[2] = {id_of((uint8_t)(0xa0 + 2 * h)),
				  id_of((uint8_t)(0xa1 + 2 * h))};
		assert_int_equal(ec_chain_seal(c, &creator, T0 + h * 60000,
					       txids, 2, &ph, C.sk, &b),
				 EC_OK);
		if (h == 0)
			CHECK_CODEC("v2_block0", block, ec_block, &b, (void)0);
	}
	assert_int_equal(ec_skip_height(4), 2);
	CHECK_CODEC("v2_block4", block, ec_block, &b, (void)0);
	check_id("v2_block4_id", &b.id);
	assert_int_equal(ec_incl_build(c, &b.id, 1, &tx, &p, &n), EC_OK);
	assert_int_equal(n, 1576);
	assert_int_equal(ec_incl_verify(p, n, &info), EC_OK);
	assert_int_equal(info.n_blocks, 3);
	check_hex("incl_proof_head", p, 4 + 1 + 32 + 1 + 1 + 32 + 2);
	ec_sha256(dg, p, n);
	check_hex("incl_proof_sha256", dg, sizeof dg);
	free(p);
	ec_chain_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vectors_v2),
	};
	print_mode = getenv("EC_PRINT_VECTORS") != NULL;
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
