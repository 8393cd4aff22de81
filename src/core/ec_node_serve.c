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
 * and counted.  To wire the service: replace the body of
 * node_dispatch_query after the decode with the ec_serve_* call for each
 * type, queueing its answer with node_send(n, from, enc, len). */
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
