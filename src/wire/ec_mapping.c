/* ec_mapping.c - signed token-mapping response codec (docs/PROTOCOL.md
 * section 7): the responder's view of a token's current transaction and
 * owner, its chain head, and minefield evidence entries. */
#include "wire/ec_wire_int.h"

static int mapping_check(const ec_mapping_resp *m)
{
	if (m->n_evidence > EC_RESP_MAX_EVIDENCE)
		return EC_ERR_LIMIT;
	/* no mapping held: nothing may depend on it */
	if (ec_id_is_zero(&m->txid) &&
	    (!ec_id_is_zero(&m->owner_key_hash) ||
	     !ec_id_is_zero(&m->prev_txid) ||
	     !ec_id_is_zero(&m->commit_block) || m->commit_block_ts != 0))
		return EC_ERR_VALUE;
	return EC_OK;
}

int ec_mapping_resp_write(ec_wbuf *w, const ec_mapping_resp *m)
{
	int r = mapping_check(m);
	if (r != EC_OK)
		return ec_wire_refuse(w, r);
	ec_wire_write_resp_head(w, EC_MSG_MAPPING_RESP, m->nonce, &m->responder);
	ec_wbuf_id(w, &m->token);
	ec_wbuf_id(w, &m->txid);
	ec_wbuf_id(w, &m->owner_key_hash);
	ec_wbuf_id(w, &m->prev_txid);
	ec_wbuf_id(w, &m->commit_block);
	ec_wbuf_u64(w, m->commit_block_ts);
	ec_wbuf_id(w, &m->head);
	ec_wbuf_u64(w, m->height);
	ec_wbuf_u64(w, m->response_ts);
	ec_wbuf_u8(w, m->n_evidence);
	for (unsigned i = 0; i < m->n_evidence; i++) {
		ec_wbuf_id(w, &m->evidence[i].token);
		ec_wbuf_id(w, &m->evidence[i].txid);
		ec_wbuf_u64(w, m->evidence[i].commit_ts);
	}
	ec_wire_write_sig_tail(w, m->pk, m->sig);
	return w->err;
}

int ec_mapping_resp_read(ec_cur *c, ec_mapping_resp *m)
{
	memset(m, 0, sizeof *m);
	ec_wire_read_resp_head(c, EC_MSG_MAPPING_RESP, m->nonce, &m->responder);
	ec_cur_id(c, &m->token);
	ec_cur_id(c, &m->txid);
	ec_cur_id(c, &m->owner_key_hash);
	ec_cur_id(c, &m->prev_txid);
	ec_cur_id(c, &m->commit_block);
	m->commit_block_ts = ec_cur_u64(c);
	ec_cur_id(c, &m->head);
	m->height = ec_cur_u64(c);
	m->response_ts = ec_cur_u64(c);
	m->n_evidence = (uint8_t)ec_cur_count8(c, 0, EC_RESP_MAX_EVIDENCE);
	for (unsigned i = 0; i < m->n_evidence; i++) {
		ec_cur_id(c, &m->evidence[i].token);
		ec_cur_id(c, &m->evidence[i].txid);
		m->evidence[i].commit_ts = ec_cur_u64(c);
	}
	ec_wire_read_sig_tail(c, m->pk, m->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, mapping_check(m));
	return c->err;
}

EC_WIRE_CODEC(mapping_resp, ec_mapping_resp)
EC_WIRE_SIGNED(mapping_resp, ec_mapping_resp, EC_TAG_MAPPING, pk, sig)
