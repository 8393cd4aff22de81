/* ctl.h - ecctl subcommands.  Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the operation found a problem (e.g. a bad chain), 2 usage or
 * environment error.  Human output goes to stdout, diagnostics to stderr. */
#ifndef EC_CTL_H
#define EC_CTL_H

int ctl_cmd_keygen(int argc, char **argv); /* src/ctl/cmd_keygen.c */
int ctl_cmd_decode(int argc, char **argv); /* src/ctl/cmd_decode.c */
int ctl_cmd_chain(int argc, char **argv);  /* src/ctl/cmd_chain.c: gen|verify|seek */
/* src/ctl/cmd_rpc.c: status, peers, submit, mapping, tx, block, walk, sync,
 * stop (argv[0] names the method) */
int ctl_cmd_online(int argc, char **argv);
int ctl_cmd_token(int argc, char **argv); /* src/ctl/cmd_token.c */
/* src/ctl/cmd_swap.c: `ecctl swap status|pause|resume|force|static` (called
 * by ctl_cmd_online with the words after "swap", options already taken). */
int ctl_swap_online(const char *rpc, int json, char **rest, int nrest);

/* JSON-RPC to ecnode (cmd_rpc.c).  ctl_rpc_path: the given path, else
 * $ECCTL_RPC, else ecnode-data/ecnode.sock.  ctl_rpc_call takes params
 * (may be NULL), returns 0 with *result (caller decrefs), 1 on a JSON-RPC
 * error (printed), 2 on connection errors. */
struct json_t;
const char *ctl_rpc_path(const char *given);
int ctl_rpc_call(const char *path, const char *method, struct json_t *params,
		 struct json_t **result);

/* Reads a whole file (or "-" for stdin) into a malloc'd buffer. 0 or -1
 * with a message on stderr. */
int ctl_read_file(const char *path, unsigned char **buf, size_t *len);

#endif
