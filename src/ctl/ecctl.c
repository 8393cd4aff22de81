/* ecctl.c - the command-line client: a table of subcommands.
 * Offline commands work on files; online commands (talking JSON-RPC to
 * ecnode) join the table with the daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ec/crypto.h"
#include "ec/version.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{"keygen", ctl_cmd_keygen, "keygen FILE            new Ed25519 key file (0600)"},
	{"decode", ctl_cmd_decode, "decode [--hex] FILE|-  any encoded object -> JSON"},
	{"chain", ctl_cmd_chain,
	 "chain gen|verify|seek  synthetic signed chains: generate, verify, seek by time\n"
	 "                         or height"},
	{"prove", ctl_cmd_prove,
	 "prove TXID --chain F --out P  inclusion proof from a chain file's head"},
	{"verify-proof", ctl_cmd_verify_proof,
	 "verify-proof P         check an inclusion proof offline (exit 0/1)"},
	{"token", ctl_cmd_token,
	 "token create|transfer|destroy  build (and --submit, --wait) a transaction from key\n"
	 "                         files; transfer/destroy check the owner with the node"},
	{"status", ctl_cmd_online, "status                 a running node: identity, contact, head, counters"},
	{"peers", ctl_cmd_online, "peers                  the node's transport peers"},
	{"submit", ctl_cmd_online,
	 "submit HEX|--file F [--wait [S]]  submit an encoded transaction; --wait: until\n"
	 "                         committed (exit 0) or rejected (1, with the reason), or\n"
	 "                         S seconds (120) pass (3)"},
	{"mapping", ctl_cmd_online, "mapping TOKEN [--peer ID]  signed token mapping, verified"},
	{"tx", ctl_cmd_online,
	 "tx TXID [--wait [S]]   a transaction: state (rejected: with the reason), block,\n"
	 "                         confirmations; --wait as for submit"},
	{"block", ctl_cmd_online, "block ID|--height H    a stored block; block fetch ID --peer P\n"
				  "                         fetches it from P, lists its endorsements"},
	{"walk", ctl_cmd_online, "walk [PEER] [--remote] walk and verify a peer's chain"},
	{"sync", ctl_cmd_online, "sync [--start S] [--watch]  sync progress and completeness"},
	{"swap", ctl_cmd_online,
	 "swap status|pause|resume|force [OUT] [--in IN]|static on|off  peer swapping"},
	{"stop", ctl_cmd_online, "stop                   stop the node after the current batch"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ecctl <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nOnline commands find the node's control socket with --rpc PATH, --data DIR\n"
		   "or --config FILE, else by themselves (see 'ecctl status --help').\n"
		   "'ecctl <command> --help' describes a command; 'ecctl --version'\n"
		   "prints the version; 'man ecctl' has it all.\n");
}

int ctl_read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	unsigned char *b = NULL;
	size_t n = 0, cap = 0;
	if (!f) {
		fprintf(stderr, "ecctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *nb;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(b, cap);
			if (!nb) {
				fprintf(stderr, "ecctl: %s: out of memory\n", path);
				free(b);
				if (f != stdin)
					fclose(f);
				return -1;
			}
			b = nb;
		}
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "ecctl: %s: read error\n", path);
		free(b);
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

int ctl_text_tx(unsigned char **buf, size_t *len)
{
	unsigned char *b = *buf, *out;
	char *text, *hex, *line;
	size_t n = *len, h;
	for (size_t i = 0; i < n; i++)
		if ((b[i] < 0x20 && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') || b[i] > 0x7e)
			return 0; /* binary: the encoded transaction itself */
	if (!(text = malloc(n + 1)))
		return -1;
	memcpy(text, b, n);
	text[n] = 0;
	/* `ecctl token create` output: the "tx HEX" line; else all of it */
	hex = text;
	for (line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, "tx", 2) && (line[2] == ' ' || line[2] == '\t')) {
			hex = line + 2;
			hex[strcspn(hex, "\r\n")] = 0;
			break;
		}
	hex += strspn(hex, " \t\r\n");
	h = strspn(hex, "0123456789abcdefABCDEF");
	if (hex[h + strspn(hex + h, " \t\r\n")] || h == 0 || h % 2 || !(out = malloc(h / 2))) {
		free(text);
		return -1;
	}
	hex[h] = 0;
	if (ec_hex_decode(out, h / 2, hex) != EC_OK) {
		free(out);
		free(text);
		return -1;
	}
	free(text);
	free(b);
	*buf = out;
	*len = h / 2;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("ecctl %s\n", ec_version());
		return 0;
	}
	if (ec_crypto_init() != EC_OK) {
		fprintf(stderr, "ecctl: crypto library failed to initialise\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* messages name the command as typed: "ecctl token create" */
			static char name[64];
			int sub = argc > 2 && argv[2][0] != '-' &&
				  (!strcmp(argv[1], "token") || !strcmp(argv[1], "swap") ||
				   !strcmp(argv[1], "chain") ||
				   (!strcmp(argv[1], "block") && !strcmp(argv[2], "fetch")));
			snprintf(name, sizeof name, "ecctl %.20s%s%.20s", argv[1], sub ? " " : "",
				 sub ? argv[2] : "");
			ctl_cmd = name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "ecctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
