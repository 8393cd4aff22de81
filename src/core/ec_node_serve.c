/* ec_node_serve.c - the dispatch hook for queries: token-mapping (0x10),
 * transaction (0x12), block (0x14) and range (0x16) requests.
 *
 * >>> QUERY SERVICE HOOK <<<
 * Answering queries is the query service's job (ec_serve_*, include/ec/
 * serve.h: mapping/tx/block/range responses, rate limits per requester and
 * priority).  Until it is wired in here, every well-formed request gets an
 * explicit refusal with reason BUSY (docs/PROTOCOL.md section 13), signed
 * with our lamppost key and echoing the request's nonce, sent back to
 * `from` (the zero id = the local client).  Malformed requests are dropped
 * and counted.
 *
 * Wiring (include/ec/serve.h, now in the tree):
 *   1. struct ec_node gets `ec_serve *srv` (and an ec_ratelimit), made in
 *      ec_node_new with ec_serve_new(&srv, NULL, &n->self, &cfg->key, rl,
 *      &hooks) and ec_serve_load_evidence(srv, read txn); freed in
 *      ec_node_free.  Hooks: pending_tx = the mempool entry's tx when
 *      has_tx and state PENDING (ec_mempool_get); requester_key_ok =
 *      ec_node_check_lamppost(n, requester, pk) == EC_OK (NOTFOUND: the
 *      policy decides); addr_of = NULL until peers carry addresses.
 *   2. Here, instead of the decode + refuse below: open a read txn,
 *      ec_serve_request(srv, t, from, msg, len, &n->peers, now, &a), end
 *      the txn; on EC_OK node_send(n, from, a.msg, a.len) (the node's
 *      outbox takes ownership of a.msg); count the rest as today.
 *   3. node_seal (ec_node_commit.c), after the store commit:
 *      ec_serve_note_block(srv, &b, o->txs). */
#include <stdlib.h>

#include "ec_node_int.h"

#define BUSY_RETRY_MS 1000

static void refuse(ec_node *n, const ec_id *from, uint8_t type,
		   const uint8_t nonce[EC_NONCE_BYTES], uint8_t reason)
{
	ec_refusal r;
	uint8_t *enc;
	size_t len;
	memset(&r, 0, sizeof r);
	memcpy(r.nonce, nonce, EC_NONCE_BYTES);
	r.responder = n->self;
	r.request_type = type;
	r.reason = reason;
	r.retry_after_ms = BUSY_RETRY_MS;
	if (ec_refusal_sign(&r, n->cfg.key.sk) != EC_OK ||
	    ec_refusal_encode(&r, &enc, &len) != EC_OK)
		return;
	n->st.queries_refused++;
	node_send(n, from, enc, len);
}

void node_dispatch_query(ec_node *n, const ec_id *from, uint8_t type,
			 const uint8_t *msg, size_t len, ec_time now)
{
	const uint8_t *nonce = NULL;
	int err = EC_ERR_TYPE;
	union {
		ec_mapping_req m;
		ec_tx_req t;
		ec_block_req b;
		ec_range_req r;
	} q;
	(void)now;
	switch (type) {
	case EC_MSG_MAPPING_REQ:
		err = ec_mapping_req_decode(&q.m, msg, len);
		nonce = q.m.nonce;
		break;
	case EC_MSG_TX_REQ:
		err = ec_tx_req_decode(&q.t, msg, len);
		nonce = q.t.nonce;
		break;
	case EC_MSG_BLOCK_REQ:
		err = ec_block_req_decode(&q.b, msg, len);
		nonce = q.b.auth.nonce;
		break;
	case EC_MSG_RANGE_REQ:
		err = ec_range_req_decode(&q.r, msg, len);
		nonce = q.r.auth.nonce;
		break;
	}
	if (err != EC_OK) {
		n->st.dropped_malformed++;
		return;
	}
	/* QUERY SERVICE HOOK: route q to ec_serve_* here. */
	refuse(n, from, type, nonce, EC_REFUSE_BUSY);
}
