/* ecn_config.c - ecnode's configuration: a key = value file and flags
 * (flags win), addresses (numeric, or host names resolved with
 * getaddrinfo). */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec/version.h"
#include "node/ecnode.h"

void ecn_cfg_default(ecn_cfg *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:7700");
	snprintf(c->data_dir, sizeof c->data_dir, "ecnode-data");
	c->network_id = 1;
	c->block_interval_ms = 1000;
	c->rate_limit = 1;
	c->rate_scale = 1.0;
	c->log_level = ECN_INFO;
	c->sync = EC_SYNC_OFF;
	c->sync_delay_ms = 2000;
	c->hello_ms = 30000;
	c->swap_keep_ring = -1;
	c->dgram_max = 1232;
	c->msg_max = 262144;
	c->reasm_timeout_ms = 5000;
	c->answer_dgrams = 16;
	c->peer_dead_ms = 120000;
	c->peer_table_max = 4096;
	c->rpc_max_clients = 64;
	c->rpc_idle_ms = 30000;
	c->rpc_line_max = 65536;
	c->rpc_buffer_total = 4u << 20;
}

void ecn_cfg_free(ecn_cfg *c)
{
	for (size_t i = 0; i < c->n_bootstrap; i++)
		free(c->bootstrap[i]);
	c->n_bootstrap = 0;
}

static const char *help_text =
	"usage: ecnode [options]\n"
	"\n"
	"The EC protocol daemon: one UDP socket (encrypted datagrams, docs/PROTOCOL.md\n"
	"section 16), an LMDB data directory and a JSON-RPC 2.0 control socket for ecctl.\n"
	"Every option can also be written in the --config file as 'key = value'\n"
	"(the key is the option without '--'; '#' starts a comment); flags win.\n"
	"\n"
	"  --config FILE          read options from FILE first\n"
	"  --listen HOST:PORT     UDP address to bind: IPv4, [IPv6] or a host name\n"
	"                         (resolved at start) (127.0.0.1:7700)\n"
	"  --announce HOST:PORT   address announced in our hellos (default: --listen)\n"
	"  --data DIR             data directory: node.key (Ed25519 lamppost key),\n"
	"                         kx.key (X25519 transport key), identity, store/\n"
	"                         (LMDB), transport.epoch; keys are created 0600 on\n"
	"                         first start (ecnode-data); ecnode.lock: one\n"
	"                         process at a time, a second exits 1 naming the\n"
	"                         first one's pid (also --init)\n"
	"  --rpc PATH             JSON-RPC Unix socket, mode 0600 (DATA/ecnode.sock);\n"
	"                         a stale one is replaced, one a live process answers\n"
	"                         on is refused\n"
	"  --bootstrap KX@HOST:PORT  a peer to greet at start: its transport public key\n"
	"                         (hex, 'ecctl status' prints it as 'contact') and its\n"
	"                         address; repeat for several\n"
	"  --network ID           network id (u64, not negative): bound into identities\n"
	"                         and into every datagram key; peers of another network\n"
	"                         cannot talk (1)\n"
	"  --pow test|production  identity proof-of-work difficulty, network-wide\n"
	"                         (production = 24 bits, about a day of mining on one\n"
	"                         core; mined on every core, with progress and an ETA,\n"
	"                         after the whole configuration is checked) (production)\n"
	"  --block-interval MS    seal the open block at most MS after its first\n"
	"                         decided transaction (1000)\n"
	"  --rate-limit on|off    enforce the query rate limits of PROTOCOL 13c (on)\n"
	"  --rate-scale X         multiply every rate limit by X (1.0)\n"
	"  --sync off|chain|poll  catch up at start: chain traversal or the polling\n"
	"                         baseline (off); resumes after a restart\n"
	"  --sync-delay MS        wait this long for peers before starting sync (2000)\n"
	"  --sync-range-blocks K  blocks asked per range request while syncing, 1..1024\n"
	"                         (engine default 256; every answer is also bounded\n"
	"                         in bytes by --answer-datagrams)\n"
	"  --hello-interval MS    greet peers heard nothing from, or sent nothing to, this\n"
	"                         long (keepalive; 30000)\n"
	"  --swap on|off          dynamic peer swapping (off; PROTOCOL 14d)\n"
	"  --swap-interval MS     swap round interval, rollout target (1800000); also\n"
	"                         the rollout start unless --swap-initial is given\n"
	"  --swap-initial MS      rollout start interval (21600000)\n"
	"  --swap-step MS         load-shift step of a swap (30000)\n"
	"  --swap-cooldown MS     a swapped-out peer is refused this long (86400000)\n"
	"  --swap-set-size N      peers kept in the set; hellos beyond go to the\n"
	"                         backup pool (min neighbours + 4)\n"
	"  --swap-keep-ring K     our K ring-closest peers a side are never swapped (4)\n"
	"  --swap-min N           swappable neighbours never fewer than N (8)\n"
	"  --datagram-max BYTES   largest UDP payload sent, 256..65507 (1232: fits the\n"
	"                         IPv6 minimum MTU of 1,280); a larger message is split\n"
	"                         into authenticated fragments, never by IP (the socket\n"
	"                         sets don't-fragment; PROTOCOL 16 'Fragments')\n"
	"  --message-max BYTES    largest message sent or reassembled, 4096..4194304\n"
	"                         (262144); larger outgoing messages are dropped and\n"
	"                         counted (transport.dropped_oversize)\n"
	"  --reassembly-timeout MS  a message whose fragments did not all arrive this\n"
	"                         long after its first is freed (5000)\n"
	"  --answer-datagrams N   range answers asked while syncing or walking a chain\n"
	"                         are bounded to N datagrams of payload, 1..1024 (16)\n"
	"  --peer-dead-after MS   a peer heard nothing from this long is dead: out of\n"
	"                         the peer set and routing until it is heard again;\n"
	"                         >= 2 x --hello-interval, 0 = never (120000)\n"
	"  --peer-table-max N     transport peer table entries, 16..65536 (4096), a\n"
	"                         quarter of them unbound; a testing and tuning knob\n"
	"  --rpc-max-clients N    control-socket connections at once, 1..65536 (64); a\n"
	"                         newcomer over the cap closes the longest-idle one;\n"
	"                         lowered to fit the open-file limit (whose soft\n"
	"                         value is raised to the hard one at start)\n"
	"  --rpc-idle-timeout MS  a connection without a completed request or a call\n"
	"                         running this long is closed, 100..3600000 (30000)\n"
	"  --rpc-line-max BYTES   longest request line, 1024..16777216 (65536)\n"
	"  --rpc-buffer-total BYTES  partial request input held over all connections,\n"
	"                         >= --rpc-line-max + 65536, <= 1073741824 (4194304);\n"
	"                         past it the connection holding the most is closed\n"
	"  --log-level error|warn|info|debug   log verbosity (info)\n"
	"  --log-file PATH        append the log (and anything else written to stderr)\n"
	"                         to PATH, created 0600, lines dated; reopened on\n"
	"                         SIGHUP, for log rotation (default: stderr)\n"
	"  --mine-threads N       threads mining the identity, 0..256 (0: one per CPU)\n"
	"  --init                 create the data directory (keys, identity) and exit\n"
	"  --check-store          verify the store in --data offline and exit: every\n"
	"                         record's checksum, lookups, the digest of the last\n"
	"                         commit and the references between tables; prints\n"
	"                         records per table and every problem (table and key);\n"
	"                         exit 0 clean, 1 damaged or unreadable.  Creates and\n"
	"                         changes nothing; safe beside a running node\n"
	"  --version              print the version and exit\n"
	"  --help                 this text\n"
	"\n"
	"Signals: SIGINT/SIGTERM stop after the current batch; a killed node restarts\n"
	"from its data directory and greets the peers it knew.  SIGHUP reopens\n"
	"--log-file and re-reads the --config file (flags still win), logging what\n"
	"changed; these settings take effect at once: log-level, log-file,\n"
	"hello-interval, peer-dead-after and (when rate limits are on) rate-scale.\n"
	"Any other changed setting is logged as taking effect at the next start; a\n"
	"file with errors changes nothing.\n"
	"\n"
	"A full disk stops writing, not the node: the block that did not fit is\n"
	"written again every 1..10 s, reads are served meanwhile, nothing new is\n"
	"committed; 'ecctl status' shows store.writes_paused.\n"
	"\n"
	"Store integrity: every start verifies the whole store; a damaged one (and any\n"
	"damaged record read later) stops the node with exit status 1 and a line\n"
	"'store corrupt: TABLE KEY: what'; nothing read from it is answered.\n";

static int set_opt(ecn_cfg *c, const char *k, const char *v, const char *where)
{
	char *end;
#define NEEDV                                                                  \
	if (!v) {                                                              \
		fprintf(stderr, "ecnode: %s: '%s' needs a value\n", where, k); \
		return -1;                                                     \
	}
	/* strtoul and friends accept "-1" and wrap it: every number here is
	 * unsigned (or, for rate-scale, positive) */
	if (v && v[strspn(v, " \t")] == '-' && strcmp(k, "listen") && strcmp(k, "announce") &&
	    strcmp(k, "data") && strcmp(k, "rpc") && strcmp(k, "bootstrap") &&
	    strcmp(k, "log-file")) {
		fprintf(stderr, "ecnode: %s: bad value '%s' for '%s': negative numbers are not "
				"allowed (see --help)\n",
			where, v, k);
		return -1;
	}
	if (!strcmp(k, "listen")) {
		NEEDV snprintf(c->listen, sizeof c->listen, "%s", v);
	} else if (!strcmp(k, "announce")) {
		NEEDV snprintf(c->announce, sizeof c->announce, "%s", v);
	} else if (!strcmp(k, "data")) {
		NEEDV snprintf(c->data_dir, sizeof c->data_dir, "%s", v);
	} else if (!strcmp(k, "rpc")) {
		NEEDV snprintf(c->rpc_path, sizeof c->rpc_path, "%s", v);
	} else if (!strcmp(k, "bootstrap")) {
		NEEDV if (c->n_bootstrap == ECN_MAX_BOOTSTRAP)
		{
			fprintf(stderr, "ecnode: %s: too many bootstrap peers\n", where);
			return -1;
		}
		c->bootstrap[c->n_bootstrap++] = strdup(v);
	} else if (!strcmp(k, "network")) {
		NEEDV errno = 0;
		c->network_id = strtoull(v, &end, 0);
		if (errno || *end || !*v)
			goto bad;
	} else if (!strcmp(k, "pow")) {
		NEEDV if (!strcmp(v, "test")) c->pow_test = 1;
		else if (!strcmp(v, "production")) c->pow_test = 0;
		else goto bad;
	} else if (!strcmp(k, "block-interval")) {
		NEEDV c->block_interval_ms = strtoull(v, &end, 10);
		if (*end || !*v || c->block_interval_ms == 0)
			goto bad;
	} else if (!strcmp(k, "rate-limit")) {
		NEEDV if (!strcmp(v, "on")) c->rate_limit = 1;
		else if (!strcmp(v, "off")) c->rate_limit = 0;
		else goto bad;
	} else if (!strcmp(k, "rate-scale")) {
		NEEDV c->rate_scale = strtod(v, &end);
		if (*end || !*v || !(c->rate_scale > 0) || c->rate_scale > 1e6)
			goto bad;
	} else if (!strcmp(k, "sync")) {
		NEEDV if (!strcmp(v, "off")) c->sync = EC_SYNC_OFF;
		else if (!strcmp(v, "chain")) c->sync = EC_SYNC_CHAIN;
		else if (!strcmp(v, "poll")) c->sync = EC_SYNC_POLL;
		else goto bad;
	} else if (!strcmp(k, "sync-delay")) {
		NEEDV c->sync_delay_ms = (uint32_t)strtoul(v, &end, 10);
		if (*end || !*v)
			goto bad;
	} else if (!strcmp(k, "sync-range-blocks")) {
		unsigned long b;
		NEEDV b = strtoul(v, &end, 10);
		if (*end || !*v || b < 1 || b > EC_RANGE_MAX_BLOCKS)
			goto bad;
		c->sync_range_blocks = (uint16_t)b;
	} else if (!strcmp(k, "hello-interval")) {
		NEEDV c->hello_ms = (uint32_t)strtoul(v, &end, 10);
		if (*end || !*v || c->hello_ms < 100)
			goto bad;
	} else if (!strcmp(k, "swap")) {
		NEEDV if (!strcmp(v, "on")) c->swap = 1;
		else if (!strcmp(v, "off")) c->swap = 0;
		else goto bad;
	} else if (!strcmp(k, "swap-interval") || !strcmp(k, "swap-initial") ||
		   !strcmp(k, "swap-step") || !strcmp(k, "swap-cooldown")) {
		uint64_t ms;
		NEEDV errno = 0;
		ms = strtoull(v, &end, 10);
		if (errno || *end || !*v || ms < 10 || ms > EC_SWAP_MAX_DURATION)
			goto bad;
		if (!strcmp(k, "swap-interval"))
			c->swap_interval_ms = ms;
		else if (!strcmp(k, "swap-initial"))
			c->swap_initial_ms = ms;
		else if (!strcmp(k, "swap-cooldown"))
			c->swap_cooldown_ms = ms;
		else
			c->swap_step_ms = ms;
	} else if (!strcmp(k, "swap-set-size") || !strcmp(k, "swap-min") ||
		   !strcmp(k, "swap-keep-ring")) {
		unsigned long x;
		NEEDV x = strtoul(v, &end, 10);
		if (*end || !*v || x > 4096)
			goto bad;
		if (!strcmp(k, "swap-set-size")) {
			if (x == 0)
				goto bad;
			c->swap_set_size = (uint32_t)x;
		} else if (!strcmp(k, "swap-min")) {
			if (x == 0)
				goto bad;
			c->swap_min = (uint32_t)x;
		} else {
			if (x > 16)
				goto bad;
			c->swap_keep_ring = (int)x;
		}
	} else if (!strcmp(k, "datagram-max") || !strcmp(k, "message-max") ||
		   !strcmp(k, "reassembly-timeout") || !strcmp(k, "answer-datagrams") ||
		   !strcmp(k, "peer-dead-after") || !strcmp(k, "peer-table-max")) {
		unsigned long long x;
		NEEDV errno = 0;
		x = strtoull(v, &end, 10);
		if (errno || *end || !*v)
			goto bad;
		if (!strcmp(k, "datagram-max")) {
			if (x < 256 || x > EC_DGRAM_MAX_BYTES)
				goto bad;
			c->dgram_max = (uint32_t)x;
		} else if (!strcmp(k, "message-max")) {
			if (x < 4096 || x > EC_MSG_MAX_BYTES)
				goto bad;
			c->msg_max = (uint32_t)x;
		} else if (!strcmp(k, "reassembly-timeout")) {
			if (x < 10 || x > 600000)
				goto bad;
			c->reasm_timeout_ms = (uint32_t)x;
		} else if (!strcmp(k, "answer-datagrams")) {
			if (x < 1 || x > 1024)
				goto bad;
			c->answer_dgrams = (uint16_t)x;
		} else if (!strcmp(k, "peer-table-max")) {
			if (x < 16 || x > 65536)
				goto bad;
			c->peer_table_max = (uint32_t)x;
		} else {
			if (x > EC_SWAP_MAX_DURATION)
				goto bad;
			c->peer_dead_ms = x;
		}
	} else if (!strcmp(k, "rpc-max-clients") || !strcmp(k, "rpc-idle-timeout") ||
		   !strcmp(k, "rpc-line-max") || !strcmp(k, "rpc-buffer-total")) {
		unsigned long long x;
		NEEDV errno = 0;
		x = strtoull(v, &end, 10);
		if (errno || *end || !*v)
			goto bad;
		if (!strcmp(k, "rpc-max-clients")) {
			if (x < 1 || x > 65536)
				goto bad;
			c->rpc_max_clients = (uint32_t)x;
		} else if (!strcmp(k, "rpc-idle-timeout")) {
			if (x < 100 || x > 3600000)
				goto bad;
			c->rpc_idle_ms = (uint32_t)x;
		} else if (!strcmp(k, "rpc-line-max")) {
			if (x < 1024 || x > (16u << 20))
				goto bad;
			c->rpc_line_max = (uint32_t)x;
		} else {
			if (x > (1u << 30))
				goto bad;
			c->rpc_buffer_total = (uint32_t)x;
		}
	} else if (!strcmp(k, "mine-threads")) {
		unsigned long x;
		NEEDV x = strtoul(v, &end, 10);
		if (*end || !*v || x > 256)
			goto bad;
		c->mine_threads = (uint32_t)x;
	} else if (!strcmp(k, "log-level")) {
		NEEDV if ((c->log_level = ecn_log_level_parse(v)) < 0) goto bad;
	} else if (!strcmp(k, "log-file")) {
		NEEDV if (!*v || strlen(v) >= sizeof c->log_file) goto bad;
		snprintf(c->log_file, sizeof c->log_file, "%s", v);
	} else {
		fprintf(stderr, "ecnode: %s: unknown option '%s' (see --help)\n", where, k);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ecnode: %s: bad value '%s' for '%s' (see --help)\n", where, v, k);
	return -1;
#undef NEEDV
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int load_file(ecn_cfg *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], where[700];
	int ln = 0, r = 0;
	if (!f) {
		fprintf(stderr, "ecnode: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (r == 0 && fgets(line, sizeof line, f)) {
		char *s, *eq, *hash;
		ln++;
		if ((hash = strchr(line, '#')))
			*hash = 0;
		s = trim(line);
		if (!*s)
			continue;
		snprintf(where, sizeof where, "%s:%d", path, ln);
		if (!(eq = strchr(s, '='))) {
			fprintf(stderr, "ecnode: %s: expected 'key = value'\n", where);
			r = -1;
			break;
		}
		*eq = 0;
		r = set_opt(c, trim(s), trim(eq + 1), where);
	}
	fclose(f);
	return r;
}

int ecn_cfg_load(ecn_cfg *c, int argc, char **argv)
{
	/* the config file first, so that flags override it */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help_text, stdout);
			return 1;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("ecnode %s\n", ec_version());
			return 1;
		}
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ecnode: --config needs a file\n");
				return -1;
			}
			if (load_file(c, argv[i + 1]) != 0)
				return -1;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (!strcmp(a, "--init")) {
			c->init_only = 1;
			continue;
		}
		if (!strcmp(a, "--check-store")) {
			c->check_store = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "ecnode: unexpected argument '%s' (see --help)\n", a);
			return -1;
		}
		if (set_opt(c, a + 2, i + 1 < argc ? argv[i + 1] : NULL, "command line") != 0)
			return -1;
		i++;
	}
	if (!c->rpc_path[0])
		snprintf(c->rpc_path, sizeof c->rpc_path, "%s/ecnode.sock", c->data_dir);
	if ((uint64_t)c->rpc_buffer_total < (uint64_t)c->rpc_line_max + 65536) {
		fprintf(stderr,
			"ecnode: --rpc-buffer-total %u is under --rpc-line-max %u + 65536: one "
			"connection's request could not be held\n",
			c->rpc_buffer_total, c->rpc_line_max);
		return -1;
	}
	if (c->peer_dead_ms && c->peer_dead_ms < 2ull * c->hello_ms) {
		fprintf(stderr,
			"ecnode: --peer-dead-after %llu is under 2 x --hello-interval %u: "
			"quiet peers would be declared dead between greetings\n",
			(unsigned long long)c->peer_dead_ms, c->hello_ms);
		return -1;
	}
	return 0;
}

/* ---- addresses ------------------------------------------------------------ */

int ecn_addr_parse(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	return ecn_addr_parse_family(s, AF_UNSPEC, out, len);
}

int ecn_addr_parse_family(const char *s, int family, struct sockaddr_storage *out,
			  socklen_t *len)
{
	char host[128];
	const char *port;
	char *end;
	unsigned long p;
	memset(out, 0, sizeof *out);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
		port = rb + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		port = colon + 1;
	}
	p = strtoul(port, &end, 10);
	if (!*port || *end || p > 65535)
		return -1;
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof *a6;
		return 0;
	}
	/* a host name: the resolver's first address, of `family` when it
	 * has one */
	if (!host[0])
		return -1;
	{
		struct addrinfo hints, *res = NULL;
		int ok = 0;
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_DGRAM;
		if (getaddrinfo(host, NULL, &hints, &res) != 0)
			return -1;
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
			if (ai->ai_family == family)
				break;
			else if (!ai->ai_next)
				family = AF_UNSPEC; /* none of that family: the first */
		for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
			if (family != AF_UNSPEC && ai->ai_family != family)
				continue;
			if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof *a4) {
				memcpy(a4, ai->ai_addr, sizeof *a4);
				a4->sin_port = htons((uint16_t)p);
				*len = sizeof *a4;
				ok = 1;
			} else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof *a6) {
				memcpy(a6, ai->ai_addr, sizeof *a6);
				a6->sin6_port = htons((uint16_t)p);
				*len = sizeof *a6;
				ok = 1;
			}
		}
		freeaddrinfo(res);
		return ok ? 0 : -1;
	}
}

void ecn_addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char h[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
		snprintf(out, cap, "%s:%u", h, ntohs(a->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
		snprintf(out, cap, "[%s]:%u", h, ntohs(a->sin6_port));
	} else {
		snprintf(out, cap, "?");
	}
}

uint8_t ecn_addr_pack(const struct sockaddr *sa, uint8_t out[EC_ADDR_MAX])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		memcpy(out, &a->sin_addr, 4);
		memcpy(out + 4, &a->sin_port, 2);
		return 6;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		memcpy(out, &a->sin6_addr, 16);
		memcpy(out + 16, &a->sin6_port, 2);
		return 18;
	}
	return 0;
}

int ecn_addr_unpack(const uint8_t *p, uint8_t len, struct sockaddr_storage *out,
		    socklen_t *olen)
{
	memset(out, 0, sizeof *out);
	if (len == 6) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, p, 4);
		memcpy(&a->sin_port, p + 4, 2);
		*olen = sizeof *a;
		return 0;
	}
	if (len == 18) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, p, 16);
		memcpy(&a->sin6_port, p + 16, 2);
		*olen = sizeof *a;
		return 0;
	}
	return -1;
}
