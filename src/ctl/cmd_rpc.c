/* cmd_rpc.c - ecctl's online commands: JSON-RPC 2.0 calls to a running
 * ecnode over its Unix socket (--rpc PATH, or $ECCTL_RPC, or
 * ecnode-data/ecnode.sock), one per method, human output by default and
 * the raw result with --json.  Exit 0 on a result, 1 on a JSON-RPC error
 * (the node refused), 2 on usage or connection errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/ec.h"
#include "ec/wire.h"

const char *ctl_cmd = "ecctl";

/* the socket named by --data or --config, when one was given */
static char opt_sock[600];

/* The control socket a ecnode configuration file names: its 'rpc' key,
 * else DATA/ecnode.sock for its 'data' key, else the daemon's default
 * data directory.  0 with out filled, -1 when the file cannot be read. */
static int sock_from_config(const char *path, char *out, size_t cap)
{
	char line[1024], rpc[600] = "", data[512] = "ecnode-data";
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *k = line, *v, *e, *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		if (!(v = strchr(line, '=')))
			continue;
		*v++ = 0;
		k += strspn(k, " \t");
		for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			*--e = 0;
		v += strspn(v, " \t");
		for (e = v + strlen(v);
		     e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r');)
			*--e = 0;
		if (!strcmp(k, "rpc"))
			snprintf(rpc, sizeof rpc, "%s", v);
		else if (!strcmp(k, "data"))
			snprintf(data, sizeof data, "%s", v);
	}
	fclose(f);
	if (rpc[0])
		snprintf(out, cap, "%s", rpc);
	else
		snprintf(out, cap, "%s/ecnode.sock", data);
	return 0;
}

int ctl_rpc_opt(const char *opt, const char *val)
{
	if (!strcmp(opt, "--data")) {
		snprintf(opt_sock, sizeof opt_sock, "%s/ecnode.sock", val);
		return 1;
	}
	if (!strcmp(opt, "--config")) {
		if (sock_from_config(val, opt_sock, sizeof opt_sock) != 0) {
			fprintf(stderr, "%s: --config %s: %s\n", ctl_cmd, val, strerror(errno));
			return -1;
		}
		return 1;
	}
	return 0;
}

const char *ctl_rpc_path(const char *given)
{
	static char found[600];
	const char *e = getenv("ECCTL_RPC");
	struct stat st;
	if (given)
		return given;
	if (opt_sock[0])
		return opt_sock;
	if (e && *e)
		return e;
	/* a node run from here, then the system's (ecnode.service) */
	if (stat(CTL_LOCAL_SOCK, &st) == 0)
		return CTL_LOCAL_SOCK;
	if (sock_from_config(CTL_SYSTEM_CONF, found, sizeof found) == 0 && stat(found, &st) == 0)
		return found;
	if (stat(CTL_SYSTEM_SOCK, &st) == 0)
		return CTL_SYSTEM_SOCK;
	return CTL_LOCAL_SOCK;
}

int ctl_rpc_call_err(const char *path, const char *method, json_t *params, json_t **result,
		     json_t **error)
{
	struct sockaddr_un sa;
	int fd;
	char *req, *buf = NULL;
	size_t len = 0, cap = 0;
	json_t *msg, *err;
	json_error_t je;
	*result = NULL;
	if (error)
		*error = NULL;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "%s: socket path too long: %s\n", ctl_cmd, path);
		json_decref(params);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) { /* never wait forever for a stuck node */
		struct timeval tv = {.tv_sec = 60};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "%s: cannot reach ecnode at %s: %s%s\n", ctl_cmd, path,
			strerror(errno),
			errno == ENOENT ? " (is it running? --rpc PATH, --data DIR or --config FILE "
					  "name another node)"
					: "");
		if (fd >= 0)
			close(fd);
		json_decref(params);
		return 2;
	}
	msg = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
			"params", params ? params : json_object());
	req = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	size_t rl = strlen(req);
	req = realloc(req, rl + 2);
	req[rl++] = '\n';
	for (size_t off = 0; off < rl;) {
		ssize_t w = write(fd, req + off, rl - off);
		if (w <= 0) {
			fprintf(stderr, "ecctl: write: %s\n", strerror(errno));
			free(req);
			close(fd);
			return 2;
		}
		off += (size_t)w;
	}
	free(req);
	for (;;) {
		ssize_t r;
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
		}
		r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	msg = buf ? json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &je) : NULL;
	free(buf);
	if (!msg) {
		fprintf(stderr, "%s: no valid answer from ecnode\n", ctl_cmd);
		return 2;
	}
	if ((err = json_object_get(msg, "error"))) {
		json_t *m = json_object_get(err, "message");
		if (error)
			*error = json_incref(err);
		else
			fprintf(stderr, "%s: error %lld: %s\n", ctl_cmd,
				(long long)json_integer_value(json_object_get(err, "code")),
				json_is_string(m) ? json_string_value(m) : "?");
		json_decref(msg);
		return 1;
	}
	*result = json_incref(json_object_get(msg, "result"));
	json_decref(msg);
	return *result ? 0 : 2;
}

int ctl_rpc_call(const char *path, const char *method, json_t *params, json_t **result)
{
	return ctl_rpc_call_err(path, method, params, result, NULL);
}

int ctl_mapping(const char *rpc, const char *token, const char *peer, int quiet,
		json_t **res)
{
	json_t *p = json_pack("{s:s}", "token", token), *ask;
	const char *answer;
	int r;
	if (peer)
		json_object_set_new(p, "peer", json_string(peer));
	if ((r = ctl_rpc_call(rpc, "get_mapping", json_incref(p), res)) != 0) {
		json_decref(p);
		return r;
	}
	/* a referral from our node: ask the first peer it names (over UDP,
	 * through our node), once */
	answer = json_string_value(json_object_get(*res, "answer"));
	ask = json_object_get(*res, "ask");
	if (!peer && answer && !strcmp(answer, "referral") && json_array_size(ask) > 0) {
		json_t *res2;
		json_object_set(p, "peer", json_array_get(ask, 0));
		if (!quiet)
			printf("referred to %s\n", json_string_value(json_object_get(p, "peer")));
		if (ctl_rpc_call(rpc, "get_mapping", json_incref(p), &res2) == 0) {
			json_decref(*res);
			*res = res2;
		}
	}
	json_decref(p);
	return 0;
}

/* "not_owner" -> "not owner" */
static void reason_words(char *out, size_t cap, const char *reason)
{
	snprintf(out, cap, "%s", reason ? reason : "unknown reason");
	for (char *q = out; *q; q++)
		if (*q == '_')
			*q = ' ';
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The end of a wait: one line (or the JSON object) and the exit status. */
static int wait_outcome(const char *txid, const char *outcome, json_t *tx, double waited,
			int json)
{
	const char *reason = json_string_value(json_object_get(tx, "reason"));
	const char *detail = json_string_value(json_object_get(tx, "detail"));
	const char *state = json_string_value(json_object_get(tx, "state"));
	int rc = !strcmp(outcome, "committed") ? 0 : !strcmp(outcome, "rejected") ? 1 : 3;
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:f}", "txid", txid, "outcome", outcome,
				      "state", state ? state : "unknown", "waited_s", waited);
		if (reason)
			json_object_set_new(o, "reason", json_string(reason));
		if (detail)
			json_object_set_new(o, "detail", json_string(detail));
		if (json_object_get(tx, "block"))
			json_object_set(o, "block", json_object_get(tx, "block"));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else if (rc == 0) {
		printf("committed: %s in block %s\n", txid,
		       json_string_value(json_object_get(tx, "block")));
	} else if (rc == 1) {
		char w[64];
		reason_words(w, sizeof w, reason);
		printf("rejected: %s: %s (%s)\n", txid, w, detail ? detail : "");
	} else {
		printf("timed out after %.0f s: %s is still %s\n", waited, txid,
		       state ? state : "unknown here");
	}
	return rc;
}

int ctl_tx_wait(const char *rpc, const char *txid, double seconds, int json)
{
	struct timespec t0;
	json_t *last = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_t *res = NULL, *err = NULL;
		int r = ctl_rpc_call_err(rpc, "get_tx", json_pack("{s:s}", "txid", txid), &res,
					 &err);
		const char *state;
		if (r == 2) {
			json_decref(last);
			return 2;
		}
		if (r == 1) { /* not known (yet, or any more): keep asking */
			json_decref(err);
		} else {
			json_decref(last);
			last = res;
			state = json_string_value(json_object_get(res, "state"));
			if (state && (!strcmp(state, "committed") || !strcmp(state, "rejected"))) {
				r = wait_outcome(txid, state, res, elapsed_s(&t0), json);
				json_decref(res);
				return r;
			}
		}
		if (elapsed_s(&t0) >= seconds) {
			r = wait_outcome(txid, "timeout", last, elapsed_s(&t0), json);
			json_decref(last);
			return r;
		}
		usleep(200000);
	}
}

int ctl_submit_wait(const char *rpc, const char *hex, const char *txid, double wait_s, int json,
		    json_t **result)
{
	json_t *err = NULL, *data;
	int r = ctl_rpc_call_err(rpc, "submit_tx", json_pack("{s:s}", "tx", hex), result, &err);
	const char *m;
	if (r != 1) {
		if (r == 0 && wait_s > 0) {
			json_decref(*result);
			*result = NULL;
			return ctl_tx_wait(rpc, txid, wait_s, json);
		}
		return r;
	}
	data = json_object_get(err, "data");
	m = json_string_value(json_object_get(err, "message"));
	if (json_is_string(json_object_get(data, "reason"))) {
		/* refused at once, with the reason */
		json_t *tx = json_pack("{s:s, s:O, s:O}", "state", "rejected", "reason",
				       json_object_get(data, "reason"), "detail",
				       json_object_get(data, "detail"));
		if (!json)
			fprintf(stderr, "%s: error %lld: %s\n", ctl_cmd,
				(long long)json_integer_value(json_object_get(err, "code")),
				m ? m : "?");
		r = wait_outcome(txid, "rejected", tx, 0, json);
		json_decref(tx);
	} else if (wait_s > 0 && m && strstr(m, "EC_ERR_EXISTS")) {
		/* submitted before: its fate is what we wait for */
		r = ctl_tx_wait(rpc, txid, wait_s, json);
	} else {
		fprintf(stderr, "%s: error %lld: %s\n", ctl_cmd,
			(long long)json_integer_value(json_object_get(err, "code")), m ? m : "?");
	}
	json_decref(err);
	return r;
}

double ctl_wait_arg(int argc, char **argv, int *i, double dflt)
{
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	size_t n = v ? strlen(v) : 0;
	char *end;
	double x;
	if (!v || n == 0 || n > 10 || strspn(v, "0123456789.") != n)
		return dflt; /* no number follows: the default */
	(*i)++;
	x = strtod(v, &end);
	return *end || !(x > 0) ? -1 : x;
}

/* Fields holding wall-clock times (epoch ms): shown as ISO 8601 UTC. */
static int is_time_key(const char *path)
{
	const char *k = strrchr(path, '.');
	size_t n;
	k = k ? k + 1 : path;
	n = strlen(k);
	return !strcmp(k, "timestamp") || !strcmp(k, "started") ||
	       (n > 3 && !strcmp(k + n - 3, "_at"));
}

void ctl_iso_time(char *out, size_t cap, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[32];
	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(out, cap, "%s", ms == 0 ? "never" : "?");
		return;
	}
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03lldZ", b, ms % 1000);
}

/* key: value lines, nested objects with dotted prefixes, arrays listed;
 * times as ISO 8601. */
static void human(const char *prefix, json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			char p[256];
			snprintf(p, sizeof p, "%s%s%s", prefix, *prefix ? "." : "", k);
			if (json_is_object(x) || (json_is_array(x) && json_array_size(x) &&
						  json_is_object(json_array_get(x, 0))))
				human(p, x, depth + 1);
			else
				human(p, x, depth);
		}
		return;
	}
	if (json_is_array(v)) {
		if (json_array_size(v) && json_is_object(json_array_get(v, 0))) {
			json_array_foreach(v, i, x)
			{
				char p[256];
				snprintf(p, sizeof p, "%s[%zu]", prefix, i);
				human(p, x, depth);
			}
			return;
		}
		printf("%-28s", prefix);
		if (!json_array_size(v))
			printf(" (none)");
		json_array_foreach(v, i, x)
		{
			char *s = json_dumps(x, JSON_ENCODE_ANY);
			printf("%s%s", i ? "\n                             " : " ",
			       json_is_string(x) ? json_string_value(x) : s);
			free(s);
		}
		printf("\n");
		return;
	}
	if (json_is_string(v))
		printf("%-28s %s\n", prefix, json_string_value(v));
	else if (json_is_integer(v) && is_time_key(prefix)) {
		char t[48];
		ctl_iso_time(t, sizeof t, (long long)json_integer_value(v));
		printf("%-28s %s\n", prefix, t);
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		printf("%-28s %s\n", prefix, s);
		free(s);
	}
}

int ctl_rpc_print(json_t *res, int json)
{
	if (json) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		human("", res, 0);
	}
	json_decref(res);
	return 0;
}

static void online_usage(const char *cmd)
{
	printf("usage: ecctl %s [--rpc PATH | --data DIR | --config FILE] [--json] ...\n"
	       "Online commands talk JSON-RPC 2.0 to ecnode's control socket: --rpc PATH,\n"
	       "or DIR/ecnode.sock of --data DIR, or the one --config FILE (ecnode's\n"
	       "configuration) names, or $ECCTL_RPC; else the first that exists of\n"
	       "" CTL_LOCAL_SOCK ", the one " CTL_SYSTEM_CONF " names and\n"
	       "" CTL_SYSTEM_SOCK ".  PEER ids may be shortened to a unique prefix\n"
	       "(4+ hex digits, as 'ecctl peers' and 'ecctl swap status' print them)\n"
	       "in walk, mapping --peer, block --creator, block fetch --peer and swap\n"
	       "force.  Human output shows times as ISO 8601 UTC; --json keeps epoch ms.\n"
	       "  status                        identity, contact, head, counters\n"
	       "  peers                         transport peers and their addresses\n"
	       "  submit HEX|--file F [--wait [S]]  submit an encoded transaction; --wait:\n"
	       "                                until committed (exit 0) or rejected (1,\n"
	       "                                with the node's reason), at most S seconds\n"
	       "                                (120; then exit 3)\n"
	       "  mapping TOKEN [--peer ID]     signed mapping (ours, or a peer's over UDP)\n"
	       "  tx TXID [--wait [S]]          a transaction: state (pending, decided,\n"
	       "                                committed, rejected + reason), block,\n"
	       "                                confirmations; --wait as for submit\n"
	       "  block ID | --height H [--creator ID]   a stored block\n"
	       "  block fetch ID --peer P       fetch a block from peer P over UDP; lists\n"
	       "                                the endorsements collected for it\n"
	       "  walk [PEER] [--remote]        walk and verify a chain (store, or the\n"
	       "                                peer itself over UDP with --remote)\n"
	       "  sync [--start chain|poll] [--watch [--timeout S]]  sync status/progress\n"
	       "  swap status|pause|resume      peer swapping: schedule, scores, swaps in\n"
	       "  swap force [OUT] [--in IN]    flight; pause/resume; force a swap now;\n"
	       "  swap static on|off            operator's emergency static mode\n"
	       "  stop                          stop the node after the current batch\n",
	       cmd);
}

/* Generic option scan: --rpc, --json, --help; the rest in rest[]. */
static int scan(int argc, char **argv, const char **rpc, int *json, char **rest, int *nrest)
{
	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		int o;
		if (!strcmp(argv[i], "--rpc") && i + 1 < argc)
			*rpc = argv[++i];
		else if (i + 1 < argc && (o = ctl_rpc_opt(argv[i], argv[i + 1])) != 0) {
			if (o < 0)
				return -1;
			i++;
		} else if (!strcmp(argv[i], "--json"))
			*json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			online_usage(argv[0]);
			return 1;
		} else
			rest[(*nrest)++] = argv[i];
	}
	return 0;
}

static int is_hex_id(const char *s)
{
	uint8_t b[32];
	return s && strlen(s) == 64 && ec_hex_decode(b, 32, s) == EC_OK;
}

int ctl_is_id_prefix(const char *s)
{
	size_t n = s ? strspn(s, "0123456789abcdefABCDEF") : 0;
	return n >= 4 && n <= 64 && (!s[n] || !strcmp(s + n, "..") || !strcmp(s + n, "..."));
}

/* Adds the peer ids of `list` (objects with key) to ids[] (65 bytes each). */
static size_t ids_from(json_t *list, const char *key, char (*ids)[65], size_t n, size_t cap)
{
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
	{
		const char *id = json_string_value(json_object_get(x, key));
		if (n < cap && id && strlen(id) == 64)
			memcpy(ids[n++], id, 65);
	}
	return n;
}

int ctl_peer_expand(const char *rpc, const char *s, char out[65])
{
	char (*ids)[65];
	size_t n = 0, cap = 4096, len, hits = 0;
	json_t *res;
	int r;
	if (is_hex_id(s)) {
		memcpy(out, s, 65);
		return 0;
	}
	len = strspn(s, "0123456789abcdefABCDEF");
	if (!ctl_is_id_prefix(s)) {
		fprintf(stderr, "%s: '%s' is not a peer id (64 hex digits, or a unique prefix of 4+)\n",
			ctl_cmd, s);
		return 2;
	}
	if (!(ids = calloc(cap, sizeof *ids)))
		return 2;
	/* the node itself and every peer it knows */
	if ((r = ctl_rpc_call(rpc, "status", NULL, &res)) != 0) {
		free(ids);
		return r;
	}
	{
		json_t *one = json_pack("[{s:O}]", "peer_id", json_object_get(res, "peer_id"));
		n = ids_from(one, "peer_id", ids, n, cap);
		json_decref(one);
	}
	json_decref(res);
	if ((r = ctl_rpc_call(rpc, "peers", NULL, &res)) != 0) {
		free(ids);
		return r;
	}
	n = ids_from(res, "peer_id", ids, n, cap);
	json_decref(res);
	/* the matches, each once, moved to the front */
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (strncasecmp(ids[i], s, len) != 0)
			continue;
		for (size_t j = 0; j < hits; j++)
			dup |= !strcmp(ids[j], ids[i]);
		if (!dup)
			memmove(ids[hits++], ids[i], 65);
	}
	if (hits == 1) {
		memcpy(out, ids[0], 65);
	} else if (hits == 0) {
		fprintf(stderr, "%s: no peer of this node has an id starting with '%.*s'\n", ctl_cmd,
			(int)len, s);
	} else {
		fprintf(stderr, "%s: peer id prefix '%.*s' is ambiguous; %zu peers match:\n",
			ctl_cmd, (int)len, s, hits);
		for (size_t j = 0; j < hits; j++)
			fprintf(stderr, "  %s\n", ids[j]);
	}
	free(ids);
	return hits == 1 ? 0 : 2;
}

/* 'ecctl peers': one line a peer. */
static int peers_print(json_t *res)
{
	size_t i;
	json_t *p;
	if (!json_array_size(res))
		printf("no peers\n");
	else
		printf("%-18s %-22s %-6s %-5s %-9s %8s %8s %s\n", "PEER", "ADDRESS", "STATE",
		       "BOUND", "BOOTSTRAP", "RX", "TX", "LAST HEARD");
	json_array_foreach(res, i, p)
	{
		const char *id = json_string_value(json_object_get(p, "peer_id"));
		const char *addr = json_string_value(json_object_get(p, "addr"));
		const char *state = json_string_value(json_object_get(p, "state"));
		json_t *ago = json_object_get(p, "last_rx_ms_ago");
		char heard[32];
		if (json_is_integer(ago))
			snprintf(heard, sizeof heard, "%.1f s ago",
				 (double)json_integer_value(ago) / 1000);
		else
			snprintf(heard, sizeof heard, "never");
		printf("%.16s.. %-22s %-6s %-5s %-9s %8lld %8lld %s\n", id ? id : "?",
		       addr ? addr : "-", state ? state : "?",
		       json_is_true(json_object_get(p, "bound")) ? "yes" : "no",
		       json_is_true(json_object_get(p, "bootstrap")) ? "yes" : "no",
		       (long long)json_integer_value(json_object_get(p, "datagrams_rx")),
		       (long long)json_integer_value(json_object_get(p, "datagrams_tx")), heard);
	}
	json_decref(res);
	return 0;
}

/* The progress bar goes to stderr (the report, to stdout, can be piped). */
static void draw_bar(double p, const char *phase, json_t *res)
{
	int w = 40, k = (int)(p * w + 0.5);
	if (k > w)
		k = w;
	if (k < 0)
		k = 0;
	fprintf(stderr, "\r[");
	for (int i = 0; i < w; i++)
		fputc(i < k ? '#' : '.', stderr);
	fprintf(stderr, "] %5.1f%% %-10s blocks %lld/%lld txs %lld ", p * 100, phase,
		(long long)json_integer_value(json_object_get(res, "blocks_verified")),
		(long long)json_integer_value(json_object_get(res, "blocks_target")),
		(long long)json_integer_value(json_object_get(res, "txs_held")));
	fflush(stderr);
}

static int sync_watch(const char *rpc, int json, double timeout_s)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_t *res;
		int r = ctl_rpc_call(rpc, "sync_status", NULL, &res);
		if (r)
			return r;
		const char *phase = json_string_value(json_object_get(res, "phase"));
		int avail = json_is_true(json_object_get(res, "available"));
		double p = json_real_value(json_object_get(res, "progress"));
		const char *strategy = json_string_value(json_object_get(res, "strategy"));
		if (avail && strategy && !strcmp(strategy, "off") && phase &&
		    !strcmp(phase, "idle")) {
			fprintf(stderr,
				"%s: sync is off on this node: nothing to watch (start it with "
				"'ecctl sync --start chain --watch', or run ecnode with --sync chain)\n",
				ctl_cmd);
			json_decref(res);
			return 1;
		}
		draw_bar(p, phase ? phase : "?", res);
		clock_gettime(CLOCK_MONOTONIC, &t);
		double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
		if (!avail || (phase && !strcmp(phase, "caught_up")) || el > timeout_s) {
			fprintf(stderr, "\n");
			if (!avail)
				fprintf(stderr, "sync not available: %s\n",
					json_string_value(json_object_get(res, "error")));
			else if (el > timeout_s && !(phase && !strcmp(phase, "caught_up")))
				fprintf(stderr, "timeout after %.0f s (still %s)\n", el,
					phase ? phase : "?");
			return ctl_rpc_print(res, json);
		}
		json_decref(res);
		usleep(250000);
	}
}

/* ecctl block fetch, human form: the outcome, then one endorser a line. */
static int fetch_print(json_t *res)
{
	json_t *e = json_object_get(res, "endorsements"), *x;
	const char *oc = json_string_value(json_object_get(res, "outcome"));
	size_t i;
	printf("block      %s\n", json_string_value(json_object_get(res, "id")));
	printf("from       %s\n", json_string_value(json_object_get(res, "peer")));
	printf("outcome    %s\n", oc ? oc : "?");
	printf("stored     %s\n", json_is_true(json_object_get(res, "stored")) ? "yes (new here)"
									       : "no");
	printf("held       %s", json_is_true(json_object_get(res, "held")) ? "yes" : "no");
	if (json_is_integer(json_object_get(res, "height")))
		printf(" (height %lld)",
		       (long long)json_integer_value(json_object_get(res, "height")));
	printf("\nendorsements %lld\n", (long long)json_integer_value(json_object_get(res, "n")));
	json_array_foreach(e, i, x)
	{
		printf("  %s\n", json_string_value(json_object_get(x, "peer")));
	}
	json_decref(res);
	return 0;
}

int ctl_cmd_online(int argc, char **argv)
{
	const char *rpc = NULL;
	int json = 0, nrest, r;
	char *rest[64];
	json_t *params = json_object(), *res = NULL;
	const char *cmd = argv[0], *method = NULL;
	char full[65];
	if (argc > 64) {
		json_decref(params);
		return 2;
	}
	if ((r = scan(argc, argv, &rpc, &json, rest, &nrest)) != 0) {
		json_decref(params);
		return r > 0 ? 0 : 2;
	}
	rpc = ctl_rpc_path(rpc);
#define USAGE(msg)                                                                 \
	do {                                                                       \
		fprintf(stderr, "ecctl %s: %s (see 'ecctl %s --help')\n", cmd, msg, cmd); \
		json_decref(params);                                               \
		return 2;                                                          \
	} while (0)
	if (!strcmp(cmd, "status") || !strcmp(cmd, "peers") || !strcmp(cmd, "stop")) {
		if (nrest)
			USAGE("no arguments expected");
		method = cmd;
		if (!strcmp(cmd, "peers") && !json) {
			json_decref(params);
			if ((r = ctl_rpc_call(rpc, "peers", NULL, &res)) != 0)
				return r;
			return peers_print(res);
		}
	} else if (!strcmp(cmd, "submit")) {
		const char *file = NULL, *txhex = NULL;
		double wait_s = 0;
		unsigned char *b;
		size_t n;
		char *hex, txid[65];
		ec_tx tx;
		for (int i = 0; i < nrest; i++) {
			if (!strcmp(rest[i], "--file") && i + 1 < nrest && !file && !txhex)
				file = rest[++i];
			else if (!strcmp(rest[i], "--wait")) {
				if ((wait_s = ctl_wait_arg(nrest, rest, &i, CTL_WAIT_DEFAULT_S)) < 0)
					USAGE("--wait SECONDS: a positive number");
			} else if (!file && !txhex)
				txhex = rest[i];
			else
				USAGE("one transaction (hex) or --file F [--wait [SECONDS]]");
		}
		if (!file && !txhex)
			USAGE("one transaction (hex) or --file F [--wait [SECONDS]]");
		if (file) {
			if (ctl_read_file(file, &b, &n) != 0) {
				json_decref(params);
				return 2;
			}
			if (ctl_text_tx(&b, &n) != 0) {
				free(b);
				fprintf(stderr, "%s: %s: hex text that is not a transaction\n", ctl_cmd,
					file);
				json_decref(params);
				return 2;
			}
		} else {
			n = strlen(txhex) / 2;
			b = malloc(n ? n : 1);
			if (strlen(txhex) % 2 || ec_hex_decode(b, n, txhex) != EC_OK) {
				free(b);
				USAGE("the transaction is not hex");
			}
		}
		/* the txid, to follow it; the node judges the rest */
		if (ec_tx_decode(&tx, b, n) != EC_OK) {
			free(b);
			fprintf(stderr, "%s: not an encoded transaction\n", ctl_cmd);
			json_decref(params);
			return 1;
		}
		ec_hex_encode(txid, tx.id.b, 32);
		hex = malloc(2 * n + 1);
		ec_hex_encode(hex, b, n);
		free(b);
		json_decref(params);
		r = ctl_submit_wait(rpc, hex, txid, wait_s, json, &res);
		free(hex);
		if (r != 0 || wait_s > 0)
			return r;
		return ctl_rpc_print(res, json);
	} else if (!strcmp(cmd, "mapping")) {
		const char *tok = NULL, *peer = NULL;
		for (int i = 0; i < nrest; i++) {
			if (!strcmp(rest[i], "--peer") && i + 1 < nrest && ctl_is_id_prefix(rest[i + 1]))
				peer = rest[++i];
			else if (is_hex_id(rest[i]) && !tok)
				tok = rest[i];
			else
				USAGE("TOKEN (64 hex) [--peer ID]");
		}
		if (!tok)
			USAGE("TOKEN required");
		json_decref(params);
		if (peer && (r = ctl_peer_expand(rpc, peer, full)) != 0)
			return r;
		if (peer)
			peer = full;
		if ((r = ctl_mapping(rpc, tok, peer, json, &res)) != 0)
			return r;
		return ctl_rpc_print(res, json);
	} else if (!strcmp(cmd, "tx")) {
		const char *txid = NULL;
		double wait_s = 0;
		for (int i = 0; i < nrest; i++) {
			if (!strcmp(rest[i], "--wait")) {
				if ((wait_s = ctl_wait_arg(nrest, rest, &i, CTL_WAIT_DEFAULT_S)) < 0)
					USAGE("--wait SECONDS: a positive number");
			} else if (is_hex_id(rest[i]) && !txid) {
				txid = rest[i];
			} else
				USAGE("TXID (64 hex) [--wait [SECONDS]]");
		}
		if (!txid)
			USAGE("TXID (64 hex) required");
		if (wait_s > 0) {
			json_decref(params);
			return ctl_tx_wait(rpc, txid, wait_s, json);
		}
		json_object_set_new(params, "txid", json_string(txid));
		method = "get_tx";
	} else if (!strcmp(cmd, "block") && nrest >= 1 && !strcmp(rest[0], "fetch")) {
		for (int i = 1; i < nrest; i++) {
			if (!strcmp(rest[i], "--peer") && i + 1 < nrest &&
			    ctl_is_id_prefix(rest[i + 1]) && !json_object_get(params, "peer")) {
				if ((r = ctl_peer_expand(rpc, rest[++i], full)) != 0) {
					json_decref(params);
					return r;
				}
				json_object_set_new(params, "peer", json_string(full));
			}
			else if (is_hex_id(rest[i]) && !json_object_get(params, "id"))
				json_object_set_new(params, "id", json_string(rest[i]));
			else
				USAGE("fetch ID (64 hex) --peer P (64 hex or a unique prefix)");
		}
		if (!json_object_get(params, "id") || !json_object_get(params, "peer"))
			USAGE("fetch needs a block ID and --peer P");
		if ((r = ctl_rpc_call(rpc, "fetch_block", params, &res)) != 0)
			return r;
		return json ? ctl_rpc_print(res, 1) : fetch_print(res);
	} else if (!strcmp(cmd, "block")) {
		for (int i = 0; i < nrest; i++) {
			char *end;
			if (!strcmp(rest[i], "--height") && i + 1 < nrest) {
				long long h = strtoll(rest[++i], &end, 10);
				if (*end || h < 0)
					USAGE("bad height");
				json_object_set_new(params, "height", json_integer(h));
			} else if (!strcmp(rest[i], "--creator") && i + 1 < nrest &&
				   ctl_is_id_prefix(rest[i + 1])) {
				if ((r = ctl_peer_expand(rpc, rest[++i], full)) != 0) {
					json_decref(params);
					return r;
				}
				json_object_set_new(params, "creator", json_string(full));
			} else if (is_hex_id(rest[i])) {
				json_object_set_new(params, "id", json_string(rest[i]));
			} else
				USAGE("ID | --height H [--creator ID]");
		}
		method = "get_block";
	} else if (!strcmp(cmd, "walk")) {
		for (int i = 0; i < nrest; i++) {
			if (!strcmp(rest[i], "--remote"))
				json_object_set_new(params, "source", json_string("peer"));
			else if (ctl_is_id_prefix(rest[i]) && !json_object_get(params, "peer")) {
				if ((r = ctl_peer_expand(rpc, rest[i], full)) != 0) {
					json_decref(params);
					return r;
				}
				json_object_set_new(params, "peer", json_string(full));
			} else
				USAGE("[PEER] [--remote]");
		}
		method = "walk_chain";
	} else if (!strcmp(cmd, "swap")) {
		json_decref(params);
		return ctl_swap_online(rpc, json, rest, nrest);
	} else if (!strcmp(cmd, "sync")) {
		int watch = 0;
		double timeout = 600;
		const char *start = NULL;
		for (int i = 0; i < nrest; i++) {
			if (!strcmp(rest[i], "--watch"))
				watch = 1;
			else if (!strcmp(rest[i], "--start") && i + 1 < nrest)
				start = rest[++i];
			else if (!strcmp(rest[i], "--timeout") && i + 1 < nrest)
				timeout = atof(rest[++i]);
			else
				USAGE("[--start chain|poll] [--watch [--timeout S]]");
		}
		json_decref(params);
		if (start) {
			json_t *p2 = json_pack("{s:s}", "strategy", start);
			if ((r = ctl_rpc_call(rpc, "sync_start", p2, &res)) != 0)
				return r;
			json_decref(res);
		}
		if (watch)
			return sync_watch(rpc, json, timeout);
		if ((r = ctl_rpc_call(rpc, "sync_status", NULL, &res)) != 0)
			return r;
		return ctl_rpc_print(res, json);
	} else {
		USAGE("unknown command");
	}
	if ((r = ctl_rpc_call(rpc, method, params, &res)) != 0)
		return r;
	return ctl_rpc_print(res, json);
#undef USAGE
}
