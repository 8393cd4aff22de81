/* cmd_keygen.c - 'ecctl keygen FILE': a new Ed25519 key file (mode 0600,
 * never overwriting), printing the public key and its owner key hash. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/crypto.h"

int ctl_cmd_keygen(int argc, char **argv)
{
	ec_keypair kp;
	ec_id kh;
	char hex[65];
	int json = 0, r;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ecctl keygen [--json] FILE\n"
			       "Creates FILE (mode 0600; refuses to overwrite) holding a new\n"
			       "Ed25519 key, and prints the public key and its key hash\n"
			       "H_tag(\"ec/v1/keyhash\", pk), the value a transaction's\n"
			       "next_key names to hand a token to this key.\n");
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ecctl keygen: unknown option %s\n", argv[i]);
			return 2;
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "ecctl keygen: one FILE only\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: ecctl keygen [--json] FILE\n");
		return 2;
	}
	if ((r = ec_keypair_generate(&kp)) != EC_OK ||
	    (r = ec_keyfile_write(path, &kp)) != EC_OK) {
		fprintf(stderr, "ecctl keygen: %s: %s\n", path,
			r == EC_ERR_EXISTS ? "file exists (not overwritten)"
					   : ec_strerror(r));
		ec_keypair_wipe(&kp);
		return 2;
	}
	ec_keyhash(&kh, kp.pk);
	char khex[65];
	ec_hex_encode(hex, kp.pk, 32);
	ec_hex_encode(khex, kh.b, 32);
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "file", path,
				      "public_key", hex, "key_hash", khex);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("wrote %s\npublic key: %s\nkey hash:   %s\n", path, hex,
		       khex);
	}
	ec_keypair_wipe(&kp);
	return 0;
}
