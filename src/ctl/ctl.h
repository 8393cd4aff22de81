/* ctl.h - ecctl subcommands.  Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the operation found a problem (e.g. a bad chain), 2 usage or
 * environment error.  Human output goes to stdout, diagnostics to stderr. */
#ifndef EC_CTL_H
#define EC_CTL_H

int ctl_cmd_keygen(int argc, char **argv); /* src/ctl/cmd_keygen.c */
int ctl_cmd_decode(int argc, char **argv); /* src/ctl/cmd_decode.c */
int ctl_cmd_chain(int argc, char **argv);  /* src/ctl/cmd_chain.c: gen|verify|seek */

/* Reads a whole file (or "-" for stdin) into a malloc'd buffer. 0 or -1
 * with a message on stderr. */
int ctl_read_file(const char *path, unsigned char **buf, size_t *len);

#endif
