/* ec_sim_int.h - small helpers shared by the simulator's modules
 * (not part of any public interface). */
#ifndef EC_SIM_INT_H
#define EC_SIM_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim/ec_report.h"

/* qsort comparator for doubles, ascending (callers drop NaNs first). */
static inline int ec_sim_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* json_object_set_new that records a failure (NULL value included) in *ok,
 * so a builder checks once at the end. */
static inline void ec_sim_json_put(json_t *o, const char *k, json_t *v, int *ok)
{
	if (!v || json_object_set_new(o, k, v))
		*ok = 0;
}

/* A finite double as a JSON real, anything else as null. */
static inline json_t *ec_sim_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Grows the array *p (element size `size`, capacity *cap) to hold at least
 * `need` elements, doubling from 64: EC_OK or EC_ERR_NOMEM (*p unchanged).
 * (ec_sim.c) */
int sim_grow(void **p, size_t *cap, size_t need, size_t size);

/* An id -> index map by open addressing over an array the caller owns
 * (ec_sim_idmap.c): slots hold index + 1 (0 = empty), the id of index k is
 * key(ctx, k).  Zero-initialised = empty; reserve before the first put. */
typedef const ec_id *(*sim_idmap_key_fn)(const void *ctx, size_t k);
typedef struct sim_idmap {
	uint32_t *slot;
	size_t cap;            /* a power of two, at least 1024 once reserved */
	sim_idmap_key_fn key;
	const void *ctx;
} sim_idmap;
/* Room for n indexes (capacity >= 2n); when it grows, indexes 0..have-1
 * are put again.  EC_OK or EC_ERR_NOMEM (the map unchanged). */
int sim_idmap_reserve(sim_idmap *m, size_t n, size_t have);
void sim_idmap_put(sim_idmap *m, size_t k);
size_t sim_idmap_get(const sim_idmap *m, const ec_id *id); /* SIZE_MAX: none */
void sim_idmap_free(sim_idmap *m);

/* {count, mean, p50, p90, p95, p99, max} of a distribution (ec_report.c). */
json_t *ec_report_dist_json(const ec_sum_dist *d, int *ok);

#endif
