/* ec_sim_idmap.c - an id -> index map by open addressing over an array the
 * caller owns (ec_sim_int.h): the workload's txid index and the invariant
 * checker's. */
#include <stdlib.h>

#include "sim/ec_sim_int.h"

static size_t idmap_slot(const ec_id *id, size_t cap)
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | id->b[i];
	return (size_t)(h & (cap - 1));
}

void sim_idmap_put(sim_idmap *m, size_t k)
{
	size_t i = idmap_slot(m->key(m->ctx, k), m->cap);
	while (m->slot[i])
		i = (i + 1) & (m->cap - 1);
	m->slot[i] = (uint32_t)(k + 1);
}

int sim_idmap_reserve(sim_idmap *m, size_t n, size_t have)
{
	size_t cap = m->cap ? m->cap : 1024;
	uint32_t *s;
	while (cap < 2 * n)
		cap *= 2;
	if (cap == m->cap)
		return EC_OK;
	if (!(s = calloc(cap, sizeof *s)))
		return EC_ERR_NOMEM;
	free(m->slot);
	m->slot = s;
	m->cap = cap;
	for (size_t k = 0; k < have; k++)
		sim_idmap_put(m, k);
	return EC_OK;
}

size_t sim_idmap_get(const sim_idmap *m, const ec_id *id)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t i = idmap_slot(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
		uint32_t v = m->slot[i];
		if (!v)
			return SIZE_MAX;
		if (ec_id_eq(m->key(m->ctx, v - 1), id))
			return v - 1;
	}
}

void sim_idmap_free(sim_idmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = 0;
}
