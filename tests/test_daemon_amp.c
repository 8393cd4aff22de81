/* test_daemon_amp.c - reflection and amplification (PROTOCOL 16 "Address
 * validation") against a network of 4 ecnode processes on loopback
 * (scripts/ecnet.sh, $BUILD) holding committed tokens and sealed blocks.
 *
 * A tu_client is an X25519 key and a UDP socket of its own (so a source
 * address of its own), and counts every byte of UDP payload it sends and
 * every byte that reaches its socket, from any node.  For every message
 * type a node may answer, and for the others too, an attacker tu_client sends
 * one request to node 0 and never echoes a challenge: to the node that is
 * exactly a spoofed source address (it cannot tell whether the victim or
 * the sender sits there).  The test prints the table (request, bytes out,
 * bytes in from node 0 and from the other nodes, ratio) and asserts
 * in / out <= 1.0 for each row.  Then a tu_client that echoes challenges sends
 * the same request and must get the full answer, checked by type and
 * content.  A last test binds 16 peers of its own to node 0 so that a
 * mapping request is answered with a referral, and measures that too.
 *
 *   BUILD=build build/tests/test_daemon_amp     (prints the table) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "ec/identity.h"
#include "ec/ring.h"
#include "ec/transport.h"
#include "ec/wire.h"
#include "testutil.h"
#include "tu_udp.h"
#include "wiregen.h"

#define NET 42 /* scripts/ecnet.sh's network id */
#define NODES 4
#define NTOK 6

static char dir[64];
static const char *build;
static tu_node node; /* node 0 */
static ec_id head, token, txids[NTOK];

/* ---- the network ------------------------------------------------------------ */

static int shell(const char *script)
{
	return tu_ecnet(build, dir, script);
}

static json_t *ctl(int i, const char *args)
{
	return tu_ctl(build, dir, i, args);
}

static void get_id(ec_id *out, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	assert_non_null(s);
	assert_int_equal(ec_hex_decode(out->b, 32, s), EC_OK);
}

/* Until txids[from..to) are all committed at node 0 (30 s). */
static void wait_committed(int from, int to)
{
	char args[128];
	json_t *j;
	int left = 1;
	for (int k = 0; k < 300 && left; k++) {
		left = 0;
		for (int i = from; i < to; i++) {
			char hex[65];
			ec_hex_encode(hex, txids[i].b, 32);
			snprintf(args, sizeof args, "tx %s", hex);
			j = ctl(0, args);
			if (!j || strcmp(json_string_value(json_object_get(j, "state")) ?: "",
					 "committed") != 0)
				left++;
			json_decref(j);
		}
		if (left)
			usleep(100000);
	}
	assert_int_equal(left, 0);
}

static int setup_net(void **state)
{
	char args[512];
	json_t *j;
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	snprintf(dir, sizeof dir, "/tmp/ec-amp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(shell("ecnet_init \"$ECNET_DIR\" 4 0 && ecnet_start_all 4 && "
			       "ecnet_wait_peers 4"),
			 0);
	snprintf(args, sizeof args, "'%s/ecctl' keygen '%s/a.key' >/dev/null", build, dir);
	assert_int_equal(system(args), 0);
	/* two rounds of creations: node 0's chain holds at least two blocks */
	for (int i = 0; i < NTOK; i++) {
		snprintf(args, sizeof args, "token create --owner '%s/a.key' --submit", dir);
		assert_non_null(j = ctl(0, args));
		get_id(&txids[i], j, "txid");
		if (i == 0)
			get_id(&token, j, "token");
		json_decref(j);
		if (i == NTOK / 2 - 1)
			wait_committed(0, NTOK / 2);
	}
	wait_committed(0, NTOK);
	assert_non_null(j = ctl(0, "status"));
	get_id(&head, j, "head");
	json_decref(j);
	tu_node_get(&node, build, dir, 0, NET);
	return 0;
}

static long long tstat(const char *k)
{
	return tu_tstat(build, dir, 0, k);
}

static int teardown_net(void **state)
{
	char cmd[128];
	(void)shell("ecnet_stop_all");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
	return 0;
}

/* ---- requests ------------------------------------------------------------------- */

static uint64_t seed = 1234;

static void auth(ec_req_auth *a, const tu_client *c)
{
	memset(a, 0, sizeof *a);
	a->requester = c->pseudo; /* the transport's sender: the rule of PROTOCOL 13c */
	a->timestamp = tu_now_ms();
	tu_rand_bytes(&seed, a->nonce, sizeof a->nonce);
}

/* Builds request `kind` from tu_client c: *enc malloc'd. */
enum {
	R_MAPPING, R_MAPPING_FRAG, R_TX, R_BLOCK, R_RANGE, R_TXBATCH, R_HELLO, R_CHALLENGE,
	R_U_TX, R_U_VOTE, R_U_BLOCK, R_U_PROOF, R_U_MAPRESP, R_U_TXRESP, R_U_BLOCKRESP,
	R_U_RANGERESP, R_U_REFUSAL, R_U_REFERRAL, R_U_TXBATCHRESP, R_N
};
static const struct {
	const char *name;
	uint8_t want; /* the answer's type; 0 = none */
} rows[R_N] = {
	[R_MAPPING] = {"mapping request 0x10 (evidence)", EC_MSG_MAPPING_RESP},
	[R_MAPPING_FRAG] = {"mapping request, 3 fragments", EC_MSG_MAPPING_RESP},
	[R_TX] = {"tx request 0x12", EC_MSG_TX_RESP},
	[R_BLOCK] = {"block request 0x14", EC_MSG_BLOCK_RESP},
	[R_RANGE] = {"range request 0x16 (proofs)", EC_MSG_RANGE_RESP},
	[R_TXBATCH] = {"tx-batch request 0x1B", EC_MSG_TXBATCH_RESP},
	[R_HELLO] = {"hello 0x1A", EC_MSG_HELLO},
	[R_CHALLENGE] = {"challenge (transport)", 0},
	[R_U_TX] = {"transaction 0x01", 0},
	[R_U_VOTE] = {"vote 0x02", 0},
	[R_U_BLOCK] = {"block 0x03", 0},
	[R_U_PROOF] = {"proof 0x04", 0},
	[R_U_MAPRESP] = {"mapping response 0x11", 0},
	[R_U_TXRESP] = {"tx response 0x13", 0},
	[R_U_BLOCKRESP] = {"block response 0x15", 0},
	[R_U_RANGERESP] = {"range response 0x17", 0},
	[R_U_REFUSAL] = {"refusal 0x18", 0},
	[R_U_REFERRAL] = {"referral 0x19", 0},
	[R_U_TXBATCHRESP] = {"tx-batch response 0x1C", 0},
};

static void make_request(int kind, tu_client *c, uint8_t **enc, size_t *len)
{
	ec_keypair k;
	assert_int_equal(ec_keypair_generate(&k), EC_OK);
	switch (kind) {
	case R_MAPPING:
	case R_MAPPING_FRAG: {
		ec_mapping_req q;
		memset(&q, 0, sizeof q);
		tu_rand_bytes(&seed, q.nonce, sizeof q.nonce);
		q.token = token;
		q.flags = EC_MAPPING_WANT_EVIDENCE;
		assert_int_equal(ec_mapping_req_encode(&q, enc, len), EC_OK);
		break;
	}
	case R_TX: {
		ec_tx_req q;
		tu_rand_bytes(&seed, q.nonce, sizeof q.nonce);
		q.txid = txids[0];
		assert_int_equal(ec_tx_req_encode(&q, enc, len), EC_OK);
		break;
	}
	case R_BLOCK: {
		ec_block_req q;
		memset(&q, 0, sizeof q);
		q.block_id = head;
		q.priority = EC_PRIO_VALIDATION;
		auth(&q.auth, c);
		assert_int_equal(ec_block_req_sign(&q, k.sk), EC_OK);
		assert_int_equal(ec_block_req_encode(&q, enc, len), EC_OK);
		break;
	}
	case R_RANGE: {
		ec_range_req q;
		memset(&q, 0, sizeof q);
		q.start = head;
		q.max_blocks = EC_RANGE_MAX_BLOCKS;
		q.max_bytes = EC_MSG_MAX_BYTES;
		q.flags = EC_RANGE_WITH_PROOFS;
		q.priority = EC_PRIO_VALIDATION;
		auth(&q.auth, c);
		assert_int_equal(ec_range_req_sign(&q, k.sk), EC_OK);
		assert_int_equal(ec_range_req_encode(&q, enc, len), EC_OK);
		break;
	}
	case R_TXBATCH: {
		ec_txbatch_req q;
		memset(&q, 0, sizeof q);
		tu_rand_bytes(&seed, q.nonce, sizeof q.nonce);
		q.n = NTOK;
		memcpy(q.txids, txids, sizeof txids);
		assert_int_equal(ec_txbatch_req_encode(&q, enc, len), EC_OK);
		break;
	}
	case R_HELLO:
		tu_hello(c, enc, len, NULL);
		break;
	case R_U_TX: {
		ec_tx tx;
		wg_tx(&seed, &tx, 0, 1);
		assert_int_equal(ec_tx_encode(&tx, enc, len), EC_OK);
		break;
	}
	case R_U_VOTE: {
		ec_vote v;
		wg_vote(&seed, &v, &txids[0], 0);
		assert_int_equal(ec_vote_encode(&v, enc, len), EC_OK);
		break;
	}
	case R_U_BLOCK: {
		ec_block b;
		wg_block(&seed, &b, 0);
		assert_int_equal(ec_block_encode(&b, enc, len), EC_OK);
		break;
	}
	case R_U_PROOF: {
		ec_block b;
		ec_proof p;
		wg_block(&seed, &b, 0);
		wg_proof(&seed, &p, &b, 2, 0);
		assert_int_equal(ec_proof_encode(&p, enc, len), EC_OK);
		ec_proof_free(&p);
		break;
	}
	case R_U_MAPRESP: {
		ec_mapping_resp m;
		wg_mapping_resp(&seed, &m, 0);
		assert_int_equal(ec_mapping_resp_encode(&m, enc, len), EC_OK);
		break;
	}
	case R_U_TXRESP: {
		ec_tx_resp r;
		wg_tx_resp(&seed, &r, 0);
		assert_int_equal(ec_tx_resp_encode(&r, enc, len), EC_OK);
		break;
	}
	case R_U_BLOCKRESP: {
		ec_block_resp r;
		wg_block_resp(&seed, &r, 0);
		assert_int_equal(ec_block_resp_encode(&r, enc, len), EC_OK);
		ec_block_resp_free(&r);
		break;
	}
	case R_U_RANGERESP: {
		ec_range_resp r;
		wg_range_resp(&seed, &r, 0);
		assert_int_equal(ec_range_resp_encode(&r, enc, len), EC_OK);
		ec_range_resp_free(&r);
		break;
	}
	case R_U_REFUSAL: {
		ec_refusal r;
		wg_refusal(&seed, &r, 0);
		assert_int_equal(ec_refusal_encode(&r, enc, len), EC_OK);
		break;
	}
	case R_U_REFERRAL: {
		ec_referral r;
		wg_referral(&seed, &r, 0);
		assert_int_equal(ec_referral_encode(&r, enc, len), EC_OK);
		break;
	}
	case R_U_TXBATCHRESP: {
		ec_txbatch_resp r;
		uint8_t *b;
		size_t bl;
		/* a well-formed, signed answer to nothing we asked */
		memset(&r, 0, sizeof r);
		r.n_asked = 1;
		r.missing = 1;
		r.responder = c->pseudo;
		assert_int_equal(ec_txbatch_resp_sign(&r, k.sk), EC_OK);
		assert_int_equal(ec_txbatch_resp_encode(&r, &b, &bl), EC_OK);
		*enc = b;
		*len = bl;
		break;
	}
	default:
		fail_msg("no request %d", kind);
	}
	ec_keypair_wipe(&k);
}

static void send_request(int kind, tu_client *c)
{
	uint8_t *enc;
	size_t len;
	if (kind == R_CHALLENGE) {
		uint8_t pl[EC_VALIDATE_BYTES], cookie[EC_COOKIE_BYTES];
		tu_rand_bytes(&seed, cookie, sizeof cookie);
		assert_int_equal(ec_validate_encode(pl, EC_VALIDATE_CHALLENGE, cookie), EC_OK);
		tu_cli_dgram(c, EC_DGRAM_FLAG_VALIDATE, pl, sizeof pl);
		return;
	}
	make_request(kind, c, &enc, &len);
	tu_cli_send(c, enc, len, kind == R_MAPPING_FRAG ? 3 : 1);
	free(enc);
}

/* Checks a validated tu_client's answer to request `kind`. */
static void check_answer(int kind, const tu_client *c)
{
	assert_non_null(c->msg);
	switch (kind) {
	case R_MAPPING:
	case R_MAPPING_FRAG: {
		ec_mapping_resp m;
		assert_int_equal(ec_mapping_resp_decode(&m, c->msg, c->len), EC_OK);
		assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
		assert_memory_equal(m.txid.b, txids[0].b, 32);
		assert_true(m.n_evidence >= 1);
		break;
	}
	case R_TX: {
		ec_tx_resp r;
		assert_int_equal(ec_tx_resp_decode(&r, c->msg, c->len), EC_OK);
		assert_memory_equal(r.tx.id.b, txids[0].b, 32);
		break;
	}
	case R_BLOCK: {
		ec_block_resp r;
		assert_int_equal(ec_block_resp_decode(&r, c->msg, c->len), EC_OK);
		assert_memory_equal(r.block.id.b, head.b, 32);
		ec_block_resp_free(&r);
		break;
	}
	case R_RANGE: {
		ec_range_resp r;
		assert_int_equal(ec_range_resp_decode(&r, c->msg, c->len), EC_OK);
		assert_true(r.n_items >= 2);
		assert_int_equal(r.complete, 1); /* down to genesis */
		ec_range_resp_free(&r);
		break;
	}
	case R_TXBATCH: {
		ec_txbatch_resp r;
		assert_int_equal(ec_txbatch_resp_decode(&r, c->msg, c->len), EC_OK);
		assert_int_equal(r.n_asked, NTOK);
		assert_int_equal(r.missing, 0);
		ec_txbatch_resp_free(&r);
		break;
	}
	case R_HELLO: {
		ec_hello h;
		assert_int_equal(ec_hello_decode(&h, c->msg, c->len), EC_OK);
		assert_int_equal(ec_hello_verify(&h), EC_OK);
		assert_memory_equal(h.peer_id.b, node.id.b, 32);
		/* and the hellos of the 3 other nodes: introductions */
		assert_true(c->hellos >= NODES);
		break;
	}
	default:
		fail_msg("no answer expected to %d", kind);
	}
}

static void print_row(const char *name, const tu_client *a, const tu_client *v)
{
	double ratio = a->out ? (double)(a->in_node + a->in_other) / (double)a->out : 0.0;
	printf("| %-34s | %6llu | %7llu | %7llu | %5.2f | %9llu |\n", name,
	       (unsigned long long)a->out, (unsigned long long)a->in_node,
	       (unsigned long long)a->in_other, ratio,
	       v ? (unsigned long long)(v->in_node) : 0ull);
}

static void print_head(void)
{
	printf("| %-34s | %6s | %7s | %7s | %5s | %9s |\n", "request (unvalidated source)", "out",
	       "in n0", "in n1-3", "ratio", "validated");
	printf("|%s|--------|---------|---------|-------|-----------|\n",
	       "------------------------------------");
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_amplification(void **state)
{
	static tu_client att[R_N], val[R_N];
	/* every attacker at once, none echoing: 3 s is well past any answer
	 * the node would send at once, and past the hold timeout */
	for (int k = 0; k < R_N; k++) {
		tu_cli_open(&att[k], &node, 0);
		att[k].want = rows[k].want;
		send_request(k, &att[k]);
	}
	tu_pump(att, R_N, 3000, 0);
	/* the same requests from clients that echo, one after the other */
	for (int k = 0; k < R_N; k++) {
		tu_cli_open(&val[k], &node, 1);
		val[k].want = rows[k].want;
		send_request(k, &val[k]);
		tu_pump(&val[k], 1, rows[k].want ? 15000 : 300, 1);
	}
	print_head();
	for (int k = 0; k < R_N; k++)
		print_row(rows[k].name, &att[k], rows[k].want ? &val[k] : NULL);
	fflush(stdout);
	for (int k = 0; k < R_N; k++) {
		/* the attacker: at most what it sent, and never the answer */
		if (att[k].in_node + att[k].in_other > att[k].out)
			fail_msg("%s: %llu bytes in for %llu out", rows[k].name,
				 (unsigned long long)(att[k].in_node + att[k].in_other),
				 (unsigned long long)att[k].out);
		assert_null(att[k].msg);
		/* the validated client: the full answer */
		if (rows[k].want)
			check_answer(k, &val[k]);
	}
	for (int k = 0; k < R_N; k++) {
		tu_cli_close(&att[k]);
		tu_cli_close(&val[k]);
	}
	/* the attackers' answers were held, never sent, and timed out (the
	 * hello attacker stays a bound peer: its keepalives are held too) */
	for (int k = 0; k < 150 && tstat("held_timed_out") < 7; k++)
		usleep(100000);
	assert_true(tstat("held_timed_out") >= 7);
	assert_true(tstat("held_sent") >= 7);
	assert_true(tstat("av_validated") >= 7);
	assert_int_equal(tstat("av_bad_cookie"), 0);
}

/* A validated key moving to another address is unvalidated there (and
 * gets only a challenge); a wrong cookie validates nothing; back at the
 * validated address it is answered at once, the held answer too. */
static void test_address_change(void **state)
{
	tu_client c;
	uint8_t *enc, e[EC_VALIDATE_BYTES], bad[EC_COOKIE_BYTES];
	size_t len;
	struct sockaddr_in first;
	int old_fd;
	long long bad0 = tstat("av_bad_cookie");
	tu_cli_open(&c, &node, 1);
	c.want = EC_MSG_MAPPING_RESP;
	tu_mapping_req(&token, &enc, &len);
	tu_cli_send(&c, enc, len, 1);
	free(enc);
	tu_pump(&c, 1, 15000, 1);
	assert_non_null(c.msg);
	assert_int_equal(c.challenges, 1);
	/* the same key from a new socket: a challenge, no answer */
	first = c.self;
	old_fd = dup(c.fd);
	tu_cli_rebind(&c);
	assert_true(c.self.sin_port != first.sin_port);
	tu_cli_forget(&c);
	c.echo = 0;
	c.in_node = c.out = 0;
	tu_mapping_req(&token, &enc, &len);
	tu_cli_send(&c, enc, len, 1);
	free(enc);
	for (int k = 0; k < 150 && c.challenges < 2; k++)
		tu_pump(&c, 1, 100, 0);
	tu_pump(&c, 1, 500, 0);
	assert_null(c.msg);
	assert_int_equal(c.challenges, 2);
	assert_int_equal(c.in_node, EC_VALIDATE_DGRAM_BYTES);
	/* an echo with a cookie of our own making: refused, still nothing */
	tu_rand_bytes(&seed, bad, sizeof bad);
	assert_int_equal(ec_validate_encode(e, EC_VALIDATE_ECHO, bad), EC_OK);
	tu_cli_dgram(&c, EC_DGRAM_FLAG_VALIDATE, e, sizeof e);
	for (int k = 0; k < 150 && tstat("av_bad_cookie") == bad0; k++)
		tu_pump(&c, 1, 100, 0);
	tu_pump(&c, 1, 300, 0);
	assert_null(c.msg);
	assert_int_equal(tstat("av_bad_cookie"), bad0 + 1);
	/* back at the first address: validated there already, so answered
	 * without a challenge (the answer held for the other address too) */
	close(c.fd);
	c.fd = old_fd;
	c.self = first;
	tu_mapping_req(&token, &enc, &len);
	tu_cli_send(&c, enc, len, 1);
	free(enc);
	tu_pump(&c, 1, 15000, 1);
	assert_non_null(c.msg);
	assert_int_equal(c.challenges, 2);
	tu_cli_close(&c);
}

/* 16 peers of ours bound at node 0 (hellos; they never echo) make it refer
 * most tokens elsewhere: a mapping request for a token outside its
 * neighbourhood is answered with a referral (0x19). */
static void test_referral(void **state)
{
	enum { FAKE = 16 };
	static tu_client fake[FAKE];
	tu_client att, val;
	ec_peerset ps;
	ec_id tok;
	char path[128], hex[65];
	long long peers0;
	json_t *st = ctl(0, "status");
	assert_non_null(st);
	peers0 = json_integer_value(json_object_get(st, "peers"));
	json_decref(st);
	ec_peerset_init(&ps);
	assert_int_equal(ec_peerset_add(&ps, &node.id), EC_OK);
	for (int i = 1; i < NODES; i++) {
		FILE *f;
		ec_id id;
		snprintf(path, sizeof path, "%s/net/n%d.id", dir, i);
		assert_non_null(f = fopen(path, "r"));
		assert_int_equal(fscanf(f, "peer_id %64s", hex), 1);
		fclose(f);
		assert_int_equal(ec_hex_decode(id.b, 32, hex), EC_OK);
		assert_int_equal(ec_peerset_add(&ps, &id), EC_OK);
	}
	for (int i = 0; i < FAKE; i++) {
		uint8_t *enc;
		size_t len;
		ec_id id;
		tu_cli_open(&fake[i], &node, 0);
		tu_hello(&fake[i], &enc, &len, &id);
		tu_cli_send(&fake[i], enc, len, 1);
		free(enc);
		assert_int_equal(ec_peerset_add(&ps, &id), EC_OK);
	}
	/* until node 0 holds all of them as peers */
	for (int k = 0; k < 150; k++) {
		json_t *j = ctl(0, "status");
		long long np = j ? json_integer_value(json_object_get(j, "peers")) : 0;
		json_decref(j);
		if (np >= peers0 + FAKE)
			break;
		tu_pump(fake, FAKE, 100, 0);
	}
	/* a token node 0 is not a neighbour of in this set; node 0's own set
	 * also holds the hello clients of test_amplification, and more peers
	 * only push it further from the token's neighbourhood */
	do
		tu_rand_bytes(&seed, tok.b, 32);
	while (ec_peerset_is_eligible(&ps, &node.id, &tok));
	ec_peerset_free(&ps);
	token = tok;
	tu_cli_open(&att, &node, 0);
	att.want = EC_MSG_REFERRAL;
	send_request(R_MAPPING, &att);
	tu_cli_open(&val, &node, 1);
	val.want = EC_MSG_REFERRAL;
	send_request(R_MAPPING, &val);
	tu_pump(&val, 1, 15000, 1);
	tu_pump(&att, 1, 3000, 0);
	print_head();
	print_row("mapping request -> referral 0x19", &att, &val);
	fflush(stdout);
	if (att.in_node + att.in_other > att.out)
		fail_msg("referral: %llu bytes in for %llu out",
			 (unsigned long long)(att.in_node + att.in_other), (unsigned long long)att.out);
	assert_null(att.msg);
	assert_non_null(val.msg);
	{
		ec_referral r;
		assert_int_equal(ec_referral_decode(&r, val.msg, val.len), EC_OK);
		assert_memory_equal(r.target.b, tok.b, 32);
		assert_true(r.n_peers >= 1);
	}
	tu_cli_close(&att);
	tu_cli_close(&val);
	for (int i = 0; i < FAKE; i++)
		tu_cli_close(&fake[i]);
}

/* A client binds with a hello announcing a victim's address (its own
 * address validated: the hello arrives from it); a client binding after it
 * is sent the hellos of the peers node 0 knows, but never that one, which
 * would make a node greet the victim (PROTOCOL 16 "Introductions").  The
 * victim receives nothing. */
static void test_intro_victim(void **state)
{
	tu_client victim, att, late;
	uint8_t *enc;
	size_t len;
	tu_cli_open(&victim, &node, 0);
	tu_cli_open(&att, &node, 1);
	tu_hello_at(&att, &victim.self, &enc, &len, NULL);
	att.want = EC_MSG_HELLO;
	tu_cli_send(&att, enc, len, 1);
	free(enc);
	tu_pump(&att, 1, 15000, 1);
	assert_non_null(att.msg); /* bound and validated: node 0's hello came */
	tu_cli_open(&late, &node, 1);
	late.watch = &victim.self;
	late.want = EC_MSG_HELLO;
	tu_hello(&late, &enc, &len, NULL);
	tu_cli_send(&late, enc, len, 1);
	free(enc);
	tu_pump(&late, 1, 15000, 1);
	assert_non_null(late.msg);
	{
		tu_client both[2] = {late, victim};
		tu_pump(both, 2, 2000, 0); /* introductions after node 0's hello */
		late = both[0];
		victim = both[1];
	}
	printf("late binder: %u hellos, %u announcing the victim; victim: %llu bytes\n",
	       late.hellos, late.watched,
	       (unsigned long long)(victim.in_node + victim.in_other));
	assert_true(late.hellos >= NODES); /* node 0's and its peers' */
	assert_int_equal(late.watched, 0);
	assert_int_equal(victim.in_node + victim.in_other, 0);
	tu_cli_close(&late);
	tu_cli_close(&att);
	tu_cli_close(&victim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amplification),
		cmocka_unit_test(test_address_change),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_intro_victim),
	};
	signal(SIGPIPE, SIG_IGN);
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup_net, teardown_net);
}
