/* ec_idcount.c - see ec_idcount.h. */
#include "util/ec_idcount.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const ec_id *id, size_t cap)
{
	uint64_t h;
	memcpy(&h, id->b, sizeof h); /* ids are uniform hashes */
	return (size_t)(h & (cap - 1));
}

void ec_idcount_init(ec_idcount *c)
{
	memset(c, 0, sizeof *c);
}

void ec_idcount_free(ec_idcount *c)
{
	free(c->slot);
	memset(c, 0, sizeof *c);
}

static ec_idcount_slot *find(const ec_idcount *c, const ec_id *key)
{
	size_t s;
	if (!c->cap)
		return NULL;
	s = slot_of(key, c->cap);
	while (c->slot[s].used) {
		if (ec_id_eq(&c->slot[s].key, key))
			return &c->slot[s];
		s = (s + 1) & (c->cap - 1);
	}
	return NULL;
}

uint32_t ec_idcount_get(const ec_idcount *c, const ec_id *key)
{
	const ec_idcount_slot *s = find(c, key);
	return s ? s->count : 0;
}

static void put(ec_idcount_slot *tab, size_t cap, const ec_idcount_slot *it)
{
	size_t s = slot_of(&it->key, cap);
	while (tab[s].used)
		s = (s + 1) & (cap - 1);
	tab[s] = *it;
}

int ec_idcount_add(ec_idcount *c, const ec_id *key, int delta)
{
	ec_idcount_slot *s = find(c, key), it;
	if (!s) {
		if (delta <= 0)
			return EC_OK;
		if ((c->used + 1) * 2 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			ec_idcount_slot *tab = calloc(cap, sizeof *tab);
			if (!tab)
				return EC_ERR_NOMEM;
			for (size_t i = 0; i < c->cap; i++)
				if (c->slot[i].used)
					put(tab, cap, &c->slot[i]);
			free(c->slot);
			c->slot = tab;
			c->cap = cap;
		}
		memset(&it, 0, sizeof it);
		it.key = *key;
		it.used = 1;
		put(c->slot, c->cap, &it);
		c->used++;
		s = find(c, key);
	}
	if (delta < 0)
		s->count = s->count > (uint32_t)-delta ? s->count - (uint32_t)-delta : 0;
	else
		s->count += (uint32_t)delta;
	return EC_OK;
}

void ec_idcount_clear(ec_idcount *c)
{
	if (c->cap)
		memset(c->slot, 0, c->cap * sizeof *c->slot);
	c->used = 0;
}
