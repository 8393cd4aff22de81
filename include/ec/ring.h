/* ring.h - the 256-bit address ring, peer sets and neighbourhoods
 * (spec 6.3-6.5, 8.4; upstream_notes 1.4).
 *
 * Addresses are 32-byte ids read as big-endian unsigned integers modulo
 * 2^256.  Ring distance d(a,b) = min(a-b, b-a) mod 2^256.
 *
 * Neighbourhood of a token t in a peer set: the k peers at or after t going
 * clockwise (ids >= t, wrapping past 2^256-1 to 0) and the k peers before t
 * going counter-clockwise (ids < t, wrapping), k = EC_NEIGHBOURS (4): at
 * most 8 peers, "the receiver's ±4 nearest peers to the token" (spec 8.4).
 * With 2k or fewer peers the neighbourhood is the whole set.
 */
#ifndef EC_RING_H
#define EC_RING_H

#include "ec/ec.h"

#define EC_NEIGHBOURS 4

/* out = (a - b) mod 2^256 */
void ec_ring_sub(ec_id *out, const ec_id *a, const ec_id *b);
/* out = ring distance between a and b */
void ec_ring_distance(ec_id *out, const ec_id *a, const ec_id *b);
/* <0 if a is closer to t than b, >0 if farther; equal distance breaks the
 * tie by the smaller id, so 0 only when a == b. */
int ec_ring_closer(const ec_id *t, const ec_id *a, const ec_id *b);

/* A set of peer ids kept sorted (binary search; inserts are O(n)). */
typedef struct ec_peerset {
	ec_id *ids;
	size_t n, cap;
} ec_peerset;

void ec_peerset_init(ec_peerset *ps);
void ec_peerset_free(ec_peerset *ps);
/* EC_OK, EC_ERR_EXISTS, or EC_ERR_NOMEM. */
int ec_peerset_add(ec_peerset *ps, const ec_id *id);
/* EC_OK or EC_ERR_NOTFOUND. */
int ec_peerset_remove(ec_peerset *ps, const ec_id *id);
int ec_peerset_contains(const ec_peerset *ps, const ec_id *id);

/* Writes the neighbourhood of t (at most 2*k ids) to out: first the
 * clockwise ones nearest first, then the counter-clockwise ones nearest
 * first; returns how many. */
size_t ec_peerset_neighbourhood(const ec_peerset *ps, const ec_id *t, size_t k,
				ec_id *out);
/* Spec 8.4: voter is in the set and in t's ±EC_NEIGHBOURS neighbourhood. */
int ec_peerset_is_eligible(const ec_peerset *ps, const ec_id *voter,
			   const ec_id *t);
/* Whether `id` would be in t's ±EC_NEIGHBOURS neighbourhood of the set
 * ps ∪ {id} (id a member or not), without copying the set: "am I one of
 * this token's neighbours?" for a node whose peer set excludes itself. */
int ec_peerset_would_be_eligible(const ec_peerset *ps, const ec_id *id,
				 const ec_id *t);
/* The n peers closest to t by ring distance, closest first (routing);
 * returns how many were written (<= n). */
size_t ec_peerset_closest(const ec_peerset *ps, const ec_id *t, size_t n,
			  ec_id *out);

#endif
