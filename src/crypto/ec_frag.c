/* ec_frag.c - transport fragments: splitting a message that does not fit
 * one datagram of the sender's budget, and bounded reassembly at the
 * receiver (transport.h "fragments"; docs/PROTOCOL.md 16 "Fragments").
 *
 * Nothing here touches a socket, a clock or a random source: the daemon
 * seals each fragment as its own datagram (ec_dgram_seal_flags with
 * EC_DGRAM_FLAG_FRAG) and hands every authenticated fragment plaintext to
 * ec_reasm_add with the time.  Only authenticated fragments reach the
 * reassembler, so a forged one never occupies memory; an authenticated
 * sender that floods first fragments is bounded by the per-sender limits
 * and, past the global ones, loses its own oldest partial messages first
 * (the heaviest sender is evicted from). */
#include <stdlib.h>
#include <string.h>

#include "ec/transport.h"

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The chunk rule: c = ceil(total / count); fragment i covers
 * [i*c, min(total, (i+1)*c)).  0 when the fields cannot describe a
 * fragment: count < 2, index >= count, total 0, or some chunk empty.
 * The fields are checked before any arithmetic uses them: count is a
 * divisor and every value here can come from a peer. */
static int chunk_of(uint32_t total, uint16_t count, uint16_t index, uint32_t *off,
		    uint32_t *len)
{
	uint64_t c, o, last;
	if (count < 2 || index >= count || total == 0)
		return 0;
	c = ((uint64_t)total + count - 1) / count;
	o = (uint64_t)index * c;
	last = (uint64_t)(count - 1) * c;
	if (last >= total)
		return 0;
	*off = (uint32_t)o;
	*len = (uint32_t)((o + c > total ? total : o + c) - o);
	return 1;
}

size_t ec_frag_count(size_t len, size_t max_plain)
{
	size_t room, n;
	uint32_t off, l;
	if (len == 0 || max_plain <= EC_FRAG_HEADER_BYTES || len > UINT32_MAX)
		return 0;
	room = max_plain - EC_FRAG_HEADER_BYTES;
	n = (len + room - 1) / room;
	if (n < 2)
		n = 2;
	if (n > EC_FRAG_MAX_COUNT)
		return 0;
	/* with c = ceil(len/n) <= room, the last chunk can come out empty
	 * (len = 10, n = 6); fewer fragments then still fit */
	while (n > 2 && !chunk_of((uint32_t)len, (uint16_t)n, 0, &off, &l))
		n--;
	if (!chunk_of((uint32_t)len, (uint16_t)n, 0, &off, &l) || l > room)
		return 0;
	return n;
}

int ec_frag_make(uint8_t *out, size_t cap, size_t *out_len, uint64_t msg_id,
		 const uint8_t *msg, size_t len, uint16_t index, uint16_t count)
{
	uint32_t off, l;
	if (!out || !out_len || !msg || len > UINT32_MAX)
		return EC_ERR_ARG;
	if (!chunk_of((uint32_t)len, count, index, &off, &l))
		return EC_ERR_VALUE;
	if (cap < EC_FRAG_HEADER_BYTES + (size_t)l)
		return EC_ERR_ARG;
	put_u64(out, msg_id);
	put_u16(out + 8, index);
	put_u16(out + 10, count);
	put_u32(out + 12, (uint32_t)len);
	memcpy(out + EC_FRAG_HEADER_BYTES, msg + off, l);
	*out_len = EC_FRAG_HEADER_BYTES + (size_t)l;
	return EC_OK;
}

int ec_frag_parse(ec_frag_hdr *h, const uint8_t *p, size_t n, uint32_t max_total)
{
	if (!h || (!p && n))
		return EC_ERR_ARG;
	if (n < EC_FRAG_HEADER_BYTES)
		return EC_ERR_SHORT;
	h->msg_id = get_be(p, 8);
	h->index = (uint16_t)get_be(p + 8, 2);
	h->count = (uint16_t)get_be(p + 10, 2);
	h->total = (uint32_t)get_be(p + 12, 4);
	if (h->total > max_total)
		return EC_ERR_LIMIT;
	if (!chunk_of(h->total, h->count, h->index, &h->offset, &h->chunk_len))
		return EC_ERR_VALUE;
	if (n < EC_FRAG_HEADER_BYTES + (size_t)h->chunk_len)
		return EC_ERR_SHORT;
	if (n > EC_FRAG_HEADER_BYTES + (size_t)h->chunk_len)
		return EC_ERR_TRAILING;
	return EC_OK;
}

/* ---- reassembly ------------------------------------------------------------ */

typedef struct partial {
	uint8_t peer[32];
	uint64_t msg_id;
	uint64_t first_at;  /* time of its first fragment */
	uint32_t total;
	uint16_t count, have;
	uint8_t *buf;       /* total bytes */
	uint8_t *seen;      /* count bits */
} partial;

/* What one sender holds: the limits are checked against these, so no
 * step of admission or eviction adds up the partial messages again (such
 * a sum per sender per eviction would make one first fragment cost
 * O(held^2) work, ~180 us with 256 messages of 200 senders held). */
typedef struct sender {
	uint8_t peer[32];
	uint32_t msgs;
	uint64_t bytes;
} sender;

struct ec_reasm {
	ec_reasm_cfg cfg;
	partial *p;        /* unordered; n <= cfg.max_partial */
	size_t n;
	sender *s;         /* unordered, one per sender holding >= 1 partial */
	size_t ns;         /* <= n */
	uint64_t bytes;    /* sum of totals held */
	ec_reasm_stats st;
};

void ec_reasm_cfg_default(ec_reasm_cfg *c)
{
	c->max_msg = 262144;
	c->max_partial_peer = 4;
	c->max_partial = 256;
	c->max_bytes_peer = 1u << 20;
	c->max_bytes = 16u << 20;
	c->timeout_ms = 5000;
}

int ec_reasm_new(ec_reasm **out, const ec_reasm_cfg *cfg)
{
	ec_reasm *r;
	if (!out || !cfg)
		return EC_ERR_ARG;
	if (!cfg->max_msg || !cfg->max_partial_peer || !cfg->max_partial ||
	    !cfg->timeout_ms || cfg->max_msg > cfg->max_bytes_peer ||
	    cfg->max_bytes_peer > cfg->max_bytes || cfg->max_partial_peer > cfg->max_partial)
		return EC_ERR_VALUE;
	if (!(r = calloc(1, sizeof *r)))
		return EC_ERR_NOMEM;
	r->p = calloc(cfg->max_partial, sizeof *r->p);
	r->s = calloc(cfg->max_partial, sizeof *r->s);
	if (!r->p || !r->s) {
		free(r->p);
		free(r->s);
		free(r);
		return EC_ERR_NOMEM;
	}
	r->cfg = *cfg;
	*out = r;
	return EC_OK;
}

/* Index of peer's entry in the sender table; SIZE_MAX when it holds
 * nothing. */
static size_t sender_find(const ec_reasm *r, const uint8_t peer[32])
{
	for (size_t i = 0; i < r->ns; i++)
		if (!memcmp(r->s[i].peer, peer, 32))
			return i;
	return SIZE_MAX;
}

static void drop_at(ec_reasm *r, size_t i)
{
	size_t k = sender_find(r, r->p[i].peer);
	if (k != SIZE_MAX) { /* always: every partial has its sender */
		r->s[k].msgs--;
		r->s[k].bytes -= r->p[i].total;
		if (r->s[k].msgs == 0)
			r->s[k] = r->s[--r->ns];
	}
	r->bytes -= r->p[i].total;
	free(r->p[i].buf);
	free(r->p[i].seen);
	r->p[i] = r->p[--r->n];
}

void ec_reasm_free(ec_reasm *r)
{
	if (!r)
		return;
	while (r->n)
		drop_at(r, r->n - 1);
	free(r->p);
	free(r->s);
	free(r);
}

size_t ec_reasm_expire(ec_reasm *r, uint64_t now)
{
	size_t freed = 0;
	for (size_t i = 0; i < r->n;) {
		if (now >= r->p[i].first_at + r->cfg.timeout_ms) {
			drop_at(r, i);
			r->st.timed_out++;
			freed++;
		} else {
			i++;
		}
	}
	return freed;
}

void ec_reasm_drop_peer(ec_reasm *r, const uint8_t peer[32])
{
	for (size_t i = 0; i < r->n;) {
		if (!memcmp(r->p[i].peer, peer, 32))
			drop_at(r, i);
		else
			i++;
	}
}

uint64_t ec_reasm_next_deadline(const ec_reasm *r)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].first_at + r->cfg.timeout_ms < d)
			d = r->p[i].first_at + r->cfg.timeout_ms;
	return d;
}

void ec_reasm_get_stats(const ec_reasm *r, ec_reasm_stats *out)
{
	*out = r->st;
	out->held_msgs = r->n;
	out->held_bytes = r->bytes;
}

/* Index of the oldest partial message of peer (or of anyone when peer is
 * NULL); SIZE_MAX when none. */
static size_t oldest_of(const ec_reasm *r, const uint8_t *peer)
{
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < r->n; i++) {
		if (peer && memcmp(r->p[i].peer, peer, 32))
			continue;
		if (best == SIZE_MAX || r->p[i].first_at < r->p[best].first_at)
			best = i;
	}
	return best;
}

/* The sender holding the most buffered bytes (ties: the most partial
 * messages, then the lowest key, so that the choice does not depend on
 * the table's order). */
static const sender *heaviest(const ec_reasm *r)
{
	const sender *best = NULL;
	for (size_t i = 0; i < r->ns; i++) {
		const sender *x = &r->s[i];
		if (!best || x->bytes > best->bytes ||
		    (x->bytes == best->bytes &&
		     (x->msgs > best->msgs ||
		      (x->msgs == best->msgs && memcmp(x->peer, best->peer, 32) < 0))))
			best = x;
	}
	return best;
}

/* Frees partial messages until one more of `total` bytes from peer fits
 * both the per-sender and the global limits. */
static void make_room(ec_reasm *r, const uint8_t peer[32], uint32_t total)
{
	size_t k, i;
	for (;;) {
		k = sender_find(r, peer);
		if (k == SIZE_MAX || (r->s[k].msgs < r->cfg.max_partial_peer &&
				      r->s[k].bytes + total <= r->cfg.max_bytes_peer))
			break;
		if ((i = oldest_of(r, peer)) == SIZE_MAX)
			break;
		drop_at(r, i);
		r->st.evicted++;
	}
	while (r->n && (r->n >= r->cfg.max_partial || r->bytes + total > r->cfg.max_bytes)) {
		uint8_t h[32];
		memcpy(h, heaviest(r)->peer, 32);
		if ((i = oldest_of(r, h)) == SIZE_MAX)
			break;
		drop_at(r, i);
		r->st.evicted++;
	}
}

/* Counts a new partial message of `total` bytes for peer (its sender
 * entry made when new: ns <= n <= max_partial, so there is room). */
static void sender_add(ec_reasm *r, const uint8_t peer[32], uint32_t total)
{
	size_t k = sender_find(r, peer);
	if (k == SIZE_MAX) {
		k = r->ns++;
		memcpy(r->s[k].peer, peer, 32);
		r->s[k].msgs = 0;
		r->s[k].bytes = 0;
	}
	r->s[k].msgs++;
	r->s[k].bytes += total;
}

int ec_reasm_add(ec_reasm *r, const uint8_t peer[32], const uint8_t *frag, size_t n,
		 uint64_t now, uint8_t **msg, size_t *msg_len)
{
	ec_frag_hdr h;
	partial *q = NULL;
	size_t i;
	if (!r || !peer || !msg || !msg_len || (!frag && n))
		return EC_ERR_ARG;
	*msg = NULL;
	*msg_len = 0;
	(void)ec_reasm_expire(r, now);
	if (ec_frag_parse(&h, frag, n, r->cfg.max_msg) != EC_OK) {
		r->st.malformed++;
		return EC_OK;
	}
	for (i = 0; i < r->n; i++)
		if (r->p[i].msg_id == h.msg_id && !memcmp(r->p[i].peer, peer, 32)) {
			q = &r->p[i];
			break;
		}
	if (q && (q->count != h.count || q->total != h.total)) {
		/* the sender contradicts itself: nothing of it can be trusted */
		drop_at(r, i);
		r->st.inconsistent++;
		return EC_OK;
	}
	if (q && (q->seen[h.index / 8] >> (h.index % 8) & 1)) {
		r->st.duplicate++;
		return EC_OK;
	}
	if (!q) {
		partial np;
		make_room(r, peer, h.total);
		memset(&np, 0, sizeof np);
		memcpy(np.peer, peer, 32);
		np.msg_id = h.msg_id;
		np.first_at = now;
		np.total = h.total;
		np.count = h.count;
		np.buf = malloc(h.total);
		np.seen = calloc(((size_t)h.count + 7) / 8, 1);
		if (!np.buf || !np.seen) {
			free(np.buf);
			free(np.seen);
			return EC_ERR_NOMEM;
		}
		r->p[r->n++] = np;
		r->bytes += h.total;
		sender_add(r, peer, h.total);
		i = r->n - 1;
		q = &r->p[i];
	}
	memcpy(q->buf + h.offset, frag + EC_FRAG_HEADER_BYTES, h.chunk_len);
	q->seen[h.index / 8] |= (uint8_t)(1u << (h.index % 8));
	q->have++;
	r->st.fragments++;
	if (q->have < q->count)
		return EC_OK;
	*msg = q->buf;
	*msg_len = q->total;
	q->buf = NULL; /* handed out: drop_at frees the rest */
	drop_at(r, i);
	r->st.completed++;
	return EC_OK;
}
