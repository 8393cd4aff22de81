/* ec_idindex.h - an open-addressing index of caller-owned items by a
 * 32-byte id stored inside each item (at key_off).  Ids are uniform hashes,
 * so their first 8 bytes are the hash.  The index never owns the items; the
 * caller keeps them in its own array and re-inserts them after a resize (or
 * after moving them).  Linear probing; ec_idindex_remove deletes by
 * backward shift, so there are no tombstones.  Used by the mempool, the
 * node's per-transaction side table and ecnode's transport peer table. */
#ifndef EC_UTIL_IDINDEX_H
#define EC_UTIL_IDINDEX_H

#include <stddef.h>

#include "ec/ec.h"

typedef struct ec_idindex {
	void **slot; /* cap entries, NULL = empty */
	size_t cap;  /* power of two, at least twice the items held */
	size_t key_off;
} ec_idindex;

int ec_idindex_init(ec_idindex *x, size_t key_off);
void ec_idindex_free(ec_idindex *x);
void *ec_idindex_get(const ec_idindex *x, const ec_id *key);
/* Makes room for `want` items.  *emptied is set to 1 when the table was
 * replaced by a larger, empty one: the caller then inserts every item again.
 * EC_ERR_NOMEM leaves the old table in place. */
int ec_idindex_reserve(ec_idindex *x, size_t want, int *emptied);
/* Adds an item whose key is not yet present; room must have been reserved. */
void ec_idindex_insert(ec_idindex *x, void *item);
/* Removes `item` (the pointer itself, found by its key); 0 when it was
 * not in the table. */
int ec_idindex_remove(ec_idindex *x, const void *item);
/* Empties the table without reallocating. */
void ec_idindex_clear(ec_idindex *x);

#endif
