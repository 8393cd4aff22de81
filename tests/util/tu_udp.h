/* tu_udp.h - a UDP client of a running ecnode for the daemon tests: its own
 * X25519 key and its own socket (so its own source address), sealing and
 * opening datagrams with libec's transport (transport.h), answering the
 * node's address-validation challenges or not, reassembling fragmented
 * answers, and counting every byte it sends and receives. */
#ifndef EC_TU_UDP_H
#define EC_TU_UDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "ec/transport.h"
#include "ec/wire.h"

/* The node a client talks to. */
typedef struct tu_node {
	uint8_t kx[EC_KX_BYTES];
	struct sockaddr_in addr;
	ec_id id;
	uint64_t net;
} tu_node;

typedef struct tu_client {
	const tu_node *node;
	int fd;
	struct sockaddr_in self;
	ec_kx_keypair kx;
	ec_transport_keys keys;
	ec_id pseudo;    /* the id the node knows us by until a hello binds */
	uint64_t ctr;
	int echo;        /* answers the node's challenges */
	uint64_t out;    /* UDP payload bytes sent */
	uint64_t in_node, in_other; /* ... received from the node, from others */
	unsigned challenges, hellos;
	ec_reasm *ra;
	uint8_t want;    /* keep the first whole message of this type (a hello:
			  * only the node's own) */
	uint8_t *msg;
	size_t len;
	const struct sockaddr_in *watch; /* when set: count in `watched` the
					  * introductions announcing it */
	unsigned watched;
} tu_client;

/* A fresh key and a socket on 127.0.0.1:0. */
void tu_cli_open(tu_client *c, const tu_node *n, int echo);
/* A new socket (a new source address), the same key; the old one closed. */
void tu_cli_rebind(tu_client *c);
void tu_cli_close(tu_client *c);
/* One sealed datagram with header flags. */
void tu_cli_dgram(tu_client *c, uint8_t flags, const uint8_t *pt, size_t len);
/* One message, as `frags` fragments when frags >= 2. */
void tu_cli_send(tu_client *c, const uint8_t *msg, size_t len, unsigned frags);
/* Drops the kept message, to wait for another. */
void tu_cli_forget(tu_client *c);
/* Reads the sockets of cs[0..n) for ms milliseconds, or until every client
 * with a `want` holds its message when until_answered. */
void tu_pump(tu_client *cs, size_t n, int ms, int until_answered);

ec_time tu_now_ms(void); /* wall clock, as ecnode's */

/* ---- a local network of ecnode processes (scripts/ecnet.sh) ----------------
 * Every function runs from the repository root with $BUILD's programs;
 * `dir` holds the network (DIR/net/nI: node I's data directory). */
struct json_t;
/* Runs `script` after sourcing scripts/ecnet.sh with ECNET_DIR=DIR/net. */
int tu_ecnet(const char *build, const char *dir, const char *script);
/* `ecctl ARGS --json` against node i; the parsed answer (json_decref it)
 * or NULL. */
struct json_t *tu_ctl(const char *build, const char *dir, int i, const char *args);
/* Node i's contact (status: peer_id, kx_pk, listen) into n. */
void tu_node_get(tu_node *n, const char *build, const char *dir, int i, uint64_t net);
/* One counter of node i's status "transport" object. */
long long tu_tstat(const char *build, const char *dir, int i, const char *key);
/* A signed hello of a fresh identity (PoW test parameters) naming c's key
 * and address; *id the identity's peer id.  *enc malloc'd. */
void tu_hello(const tu_client *c, uint8_t **enc, size_t *len, ec_id *id);
/* The same, announcing `at` instead of c's address. */
void tu_hello_at(const tu_client *c, const struct sockaddr_in *at, uint8_t **enc, size_t *len,
		 ec_id *id);
/* A mapping request (evidence asked) for token. *enc malloc'd. */
void tu_mapping_req(const ec_id *token, uint8_t **enc, size_t *len);

#endif
