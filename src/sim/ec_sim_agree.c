/* ec_sim_agree.c - end-of-run agreement of the neighbourhoods: for every
 * live workload token with a committed head, what each member of its ±4
 * neighbourhood (over the current members) holds as the token's current
 * state in its own store.  The summary's "agreement" section; meanings in
 * docs/SCENARIOS.md. */
#include <string.h>

#include "ec/store.h"
#include "sim/ec_sim_eng.h"

void sim_agreement(const ec_sim *s, sim_agree *a)
{
	memset(a, 0, sizeof *a);
	for (size_t t = 0; t < s->n_toks; t++) {
		const sim_tok *k = &s->toks[t];
		size_t nb[2 * EC_NEIGHBOURS], m, on_head = 0, online = 0, online_on_head = 0;
		if (k->owner < 0 || ec_id_is_zero(&k->head))
			continue; /* destroyed, or never committed */
		a->tokens++;
		m = sim_neighbourhood(s, &k->id, nb);
		for (size_t j = 0; j < m; j++) {
			const sim_peer *p;
			ec_store_txn *txn;
			ec_token_state st;
			int have = 0, head = 0;
			if (nb[j] == SIZE_MAX || !(p = &s->peers[nb[j]])->store)
				continue;
			if (ec_store_txn_begin(p->store, 0, &txn) == EC_OK) {
				if (ec_store_get_token(txn, &k->id, &st) == EC_OK && st.has_current) {
					have = 1;
					head = ec_id_eq(&st.current.txid, &k->head);
				}
				ec_store_txn_abort(txn);
			}
			on_head += head;
			/* the unanimity and per-member counts: online peers
			 * that are not sync joiners (those are measured by the
			 * sync section) */
			if (p->state != PEER_ONLINE || p->strategy >= 0)
				continue;
			online++;
			online_on_head += head;
			a->members++;
			a->members_on_head += head;
			a->members_other += have && !head;
			a->members_none += !have;
		}
		a->majority += 2 * on_head > m;
		a->unanimous += online && online_on_head == online;
	}
}
