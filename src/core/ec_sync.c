/* ec_sync.c - catch-up with the neighbourhood (sync.h).
 *
 * PLACEHOLDER until issue 5 lands: the configuration defaults and the node
 * entry points exist so that the daemon and the simulator can be built
 * against the API; starting a sync returns EC_ERR_NOTFOUND ("no sync
 * engine") and the status says IDLE.  Nothing here is claimed done. */
#include <string.h>

#include "ec/node.h"
#include "ec/sync.h"

void ec_sync_cfg_default(ec_sync_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->strategy = EC_SYNC_OFF;
	c->min_chains_per_side = 2;
	c->range_max_blocks = 256;
	c->range_max_bytes = 512u * 1024u;
	c->max_inflight = 16;
	c->max_inflight_peer = 4;
	c->txbatch_max = 64;
	c->stall_min_ms = 500;
	c->stall_max_ms = 10000;
	c->min_rate_bps = 2000;
	c->unverified_max_bytes = 8u * 1024u * 1024u;
	c->maintain_ms = 1000;
	c->poll_queries = 8;
}

int ec_node_sync_start(ec_node *n, uint8_t strategy, ec_time now)
{
	(void)strategy;
	(void)now;
	if (!n)
		return EC_ERR_ARG;
	return EC_ERR_NOTFOUND;
}

int ec_node_sync_status(ec_node *n, ec_sync_status *st, ec_sync_chain *chains,
			size_t max_chains)
{
	(void)chains;
	(void)max_chains;
	if (!n || !st)
		return EC_ERR_ARG;
	memset(st, 0, sizeof *st);
	return EC_OK;
}
