/* ec_serve.c - the query service's handle, evidence ring, counters,
 * admission (rate limits and the refusal budget), refusals, sealing of
 * signed answers, and the decode-and-dispatch entry point.  The answers
 * themselves: ec_serve_query.c (mapping, tx), ec_serve_block.c (block,
 * range).  Rules: docs/PROTOCOL.md "Serving rules". */
#include <stdlib.h>

#include "core/ec_serve_int.h"

const ec_serve_cfg ec_serve_default_cfg = {
	.max_range_bytes = 1u << 20,
	.max_range_blocks = EC_RANGE_MAX_BLOCKS,
	.range_blocks_per_token = 32,
	.req_max_skew_ms = 5 * 60 * 1000,
	.referral_peers = 4,
	.endorse_own = 1,
	.notfound_retry_ms = 0,
	.busy_retry_ms = 1000,
};

static int cfg_ok(const ec_serve_cfg *c)
{
	return c->max_range_bytes >= EC_RANGE_MIN_MAX_BYTES &&
	       c->max_range_bytes <= EC_MSG_MAX_BYTES && c->max_range_blocks >= 1 &&
	       c->max_range_blocks <= EC_RANGE_MAX_BLOCKS &&
	       c->range_blocks_per_token >= 1 && c->referral_peers >= 1 &&
	       c->referral_peers <= EC_REFERRAL_MAX && c->endorse_own <= 1;
}

int ec_serve_new(ec_serve **out, const ec_serve_cfg *cfg, const ec_id *self,
		 const ec_keypair *kp, ec_ratelimit *rl,
		 const ec_serve_hooks *hooks)
{
	ec_serve *srv;
	if (!out)
		return EC_ERR_ARG;
	*out = NULL;
	if (!cfg)
		cfg = &ec_serve_default_cfg;
	if (!self || !kp || !cfg_ok(cfg))
		return EC_ERR_ARG;
	srv = calloc(1, sizeof *srv);
	if (!srv)
		return EC_ERR_NOMEM;
	srv->cfg = *cfg;
	srv->self = *self;
	srv->kp = *kp;
	srv->rl = rl;
	if (hooks)
		srv->hooks = *hooks;
	*out = srv;
	return EC_OK;
}

void ec_serve_free(ec_serve *srv)
{
	if (!srv)
		return;
	ec_keypair_wipe(&srv->kp);
	free(srv);
}

void ec_serve_set_key(ec_serve *srv, const ec_keypair *kp)
{
	ec_keypair_wipe(&srv->kp);
	srv->kp = *kp;
}

void ec_serve_get_stats(const ec_serve *srv, ec_serve_stats *out)
{
	*out = srv->st;
}

void ec_serve_answer_clear(ec_serve_answer *a)
{
	if (!a)
		return;
	free(a->msg);
	memset(a, 0, sizeof *a);
}

/* ---- evidence ring ---------------------------------------------------------- */

void ec_serve_note_commit(ec_serve *srv, const ec_id *token, const ec_id *txid,
			  ec_time commit_ts)
{
	ec_evidence *e = &srv->ev[srv->ev_next];
	e->token = *token;
	e->txid = *txid;
	e->commit_ts = commit_ts;
	srv->ev_next = (srv->ev_next + 1) % EC_RESP_MAX_EVIDENCE;
	if (srv->ev_n < EC_RESP_MAX_EVIDENCE)
		srv->ev_n++;
}

void ec_serve_note_block(ec_serve *srv, const ec_block *b, const ec_tx *txs)
{
	for (unsigned i = 0; i < b->n_txs; i++)
		for (unsigned j = 0; j < txs[i].n_entries; j++)
			ec_serve_note_commit(srv, &txs[i].entries[j].token, &b->txids[i],
					     b->timestamp);
}

size_t ec_serve_evidence(const ec_serve *srv, ec_evidence *out)
{
	for (unsigned i = 0; i < srv->ev_n; i++)
		out[i] = srv->ev[(srv->ev_next + EC_RESP_MAX_EVIDENCE - 1 - i) %
				 EC_RESP_MAX_EVIDENCE];
	return srv->ev_n;
}

/* ---- sealing ------------------------------------------------------------------ */

void serve_write_head(const ec_serve *srv, ec_wbuf *w, uint8_t type,
		      const uint8_t *nonce)
{
	ec_wbuf_u8(w, type);
	ec_wbuf_u8(w, EC_WIRE_VERSION);
	ec_wbuf_bytes(w, nonce, EC_NONCE_BYTES);
	ec_wbuf_bytes(w, srv->self.b, EC_HASH_BYTES);
}

int serve_seal(ec_serve *srv, ec_wbuf *w, const char *tag, uint8_t type,
	       unsigned kind, ec_serve_answer *ans)
{
	ec_id d;
	uint8_t *sig;
	int r = w->err;
	if (r == EC_OK && w->len + EC_SIG_BYTES > EC_MSG_MAX_BYTES)
		r = EC_ERR_LIMIT; /* a bug: every builder stays under the cap */
	if (r == EC_OK) {
		ec_hash(&d, tag, w->p, w->len);
		sig = ec_wbuf_extend(w, EC_SIG_BYTES);
		if (!sig)
			r = w->err != EC_OK ? w->err : EC_ERR_NOMEM;
		else
			r = ec_sign_digest(sig, &d, srv->kp.sk);
	}
	if (r != EC_OK) {
		ec_wbuf_free(w);
		return r;
	}
	r = ec_wbuf_take(w, &ans->msg, &ans->len);
	if (r != EC_OK)
		return r;
	ans->type = type;
	if (type == EC_MSG_REFUSAL) {
		/* counted by serve_refuse */
	} else {
		srv->st.kind[kind].served++;
	}
	srv->st.kind[kind].bytes_out += ans->len;
	return EC_OK;
}

int serve_seal_obj(ec_serve *srv, serve_writefn write, const void *obj,
		   const char *tag, uint8_t type, unsigned kind,
		   ec_serve_answer *ans)
{
	ec_wbuf w;
	ec_wbuf_init(&w);
	if (write(&w, obj) == EC_OK)
		w.len -= EC_SIG_BYTES; /* drop the placeholder signature */
	return serve_seal(srv, &w, tag, type, kind, ans);
}

/* ---- refusals and admission ------------------------------------------------ */

static int refusal_write_any(ec_wbuf *w, const void *o)
{
	return ec_refusal_write(w, o);
}

int serve_refuse(ec_serve *srv, unsigned kind, const uint8_t *nonce,
		 uint8_t req_type, uint8_t reason, uint32_t retry_after_ms,
		 ec_serve_answer *ans)
{
	ec_refusal f;
	ec_serve_kind_stats *ks = &srv->st.kind[kind];
	int r;
	memset(&f, 0, sizeof f);
	memcpy(f.nonce, nonce, EC_NONCE_BYTES);
	f.responder = srv->self;
	f.request_type = req_type;
	f.reason = reason;
	f.retry_after_ms = retry_after_ms;
	memcpy(f.pk, srv->kp.pk, EC_PUBKEY_BYTES);
	r = serve_seal_obj(srv, refusal_write_any, &f, EC_TAG_REFUSAL, EC_MSG_REFUSAL,
			   kind, ans);
	if (r != EC_OK)
		return r;
	ans->reason = reason;
	ans->retry_after_ms = retry_after_ms;
	switch (reason) {
	case EC_REFUSE_RATE:
		ks->rate_limited++;
		break;
	case EC_REFUSE_NOTFOUND:
		ks->not_found++;
		break;
	case EC_REFUSE_BAD:
		ks->bad++;
		break;
	default:
		ks->busy++;
		break;
	}
	return EC_OK;
}

int serve_open(const ec_serve *srv, const ec_store_txn *t, const ec_id *from,
	       const void *req, ec_serve_answer *ans)
{
	if (ans)
		memset(ans, 0, sizeof *ans);
	return srv && t && from && req && ans;
}

int serve_admit(ec_serve *srv, unsigned kind, const ec_id *from, unsigned cls,
		uint32_t cost, ec_time now, const uint8_t *nonce, uint8_t req_type,
		ec_serve_answer *ans, int *rc)
{
	uint32_t retry = 0;
	if (!srv->rl)
		return 1;
	*rc = ec_ratelimit_take(srv->rl, from, cls, cost, now, &retry);
	if (*rc == EC_OK)
		return 1;
	if (*rc != EC_ERR_REFUSED)
		return 0;
	/* Each refusal costs a signature: refusals have their own budget. */
	if (ec_ratelimit_take(srv->rl, from, EC_RL_REFUSAL, 1, now, NULL) != EC_OK) {
		srv->st.kind[kind].dropped++;
		return 0; /* *rc = EC_ERR_REFUSED: send nothing */
	}
	*rc = serve_refuse(srv, kind, nonce, req_type, EC_REFUSE_RATE, retry, ans);
	return 0;
}

int serve_store_fail(ec_serve *srv, unsigned kind, int err, const uint8_t *nonce,
		     uint8_t req_type, ec_serve_answer *ans)
{
	if (err == EC_ERR_NOMEM)
		return err;
	srv->st.last_store_err = err;
	return serve_refuse(srv, kind, nonce, req_type, EC_REFUSE_BUSY,
			    srv->cfg.busy_retry_ms, ans);
}

int serve_auth_cheap(const ec_serve *srv, const ec_id *from,
		     const ec_req_auth *auth, ec_time now)
{
	uint64_t skew = srv->cfg.req_max_skew_ms;
	if (!ec_id_eq(&auth->requester, from))
		return 0;
	if (skew && (auth->timestamp > now + skew ||
		     (now > skew && auth->timestamp < now - skew)))
		return 0;
	return 1;
}

int serve_auth_key(const ec_serve *srv, const ec_req_auth *auth)
{
	if (!srv->hooks.requester_key_ok)
		return 1;
	return srv->hooks.requester_key_ok(srv->hooks.ctx, &auth->requester,
					   auth->pk) == 1;
}

/* ---- raw block header ------------------------------------------------------ */

int serve_block_hdr_read(const uint8_t *p, size_t n, serve_block_hdr *h)
{
	ec_cur c;
	if (n < EC_BLOCK_FIXED_BYTES + EC_HASH_BYTES || p[0] != EC_MSG_BLOCK ||
	    (p[1] != EC_BLOCK_V1 && p[1] != EC_BLOCK_V2))
		return EC_ERR_CORRUPT;
	ec_cur_init(&c, p + 2, n - 2);
	ec_cur_bytes(&c, h->creator.b, EC_HASH_BYTES);
	h->height = ec_cur_u64(&c);
	h->timestamp = ec_cur_u64(&c);
	ec_cur_bytes(&c, h->prev.b, EC_HASH_BYTES);
	return c.err == EC_OK ? EC_OK : EC_ERR_CORRUPT;
}

/* ---- decode and dispatch ------------------------------------------------------ */

int ec_serve_request(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const uint8_t *msg, size_t len, const ec_peerset *peers,
		     ec_time now, ec_serve_answer *ans)
{
	uint8_t type;
	int r;
	if (ans)
		memset(ans, 0, sizeof *ans);
	if (!srv || !t || !from || !ans || (!msg && len))
		return EC_ERR_ARG;
	r = ec_msg_peek(msg, len, &type);
	if (r != EC_OK)
		return r;
	switch (type) {
	case EC_MSG_MAPPING_REQ: {
		ec_mapping_req q;
		r = ec_mapping_req_decode(&q, msg, len);
		if (r == EC_OK)
			return ec_serve_mapping(srv, t, from, &q, peers, now, ans);
		srv->st.kind[EC_SERVE_MAPPING].malformed++;
		return r;
	}
	case EC_MSG_TX_REQ: {
		ec_tx_req q;
		r = ec_tx_req_decode(&q, msg, len);
		if (r == EC_OK)
			return ec_serve_tx(srv, t, from, &q, now, ans);
		srv->st.kind[EC_SERVE_TX].malformed++;
		return r;
	}
	case EC_MSG_BLOCK_REQ: {
		ec_block_req q;
		r = ec_block_req_decode(&q, msg, len);
		if (r == EC_OK)
			return ec_serve_block(srv, t, from, &q, now, ans);
		srv->st.kind[EC_SERVE_BLOCK].malformed++;
		return r;
	}
	case EC_MSG_RANGE_REQ: {
		ec_range_req q;
		r = ec_range_req_decode(&q, msg, len);
		if (r == EC_OK)
			return ec_serve_range(srv, t, from, &q, now, ans);
		srv->st.kind[EC_SERVE_RANGE].malformed++;
		return r;
	}
	case EC_MSG_TXBATCH_REQ: {
		ec_txbatch_req q;
		r = ec_txbatch_req_decode(&q, msg, len);
		if (r == EC_OK)
			return ec_serve_txbatch(srv, t, from, &q, now, ans);
		srv->st.kind[EC_SERVE_TXBATCH].malformed++;
		return r;
	}
	default:
		return EC_ERR_TYPE;
	}
}
