/* ecnode.h - the daemon's internal interfaces (src/node).  ecnode is the
 * only program with sockets, clocks and signals: one libuv loop owning one
 * UDP socket (transport.h datagrams), a timer set from the core's next
 * deadline, a JSON-RPC 2.0 Unix socket and the LMDB data directory.  The
 * protocol itself is libec's sans-I/O ec_node. */
#ifndef EC_ECNODE_H
#define EC_ECNODE_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <uv.h>

#include "ec/node.h"
#include "ec/transport.h"
#include "util/ec_idindex.h"

/* ---- logging (ecn_log.c) ------------------------------------------------ */
enum { ECN_ERROR = 0, ECN_WARN, ECN_INFO, ECN_DEBUG };
extern int ecn_log_level;
void ecn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ecn_log_level_parse(const char *s); /* -1 if unknown */
const char *ecn_log_level_name(int level);
/* Points stderr (and so ecn_log) at PATH, appending, created 0600.  Called
 * again on SIGHUP (log rotation).
 * 0, or -1 with errno (stderr unchanged). */
int ecn_log_open(const char *path);
ec_time ecn_now_ms(void);               /* wall clock, protocol ms */
void ecn_rng(void *ctx, void *out, size_t len);

/* ---- configuration (ecn_config.c) --------------------------------------- */
#define ECN_MAX_BOOTSTRAP 64
typedef struct ecn_cfg {
	char listen[128];    /* HOST:PORT, [V6]:PORT */
	char announce[128];  /* address put in hellos; "" = listen */
	char data_dir[512];
	char rpc_path[600];  /* "" = DATA/ecnode.sock */
	char *bootstrap[ECN_MAX_BOOTSTRAP]; /* KXPK@HOST:PORT */
	size_t n_bootstrap;
	uint64_t network_id;
	uint64_t block_interval_ms;
	int rate_limit;      /* 1 = enforce */
	double rate_scale;   /* multiplies every rate limit */
	int log_level;
	int sync;            /* enum ec_sync_strategy */
	uint32_t sync_delay_ms;
	uint16_t sync_range_blocks; /* 0 = the engine's default */
	int pow_test;        /* 1 = ec_pow_test (local networks, tests) */
	uint32_t hello_ms;   /* re-greet peers without traffic this often */
	int init_only;       /* --init: create the data dir, print, exit */
	uint32_t mine_threads; /* identity mining threads; 0 = one per CPU */
	int check_store;     /* --check-store: verify DATA/store offline, exit */
	/* peer swapping (PROTOCOL 14d "In the node"; ecn_swap.c) */
	int swap;                  /* 1 = on */
	uint64_t swap_interval_ms; /* rollout target; 0 = the module default */
	uint64_t swap_initial_ms;  /* rollout start; 0 = swap_interval_ms when
				    * that is set, else the module default */
	uint64_t swap_step_ms;     /* load-shift step; 0 = default */
	uint64_t swap_cooldown_ms; /* swapped-out peers refused; 0 = default */
	uint32_t swap_set_size;    /* 0 = node default */
	int swap_keep_ring;        /* -1 = node default (4) */
	uint32_t swap_min;         /* min_neighbours; 0 = default */
	/* datagram budget and fragments (PROTOCOL 16 "Fragments") */
	uint32_t dgram_max;        /* every UDP payload sent <= this (1232) */
	uint32_t msg_max;          /* largest message sent or reassembled */
	uint32_t reasm_timeout_ms; /* partial messages freed after this */
	uint16_t answer_dgrams;    /* range answers asked <= this many datagrams */
	/* dead peers (PROTOCOL 16 "Dead peers") */
	uint64_t peer_dead_ms;     /* bound peer silent this long: dead */
	/* the transport peer table (PROTOCOL 16 "Peer table") */
	uint32_t peer_table_max;   /* entries (4096), a quarter of them unbound */
	/* operation (ecnode_main.c, ecn_log.c) */
	char log_file[512];        /* "" = stderr; reopened on SIGHUP */
	/* control socket limits (PROTOCOL 16.1 "Limits"; ecn_rpc.c) */
	uint32_t rpc_max_clients;  /* connections at once (64) */
	uint32_t rpc_idle_ms;      /* closed without a request this long (30000) */
	uint32_t rpc_line_max;     /* bytes of one request line (65536) */
	uint32_t rpc_buffer_total; /* partial input held, all connections (4 MiB) */
} ecn_cfg;

void ecn_cfg_default(ecn_cfg *c);
/* Parses argv (and the --config file it names, flags winning).  0 = run,
 * 1 = printed help/version (exit 0), -1 = error (printed). */
int ecn_cfg_load(ecn_cfg *c, int argc, char **argv);
void ecn_cfg_free(ecn_cfg *c);

/* "HOST:PORT" / "[V6]:PORT" -> sockaddr.  0 or -1.  HOST is an IPv4 or
 * IPv6 address or a host name (getaddrinfo; blocks while it resolves):
 * its first address, or with ecn_addr_parse_family its first of `family`
 * (AF_INET, AF_INET6) when it has one. */
int ecn_addr_parse(const char *s, struct sockaddr_storage *out, socklen_t *len);
int ecn_addr_parse_family(const char *s, int family, struct sockaddr_storage *out,
			  socklen_t *len);
void ecn_addr_str(const struct sockaddr *sa, char *out, size_t cap);
/* Binary address for hellos (PROTOCOL 16): IPv4 (4) or IPv6 (16) address
 * bytes then the u16 port, big-endian: 6 or 18 bytes. */
uint8_t ecn_addr_pack(const struct sockaddr *sa, uint8_t out[EC_ADDR_MAX]);
int ecn_addr_unpack(const uint8_t *p, uint8_t len, struct sockaddr_storage *out,
		    socklen_t *olen);

/* ecn_mine.c: mines an identity for pk on `threads` threads (0 = one per
 * online CPU), logging progress and an ETA; EC_OK with *out, else the
 * error.  *attempts (may be NULL): the attempts made. */
int ecn_identity_mine_all(ec_identity *out, const uint8_t pk[32], uint64_t network_id,
			  const ec_pow_params *pow, unsigned threads, uint64_t *attempts);

/* ---- the daemon ----------------------------------------------------------- */
typedef struct ecn_peer {
	uint8_t kx[EC_KX_BYTES];
	ec_transport_keys keys;
	ec_replay replay;
	ec_id id;       /* peer id once a hello bound it, else pseudo */
	ec_id pseudo;   /* H_tag("ec/v1/kxpeer", kx) */
	uint8_t bound;  /* a verified hello named this kx */
	uint8_t has_addr;
	uint8_t bootstrap;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	ec_time last_rx, last_tx, last_hello, hello_sent;
	uint64_t rx, tx;
	uint8_t *hello;  /* the peer's last verified hello (for introductions) */
	size_t hello_len;
	struct sockaddr_storage hello_addr; /* the address that hello announces */
	uint8_t hello_addr_ok;              /* hello_addr parsed */
	uint8_t dead;    /* bound, then silent for peer_dead_ms: out of the core */
	ec_time dead_since;
	uint64_t frags_rx; /* fragment datagrams received from it */
	/* ---- address validation and the table's indexes (ecn_net.c;
	 * PROTOCOL 16 "Address validation", "Peer table") ---- */
	uint8_t av_ok;      /* addr is validated: it echoed our cookie */
	uint8_t av_heard;   /* addr came from a datagram (else from the
			     * configuration, the store or an introduction) */
	uint8_t intro_wait; /* bound, introduced once addr validates */
	struct sockaddr_storage av_addr; /* the last validated address */
	socklen_t av_addr_len;           /* 0 = none yet */
	uint64_t av_rx, av_tx; /* bytes from / to addr while unvalidated */
	ec_time chal_sent;     /* last challenge to addr; 0 = none */
	uint8_t probes;        /* probes to addr since it was last heard from */
	struct ecn_held *held_first, *held_last; /* answers waiting for addr */
	uint32_t held_msgs;
	size_t held_bytes;
	ec_id hk_kx, hk_id, hk_pseudo; /* keyed hashes: the index keys */
	uint32_t lru_prev, lru_next;   /* unbound entries, least recent first */
	uint8_t in_lru;
} ecn_peer;

typedef struct ecn_stats {
	uint64_t dgrams_rx, dgrams_tx, bytes_rx, bytes_tx;
	uint64_t drop_malformed;  /* short, too long, bad version/flags */
	uint64_t drop_auth;       /* AEAD failed: forged, wrong key/network */
	uint64_t drop_replayed;   /* counter already seen */
	uint64_t drop_stale;      /* counter behind the replay window */
	uint64_t drop_bad_key;    /* low-order sender key */
	uint64_t drop_kx_limited; /* new-sender key derivations over budget */
	uint64_t drop_hello_kx;   /* hello naming another transport key */
	uint64_t drop_hello_unproven; /* hello whose identity proof failed: no binding */
	uint64_t drop_oversize;   /* outgoing message over one datagram */
	uint64_t drop_no_route;   /* outgoing message to a peer without address */
	uint64_t send_errors;
	uint64_t introductions;   /* peers learned from a forwarded hello */
	uint64_t send_emsgsize;   /* the kernel refused a datagram as too big
				   * for the path (IP_PMTUDISC_DO) */
	uint64_t max_dgram_tx;    /* largest datagram sent (bytes of UDP payload) */
	uint64_t frag_msgs_tx;    /* messages sent as fragments */
	uint64_t frag_dgrams_tx;  /* fragment datagrams sent */
	uint64_t frag_dgrams_rx;  /* authenticated fragment datagrams received */
	uint64_t peers_died;      /* bound peers declared dead */
	uint64_t peers_revived;   /* dead peers back (authenticated traffic) */
	uint64_t rpc_requests, rpc_errors;
	/* ---- address validation and the peer table (ecn_net.c) ---- */
	uint64_t av_challenges; /* challenges sent (within the budget) */
	uint64_t av_probes;     /* challenges opening contact to an address
				 * never heard from */
	uint64_t av_echoes;     /* echoes sent */
	uint64_t av_validated;  /* (key, address) pairs validated */
	uint64_t av_bad_cookie; /* echoes with a wrong or expired cookie */
	uint64_t av_malformed;  /* validation datagrams that do not parse */
	uint64_t held;          /* messages held for an unvalidated address */
	uint64_t held_sent;     /* ... sent once it validated */
	uint64_t held_timed_out, held_evicted, held_refused;
	uint64_t peers_evicted; /* unbound entries evicted for a new key */
	uint64_t peers_bound_evicted; /* dead bound entries unbound for a binding */
	uint64_t peers_bound_refused; /* bindings refused: bound share full, none dead */
	uint64_t peers_refused; /* new keys refused: nothing evictable */
} ecn_stats;

struct ecn_rpc;
typedef struct ecnode {
	ecn_cfg cfg;
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_timer_t timer, housekeeping;
	uv_signal_t sigint, sigterm;
	ec_node *node;
	ec_store *store;
	ec_keypair key;
	ec_kx_keypair kx;
	ec_identity ident;
	const ec_pow_params *pow;
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
	char listen_str[128];
	uint64_t counter; /* next transport counter: epoch << 32 | n */
	ecn_peer *peers;
	size_t n_peers, cap_peers;
	double kx_tokens; /* new-sender derivation budget */
	ec_time kx_refill;
	ecn_stats st;
	ec_reasm *reasm;  /* fragments being reassembled, all senders */
	ec_time started;
	int stopping;
	int sync_started;   /* 0 not yet, 1 running, -1 not available */
	int sync_err;
	/* local query capture: answers the core addresses to the zero id */
	uint8_t *cap_msg;
	size_t cap_len;
	int capturing;
	struct ecn_rpc *rpc;
	/* operation (ecnode_main.c): the data-directory lock, SIGHUP
	 * (re-read settings, reopen the log), the control socket we bound,
	 * the store-full state last logged */
	int lock_fd;          /* DATA/ecnode.lock, flock'ed; -1 = none */
	int argc;             /* the command line, re-applied on SIGHUP */
	char **argv;
	uv_signal_t sighup;
	int sock_bound;       /* sock_dev/sock_ino name our control socket */
	uint64_t sock_dev, sock_ino;
	int store_paused;     /* the core's store-full pause as last logged */
	ec_time store_paused_at;
	uint64_t status_height; /* sd_notify STATUS= as last sent */
	size_t status_peers;
	/* progress in the log (ecnode_main.c progress_watch) */
	int log_has_head;
	uint64_t log_height, log_height_reported;
	ec_time log_height_at;
	uint8_t log_sync_phase;
	ec_time log_sync_at;
	/* ---- address validation and the peer table (ecn_net.c) ---- */
	ec_cookie_jar cookies;
	struct ecn_held *held_head, *held_tail; /* all held messages, oldest first */
	size_t held_msgs, held_bytes;
	int idx_ready;
	uint8_t idx_key[32];              /* keys the index hashes */
	ec_idindex idx_kx, idx_id, idx_pseudo;
	uint32_t lru_head, lru_tail;      /* unbound entries, UINT32_MAX = none */
	size_t n_lru;
	size_t n_bound;                   /* bound entries */
} ecnode;

/* ecnode_main.c: persists and takes a new transport epoch >= min_epoch,
 * > the stored one and >= now in seconds; sets d->counter.  0 or -1. */
int ecn_epoch_raise(ecnode *d, uint64_t min_epoch);
/* ecnode_main.c, the control socket (PROTOCOL 16.1): ecn_sock_listen binds
 * cfg.rpc_path (mode 0600) and opens it in `server` (uv_pipe_init'ed): a
 * stale socket nobody answers on is replaced; a path where a live process
 * accepts connections, or that is not a socket, is refused (-1, logged).
 * The socket is bound here, not by libuv, so that closing the handle never
 * unlinks the path; ecn_sock_remove unlinks it only while it is still the
 * socket we bound. */
int ecn_sock_listen(ecnode *d, uv_pipe_t *server);
void ecn_sock_remove(ecnode *d);

/* ecn_net.c */
int ecn_net_start(ecnode *d);
void ecn_flush(ecnode *d);            /* drains ec_node_poll onto the wire */
int ecn_send_to_peer(ecnode *d, ecn_peer *p, const uint8_t *msg, size_t len);
ecn_peer *ecn_peer_by_id(ecnode *d, const ec_id *id);
ecn_peer *ecn_peer_by_kx(ecnode *d, const uint8_t kx[32]);
/* The transport peer table (PROTOCOL 16 "Peer table"): lookups by key and
 * by id are O(1) (hash indexes under a per-process key); entries never move
 * but on growth (the array doubles, indexes rebuilt: amortised O(1)); a
 * full table, or a full unbound share, evicts the least recently heard
 * unbound entry in O(1) and reuses its slot.  Bound entries hold at most
 * the rest of the table; a binding when that share is full unbinds the
 * longest-dead bound entry (never a live one), else is refused.  Bootstrap
 * entries are never evicted.  A pointer from these functions is valid until
 * the next ecn_peer_add. */
ecn_peer *ecn_peer_add(ecnode *d, const uint8_t kx[32]); /* derives keys */
/* Binds the entry to a peer id (a verified hello, or a stored record); 0,
 * or -1 when the bound share is full and no bound entry is dead. */
int ecn_peer_bind(ecnode *d, ecn_peer *p, const ec_id *id);
/* Expires held messages (PROTOCOL 16 "Address validation"). */
void ecn_held_expire(ecnode *d, ec_time now);
/* The address-validation and peer-table counters into the status RPC's
 * "transport" object. */
struct json_t;
void ecn_net_status(const ecnode *d, struct json_t *transport);
void ecn_schedule(ecnode *d);         /* re-arms the core's timer */
void ecn_persist_peer(ecnode *d, const ecn_peer *p, const uint8_t sign_pk[32]);
/* Dead peers: bound peers silent for cfg.peer_dead_ms leave the core's
 * peer set (and reassembly); the number declared dead now. */
size_t ecn_peers_check_dead(ecnode *d, ec_time now);
size_t ecn_peers_dead_count(const ecnode *d);
/* Datagram budget -> fragment plaintext room and the byte bound of the
 * range answers the daemon asks for (PROTOCOL 16 "Fragments"). */
size_t ecn_frag_room(const ecnode *d);
uint32_t ecn_answer_bytes(const ecn_cfg *c);
/* Hook for answers to the daemon's own requests (RPC): 1 = consumed. */
int ecn_rpc_on_answer(ecnode *d, const ecn_peer *from, const uint8_t *msg, size_t len);

/* ecn_swap.c: the swap settings of ecn_cfg into the node's cfg */
void ecn_swap_node_cfg(const ecn_cfg *c, ec_node_cfg *nc);

/* ecn_rpc.c */
int ecn_rpc_start(ecnode *d);
void ecn_rpc_close(ecnode *d);

#endif
