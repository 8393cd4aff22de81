/* ec_chain.c - the in-memory commit chain of one creator: block storage by
 * height (fixed chunks, stable pointers), the id -> height hash index, jump
 * references (docs/PROTOCOL.md 5.1) with one monotone cursor per delta, the
 * chain rules of 5.2 for appending and for verifying segments, and seek.
 * Deterministic and sans-I/O: time and keys come from the caller. */
#include <stdlib.h>

#include "ec/chain.h"
#include "ec/crypto.h"

#define CHUNK_SHIFT 10
#define CHUNK_BLOCKS ((size_t)1 << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_BLOCKS - 1)

/* Per delta: cnt blocks of the view (from its start) have timestamp <= lim.
 * Timestamps never decrease along a chain, so for a non-decreasing lim the
 * count only grows: O(1) amortised per query. */
typedef struct jump_cursor {
	size_t cnt[EC_JUMP_COUNT];
	ec_time lim[EC_JUMP_COUNT];
} jump_cursor;

/* Blocks indexed from 0: either a plain array (a segment) or the chain's
 * chunks. */
typedef struct block_view {
	const ec_block *arr;
	ec_block *const *chunks;
} block_view;

struct ec_chain {
	ec_block **chunks;
	size_t n_chunks, cap_chunks;
	uint64_t len;
	uint64_t *slots; /* open addressing: height + 1, 0 = empty */
	size_t mask;     /* slot count - 1 (a power of two), 0 = no table */
	jump_cursor cur;
};

static inline const ec_block *view_at(const block_view *v, size_t i)
{
	if (v->arr)
		return &v->arr[i];
	return &v->chunks[i >> CHUNK_SHIFT][i & CHUNK_MASK];
}

/* Number of blocks among view[0..n) with timestamp <= lim. */
static size_t count_le(jump_cursor *jc, int i, const block_view *v, size_t n,
		       ec_time lim)
{
	size_t lo, hi;
	if (lim >= jc->lim[i] && jc->cnt[i] <= n) {
		size_t k = jc->cnt[i];
		while (k < n && view_at(v, k)->timestamp <= lim)
			k++;
		jc->cnt[i] = k;
		jc->lim[i] = lim;
		return k;
	}
	lo = 0, hi = n; /* first index with timestamp > lim */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (view_at(v, mid)->timestamp <= lim)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Jump references of a block with timestamp ts placed after view[0..n).
 * known (may be NULL) gets bit i set where the reference is determined by
 * the view: always when the view starts at genesis (from_genesis), else
 * only when ts < delta (zero) or the target is inside the view. */
static void compute_jumps(jump_cursor *jc, const block_view *v, size_t n,
			  ec_time ts, int from_genesis, ec_id out[EC_JUMP_COUNT],
			  unsigned *known)
{
	unsigned k = 0;
	for (int i = 0; i < EC_JUMP_COUNT; i++) {
		size_t cnt = 0;
		if (ts >= ec_jump_delta_ms[i]) {
			cnt = count_le(jc, i, v, n, ts - ec_jump_delta_ms[i]);
			if (cnt > 0 || from_genesis)
				k |= 1u << i;
		} else {
			k |= 1u << i;
		}
		if (cnt > 0)
			out[i] = view_at(v, cnt - 1)->id;
		else
			memset(out[i].b, 0, EC_HASH_BYTES);
	}
	if (known)
		*known = k;
}

static int check_txids(const ec_block *b)
{
	if (b->n_txs == 0)
		return EC_ERR_VALUE;
	if (b->n_txs > EC_BLOCK_MAX_TXS)
		return EC_ERR_LIMIT;
	/* All pairs, but on 8-byte prefixes first: 496 integer compares for
	 * a full block instead of 496 memcmp calls (this runs per verified
	 * block). */
	uint64_t pre[EC_BLOCK_MAX_TXS];
	for (unsigned i = 0; i < b->n_txs; i++)
		memcpy(&pre[i], b->txids[i].b, sizeof pre[i]);
	for (unsigned i = 1; i < b->n_txs; i++)
		for (unsigned j = 0; j < i; j++)
			if (pre[i] == pre[j] &&
			    ec_id_eq(&b->txids[i], &b->txids[j]))
				return EC_ERR_ORDER;
	return EC_OK;
}

/* The rules of PROTOCOL.md 5.2 for block b.  parent is the verified block
 * before it, or NULL: then b is genesis if `genesis`, else the unlinkable
 * first block of a segment.  exp/known: the expected jump references;
 * exp_skip: the expected skip reference of a version-2 block, NULL when its
 * target lies before the segment. */
static int check_block(const ec_block *b, const ec_block *parent, int genesis,
		       const ec_id exp[EC_JUMP_COUNT], unsigned known,
		       const ec_id *exp_skip, int *jump)
{
	ec_id merkle, id;
	int r;

	*jump = -1;
	if (b->version != EC_BLOCK_V1 && b->version != EC_BLOCK_V2 &&
	    b->version != 0)
		return EC_ERR_VERSION;
	if ((r = check_txids(b)) != EC_OK)
		return r;
	if (parent) {
		if (parent->height == UINT64_MAX ||
		    b->height != parent->height + 1)
			return EC_ERR_HEIGHT;
		if (!ec_id_eq(&b->prev, &parent->id))
			return EC_ERR_PREV;
		if (!ec_id_eq(&b->creator, &parent->creator))
			return EC_ERR_CREATOR;
		if (b->timestamp < parent->timestamp)
			return EC_ERR_TIME;
		/* version 2 never goes back to version 1 */
		if (parent->version == EC_BLOCK_V2 &&
		    b->version != EC_BLOCK_V2)
			return EC_ERR_VERSION;
	} else if (genesis) {
		if (b->height != 0)
			return EC_ERR_HEIGHT;
		if (!ec_id_is_zero(&b->prev))
			return EC_ERR_PREV;
	}
	ec_merkle_root(&merkle, b->txids, b->n_txs);
	if (!ec_id_eq(&merkle, &b->merkle_root))
		return EC_ERR_MERKLE;
	for (int i = 0; i < EC_JUMP_COUNT; i++) {
		if ((known >> i & 1) && !ec_id_eq(&exp[i], &b->jumps[i])) {
			*jump = i;
			return EC_ERR_JUMP;
		}
	}
	if (b->version == EC_BLOCK_V2 && exp_skip &&
	    !ec_id_eq(exp_skip, &b->skip)) {
		*jump = EC_REF_SKIP;
		return EC_ERR_JUMP;
	}
	ec_block_compute_id(b, &id);
	if (!ec_id_eq(&id, &b->id))
		return EC_ERR_ID;
	return ec_verify_digest(b->sig, &id, b->signer_pk);
}

/* Expected skip reference of a block at height h placed after view[0..n),
 * whose view[0] has height base: the zero id at genesis, the id of the
 * block at the skip height when the view holds it, else NULL (before the
 * segment: not checked). */
static const ec_id *expected_skip(const block_view *v, size_t n,
				  uint64_t base, uint64_t h,
				  const ec_id *zero)
{
	uint64_t s;
	if (h == 0)
		return zero;
	s = ec_skip_height(h);
	if (s < base || s - base >= n)
		return NULL;
	return &view_at(v, (size_t)(s - base))->id;
}

static void set_fail(ec_chain_fail *fail, uint64_t height, size_t index,
		     int err, int jump)
{
	if (!fail)
		return;
	fail->height = height;
	fail->index = index;
	fail->err = err;
	fail->jump = jump;
}

/* ---- segments ------------------------------------------------------------ */

int ec_chain_verify(const ec_block *blocks, size_t n, ec_chain_fail *fail)
{
	block_view v = {blocks, NULL};
	jump_cursor jc;
	int from_genesis;
	uint64_t base;
	ec_id zero;

	memset(&zero, 0, sizeof zero);
	set_fail(fail, 0, 0, EC_OK, -1);
	if (n == 0)
		return EC_OK;
	if (!blocks)
		return EC_ERR_ARG;
	memset(&jc, 0, sizeof jc);
	/* A zero prev says "I am genesis" as much as height 0 does: either
	 * makes the segment start at genesis, and check_block then insists
	 * on both. */
	from_genesis = blocks[0].height == 0 || ec_id_is_zero(&blocks[0].prev);
	base = from_genesis ? 0 : blocks[0].height;
	for (size_t k = 0; k < n; k++) {
		const ec_block *b = &blocks[k];
		ec_id exp[EC_JUMP_COUNT];
		unsigned known;
		int jump, r;

		compute_jumps(&jc, &v, k, b->timestamp, from_genesis, exp,
			      &known);
		r = check_block(b, k ? &blocks[k - 1] : NULL, from_genesis, exp,
				known,
				expected_skip(&v, k, base, base + k, &zero),
				&jump);
		if (r != EC_OK) {
			set_fail(fail, base + k, k, r, jump);
			return r;
		}
	}
	return EC_OK;
}

/* ---- the chain ----------------------------------------------------------- */

ec_chain *ec_chain_new(void)
{
	return calloc(1, sizeof(ec_chain));
}

void ec_chain_free(ec_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_chunks; i++)
		free(c->chunks[i]);
	free(c->chunks);
	free(c->slots);
	free(c);
}

uint64_t ec_chain_length(const ec_chain *c)
{
	return c ? c->len : 0;
}

const ec_block *ec_chain_at(const ec_chain *c, uint64_t height)
{
	if (!c || height >= c->len)
		return NULL;
	return &c->chunks[height >> CHUNK_SHIFT][height & CHUNK_MASK];
}

const ec_block *ec_chain_head(const ec_chain *c)
{
	return c && c->len ? ec_chain_at(c, c->len - 1) : NULL;
}

static size_t slot_of(const ec_id *id, size_t mask)
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | id->b[i];
	return (size_t)h & mask;
}

const ec_block *ec_chain_find(const ec_chain *c, const ec_id *id)
{
	if (!c || !id || !c->mask)
		return NULL;
	for (size_t s = slot_of(id, c->mask);; s = (s + 1) & c->mask) {
		const ec_block *b;
		if (!c->slots[s])
			return NULL;
		b = ec_chain_at(c, c->slots[s] - 1);
		if (ec_id_eq(&b->id, id))
			return b;
	}
}

static void index_put(uint64_t *slots, size_t mask, const ec_id *id,
		      uint64_t height)
{
	size_t s = slot_of(id, mask);
	while (slots[s])
		s = (s + 1) & mask;
	slots[s] = height + 1;
}

/* Room for one more block: a chunk and an index below half full. */
static int reserve(ec_chain *c)
{
	if (c->len == UINT64_MAX - 1)
		return EC_ERR_LIMIT;
	if ((c->len >> CHUNK_SHIFT) >= c->n_chunks) {
		if (c->n_chunks == c->cap_chunks) {
			size_t cap = c->cap_chunks ? c->cap_chunks * 2 : 16;
			ec_block **nc = realloc(c->chunks, cap * sizeof *nc);
			if (!nc)
				return EC_ERR_NOMEM;
			c->chunks = nc;
			c->cap_chunks = cap;
		}
		c->chunks[c->n_chunks] = malloc(CHUNK_BLOCKS * sizeof(ec_block));
		if (!c->chunks[c->n_chunks])
			return EC_ERR_NOMEM;
		c->n_chunks++;
	}
	if ((c->len + 1) * 2 > (uint64_t)c->mask + (c->mask ? 1 : 0)) {
		size_t size = c->mask ? (c->mask + 1) * 2 : 1024;
		uint64_t *ns = calloc(size, sizeof *ns);
		if (!ns)
			return EC_ERR_NOMEM;
		for (uint64_t h = 0; h < c->len; h++)
			index_put(ns, size - 1, &ec_chain_at(c, h)->id, h);
		free(c->slots);
		c->slots = ns;
		c->mask = size - 1;
	}
	return EC_OK;
}

/* Appends a block already known to be valid (reserve() succeeded). */
static void push(ec_chain *c, const ec_block *b)
{
	uint64_t h = c->len;
	c->chunks[h >> CHUNK_SHIFT][h & CHUNK_MASK] = *b;
	index_put(c->slots, c->mask, &b->id, h);
	c->len++;
}

static block_view chain_view(const ec_chain *c)
{
	block_view v = {NULL, c->chunks};
	return v;
}

int ec_chain_jumps(ec_chain *c, ec_time ts, ec_id out[EC_JUMP_COUNT])
{
	block_view v;
	if (!c || !out)
		return EC_ERR_ARG;
	if (c->len && ts < ec_chain_head(c)->timestamp)
		return EC_ERR_TIME;
	v = chain_view(c);
	compute_jumps(&c->cur, &v, c->len, ts, 1, out, NULL);
	return EC_OK;
}

int ec_chain_seal(ec_chain *c, const ec_id *creator, ec_time ts,
		  const ec_id *txids, size_t n, const ec_id *proof_hash,
		  const uint8_t sk[EC_SECKEY_BYTES], ec_block *out)
{
	const ec_block *head;
	ec_block b;
	int r;

	if (!c || !creator || (!txids && n) || !proof_hash || !sk)
		return EC_ERR_ARG;
	head = ec_chain_head(c);
	if (head && ts < head->timestamp)
		return EC_ERR_TIME;
	if (n == 0)
		return EC_ERR_VALUE;
	if (n > EC_BLOCK_MAX_TXS)
		return EC_ERR_LIMIT;
	if (head && !ec_id_eq(creator, &head->creator))
		return EC_ERR_CREATOR;
	memset(&b, 0, sizeof b);
	b.version = EC_BLOCK_V2;
	b.creator = *creator;
	b.height = c->len;
	if (c->len)
		b.skip = ec_chain_at(c, ec_skip_height(c->len))->id;
	b.timestamp = ts;
	if (head)
		b.prev = head->id;
	b.n_txs = (uint8_t)n;
	memcpy(b.txids, txids, n * sizeof *txids);
	if ((r = check_txids(&b)) != EC_OK)
		return r;
	if ((r = ec_chain_jumps(c, ts, b.jumps)) != EC_OK)
		return r;
	ec_merkle_root(&b.merkle_root, b.txids, n);
	b.proof_hash = *proof_hash;
	if ((r = ec_block_sign(&b, sk)) != EC_OK)
		return r;
	if ((r = reserve(c)) != EC_OK)
		return r;
	push(c, &b);
	if (out)
		*out = b;
	return EC_OK;
}

int ec_chain_append(ec_chain *c, const ec_block *b, ec_chain_fail *fail)
{
	const ec_block *head;
	ec_id exp[EC_JUMP_COUNT];
	block_view v;
	int jump = -1, r;

	if (!c || !b)
		return EC_ERR_ARG;
	head = ec_chain_head(c);
	v = chain_view(c);
	if (head && b->timestamp < head->timestamp) {
		/* No jump references exist for an older time: the other
		 * checks in check_block's order, then the time rule. */
		r = check_txids(b);
		if (r == EC_OK && b->height != c->len)
			r = EC_ERR_HEIGHT;
		else if (r == EC_OK && !ec_id_eq(&b->prev, &head->id))
			r = EC_ERR_PREV;
		else if (r == EC_OK && !ec_id_eq(&b->creator, &head->creator))
			r = EC_ERR_CREATOR;
		else if (r == EC_OK)
			r = EC_ERR_TIME;
	} else {
		/* A rejected block must not move the cursors. */
		jump_cursor jc = c->cur;
		ec_id zero;
		memset(&zero, 0, sizeof zero);
		compute_jumps(&jc, &v, c->len, b->timestamp, 1, exp, NULL);
		r = check_block(b, head, 1, exp, (1u << EC_JUMP_COUNT) - 1,
				expected_skip(&v, (size_t)c->len, 0, c->len,
					      &zero),
				&jump);
		if (r == EC_OK)
			c->cur = jc;
	}
	if (r == EC_OK)
		r = reserve(c);
	if (r != EC_OK) {
		set_fail(fail, c->len, (size_t)c->len, r, jump);
		return r;
	}
	push(c, b);
	set_fail(fail, 0, 0, EC_OK, -1);
	return EC_OK;
}

const char *ec_chain_ref_name(int jump)
{
	static const char *const names[EC_JUMP_COUNT] = {"1min", "1h", "1d",
							 "7d", "30d"};
	if (jump == -1)
		return "prev";
	if (jump == EC_REF_SKIP)
		return "skip";
	if (jump < 0 || jump >= EC_JUMP_COUNT)
		return "?";
	return names[jump];
}

/* ---- seek ---------------------------------------------------------------- */

int ec_chain_seek(const ec_chain *c, const ec_id *from_id, uint64_t back_ms,
		  ec_seek_hop *hops, size_t max_hops, size_t *n_hops,
		  uint64_t *found)
{
	const ec_block *b;
	size_t nh = 0;
	ec_time target;
	int r = EC_OK;

	if (n_hops)
		*n_hops = 0;
	if (found)
		*found = UINT64_MAX;
	if (!c || !from_id || !n_hops || !found || (max_hops && !hops))
		return EC_ERR_ARG;
	b = ec_chain_find(c, from_id);
	if (!b)
		return EC_ERR_ARG;
	if (back_ms > b->timestamp)
		return EC_ERR_NOTFOUND; /* before the epoch: nothing that old */
	target = b->timestamp - back_ms;
	while (b->timestamp > target) {
		const ec_id *ref = &b->prev;
		const ec_block *next = NULL;
		int via = -1;
		/* The largest delta with b.ts - delta >= target: jump i's block
		 * J is the newest with ts <= b.ts - delta, not older than the
		 * answer; when J.ts <= target it IS the answer. */
		for (int i = EC_JUMP_COUNT - 1; i >= 0; i--) {
			if (b->timestamp - target >= ec_jump_delta_ms[i]) {
				const ec_block *j;
				if (ec_id_is_zero(&b->jumps[i])) {
					/* no block at all is that old */
					r = EC_ERR_NOTFOUND;
					break;
				}
				j = ec_chain_find(c, &b->jumps[i]);
				if (!j || j->height >= b->height) {
					r = EC_ERR_CORRUPT;
					break;
				}
				if (j->timestamp <= target || b->version != EC_BLOCK_V2) {
					next = j;
					via = i;
				}
				break;
			}
		}
		if (r != EC_OK)
			break;
		if (!next && b->version == EC_BLOCK_V2 && b->height > 0) {
			/* Otherwise the height walk toward the answer: skip
			 * while the skip block is still newer than target. */
			const ec_block *sk = ec_chain_find(c, &b->skip);
			if (!sk || sk->height >= b->height) {
				r = EC_ERR_CORRUPT;
				break;
			}
			if (sk->timestamp > target) {
				next = sk;
				via = EC_REF_SKIP;
			}
		}
		if (r != EC_OK)
			break;
		if (!next) {
			if (ec_id_is_zero(ref)) {
				/* a zero prev: b is genesis and still newer
				 * than target */
				r = EC_ERR_NOTFOUND;
				break;
			}
			next = ec_chain_find(c, ref);
			if (!next || next->height >= b->height) {
				r = EC_ERR_CORRUPT;
				break;
			}
		}
		if (nh < max_hops) {
			hops[nh].height = next->height;
			hops[nh].via = via;
		}
		nh++;
		b = next;
	}
	*n_hops = nh;
	if (r == EC_OK)
		*found = b->height;
	return r;
}

/* One step of the height walk from b toward height t < b->height: the
 * block reached and the reference followed, or NULL (corrupt chain). */
static const ec_block *height_step(const ec_chain *c, const ec_block *b,
				   uint64_t t, int *via)
{
	const ec_block *next = NULL;
	*via = -1;
	if (b->version == EC_BLOCK_V2) {
		uint64_t s = ec_skip_height(b->height);
		if (s >= t && s + 1 < b->height) {
			next = ec_chain_find(c, &b->skip);
			*via = EC_REF_SKIP;
			if (next && next->height != s)
				return NULL;
		}
	} else {
		/* Version 1: the lowest time-reference target not below t. */
		for (int i = 0; i < EC_JUMP_COUNT; i++) {
			const ec_block *j;
			if (ec_id_is_zero(&b->jumps[i]))
				continue;
			j = ec_chain_find(c, &b->jumps[i]);
			if (!j || j->height >= b->height)
				return NULL;
			if (j->height >= t && (!next || j->height < next->height)) {
				next = j;
				*via = i;
			}
		}
	}
	if (!next || next->height + 1 == b->height) {
		*via = -1;
		next = ec_chain_find(c, &b->prev);
		if (next && next->height + 1 != b->height)
			return NULL;
	}
	return next;
}

int ec_chain_seek_height(const ec_chain *c, const ec_id *from_id,
			 uint64_t height, ec_seek_hop *hops, size_t max_hops,
			 size_t *n_hops)
{
	const ec_block *b;
	size_t nh = 0;

	if (n_hops)
		*n_hops = 0;
	if (!c || !from_id || !n_hops || (max_hops && !hops))
		return EC_ERR_ARG;
	b = ec_chain_find(c, from_id);
	if (!b || height > b->height)
		return EC_ERR_ARG;
	while (b->height > height) {
		int via;
		const ec_block *next = height_step(c, b, height, &via);
		if (!next) {
			*n_hops = nh;
			return EC_ERR_CORRUPT;
		}
		if (nh < max_hops) {
			hops[nh].height = next->height;
			hops[nh].via = via;
		}
		nh++;
		b = next;
	}
	*n_hops = nh;
	return EC_OK;
}

/* ---- inclusion proofs ------------------------------------------------------ */

#define INCL_MAGIC "ecip"
#define INCL_FORMAT 1
#define INCL_MAX_PATH 5 /* audit path of a 32-leaf tree */

static void merkle_node(ec_id *out, const ec_id *l, const ec_id *r)
{
	uint8_t buf[1 + 2 * EC_HASH_BYTES];
	buf[0] = 0x01;
	memcpy(buf + 1, l->b, EC_HASH_BYTES);
	memcpy(buf + 1 + EC_HASH_BYTES, r->b, EC_HASH_BYTES);
	ec_sha256(out->b, buf, sizeof buf);
}

static void merkle_leaf(ec_id *out, const ec_id *leaf)
{
	uint8_t buf[1 + EC_HASH_BYTES];
	buf[0] = 0x00;
	memcpy(buf + 1, leaf->b, EC_HASH_BYTES);
	ec_sha256(out->b, buf, sizeof buf);
}

static size_t split_below(size_t n) /* largest power of two < n (n >= 2) */
{
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

/* RFC 9162 2.1.3.1 PATH(m, D[0:n]), deepest sibling first. */
static size_t audit_path(const ec_id *d, size_t n, size_t m, ec_id *out)
{
	size_t k, len;
	if (n <= 1)
		return 0;
	k = split_below(n);
	if (m < k) {
		len = audit_path(d, k, m, out);
		ec_merkle_root(&out[len], d + k, n - k);
	} else {
		len = audit_path(d + k, n - k, m - k, out);
		ec_merkle_root(&out[len], d, k);
	}
	return len + 1;
}

/* Number of siblings PATH(m, D[0:n]) has. */
static size_t audit_len(size_t n, size_t m)
{
	size_t k;
	if (n <= 1)
		return 0;
	k = split_below(n);
	return 1 + (m < k ? audit_len(k, m) : audit_len(n - k, m - k));
}

/* RFC 9162 2.1.3.2: does the path lead from leaf m of n to root? */
static int audit_check(const ec_id *leaf, size_t m, size_t n,
		       const ec_id *path, size_t len, const ec_id *root)
{
	uint64_t fn = m, sn = n - 1;
	ec_id r;
	merkle_leaf(&r, leaf);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node(&r, &path[i], &r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(&r, &r, &path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && ec_id_eq(&r, root);
}

static void put_u16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int ec_incl_build(const ec_chain *c, const ec_id *head_id, uint64_t height,
		  const ec_id *txid, uint8_t **out, size_t *len)
{
	const ec_block *b, *path[EC_INCL_MAX_BLOCKS];
	ec_id sib[INCL_MAX_PATH];
	size_t nb = 0, np, total, idx;
	uint8_t *buf, *p;

	if (!c || !head_id || !txid || !out || !len)
		return EC_ERR_ARG;
	*out = NULL;
	*len = 0;
	b = ec_chain_find(c, head_id);
	if (!b || height > b->height)
		return EC_ERR_ARG;
	path[nb++] = b;
	while (b->height > height) {
		int via;
		b = height_step(c, b, height, &via);
		if (!b)
			return EC_ERR_CORRUPT;
		if (nb == EC_INCL_MAX_BLOCKS)
			return EC_ERR_LIMIT;
		path[nb++] = b;
	}
	for (idx = 0; idx < b->n_txs; idx++)
		if (ec_id_eq(&b->txids[idx], txid))
			break;
	if (idx == b->n_txs)
		return EC_ERR_NOTFOUND;
	np = audit_path(b->txids, b->n_txs, idx, sib);
	total = 4 + 1 + EC_HASH_BYTES + 1 + 1 + np * EC_HASH_BYTES + 2;
	for (size_t i = 0; i < nb; i++)
		total += 2 + ec_block_encoded_len(path[i]);
	if (!(buf = malloc(total)))
		return EC_ERR_NOMEM;
	p = buf;
	memcpy(p, INCL_MAGIC, 4), p += 4;
	*p++ = INCL_FORMAT;
	memcpy(p, txid->b, EC_HASH_BYTES), p += EC_HASH_BYTES;
	*p++ = (uint8_t)idx;
	*p++ = (uint8_t)np;
	for (size_t i = 0; i < np; i++)
		memcpy(p, sib[i].b, EC_HASH_BYTES), p += EC_HASH_BYTES;
	put_u16(p, nb), p += 2;
	for (size_t i = 0; i < nb; i++) {
		size_t bl = ec_block_encode_to(path[i], p + 2);
		put_u16(p, bl);
		p += 2 + bl;
	}
	*out = buf;
	*len = (size_t)(p - buf);
	return EC_OK;
}

/* Is `to` one of the references `from` carries? */
static int linked(const ec_block *from, const ec_block *to)
{
	if (ec_id_is_zero(&to->id) || to->height >= from->height)
		return 0;
	if (ec_id_eq(&from->prev, &to->id))
		return to->height + 1 == from->height;
	if (from->version == EC_BLOCK_V2 && ec_id_eq(&from->skip, &to->id))
		return to->height == ec_skip_height(from->height);
	for (int i = 0; i < EC_JUMP_COUNT; i++)
		if (ec_id_eq(&from->jumps[i], &to->id))
			return 1;
	return 0;
}

int ec_incl_verify(const uint8_t *p, size_t n, ec_incl_info *info)
{
	ec_incl_info tmp;
	ec_id txid, sib[INCL_MAX_PATH];
	ec_block prev, cur;
	size_t off = 0, np, nb;
	unsigned idx;
	int r;

	if (!info)
		info = &tmp;
	memset(info, 0, sizeof *info);
	info->bad_block = SIZE_MAX;
	if (!p)
		return EC_ERR_ARG;
	if (n < 4 + 1 + EC_HASH_BYTES + 2)
		return EC_ERR_SHORT;
	if (memcmp(p, INCL_MAGIC, 4) != 0 || p[4] != INCL_FORMAT)
		return EC_ERR_FORMAT;
	off = 5;
	memcpy(txid.b, p + off, EC_HASH_BYTES), off += EC_HASH_BYTES;
	idx = p[off++];
	np = p[off++];
	if (idx >= EC_BLOCK_MAX_TXS || np > INCL_MAX_PATH)
		return EC_ERR_VALUE;
	if (n - off < np * EC_HASH_BYTES + 2)
		return EC_ERR_SHORT;
	for (size_t i = 0; i < np; i++)
		memcpy(sib[i].b, p + off, EC_HASH_BYTES), off += EC_HASH_BYTES;
	nb = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	if (nb == 0 || nb > EC_INCL_MAX_BLOCKS)
		return EC_ERR_LIMIT;
	info->txid = txid;
	info->index = idx;
	info->n_blocks = nb;
	for (size_t i = 0; i < nb; i++) {
		size_t bl;
		info->bad_block = i;
		if (n - off < 2)
			return EC_ERR_SHORT;
		bl = (size_t)p[off] << 8 | p[off + 1];
		off += 2;
		if (n - off < bl)
			return EC_ERR_SHORT;
		if ((r = ec_block_decode(&cur, p + off, bl)) != EC_OK)
			return r;
		off += bl;
		/* ec_block_decode derived the id from the bytes */
		if ((r = ec_verify_digest(cur.sig, &cur.id, cur.signer_pk)) !=
		    EC_OK)
			return EC_ERR_SIGNATURE;
		if (i == 0) {
			info->head = cur;
		} else {
			if (!ec_id_eq(&cur.creator, &prev.creator))
				return EC_ERR_CREATOR;
			if (!linked(&prev, &cur))
				return EC_ERR_PREV;
		}
		prev = cur;
	}
	if (off != n)
		return EC_ERR_TRAILING;
	info->height = cur.height;
	info->block_id = cur.id;
	info->bad_block = SIZE_MAX;
	if (idx >= cur.n_txs || !ec_id_eq(&cur.txids[idx], &txid) ||
	    np != audit_len(cur.n_txs, idx) ||
	    !audit_check(&txid, idx, cur.n_txs, sib, np, &cur.merkle_root))
		return EC_ERR_MERKLE;
	return EC_OK;
}
