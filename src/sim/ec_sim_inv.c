/* ec_sim_inv.c - the engine's side of the invariant checker (ec_sim_check.h)
 * and the liveness figures beside it.
 *
 * Records: every workload transaction when it is made; every block an
 * honest peer seals (ec_sim.c scan_blocks -> sim_wl_committed), with the
 * ±4 neighbourhood of each of its tokens over the members at that moment.
 * Attacker groups' peers are not honest and are not recorded.  At the end
 * of the run, for every workload token: the members of its neighbourhood
 * then, the state each one's store holds for it, and whether it is online
 * and honest.  The summary's "invariants" and "liveness" sections;
 * meanings in docs/SCENARIOS.md "Invariants". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ec/store.h"
#include "sim/ec_sim_eng.h"

int sim_inv_init(ec_sim *s)
{
	return ec_chk_new(&s->chk);
}

void sim_inv_free(ec_sim *s)
{
	ec_chk_free(s->chk);
	s->chk = NULL;
}

int sim_honest(const ec_sim *s, size_t i)
{
	return !sim_atk_is_attacker(s, i);
}

static void inv_fail(ec_sim *s, int err)
{
	if (err == EC_ERR_NOMEM && !s->fatal) {
		s->fatal = err;
		snprintf(s->err, sizeof s->err, "invariant checker: %s", ec_strerror(err));
	}
}

void sim_inv_tx(ec_sim *s, size_t k)
{
	const sim_sent *x = &s->sent[k];
	ec_id tok[EC_TX_MAX_ENTRIES];
	for (int e = 0; e < x->n; e++)
		tok[e] = s->toks[x->tok[e]].id;
	inv_fail(s, ec_chk_tx(s->chk, &x->txid, x->n, tok, x->prev));
}

void sim_inv_commit(ec_sim *s, size_t i, size_t k, const ec_chk_nbhd *nb)
{
	if (!sim_honest(s, i))
		return;
	inv_fail(s, ec_chk_commit(s->chk, &s->sent[k].txid, (uint32_t)i, s->now_us, nb));
}

void sim_inv_finish(ec_sim *s)
{
	if (s->inv_done)
		return;
	for (size_t t = 0; t < s->n_toks && !s->fatal; t++) {
		const sim_tok *k = &s->toks[t];
		size_t nb[2 * EC_NEIGHBOURS], m = sim_neighbourhood(s, &k->id, nb), n = 0;
		ec_chk_member mem[EC_CHK_NB];
		for (size_t j = 0; j < m; j++) {
			const sim_peer *p;
			ec_store_txn *txn;
			ec_token_state st;
			if (nb[j] == SIZE_MAX || !(p = &s->peers[nb[j]])->store)
				continue;
			ec_chk_member *x = &mem[n++];
			memset(x, 0, sizeof *x);
			x->node = (uint32_t)nb[j];
			x->honest = (uint8_t)sim_honest(s, nb[j]);
			x->online = p->state == PEER_ONLINE;
			if (ec_store_txn_begin(p->store, 0, &txn) == EC_OK) {
				if (ec_store_get_token(txn, &k->id, &st) == EC_OK && st.has_current) {
					x->has = 1;
					x->head = st.current.txid;
				}
				ec_store_txn_abort(txn);
			}
		}
		inv_fail(s, ec_chk_final(s->chk, &k->id, mem, n));
	}
	if (!s->fatal)
		inv_fail(s, ec_chk_eval(s->chk, &s->inv));
	s->inv_done = !s->fatal;
}

const ec_chk_result *ec_sim_invariants(const ec_sim *s)
{
	return s->inv_done ? &s->inv : NULL;
}

void ec_sim_liveness(const ec_sim *s, ec_sim_live *o)
{
	memset(o, 0, sizeof *o);
	for (size_t k = 0; k < s->n_sent; k++) {
		const sim_sent *x = &s->sent[k];
		if (x->setup)
			continue;
		if (x->pair < 0) {
			o->plain_submitted++;
			o->plain_committed += x->commit_us != SIM_NEVER;
			continue;
		}
		if ((size_t)x->pair < k)
			continue; /* the pair counted at its first twin */
		const sim_sent *y = &s->sent[x->pair];
		int c = (x->commit_us != SIM_NEVER) + (y->commit_us != SIM_NEVER);
		o->pairs++;
		o->pairs_one += c == 1;
		o->pairs_both += c == 2;
		o->pairs_none += c == 0;
	}
	o->messages_last_10s = s->tail_marked ? s->delivered - s->tail_msgs_base : 0;
}

void ec_sim_counts(const ec_sim *s, uint64_t *submitted, uint64_t *committed)
{
	*submitted = s->wl_submitted;
	*committed = s->wl_committed;
}

json_t *sim_inv_json(ec_sim *s, int *ok)
{
	json_t *o;
	if (!s->inv_done)
		return json_null();
	if (!(o = ec_chk_json(&s->inv)))
		*ok = 0;
	return o;
}

json_t *sim_liveness_json(ec_sim *s, int *ok)
{
	ec_sim_live l;
	json_t *o = json_object();
	double *res;
	size_t n = 0;
	ec_sum_dist d;
	if (!o)
		return NULL;
	ec_sim_liveness(s, &l);
	ec_sim_json_put(o, "plain_submitted", json_integer((json_int_t)l.plain_submitted), ok);
	ec_sim_json_put(o, "plain_committed", json_integer((json_int_t)l.plain_committed), ok);
	ec_sim_json_put(o, "plain_commit_rate",
			l.plain_submitted ? json_real((double)l.plain_committed /
						      (double)l.plain_submitted)
					  : json_null(), ok);
	ec_sim_json_put(o, "pairs", json_integer((json_int_t)l.pairs), ok);
	ec_sim_json_put(o, "pairs_one_committed", json_integer((json_int_t)l.pairs_one), ok);
	ec_sim_json_put(o, "pairs_both_committed", json_integer((json_int_t)l.pairs_both), ok);
	ec_sim_json_put(o, "pairs_none_committed", json_integer((json_int_t)l.pairs_none), ok);
	ec_sim_json_put(o, "messages_last_10s", json_integer((json_int_t)l.messages_last_10s), ok);
	/* contested pairs: submission -> the first twin committed */
	if (!(res = malloc((l.pairs + 1) * sizeof *res))) {
		*ok = 0;
		return o;
	}
	for (size_t k = 0; k < s->n_sent; k++) {
		const sim_sent *x = &s->sent[k];
		if (x->setup || x->pair < 0 || (size_t)x->pair < k)
			continue;
		uint64_t c = x->commit_us, c2 = s->sent[x->pair].commit_us;
		if (c2 < c)
			c = c2;
		if (c != SIM_NEVER)
			res[n++] = (double)(c - x->submit_us) / 1000.0;
	}
	if (ec_sum_dist_compute(&d, res, n) != EC_OK)
		*ok = 0;
	free(res);
	ec_sim_json_put(o, "pair_resolution_ms", ec_report_dist_json(&d, ok), ok);
	return o;
}
