/* cmd_token.c - 'ecctl token create|transfer|destroy': builds a signed
 * one-entry transaction from key files (spec 7) and prints it (hex) or,
 * with --submit, hands it to a running ecnode (submit_tx); --wait [S]
 * (implies --submit) then follows it until committed or rejected.
 *   create   --owner KEYFILE [--token HEX]       prev = 0, next_key = kh(owner)
 *   create   --owner KEYFILE --tokens N          N (1..6) random tokens in one
 *                                                 transaction (multi-token)
 *   transfer --token T --key KEYFILE (--to KEYFILE | --to-hash H) [--prev TXID]
 *   destroy  --token T --key KEYFILE [--prev TXID]          next_key = 0
 * Without --prev the token's current transaction is asked from the node
 * (get_mapping).  A transfer or destruction that talks to the node is
 * checked against the node's mapping first: the signing key must be the
 * owner (owner_key_hash) and --prev the token's current transaction, else
 * nothing is submitted (exit 1) unless --force.  The timestamp is the wall
 * clock in ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/crypto.h"
#include "ec/wire.h"

static int load_key(const char *path, ec_keypair *kp)
{
	int r = ec_keyfile_read(path, kp);
	struct stat st;
	if (r == EC_ERR_PERM && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fprintf(stderr,
			"%s: key file %s: mode %04o, expected 0600 (group or others can read "
			"it; chmod 600 %s)\n",
			ctl_cmd, path, (unsigned)(st.st_mode & 07777), path);
	else if (r != EC_OK)
		fprintf(stderr, "%s: %s: %s\n", ctl_cmd, path, ec_strerror(r));
	return r;
}

static int parse_id(const char *s, ec_id *out)
{
	return s && strlen(s) == 64 && ec_hex_decode(out->b, 32, s) == EC_OK ? 0 : -1;
}

/* The node's mapping of tok against the signer: kp must own it (its key
 * hash is owner_key_hash) and prev (when given) must be its current
 * transaction.  0 with *cur = the current transaction, 1 (printed) when
 * the node holds no mapping or the check fails (unless force), 2 when the
 * node cannot be asked. */
static int owner_check(const char *rpc, const char *sub, const char *tok, const char *keyfile,
		       const ec_keypair *kp, const char *prev, int force, ec_id *cur)
{
	json_t *res;
	const char *owner, *txid;
	char mine[65];
	ec_id kh;
	int r = ctl_mapping(rpc, tok, NULL, 1, &res);
	if (r != 0)
		return r;
	owner = json_string_value(json_object_get(res, "owner_key_hash"));
	txid = json_string_value(json_object_get(res, "txid"));
	if (!json_is_true(json_object_get(res, "mapped")) || parse_id(txid, cur) != 0 || !owner) {
		fprintf(stderr, "ecctl token %s: the node holds no mapping of token %s%s\n", sub,
			tok, prev ? "" : " (give --prev)");
		json_decref(res);
		return prev && force ? 0 : 1;
	}
	ec_keyhash(&kh, kp->pk);
	ec_hex_encode(mine, kh.b, 32);
	r = 0;
	if (strcmp(owner, mine) != 0) {
		fprintf(stderr,
			"ecctl token %s: token %s is owned by key hash %s%s, not by %s (key hash "
			"%s)%s\n",
			sub, tok, owner,
			!strcmp(owner, "0000000000000000000000000000000000000000000000000000000000000000")
				? " (destroyed)"
				: "",
			keyfile, mine, force ? "; --force: submitting anyway" : ": nothing submitted");
		r = 1;
	} else if (prev && strcmp(prev, txid) != 0) {
		fprintf(stderr,
			"ecctl token %s: token %s's current transaction is %s, not --prev %s%s\n",
			sub, tok, txid, prev, force ? "; --force: submitting anyway" : ": nothing submitted");
		r = 1;
	}
	json_decref(res);
	return force ? 0 : r;
}

/* One "token ID" line per entry (a multi-token creation has several). */
static void print_tokens(const ec_tx *tx)
{
	for (int e = 0; e < tx->n_entries; e++) {
		char h[65];
		ec_hex_encode(h, tx->entries[e].token.b, 32);
		printf("token %s\n", h);
	}
}

int ctl_cmd_token(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL, *owner = NULL, *key = NULL, *to = NULL,
		   *to_hash = NULL, *tok = NULL, *prev = NULL, *rpc = NULL;
	int submit = 0, json = 0, force = 0, r, ntok = 1;
	double wait_s = 0;
	ec_tx tx;
	ec_keypair kp;
	ec_id token, pv, cur;
	struct timespec ts;
	int want_help = !sub;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			want_help = 1;
	if (want_help) {
		printf("usage: ecctl token create --owner KEYFILE [--token HEX | --tokens N]\n"
		       "       ecctl token transfer --token T --key KEYFILE (--to KEYFILE | --to-hash H)\n"
		       "                            [--prev TXID]\n"
		       "       ecctl token destroy --token T --key KEYFILE [--prev TXID]\n"
		       "  common: [--submit] [--wait [SECONDS]] [--force] [--json]\n"
		       "          [--rpc PATH | --data DIR | --config FILE]  (as for 'ecctl status')\n"
		       "Builds a signed transaction from key files; prints txid and hex, or\n"
		       "submits it to ecnode with --submit.  Without --prev the token's current\n"
		       "transaction is asked from the node.  --tokens N (1..6) creates N random\n"
		       "tokens in one multi-token transaction; every token id is printed.\n"
		       "The printed output (or just its tx hex) is what 'ecctl submit --file'\n"
		       "reads.\n"
		       "A transfer or destruction sent to the node is first checked against the\n"
		       "node's mapping: refused (exit 1, naming the owner's key hash) when KEYFILE\n"
		       "does not own the token or --prev is not its current transaction;\n"
		       "--force submits anyway.  --wait [SECONDS] (implies --submit) follows the\n"
		       "transaction: exit 0 committed, 1 rejected (with the node's reason: not\n"
		       "owner, conflict lost, expired, ...), 3 still undecided after SECONDS (120).\n");
		return argc > 1 ? 0 : 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--submit"))
			submit = 1;
		else if (!strcmp(a, "--force"))
			force = 1;
		else if (!strcmp(a, "--wait")) {
			submit = 1;
			if ((wait_s = ctl_wait_arg(argc, argv, &i, CTL_WAIT_DEFAULT_S)) < 0) {
				fprintf(stderr, "ecctl token: --wait SECONDS: a positive number\n");
				return 2;
			}
		}
		else if (!strcmp(a, "--json"))
			json = 1;
		else if (v && !strcmp(a, "--owner"))
			owner = v, i++;
		else if (v && !strcmp(a, "--key"))
			key = v, i++;
		else if (v && !strcmp(a, "--to"))
			to = v, i++;
		else if (v && !strcmp(a, "--to-hash"))
			to_hash = v, i++;
		else if (v && !strcmp(a, "--token"))
			tok = v, i++;
		else if (v && !strcmp(a, "--tokens")) {
			ntok = atoi(v), i++;
			if (ntok < 1 || ntok > EC_TX_MAX_ENTRIES) {
				fprintf(stderr, "ecctl token create: --tokens 1..%d\n",
					EC_TX_MAX_ENTRIES);
				return 2;
			}
		}
		else if (v && !strcmp(a, "--prev"))
			prev = v, i++;
		else if (v && !strcmp(a, "--rpc"))
			rpc = v, i++;
		else if (v && (r = ctl_rpc_opt(a, v)) != 0) {
			if (r < 0)
				return 2;
			i++;
		} else {
			fprintf(stderr, "ecctl token: unknown or incomplete option %s\n", a);
			return 2;
		}
	}
	memset(&tx, 0, sizeof tx);
	clock_gettime(CLOCK_REALTIME, &ts);
	tx.timestamp = (ec_time)ts.tv_sec * 1000u + (ec_time)(ts.tv_nsec / 1000000);
	tx.n_entries = 1;
	if (!strcmp(sub, "create")) {
		if (!owner || key || to || to_hash || prev) {
			fprintf(stderr, "ecctl token create: --owner KEYFILE [--token HEX]\n");
			return 2;
		}
		if (tok && ntok > 1) {
			fprintf(stderr, "ecctl token create: --token or --tokens\n");
			return 2;
		}
		if (tok) {
			if (parse_id(tok, &token) != 0) {
				fprintf(stderr, "ecctl token: --token: 64 hex chars\n");
				return 2;
			}
		} else if (getrandom(token.b, 32, 0) != 32) {
			fprintf(stderr, "ecctl token: no randomness\n");
			return 2;
		}
		if (load_key(owner, &kp) != EC_OK)
			return 2;
		tx.entries[0].token = token;
		ec_keyhash(&tx.entries[0].next_key, kp.pk);
		/* more random tokens: entries strictly ascending by token */
		for (int e = 1; e < ntok; e++) {
			ec_id t;
			int k;
			if (getrandom(t.b, 32, 0) != 32) {
				fprintf(stderr, "ecctl token: no randomness\n");
				return 2;
			}
			for (k = tx.n_entries; k > 0 && memcmp(tx.entries[k - 1].token.b, t.b, 32) > 0;
			     k--)
				tx.entries[k] = tx.entries[k - 1];
			tx.entries[k].token = t;
			tx.entries[k].prev = (ec_id){{0}};
			ec_keyhash(&tx.entries[k].next_key, kp.pk);
			tx.n_entries++;
		}
		ec_keypair_wipe(&kp);
	} else if (!strcmp(sub, "transfer") || !strcmp(sub, "destroy")) {
		int destroy = !strcmp(sub, "destroy");
		if (!tok || parse_id(tok, &token) != 0 || !key ||
		    (!destroy && !!to == !!to_hash) || (destroy && (to || to_hash))) {
			fprintf(stderr, "ecctl token %s: --token T --key KEYFILE%s [--prev TXID]\n",
				sub, destroy ? "" : " (--to KEYFILE | --to-hash H)");
			return 2;
		}
		if (prev && parse_id(prev, &pv) != 0) {
			fprintf(stderr, "ecctl token: --prev: 64 hex chars\n");
			return 2;
		}
		if (load_key(key, &kp) != EC_OK)
			return 2;
		/* the node's view first: whoever talks to it is checked */
		if ((!prev || submit) &&
		    (r = owner_check(ctl_rpc_path(rpc), sub, tok, key, &kp, prev, force, &cur)) != 0) {
			ec_keypair_wipe(&kp);
			return r;
		}
		if (!prev)
			pv = cur;
		tx.entries[0].token = token;
		tx.entries[0].prev = pv;
		if (to) {
			ec_keypair nk;
			if (load_key(to, &nk) != EC_OK) {
				ec_keypair_wipe(&kp);
				return 2;
			}
			ec_keyhash(&tx.entries[0].next_key, nk.pk);
			ec_keypair_wipe(&nk);
		} else if (to_hash && parse_id(to_hash, &tx.entries[0].next_key) != 0) {
			fprintf(stderr, "ecctl token: --to-hash: 64 hex chars\n");
			ec_keypair_wipe(&kp);
			return 2;
		}
		r = ec_tx_sign_entry(&tx, 0, kp.pk, kp.sk);
		ec_keypair_wipe(&kp);
		if (r != EC_OK) {
			fprintf(stderr, "ecctl token: signing: %s\n", ec_strerror(r));
			return 2;
		}
	} else {
		fprintf(stderr, "ecctl token: create, transfer or destroy\n");
		return 2;
	}
	if ((r = ec_tx_finalize(&tx)) != EC_OK) {
		fprintf(stderr, "ecctl token: %s\n", ec_strerror(r));
		return 2;
	}
	uint8_t *enc;
	size_t len;
	char txid[65], tokhex[65];
	if (ec_tx_encode(&tx, &enc, &len) != EC_OK)
		return 2;
	char *hex = malloc(2 * len + 1);
	ec_hex_encode(hex, enc, len);
	free(enc);
	ec_hex_encode(txid, tx.id.b, 32);
	ec_hex_encode(tokhex, token.b, 32);
	if (submit) {
		json_t *res = NULL;
		if (wait_s > 0 && !json) { /* then the outcome's line */
			print_tokens(&tx);
			printf("txid  %s\n", txid);
			fflush(stdout);
		}
		r = ctl_submit_wait(ctl_rpc_path(rpc), hex, txid, wait_s, json, &res);
		free(hex);
		json_decref(res);
		if (r != 0 || wait_s > 0)
			return r;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "txid", txid, "token", tokhex,
				      "op", sub, "submitted", submit);
		json_t *all = json_array();
		for (int e = 0; e < tx.n_entries; e++) {
			char h[65];
			ec_hex_encode(h, tx.entries[e].token.b, 32);
			json_array_append_new(all, json_string(h));
		}
		json_object_set_new(o, "tokens", all);
		if (!submit)
			json_object_set_new(o, "tx", json_string(hex));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		print_tokens(&tx);
		printf("txid  %s\n", txid);
		if (submit)
			printf("submitted\n");
		else
			printf("tx    %s\n", hex);
	}
	if (!submit)
		free(hex);
	return 0;
}
