/* ec_idcount.h - a counter per 32-byte id (open addressing, linear
 * probing).  Keys are never removed: a count that drops to zero keeps its
 * slot, and ec_idcount_clear empties the table for a rebuild.  Used by the
 * mempool to count, per sender, the transactions it handed us and, per
 * voter, the placeholders its votes opened, without scanning the pool. */
#ifndef EC_UTIL_IDCOUNT_H
#define EC_UTIL_IDCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "ec/ec.h"

typedef struct ec_idcount_slot {
	ec_id key;
	uint32_t count;
	uint8_t used;
} ec_idcount_slot;

typedef struct ec_idcount {
	ec_idcount_slot *slot;
	size_t cap;  /* power of two (0 before the first add) */
	size_t used; /* keys held */
} ec_idcount;

void ec_idcount_init(ec_idcount *c);
void ec_idcount_free(ec_idcount *c);
uint32_t ec_idcount_get(const ec_idcount *c, const ec_id *key);
/* Adds delta (+1 or -1; a count never goes below zero).  EC_ERR_NOMEM
 * (nothing changed) when the table could not grow. */
int ec_idcount_add(ec_idcount *c, const ec_id *key, int delta);
/* Forgets every key, keeps the table. */
void ec_idcount_clear(ec_idcount *c);

#endif
