/* ecn_net.c - the UDP side of ecnode: the transport peer table (X25519 key
 * -> directional keys, replay window, address, peer id), receiving
 * (cheap header checks -> authentication -> replay -> core), address
 * validation (the anti-amplification budget, challenges and echoes, answers
 * held until an address validates), sending the core's outbox, and the
 * core's timer.  Datagram layout: PROTOCOL 16.
 *
 * Peer table: a dense array (d->peers, never shrinking) indexed by keyed
 * hashes of the transport key, the peer id and the pseudo-id (ec_idindex,
 * O(1) expected per lookup whatever keys a sender picks, since it cannot
 * predict the hash key); unbound entries form an LRU list by array index,
 * so admission and eviction are O(1) too.  Entries move only when the
 * array grows (the indexes are then rebuilt). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "node/ecnode.h"

/* the table holds d->cfg.peer_table_max entries (4,096), a quarter of
 * them at most unbound, the rest at most bound */
#define MAX_PEERS(d) ((size_t)(d)->cfg.peer_table_max)
#define MAX_UNBOUND(d) (MAX_PEERS(d) / 4)
#define MAX_BOUND(d) (MAX_PEERS(d) - MAX_UNBOUND(d))
#define KX_PER_SEC 200.0  /* new-sender key derivations per second */
#define KX_BURST 400.0
#define LRU_NONE UINT32_MAX
/* address validation (PROTOCOL 16 "Address validation") */
#define CHAL_RETRY_MS 1000  /* at most one challenge a second per address */
#define PROBE_MAX 4         /* probes to an address never heard from: 1 s, 2 s,
			     * 4 s apart, then none until it is heard from */
#define HOLD_MS 3000        /* held messages dropped after this */
#define HOLD_PEER_MSGS 256
#define HOLD_PEER_BYTES (1u << 20) /* or --message-max when larger */
#define HOLD_MSGS 4096
#define HOLD_BYTES (8u << 20)      /* or 2 x the per-peer bytes when larger */

/* A message waiting for its peer's address to validate: in the list of all
 * held messages (oldest first) and in its peer's (oldest first, so the
 * oldest of all is always the first of its peer's). */
typedef struct ecn_held {
	struct ecn_held *prev, *next, *pnext;
	uint8_t kx[EC_KX_BYTES];
	ec_time at;
	size_t len;
	uint8_t msg[];
} ecn_held;

/* ---- the peer table ----------------------------------------------------------- */

static void hkey(const ecnode *d, ec_id *out, const char what[2], const uint8_t k[32])
{
	ec_hash_ctx h;
	ec_hash_init(&h, "ecnode/v1/peer-index");
	ec_hash_update(&h, d->idx_key, sizeof d->idx_key);
	ec_hash_update(&h, what, 2);
	ec_hash_update(&h, k, 32);
	ec_hash_final(&h, out);
}

static int idx_init(ecnode *d)
{
	if (d->idx_ready)
		return 0;
	ecn_rng(NULL, d->idx_key, sizeof d->idx_key);
	if (ec_idindex_init(&d->idx_kx, offsetof(ecn_peer, hk_kx)) != EC_OK ||
	    ec_idindex_init(&d->idx_id, offsetof(ecn_peer, hk_id)) != EC_OK ||
	    ec_idindex_init(&d->idx_pseudo, offsetof(ecn_peer, hk_pseudo)) != EC_OK)
		return -1;
	d->lru_head = d->lru_tail = LRU_NONE;
	d->idx_ready = 1;
	return 0;
}

static void idx_fill(ecnode *d, ec_idindex *x)
{
	ec_idindex_clear(x);
	for (size_t i = 0; i < d->n_peers; i++)
		ec_idindex_insert(x, &d->peers[i]);
}

/* Room in the three indexes for `want` entries. */
static int idx_reserve(ecnode *d, size_t want)
{
	ec_idindex *xs[3] = {&d->idx_kx, &d->idx_id, &d->idx_pseudo};
	for (int i = 0; i < 3; i++) {
		int emptied;
		if (ec_idindex_reserve(xs[i], want, &emptied) != EC_OK)
			return -1;
		if (emptied)
			idx_fill(d, xs[i]);
	}
	return 0;
}

ecn_peer *ecn_peer_by_kx(ecnode *d, const uint8_t kx[32])
{
	ec_id h;
	ecn_peer *p;
	if (!d->idx_ready)
		return NULL;
	hkey(d, &h, "kx", kx);
	p = ec_idindex_get(&d->idx_kx, &h);
	return p && memcmp(p->kx, kx, 32) == 0 ? p : NULL;
}

ecn_peer *ecn_peer_by_id(ecnode *d, const ec_id *id)
{
	ec_id h;
	ecn_peer *p;
	if (!d->idx_ready)
		return NULL;
	hkey(d, &h, "id", id->b);
	if ((p = ec_idindex_get(&d->idx_id, &h)) && ec_id_eq(&p->id, id))
		return p;
	if ((p = ec_idindex_get(&d->idx_pseudo, &h)) && ec_id_eq(&p->pseudo, id))
		return p;
	return NULL;
}

static uint32_t pix(const ecnode *d, const ecn_peer *p)
{
	return (uint32_t)(p - d->peers);
}

static void lru_unlink(ecnode *d, ecn_peer *p)
{
	if (!p->in_lru)
		return;
	if (p->lru_prev != LRU_NONE)
		d->peers[p->lru_prev].lru_next = p->lru_next;
	else
		d->lru_head = p->lru_next;
	if (p->lru_next != LRU_NONE)
		d->peers[p->lru_next].lru_prev = p->lru_prev;
	else
		d->lru_tail = p->lru_prev;
	p->in_lru = 0;
	d->n_lru--;
}

/* (Re)links p into the LRU list: first (next to evict) or last (most
 * recently heard). */
static void lru_link(ecnode *d, ecn_peer *p, int first)
{
	uint32_t i = pix(d, p);
	uint32_t *end = first ? &d->lru_head : &d->lru_tail;
	lru_unlink(d, p);
	p->lru_prev = first ? LRU_NONE : *end;
	p->lru_next = first ? *end : LRU_NONE;
	if (*end == LRU_NONE)
		*(first ? &d->lru_tail : &d->lru_head) = i;
	else if (first)
		d->peers[*end].lru_prev = i;
	else
		d->peers[*end].lru_next = i;
	*end = i;
	p->in_lru = 1;
	d->n_lru++;
}

/* Heard from now: an unbound, non-bootstrap entry becomes the most
 * recent of the LRU list; any other leaves it. */
static void lru_touch(ecnode *d, ecn_peer *p)
{
	uint32_t i = pix(d, p);
	if (p->bound || p->bootstrap) {
		lru_unlink(d, p);
		return;
	}
	if (p->in_lru && d->lru_tail == i)
		return;
	lru_link(d, p, 0);
}

static void set_id(ecnode *d, ecn_peer *p, const ec_id *id)
{
	if (ec_id_eq(&p->id, id))
		return;
	(void)ec_idindex_remove(&d->idx_id, p);
	p->id = *id;
	hkey(d, &p->hk_id, "id", id->b);
	ec_idindex_insert(&d->idx_id, p); /* one out, one in: room kept */
}

static void peer_unbind(ecnode *d, ecn_peer *p)
{
	set_id(d, p, &p->pseudo);
	if (p->bound)
		d->n_bound--;
	p->bound = 0;
	lru_touch(d, p);
}

static void held_drop_peer(ecnode *d, ecn_peer *p);

/* The bound share is full: the bound entry dead longest (least recently
 * heard; PROTOCOL 16 "Dead peers") leaves the core's peer set and the
 * store, and becomes the first unbound entry in line for eviction.  0, or
 * -1 when no bound entry is dead. */
static int evict_bound(ecnode *d, const ecn_peer *keep)
{
	ecn_peer *q = NULL;
	ec_store_txn *t;
	for (size_t i = 0; i < d->n_peers; i++) {
		ecn_peer *c = &d->peers[i];
		if (c != keep && c->bound && c->dead && (!q || c->last_rx < q->last_rx))
			q = c;
	}
	if (!q)
		return -1;
	(void)ec_node_remove_peer(d->node, &q->id);
	if (ec_store_txn_begin(d->store, 1, &t) == EC_OK) {
		(void)ec_store_del_peer(t, &q->id);
		if (ec_store_txn_commit(t) != EC_OK)
			ecn_log(ECN_WARN, "could not delete peer record");
	}
	held_drop_peer(d, q);
	if (d->reasm)
		ec_reasm_drop_peer(d->reasm, q->kx);
	free(q->hello);
	q->hello = NULL;
	q->hello_len = 0;
	q->hello_addr_ok = 0;
	q->dead = 0;
	q->intro_wait = 0;
	peer_unbind(d, q);
	if (!q->bootstrap) /* a bootstrap contact keeps its entry, unbound */
		lru_link(d, q, 1);
	d->st.peers_bound_evicted++;
	return 0;
}

int ecn_peer_bind(ecnode *d, ecn_peer *p, const ec_id *id)
{
	if (!p->bound) {
		if (d->n_bound >= MAX_BOUND(d) && evict_bound(d, p) != 0) {
			d->st.peers_bound_refused++;
			return -1;
		}
		d->n_bound++;
	}
	set_id(d, p, id);
	p->bound = 1;
	lru_unlink(d, p);
	return 0;
}

/* Evicts the least recently heard unbound entry and returns its slot
 * (out of the indexes, its memory freed); NULL when there is none. */
static ecn_peer *evict_one(ecnode *d)
{
	while (d->lru_head != LRU_NONE) {
		ecn_peer *p = &d->peers[d->lru_head];
		lru_unlink(d, p);
		if (p->bound || p->bootstrap)
			continue; /* marked after it was added: not evictable */
		held_drop_peer(d, p);
		if (d->reasm)
			ec_reasm_drop_peer(d->reasm, p->kx);
		(void)ec_idindex_remove(&d->idx_kx, p);
		(void)ec_idindex_remove(&d->idx_id, p);
		(void)ec_idindex_remove(&d->idx_pseudo, p);
		free(p->hello);
		d->st.peers_evicted++;
		return p;
	}
	return NULL;
}

ecn_peer *ecn_peer_add(ecnode *d, const uint8_t kx[32])
{
	ecn_peer *p;
	ec_transport_keys k;
	if ((p = ecn_peer_by_kx(d, kx)))
		return p;
	if (idx_init(d) != 0)
		return NULL;
	if (ec_transport_derive(&k, &d->kx, kx, d->ident.network_id) != EC_OK)
		return NULL;
	p = NULL;
	if (d->n_lru >= MAX_UNBOUND(d) || d->n_peers >= MAX_PEERS(d))
		p = evict_one(d);
	if (!p && d->n_peers >= MAX_PEERS(d)) {
		d->st.peers_refused++;
		ec_memzero(&k, sizeof k);
		return NULL;
	}
	if (!p) {
		if (d->n_peers == d->cap_peers) {
			size_t cap = d->cap_peers ? d->cap_peers * 2 : 64;
			ecn_peer *np = realloc(d->peers, cap * sizeof *np);
			if (!np) {
				ec_memzero(&k, sizeof k);
				return NULL;
			}
			d->peers = np;
			d->cap_peers = cap;
			/* the entries moved: the indexes point at the old array */
			idx_fill(d, &d->idx_kx);
			idx_fill(d, &d->idx_id);
			idx_fill(d, &d->idx_pseudo);
		}
		if (idx_reserve(d, d->n_peers + 1) != 0) {
			ec_memzero(&k, sizeof k);
			return NULL;
		}
		p = &d->peers[d->n_peers++];
	}
	memset(p, 0, sizeof *p);
	memcpy(p->kx, kx, 32);
	p->keys = k;
	ec_hash(&p->pseudo, "ec/v1/kxpeer", kx, 32);
	p->id = p->pseudo;
	hkey(d, &p->hk_kx, "kx", kx);
	hkey(d, &p->hk_id, "id", p->id.b);
	p->hk_pseudo = p->hk_id;
	ec_idindex_insert(&d->idx_kx, p);
	ec_idindex_insert(&d->idx_id, p);
	ec_idindex_insert(&d->idx_pseudo, p);
	lru_touch(d, p);
	ec_memzero(&k, sizeof k);
	return p;
}

void ecn_persist_peer(ecnode *d, const ecn_peer *p, const uint8_t sign_pk[32])
{
	ec_store_txn *t;
	ec_peer_rec r, old;
	if (!p->bound || ec_store_txn_begin(d->store, 1, &t) != EC_OK)
		return;
	memset(&r, 0, sizeof r);
	if (ec_store_get_peer(t, &p->id, &old) == EC_OK)
		r = old;
	r.peer = p->id;
	/* only an address that echoed our cookie: a restarted node greets
	 * what is stored, and a source address alone proves nothing */
	if (p->av_addr_len)
		ecn_addr_str((const struct sockaddr *)&p->av_addr, r.addr, sizeof r.addr);
	if (sign_pk)
		memcpy(r.sign_pk, sign_pk, 32);
	memcpy(r.kx_pk, p->kx, 32);
	r.last_seen = p->last_rx;
	if (ec_store_put_peer(t, &r) != EC_OK) {
		ec_store_txn_abort(t);
		ecn_log(ECN_WARN, "could not store peer record");
	} else if (ec_store_txn_commit(t) != EC_OK) { /* commit freed t */
		ecn_log(ECN_WARN, "could not store peer record");
	}
}

/* ---- sending ---------------------------------------------------------------- */

/* The low 32 bits count datagrams of this epoch; at their end a new epoch
 * is persisted first, so no counter value is ever used twice. */
static int next_counter(ecnode *d, uint64_t *out)
{
	if ((d->counter & 0xffffffffu) == 0xffffffffu &&
	    ecn_epoch_raise(d, (d->counter >> 32) + 1) != 0) {
		ecn_log(ECN_ERROR, "cannot persist a new transport epoch: not sending");
		return -1;
	}
	*out = d->counter++;
	return 0;
}

size_t ecn_frag_room(const ecnode *d)
{
	return d->cfg.dgram_max - EC_DGRAM_OVERHEAD;
}

uint32_t ecn_answer_bytes(const ecn_cfg *c)
{
	uint64_t b = (uint64_t)c->answer_dgrams *
		     (c->dgram_max - EC_DGRAM_OVERHEAD - EC_FRAG_HEADER_BYTES);
	if (b < EC_RANGE_MIN_MAX_BYTES)
		b = EC_RANGE_MIN_MAX_BYTES;
	if (b > c->msg_max)
		b = c->msg_max;
	return (uint32_t)b;
}

/* Seals one datagram under counter ctr and hands it to the kernel. */
static int send_dgram(ecnode *d, ecn_peer *p, uint64_t ctr, uint8_t flags,
		      const uint8_t *pt, size_t len)
{
	static uint8_t buf[EC_DGRAM_MAX_BYTES];
	size_t n;
	uv_buf_t b;
	int r;
	if (ec_dgram_seal_flags(buf, sizeof buf, &n, p->keys.tx, d->kx.pk, ctr, flags, pt,
				len) != EC_OK) {
		d->st.send_errors++;
		return -1;
	}
	b = uv_buf_init((char *)buf, (unsigned)n);
	r = uv_udp_try_send(&d->udp, &b, 1, (const struct sockaddr *)&p->addr);
	if (r == UV_EMSGSIZE) {
		/* the path MTU is under our budget (IP_PMTUDISC_DO): the
		 * kernel refuses instead of fragmenting */
		d->st.send_emsgsize++;
		if ((d->st.send_emsgsize & (d->st.send_emsgsize - 1)) == 0)
			ecn_log(ECN_WARN,
				"datagram of %zu bytes too big for the path (%llu so far): "
				"lower --datagram-max",
				n, (unsigned long long)d->st.send_emsgsize);
		return -1;
	}
	if (r < 0) {
		d->st.send_errors++;
		ecn_log(ECN_DEBUG, "send: %s", uv_strerror(r));
		return -1;
	}
	d->st.dgrams_tx++;
	d->st.bytes_tx += n;
	if (n > d->st.max_dgram_tx)
		d->st.max_dgram_tx = n;
	p->tx++;
	p->last_tx = ecn_now_ms();
	return 0;
}

/* Fragments go to the kernel FRAG_BATCH at a time with sendmmsg(2) (one
 * system call for many datagrams; libuv 1.44 has no batched send).  Safe
 * beside libuv: we only ever use uv_udp_try_send, so its send queue is
 * always empty and nothing of ours can be reordered. */
#define FRAG_BATCH 32
static uint8_t batch[FRAG_BATCH][EC_DGRAM_MAX_BYTES];

static int send_batch(ecnode *d, ecn_peer *p, const size_t *dl, size_t nb)
{
	struct mmsghdr mm[FRAG_BATCH];
	struct iovec iov[FRAG_BATCH];
	uv_os_fd_t fd;
	size_t done = 0;
	if (uv_fileno((const uv_handle_t *)&d->udp, &fd) != 0) {
		d->st.send_errors++;
		return -1;
	}
	memset(mm, 0, sizeof mm[0] * nb);
	for (size_t j = 0; j < nb; j++) {
		iov[j].iov_base = batch[j];
		iov[j].iov_len = dl[j];
		mm[j].msg_hdr.msg_name = &p->addr;
		mm[j].msg_hdr.msg_namelen = p->addr_len;
		mm[j].msg_hdr.msg_iov = &iov[j];
		mm[j].msg_hdr.msg_iovlen = 1;
	}
	while (done < nb) {
		int r = sendmmsg(fd, mm + done, (unsigned)(nb - done), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0 && errno == EMSGSIZE) {
				d->st.send_emsgsize++;
				if ((d->st.send_emsgsize & (d->st.send_emsgsize - 1)) == 0)
					ecn_log(ECN_WARN,
						"datagram of %zu bytes too big for the path (%llu so "
						"far): lower --datagram-max",
						dl[done], (unsigned long long)d->st.send_emsgsize);
			} else {
				d->st.send_errors++;
				ecn_log(ECN_DEBUG, "sendmmsg: %s", strerror(errno));
			}
			return -1;
		}
		for (int j = 0; j < r; j++) {
			size_t n = dl[done + (size_t)j];
			d->st.dgrams_tx++;
			d->st.bytes_tx += n;
			d->st.frag_dgrams_tx++;
			if (n > d->st.max_dgram_tx)
				d->st.max_dgram_tx = n;
			p->tx++;
		}
		done += (size_t)r;
	}
	p->last_tx = ecn_now_ms();
	return 0;
}

/* One message to one peer: one datagram when it fits the budget, else
 * fragments (PROTOCOL 16 "Fragments"), each its own sealed datagram; the
 * message id is the counter of the first fragment.  No address check. */
static int send_msg(ecnode *d, ecn_peer *p, const uint8_t *msg, size_t len)
{
	static uint8_t fb[EC_DGRAM_MAX_BYTES];
	size_t room = ecn_frag_room(d), count, fl;
	uint64_t ctr, id = 0;
	if (len <= room) {
		if (next_counter(d, &ctr) != 0) {
			d->st.send_errors++;
			return -1;
		}
		return send_dgram(d, p, ctr, 0, msg, len);
	}
	if ((count = ec_frag_count(len, room)) == 0) {
		d->st.drop_oversize++;
		return -1;
	}
	for (size_t i = 0; i < count;) {
		size_t nb = count - i < FRAG_BATCH ? count - i : FRAG_BATCH, dl[FRAG_BATCH];
		for (size_t j = 0; j < nb; j++) {
			if (next_counter(d, &ctr) != 0) {
				d->st.send_errors++;
				return -1;
			}
			if (i + j == 0)
				id = ctr;
			if (ec_frag_make(fb, sizeof fb, &fl, id, msg, len, (uint16_t)(i + j),
					 (uint16_t)count) != EC_OK ||
			    ec_dgram_seal_flags(batch[j], sizeof batch[j], &dl[j], p->keys.tx,
						d->kx.pk, ctr, EC_DGRAM_FLAG_FRAG, fb,
						fl) != EC_OK) {
				d->st.send_errors++;
				return -1;
			}
		}
		if (send_batch(d, p, dl, nb) != 0)
			return -1; /* the rest would be useless */
		i += nb;
	}
	d->st.frag_msgs_tx++;
	return 0;
}

/* ---- address validation (PROTOCOL 16 "Address validation") ------------------- */

/* UDP payload bytes that sending a message of len bytes costs. */
static uint64_t wire_bytes(const ecnode *d, size_t len)
{
	size_t room = ecn_frag_room(d);
	if (len <= room)
		return (uint64_t)len + EC_DGRAM_OVERHEAD;
	return (uint64_t)ec_frag_count(len, room) * (EC_DGRAM_OVERHEAD + EC_FRAG_HEADER_BYTES) + len;
}

static int addr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[EC_ADDR_MAX], y[EC_ADDR_MAX];
	uint8_t xl = ecn_addr_pack(a, x), yl = ecn_addr_pack(b, y);
	return xl && xl == yl && memcmp(x, y, xl) == 0;
}

/* A challenge or an echo: one datagram, 75 bytes. */
static int send_validate(ecnode *d, ecn_peer *p, uint8_t kind, const uint8_t c[EC_COOKIE_BYTES])
{
	uint8_t pl[EC_VALIDATE_BYTES];
	uint64_t ctr;
	if (ec_validate_encode(pl, kind, c) != EC_OK || next_counter(d, &ctr) != 0) {
		d->st.send_errors++;
		return -1;
	}
	return send_dgram(d, p, ctr, EC_DGRAM_FLAG_VALIDATE, pl, sizeof pl);
}

/* Challenges p's unvalidated address, at most once per CHAL_RETRY_MS:
 * within the budget, or, for an address never heard from (our own
 * initiative: bootstrap, store, introduction), as the one datagram that
 * opens contact -- a probe, PROBE_MAX of them at most (bootstrap contacts
 * aside), each twice as long after the one before. */
static void challenge(ecnode *d, ecn_peer *p, ec_time now)
{
	uint8_t a[EC_ADDR_MAX], c[EC_COOKIE_BYTES], al;
	int probe = !p->av_heard;
	ec_time wait = CHAL_RETRY_MS;
	if (p->av_ok || !p->has_addr)
		return;
	if (probe && !p->bootstrap) {
		if (p->probes >= PROBE_MAX)
			return;
		if (p->probes)
			wait = (ec_time)CHAL_RETRY_MS << (p->probes - 1);
	}
	if (p->chal_sent && now >= p->chal_sent && now - p->chal_sent < wait)
		return;
	if (!probe && p->av_tx + EC_VALIDATE_DGRAM_BYTES > p->av_rx)
		return;
	al = ecn_addr_pack((const struct sockaddr *)&p->addr, a);
	if (!al || ec_cookie_jar_make(&d->cookies, now, p->kx, a, al, c) != EC_OK ||
	    send_validate(d, p, EC_VALIDATE_CHALLENGE, c) != 0)
		return;
	if (probe) {
		d->st.av_probes++;
		if (p->probes < UINT8_MAX)
			p->probes++;
	} else {
		p->av_tx += EC_VALIDATE_DGRAM_BYTES;
		d->st.av_challenges++;
	}
	p->chal_sent = now;
}

/* Unlinks p's oldest held message h (p->held_first) from both lists. */
static void held_pop(ecnode *d, ecn_peer *p, ecn_held *h)
{
	if (p) {
		p->held_first = h->pnext;
		if (!p->held_first)
			p->held_last = NULL;
		p->held_msgs--;
		p->held_bytes -= h->len;
	}
	if (h->prev)
		h->prev->next = h->next;
	else
		d->held_head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		d->held_tail = h->prev;
	d->held_msgs--;
	d->held_bytes -= h->len;
}

/* Drops the oldest held message of all. */
static void held_drop_oldest(ecnode *d)
{
	ecn_held *h = d->held_head;
	ecn_peer *p = ecn_peer_by_kx(d, h->kx);
	held_pop(d, p && p->held_first == h ? p : NULL, h);
	free(h);
}

static void held_drop_peer(ecnode *d, ecn_peer *p)
{
	ecn_held *h;
	while ((h = p->held_first)) {
		held_pop(d, p, h);
		free(h);
	}
}

void ecn_held_expire(ecnode *d, ec_time now)
{
	while (d->held_head && now > d->held_head->at && now - d->held_head->at >= HOLD_MS) {
		held_drop_oldest(d);
		d->st.held_timed_out++;
	}
}

/* Keeps a copy of msg for p until p's address validates (or the budget
 * grows): bounded per peer and in all, the oldest of all evicted first. */
static int hold(ecnode *d, ecn_peer *p, const uint8_t *msg, size_t len)
{
	size_t peer_cap = d->cfg.msg_max > HOLD_PEER_BYTES ? d->cfg.msg_max : HOLD_PEER_BYTES;
	size_t cap = 2 * peer_cap > HOLD_BYTES ? 2 * peer_cap : HOLD_BYTES;
	ecn_held *h;
	if (p->held_msgs >= HOLD_PEER_MSGS || p->held_bytes + len > peer_cap) {
		d->st.held_refused++;
		return -1;
	}
	while (d->held_head && (d->held_msgs >= HOLD_MSGS || d->held_bytes + len > cap)) {
		held_drop_oldest(d);
		d->st.held_evicted++;
	}
	if (!(h = malloc(sizeof *h + len))) {
		d->st.held_refused++;
		return -1;
	}
	memcpy(h->kx, p->kx, EC_KX_BYTES);
	h->at = ecn_now_ms();
	h->len = len;
	memcpy(h->msg, msg, len);
	h->pnext = NULL;
	h->next = NULL;
	h->prev = d->held_tail;
	if (d->held_tail)
		d->held_tail->next = h;
	else
		d->held_head = h;
	d->held_tail = h;
	if (p->held_last)
		p->held_last->pnext = h;
	else
		p->held_first = h;
	p->held_last = h;
	p->held_msgs++;
	p->held_bytes += len;
	d->held_msgs++;
	d->held_bytes += len;
	d->st.held++;
	return 0;
}

/* Sends p's held messages, oldest first, as far as its address allows. */
static void held_flush(ecnode *d, ecn_peer *p)
{
	ecn_held *h;
	while ((h = p->held_first)) {
		if (!p->av_ok) {
			uint64_t w = wire_bytes(d, h->len);
			if (p->av_tx + w > p->av_rx)
				return;
			p->av_tx += w;
		}
		held_pop(d, p, h);
		d->st.held_sent++;
		(void)send_msg(d, p, h->msg, h->len);
		free(h);
	}
}

/* p's cached hello announces the address we validated for p: only then is
 * it introduced to our other peers (an introduction makes each of them
 * greet that address), whether it is forwarded when p binds or sent to a
 * peer that binds later. */
static int announces_validated(const ecn_peer *p)
{
	return p->av_ok && p->hello && p->hello_addr_ok &&
	       addr_eq((const struct sockaddr *)&p->hello_addr, (const struct sockaddr *)&p->addr);
}

static void forward_hello(ecnode *d, const ecn_peer *skip, const uint8_t *msg, size_t len);

static void validated(ecnode *d, ecn_peer *p)
{
	char a[128];
	p->av_ok = 1;
	p->av_addr = p->addr;
	p->av_addr_len = p->addr_len;
	p->av_rx = p->av_tx = 0;
	d->st.av_validated++;
	ecn_addr_str((const struct sockaddr *)&p->addr, a, sizeof a);
	ecn_log(ECN_DEBUG, "address %s validated", a);
	if (p->bound)
		ecn_persist_peer(d, p, NULL); /* the address a restart greets */
	if (p->intro_wait && p->bound && p->hello) {
		p->intro_wait = 0;
		if (announces_validated(p))
			forward_hello(d, p, p->hello, p->hello_len);
	}
	held_flush(d, p);
}

/* A datagram flagged EC_DGRAM_FLAG_VALIDATE from p (its address already
 * noted): a challenge is echoed, an echo checked. */
static void on_validate(ecnode *d, ecn_peer *p, const uint8_t *pt, size_t len, ec_time now)
{
	uint8_t kind, c[EC_COOKIE_BYTES], a[EC_ADDR_MAX], al;
	if (ec_validate_parse(&kind, c, pt, len) != EC_OK) {
		d->st.av_malformed++;
		return;
	}
	if (kind == EC_VALIDATE_CHALLENGE) {
		/* always within the budget: what we sent is at most what we
		 * received before this datagram, which adds as much as the
		 * echo costs */
		if (!p->av_ok) {
			if (p->av_tx + EC_VALIDATE_DGRAM_BYTES > p->av_rx)
				return;
			p->av_tx += EC_VALIDATE_DGRAM_BYTES;
		}
		if (send_validate(d, p, EC_VALIDATE_ECHO, c) == 0)
			d->st.av_echoes++;
		return;
	}
	if (p->av_ok)
		return;
	al = ecn_addr_pack((const struct sockaddr *)&p->addr, a);
	if (!al || ec_cookie_jar_check(&d->cookies, now, p->kx, a, al, c) != EC_OK) {
		d->st.av_bad_cookie++;
		return;
	}
	validated(d, p);
}

/* An authenticated datagram of n bytes from `from`: a new address is
 * unvalidated (with a budget of its own) unless it is the one validated
 * last. */
static void note_source(ecn_peer *p, const struct sockaddr *from, size_t n)
{
	if (!p->has_addr || !addr_eq(from, (const struct sockaddr *)&p->addr)) {
		socklen_t al = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							    : sizeof(struct sockaddr_in);
		memset(&p->addr, 0, sizeof p->addr);
		memcpy(&p->addr, from, al);
		p->addr_len = al;
		p->has_addr = 1;
		p->av_ok = p->av_addr_len &&
			   addr_eq(from, (const struct sockaddr *)&p->av_addr);
		p->av_rx = p->av_tx = 0;
		p->chal_sent = 0;
	}
	p->av_heard = 1;
	p->probes = 0;
	if (!p->av_ok)
		p->av_rx += n;
}

/* Everything to a peer goes through here: to an unvalidated address only
 * as many bytes as it sent us (the rest held, and the address challenged). */
int ecn_send_to_peer(ecnode *d, ecn_peer *p, const uint8_t *msg, size_t len)
{
	if (len > d->cfg.msg_max) {
		d->st.drop_oversize++;
		ecn_log(ECN_WARN, "message type 0x%02x of %zu bytes over --message-max: dropped",
			len ? msg[0] : 0, len);
		return -1;
	}
	if (!p->has_addr) {
		d->st.drop_no_route++;
		return -1;
	}
	if (!p->av_ok) {
		uint64_t w = wire_bytes(d, len);
		if (p->held_first || p->av_tx + w > p->av_rx) {
			int r = hold(d, p, msg, len);
			challenge(d, p, ecn_now_ms());
			return r;
		}
		p->av_tx += w;
	}
	return send_msg(d, p, msg, len);
}

void ecn_net_status(const ecnode *d, json_t *t)
{
#define SETI(k, v) json_object_set_new(t, k, json_integer((json_int_t)(v)))
	SETI("av_challenges", d->st.av_challenges);
	SETI("av_probes", d->st.av_probes);
	SETI("av_echoes", d->st.av_echoes);
	SETI("av_validated", d->st.av_validated);
	SETI("av_bad_cookie", d->st.av_bad_cookie);
	SETI("av_malformed", d->st.av_malformed);
	SETI("held", d->st.held);
	SETI("held_sent", d->st.held_sent);
	SETI("held_timed_out", d->st.held_timed_out);
	SETI("held_evicted", d->st.held_evicted);
	SETI("held_refused", d->st.held_refused);
	SETI("held_msgs", d->held_msgs);
	SETI("held_bytes", d->held_bytes);
	SETI("peers_evicted", d->st.peers_evicted);
	SETI("peers_refused", d->st.peers_refused);
	SETI("peers_bound_evicted", d->st.peers_bound_evicted);
	SETI("peers_bound_refused", d->st.peers_bound_refused);
	SETI("peers_unbound_lru", d->n_lru);
#undef SETI
}

void ecn_flush(ecnode *d)
{
	ec_node_out o;
	static const ec_id zero;
	while (ec_node_poll(d->node, &o)) {
		if (ec_id_eq(&o.to, &zero)) {
			/* an answer to the local client (an RPC query) */
			if (d->capturing && !d->cap_msg) {
				d->cap_msg = o.msg;
				d->cap_len = o.len;
				continue;
			}
		} else {
			ecn_peer *p = ecn_peer_by_id(d, &o.to);
			if (p)
				(void)ecn_send_to_peer(d, p, o.msg, o.len);
			else
				d->st.drop_no_route++;
		}
		free(o.msg);
	}
}

/* ---- timer ---------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
	ecnode *d = t->data;
	int err = ec_node_tick(d->node, ecn_now_ms());
	ecn_held_expire(d, ecn_now_ms());
	if (err != EC_OK) {
		ecn_log(ECN_ERROR, "node stopped: %s", ec_strerror(err));
		uv_stop(d->loop);
		return;
	}
	ecn_flush(d);
	ecn_schedule(d);
}

void ecn_schedule(ecnode *d)
{
	ec_time dl = ec_node_next_deadline(d->node), now = ecn_now_ms();
	uint64_t wait;
	if (d->stopping)
		return;
	if (dl == UINT64_MAX)
		wait = 1000; /* idle: look again in a second */
	else
		wait = dl > now ? dl - now : 0;
	if (wait > 1000)
		wait = 1000;
	uv_timer_start(&d->timer, on_timer, wait, 0);
}

/* ---- receiving -------------------------------------------------------------- */

static int kx_budget(ecnode *d)
{
	ec_time now = ecn_now_ms();
	if (now > d->kx_refill) {
		d->kx_tokens += (double)(now - d->kx_refill) * KX_PER_SEC / 1000.0;
		if (d->kx_tokens > KX_BURST)
			d->kx_tokens = KX_BURST;
		d->kx_refill = now;
	}
	if (d->kx_tokens < 1.0)
		return 0;
	d->kx_tokens -= 1.0;
	return 1;
}

/* A hello naming another transport key than its datagram's: a peer
 * introducing a third one (its cached, signed hello).  We do not trust it:
 * we only greet the named key at the named address; the peer binds itself
 * when it answers with its own hello. */
static void on_introduction(ecnode *d, const ec_hello *h)
{
	static const uint8_t zero[32];
	ecn_peer *q;
	if (!memcmp(h->kx_pk, zero, 32) || !memcmp(h->kx_pk, d->kx.pk, 32) ||
	    ecn_peer_by_kx(d, h->kx_pk) || ecn_peer_by_id(d, &h->peer_id))
		return;
	if (!kx_budget(d) || !(q = ecn_peer_add(d, h->kx_pk)))
		return;
	if (ecn_addr_unpack(h->addr, h->addr_len, &q->addr, &q->addr_len) != 0) {
		q->has_addr = 0;
		return;
	}
	q->has_addr = 1;
	d->st.introductions++;
	q->hello_sent = ecn_now_ms();
	(void)ec_node_send_hello(d->node, &q->id, q->hello_sent);
}

/* Sends `msg` (a hello) to every live bound peer but `skip`. */
static void forward_hello(ecnode *d, const ecn_peer *skip, const uint8_t *msg, size_t len)
{
	for (size_t i = 0; i < d->n_peers; i++)
		if (&d->peers[i] != skip && d->peers[i].bound && !d->peers[i].dead &&
		    d->peers[i].has_addr)
			(void)ecn_send_to_peer(d, &d->peers[i], msg, len);
}

/* A hello from an authenticated transport key: bind the key to the peer
 * id when the hello names the same key and is signed (the core checks the
 * identity proof and admits the peer).  A newly bound peer is sent the
 * signed hellos of the peers we know, and its own is forwarded to them once
 * its address is validated and is the address the hello announces. */
static int on_hello(ecnode *d, ecn_peer *p, const uint8_t *msg, size_t len)
{
	ec_hello h;
	int fresh;
	if (ec_hello_decode(&h, msg, len) != EC_OK)
		return 0; /* the core counts it as malformed */
	if (h.network_id != d->ident.network_id || ec_hello_verify(&h) != EC_OK ||
	    ec_id_eq(&h.peer_id, &d->ident.peer_id))
		return 0; /* the core counts it */
	if (memcmp(h.kx_pk, p->kx, 32) != 0) {
		if (p->bound) {
			on_introduction(d, &h);
			return -1;
		}
		d->st.drop_hello_kx++;
		return -1;
	}
	fresh = !p->bound || !ec_id_eq(&p->id, &h.peer_id);
	if (fresh) {
		ecn_peer *other = ecn_peer_by_id(d, &h.peer_id);
		char hex[17];
		if (other && other != p) /* the peer changed transport key */
			peer_unbind(d, other);
		if (ecn_peer_bind(d, p, &h.peer_id) != 0)
			return -1; /* bound share full of live peers: counted */
		ec_hex_encode(hex, h.peer_id.b, 8);
		ecn_log(ECN_INFO, "peer %s... bound to its transport key", hex);
	}
	p->last_hello = ecn_now_ms();
	{
		uint8_t *c = realloc(p->hello, len);
		if (c) {
			socklen_t sl;
			memcpy(c, msg, len);
			p->hello = c;
			p->hello_len = len;
			p->hello_addr_ok =
				ecn_addr_unpack(h.addr, h.addr_len, &p->hello_addr, &sl) == 0;
		}
	}
	ecn_persist_peer(d, p, h.pk);
	if (fresh) {
		p->intro_wait = 0;
		if (announces_validated(p))
			forward_hello(d, p, p->hello, p->hello_len);
		else
			p->intro_wait = 1;
		for (size_t i = 0; i < d->n_peers; i++)
			if (&d->peers[i] != p && d->peers[i].bound && !d->peers[i].dead &&
			    announces_validated(&d->peers[i]))
				(void)ecn_send_to_peer(d, p, d->peers[i].hello,
						       d->peers[i].hello_len);
	}
	return 0;
}

/* One whole authenticated message from peer (a datagram's plaintext or a
 * reassembled message): hellos bind keys, RPC answers go to their waiting
 * call, everything reaches the core. */
static void deliver(ecnode *d, ecn_peer *peer, const uint8_t *pt, size_t ptlen)
{
	int err;
	if (ptlen >= 1 && pt[0] == EC_MSG_HELLO && on_hello(d, peer, pt, ptlen) < 0)
		return;
	if (ecn_rpc_on_answer(d, peer, pt, ptlen))
		return;
	err = ec_node_recv(d->node, &peer->id, pt, ptlen, ecn_now_ms());
	if (err != EC_OK && err != EC_ERR_ARG) {
		ecn_log(ECN_ERROR, "node stopped: %s", ec_strerror(err));
		uv_stop(d->loop);
		return;
	}
	ecn_flush(d);
	ecn_schedule(d);
}

/* ---- dead peers --------------------------------------------------------------- */

/* A dead peer sent an authenticated datagram: back into the core with its
 * last verified hello (its key is bound to its peer id by that hello), and
 * greeted, so that its side takes us back too if it had dropped us. */
static void revive(ecnode *d, ecn_peer *p)
{
	char hex[17];
	p->dead = 0;
	d->st.peers_revived++;
	ec_hex_encode(hex, p->id.b, 8);
	ecn_log(ECN_INFO, "peer %s... back after %llu ms", hex,
		(unsigned long long)(ecn_now_ms() - p->dead_since));
	if (p->hello)
		(void)ec_node_recv(d->node, &p->id, p->hello, p->hello_len, ecn_now_ms());
	p->hello_sent = ecn_now_ms();
	(void)ec_node_send_hello(d->node, &p->id, p->hello_sent);
	ecn_flush(d);
}

size_t ecn_peers_check_dead(ecnode *d, ec_time now)
{
	size_t dead = 0;
	for (size_t i = 0; i < d->n_peers; i++) {
		ecn_peer *p = &d->peers[i];
		ec_time heard = p->last_rx > d->started ? p->last_rx : d->started;
		if (p->bound && !p->dead && d->cfg.peer_dead_ms && now > heard &&
		    now - heard >= d->cfg.peer_dead_ms) {
			char hex[17];
			p->dead = 1;
			p->dead_since = now;
			d->st.peers_died++;
			(void)ec_node_remove_peer(d->node, &p->id);
			ec_reasm_drop_peer(d->reasm, p->kx);
			ec_hex_encode(hex, p->id.b, 8);
			ecn_log(ECN_INFO, "peer %s... dead: nothing heard for %llu ms", hex,
				(unsigned long long)(now - heard));
		}
		dead += p->dead;
	}
	return dead;
}

size_t ecn_peers_dead_count(const ecnode *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_peers; i++)
		n += d->peers[i].dead;
	return n;
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
		    const struct sockaddr *from, unsigned flags)
{
	ecnode *d = u->data;
	static uint8_t pt[EC_DGRAM_MAX_BYTES];
	const uint8_t *p = (const uint8_t *)buf->base;
	ec_dgram_hdr h;
	ecn_peer *peer;
	ec_transport_keys k;
	const uint8_t *rxkey;
	size_t n, ptlen;
	int err, fresh = 0;
	if (flags & UV_UDP_MMSG_FREE)
		return; /* end of a recvmmsg batch: the buffer is static */
	if (nread <= 0 || !from)
		return; /* nothing, or an error */
	n = (size_t)nread;
	d->st.dgrams_rx++;
	d->st.bytes_rx += n;
	if (flags & UV_UDP_PARTIAL) {
		d->st.drop_malformed++;
		return;
	}
	if (ec_dgram_parse(&h, p, n) != EC_OK) {
		d->st.drop_malformed++;
		return;
	}
	peer = ecn_peer_by_kx(d, h.sender);
	if (peer) {
		rxkey = peer->keys.rx;
		if ((err = ec_replay_check(&peer->replay, h.counter)) != EC_OK) {
			if (err == EC_ERR_EXISTS)
				d->st.drop_replayed++;
			else
				d->st.drop_stale++;
			return;
		}
	} else {
		if (!kx_budget(d)) {
			d->st.drop_kx_limited++;
			return;
		}
		if (ec_transport_derive(&k, &d->kx, h.sender, d->ident.network_id) != EC_OK) {
			d->st.drop_bad_key++;
			return;
		}
		rxkey = k.rx;
		fresh = 1;
	}
	if (ec_dgram_open(pt, &ptlen, rxkey, p, n) != EC_OK) {
		d->st.drop_auth++;
		if (fresh)
			ec_memzero(&k, sizeof k);
		return;
	}
	if (fresh) {
		ec_memzero(&k, sizeof k);
		if (!(peer = ecn_peer_add(d, h.sender))) {
			d->st.drop_kx_limited++;
			return;
		}
	}
	ec_replay_accept(&peer->replay, h.counter);
	peer->rx++;
	peer->last_rx = ecn_now_ms();
	lru_touch(d, peer);
	note_source(peer, from, n);
	ecn_held_expire(d, peer->last_rx);
	if (peer->dead)
		revive(d, peer);
	if (h.flags == EC_DGRAM_FLAG_VALIDATE) {
		on_validate(d, peer, pt, ptlen, peer->last_rx);
		return;
	}
	if (!peer->av_ok) {
		/* challenge first, then whatever the grown budget allows */
		challenge(d, peer, peer->last_rx);
		held_flush(d, peer);
	}
	if (h.flags & EC_DGRAM_FLAG_FRAG) {
		uint8_t *m = NULL;
		size_t ml = 0;
		d->st.frag_dgrams_rx++;
		peer->frags_rx++;
		if (ec_reasm_add(d->reasm, peer->kx, pt, ptlen, peer->last_rx, &m, &ml) != EC_OK ||
		    !m)
			return;
		deliver(d, peer, m, ml);
		free(m);
		return;
	}
	deliver(d, peer, pt, ptlen);
}

/* Room for 16 datagrams of 64 KiB: libuv then reads with recvmmsg, up to
 * 16 datagrams per system call (each still handled one by one). */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char rbuf[16 * 65536];
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(rbuf, sizeof rbuf);
}

/* The kernel must never fragment what we send (issue 7): path MTU
 * discovery "do" (the DF bit; a datagram over the known path MTU fails
 * with EMSGSIZE, counted in send_emsgsize) and, for IPv6, DONTFRAG. */
static void no_ip_fragments(ecnode *d)
{
	uv_os_fd_t fd;
	int v, ok = 1;
	if (uv_fileno((const uv_handle_t *)&d->udp, &fd) != 0)
		return;
	if (d->listen_addr.ss_family == AF_INET) {
#ifdef IP_MTU_DISCOVER
		v = IP_PMTUDISC_DO;
		ok = setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v) == 0;
#endif
	} else {
#ifdef IPV6_MTU_DISCOVER
		v = IPV6_PMTUDISC_DO;
		ok = setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v) == 0;
#endif
#ifdef IPV6_DONTFRAG
		v = 1;
		ok = setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &v, sizeof v) == 0 && ok;
#endif
	}
	if (!ok)
		ecn_log(ECN_WARN, "cannot forbid IP fragmentation on the socket");
}

int ecn_net_start(ecnode *d)
{
	int r;
	unsigned flags = 0;
	if (ecn_addr_parse(d->cfg.listen, &d->listen_addr, &d->listen_len) != 0) {
		ecn_log(ECN_ERROR, "bad listen address '%s'", d->cfg.listen);
		return -1;
	}
	(void)flags;
	uv_udp_init_ex(d->loop, &d->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	d->udp.data = d;
	if ((r = uv_udp_bind(&d->udp, (const struct sockaddr *)&d->listen_addr, flags)) < 0) {
		ecn_log(ECN_ERROR, "bind %s: %s", d->cfg.listen, uv_strerror(r));
		return -1;
	}
	no_ip_fragments(d);
	{
		int sz = 4 << 20;
		uv_send_buffer_size((uv_handle_t *)&d->udp, &sz);
		sz = 4 << 20;
		uv_recv_buffer_size((uv_handle_t *)&d->udp, &sz);
	}
	{
		struct sockaddr_storage ss;
		int len = sizeof ss;
		if (uv_udp_getsockname(&d->udp, (struct sockaddr *)&ss, &len) == 0) {
			d->listen_addr = ss;
			d->listen_len = (socklen_t)len;
		}
		ecn_addr_str((const struct sockaddr *)&d->listen_addr, d->listen_str,
			     sizeof d->listen_str);
	}
	uv_timer_init(d->loop, &d->timer);
	d->timer.data = d;
	if (idx_init(d) != 0) {
		ecn_log(ECN_ERROR, "out of memory");
		return -1;
	}
	d->kx_tokens = KX_BURST;
	d->kx_refill = ecn_now_ms();
	if ((r = uv_udp_recv_start(&d->udp, on_alloc, on_recv)) < 0) {
		ecn_log(ECN_ERROR, "recv: %s", uv_strerror(r));
		return -1;
	}
	return 0;
}
