/* ec_store_metrics.c - the `swapm` table: per-peer metrics of the swap
 * module (swap.h), one record per peer id, apart from the peer records
 * (docs/STORAGE.md section 3.4).
 *
 * Value layout (big-endian, f64 as the u64 of its bits):
 *   u8 rv = 1, u8 region_len, region, u8 operator_len, operator,
 *   u64 n_requests, n_responses, n_checked, n_agreed, n_sync,
 *   f64 sync_sum, u64 n_latency, f64 latency_ms, f64 reputation,
 *   u32 n_penalties, n_equivocations, u64 first_seen, updated
 *   = 99 + tag bytes.
 * The same checks guard writing (EC_ERR_ARG) and reading (EC_ERR_CORRUPT),
 * so a record that reads back is always one put would accept. */
#include <math.h>

#include "store/ec_store_int.h"
#include "util/ec_buf.h"

#define METRICS_FIXED 99
#define METRICS_VAL_MAX (METRICS_FIXED + 2 * EC_PEER_TAG_MAX)

static void m_put_u32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint64_t m_dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static double m_bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

/* 1 when the record's numbers are in their domains. */
static int metrics_valid(const ec_peer_metrics *m)
{
	if (m->n_responses > m->n_requests || m->n_agreed > m->n_checked)
		return 0;
	if (!isfinite(m->sync_sum) || m->sync_sum < 0 || m->sync_sum > (double)m->n_sync)
		return 0;
	if (!isfinite(m->latency_ms) || m->latency_ms < 0)
		return 0;
	if (!isfinite(m->reputation) || m->reputation < 0 || m->reputation > 1)
		return 0;
	return 1;
}

int ec_store_put_metrics(ec_store_txn *t, const ec_peer_metrics *m)
{
	uint8_t v[METRICS_VAL_MAX], *q = v;
	size_t rl, ol;
	if (!t || !m)
		return EC_ERR_ARG;
	rl = strnlen(m->region, sizeof m->region);
	ol = strnlen(m->operator_tag, sizeof m->operator_tag);
	if (rl > EC_PEER_TAG_MAX || ol > EC_PEER_TAG_MAX || !metrics_valid(m))
		return EC_ERR_ARG;
	*q++ = EC_STORE_RV;
	*q++ = (uint8_t)rl;
	memcpy(q, m->region, rl);
	q += rl;
	*q++ = (uint8_t)ol;
	memcpy(q, m->operator_tag, ol);
	q += ol;
	ec_put_u64(q, m->n_requests);
	ec_put_u64(q + 8, m->n_responses);
	ec_put_u64(q + 16, m->n_checked);
	ec_put_u64(q + 24, m->n_agreed);
	ec_put_u64(q + 32, m->n_sync);
	ec_put_u64(q + 40, m_dbits(m->sync_sum));
	ec_put_u64(q + 48, m->n_latency);
	ec_put_u64(q + 56, m_dbits(m->latency_ms));
	ec_put_u64(q + 64, m_dbits(m->reputation));
	q += 72;
	m_put_u32(q, m->n_penalties);
	m_put_u32(q + 4, m->n_equivocations);
	ec_put_u64(q + 8, m->first_seen);
	ec_put_u64(q + 16, m->updated);
	q += 24;
	return ec_store_kv_put(t, EC_T_SWAPM, m->peer.b, 32, v, (size_t)(q - v), 0);
}

static int metrics_parse(ec_peer_metrics *m, const uint8_t *k, const uint8_t *v,
			 size_t vn)
{
	ec_cur c;
	uint8_t rl, ol;
	memset(m, 0, sizeof(*m));
	memcpy(m->peer.b, k, 32);
	ec_cur_init(&c, v, vn);
	if (ec_cur_u8(&c) != EC_STORE_RV)
		return EC_ERR_CORRUPT;
	rl = ec_cur_u8(&c);
	if (rl > EC_PEER_TAG_MAX)
		return EC_ERR_CORRUPT;
	ec_cur_bytes(&c, m->region, rl);
	ol = ec_cur_u8(&c);
	if (ol > EC_PEER_TAG_MAX)
		return EC_ERR_CORRUPT;
	ec_cur_bytes(&c, m->operator_tag, ol);
	m->n_requests = ec_cur_u64(&c);
	m->n_responses = ec_cur_u64(&c);
	m->n_checked = ec_cur_u64(&c);
	m->n_agreed = ec_cur_u64(&c);
	m->n_sync = ec_cur_u64(&c);
	m->sync_sum = m_bitsd(ec_cur_u64(&c));
	m->n_latency = ec_cur_u64(&c);
	m->latency_ms = m_bitsd(ec_cur_u64(&c));
	m->reputation = m_bitsd(ec_cur_u64(&c));
	m->n_penalties = ec_cur_u32(&c);
	m->n_equivocations = ec_cur_u32(&c);
	m->first_seen = ec_cur_u64(&c);
	m->updated = ec_cur_u64(&c);
	if (ec_cur_finish(&c) != EC_OK)
		return EC_ERR_CORRUPT;
	/* a NUL inside a tag would silently shorten it */
	if (strnlen(m->region, sizeof m->region) != rl ||
	    strnlen(m->operator_tag, sizeof m->operator_tag) != ol || !metrics_valid(m))
		return EC_ERR_CORRUPT;
	return EC_OK;
}

int ec_store_get_metrics(ec_store_txn *t, const ec_id *peer, ec_peer_metrics *out)
{
	const uint8_t *v;
	size_t vn;
	int r;
	if (!t || !peer || !out)
		return EC_ERR_ARG;
	r = ec_store_kv_get(t, EC_T_SWAPM, peer->b, 32, &v, &vn);
	if (r != EC_OK)
		return r;
	return ec_store_bad(t, EC_T_SWAPM, peer->b, 32, metrics_parse(out, peer->b, v, vn));
}

int ec_store_del_metrics(ec_store_txn *t, const ec_id *peer)
{
	if (!t || !peer)
		return EC_ERR_ARG;
	return ec_store_kv_del(t, EC_T_SWAPM, peer->b, 32);
}

struct m_iter {
	ec_store_metrics_fn fn;
	void *ctx;
};

static int m_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct m_iter *it = ctx;
	ec_peer_metrics m;
	if (kn != 32 || metrics_parse(&m, k, v, vn) != EC_OK)
		return EC_KV_BADREC;
	return it->fn(it->ctx, &m);
}

int ec_store_iter_metrics(ec_store_txn *t, ec_store_metrics_fn fn, void *ctx)
{
	struct m_iter it = {fn, ctx};
	if (!t || !fn)
		return EC_ERR_ARG;
	return ec_store_kv_iter(t, EC_T_SWAPM, (const uint8_t *)"", 0, 0, m_cb, &it);
}
