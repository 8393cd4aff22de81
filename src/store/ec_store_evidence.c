/* ec_store_evidence.c - the `evidence` table: equivocation evidence kept
 * by the sync engine (docs/STORAGE.md section 3.5, PROTOCOL 14c), the two
 * signed messages of one peer that cannot both be true, kept as they were
 * received.
 *
 * Key: peer id (32) || u32 seq (big-endian; 0, 1, ... per peer).
 * Value: u8 rv = 1, u64 detected, u32 a_len, a, u32 b_len, b
 *        (each message at most EC_EVIDENCE_MSG_MAX bytes).
 * The same checks guard writing (EC_ERR_ARG) and reading (EC_ERR_CORRUPT). */
#include <stdlib.h>

#include "store/ec_store_int.h"
#include "util/ec_buf.h"

#define EV_KEY 36

static void e_put_u32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t e_get_u32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int ev_parse(ec_equiv_evidence *e, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	size_t al, bl;
	memset(e, 0, sizeof *e);
	if (kn != EV_KEY || vn < 1 + 8 + 4 + 4 || v[0] != EC_STORE_RV)
		return EC_ERR_CORRUPT;
	memcpy(e->peer.b, k, 32);
	e->seq = e_get_u32(k + 32);
	e->detected = ec_get_u64(v + 1);
	al = e_get_u32(v + 9);
	if (al > EC_EVIDENCE_MSG_MAX || vn < 13 + al + 4)
		return EC_ERR_CORRUPT;
	bl = e_get_u32(v + 13 + al);
	if (bl > EC_EVIDENCE_MSG_MAX || vn != 17 + al + bl)
		return EC_ERR_CORRUPT;
	e->a = v + 13;
	e->a_len = al;
	e->b = v + 17 + al;
	e->b_len = bl;
	return EC_OK;
}

int ec_store_evid_check(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	ec_equiv_evidence e;
	return ev_parse(&e, k, kn, v, vn);
}

struct e_iter {
	ec_store_evidence_fn fn;
	void *ctx;
	uint32_t next; /* counting mode (fn NULL): max seq + 1 */
};

static int e_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct e_iter *it = ctx;
	ec_equiv_evidence e;
	if (ev_parse(&e, k, kn, v, vn) != EC_OK)
		return EC_KV_BADREC;
	if (!it->fn) {
		if (e.seq >= it->next)
			it->next = e.seq + 1;
		return 0;
	}
	return it->fn(it->ctx, &e);
}

int ec_store_iter_evidence(ec_store_txn *t, const ec_id *peer, ec_store_evidence_fn fn,
			   void *ctx)
{
	struct e_iter it = {fn, ctx, 0};
	uint8_t k[32];
	if (!t || !fn)
		return EC_ERR_ARG;
	if (!peer)
		return ec_store_kv_iter(t, EC_T_EVID, (const uint8_t *)"", 0, 0, e_cb, &it);
	memcpy(k, peer->b, 32);
	return ec_store_kv_iter(t, EC_T_EVID, k, 32, 32, e_cb, &it);
}

int ec_store_add_evidence(ec_store_txn *t, const ec_id *peer, ec_time detected,
			  const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
			  uint32_t *seq_out)
{
	struct e_iter it = {NULL, NULL, 0};
	uint8_t k[EV_KEY], *v;
	size_t vn;
	int r;
	if (!t || !peer || (a_len && !a) || (b_len && !b) || a_len > EC_EVIDENCE_MSG_MAX ||
	    b_len > EC_EVIDENCE_MSG_MAX)
		return EC_ERR_ARG;
	if (t->err != EC_OK)
		return t->err;
	if (!t->write)
		return EC_ERR_READONLY;
	memcpy(k, peer->b, 32);
	r = ec_store_kv_iter(t, EC_T_EVID, k, 32, 32, e_cb, &it);
	if (r != EC_OK)
		return r;
	e_put_u32(k + 32, it.next);
	vn = 17 + a_len + b_len;
	if (!(v = malloc(vn)))
		return EC_ERR_NOMEM;
	v[0] = EC_STORE_RV;
	ec_put_u64(v + 1, detected);
	e_put_u32(v + 9, (uint32_t)a_len);
	if (a_len)
		memcpy(v + 13, a, a_len);
	e_put_u32(v + 13 + a_len, (uint32_t)b_len);
	if (b_len)
		memcpy(v + 17 + a_len, b, b_len);
	r = ec_store_kv_put(t, EC_T_EVID, k, sizeof k, v, vn, 0);
	free(v);
	if (r == EC_OK && seq_out)
		*seq_out = it.next;
	return r;
}
