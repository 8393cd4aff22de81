/* cmd_chain.c - 'ecctl chain gen|verify|seek', 'ecctl prove' and
 * 'ecctl verify-proof': synthetic signed chains in chain files
 * (docs/PROTOCOL.md section 14), seeks by time and height, inclusion
 * proofs (5.3).  Owns the file I/O, flags and
 * output around the pure chain (src/core/ec_chain.c) and chain file codec
 * (src/wire/ec_chainfile.c).
 *
 * Exit status (ctl.h): 0 fine, 1 the chain is bad, 2 usage error or a file
 * that cannot be read or decoded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/chain.h"
#include "ec/chainfile.h"
#include "ec/crypto.h"
#include "util/ec_buf.h"

#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_TXS 32
#define DEFAULT_START_MS 1700000000000ull
/* Seed of the default key: 32 bytes of 0x01.  Synthetic chains are
 * reproducible; never use it for anything real. */
#define DEFAULT_SEED_BYTE 0x01

/* ---- flags ---------------------------------------------------------------- */

/* Strict unsigned decimal. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Seconds with up to three decimals ("90", "1.5", "0.001") -> ms. */
static int parse_seconds_ms(const char *s, uint64_t *ms)
{
	char whole[32];
	const char *dot = strchr(s, '.');
	size_t wl = dot ? (size_t)(dot - s) : strlen(s);
	uint64_t w, frac = 0;
	if (wl == 0 || wl >= sizeof whole)
		return -1;
	memcpy(whole, s, wl);
	whole[wl] = 0;
	if (parse_u64(whole, &w) || w > UINT64_MAX / 1000)
		return -1;
	if (dot) {
		size_t fl = strlen(dot + 1);
		uint64_t f;
		if (fl == 0 || fl > 3 || parse_u64(dot + 1, &f))
			return -1;
		frac = f;
		for (size_t i = fl; i < 3; i++)
			frac *= 10;
	}
	*ms = w * 1000 + frac;
	return 0;
}

/* "--name VALUE" or "--name=VALUE": returns the value and advances *i, or
 * NULL if argv[*i] is not this flag.  A missing value is reported. */
static const char *flag_value(int argc, char **argv, int *i, const char *name,
			      int *bad)
{
	size_t nl = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, nl))
		return NULL;
	if (a[nl] == '=')
		return a + nl + 1;
	if (a[nl])
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "ecctl chain: %s needs a value\n", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

/* "--name N" with N a strict decimal in lo..hi (what describes them in
 * the message).  Returns 1 if argv[*i] was this flag (*bad set when its
 * value is missing or wrong), else 0. */
static int flag_u64(int argc, char **argv, int *i, const char *cmd,
		    const char *name, const char *what, uint64_t lo,
		    uint64_t hi, uint64_t *out, int *bad)
{
	const char *v = flag_value(argc, argv, i, name, bad);
	if (!v)
		return 0;
	if (parse_u64(v, out) || *out < lo || *out > hi) {
		fprintf(stderr, "ecctl chain %s: %s wants %s, not '%s'\n", cmd,
			name, what, v);
		*bad = 1;
	}
	return 1;
}

static int is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static void hex_id(char out[65], const ec_id *id)
{
	ec_hex_encode(out, id->b, EC_HASH_BYTES);
}

/* ---- reading a chain file ------------------------------------------------- */

typedef struct loaded {
	unsigned char *buf;
	size_t len;
	ec_block *blocks;
	ec_chainfile_span *proofs;
	size_t n;
} loaded;

static void loaded_free(loaded *l)
{
	free(l->buf);
	free(l->blocks);
	free(l->proofs);
}

/* Reads and decodes; on failure prints (text or JSON) naming the record
 * and returns 2. */
static int load_file(const char *cmd, const char *path, int json, loaded *l)
{
	ec_chainfile_err fe;
	int r;

	memset(l, 0, sizeof *l);
	if (ctl_read_file(path, &l->buf, &l->len))
		return 2;
	r = ec_chainfile_decode(l->buf, l->len, &l->blocks, &l->proofs, &l->n,
				&fe);
	if (r == EC_OK)
		return 0;
	char height[48] = "";
	uint64_t h = 0;
	if (fe.record != EC_CHAINFILE_HEADER && fe.record > 0) {
		/* The height the record must hold, from the first block. */
		ec_chainfile_reader rd;
		ec_block b0;
		if (ec_chainfile_open(&rd, l->buf, l->len, NULL) == EC_OK &&
		    ec_chainfile_next(&rd, &b0, NULL, NULL) == EC_OK) {
			h = b0.height + fe.record;
			snprintf(height, sizeof height, ", height %" PRIu64, h);
		}
	}
	if (json) {
		json_t *o = json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "file", path,
				      "error", ec_errname(r), "reason",
				      ec_strerror(r));
		if (fe.record == EC_CHAINFILE_HEADER) {
			json_object_set_new(o, "record", json_string("header"));
		} else {
			json_object_set_new(o, "record",
					    json_integer((json_int_t)fe.record));
			json_object_set_new(o, "offset",
					    json_integer((json_int_t)fe.offset));
			if (height[0])
				json_object_set_new(o, "height",
						    json_integer((json_int_t)h));
		}
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	if (fe.record == EC_CHAINFILE_HEADER)
		fprintf(stderr, "ecctl chain %s: %s: not a chain file: header: %s (%s)\n",
			cmd, path, ec_errname(r), ec_strerror(r));
	else if (r == EC_ERR_TRAILING && l->len >= EC_CHAINFILE_HEADER_BYTES &&
		 fe.record == ((size_t)l->buf[8] << 24 | (size_t)l->buf[9] << 16 |
			       (size_t)l->buf[10] << 8 | l->buf[11]))
		fprintf(stderr,
			"ecctl chain %s: %s: bytes after the last record "
			"(record %zu, offset %zu): %s (%s)\n",
			cmd, path, fe.record, fe.offset, ec_errname(r),
			ec_strerror(r));
	else
		fprintf(stderr,
			"ecctl chain %s: %s: record %zu (offset %zu%s) does not "
			"decode: %s (%s)\n",
			cmd, path, fe.record, fe.offset, height, ec_errname(r),
			ec_strerror(r));
	loaded_free(l);
	return 2;
}

/* ---- verify --------------------------------------------------------------- */

static const char verify_help[] =
	"usage: ecctl chain verify [--json] FILE...\n"
	"\n"
	"Checks every block of a chain file against PROTOCOL.md 5.2: heights,\n"
	"prev links, creator, timestamps, Merkle roots, all five jump references\n"
	"(recomputed exactly), block ids and signatures, and every stored\n"
	"consensus proof against the block's proof_hash.\n"
	"\n"
	"  exit 0  valid: a JSON summary on stdout\n"
	"  exit 1  invalid: the first bad block's height, record index and the\n"
	"          broken rule on stderr (and as JSON on stdout with --json)\n"
	"  exit 2  unreadable or undecodable file (the record is named)\n"
	"With several files each is reported on its own (one JSON text each);\n"
	"the exit status is the worst of them.\n"
	"\n"
	"A file starting above genesis is verified as a segment: its first\n"
	"block's link and jump references older than it cannot be checked.\n";

/* Index of the first stored proof whose hash is not the block's
 * proof_hash, or n. */
static size_t first_bad_proof(const loaded *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ec_id h;
		if (!l->proofs[i].len)
			continue;
		ec_hash(&h, EC_TAG_PROOF, l->proofs[i].p, l->proofs[i].len);
		if (!ec_id_eq(&h, &l->blocks[i].proof_hash))
			return i;
	}
	return n;
}

static void print_fail(const char *path, const ec_chain_fail *f, int json)
{
	char jump[32] = "";
	if (f->err == EC_ERR_JUMP)
		snprintf(jump, sizeof jump, " (jump reference %s)",
			 ec_chain_ref_name(f->jump));
	fprintf(stderr,
		"ecctl chain verify: %s: bad block at height %" PRIu64
		" (record %zu): %s: %s%s\n",
		path, f->height, f->index, ec_errname(f->err),
		ec_strerror(f->err), jump);
	if (json) {
		json_t *o = json_pack("{s:b,s:s,s:I,s:I,s:s,s:s}", "ok", 0,
				      "file", path, "height",
				      (json_int_t)f->height, "index",
				      (json_int_t)f->index, "error",
				      ec_errname(f->err), "reason",
				      ec_strerror(f->err));
		if (f->err == EC_ERR_JUMP)
			json_object_set_new(
				o, "jump", json_string(ec_chain_ref_name(f->jump)));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
}

static json_t *json_u64(uint64_t v)
{
	/* JSON integers are signed 64-bit in jansson; heights and
	 * timestamps fit. */
	return json_integer((json_int_t)v);
}

static int verify_one(const char *path, int json);

static int chain_verify(int argc, char **argv)
{
	int json = 0, n_files = 0, status = 0;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(verify_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ecctl chain verify: unknown flag '%s'\n%s",
				argv[i], verify_help);
			return 2;
		} else {
			n_files++;
		}
	}
	if (!n_files) {
		fprintf(stderr, "ecctl chain verify: missing FILE\n%s", verify_help);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int r;
		if (!strcmp(argv[i], "--json"))
			continue;
		r = verify_one(argv[i], json);
		if (r > status)
			status = r;
	}
	return status;
}

/* One file: 0 valid (summary on stdout), 1 bad chain, 2 unreadable. */
static int verify_one(const char *path, int json)
{
	int r;
	loaded l;
	ec_chain_fail fail;
	size_t bad_proof;

	if ((r = load_file("verify", path, json, &l)) != 0)
		return r;
	r = ec_chain_verify(l.blocks, l.n, &fail);
	bad_proof = first_bad_proof(&l, r == EC_OK ? l.n : fail.index);
	if (r == EC_OK ? bad_proof < l.n : bad_proof < fail.index) {
		/* same height rule as the verifier: first height + index */
		fail.height = (l.blocks[0].height == 0 ||
			       ec_id_is_zero(&l.blocks[0].prev))
				      ? 0
				      : l.blocks[0].height;
		fail.height += bad_proof;
		fail.index = bad_proof;
		fail.err = EC_ERR_PROOF;
		fail.jump = -1;
		r = EC_ERR_PROOF;
	}
	if (r != EC_OK) {
		print_fail(path, &fail, json);
		loaded_free(&l);
		return 1;
	}

	uint64_t txs = 0;
	size_t proofs = 0;
	for (size_t i = 0; i < l.n; i++) {
		txs += l.blocks[i].n_txs;
		proofs += l.proofs[i].len > 0;
	}
	json_t *o = json_pack("{s:b,s:s,s:I,s:I}", "ok", 1, "file", path,
			      "blocks", (json_int_t)l.n, "bytes",
			      (json_int_t)l.len);
	if (l.n) {
		const ec_block *first = &l.blocks[0], *last = &l.blocks[l.n - 1];
		char creator[65], head[65];
		int genesis = first->height == 0;
		hex_id(creator, &first->creator);
		hex_id(head, &last->id);
		json_object_set_new(o, "first_height", json_u64(first->height));
		json_object_set_new(o, "last_height", json_u64(last->height));
		json_object_set_new(o, "from_genesis", json_boolean(genesis));
		json_object_set_new(o, "creator", json_string(creator));
		json_object_set_new(o, "head", json_string(head));
		json_object_set_new(o, "first_timestamp",
				    json_u64(first->timestamp));
		json_object_set_new(o, "last_timestamp",
				    json_u64(last->timestamp));
		json_object_set_new(o, "txs", json_u64(txs));
		json_object_set_new(o, "proofs", json_u64(proofs));
		if (!genesis)
			json_object_set_new(
				o, "unchecked",
				json_string("the first block's link to its "
					    "parent; jump references older "
					    "than the first block"));
	}
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	loaded_free(&l);
	return 0;
}

/* ---- gen ------------------------------------------------------------------ */

static const char gen_help[] =
	"usage: ecctl chain gen --out FILE --blocks N [options]\n"
	"\n"
	"Writes a deterministic synthetic signed chain (PROTOCOL.md 14) from\n"
	"genesis: block i has timestamp START + i * INTERVAL, K transaction ids\n"
	"derived by hashing a counter, and a consensus proof with zero votes per\n"
	"transaction, whose hash the block commits to.\n"
	"\n"
	"  --out FILE             output file (overwritten)\n"
	"  --blocks N             number of blocks, 1..4294967295\n"
	"  --interval-ms MS       time between blocks (default 1000)\n"
	"  --txs-per-block K      1..32 (default 32)\n"
	"  --start-ms T           genesis timestamp (default 1700000000000)\n"
	"  --seed HEX             64 hex chars: Ed25519 seed of the signing key\n"
	"  --key KEYFILE          signing key from an 'ecctl keygen' file\n"
	"                         (default: the fixed test seed 0101..01)\n"
	"\n"
	"The creator id is H_tag(\"ec/v1/keyhash\", public key).\n";

/* The consensus proof of a synthetic block: every transaction with zero
 * votes (docs/PROTOCOL.md section 6), encoded by the real proof codec.
 * Returns the length, 0 on failure. */
#define ZERO_PROOF_MAX_BYTES (3 + (EC_HASH_BYTES + 1) * EC_BLOCK_MAX_TXS)
static size_t zero_vote_proof_encode(const ec_id *txids, size_t n,
				     uint8_t out[ZERO_PROOF_MAX_BYTES])
{
	ec_proof p;
	uint8_t *enc;
	size_t len;
	memset(&p, 0, sizeof p);
	p.n_txs = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		p.txs[i].txid = txids[i];
	if (ec_proof_encode(&p, &enc, &len) != EC_OK || len > ZERO_PROOF_MAX_BYTES)
		return 0;
	memcpy(out, enc, len);
	free(enc);
	return len;
}

/* Synthetic transaction id number k of this key. */
static void gen_txid(ec_id *out, const uint8_t pk[EC_PUBKEY_BYTES], uint64_t k)
{
	ec_hash_ctx h;
	uint8_t kb[8];
	ec_put_u64(kb, k);
	ec_hash_init(&h, "ecctl/chain-gen/tx");
	ec_hash_update(&h, pk, EC_PUBKEY_BYTES);
	ec_hash_update(&h, kb, sizeof kb);
	ec_hash_final(&h, out);
}

static int flush_buf(FILE *f, ec_wbuf *w)
{
	if (w->err != EC_OK)
		return -1;
	if (w->len && fwrite(w->p, 1, w->len, f) != w->len)
		return -1;
	w->len = 0;
	return 0;
}

static int chain_gen(int argc, char **argv)
{
	const char *out = NULL, *seed_hex = NULL, *keyfile = NULL, *v;
	uint64_t blocks = 0, interval = DEFAULT_INTERVAL_MS, txs = DEFAULT_TXS,
		 start = DEFAULT_START_MS;
	int have_blocks = 0, bad = 0, status = 2;
	ec_keypair kp;
	ec_id creator;
	ec_chain *chain = NULL;
	ec_wbuf w;
	FILE *f = NULL;

	for (int i = 1; i < argc && !bad; i++) {
		if (is_help(argv[i])) {
			fputs(gen_help, stdout);
			return 0;
		} else if ((v = flag_value(argc, argv, &i, "--out", &bad))) {
			out = v;
		} else if (flag_u64(argc, argv, &i, "gen", "--blocks",
				    "1..4294967295", 1, UINT32_MAX, &blocks,
				    &bad)) {
			have_blocks = 1;
		} else if (flag_u64(argc, argv, &i, "gen", "--interval-ms",
				    "milliseconds", 0, UINT64_MAX, &interval,
				    &bad) ||
			   flag_u64(argc, argv, &i, "gen", "--txs-per-block",
				    "1..32", 1, EC_BLOCK_MAX_TXS, &txs, &bad) ||
			   flag_u64(argc, argv, &i, "gen", "--start-ms",
				    "milliseconds", 0, UINT64_MAX, &start,
				    &bad)) {
			continue;
		} else if ((v = flag_value(argc, argv, &i, "--seed", &bad))) {
			seed_hex = v;
		} else if ((v = flag_value(argc, argv, &i, "--key", &bad))) {
			keyfile = v;
		} else if (!bad) {
			fprintf(stderr, "ecctl chain gen: unknown argument '%s'\n",
				argv[i]);
			bad = 1;
		}
	}
	if (!bad && (!out || !have_blocks)) {
		fprintf(stderr, "ecctl chain gen: --out and --blocks are required\n");
		bad = 1;
	}
	if (!bad && seed_hex && keyfile) {
		fprintf(stderr, "ecctl chain gen: --seed and --key exclude each other\n");
		bad = 1;
	}
	if (!bad && interval && (blocks - 1) > (UINT64_MAX - start) / interval) {
		fprintf(stderr, "ecctl chain gen: timestamps overflow\n");
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "'ecctl chain gen --help' lists the options\n");
		return 2;
	}

	if (keyfile) {
		int r = ec_keyfile_read(keyfile, &kp);
		if (r != EC_OK) {
			fprintf(stderr, "ecctl chain gen: %s: %s\n", keyfile,
				ec_strerror(r));
			return 2;
		}
	} else {
		uint8_t seed[32];
		memset(seed, DEFAULT_SEED_BYTE, sizeof seed);
		if (seed_hex && ec_hex_decode(seed, sizeof seed, seed_hex)) {
			fprintf(stderr, "ecctl chain gen: --seed wants 64 hex "
					"characters\n");
			return 2;
		}
		if (ec_keypair_from_seed(&kp, seed) != EC_OK) {
			fprintf(stderr, "ecctl chain gen: key derivation failed\n");
			return 2;
		}
		ec_memzero(seed, sizeof seed);
	}
	ec_keyhash(&creator, kp.pk);

	chain = ec_chain_new();
	f = fopen(out, "wb");
	if (!chain || !f) {
		fprintf(stderr, "ecctl chain gen: %s: %s\n", out,
			f ? "out of memory" : strerror(errno));
		goto done;
	}
	ec_wbuf_init(&w);
	ec_chainfile_write_header(&w, (uint32_t)blocks);
	for (uint64_t h = 0; h < blocks; h++) {
		ec_id txids[EC_BLOCK_MAX_TXS], ph;
		uint8_t proof[ZERO_PROOF_MAX_BYTES];
		size_t plen;
		ec_block b;
		int r;

		for (uint64_t k = 0; k < txs; k++)
			gen_txid(&txids[k], kp.pk, h * txs + k);
		plen = zero_vote_proof_encode(txids, (size_t)txs, proof);
		if (plen == 0) {
			fprintf(stderr, "ecctl chain gen: block %" PRIu64 ": proof encoding failed\n", h);
			goto done_buf;
		}
		ec_hash(&ph, EC_TAG_PROOF, proof, plen);
		r = ec_chain_seal(chain, &creator, start + h * interval, txids,
				  (size_t)txs, &ph, kp.sk, &b);
		if (r == EC_OK)
			r = ec_chainfile_write_record(&w, &b, proof, plen);
		if (r != EC_OK) {
			fprintf(stderr, "ecctl chain gen: block %" PRIu64 ": %s\n",
				h, ec_strerror(r));
			goto done_buf;
		}
		if (w.len >= (1u << 20) && flush_buf(f, &w)) {
			fprintf(stderr, "ecctl chain gen: %s: write error\n", out);
			goto done_buf;
		}
		if (blocks >= 10000 && (h + 1) % (blocks / 10) == 0)
			fprintf(stderr, "ecctl chain gen: %" PRIu64 "/%" PRIu64
					" blocks\n", h + 1, blocks);
	}
	if (flush_buf(f, &w) || fflush(f)) {
		fprintf(stderr, "ecctl chain gen: %s: write error\n", out);
		goto done_buf;
	}
	status = 0;
done_buf:
	ec_wbuf_free(&w);
done:
	if (f && fclose(f) && status == 0) {
		fprintf(stderr, "ecctl chain gen: %s: %s\n", out, strerror(errno));
		status = 2;
	}
	if (status != 0 && f)
		remove(out);
	ec_keypair_wipe(&kp);
	ec_chain_free(chain);
	return status;
}

/* ---- seek ----------------------------------------------------------------- */

static const char seek_help[] =
	"usage: ecctl chain seek FILE (--back SECONDS | --height H)\n"
	"                        [--from HEIGHT] [--json]\n"
	"\n"
	"--back: finds the newest block at least SECONDS (decimals allowed, ms\n"
	"precision) older than the start block (default: the head), walking\n"
	"only the references the chain's blocks carry: the skip reference while\n"
	"its block is still newer than the target, else the largest jump\n"
	"reference that cannot overshoot, else prev.  --height: walks to the\n"
	"block at height H by skip references (prev where skipping would\n"
	"overshoot).  Prints every hop (height, reference followed, timestamp)\n"
	"and the block found, or 'none' when the chain is younger than that.\n"
	"The file must start at genesis; it is verified while loading (exit 1\n"
	"on a bad chain, 2 on an unreadable file).\n";

static void print_block_line(const char *label, const ec_block *b,
			     const char *via)
{
	char id[65];
	hex_id(id, &b->id);
	printf("%-6s height %-10" PRIu64 " %-5s ts %-15" PRIu64 " id %.16s\n",
	       label, b->height, via, b->timestamp, id);
}

static json_t *json_block_ref(const ec_block *b)
{
	char id[65];
	hex_id(id, &b->id);
	return json_pack("{s:I,s:I,s:s}", "height", (json_int_t)b->height,
			 "timestamp", (json_int_t)b->timestamp, "id", id);
}

/* Loads FILE, which must start at genesis, into a verified chain.
 * Returns 0, or the exit status after printing why. */
static int load_chain(const char *cmd, const char *path, int json, loaded *l,
		      ec_chain **out)
{
	ec_chain *chain;
	ec_chain_fail fail;
	int r;

	*out = NULL;
	if ((r = load_file(cmd, path, json, l)) != 0)
		return r;
	if (l->n == 0 || l->blocks[0].height != 0) {
		fprintf(stderr, "ecctl %s: %s: %s\n", cmd, path,
			l->n ? "the file does not start at genesis"
			     : "the chain is empty");
		loaded_free(l);
		return 2;
	}
	chain = ec_chain_new();
	if (!chain) {
		fprintf(stderr, "ecctl %s: out of memory\n", cmd);
		loaded_free(l);
		return 2;
	}
	for (size_t i = 0; i < l->n; i++) {
		r = ec_chain_append(chain, &l->blocks[i], &fail);
		if (r != EC_OK) {
			fail.index = i;
			print_fail(path, &fail, 0);
			ec_chain_free(chain);
			loaded_free(l);
			return 1;
		}
	}
	*out = chain;
	return 0;
}

static int chain_seek(int argc, char **argv)
{
	const char *path = NULL, *v;
	uint64_t back = 0, from_h = UINT64_MAX, found = UINT64_MAX;
	uint64_t to_h = UINT64_MAX;
	int have_back = 0, json = 0, bad = 0, r, status = 1;
	loaded l;
	ec_chain *chain;
	const ec_block *from;
	ec_seek_hop *hops = NULL;
	size_t n_hops;

	for (int i = 1; i < argc && !bad; i++) {
		if (is_help(argv[i])) {
			fputs(seek_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if ((v = flag_value(argc, argv, &i, "--back", &bad))) {
			if (parse_seconds_ms(v, &back)) {
				fprintf(stderr, "ecctl chain seek: --back wants "
						"seconds (e.g. 90 or 1.5), not "
						"'%s'\n", v);
				bad = 1;
			}
			have_back = 1;
		} else if (flag_u64(argc, argv, &i, "seek", "--from", "a height",
				    0, UINT64_MAX - 1, &from_h, &bad)) {
			continue;
		} else if (flag_u64(argc, argv, &i, "seek", "--height",
				    "a height", 0, UINT64_MAX - 1, &to_h,
				    &bad)) {
			continue;
		} else if (bad) {
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ecctl chain seek: unknown flag '%s'\n",
				argv[i]);
			bad = 1;
		} else if (path) {
			fprintf(stderr, "ecctl chain seek: one FILE only\n");
			bad = 1;
		} else {
			path = argv[i];
		}
	}
	if (!bad && (!path || have_back == (to_h != UINT64_MAX))) {
		fprintf(stderr, "ecctl chain seek: FILE and one of --back, "
				"--height are required\n");
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "%s", seek_help);
		return 2;
	}
	if ((r = load_chain("chain seek", path, json, &l, &chain)) != 0)
		return r;
	if (from_h == UINT64_MAX)
		from_h = l.n - 1;
	from = ec_chain_at(chain, from_h);
	if (!from || (to_h != UINT64_MAX && to_h > from_h)) {
		fprintf(stderr, "ecctl chain seek: %s %" PRIu64
				": the chain ends at height %zu%s\n",
			from ? "--height" : "--from", from ? to_h : from_h,
			l.n - 1, from ? " (or at --from)" : "");
		status = 2;
		goto done;
	}
	if (have_back)
		r = ec_chain_seek(chain, &from->id, back, NULL, 0, &n_hops,
				  &found);
	else
		r = ec_chain_seek_height(chain, &from->id, to_h, NULL, 0,
					 &n_hops);
	hops = calloc(n_hops ? n_hops : 1, sizeof *hops);
	if (!hops) {
		fprintf(stderr, "ecctl chain seek: out of memory\n");
		status = 2;
		goto done;
	}
	if (have_back) {
		r = ec_chain_seek(chain, &from->id, back, hops, n_hops, &n_hops,
				  &found);
	} else {
		r = ec_chain_seek_height(chain, &from->id, to_h, hops, n_hops,
					 &n_hops);
		found = to_h;
	}
	if (r != EC_OK && r != EC_ERR_NOTFOUND) {
		fprintf(stderr, "ecctl chain seek: %s\n", ec_strerror(r));
		goto done;
	}
	uint64_t target = back <= from->timestamp ? from->timestamp - back : 0;
	if (json) {
		json_t *o = json_pack("{s:o}", "from", json_block_ref(from));
		if (have_back) {
			json_object_set_new(o, "back_ms", json_integer((json_int_t)back));
			json_object_set_new(o, "target_timestamp",
					    json_integer((json_int_t)target));
		} else {
			json_object_set_new(o, "target_height",
					    json_integer((json_int_t)to_h));
		}
		json_object_set_new(o, "n_hops", json_integer((json_int_t)n_hops));
		json_t *a = json_array();
		for (size_t i = 0; i < n_hops; i++) {
			json_t *h = json_block_ref(ec_chain_at(chain, hops[i].height));
			json_object_set_new(h, "via", json_string(ec_chain_ref_name(hops[i].via)));
			json_array_append_new(a, h);
		}
		json_object_set_new(o, "hops", a);
		json_object_set_new(o, "found",
				    r == EC_OK ? json_block_ref(ec_chain_at(chain, found))
					       : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		if (have_back)
			printf("target ts <= %" PRIu64 " (%" PRIu64 ".%03" PRIu64
			       " s before height %" PRIu64 ")\n",
			       target, back / 1000, back % 1000, from->height);
		else
			printf("target height %" PRIu64 "\n", to_h);
		print_block_line("from", from, "");
		for (size_t i = 0; i < n_hops; i++) {
			char label[24];
			snprintf(label, sizeof label, "%zu", i + 1);
			print_block_line(label, ec_chain_at(chain, hops[i].height),
					 ec_chain_ref_name(hops[i].via));
		}
		if (r == EC_OK)
			print_block_line("found", ec_chain_at(chain, found), "");
		else
			printf("found  none: no block is that old\n");
		printf("hops   %zu\n", n_hops);
	}
	status = 0;
done:
	free(hops);
	ec_chain_free(chain);
	loaded_free(&l);
	return status;
}

/* ---- inclusion proofs ------------------------------------------------------ */

static const char prove_help[] =
	"usage: ecctl prove TXID --chain FILE --out PROOF [--from HEIGHT]\n"
	"\n"
	"Writes an inclusion proof (PROTOCOL.md 5.3) that the chain in FILE\n"
	"holds transaction TXID (64 hex digits): the head (or the block at\n"
	"--from), the blocks of the height walk down to the block holding TXID,\n"
	"and TXID's Merkle audit path in that block.  Prints the block found,\n"
	"the blocks and bytes of the proof.  Exit 0; 1 when the chain does not\n"
	"hold TXID (or is bad); 2 on usage or file errors.\n";

int ctl_cmd_prove(int argc, char **argv)
{
	const char *path = NULL, *out = NULL, *txhex = NULL, *v;
	uint64_t from_h = UINT64_MAX, at = UINT64_MAX;
	int bad = 0, r, status = 1;
	ec_id txid;
	loaded l;
	ec_chain *chain;
	uint8_t *proof = NULL;
	size_t plen = 0;
	ec_incl_info info;

	for (int i = 1; i < argc && !bad; i++) {
		if (is_help(argv[i])) {
			fputs(prove_help, stdout);
			return 0;
		} else if ((v = flag_value(argc, argv, &i, "--chain", &bad))) {
			path = v;
		} else if ((v = flag_value(argc, argv, &i, "--out", &bad))) {
			out = v;
		} else if (flag_u64(argc, argv, &i, "prove", "--from",
				    "a height", 0, UINT64_MAX - 1, &from_h,
				    &bad)) {
			continue;
		} else if (bad) {
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ecctl prove: unknown flag '%s'\n",
				argv[i]);
			bad = 1;
		} else if (txhex) {
			fprintf(stderr, "ecctl prove: one TXID only\n");
			bad = 1;
		} else {
			txhex = argv[i];
		}
	}
	if (!bad && (!txhex || !path || !out)) {
		fprintf(stderr, "ecctl prove: TXID, --chain and --out are "
				"required\n");
		bad = 1;
	}
	if (!bad && (strlen(txhex) != 64 ||
		     ec_hex_decode(txid.b, sizeof txid.b, txhex) != EC_OK)) {
		fprintf(stderr, "ecctl prove: TXID wants 64 hex digits, not "
				"'%s'\n", txhex);
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "%s", prove_help);
		return 2;
	}
	if ((r = load_chain("prove", path, 0, &l, &chain)) != 0)
		return r;
	if (from_h == UINT64_MAX)
		from_h = l.n - 1;
	if (from_h >= l.n) {
		fprintf(stderr, "ecctl prove: --from %" PRIu64
				": the chain ends at height %zu\n",
			from_h, l.n - 1);
		status = 2;
		goto done;
	}
	for (uint64_t h = from_h + 1; h-- > 0 && at == UINT64_MAX;) {
		const ec_block *b = ec_chain_at(chain, h);
		for (unsigned k = 0; k < b->n_txs; k++)
			if (ec_id_eq(&b->txids[k], &txid))
				at = h;
	}
	if (at == UINT64_MAX) {
		fprintf(stderr, "ecctl prove: %s: no block up to height %" PRIu64
				" holds %s\n",
			path, from_h, txhex);
		goto done;
	}
	r = ec_incl_build(chain, &ec_chain_at(chain, from_h)->id, at, &txid,
			  &proof, &plen);
	if (r == EC_OK)
		r = ec_incl_verify(proof, plen, &info);
	if (r != EC_OK) {
		fprintf(stderr, "ecctl prove: %s\n", ec_strerror(r));
		goto done;
	}
	{
		FILE *f = fopen(out, "wb");
		if (!f || fwrite(proof, 1, plen, f) != plen || fclose(f)) {
			fprintf(stderr, "ecctl prove: %s: %s\n", out,
				strerror(errno));
			if (f)
				fclose(f);
			status = 2;
			goto done;
		}
	}
	printf("block  height %" PRIu64 " index %u\n", info.height, info.index);
	printf("head   height %" PRIu64 "\n", info.head.height);
	printf("proof  %s: %zu blocks, %zu bytes\n", out, info.n_blocks, plen);
	status = 0;
done:
	free(proof);
	ec_chain_free(chain);
	loaded_free(&l);
	return status;
}

static const char verify_proof_help[] =
	"usage: ecctl verify-proof FILE [--json]\n"
	"\n"
	"Checks an inclusion proof offline (PROTOCOL.md 5.3): every block's id\n"
	"and signature, one creator, each link from the head down, and the\n"
	"Merkle audit path to the target block's root.  Prints the head (its\n"
	"creator and signing key: whether that key is the creator's is for the\n"
	"reader to judge), the block holding the transaction, and the proof's\n"
	"size in blocks and bytes.  Exit 0 valid, 1 invalid, 2 unreadable.\n";

int ctl_cmd_verify_proof(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0, bad = 0, r;
	unsigned char *buf;
	size_t len;
	ec_incl_info info;
	char hid[65], bid[65], tid[65], cid[65], pk[65];

	for (int i = 1; i < argc && !bad; i++) {
		if (is_help(argv[i])) {
			fputs(verify_proof_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ecctl verify-proof: unknown flag '%s'\n",
				argv[i]);
			bad = 1;
		} else if (path) {
			fprintf(stderr, "ecctl verify-proof: one FILE only\n");
			bad = 1;
		} else {
			path = argv[i];
		}
	}
	if (!bad && !path) {
		fprintf(stderr, "ecctl verify-proof: FILE is required\n");
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "%s", verify_proof_help);
		return 2;
	}
	if (ctl_read_file(path, &buf, &len))
		return 2;
	r = ec_incl_verify(buf, len, &info);
	free(buf);
	hex_id(hid, &info.head.id);
	hex_id(bid, &info.block_id);
	hex_id(tid, &info.txid);
	hex_id(cid, &info.head.creator);
	ec_hex_encode(pk, info.head.signer_pk, EC_PUBKEY_BYTES);
	if (json) {
		json_t *o = json_pack("{s:b,s:s,s:I,s:I}", "ok", r == EC_OK,
				      "file", path, "bytes", (json_int_t)len,
				      "blocks", (json_int_t)info.n_blocks);
		if (r != EC_OK) {
			json_object_set_new(o, "error", json_string(ec_errname(r)));
			json_object_set_new(o, "reason", json_string(ec_strerror(r)));
			if (info.bad_block != SIZE_MAX)
				json_object_set_new(o, "bad_block",
						    json_integer((json_int_t)info.bad_block));
		} else {
			json_object_set_new(o, "txid", json_string(tid));
			json_object_set_new(o, "index", json_integer(info.index));
			json_object_set_new(o, "height", json_integer((json_int_t)info.height));
			json_object_set_new(o, "block", json_string(bid));
			json_object_set_new(o, "head_height",
					    json_integer((json_int_t)info.head.height));
			json_object_set_new(o, "head", json_string(hid));
			json_object_set_new(o, "creator", json_string(cid));
			json_object_set_new(o, "signer_pk", json_string(pk));
		}
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else if (r != EC_OK) {
		printf("%s: INVALID: %s (%s)", path, ec_errname(r), ec_strerror(r));
		if (info.bad_block != SIZE_MAX)
			printf(" at block %zu of the proof", info.bad_block);
		printf("\n");
	} else {
		printf("%s: valid\n", path);
		printf("tx     %s index %u\n", tid, info.index);
		printf("block  height %" PRIu64 " id %s\n", info.height, bid);
		printf("head   height %" PRIu64 " id %s\n", info.head.height, hid);
		printf("       creator %s signer_pk %s\n", cid, pk);
		printf("size   %zu blocks, %zu bytes\n", info.n_blocks, len);
	}
	return r == EC_OK ? 0 : 1;
}

/* ---- dispatch ------------------------------------------------------------- */

static const char chain_help[] =
	"usage: ecctl chain <gen|verify|seek> [args]\n"
	"\n"
	"  gen --out FILE --blocks N [...]       synthetic signed chain file\n"
	"  verify [--json] FILE...                check every chain rule\n"
	"  seek FILE --back S|--height H [--json] walk back via skip and jumps\n"
	"\n"
	"'ecctl chain <sub> --help' describes each.\n";

int ctl_cmd_chain(int argc, char **argv)
{
	if (argc < 2) {
		fputs(chain_help, stderr);
		return 2;
	}
	if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
		fputs(chain_help, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "gen"))
		return chain_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return chain_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "seek"))
		return chain_seek(argc - 1, argv + 1);
	fprintf(stderr, "ecctl chain: unknown subcommand '%s'\n%s", argv[1],
		chain_help);
	return 2;
}
