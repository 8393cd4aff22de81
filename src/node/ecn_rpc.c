/* ecn_rpc.c - JSON-RPC 2.0 over a Unix domain socket (mode 0600), one
 * request object per line, one response object per line, in the manner of
 * Core Lightning's lightning-cli.  Methods: status, peers, submit_tx,
 * get_mapping, get_tx, get_block, fetch_block, walk_chain, sync_status,
 * sync_start, stop.  Malformed input gets a JSON-RPC error object, never a crash.
 *
 * The socket's memory is bounded by construction (PROTOCOL 16.1 "Limits"):
 * at most rpc_max_clients connections (a newcomer over the cap closes the
 * longest-idle one), each closed after rpc_idle_ms without a completed
 * request, a request line of at most rpc_line_max bytes, at most
 * rpc_buffer_total bytes of partial input held over all connections (the
 * connection holding the most is closed to make room), and a connection
 * whose unread answers pass RPC_OUT_PAUSE is not read until they drain.
 * Each limit answers with a JSON-RPC error line (-32005) and closes. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ec/chain.h"
#include "ec/crypto.h"
#include "node/ecnode.h"

/* ecn_swap.c: the swap_* methods.  NULL and *code (1 unknown method, 2 bad
 * params, 3 swapping off, 4 not found, 5 refused) + *msg on error. */
json_t *ecn_swap_rpc(ecnode *d, const char *method, json_t *params, int *code,
		     const char **msg);

#define RPC_TIMEOUT_MS 5000
#define WALK_MAX_BLOCKS 200000
#define RPC_READ_CHUNK 65536     /* one read from a connection */
#define RPC_OUT_PAUSE (64u << 10) /* unread answers over this: stop reading */
#define RPC_OUT_RESUME (16u << 10)
#define RPC_BUF_MIN 4096
#define RPC_FD_RESERVE 64         /* descriptors kept for the store, the UDP
				   * socket, the log and libuv */

enum { JE_PARSE = -32700, JE_INVALID = -32600, JE_METHOD = -32601, JE_PARAMS = -32602,
       JE_INTERNAL = -32603, JE_NOTFOUND = -32001, JE_UNAVAILABLE = -32002,
       JE_REJECTED = -32003, JE_TIMEOUT = -32004, JE_LIMIT = -32005 };

typedef struct rpc_client {
	uv_pipe_t pipe;
	ecnode *d;
	char *buf;      /* input not handled yet: a partial line (and, while
			 * paused, the lines after it) */
	size_t len, cap;
	ec_time active; /* connected, or a request or an answer completed */
	int busy;       /* an asynchronous call is running */
	int paused;     /* unread answers over RPC_OUT_PAUSE: not reading */
	int closing;
	struct rpc_client *next;
} rpc_client;
/* An asynchronous call waiting for a peer: a remote mapping query or a
 * chain walk (mapping query for the head, then range requests). */
typedef struct rpc_pending {
	int used;
	rpc_client *c;
	json_t *id;
	int kind; /* 1 mapping, 2 walk, 3 block fetch */
	uint8_t nonce[EC_NONCE_BYTES];
	uint8_t kx[32];  /* the peer asked */
	ec_id peer;
	ec_time deadline;
	/* walk */
	ec_id head;
	uint64_t height;
	ec_block *blocks; /* newest first while collecting */
	size_t n_blocks, cap_blocks;
	uint64_t proofs_ok, proofs_bad, bytes, requests;
	/* block fetch: the core's counters when it was sent (ec_node_stats) */
	uint64_t f_fetched, f_stored, f_refused, f_timeouts, f_invalid;
} rpc_pending;

#define MAX_PENDING 16
struct ecn_rpc {
	uv_pipe_t server;
	uv_timer_t timer;
	uv_timer_t fetch_timer; /* 20 ms polls while a block fetch runs */
	int fetching;           /* a fetch_block call is waiting (one at a time) */
	rpc_client *clients;
	rpc_pending pend[MAX_PENDING];
	size_t n_clients;
	size_t in_total;     /* bytes of client input buffers (their capacity) */
	size_t fd_clients;   /* connections the open-file limit leaves room for */
	uint64_t accepted, closed_idle, closed_clients, closed_line, closed_buffers,
		paused;
};

/* ---- helpers ---------------------------------------------------------------- */

static json_t *hexj(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64)
		n = 64;
	ec_hex_encode(buf, p, n);
	return json_string(buf);
}

static json_t *idj(const ec_id *id)
{
	return hexj(id->b, 32);
}

static int get_id(json_t *params, const char *key, ec_id *out)
{
	json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && strlen(s) == 64 && ec_hex_decode(out->b, 32, s) == EC_OK ? 0 : -1;
}

static void client_closed(uv_handle_t *h)
{
	rpc_client *c = h->data;
	free(c);
}

static void client_buf_free(rpc_client *c)
{
	c->d->rpc->in_total -= c->cap;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void client_close(rpc_client *c)
{
	struct ecn_rpc *r = c->d->rpc;
	if (c->closing)
		return;
	c->closing = 1;
	for (rpc_client **pp = &r->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	r->n_clients--;
	for (int i = 0; i < MAX_PENDING; i++)
		if (r->pend[i].used && r->pend[i].c == c)
			r->pend[i].c = NULL; /* answered into the void */
	client_buf_free(c); /* the memory goes now, the handle when libuv is done */
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void client_resume(rpc_client *c);

static void after_write(uv_write_t *w, int status)
{
	rpc_client *c = w->handle->data;
	(void)status;
	free(w->data);
	free(w);
	if (c->closing)
		return;
	c->active = ecn_now_ms();
	if (c->paused && c->pipe.write_queue_size <= RPC_OUT_RESUME)
		client_resume(c);
}

static void send_json(rpc_client *c, json_t *o)
{
	char *s;
	size_t n;
	uv_write_t *w;
	uv_buf_t b;
	if (!c || c->closing) {
		json_decref(o);
		return;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return;
	n = strlen(s);
	s = realloc(s, n + 2);
	s[n] = '\n';
	w = malloc(sizeof *w);
	w->data = s;
	b = uv_buf_init(s, (unsigned)(n + 1));
	if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, after_write) < 0) {
		free(s);
		free(w);
	}
}

static void reply_err(rpc_client *c, json_t *id, int code, const char *msg);

static void reply(rpc_client *c, json_t *id, json_t *result)
{
	json_t *o;
	if (!result) { /* a bug of ours (json_pack), never silence */
		reply_err(c, id, JE_INTERNAL, "internal error building the answer");
		return;
	}
	o = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
			      "result", result);
	send_json(c, o);
}

/* An error with a `data` member (taken) when data is not NULL. */
static void reply_err_data(rpc_client *c, json_t *id, int code, const char *msg,
			   json_t *data)
{
	json_t *o = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
			      id ? id : json_null(), "error", "code", code, "message", msg);
	if (o && data)
		json_object_set(json_object_get(o, "error"), "data", data);
	json_decref(data);
	c->d->st.rpc_errors++;
	send_json(c, o);
}

static void reply_err(rpc_client *c, json_t *id, int code, const char *msg)
{
	reply_err_data(c, id, code, msg, NULL);
}

/* ---- status, peers ---------------------------------------------------------- */

static const char *sync_error(const ecnode *d)
{
	if (d->sync_started >= 0)
		return "";
	return d->sync_err == EC_ERR_NOTFOUND ? "no sync engine in this build"
					      : ec_strerror(d->sync_err);
}

static const char *phase_name(uint8_t ph)
{
	static const char *n[] = {"idle", "discover", "traverse", "caught_up", "polling"};
	return ph < 5 ? n[ph] : "?";
}

static const char *strategy_name(int s)
{
	return s == EC_SYNC_CHAIN ? "chain" : s == EC_SYNC_POLL ? "poll" : "off";
}

/* The datagram budget, fragment and dead-peer counters (PROTOCOL 16
 * "Fragments", "Dead peers"), and hellos dropped before their identity
 * proof (PROTOCOL "Peers"), added to status. */
static void status_frag(ecnode *d, json_t *res)
{
	json_t *t = json_object_get(res, "transport"), *node = json_object_get(res, "node");
	ec_reasm_stats rs;
	ec_reasm_get_stats(d->reasm, &rs);
	json_object_set_new(res, "dead_peers", json_integer((json_int_t)ecn_peers_dead_count(d)));
	if (node)
		json_object_set_new(node, "hellos_limited",
				    json_integer((json_int_t)ec_node_stats_get(d->node)->hellos_limited));
	if (!t)
		return;
#define SETI(k, v) json_object_set_new(t, k, json_integer((json_int_t)(v)))
	SETI("datagram_max", d->cfg.dgram_max);
	SETI("message_max", d->cfg.msg_max);
	SETI("max_datagram_tx", d->st.max_dgram_tx);
	SETI("send_errors", d->st.send_errors);
	SETI("send_emsgsize", d->st.send_emsgsize);
	SETI("frag_msgs_tx", d->st.frag_msgs_tx);
	SETI("frag_dgrams_tx", d->st.frag_dgrams_tx);
	SETI("frag_dgrams_rx", d->st.frag_dgrams_rx);
	SETI("frag_msgs_rx", rs.completed);
	SETI("frag_duplicate", rs.duplicate);
	SETI("frag_inconsistent", rs.inconsistent);
	SETI("frag_malformed", rs.malformed);
	SETI("frag_timed_out", rs.timed_out);
	SETI("frag_evicted", rs.evicted);
	SETI("frag_held_msgs", rs.held_msgs);
	SETI("frag_held_bytes", rs.held_bytes);
	SETI("peers_died", d->st.peers_died);
	SETI("peers_revived", d->st.peers_revived);
#undef SETI
	ecn_net_status(d, t);
}

static void status_rpc(ecnode *d, json_t *res); /* with the limits, below */

static json_t *m_status(ecnode *d)
{
	const ec_node_stats *ns = ec_node_stats_get(d->node);
	ec_id head;
	uint64_t height = 0;
	char contact[256], kx[65];
	int has = ec_node_head(d->node, &head, &height) == EC_OK;
	size_t bound = 0;
	ec_sync_status ss;
	json_t *res;
	for (size_t i = 0; i < d->n_peers; i++)
		bound += d->peers[i].bound;
	ec_hex_encode(kx, d->kx.pk, 32);
	snprintf(contact, sizeof contact, "%s@%s", kx, d->listen_str);
	memset(&ss, 0, sizeof ss);
	(void)ec_node_sync_status(d->node, &ss, NULL, 0);
	res = json_pack(
		"{s:o, s:o, s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, "
		"s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
		"s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
		"s:{s:s, s:s, s:b, s:s}}",
		"peer_id", idj(&d->ident.peer_id), "kx_pk", hexj(d->kx.pk, 32), "contact",
		contact, "listen", d->listen_str, "network", (json_int_t)d->ident.network_id,
		"uptime_ms", (json_int_t)(ecn_now_ms() - d->started), "head",
		has ? idj(&head) : json_null(), "height", (json_int_t)(has ? (int64_t)height : -1),
		"peers", (json_int_t)ec_node_peer_count(d->node), "transport_peers",
		(json_int_t)d->n_peers, "bound_peers", (json_int_t)bound,
		"transport", "datagrams_rx", (json_int_t)d->st.dgrams_rx, "datagrams_tx",
		(json_int_t)d->st.dgrams_tx, "bytes_rx", (json_int_t)d->st.bytes_rx, "bytes_tx",
		(json_int_t)d->st.bytes_tx, "dropped_malformed", (json_int_t)d->st.drop_malformed,
		"dropped_auth", (json_int_t)d->st.drop_auth, "dropped_replayed",
		(json_int_t)d->st.drop_replayed, "dropped_stale", (json_int_t)d->st.drop_stale,
		"dropped_bad_key", (json_int_t)d->st.drop_bad_key, "dropped_kx_limited",
		(json_int_t)d->st.drop_kx_limited, "dropped_hello_kx",
		(json_int_t)d->st.drop_hello_kx, "dropped_oversize",
		(json_int_t)d->st.drop_oversize, "dropped_no_route",
		(json_int_t)d->st.drop_no_route, "introductions", (json_int_t)d->st.introductions,
		"node", "txs_committed", (json_int_t)ns->txs_committed, "txs_decided",
		(json_int_t)ns->txs_decided, "blocks_sealed", (json_int_t)ns->blocks_sealed,
		"votes_accepted", (json_int_t)ns->votes_accepted, "queries_served",
		(json_int_t)ns->queries_served, "queries_refused", (json_int_t)ns->queries_refused,
		"queries_referred", (json_int_t)ns->queries_referred, "dropped_malformed",
		(json_int_t)ns->dropped_malformed, "dropped_bad_sig",
		(json_int_t)ns->dropped_bad_sig, "dropped_unsolicited",
		(json_int_t)ns->dropped_unsolicited, "dropped_replayed",
		(json_int_t)ns->dropped_replayed, "dropped_invalid",
		(json_int_t)ns->dropped_invalid, "peers_added", (json_int_t)ns->peers_added,
		"sync", "strategy", strategy_name(d->cfg.sync), "phase", phase_name(ss.phase),
		"available", d->sync_started >= 0, "error", sync_error(d));
	if (res) {
		ec_node_store_state sf;
		status_frag(d, res);
		status_rpc(d, res);
		ec_node_store_state_get(d->node, &sf);
		json_object_set_new(
			res, "store",
			json_pack("{s:b, s:I, s:I, s:I, s:I}", "writes_paused", sf.paused,
				  "paused_ms", (json_int_t)(sf.paused ? ecn_now_ms() - sf.since : 0),
				  "retries", (json_int_t)sf.retries, "full_pauses",
				  (json_int_t)ns->store_full_pauses, "waiting_height",
				  (json_int_t)(sf.paused ? (int64_t)sf.height : -1)));
	}
	return res;
}

static json_t *m_peers(ecnode *d)
{
	json_t *a = json_array();
	ec_time now = ecn_now_ms();
	for (size_t i = 0; i < d->n_peers; i++) {
		const ecn_peer *p = &d->peers[i];
		char addr[128] = "";
		if (p->has_addr)
			ecn_addr_str((const struct sockaddr *)&p->addr, addr, sizeof addr);
		json_array_append_new(
			a, json_pack("{s:o, s:o, s:s, s:b, s:b, s:s, s:I, s:I, s:I, s:I}",
				     "peer_id", p->bound ? idj(&p->id) : json_null(), "kx_pk",
				     hexj(p->kx, 32), "addr", addr, "bound", p->bound,
				     "bootstrap", p->bootstrap, "state",
				     !p->bound ? "unbound" : p->dead ? "dead" : "alive",
				     "datagrams_rx", (json_int_t)p->rx, "datagrams_tx",
				     (json_int_t)p->tx, "fragments_rx", (json_int_t)p->frags_rx,
				     "last_rx_ms_ago",
				     (json_int_t)(p->last_rx ? (int64_t)(now - p->last_rx) : -1)));
	}
	return a;
}

/* ---- transactions and blocks ------------------------------------------------ */

static json_t *tx_json(const ec_tx *tx)
{
	json_t *ents = json_array(), *sigs = json_array();
	for (int i = 0; i < tx->n_entries; i++)
		json_array_append_new(ents, json_pack("{s:o, s:o, s:o}", "token",
						      idj(&tx->entries[i].token), "prev",
						      idj(&tx->entries[i].prev), "next_key",
						      idj(&tx->entries[i].next_key)));
	for (int i = 0; i < tx->n_sigs; i++)
		json_array_append_new(sigs, json_pack("{s:i, s:o}", "entry", tx->sigs[i].entry,
						      "pk", hexj(tx->sigs[i].pk, 32)));
	return json_pack("{s:o, s:I, s:o, s:o}", "txid", idj(&tx->id), "timestamp",
			 (json_int_t)tx->timestamp, "entries", ents, "signatures", sigs);
}

/* A transaction's rejection into o: reason, detail[, rejected_at_ms]. */
static void rejection_json(json_t *o, uint8_t reason, ec_time at)
{
	json_object_set_new(o, "reason", json_string(ec_mp_reason_name(reason)));
	json_object_set_new(o, "detail", json_string(ec_mp_reason_text(reason)));
	if (at)
		json_object_set_new(o, "rejected_at_ms", json_integer((json_int_t)at));
}

static void m_submit(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	json_t *v = json_is_object(params) ? json_object_get(params, "tx") : NULL;
	const char *hex = json_is_string(v) ? json_string_value(v) : NULL;
	size_t n = hex ? strlen(hex) : 0;
	uint8_t *b, reason = EC_MP_R_NONE;
	ec_tx tx;
	int err;
	if (!hex || n == 0 || n % 2 || n / 2 > EC_DGRAM_MAX_PAYLOAD) {
		reply_err(c, id, JE_PARAMS, "params.tx: hex-encoded transaction required");
		return;
	}
	b = malloc(n / 2);
	if (!b || ec_hex_decode(b, n / 2, hex) != EC_OK) {
		free(b);
		reply_err(c, id, JE_PARAMS, "params.tx: not hex");
		return;
	}
	if ((err = ec_tx_decode(&tx, b, n / 2)) != EC_OK) {
		free(b);
		reply_err(c, id, JE_PARAMS, ec_strerror(err));
		return;
	}
	err = ec_node_submit_tx_checked(d->node, b, n / 2, ecn_now_ms(), &reason);
	free(b);
	ecn_flush(d);
	ecn_schedule(d);
	if (err != EC_OK) {
		char m[200];
		json_t *data = json_pack("{s:o}", "txid", idj(&tx.id));
		if (reason != EC_MP_R_NONE) {
			snprintf(m, sizeof m, "transaction rejected: %s (%s)",
				 ec_mp_reason_name(reason), ec_mp_reason_text(reason));
			rejection_json(data, reason, 0);
		} else {
			snprintf(m, sizeof m, "transaction rejected: %s (%s)", ec_strerror(err),
				 ec_errname(err));
		}
		reply_err_data(c, id, JE_REJECTED, m, data);
		return;
	}
	reply(c, id, json_pack("{s:o, s:s}", "txid", idj(&tx.id), "state", "pending"));
}

static void m_get_tx(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	ec_id txid, blk, head;
	ec_node_tx_info info;
	ec_store_txn *t;
	ec_tx tx;
	uint8_t pos = 0, reason = EC_MP_R_NONE;
	ec_time rej_at = 0;
	uint64_t hh = 0;
	static const char *states[] = {"unknown", "pending", "decided", "committed"};
	int have_tx, have_idx, rejected = 0;
	if (get_id(params, "txid", &txid) != 0) {
		reply_err(c, id, JE_PARAMS, "params.txid: 64 hex chars required");
		return;
	}
	memset(&info, 0, sizeof info);
	(void)ec_node_tx_info_get(d->node, &txid, &info);
	if (info.state == EC_NODE_TX_UNKNOWN || info.state == EC_NODE_TX_PENDING)
		rejected = ec_node_tx_rejection(d->node, &txid, &reason, &rej_at) == EC_OK;
	if (ec_store_txn_begin(d->store, 0, &t) != EC_OK) {
		reply_err(c, id, JE_INTERNAL, "store busy");
		return;
	}
	have_tx = ec_store_get_tx(t, &txid, &tx) == EC_OK;
	have_idx = ec_store_get_tx_index(t, &txid, &blk, &pos) == EC_OK;
	json_t *res = json_pack("{s:o, s:s}", "txid", idj(&txid), "state",
				rejected ? "rejected" : states[info.state < 4 ? info.state : 0]);
	if (rejected)
		rejection_json(res, reason, rej_at);
	if (have_idx) {
		ec_block b;
		uint64_t conf = 0;
		if (ec_store_get_block(t, &blk, &b) == EC_OK &&
		    ec_store_get_head(t, &b.creator, &head, &hh) == EC_OK && hh >= b.height)
			conf = hh - b.height;
		json_object_set_new(res, "block", idj(&blk));
		json_object_set_new(res, "position", json_integer(pos));
		json_object_set_new(res, "confirmations", json_integer((json_int_t)conf));
	}
	ec_store_txn_abort(t);
	if (have_tx)
		json_object_set_new(res, "tx", tx_json(&tx));
	if (!have_tx && !have_idx && info.state == EC_NODE_TX_UNKNOWN && !rejected) {
		json_decref(res);
		reply_err(c, id, JE_NOTFOUND, "transaction not known here");
		return;
	}
	reply(c, id, res);
}

static json_t *block_json(const ec_block *b)
{
	json_t *txs = json_array(), *jumps = json_array();
	for (int i = 0; i < b->n_txs; i++)
		json_array_append_new(txs, idj(&b->txids[i]));
	for (int i = 0; i < EC_JUMP_COUNT; i++)
		json_array_append_new(jumps, idj(&b->jumps[i]));
	return json_pack("{s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			 idj(&b->id), "creator", idj(&b->creator), "height",
			 (json_int_t)b->height, "timestamp", (json_int_t)b->timestamp, "prev",
			 idj(&b->prev), "jumps", jumps, "merkle_root", idj(&b->merkle_root),
			 "proof_hash", idj(&b->proof_hash), "signer_pk", hexj(b->signer_pk, 32),
			 "txids", txs);
}

/* The cached endorsements of a block (other peers that hold it and
 * signed its id, each checked when kept): {n, peers: [{peer, pk}]}. */
static json_t *endorse_json(ecnode *d, const ec_id *bid)
{
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	size_t n = ec_node_endorsements(d->node, bid, e, EC_RESP_MAX_ENDORSE);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:o}", "peer", idj(&e[i].peer), "pk",
						   hexj(e[i].pk, 32)));
	return json_pack("{s:I, s:o}", "n", (json_int_t)n, "peers", a);
}

static void m_get_block(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	ec_id bid, creator = d->ident.peer_id;
	ec_store_txn *t;
	ec_block b;
	int err;
	json_t *h = json_is_object(params) ? json_object_get(params, "height") : NULL;
	if (get_id(params, "id", &bid) != 0 && !json_is_integer(h)) {
		reply_err(c, id, JE_PARAMS, "params: 'id' (64 hex) or 'height' [+ 'creator']");
		return;
	}
	if (json_object_get(params, "creator") && get_id(params, "creator", &creator) != 0) {
		reply_err(c, id, JE_PARAMS, "params.creator: 64 hex chars");
		return;
	}
	if (ec_store_txn_begin(d->store, 0, &t) != EC_OK) {
		reply_err(c, id, JE_INTERNAL, "store busy");
		return;
	}
	err = EC_OK;
	if (json_is_integer(h)) {
		if (json_integer_value(h) < 0)
			err = EC_ERR_NOTFOUND;
		else
			err = ec_store_get_block_at(t, &creator, (uint64_t)json_integer_value(h),
						    &bid);
	}
	if (err == EC_OK)
		err = ec_store_get_block(t, &bid, &b);
	json_t *res = NULL;
	if (err == EC_OK) {
		const uint8_t *p;
		size_t plen;
		res = block_json(&b);
		json_object_set_new(res, "has_proof",
				    json_boolean(ec_store_get_proof_raw(t, &bid, &p, &plen) == EC_OK));
		json_object_set_new(res, "endorsements", endorse_json(d, &bid));
	}
	ec_store_txn_abort(t);
	if (!res)
		reply_err(c, id, JE_NOTFOUND, "block not stored here");
	else
		reply(c, id, res);
}

/* ---- mappings ----------------------------------------------------------------- */

static json_t *mapping_json(ecnode *d, const ec_mapping_resp *m)
{
	int sig = ec_mapping_resp_verify(m);
	const char *key;
	if (ec_id_eq(&m->responder, &d->ident.peer_id))
		key = memcmp(m->pk, d->key.pk, 32) == 0 ? "own key" : "not our key";
	else {
		int k = ec_node_check_lamppost(d->node, &m->responder, m->pk);
		key = k == EC_OK ? "current" : k == EC_ERR_KEY ? "not current" : "unknown here";
	}
	json_t *o = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:I, s:o, s:o, s:s, s:s, s:b}",
		"responder", idj(&m->responder), "token", idj(&m->token), "txid",
		idj(&m->txid), "owner_key_hash", idj(&m->owner_key_hash), "prev_txid",
		idj(&m->prev_txid), "commit_block", idj(&m->commit_block), "commit_block_ts",
		(json_int_t)m->commit_block_ts, "head", idj(&m->head), "height",
		(json_int_t)m->height, "response_ts", (json_int_t)m->response_ts, "pk",
		hexj(m->pk, 32), "sig", hexj(m->sig, 64), "signature",
		sig == EC_OK ? "valid" : "INVALID", "lamppost_key", key, "mapped",
		!ec_id_is_zero(&m->txid));
	return o;
}

static json_t *referral_json(const ec_referral *r)
{
	json_t *a = json_array();
	for (int i = 0; i < r->n_peers; i++)
		json_array_append_new(a, idj(&r->peers[i].peer));
	return json_pack("{s:s, s:o, s:o, s:o}", "answer", "referral", "responder",
			 idj(&r->responder), "target", idj(&r->target), "ask", a);
}

static rpc_pending *pend_new(ecnode *d, rpc_client *c, json_t *id, int kind)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		rpc_pending *p = &d->rpc->pend[i];
		if (!p->used) {
			memset(p, 0, sizeof *p);
			p->used = 1;
			p->c = c;
			p->id = json_incref(id ? id : json_null());
			p->kind = kind;
			p->deadline = ecn_now_ms() + RPC_TIMEOUT_MS;
			ecn_rng(NULL, p->nonce, sizeof p->nonce);
			c->busy = 1;
			return p;
		}
	}
	return NULL;
}

static void pend_done(rpc_pending *p)
{
	if (p->c)
		p->c->busy = 0;
	json_decref(p->id);
	free(p->blocks);
	memset(p, 0, sizeof *p);
}

static int send_mapping_req(ecnode *d, ecn_peer *peer, const uint8_t nonce[16],
			    const ec_id *token)
{
	ec_mapping_req q;
	uint8_t *enc;
	size_t len;
	int r;
	memset(&q, 0, sizeof q);
	memcpy(q.nonce, nonce, sizeof q.nonce);
	q.token = *token;
	if (ec_mapping_req_encode(&q, &enc, &len) != EC_OK)
		return -1;
	r = ecn_send_to_peer(d, peer, enc, len);
	free(enc);
	return r;
}

static void m_get_mapping(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	ec_id token, peer_id;
	ec_mapping_req q;
	uint8_t *enc;
	size_t len;
	if (get_id(params, "token", &token) != 0) {
		reply_err(c, id, JE_PARAMS, "params.token: 64 hex chars required");
		return;
	}
	if (json_object_get(params, "peer")) {
		ecn_peer *p;
		rpc_pending *pd;
		if (get_id(params, "peer", &peer_id) != 0) {
			reply_err(c, id, JE_PARAMS, "params.peer: 64 hex chars");
			return;
		}
		if (!ec_id_eq(&peer_id, &d->ident.peer_id)) {
			if (!(p = ecn_peer_by_id(d, &peer_id)) || !p->has_addr) {
				reply_err(c, id, JE_NOTFOUND, "no address for that peer");
				return;
			}
			if (!(pd = pend_new(d, c, id, 1))) {
				reply_err(c, id, JE_UNAVAILABLE, "too many calls in flight");
				return;
			}
			memcpy(pd->kx, p->kx, 32);
			pd->peer = peer_id;
			if (send_mapping_req(d, p, pd->nonce, &token) != 0) {
				pend_done(pd);
				reply_err(c, id, JE_UNAVAILABLE, "could not send");
			}
			return;
		}
	}
	/* our own query service, as the local client (zero id) */
	memset(&q, 0, sizeof q);
	ecn_rng(NULL, q.nonce, sizeof q.nonce);
	q.token = token;
	if (ec_mapping_req_encode(&q, &enc, &len) != EC_OK) {
		reply_err(c, id, JE_INTERNAL, "encode");
		return;
	}
	ecn_flush(d); /* nothing of earlier calls may be captured */
	d->capturing = 1;
	(void)ec_node_recv(d->node, &(ec_id){{0}}, enc, len, ecn_now_ms());
	free(enc);
	ecn_flush(d);
	d->capturing = 0;
	if (!d->cap_msg) {
		reply_err(c, id, JE_UNAVAILABLE, "no answer from the query service");
		return;
	}
	{
		ec_mapping_resp m;
		ec_referral rf;
		if (ec_mapping_resp_decode(&m, d->cap_msg, d->cap_len) == EC_OK)
			reply(c, id, mapping_json(d, &m));
		else if (ec_referral_decode(&rf, d->cap_msg, d->cap_len) == EC_OK)
			reply(c, id, referral_json(&rf));
		else
			reply_err(c, id, JE_UNAVAILABLE, "query refused");
	}
	free(d->cap_msg);
	d->cap_msg = NULL;
	ecn_schedule(d);
}

/* ---- block fetch with endorsements (PROTOCOL 14b "Endorsements") ---------------- */

#define FETCH_WAIT_MS 6000 /* the core drops an unanswered fetch after 5 s */
#define FETCH_POLL_MS 20

/* The answer of a finished (or given up) fetch: whether the block is held
 * now, whether this fetch stored it, and the endorsements now cached. */
static json_t *fetch_result(ecnode *d, rpc_pending *p, const char *outcome)
{
	const ec_node_stats *ns = ec_node_stats_get(d->node);
	ec_store_txn *t;
	ec_block b;
	int held = 0;
	json_t *e = endorse_json(d, &p->head), *o;
	if (ec_store_txn_begin(d->store, 0, &t) == EC_OK) {
		held = ec_store_get_block(t, &p->head, &b) == EC_OK;
		ec_store_txn_abort(t);
	}
	o = json_pack("{s:o, s:o, s:s, s:b, s:b, s:I, s:O}", "id", idj(&p->head), "peer",
		      idj(&p->peer), "outcome", outcome, "stored",
		      ns->blocks_fetched_stored > p->f_stored, "held", held, "n",
		      json_integer_value(json_object_get(e, "n")), "endorsements",
		      json_object_get(e, "peers"));
	json_decref(e);
	if (o && held)
		json_object_set_new(o, "height", json_integer((json_int_t)b.height));
	return o;
}

static void fetch_finish(ecnode *d, rpc_pending *p, const char *outcome)
{
	if (p->c)
		reply(p->c, p->id, fetch_result(d, p, outcome));
	pend_done(p);
	d->rpc->fetching = 0;
	uv_timer_stop(&d->rpc->fetch_timer);
}

/* The core keeps no per-fetch state for callers, so the outcome is read
 * from its counters; fetch_block calls are serialised daemon-wide and
 * nothing else in the daemon fetches blocks, so a change is ours. */
static void on_fetch_timer(uv_timer_t *tm)
{
	ecnode *d = tm->data;
	const ec_node_stats *ns = ec_node_stats_get(d->node);
	for (int i = 0; i < MAX_PENDING; i++) {
		rpc_pending *p = &d->rpc->pend[i];
		if (!p->used || p->kind != 3)
			continue;
		if (ns->blocks_fetched > p->f_fetched)
			fetch_finish(d, p, "answered");
		else if (ns->block_fetch_refused > p->f_refused)
			fetch_finish(d, p, "refused");
		else if (ns->block_fetch_timeouts > p->f_timeouts)
			fetch_finish(d, p, "timeout");
		else if (ecn_now_ms() >= p->deadline)
			/* no answer that passed the checks (none, a bad signature,
			 * another block, a block that does not verify) */
			fetch_finish(d, p, "timeout");
		return;
	}
	uv_timer_stop(tm); /* nothing waiting */
}

static void m_fetch_block(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	ec_id bid, peer;
	rpc_pending *pd;
	const ec_node_stats *ns;
	int err;
	if (get_id(params, "id", &bid) != 0) {
		reply_err(c, id, JE_PARAMS, "params.id: block id, 64 hex chars required");
		return;
	}
	if (get_id(params, "peer", &peer) != 0) {
		reply_err(c, id, JE_PARAMS, "params.peer: peer id, 64 hex chars required");
		return;
	}
	if (ec_id_eq(&peer, &d->ident.peer_id)) {
		reply_err(c, id, JE_PARAMS, "params.peer: that is this node");
		return;
	}
	if (d->rpc->fetching) {
		reply_err(c, id, JE_UNAVAILABLE, "busy: another fetch_block call is running");
		return;
	}
	if (!(pd = pend_new(d, c, id, 3))) {
		reply_err(c, id, JE_UNAVAILABLE, "too many calls in flight");
		return;
	}
	ns = ec_node_stats_get(d->node);
	pd->f_fetched = ns->blocks_fetched;
	pd->f_stored = ns->blocks_fetched_stored;
	pd->f_refused = ns->block_fetch_refused;
	pd->f_timeouts = ns->block_fetch_timeouts;
	pd->peer = peer;
	pd->head = bid;
	pd->deadline = ecn_now_ms() + FETCH_WAIT_MS;
	err = ec_node_fetch_block(d->node, &peer, &bid, EC_PRIO_VALIDATION, ecn_now_ms());
	ecn_flush(d);
	ecn_schedule(d);
	if (err != EC_OK) {
		pend_done(pd);
		reply_err(c, id,
			  err == EC_ERR_NOTFOUND ? JE_NOTFOUND
			  : err == EC_ERR_BUSY   ? JE_UNAVAILABLE
						 : JE_INTERNAL,
			  err == EC_ERR_NOTFOUND ? "unknown peer: not in the node's peer table"
			  : err == EC_ERR_BUSY   ? "busy: too many block fetches outstanding"
						 : ec_strerror(err));
		return;
	}
	d->rpc->fetching = 1;
	uv_timer_start(&d->rpc->fetch_timer, on_fetch_timer, FETCH_POLL_MS, FETCH_POLL_MS);
}

/* ---- chain walk ----------------------------------------------------------------- */

static json_t *walk_result(ecnode *d, const ec_id *creator, ec_block *blocks, size_t n,
			   const char *source, uint64_t proofs_ok, uint64_t proofs_bad,
			   uint64_t requests, uint64_t bytes)
{
	ec_chain_fail f;
	int err = ec_chain_verify(blocks, n, &f);
	json_t *o = json_pack("{s:o, s:s, s:I, s:o, s:I, s:s, s:I, s:I, s:I, s:I}", "creator",
			      idj(creator), "source", source, "blocks", (json_int_t)n, "head",
			      n ? idj(&blocks[n - 1].id) : json_null(), "height",
			      (json_int_t)(n ? (int64_t)blocks[n - 1].height : -1), "verified",
			      err == EC_OK && proofs_bad == 0 ? "ok" : "FAILED", "proofs_ok",
			      (json_int_t)proofs_ok, "proofs_bad", (json_int_t)proofs_bad,
			      "requests", (json_int_t)requests, "bytes", (json_int_t)bytes);
	if (err != EC_OK)
		json_object_set_new(o, "failure",
				    json_pack("{s:I, s:s, s:s}", "height", (json_int_t)f.height,
					      "error", ec_errname(err), "reason",
					      ec_strerror(err)));
	/* complete: the blocks run from genesis to the head without a gap
	 * (ec_chain_verify checked the links) */
	json_object_set_new(o, "complete", json_boolean(n && blocks[0].height == 0 &&
							 err == EC_OK));
	if (n)
		json_object_set_new(o, "first_ts", json_integer((json_int_t)blocks[0].timestamp));
	(void)d;
	return o;
}

static void walk_local(rpc_client *c, json_t *id, const ec_id *creator)
{
	ecnode *d = c->d;
	ec_store_txn *t;
	ec_id head, bid;
	uint64_t height, ok = 0, bad = 0;
	ec_block *blocks;
	int err;
	if (ec_store_txn_begin(d->store, 0, &t) != EC_OK) {
		reply_err(c, id, JE_INTERNAL, "store busy");
		return;
	}
	if (ec_store_get_head(t, creator, &head, &height) != EC_OK || height >= WALK_MAX_BLOCKS) {
		ec_store_txn_abort(t);
		reply_err(c, id, JE_NOTFOUND, "no stored chain of that peer");
		return;
	}
	blocks = calloc(height + 1, sizeof *blocks);
	err = blocks ? EC_OK : EC_ERR_NOMEM;
	for (uint64_t h = 0; err == EC_OK && h <= height; h++) {
		const uint8_t *p;
		size_t plen;
		if ((err = ec_store_get_block_at(t, creator, h, &bid)) == EC_OK &&
		    (err = ec_store_get_block(t, &bid, &blocks[h])) == EC_OK) {
			if (ec_store_get_proof_raw(t, &bid, &p, &plen) == EC_OK) {
				ec_id ph;
				ec_hash(&ph, EC_TAG_PROOF, p, plen);
				if (ec_id_eq(&ph, &blocks[h].proof_hash))
					ok++;
				else
					bad++;
			}
		}
	}
	ec_store_txn_abort(t);
	if (err != EC_OK) {
		free(blocks);
		reply_err(c, id, JE_INTERNAL, ec_strerror(err));
		return;
	}
	reply(c, id, walk_result(d, creator, blocks, height + 1, "store", ok, bad, 0, 0));
	free(blocks);
}

static int send_range_req(ecnode *d, rpc_pending *p, const ec_id *start)
{
	ec_range_req q;
	ecn_peer *peer = ecn_peer_by_kx(d, p->kx);
	uint8_t *enc;
	size_t len;
	int r;
	if (!peer)
		return -1;
	memset(&q, 0, sizeof q);
	q.start = *start;
	q.max_blocks = 256;
	/* with proofs: up to 64 KiB (as before fragments), sent as fragments */
	q.max_bytes = d->cfg.msg_max < EC_DGRAM_MAX_PAYLOAD ? d->cfg.msg_max : EC_DGRAM_MAX_PAYLOAD;
	q.flags = EC_RANGE_WITH_PROOFS;
	q.priority = 2; /* validation */
	q.auth.requester = d->ident.peer_id;
	q.auth.timestamp = ecn_now_ms();
	ecn_rng(NULL, p->nonce, sizeof p->nonce);
	memcpy(q.auth.nonce, p->nonce, sizeof q.auth.nonce);
	if (ec_range_req_sign(&q, d->key.sk) != EC_OK ||
	    ec_range_req_encode(&q, &enc, &len) != EC_OK)
		return -1;
	r = ecn_send_to_peer(d, peer, enc, len);
	free(enc);
	p->requests++;
	p->deadline = ecn_now_ms() + RPC_TIMEOUT_MS;
	return r;
}

static void m_walk(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	ec_id peer_id = d->ident.peer_id;
	ecn_peer *p;
	rpc_pending *pd;
	json_t *src = json_is_object(params) ? json_object_get(params, "source") : NULL;
	int remote = json_is_string(src) && !strcmp(json_string_value(src), "peer");
	if (json_is_object(params) && json_object_get(params, "peer") &&
	    get_id(params, "peer", &peer_id) != 0) {
		reply_err(c, id, JE_PARAMS, "params.peer: 64 hex chars");
		return;
	}
	if (!remote || ec_id_eq(&peer_id, &d->ident.peer_id)) {
		walk_local(c, id, &peer_id);
		return;
	}
	if (!(p = ecn_peer_by_id(d, &peer_id)) || !p->has_addr) {
		reply_err(c, id, JE_NOTFOUND, "no address for that peer");
		return;
	}
	if (!(pd = pend_new(d, c, id, 2))) {
		reply_err(c, id, JE_UNAVAILABLE, "too many calls in flight");
		return;
	}
	memcpy(pd->kx, p->kx, 32);
	pd->peer = peer_id;
	/* first the peer's signed head: a mapping query for its identity token */
	pd->requests = 1;
	if (send_mapping_req(d, p, pd->nonce, &peer_id) != 0) {
		pend_done(pd);
		reply_err(c, id, JE_UNAVAILABLE, "could not send");
	}
}

static void walk_finish(ecnode *d, rpc_pending *p)
{
	/* collected newest first: reverse into chain order */
	for (size_t i = 0, j = p->n_blocks; i + 1 < j; i++, j--) {
		ec_block t = p->blocks[i];
		p->blocks[i] = p->blocks[j - 1];
		p->blocks[j - 1] = t;
	}
	if (p->c)
		reply(p->c, p->id,
		      walk_result(d, &p->peer, p->blocks, p->n_blocks, "peer", p->proofs_ok,
				  p->proofs_bad, p->requests, p->bytes));
	pend_done(p);
}

/* A range response for a walk: check signature and responder, append. */
static void walk_on_range(ecnode *d, rpc_pending *p, const uint8_t *msg, size_t len)
{
	ec_range_resp r;
	int err;
	if ((err = ec_range_resp_decode(&r, msg, len)) != EC_OK) {
		if (p->c)
			reply_err(p->c, p->id, JE_REJECTED, "malformed range response");
		pend_done(p);
		return;
	}
	p->bytes += len;
	if (ec_range_resp_verify(&r) != EC_OK || !ec_id_eq(&r.responder, &p->peer) ||
	    (p->n_blocks + r.n_items > WALK_MAX_BLOCKS)) {
		ec_range_resp_free(&r);
		if (p->c)
			reply_err(p->c, p->id, JE_REJECTED, "range response not signed by that peer");
		pend_done(p);
		return;
	}
	for (size_t i = 0; i < r.n_items; i++) {
		if (p->n_blocks == p->cap_blocks) {
			size_t cap = p->cap_blocks ? p->cap_blocks * 2 : 256;
			ec_block *nb = realloc(p->blocks, cap * sizeof *nb);
			if (!nb)
				break;
			p->blocks = nb;
			p->cap_blocks = cap;
		}
		p->blocks[p->n_blocks++] = r.items[i].block;
		if (r.items[i].has_proof) {
			ec_id ph;
			if (ec_proof_hash(&r.items[i].proof, &ph) == EC_OK &&
			    ec_id_eq(&ph, &r.items[i].block.proof_hash))
				p->proofs_ok++;
			else
				p->proofs_bad++;
		}
	}
	size_t got = r.n_items;
	ec_range_resp_free(&r);
	if (p->n_blocks == 0 || p->blocks[p->n_blocks - 1].height == 0 ||
	    ec_id_is_zero(&p->blocks[p->n_blocks - 1].prev) || got == 0) {
		walk_finish(d, p);
		return;
	}
	if (send_range_req(d, p, &p->blocks[p->n_blocks - 1].prev) != 0) {
		walk_finish(d, p);
	}
}

int ecn_rpc_on_answer(ecnode *d, const ecn_peer *from, const uint8_t *msg, size_t len)
{
	rpc_pending *p = NULL;
	if (!d->rpc || len < 2 + EC_NONCE_BYTES)
		return 0;
	if (msg[0] != EC_MSG_MAPPING_RESP && msg[0] != EC_MSG_RANGE_RESP &&
	    msg[0] != EC_MSG_REFERRAL && msg[0] != EC_MSG_REFUSAL)
		return 0;
	for (int i = 0; i < MAX_PENDING; i++) {
		rpc_pending *q = &d->rpc->pend[i];
		if (q->used && q->kind != 3 && /* a fetch's answer is the core's */
		    memcmp(q->nonce, msg + 2, EC_NONCE_BYTES) == 0 &&
		    memcmp(q->kx, from->kx, 32) == 0) {
			p = q;
			break;
		}
	}
	if (!p)
		return 0;
	if (msg[0] == EC_MSG_REFUSAL) {
		ec_refusal rf;
		char m[128];
		if (ec_refusal_decode(&rf, msg, len) == EC_OK)
			snprintf(m, sizeof m, "refused by the peer: reason %u, retry after %u ms",
				 rf.reason, rf.retry_after_ms);
		else
			snprintf(m, sizeof m, "malformed refusal");
		if (p->c)
			reply_err(p->c, p->id, JE_REJECTED, m);
		pend_done(p);
		return 1;
	}
	if (msg[0] == EC_MSG_REFERRAL) {
		ec_referral rf;
		if (p->c) {
			if (ec_referral_decode(&rf, msg, len) == EC_OK)
				reply(p->c, p->id, referral_json(&rf));
			else
				reply_err(p->c, p->id, JE_REJECTED, "malformed referral");
		}
		pend_done(p);
		return 1;
	}
	if (msg[0] == EC_MSG_MAPPING_RESP) {
		ec_mapping_resp m;
		if (ec_mapping_resp_decode(&m, msg, len) != EC_OK) {
			if (p->c)
				reply_err(p->c, p->id, JE_REJECTED, "malformed mapping response");
			pend_done(p);
			return 1;
		}
		if (p->kind == 1) {
			if (p->c)
				reply(p->c, p->id, mapping_json(d, &m));
			pend_done(p);
			return 1;
		}
		/* walk: the signed head, then ranges down to genesis */
		p->bytes += len;
		if (ec_mapping_resp_verify(&m) != EC_OK || !ec_id_eq(&m.responder, &p->peer)) {
			if (p->c)
				reply_err(p->c, p->id, JE_REJECTED, "head announcement not signed by that peer");
			pend_done(p);
			return 1;
		}
		p->head = m.head;
		p->height = m.height;
		if (ec_id_is_zero(&m.head)) {
			walk_finish(d, p);
			return 1;
		}
		if (send_range_req(d, p, &m.head) != 0) {
			if (p->c)
				reply_err(p->c, p->id, JE_UNAVAILABLE, "could not send");
			pend_done(p);
		}
		return 1;
	}
	if (p->kind == 2)
		walk_on_range(d, p, msg, len);
	else
		pend_done(p);
	return 1;
}

/* ---- sync --------------------------------------------------------------------- */

static json_t *m_sync_status(ecnode *d)
{
	ec_sync_status s;
	ec_sync_chain ch[64];
	json_t *chains = json_array(), *res;
	memset(&s, 0, sizeof s);
	(void)ec_node_sync_status(d->node, &s, ch, 64);
	for (size_t i = 0; i < s.n_chains && i < 64; i++)
		json_array_append_new(
			chains, json_pack("{s:o, s:o, s:I, s:I, s:I, s:b, s:b}", "creator",
					  idj(&ch[i].creator), "head", idj(&ch[i].head),
					  "head_height", (json_int_t)ch[i].head_height, "verified",
					  (json_int_t)ch[i].verified, "low_height",
					  (json_int_t)ch[i].low_height, "complete", ch[i].complete,
					  "dropped", ch[i].dropped));
	res = json_pack(
		"{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"available", d->sync_started >= 0, "error", sync_error(d), "strategy",
		strategy_name(s.strategy ? s.strategy : d->cfg.sync), "phase", phase_name(s.phase),
		"started", (json_int_t)s.started, "caught_up_at", (json_int_t)s.caught_up_at,
		"blocks_target", (json_int_t)s.blocks_target, "blocks_verified",
		(json_int_t)s.blocks_verified, "progress", s.progress, "eta_ms",
		(json_int_t)s.eta_ms, "txs_referenced", (json_int_t)s.txs_referenced, "txs_held",
		(json_int_t)s.txs_held, "txs_confirmed", (json_int_t)s.txs_confirmed,
		"tokens_applied", (json_int_t)s.tokens_applied, "msgs_sent",
		(json_int_t)s.msgs_sent, "msgs_recv", (json_int_t)s.msgs_recv, "bytes_sent",
		(json_int_t)s.bytes_sent, "bytes_recv", (json_int_t)s.bytes_recv, "bytes_useful",
		(json_int_t)s.bytes_useful, "round_trips", (json_int_t)s.round_trips,
		"blocks_rejected", (json_int_t)s.blocks_rejected, "txs_rejected",
		(json_int_t)s.txs_rejected, "equivocations", (json_int_t)s.equivocations,
		"n_chains", (json_int_t)s.n_chains, "chains", chains);
	/* per run (a restarted node starts at 0): what this process received,
	 * so a resumed sync shows it fetched nothing it had verified */
	if (res) {
		json_object_set_new(res, "blocks_fetched", json_integer((json_int_t)s.blocks_fetched));
		json_object_set_new(res, "txs_fetched", json_integer((json_int_t)s.txs_fetched));
		json_object_set_new(res, "penalties", json_integer((json_int_t)s.penalties));
		json_object_set_new(res, "skeleton_anchors",
				    json_integer((json_int_t)s.skeleton_anchors));
		json_object_set_new(res, "ranges_elsewhere",
				    json_integer((json_int_t)s.ranges_elsewhere));
		json_object_set_new(res, "rate_drops", json_integer((json_int_t)s.rate_drops));
	}
	return res;
}

static void m_sync_start(rpc_client *c, json_t *id, json_t *params)
{
	ecnode *d = c->d;
	json_t *v = json_is_object(params) ? json_object_get(params, "strategy") : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	int strat = d->cfg.sync ? d->cfg.sync : EC_SYNC_CHAIN, err;
	if (s) {
		if (!strcmp(s, "chain"))
			strat = EC_SYNC_CHAIN;
		else if (!strcmp(s, "poll"))
			strat = EC_SYNC_POLL;
		else {
			reply_err(c, id, JE_PARAMS, "params.strategy: chain or poll");
			return;
		}
	}
	err = ec_node_sync_start(d->node, (uint8_t)strat, ecn_now_ms());
	ecn_flush(d);
	ecn_schedule(d);
	if (err == EC_ERR_NOTFOUND) {
		d->sync_started = -1;
		d->sync_err = err;
		reply_err(c, id, JE_UNAVAILABLE, "sync not available in this build");
		return;
	}
	if (err != EC_OK && err != EC_ERR_BUSY) {
		reply_err(c, id, JE_INTERNAL, ec_strerror(err));
		return;
	}
	d->sync_started = 1;
	reply(c, id, json_pack("{s:s, s:b}", "strategy", strategy_name(strat), "already_running",
			       err == EC_ERR_BUSY));
}

/* ---- peer swapping (ecn_swap.c builds the answers) ----------------------------- */

static void m_swap(rpc_client *c, json_t *id, const char *method, json_t *params)
{
	int code = 0;
	const char *msg = NULL;
	json_t *r = ecn_swap_rpc(c->d, method, params, &code, &msg);
	if (!r) {
		reply_err(c, id, code == 1 ? JE_METHOD : code == 2 ? JE_PARAMS
				 : code == 3 ? JE_UNAVAILABLE : code == 4 ? JE_NOTFOUND
				 : code == 5 ? JE_REJECTED : JE_INTERNAL,
			  msg ? msg : "swap call failed");
		return;
	}
	reply(c, id, r);
}

/* ---- dispatch --------------------------------------------------------------------- */

static void handle(rpc_client *c, const char *line, size_t n)
{
	ecnode *d = c->d;
	json_error_t je;
	json_t *req = json_loadb(line, n, 0, &je), *id, *params, *m;
	const char *method;
	d->st.rpc_requests++;
	if (!req) {
		reply_err(c, NULL, JE_PARSE, "parse error: not JSON");
		return;
	}
	id = json_object_get(req, "id");
	m = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (!json_is_object(req) || !json_is_string(m) ||
	    (params && !json_is_object(params) && !json_is_array(params)) ||
	    (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id))) {
		reply_err(c, json_is_object(req) ? id : NULL, JE_INVALID, "invalid request");
		json_decref(req);
		return;
	}
	if (json_is_array(params))
		params = NULL; /* positional parameters are not used */
	method = json_string_value(m);
	if (c->busy) {
		reply_err(c, id, JE_UNAVAILABLE, "one call at a time per connection");
	} else if (!strcmp(method, "status")) {
		reply(c, id, m_status(d));
	} else if (!strcmp(method, "peers")) {
		reply(c, id, m_peers(d));
	} else if (!strcmp(method, "submit_tx")) {
		m_submit(c, id, params);
	} else if (!strcmp(method, "get_mapping")) {
		m_get_mapping(c, id, params);
	} else if (!strcmp(method, "get_tx")) {
		m_get_tx(c, id, params);
	} else if (!strcmp(method, "get_block")) {
		m_get_block(c, id, params);
	} else if (!strcmp(method, "fetch_block")) {
		m_fetch_block(c, id, params);
	} else if (!strcmp(method, "walk_chain")) {
		m_walk(c, id, params);
	} else if (!strcmp(method, "sync_status")) {
		reply(c, id, m_sync_status(d));
	} else if (!strcmp(method, "sync_start")) {
		m_sync_start(c, id, params);
	} else if (!strncmp(method, "swap_", 5)) {
		m_swap(c, id, method, params);
	} else if (!strcmp(method, "stop")) {
		reply(c, id, json_pack("{s:s}", "stopping", "after the current batch"));
		d->stopping = 1;
		uv_stop(d->loop);
	} else {
		reply_err(c, id, JE_METHOD, "method not found");
	}
	json_decref(req);
}

/* ---- connections and their limits ----------------------------------------- */

static size_t rpc_max_clients(const ecnode *d)
{
	size_t m = d->cfg.rpc_max_clients;
	return m < d->rpc->fd_clients ? m : d->rpc->fd_clients;
}

/* Answers with a JSON-RPC error line naming the limit, and closes. */
static void client_refuse(rpc_client *c, uint64_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void client_refuse(rpc_client *c, uint64_t *counter, const char *fmt, ...)
{
	char m[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	(*counter)++;
	ecn_log(ECN_DEBUG, "rpc: closing a connection: %s", m);
	reply_err(c, NULL, JE_LIMIT, m);
	client_close(c);
}

/* Room for `need` bytes of held input in c's buffer, within the daemon-wide
 * total: when the total would pass rpc_buffer_total, the connection holding
 * the largest buffer is closed (c itself when it would hold the most).  0,
 * or -1 when c was closed. */
static int client_reserve(rpc_client *c, size_t need)
{
	struct ecn_rpc *r = c->d->rpc;
	const ecn_cfg *cfg = &c->d->cfg;
	size_t most = (size_t)cfg->rpc_line_max + RPC_READ_CHUNK, cap;
	char *nb;
	if (need <= c->cap)
		return 0;
	if (need > most) {
		client_refuse(c, &r->closed_line, "request line over %u bytes",
			      cfg->rpc_line_max);
		return -1;
	}
	cap = c->cap > RPC_BUF_MIN ? c->cap : RPC_BUF_MIN;
	while (cap < need)
		cap *= 2;
	if (cap > most)
		cap = most;
	while (r->in_total - c->cap + cap > cfg->rpc_buffer_total) {
		rpc_client *big = c;
		for (rpc_client *o = r->clients; o; o = o->next)
			if (o->cap > big->cap)
				big = o;
		if (big == c || big->cap <= cap - c->cap) {
			client_refuse(c, &r->closed_buffers,
				      "control socket input buffers full (%u bytes held)",
				      cfg->rpc_buffer_total);
			return -1;
		}
		client_refuse(big, &r->closed_buffers,
			      "control socket input buffers full (%u bytes held): closing "
			      "the connection holding the most",
			      cfg->rpc_buffer_total);
	}
	if (!(nb = realloc(c->buf, cap))) {
		client_close(c);
		return -1;
	}
	r->in_total += cap - c->cap;
	c->buf = nb;
	c->cap = cap;
	return 0;
}

/* Handles the complete lines at the start of p[0..n) until c is closed or
 * paused (its unread answers over RPC_OUT_PAUSE); returns the bytes
 * consumed. */
static size_t client_lines(rpc_client *c, const char *p, size_t n)
{
	struct ecn_rpc *r = c->d->rpc;
	size_t off = 0;
	while (off < n && !c->closing && !c->paused) {
		const char *nl = memchr(p + off, '\n', n - off);
		size_t k;
		if (!nl)
			break;
		k = (size_t)(nl - (p + off));
		if (k > c->d->cfg.rpc_line_max) {
			client_refuse(c, &r->closed_line, "request line over %u bytes",
				      c->d->cfg.rpc_line_max);
			break;
		}
		if (k > 0)
			handle(c, p + off, k);
		off += k + 1;
		c->active = ecn_now_ms();
		if (!c->closing && c->pipe.write_queue_size > RPC_OUT_PAUSE) {
			/* the client does not read its answers: nor do we */
			c->paused = 1;
			r->paused++;
			uv_read_stop((uv_stream_t *)&c->pipe);
		}
	}
	return off;
}

/* Consumes input: the lines it completes are handled, the rest is held
 * (a partial line within rpc_line_max). */
static void client_input(rpc_client *c, const char *p, size_t n)
{
	size_t used;
	if (c->len) {
		if (client_reserve(c, c->len + n) != 0)
			return;
		memcpy(c->buf + c->len, p, n);
		c->len += n;
		used = client_lines(c, c->buf, c->len);
		if (c->closing)
			return;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	} else {
		used = client_lines(c, p, n); /* in place: nothing held */
		if (c->closing)
			return;
		if (used < n) {
			if (client_reserve(c, n - used) != 0)
				return;
			memcpy(c->buf, p + used, n - used);
			c->len = n - used;
		}
	}
	if (!c->paused && c->len > c->d->cfg.rpc_line_max) {
		client_refuse(c, &c->d->rpc->closed_line, "request line over %u bytes",
			      c->d->cfg.rpc_line_max);
		return;
	}
	if (c->len == 0 && c->cap > RPC_BUF_MIN)
		client_buf_free(c); /* an idle connection holds no buffer */
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	/* libuv reads into it and calls on_read before the next read: one
	 * buffer serves every connection */
	static char chunk[RPC_READ_CHUNK];
	(void)h;
	(void)sz;
	b->base = chunk;
	b->len = sizeof chunk;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	rpc_client *c = s->data;
	if (c->closing)
		return;
	if (nread < 0) {
		client_close(c);
		return;
	}
	if (nread > 0)
		client_input(c, b->base, (size_t)nread);
}

/* Answers drained below RPC_OUT_RESUME: the held lines, then reading. */
static void client_resume(rpc_client *c)
{
	size_t used;
	c->paused = 0;
	used = client_lines(c, c->buf, c->len);
	if (c->closing)
		return;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	if (!c->paused)
		uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_conn(uv_stream_t *srv, int status)
{
	ecnode *d = srv->data;
	struct ecn_rpc *r = d->rpc;
	rpc_client *c;
	if (status < 0 || !(c = calloc(1, sizeof *c)))
		return;
	c->d = d;
	uv_pipe_init(d->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->pipe) != 0) {
		uv_close((uv_handle_t *)&c->pipe, client_closed);
		return;
	}
	c->active = ecn_now_ms();
	c->next = r->clients;
	r->clients = c;
	r->n_clients++;
	r->accepted++;
	if (r->n_clients > rpc_max_clients(d)) {
		/* over the cap: the longest idle connection without a call
		 * running goes (a stuck tool cannot lock ecctl out) */
		rpc_client *old = NULL;
		for (rpc_client *o = c->next; o; o = o->next)
			if (!o->busy && (!old || o->active <= old->active))
				old = o;
		client_refuse(old ? old : c, &r->closed_clients,
			      old ? "connection limit (%zu) reached: closing the longest-idle "
				    "connection"
				  : "connection limit (%zu) reached: every connection has a call "
				    "running",
			      rpc_max_clients(d));
		if (!old)
			return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* Connections idle for rpc_idle_ms (no request completed, no answer
 * drained, no call running) are closed. */
static void sweep_idle(ecnode *d, ec_time now)
{
	struct ecn_rpc *r = d->rpc;
	rpc_client *c = r->clients, *next;
	for (; c; c = next) {
		next = c->next;
		if (!c->busy && now >= c->active && now - c->active >= d->cfg.rpc_idle_ms)
			client_refuse(c, &r->closed_idle, "idle for %u ms: closed",
				      d->cfg.rpc_idle_ms);
	}
}

/* The open-file limit: raised to its hard limit (every connection holds a
 * descriptor); the connection cap is lowered to fit what it allows. */
static void rpc_fd_budget(ecnode *d)
{
	struct rlimit rl;
	struct ecn_rpc *r = d->rpc;
	r->fd_clients = SIZE_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			ecn_log(ECN_INFO, "open-file limit raised from %llu to %llu",
				(unsigned long long)was, (unsigned long long)rl.rlim_cur);
		else
			rl.rlim_cur = was;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	r->fd_clients = rl.rlim_cur > RPC_FD_RESERVE + 1 ? (size_t)rl.rlim_cur - RPC_FD_RESERVE
							  : 1;
	if (d->cfg.rpc_max_clients > r->fd_clients)
		ecn_log(ECN_WARN,
			"rpc-max-clients %u does not fit the open-file limit %llu: at most "
			"%zu connections",
			d->cfg.rpc_max_clients, (unsigned long long)rl.rlim_cur, r->fd_clients);
}

/* The control socket's own counters, added to status. */
static void status_rpc(ecnode *d, json_t *res)
{
	struct ecn_rpc *r = d->rpc;
	json_object_set_new(
		res, "rpc",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "clients",
			  (json_int_t)r->n_clients, "max_clients",
			  (json_int_t)rpc_max_clients(d), "idle_timeout_ms",
			  (json_int_t)d->cfg.rpc_idle_ms, "line_max",
			  (json_int_t)d->cfg.rpc_line_max, "buffered_bytes",
			  (json_int_t)r->in_total, "buffer_total",
			  (json_int_t)d->cfg.rpc_buffer_total, "accepted",
			  (json_int_t)r->accepted, "closed_idle", (json_int_t)r->closed_idle,
			  "closed_connection_limit", (json_int_t)r->closed_clients,
			  "closed_line_limit", (json_int_t)r->closed_line,
			  "closed_buffer_limit", (json_int_t)r->closed_buffers, "paused",
			  (json_int_t)r->paused));
}

/* Timeouts of calls waiting for a peer; a walk that stalls returns what it
 * verified so far. */
static void on_rpc_timer(uv_timer_t *t)
{
	ecnode *d = t->data;
	ec_time now = ecn_now_ms();
	sweep_idle(d, now);
	for (int i = 0; i < MAX_PENDING; i++) {
		rpc_pending *p = &d->rpc->pend[i];
		if (!p->used || p->kind == 3 || now < p->deadline)
			continue;
		if (p->kind == 2 && p->n_blocks > 0) {
			walk_finish(d, p);
		} else {
			if (p->c)
				reply_err(p->c, p->id, JE_TIMEOUT, "no answer from the peer");
			pend_done(p);
		}
	}
}

int ecn_rpc_start(ecnode *d)
{
	int r;
	d->rpc = calloc(1, sizeof *d->rpc);
	if (!d->rpc)
		return -1;
	uv_pipe_init(d->loop, &d->rpc->server, 0);
	d->rpc->server.data = d;
	rpc_fd_budget(d);
	if (ecn_sock_listen(d, &d->rpc->server) != 0) /* stale: replaced; live: refused */
		return -1;
	if ((r = uv_listen((uv_stream_t *)&d->rpc->server, 128, on_conn)) < 0) {
		ecn_log(ECN_ERROR, "rpc listen: %s", uv_strerror(r));
		return -1;
	}
	uv_timer_init(d->loop, &d->rpc->timer);
	d->rpc->timer.data = d;
	uv_timer_start(&d->rpc->timer, on_rpc_timer, 200, 200);
	uv_timer_init(d->loop, &d->rpc->fetch_timer);
	d->rpc->fetch_timer.data = d;
	return 0;
}

void ecn_rpc_close(ecnode *d)
{
	if (!d->rpc)
		return;
	while (d->rpc->clients)
		client_close(d->rpc->clients);
	for (int i = 0; i < MAX_PENDING; i++)
		if (d->rpc->pend[i].used)
			pend_done(&d->rpc->pend[i]);
	ecn_sock_remove(d); /* only while the path is still our socket */
}
