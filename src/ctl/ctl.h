/* ctl.h - ecctl subcommands.  Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the operation found a problem (e.g. a bad chain), 2 usage or
 * environment error.  Human output goes to stdout, diagnostics to stderr. */
#ifndef EC_CTL_H
#define EC_CTL_H

int ctl_cmd_keygen(int argc, char **argv); /* src/ctl/cmd_keygen.c */
int ctl_cmd_decode(int argc, char **argv); /* src/ctl/cmd_decode.c */
int ctl_cmd_chain(int argc, char **argv);  /* src/ctl/cmd_chain.c: gen|verify|seek */
int ctl_cmd_prove(int argc, char **argv);  /* src/ctl/cmd_chain.c */
int ctl_cmd_verify_proof(int argc, char **argv); /* src/ctl/cmd_chain.c */
/* src/ctl/cmd_rpc.c: status, peers, submit, mapping, tx, block, walk, sync,
 * stop (argv[0] names the method) */
int ctl_cmd_online(int argc, char **argv);
int ctl_cmd_token(int argc, char **argv); /* src/ctl/cmd_token.c */
/* src/ctl/cmd_swap.c: `ecctl swap status|pause|resume|force|static` (called
 * by ctl_cmd_online with the words after "swap", options already taken). */
int ctl_swap_online(const char *rpc, int json, char **rest, int nrest);

/* The command being run, for messages ("ecctl mapping"): set by main. */
extern const char *ctl_cmd;

/* JSON-RPC to ecnode (cmd_rpc.c).  ctl_rpc_path: the given path (--rpc),
 * else the socket of --data DIR (DIR/ecnode.sock) or --config FILE (its
 * rpc or data key) when ctl_rpc_opt took one, else $ECCTL_RPC, else the
 * first that exists of CTL_LOCAL_SOCK, the socket CTL_SYSTEM_CONF names,
 * CTL_SYSTEM_SOCK; else CTL_LOCAL_SOCK.  ctl_rpc_opt(opt, val): 1 when
 * opt is --data or --config (val taken), 0 when it is neither, -1 for an
 * unreadable config file (printed).  ctl_rpc_call takes params (may be
 * NULL), returns 0 with *result (caller decrefs), 1 on a JSON-RPC error
 * (printed, naming ctl_cmd), 2 on connection errors. */
#define CTL_LOCAL_SOCK "ecnode-data/ecnode.sock"
#define CTL_SYSTEM_CONF "/etc/ec/ecnode.conf"
#define CTL_SYSTEM_SOCK "/var/lib/ec/ecnode.sock"
struct json_t;
const char *ctl_rpc_path(const char *given);
int ctl_rpc_opt(const char *opt, const char *val);
int ctl_rpc_call(const char *path, const char *method, struct json_t *params,
		 struct json_t **result);
/* The same; with error != NULL a JSON-RPC error is not printed but put in
 * *error (the error object: code, message[, data]; caller decrefs). */
int ctl_rpc_call_err(const char *path, const char *method, struct json_t *params,
		     struct json_t **result, struct json_t **error);
/* get_mapping of token (64 hex) from our node, or from `peer` through it;
 * a referral from our node is followed once (printed unless quiet).
 * 0 with *res, else as ctl_rpc_call. */
int ctl_mapping(const char *rpc, const char *token, const char *peer, int quiet,
		struct json_t **res);

/* Transaction outcomes (PROTOCOL 16.1 "Transaction states").  ctl_tx_wait
 * polls get_tx until txid is committed or rejected or `seconds` pass, and
 * prints one line (or a JSON object): exit status 0 committed, 1 rejected
 * (with the node's reason), 3 timed out, 2 connection error.
 * ctl_submit_wait submits hex (the encoded tx whose id is txid): without a
 * wait (wait_s <= 0) as ctl_rpc_call (*result set on 0); with one, waits
 * as ctl_tx_wait.  A refusal naming its reason prints the rejected line
 * and gives 1 either way. */
#define CTL_EXIT_TIMEOUT 3
int ctl_tx_wait(const char *rpc, const char *txid, double seconds, int json);
int ctl_submit_wait(const char *rpc, const char *hex, const char *txid, double wait_s,
		    int json, struct json_t **result);
/* --wait [SECONDS]: argv[*i] is "--wait"; takes a following number when
 * there is one (else dflt).  The seconds, or -1 for a bad number. */
double ctl_wait_arg(int argc, char **argv, int *i, double dflt);
#define CTL_WAIT_DEFAULT_S 120

/* Reads a whole file (or "-" for stdin) into a malloc'd buffer. 0 or -1
 * with a message on stderr. */
int ctl_read_file(const char *path, unsigned char **buf, size_t *len);
/* A transaction file's text forms, decoded in place (*buf replaced): hex,
 * or the output of `ecctl token create` (its "tx HEX" line).  Binary
 * content is left as it is.  0, or -1 for text that is not hex. */
int ctl_text_tx(unsigned char **buf, size_t *len);

/* Epoch ms -> "2026-01-31T12:00:00.123Z" (0: "never"). */
void ctl_iso_time(char *out, size_t cap, long long ms);

/* Peer ids may be shortened: 4..64 hex digits, optionally followed by
 * ".." or "...", as ecctl and the daemon's log print them.  ctl_is_id_prefix: s has that form.
 * ctl_peer_expand: the one id among the node's own and its peers' that
 * starts with s, into out; 0, else 2 (none, or ambiguous: printed with
 * the candidates) or ctl_rpc_call's status. */
int ctl_is_id_prefix(const char *s);
int ctl_peer_expand(const char *rpc, const char *s, char out[65]);

#endif
