/* ec_sim_int.h - small helpers shared by the simulator's report modules
 * (not part of any public interface). */
#ifndef EC_SIM_INT_H
#define EC_SIM_INT_H

#include <jansson.h>

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

#endif
