/* ec_node_key.c - learning a peer's rotated lamppost key from the peer's
 * identity-token neighbourhood (docs/PROTOCOL.md 14b "Key rotation";
 * issue 4 gap 5; DESIGN.md: "a verifier resolves the key hash through a
 * mapping query").
 *
 * A known peer signs with a key other than the one our peer table holds.
 * If our own state of its identity token names that key, node_peer_rotated
 * adopts it at once.  If we hold no state of that token (we are not in its
 * +-4 neighbourhood), we ask: a mapping request (0x10) for token = the
 * peer's id goes to the NODE_KEYLOOK_ASK peers of our peer set nearest to
 * that id (never the peer itself: it cannot vouch for its own key).  Each
 * signed mapping response that comes back from a peer we asked, with our
 * nonce, signed by the key we hold for that responder, for that token,
 * counts when its owner_key_hash = H_tag("ec/v1/keyhash", new key).
 * NODE_KEYLOOK_NEED agreeing answers adopt the key; the message that
 * started the lookup was dropped (dropped_bad_sig) and the peer's next
 * messages (re-pushes) are taken.  A lookup ends when adopted, when every
 * asked peer answered, or after tx_req_timeout_ms; one lookup per peer at
 * a time, at most NODE_MAX_KEYLOOK at once, and a peer whose lookup failed
 * is not looked up again with the same key for 10 timeouts (so a peer
 * spraying bad keys cannot make us query without end). */
#include <stdlib.h>

#include "ec_node_int.h"

static node_keylook *look_find(ec_node *n, const ec_id *peer)
{
	for (size_t i = 0; i < n->n_klook; i++)
		if (ec_id_eq(&n->klook[i].peer, peer))
			return &n->klook[i];
	return NULL;
}

static void look_remove(ec_node *n, node_keylook *l)
{
	size_t i = (size_t)(l - n->klook);
	memmove(&n->klook[i], &n->klook[i + 1], (n->n_klook - i - 1) * sizeof *l);
	n->n_klook--;
}

void node_keylook_start(ec_node *n, const ec_id *peer, const uint8_t *pk, ec_time now)
{
	node_keylook *l = look_find(n, peer);
	ec_id near[NODE_KEYLOOK_ASK + 1];
	size_t k;
	if (l) {
		/* running, or failed lately with this very key */
		if (now < l->deadline || memcmp(l->pk, pk, EC_PUBKEY_BYTES) == 0)
			return;
		look_remove(n, l);
	}
	if (n->n_klook == NODE_MAX_KEYLOOK)
		return;
	l = &n->klook[n->n_klook];
	memset(l, 0, sizeof *l);
	l->peer = *peer;
	memcpy(l->pk, pk, EC_PUBKEY_BYTES);
	l->deadline = now + n->cfg.tx_req_timeout_ms;
	k = ec_peerset_closest(&n->peers, peer, NODE_KEYLOOK_ASK + 1, near);
	for (size_t i = 0; i < k && l->n_asked < NODE_KEYLOOK_ASK; i++) {
		ec_mapping_req q;
		uint8_t *enc;
		size_t len;
		if (ec_id_eq(&near[i], peer))
			continue;
		memset(&q, 0, sizeof q);
		n->cfg.rng(n->cfg.rng_ctx, q.nonce, EC_NONCE_BYTES);
		q.token = *peer;
		if (ec_mapping_req_encode(&q, &enc, &len) != EC_OK)
			continue;
		l->asked[l->n_asked] = near[i];
		memcpy(l->nonce[l->n_asked], q.nonce, EC_NONCE_BYTES);
		l->n_asked++;
		n->st.key_lookups++;
		node_send(n, &near[i], enc, len);
	}
	if (l->n_asked == 0)
		return;
	n->n_klook++;
	node_deadline_min(n, l->deadline);
}

int node_keylook_recv(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		      ec_time now)
{
	ec_mapping_resp r;
	node_keylook *l = NULL;
	const node_peer *resp;
	ec_id kh;
	unsigned k = 0;
	if (n->n_klook == 0 || ec_mapping_resp_decode(&r, msg, len) != EC_OK)
		return 0; /* not ours: the caller decides */
	for (size_t i = 0; i < n->n_klook && !l; i++)
		for (k = 0; k < n->klook[i].n_asked; k++)
			if (memcmp(n->klook[i].nonce[k], r.nonce, EC_NONCE_BYTES) == 0) {
				l = &n->klook[i];
				break;
			}
	if (!l)
		return 0;
	/* ours by nonce: from here on the message is consumed */
	if (!ec_id_eq(&l->asked[k], from) || !ec_id_eq(&r.responder, from) ||
	    (l->answered & (1u << k)) || !ec_id_eq(&r.token, &l->peer) ||
	    !(resp = node_peer_find(n, from))) {
		n->st.dropped_unsolicited++;
		return 1;
	}
	if (memcmp(r.pk, resp->pk, EC_PUBKEY_BYTES) != 0 || ec_mapping_resp_verify(&r) != EC_OK) {
		n->st.dropped_bad_sig++;
		return 1;
	}
	l->answered |= (uint8_t)(1u << k);
	ec_keyhash(&kh, l->pk);
	if (ec_id_eq(&r.owner_key_hash, &kh) && !ec_id_is_zero(&r.txid)) {
		l->agree++;
		l->match |= (uint8_t)(1u << k);
	}
	if (l->agree >= NODE_KEYLOOK_NEED) {
		/* the answers so far, checked against the key adopted */
		for (unsigned a = 0; a < l->n_asked; a++)
			if (l->answered & (1u << a))
				node_swap_check(n, &l->asked[a], (l->match >> a) & 1, now);
		node_peer_set_key(n, &l->peer, l->pk);
		n->st.keys_learned++;
		look_remove(n, l);
	} else if (l->answered == (1u << l->n_asked) - 1) {
		/* everyone answered, too few agreed: failed, kept as a
		 * cooldown record until it expires */
		l->cooldown = 1;
		l->deadline = now + 10ull * n->cfg.tx_req_timeout_ms;
		node_deadline_min(n, l->deadline);
	}
	return 1;
}

void node_keylook_tick(ec_node *n, ec_time now)
{
	for (size_t i = 0; i < n->n_klook;) {
		node_keylook *l = &n->klook[i];
		if (now >= l->deadline) {
			if (l->cooldown) {
				look_remove(n, l);
				continue;
			}
			/* unanswered: failed; a cooldown before another try
			 * with the same key */
			l->cooldown = 1;
			l->deadline = now + 10ull * n->cfg.tx_req_timeout_ms;
		}
		node_deadline_min(n, l->deadline);
		i++;
	}
}
