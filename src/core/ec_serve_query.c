/* ec_serve_query.c - answers to token-mapping queries (signed mapping
 * response, "no mapping", or referral) and transaction queries (signed
 * transaction response), docs/PROTOCOL.md sections 7, 8, 13a and "Serving
 * rules".
 *
 * "Only the current slot is ever served or voted on" (upstream_notes §6.2,
 * STORAGE.md §3.1): a token whose only state is a Pending sync report is
 * answered as if unknown. */
#include <stdlib.h>

#include "core/ec_serve_int.h"

/* ---- mapping ------------------------------------------------------------------ */

/* next_key and prev of `token`'s entry in the stored transaction `txid`
 * (read in place from the canonical encoding).  EC_ERR_NOTFOUND when the
 * body is not stored or does not touch the token. */
static int tx_entry_of(ec_store_txn *t, const ec_id *txid, const ec_id *token,
		       ec_id *next_key, ec_id *prev)
{
	const uint8_t *p;
	size_t n;
	ec_cur c;
	unsigned cnt;
	int r = ec_store_get_tx_raw(t, txid, &p, &n);
	if (r != EC_OK)
		return r;
	if (n < 11 || p[0] != EC_MSG_TX)
		return EC_ERR_CORRUPT;
	ec_cur_init(&c, p + 10, n - 10); /* type, version, timestamp */
	cnt = ec_cur_u8(&c);
	for (unsigned i = 0; i < cnt && c.err == EC_OK; i++) {
		const uint8_t *e = ec_cur_take(&c, 3 * EC_HASH_BYTES);
		if (e && memcmp(e, token->b, EC_HASH_BYTES) == 0) {
			memcpy(prev->b, e + EC_HASH_BYTES, EC_HASH_BYTES);
			memcpy(next_key->b, e + 2 * EC_HASH_BYTES, EC_HASH_BYTES);
			return EC_OK;
		}
	}
	return c.err == EC_OK ? EC_ERR_NOTFOUND : EC_ERR_CORRUPT;
}

/* Own block holding txid and its timestamp; zero / 0 if txid is not in our
 * chain (a Confirmed token learned by sync). */
static int commit_of(ec_store_txn *t, const ec_id *txid, ec_id *block,
		     ec_time *ts, uint64_t *height, uint8_t *pos)
{
	const uint8_t *p;
	size_t n;
	serve_block_hdr h;
	int r = ec_store_get_tx_index(t, txid, block, pos);
	if (r == EC_ERR_NOTFOUND) {
		memset(block, 0, sizeof *block);
		*ts = 0;
		*height = 0;
		*pos = 0;
		return EC_ERR_NOTFOUND;
	}
	if (r != EC_OK)
		return r;
	r = ec_store_get_block_raw(t, block, &p, &n);
	if (r == EC_ERR_NOTFOUND)
		return EC_ERR_CORRUPT; /* the index names a block we lost */
	if (r == EC_OK)
		r = serve_block_hdr_read(p, n, &h);
	if (r != EC_OK)
		return r;
	*ts = h.timestamp;
	*height = h.height;
	return EC_OK;
}

/* Referral to the peers of ps closest to the token (not self, not the
 * requester).  EC_OK with the answer, EC_ERR_NOTFOUND if no peer
 * qualifies, or an error. */
static int refer(ec_serve *srv, const ec_peerset *ps, const ec_id *from,
		 const ec_mapping_req *req, ec_serve_answer *ans)
{
	ec_id ids[EC_REFERRAL_MAX + 2];
	ec_referral f;
	size_t m = ec_peerset_closest(ps, &req->token, srv->cfg.referral_peers + 2u, ids);
	int r;
	memset(&f, 0, sizeof f);
	memcpy(f.nonce, req->nonce, EC_NONCE_BYTES);
	f.responder = srv->self;
	f.target = req->token;
	for (size_t i = 0; i < m && f.n_peers < srv->cfg.referral_peers; i++) {
		ec_peer_addr *a = &f.peers[f.n_peers];
		if (ec_id_eq(&ids[i], &srv->self) || ec_id_eq(&ids[i], from))
			continue;
		a->peer = ids[i];
		if (srv->hooks.addr_of) {
			a->addr_len = srv->hooks.addr_of(srv->hooks.ctx, &ids[i], a->addr);
			if (a->addr_len > EC_ADDR_MAX)
				a->addr_len = 0; /* the hook broke its contract */
			/* one struct, one encoding: bytes past addr_len are zero */
			memset(a->addr + a->addr_len, 0, EC_ADDR_MAX - a->addr_len);
		}
		f.n_peers++;
	}
	if (f.n_peers == 0)
		return EC_ERR_NOTFOUND;
	r = ec_referral_encode(&f, &ans->msg, &ans->len);
	if (r != EC_OK)
		return r;
	ans->type = EC_MSG_REFERRAL;
	srv->st.kind[EC_SERVE_MAPPING].referred++;
	srv->st.kind[EC_SERVE_MAPPING].bytes_out += ans->len;
	return EC_OK;
}

static int mapping_write_any(ec_wbuf *w, const void *o)
{
	return ec_mapping_resp_write(w, o);
}

int ec_serve_mapping(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const ec_mapping_req *req, const ec_peerset *peers,
		     ec_time now, ec_serve_answer *ans)
{
	const unsigned K = EC_SERVE_MAPPING;
	const uint8_t RT = EC_MSG_MAPPING_REQ;
	ec_token_state st;
	ec_mapping_resp m;
	uint64_t bh;
	uint8_t pos;
	int r, have = 0;
	if (!serve_open(srv, t, from, req, ans))
		return EC_ERR_ARG;
	if (!serve_admit(srv, K, from, EC_RL_MAPPING, 1, now, req->nonce, RT, ans, &r))
		return r;

	memset(&m, 0, sizeof m);
	memcpy(m.nonce, req->nonce, EC_NONCE_BYTES);
	m.responder = srv->self;
	m.token = req->token;
	m.response_ts = now;
	r = ec_store_get_token(t, &req->token, &st);
	if (r != EC_OK && r != EC_ERR_NOTFOUND)
		return serve_store_fail(srv, K, r, req->nonce, RT, ans);
	if (r == EC_OK && st.has_current) {
		r = tx_entry_of(t, &st.current.txid, &req->token, &m.owner_key_hash,
				&m.prev_txid);
		if (r == EC_OK) {
			m.txid = st.current.txid;
			r = commit_of(t, &m.txid, &m.commit_block, &m.commit_block_ts,
				      &bh, &pos);
			if (r != EC_OK && r != EC_ERR_NOTFOUND)
				return serve_store_fail(srv, K, r, req->nonce, RT, ans);
			have = 1;
		} else if (r != EC_ERR_NOTFOUND) {
			return serve_store_fail(srv, K, r, req->nonce, RT, ans);
		} /* else a state without its body: we cannot name the owner */
	} else if (r == EC_OK && st.has_pending) {
		srv->st.mapping_pending_hidden++;
	}
	if (!have) {
		if (peers && !ec_peerset_would_be_eligible(peers, &srv->self, &req->token)) {
			r = refer(srv, peers, from, req, ans);
			if (r != EC_ERR_NOTFOUND)
				return r;
		}
		srv->st.mapping_nomap++;
	}
	r = ec_store_get_head(t, &srv->self, &m.head, &m.height);
	if (r == EC_ERR_NOTFOUND) {
		memset(&m.head, 0, sizeof m.head);
		m.height = 0;
	} else if (r != EC_OK) {
		return serve_store_fail(srv, K, r, req->nonce, RT, ans);
	}
	if (req->flags & EC_MAPPING_WANT_EVIDENCE)
		m.n_evidence = (uint8_t)ec_serve_evidence(srv, m.evidence);
	memcpy(m.pk, srv->kp.pk, EC_PUBKEY_BYTES);
	return serve_seal_obj(srv, mapping_write_any, &m, EC_TAG_MAPPING,
			      EC_MSG_MAPPING_RESP, K, ans);
}

/* ---- evidence after a restart ------------------------------------------------ */

int ec_serve_load_evidence(ec_serve *srv, ec_store_txn *t)
{
	ec_evidence got[EC_RESP_MAX_EVIDENCE];
	unsigned n = 0;
	ec_block b;
	ec_tx tx;
	ec_id id;
	uint64_t h;
	int r;
	if (!srv || !t)
		return EC_ERR_ARG;
	r = ec_store_get_head(t, &srv->self, &id, &h);
	if (r == EC_ERR_NOTFOUND)
		return EC_OK;
	/* newest first: last transaction of the head block, its last entry */
	while (r == EC_OK && n < EC_RESP_MAX_EVIDENCE) {
		/* our own chain is whole: a block or body missing is damage */
		r = ec_store_get_block(t, &id, &b);
		if (r != EC_OK)
			return r == EC_ERR_NOTFOUND ? EC_ERR_CORRUPT : r;
		for (unsigned i = b.n_txs; i-- > 0 && n < EC_RESP_MAX_EVIDENCE;) {
			r = ec_store_get_tx(t, &b.txids[i], &tx);
			if (r != EC_OK)
				return r == EC_ERR_NOTFOUND ? EC_ERR_CORRUPT : r;
			for (unsigned j = tx.n_entries; j-- > 0 && n < EC_RESP_MAX_EVIDENCE;) {
				got[n].token = tx.entries[j].token;
				got[n].txid = b.txids[i];
				got[n++].commit_ts = b.timestamp;
			}
		}
		if (b.height == 0)
			break;
		id = b.prev;
	}
	if (r != EC_OK)
		return r;
	srv->ev_n = srv->ev_next = 0;
	while (n-- > 0) /* oldest first, so the ring ends newest first */
		ec_serve_note_commit(srv, &got[n].token, &got[n].txid, got[n].commit_ts);
	return EC_OK;
}

/* ---- transactions ------------------------------------------------------------ */

static int txresp_write_any(ec_wbuf *w, const void *o)
{
	return ec_tx_resp_write(w, o);
}

int ec_serve_tx(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		const ec_tx_req *req, ec_time now, ec_serve_answer *ans)
{
	const unsigned K = EC_SERVE_TX;
	const uint8_t RT = EC_MSG_TX_REQ;
	ec_tx_resp x;
	ec_time bts;
	uint64_t bh, hh;
	ec_id head;
	int r;
	if (!serve_open(srv, t, from, req, ans))
		return EC_ERR_ARG;
	if (!serve_admit(srv, K, from, EC_RL_TX, 1, now, req->nonce, RT, ans, &r))
		return r;

	memset(&x, 0, sizeof x);
	memcpy(x.nonce, req->nonce, EC_NONCE_BYTES);
	x.responder = srv->self;
	r = commit_of(t, &req->txid, &x.commit_block, &bts, &bh, &x.position);
	if (r == EC_OK) {
		r = ec_store_get_tx(t, &req->txid, &x.tx);
		if (r == EC_ERR_NOTFOUND)
			r = EC_ERR_CORRUPT; /* indexed but no body */
		if (r == EC_OK)
			r = ec_store_get_head(t, &srv->self, &head, &hh);
		if (r != EC_OK)
			return serve_store_fail(srv, K, r, req->nonce, RT, ans);
		x.confirmations = hh >= bh ? hh - bh : 0;
	} else if (r == EC_ERR_NOTFOUND) {
		/* not in our chain: a body learned by sync, or our mempool */
		r = ec_store_get_tx(t, &req->txid, &x.tx);
		if (r == EC_ERR_NOTFOUND && srv->hooks.pending_tx) {
			const ec_tx *p = srv->hooks.pending_tx(srv->hooks.ctx, &req->txid);
			if (p && ec_id_eq(&p->id, &req->txid)) {
				x.tx = *p;
				srv->st.tx_pending++;
				r = EC_OK;
			}
		}
		if (r == EC_ERR_NOTFOUND)
			return serve_refuse(srv, K, req->nonce, RT, EC_REFUSE_NOTFOUND,
					    srv->cfg.notfound_retry_ms, ans);
		if (r != EC_OK)
			return serve_store_fail(srv, K, r, req->nonce, RT, ans);
	} else {
		return serve_store_fail(srv, K, r, req->nonce, RT, ans);
	}
	memcpy(x.pk, srv->kp.pk, EC_PUBKEY_BYTES);
	return serve_seal_obj(srv, txresp_write_any, &x, EC_TAG_TXRESP, EC_MSG_TX_RESP,
			      K, ans);
}

/* ---- tx-batch query (0x1B) ------------------------------------------------ */

static int txbatch_write_any(ec_wbuf *w, const void *o)
{
	return ec_txbatch_resp_write(w, o);
}

int ec_serve_txbatch(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const ec_txbatch_req *req, ec_time now, ec_serve_answer *ans)
{
	const unsigned K = EC_SERVE_TXBATCH;
	const uint8_t RT = EC_MSG_TXBATCH_REQ;
	ec_txbatch_resp x;
	int r;
	if (!serve_open(srv, t, from, req, ans))
		return EC_ERR_ARG;
	if (req->n == 0 || req->n > EC_TXBATCH_MAX)
		return EC_ERR_VALUE;
	if (!serve_admit(srv, K, from, EC_RL_TX, (req->n + 15u) / 16u, now, req->nonce,
			 RT, ans, &r))
		return r;
	memset(&x, 0, sizeof x);
	memcpy(x.nonce, req->nonce, EC_NONCE_BYTES);
	x.responder = srv->self;
	x.n_asked = req->n;
	if (!(x.txs = calloc(req->n, sizeof *x.txs)))
		return EC_ERR_NOMEM;
	for (unsigned i = 0; i < req->n; i++) {
		ec_tx *o = &x.txs[x.n_txs];
		r = ec_store_get_tx(t, &req->txids[i], o);
		if (r == EC_ERR_NOTFOUND && srv->hooks.pending_tx) {
			const ec_tx *p = srv->hooks.pending_tx(srv->hooks.ctx,
								&req->txids[i]);
			if (p && ec_id_eq(&p->id, &req->txids[i])) {
				*o = *p;
				r = EC_OK;
			}
		}
		if (r == EC_OK && ec_id_eq(&o->id, &req->txids[i])) {
			x.n_txs++;
		} else if (r == EC_OK || r == EC_ERR_NOTFOUND) {
			x.missing |= 1ull << i;
		} else {
			ec_txbatch_resp_free(&x);
			return serve_store_fail(srv, K, r, req->nonce, RT, ans);
		}
	}
	memcpy(x.pk, srv->kp.pk, EC_PUBKEY_BYTES);
	r = serve_seal_obj(srv, txbatch_write_any, &x, EC_TAG_TXBATCH,
			   EC_MSG_TXBATCH_RESP, K, ans);
	ec_txbatch_resp_free(&x);
	return r;
}
