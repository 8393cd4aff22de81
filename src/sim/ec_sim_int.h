/* ec_sim_int.h - small helpers shared by the simulator's modules
 * (not part of any public interface). */
#ifndef EC_SIM_INT_H
#define EC_SIM_INT_H

#include <math.h>
#include <stddef.h>

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

/* {count, mean, p50, p90, p95, p99, max} of a distribution (ec_report.c). */
json_t *ec_report_dist_json(const ec_sum_dist *d, int *ok);

#endif
