/* ec_node_serve.c - the node's query service: token-mapping (0x10),
 * transaction (0x12), block (0x14) and range (0x16) requests are answered
 * by the ec_serve handle the node owns (include/ec/serve.h,
 * docs/PROTOCOL.md 13a-13c), behind the node's ec_ratelimit.
 *
 *   - ec_node_new makes the limiter (cfg.ratelimit, when cfg.rate_limit)
 *     and the service (cfg.serve, our peer id and lamppost key) and refills
 *     the minefield evidence from the store (ec_serve_load_evidence).
 *   - Hooks: pending_tx = the mempool entry's body while it is PENDING;
 *     requester_key_ok = ec_node_check_lamppost (NOTFOUND, i.e. we hold no
 *     state of the requester's identity token: accepted unless our peer
 *     table holds another key for it; the requester is bound by `from`
 *     already); addr_of = the address from the peer's hello;
 *     endorsements = the endorsement cache (ec_node_endorse.c).
 *   - Every request: one read txn, ec_serve_request with our peer set (not
 *     self) for referrals, the answer queued to `from` (the zero id = the
 *     local client).  A request that does not decode is dropped and
 *     counted as malformed; the outcomes are counted in ec_node_stats
 *     (queries_served / _referred / _refused / _rate_limited / _dropped).
 *   - node_seal notes every sealed block (ec_serve_note_block).
 *   - ec_node_set_rate_limits replaces the limiter's limits at run time. */
#include <stdlib.h>

#include "ec_node_int.h"

static const ec_tx *hook_pending_tx(void *ctx, const ec_id *txid)
{
	ec_node *n = ctx;
	ec_mp_entry *e = ec_mempool_get(n->mp, txid);
	if (e && e->has_tx && e->state == EC_MP_PENDING)
		return &e->tx;
	return NULL;
}

static int hook_key_ok(void *ctx, const ec_id *requester,
		       const uint8_t pk[EC_PUBKEY_BYTES])
{
	ec_node *n = ctx;
	const node_peer *p;
	switch (ec_node_check_lamppost(n, requester, pk)) {
	case EC_OK:
		return 1;
	case EC_ERR_NOTFOUND:
		p = node_peer_find(n, requester);
		return !p || memcmp(p->pk, pk, EC_PUBKEY_BYTES) == 0;
	default:
		return 0;
	}
}

static size_t hook_endorsements(void *ctx, const ec_id *block_id,
				ec_endorsement *out, size_t max)
{
	return node_endorse_get(ctx, block_id, out, max);
}

static uint8_t hook_addr_of(void *ctx, const ec_id *peer, uint8_t *addr)
{
	ec_node *n = ctx;
	const node_peer *p = node_peer_find(n, peer);
	if (!p || p->addr_len == 0 || p->addr_len > EC_ADDR_MAX)
		return 0;
	memcpy(addr, p->addr, p->addr_len);
	return p->addr_len;
}

int node_serve_new(ec_node *n)
{
	ec_serve_hooks hooks;
	ec_store_txn *t;
	int err;
	if (n->cfg.rate_limit) {
		ec_ratelimit_cfg rc = n->cfg.ratelimit;
		if (rc.hash_seed == 0) {
			ec_id h;
			ec_hash(&h, "ec/v1/node-rl-seed", n->cfg.key.sk,
				sizeof n->cfg.key.sk);
			for (int i = 0; i < 8; i++)
				rc.hash_seed = (rc.hash_seed << 8) | h.b[i];
			ec_memzero(&h, sizeof h);
		}
		if ((err = ec_ratelimit_new(&n->rl, &rc)) != EC_OK)
			return err;
	}
	memset(&hooks, 0, sizeof hooks);
	hooks.ctx = n;
	hooks.pending_tx = hook_pending_tx;
	hooks.requester_key_ok = hook_key_ok;
	hooks.addr_of = hook_addr_of;
	hooks.endorsements = hook_endorsements;
	if ((err = ec_serve_new(&n->srv, &n->cfg.serve, &n->self, &n->cfg.key,
				n->rl, &hooks)) != EC_OK)
		return err;
	if ((err = ec_store_txn_begin(n->cfg.store, 0, &t)) != EC_OK)
		return err;
	err = ec_serve_load_evidence(n->srv, t);
	ec_store_txn_abort(t);
	return err;
}

int ec_node_set_rate_limits(ec_node *n, const ec_ratelimit_cfg *cfg)
{
	int err;
	if (!n || !cfg)
		return EC_ERR_ARG;
	if (!n->rl)
		return EC_ERR_NOTFOUND;
	if ((err = ec_ratelimit_set_limits(n->rl, cfg->per_peer, cfg->total)) != EC_OK)
		return err;
	memcpy(n->cfg.ratelimit.per_peer, cfg->per_peer, sizeof cfg->per_peer);
	memcpy(n->cfg.ratelimit.total, cfg->total, sizeof cfg->total);
	return EC_OK;
}

void node_serve_free(ec_node *n)
{
	ec_serve_free(n->srv);
	ec_ratelimit_free(n->rl);
	n->srv = NULL;
	n->rl = NULL;
}

void node_dispatch_query(ec_node *n, const ec_id *from, uint8_t type,
			 const uint8_t *msg, size_t len, ec_time now)
{
	ec_serve_answer a;
	ec_store_txn *t;
	int err;
	(void)type;
	memset(&a, 0, sizeof a);
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK) {
		n->st.queries_dropped++; /* no store: nothing to answer from */
		return;
	}
	err = ec_serve_request(n->srv, t, from, msg, len, &n->peers, now, &a);
	ec_store_txn_abort(t);
	if (err != EC_OK) {
		if (err == EC_ERR_REFUSED || err == EC_ERR_NOMEM ||
		    err == EC_ERR_CRYPTO)
			n->st.queries_dropped++;
		else /* decode errors, EC_ERR_VALUE */
			n->st.dropped_malformed++;
		ec_serve_answer_clear(&a);
		return;
	}
	switch (a.type) {
	case EC_MSG_REFERRAL:
		n->st.queries_referred++;
		break;
	case EC_MSG_REFUSAL:
		n->st.queries_refused++;
		if (a.reason == EC_REFUSE_RATE)
			n->st.queries_rate_limited++;
		break;
	default:
		n->st.queries_served++;
		break;
	}
	node_send(n, from, a.msg, a.len); /* the outbox owns a.msg now */
}
