/* ec_serve_block.c - answers to block requests (section 10: block, stored
 * consensus proof, endorsements) and range requests (section 12: "up to K
 * ancestors of H", bounded by bytes), docs/PROTOCOL.md "Serving rules".
 *
 * Both responses are assembled from the stored canonical encodings of
 * blocks and proofs (STORAGE.md §1: stored as wire encodings), copied
 * straight into the output buffer and signed once: nothing is decoded or
 * re-encoded, and a range walk costs one store lookup per block (by prev
 * id).  tests/test_serve.c decodes every answer with the strict decoders
 * and verifies its signature, which checks the assembly is canonical. */
#include <stdlib.h>

#include "core/ec_serve_int.h"

/* Signature check of a signed request, after the cheap checks.  1 = pass. */
static int auth_ok(const ec_serve *srv, const ec_id *from, const ec_req_auth *a,
		   ec_time now, int (*verify)(const void *), const void *req)
{
	return serve_auth_cheap(srv, from, a, now) && verify(req) == EC_OK &&
	       serve_auth_key(srv, a);
}

static int verify_block_req(const void *r)
{
	return ec_block_req_verify(r);
}

static int verify_range_req(const void *r)
{
	return ec_range_req_verify(r);
}

/* ---- block response --------------------------------------------------------- */

static int endorse_cmp(const void *a, const void *b)
{
	return ec_id_cmp(&((const ec_endorsement *)a)->peer,
			 &((const ec_endorsement *)b)->peer);
}

/* Our endorsement and the node's collected ones: ascending by peer, no
 * peer twice, at most EC_RESP_MAX_ENDORSE.  Returns how many. */
static size_t endorsements(ec_serve *srv, const ec_id *block_id, ec_endorsement *e)
{
	ec_endorsement got[EC_RESP_MAX_ENDORSE];
	size_t n = 0, m = 0, room = EC_RESP_MAX_ENDORSE - srv->cfg.endorse_own;
	if (srv->hooks.endorsements) {
		m = srv->hooks.endorsements(srv->hooks.ctx, block_id, got, room);
		if (m > room)
			m = room;
	}
	for (size_t i = 0; i < m; i++)
		if (!ec_id_eq(&got[i].peer, &srv->self))
			e[n++] = got[i];
	if (srv->cfg.endorse_own &&
	    ec_endorsement_sign(&e[n], block_id, srv->kp.sk) == EC_OK) {
		e[n].peer = srv->self;
		n++;
	}
	qsort(e, n, sizeof *e, endorse_cmp);
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || !ec_id_eq(&e[m - 1].peer, &e[i].peer))
			e[m++] = e[i];
	return m;
}

int ec_serve_block(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		   const ec_block_req *req, ec_time now, ec_serve_answer *ans)
{
	const unsigned K = EC_SERVE_BLOCK;
	const uint8_t RT = EC_MSG_BLOCK_REQ;
	const uint8_t *nonce;
	const uint8_t *p;
	size_t n, ne;
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	ec_wbuf w;
	int cls, r;
	if (!serve_open(srv, t, from, req, ans))
		return EC_ERR_ARG;
	nonce = req->auth.nonce;
	cls = ec_ratelimit_class_of_priority(req->priority);
	if (cls < 0) { /* the decoder rejects these; a caller's struct may not */
		srv->st.kind[K].malformed++;
		return EC_ERR_VALUE; /* nothing signed before the rate limit */
	}
	if (!serve_admit(srv, K, from, (unsigned)cls, 1, now, nonce, RT, ans, &r))
		return r;
	if (!auth_ok(srv, from, &req->auth, now, verify_block_req, req))
		return serve_refuse(srv, K, nonce, RT, EC_REFUSE_BAD, 0, ans);

	r = ec_store_get_block_raw(t, &req->block_id, &p, &n);
	if (r == EC_ERR_NOTFOUND)
		return serve_refuse(srv, K, nonce, RT, EC_REFUSE_NOTFOUND,
				    srv->cfg.notfound_retry_ms, ans);
	if (r != EC_OK)
		return serve_store_fail(srv, K, r, nonce, RT, ans);
	ec_wbuf_init(&w);
	serve_write_head(srv, &w, EC_MSG_BLOCK_RESP, nonce);
	ec_wbuf_bytes(&w, p, n);
	r = ec_store_get_proof_raw(t, &req->block_id, &p, &n);
	if (r == EC_OK) {
		ec_wbuf_u8(&w, 1);
		ec_wbuf_bytes(&w, p, n);
	} else if (r == EC_ERR_NOTFOUND) {
		ec_wbuf_u8(&w, 0);
	} else {
		ec_wbuf_free(&w);
		return serve_store_fail(srv, K, r, nonce, RT, ans);
	}
	ne = endorsements(srv, &req->block_id, e);
	ec_wbuf_u8(&w, (uint8_t)ne);
	for (size_t i = 0; i < ne; i++) {
		ec_wbuf_bytes(&w, e[i].peer.b, EC_HASH_BYTES);
		ec_wbuf_bytes(&w, e[i].pk, EC_PUBKEY_BYTES);
		ec_wbuf_bytes(&w, e[i].sig, EC_SIG_BYTES);
	}
	ec_wbuf_bytes(&w, srv->kp.pk, EC_PUBKEY_BYTES);
	return serve_seal(srv, &w, EC_TAG_BLOCKRESP, EC_MSG_BLOCK_RESP, K, ans);
}

/* ---- range response -------------------------------------------------------- */

/* Offset of n_items in a range response: type, version, nonce, responder,
 * start. */
#define RANGE_COUNT_OFF (2 + EC_NONCE_BYTES + 2 * EC_HASH_BYTES)

typedef struct range_walk {
	ec_wbuf w;
	size_t cap_bytes; /* the response may not pass this */
	unsigned max_blocks;
	int with_proofs;
	unsigned n;
	int complete;
} range_walk;

/* Appends items from `start` down; returns EC_OK (walk ended), or a store
 * error (EC_ERR_NOTFOUND only for a missing start). */
static int range_fill(ec_store_txn *t, range_walk *rw, const ec_id *start,
		      const ec_id *stop)
{
	ec_id cur = *start;
	serve_block_hdr h, last;
	const uint8_t *bp, *pp = NULL;
	size_t bn, pn, size = EC_RANGE_RESP_FIXED_BYTES;
	int r;
	for (;;) {
		r = ec_store_get_block_raw(t, &cur, &bp, &bn);
		if (r == EC_ERR_NOTFOUND && rw->n > 0)
			return EC_OK; /* a gap in what we hold: cut, not complete */
		if (r == EC_OK)
			r = serve_block_hdr_read(bp, bn, &h);
		if (r != EC_OK)
			return r;
		if (rw->n > 0 && (!ec_id_eq(&h.creator, &last.creator) ||
				  h.height + 1 != last.height))
			return EC_ERR_CORRUPT; /* a stored block's prev lies */
		pn = 0;
		if (rw->with_proofs) {
			r = ec_store_get_proof_raw(t, &cur, &pp, &pn);
			if (r == EC_ERR_NOTFOUND)
				pn = 0;
			else if (r != EC_OK)
				return r;
		}
		if (size + bn + 1 + pn > rw->cap_bytes) {
			if (rw->n > 0 || size + bn + 1 > rw->cap_bytes)
				return EC_OK; /* cut by max_bytes */
			pn = 0; /* the first block goes without its proof */
		}
		/* get_proof_raw does not invalidate bp: reads only */
		ec_wbuf_bytes(&rw->w, bp, bn);
		ec_wbuf_u8(&rw->w, pn ? 1 : 0);
		if (pn)
			ec_wbuf_bytes(&rw->w, pp, pn);
		size += bn + 1 + pn;
		rw->n++;
		if (h.height == 0 || (!ec_id_is_zero(stop) && ec_id_eq(&h.prev, stop))) {
			rw->complete = 1;
			return EC_OK;
		}
		if (rw->n >= rw->max_blocks)
			return EC_OK;
		last = h;
		cur = h.prev;
	}
}

int ec_serve_range(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		   const ec_range_req *req, ec_time now, ec_serve_answer *ans)
{
	const unsigned K = EC_SERVE_RANGE;
	const uint8_t RT = EC_MSG_RANGE_REQ;
	const uint8_t *nonce;
	range_walk rw;
	uint32_t cost;
	int cls, r;
	if (!serve_open(srv, t, from, req, ans))
		return EC_ERR_ARG;
	nonce = req->auth.nonce;
	cls = ec_ratelimit_class_of_priority(req->priority);
	if (cls < 0 || req->max_blocks == 0 || req->max_bytes < EC_RANGE_MIN_MAX_BYTES) {
		srv->st.kind[K].malformed++;
		return EC_ERR_VALUE; /* as the decoder would; nothing signed */
	}
	cost = (req->max_blocks + srv->cfg.range_blocks_per_token - 1u) /
	       srv->cfg.range_blocks_per_token;
	if (!serve_admit(srv, K, from, (unsigned)cls, cost, now, nonce, RT, ans, &r))
		return r;
	if (!auth_ok(srv, from, &req->auth, now, verify_range_req, req))
		return serve_refuse(srv, K, nonce, RT, EC_REFUSE_BAD, 0, ans);

	memset(&rw, 0, sizeof rw);
	rw.cap_bytes = req->max_bytes < srv->cfg.max_range_bytes ? req->max_bytes
								 : srv->cfg.max_range_bytes;
	rw.max_blocks = req->max_blocks < srv->cfg.max_range_blocks
				? req->max_blocks
				: srv->cfg.max_range_blocks;
	rw.with_proofs = (req->flags & EC_RANGE_WITH_PROOFS) != 0;
	ec_wbuf_init(&rw.w);
	serve_write_head(srv, &rw.w, EC_MSG_RANGE_RESP, nonce);
	ec_wbuf_bytes(&rw.w, req->start.b, EC_HASH_BYTES);
	ec_wbuf_u16(&rw.w, 0); /* n_items, patched below */
	if (ec_id_eq(&req->start, &req->stop)) {
		/* the requester already holds start: nothing to send */
		rw.complete = 1;
		r = ec_store_has_block(t, &req->start);
		r = r == 1 ? EC_OK : r == 0 ? EC_ERR_NOTFOUND : r;
	} else {
		r = range_fill(t, &rw, &req->start, &req->stop);
	}
	if (r != EC_OK) {
		ec_wbuf_free(&rw.w);
		if (r == EC_ERR_NOTFOUND)
			return serve_refuse(srv, K, nonce, RT, EC_REFUSE_NOTFOUND,
					    srv->cfg.notfound_retry_ms, ans);
		return serve_store_fail(srv, K, r, nonce, RT, ans);
	}
	if (rw.w.err == EC_OK) {
		rw.w.p[RANGE_COUNT_OFF] = (uint8_t)(rw.n >> 8);
		rw.w.p[RANGE_COUNT_OFF + 1] = (uint8_t)rw.n;
	}
	ec_wbuf_u8(&rw.w, (uint8_t)rw.complete);
	ec_wbuf_bytes(&rw.w, srv->kp.pk, EC_PUBKEY_BYTES);
	r = serve_seal(srv, &rw.w, EC_TAG_RANGERESP, EC_MSG_RANGE_RESP, K, ans);
	if (r == EC_OK) {
		srv->st.range_blocks += rw.n;
		srv->st.range_incomplete += !rw.complete;
	}
	return r;
}
