/* ec_ring.c - ring arithmetic, sorted peer sets, neighbourhoods and vote
 * eligibility (spec 6.3-6.5, 8.4). */
#include <stdlib.h>

#include "ec/ring.h"

void ec_ring_sub(ec_id *out, const ec_id *a, const ec_id *b)
{
	int borrow = 0;
	for (int i = EC_HASH_BYTES - 1; i >= 0; i--) {
		int d = (int)a->b[i] - (int)b->b[i] - borrow;
		borrow = d < 0;
		out->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

void ec_ring_distance(ec_id *out, const ec_id *a, const ec_id *b)
{
	ec_id x, y;
	ec_ring_sub(&x, a, b);
	ec_ring_sub(&y, b, a);
	*out = ec_id_cmp(&x, &y) <= 0 ? x : y;
}

int ec_ring_closer(const ec_id *t, const ec_id *a, const ec_id *b)
{
	ec_id da, db;
	int c;
	ec_ring_distance(&da, t, a);
	ec_ring_distance(&db, t, b);
	c = ec_id_cmp(&da, &db);
	return c ? c : ec_id_cmp(a, b);
}

void ec_peerset_init(ec_peerset *ps)
{
	ps->ids = NULL;
	ps->n = ps->cap = 0;
}

void ec_peerset_free(ec_peerset *ps)
{
	free(ps->ids);
	ec_peerset_init(ps);
}

/* Index of the first id >= t (n if none). */
static size_t lower_bound(const ec_peerset *ps, const ec_id *t)
{
	size_t lo = 0, hi = ps->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ec_id_cmp(&ps->ids[mid], t) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ec_peerset_contains(const ec_peerset *ps, const ec_id *id)
{
	size_t i = lower_bound(ps, id);
	return i < ps->n && ec_id_eq(&ps->ids[i], id);
}

int ec_peerset_add(ec_peerset *ps, const ec_id *id)
{
	size_t i = lower_bound(ps, id);
	if (i < ps->n && ec_id_eq(&ps->ids[i], id))
		return EC_ERR_EXISTS;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		ec_id *p = realloc(ps->ids, cap * sizeof *p);
		if (!p)
			return EC_ERR_NOMEM;
		ps->ids = p;
		ps->cap = cap;
	}
	memmove(&ps->ids[i + 1], &ps->ids[i], (ps->n - i) * sizeof *ps->ids);
	ps->ids[i] = *id;
	ps->n++;
	return EC_OK;
}

int ec_peerset_remove(ec_peerset *ps, const ec_id *id)
{
	size_t i = lower_bound(ps, id);
	if (i >= ps->n || !ec_id_eq(&ps->ids[i], id))
		return EC_ERR_NOTFOUND;
	memmove(&ps->ids[i], &ps->ids[i + 1], (ps->n - i - 1) * sizeof *ps->ids);
	ps->n--;
	return EC_OK;
}

size_t ec_peerset_neighbourhood(const ec_peerset *ps, const ec_id *t, size_t k,
				ec_id *out)
{
	size_t n = ps->n, m = 0, start;
	if (n == 0)
		return 0;
	start = lower_bound(ps, t);
	if (n <= 2 * k) {
		/* whole set, clockwise from t */
		for (size_t i = 0; i < n; i++)
			out[m++] = ps->ids[(start + i) % n];
		return m;
	}
	for (size_t i = 0; i < k; i++)
		out[m++] = ps->ids[(start + i) % n];
	for (size_t i = 1; i <= k; i++)
		out[m++] = ps->ids[(start + n - i) % n];
	return m;
}

int ec_peerset_is_eligible(const ec_peerset *ps, const ec_id *voter,
			   const ec_id *t)
{
	ec_id nb[2 * EC_NEIGHBOURS];
	size_t m = ec_peerset_neighbourhood(ps, t, EC_NEIGHBOURS, nb);
	for (size_t i = 0; i < m; i++)
		if (ec_id_eq(&nb[i], voter))
			return 1;
	return 0;
}

size_t ec_peerset_closest(const ec_peerset *ps, const ec_id *t, size_t n,
			  ec_id *out)
{
	/* Merge outwards from t's position: the closest peers by ring distance
	 * are a contiguous arc around t. */
	size_t total = ps->n, m = 0, up, down_taken = 0, up_taken = 0;
	if (total == 0 || n == 0)
		return 0;
	if (n > total)
		n = total;
	up = lower_bound(ps, t);
	while (m < n) {
		const ec_id *cu = &ps->ids[(up + up_taken) % total];
		const ec_id *cd = &ps->ids[(up + total - 1 - down_taken) % total];
		if (up_taken + down_taken + 1 == total || cu == cd ||
		    ec_ring_closer(t, cu, cd) <= 0) {
			out[m++] = *cu;
			up_taken++;
		} else {
			out[m++] = *cd;
			down_taken++;
		}
	}
	return m;
}

int ec_peerset_would_be_eligible(const ec_peerset *ps, const ec_id *id,
				 const ec_id *t)
{
	/* In ps ∪ {id}: id's clockwise rank from t is the number of peers in
	 * [t, id), its counter-clockwise rank the number in (id, t); it is in
	 * the neighbourhood when either is below EC_NEIGHBOURS, or when the
	 * union has 2k or fewer peers. */
	size_t n = ps->n, it, is, cw, ccw;
	if (ec_peerset_contains(ps, id))
		return ec_peerset_is_eligible(ps, id, t);
	if (n + 1 <= 2 * EC_NEIGHBOURS)
		return 1;
	it = lower_bound(ps, t);
	is = lower_bound(ps, id);
	if (ec_id_cmp(id, t) >= 0) {
		cw = is - it;
		ccw = it + (n - is);
	} else {
		cw = (n - it) + is;
		ccw = it - is;
	}
	return cw < EC_NEIGHBOURS || (!ec_id_eq(id, t) && ccw < EC_NEIGHBOURS);
}
