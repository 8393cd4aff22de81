/* ec_sim_out.c - what a run measures and writes: timeseries rows, the sync
 * joiners' status and coverage, report snapshots, and summary.json /
 * timeseries.csv / plots (docs/SCENARIOS.md "Outputs"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "sim/ec_sim_eng.h"
#include "sim/ec_sim_int.h"

/* ec_report_ts_columns, then the engine's sync detail columns */
const char *const sim_ts_columns[] = {
	"t_ms",           "online_peers",        "submitted",
	"committed",      "pending",             "messages",
	"bytes",          "dropped",             "coverage_chain",
	"coverage_polling", "sync_messages_chain", "sync_messages_polling",
	"sync_bytes_chain", "sync_bytes_polling", "sync_blocks_chain",
	"sync_blocks_polling", "sync_progress_chain", "sync_progress_polling",
	"sync_txs_held_chain", "sync_txs_held_polling",
	NULL,
};

size_t sim_ts_ncols(void)
{
	size_t n = 0;
	while (sim_ts_columns[n])
		n++;
	return n;
}


static int joined(const ec_sim *s, int st)
{
	return s->sync[st].measured && s->sync[st].n_joiners > 0;
}

void sim_probe_sync(ec_sim *s)
{
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *y = &s->sync[st];
		uint64_t held = 0, scope = 0;
		if (!joined(s, st))
			continue;
		memset(&y->st, 0, sizeof y->st);
		for (size_t k = 0; k < y->n_joiners; k++) {
			sim_peer *p = &s->peers[y->joiners[k]];
			ec_sync_status a;
			ec_store_txn *t;
			if (ec_node_sync_status(p->node, &a, NULL, 0) == EC_OK) {
				y->st.strategy = a.strategy;
				y->st.phase = a.phase;
				y->st.blocks_target += a.blocks_target;
				y->st.blocks_verified += a.blocks_verified;
				y->st.progress += a.progress / (double)y->n_joiners;
				y->st.txs_referenced += a.txs_referenced;
				y->st.txs_held += a.txs_held;
				y->st.txs_confirmed += a.txs_confirmed;
				y->st.tokens_applied += a.tokens_applied;
				y->st.msgs_sent += a.msgs_sent;
				y->st.msgs_recv += a.msgs_recv;
				y->st.bytes_sent += a.bytes_sent;
				y->st.bytes_recv += a.bytes_recv;
				y->st.bytes_useful += a.bytes_useful;
				y->st.round_trips += a.round_trips;
				y->st.blocks_rejected += a.blocks_rejected;
				y->st.txs_rejected += a.txs_rejected;
				y->st.equivocations += a.equivocations;
				y->st.penalties += a.penalties;
				y->st.n_chains += a.n_chains;
				if (a.caught_up_at)
					y->st.caught_up_at = a.caught_up_at;
			}
			scope += y->n_scope[k];
			if (ec_store_txn_begin(p->store, 0, &t) != EC_OK)
				continue;
			for (size_t i = 0; i < y->n_scope[k]; i++) {
				const sim_tok *tk = &s->toks[y->scope[k][i]];
				ec_token_state ts;
				if (ec_store_get_token(t, &tk->id, &ts) == EC_OK && ts.has_current &&
				    ec_id_eq(&ts.current.txid, &tk->head))
					held++;
			}
			ec_store_txn_abort(t);
		}
		y->coverage = scope ? (double)held / (double)scope : NAN;
		if (y->first_head_us == SIM_NEVER && (y->st.n_chains || y->st.blocks_target))
			y->first_head_us = s->now_us;
		if (y->complete_us == SIM_NEVER && !y->unavailable && scope &&
		    y->coverage >= s->sc->sync.target_coverage)
			y->complete_us = s->now_us;
	}
}

void sim_sample(ec_sim *s)
{
	size_t nc = sim_ts_ncols();
	if (sim_grow((void **)&s->ts, &s->ts_cap, (s->ts_rows + 1) * nc, sizeof *s->ts)) {
		s->fatal = EC_ERR_NOMEM;
		return;
	}
	double *r = &s->ts[s->ts_rows++ * nc];
	r[0] = (double)(s->now_us / 1000);
	r[1] = (double)sim_online_count(s);
	r[2] = (double)s->wl_submitted;
	r[3] = (double)s->wl_committed;
	r[4] = (double)(s->wl_submitted - s->wl_committed);
	r[5] = (double)s->delivered;
	r[6] = (double)s->bytes;
	r[7] = (double)s->dropped;
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *y = &s->sync[st];
		int on = joined(s, st);
		r[8 + st] = on ? y->coverage : NAN;
		r[10 + st] = on ? (double)y->msgs : NAN;
		r[12 + st] = on ? (double)y->bytes : NAN;
		r[14 + st] = on ? (double)y->st.blocks_verified : NAN;
		r[16 + st] = on ? y->st.progress : NAN;
		r[18 + st] = on ? (double)y->st.txs_held : NAN;
		if (!on)
			continue;
		if (sim_grow((void **)&y->c_t, &y->c_cap, y->c_n + 1, sizeof *y->c_t)) {
			s->fatal = EC_ERR_NOMEM;
			return;
		}
		/* c_t, c_msgs and c_cov share c_cap: grow the other two alike */
		double *m = realloc(y->c_msgs, y->c_cap * sizeof *m);
		if (m)
			y->c_msgs = m;
		double *c = realloc(y->c_cov, y->c_cap * sizeof *c);
		if (c)
			y->c_cov = c;
		if (!m || !c) {
			s->fatal = EC_ERR_NOMEM;
			return;
		}
		y->c_t[y->c_n] = (double)(s->now_us - y->join_us) / 1000.0;
		y->c_msgs[y->c_n] = (double)y->msgs;
		y->c_cov[y->c_n] = isfinite(y->coverage) ? y->coverage : 0;
		y->c_n++;
	}
}

void sim_snapshot(ec_sim *s, const char *label)
{
	size_t cap = s->n_snaps;
	ec_sum_snapshot *p = realloc(s->snaps, (cap + 1) * sizeof *p);
	if (!p) {
		s->fatal = EC_ERR_NOMEM;
		return;
	}
	s->snaps = p;
	ec_sum_snapshot *x = &p[s->n_snaps++];
	memset(x, 0, sizeof *x);
	snprintf(x->label, sizeof x->label, "%s", label);
	x->at_ms = s->now_us / 1000;
	x->online_peers = sim_online_count(s);
	x->committed = s->wl_committed;
	x->messages = s->delivered;
}

void sim_sync_free(ec_sim *s)
{
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *y = &s->sync[st];
		for (size_t k = 0; y->scope && k < y->n_joiners; k++)
			free(y->scope[k]);
		free(y->scope);
		free(y->n_scope);
		free(y->joiners);
		free(y->c_t);
		free(y->c_msgs);
		free(y->c_cov);
	}
}

/* ---- summary ---------------------------------------------------------- */


static json_t *u64j(uint64_t v)
{
	return v == SIM_NEVER ? json_null() : json_integer((json_int_t)v);
}



static json_t *status_json(const ec_sync_status *st, int *ok)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "phase", json_integer(st->phase), ok);
	ec_sim_json_put(o, "chains", u64j(st->n_chains), ok);
	ec_sim_json_put(o, "blocks_target", u64j(st->blocks_target), ok);
	ec_sim_json_put(o, "blocks_verified", u64j(st->blocks_verified), ok);
	ec_sim_json_put(o, "progress", ec_sim_json_real(st->progress), ok);
	ec_sim_json_put(o, "txs_referenced", u64j(st->txs_referenced), ok);
	ec_sim_json_put(o, "txs_held", u64j(st->txs_held), ok);
	ec_sim_json_put(o, "txs_confirmed", u64j(st->txs_confirmed), ok);
	ec_sim_json_put(o, "tokens_applied", u64j(st->tokens_applied), ok);
	ec_sim_json_put(o, "msgs_sent", u64j(st->msgs_sent), ok);
	ec_sim_json_put(o, "msgs_recv", u64j(st->msgs_recv), ok);
	ec_sim_json_put(o, "bytes_sent", u64j(st->bytes_sent), ok);
	ec_sim_json_put(o, "bytes_recv", u64j(st->bytes_recv), ok);
	ec_sim_json_put(o, "bytes_useful", u64j(st->bytes_useful), ok);
	ec_sim_json_put(o, "round_trips", u64j(st->round_trips), ok);
	ec_sim_json_put(o, "blocks_rejected", u64j(st->blocks_rejected), ok);
	ec_sim_json_put(o, "txs_rejected", u64j(st->txs_rejected), ok);
	ec_sim_json_put(o, "equivocations", u64j(st->equivocations), ok);
	return o;
}

/* Keys beyond ec_summary's fixed set, merged into the summary. */
static json_t *extra_json(ec_sim *s, int *ok)
{
	json_t *o = json_object(), *run = json_object(), *txs = json_object(),
	       *net = json_object(), *types = json_object(), *sync = json_object();
	ec_sim_json_put(o, "run", run, ok);
	ec_sim_json_put(o, "txs", txs, ok);
	ec_sim_json_put(o, "network", net, ok);
	ec_sim_json_put(o, "sync", sync, ok);
	if (!*ok)
		return o;
	ec_sim_json_put(run, "signatures",
			json_string(s->opts.fake_signatures ? "fake" : "ed25519"), ok);
	ec_sim_json_put(run, "events", u64j(s->events), ok);
	ec_sim_json_put(run, "ticks", u64j(s->ticks), ok);

	double *rounds = malloc((s->n_lat + 1) * sizeof *rounds);
	ec_sum_dist d;
	if (!rounds) {
		*ok = 0;
		return o;
	}
	for (size_t i = 0; i < s->n_lat; i++)
		rounds[i] = s->lat_ms[i] / (double)s->sc->tick_ms;
	if (ec_sum_dist_compute(&d, rounds, s->n_lat) != EC_OK)
		*ok = 0;
	free(rounds);
	ec_sim_json_put(txs, "commit_latency_rounds", ec_report_dist_json(&d, ok), ok);
	ec_sim_json_put(txs, "round_ms", json_integer(s->sc->tick_ms), ok);
	ec_sim_json_put(txs, "setup_submitted", u64j(s->setup_txs), ok);
	ec_sim_json_put(txs, "setup_committed", u64j(s->setup_committed), ok);
	ec_sim_json_put(txs, "skipped", u64j(s->wl_skipped), ok);

	/* the neighbourhoods' agreement at the end */
	json_t *ag = json_object();
	ec_sim_json_put(o, "agreement", ag, ok);
	if (ag) {
		sim_agree a;
		sim_agreement(s, &a);
		ec_sim_json_put(ag, "tokens", u64j(a.tokens), ok);
		ec_sim_json_put(ag, "majority", u64j(a.majority), ok);
		ec_sim_json_put(ag, "unanimous", u64j(a.unanimous), ok);
		ec_sim_json_put(ag, "members", u64j(a.members), ok);
		ec_sim_json_put(ag, "members_on_head", u64j(a.members_on_head), ok);
		ec_sim_json_put(ag, "members_other", u64j(a.members_other), ok);
		ec_sim_json_put(ag, "members_none", u64j(a.members_none), ok);
		/* the size of the online peers' peer sets: how partial the
		 * topology made them */
		uint64_t kmin = UINT64_MAX, kmax = 0, ksum = 0, kn = 0;
		for (size_t i = 0; i < s->n_peers; i++) {
			if (s->peers[i].state != PEER_ONLINE)
				continue;
			uint64_t k = ec_node_peer_count(s->peers[i].node);
			kmin = k < kmin ? k : kmin;
			kmax = k > kmax ? k : kmax;
			ksum += k;
			kn++;
		}
		ec_sim_json_put(ag, "known_peers_min", u64j(kn ? kmin : 0), ok);
		ec_sim_json_put(ag, "known_peers_max", u64j(kmax), ok);
		ec_sim_json_put(ag, "known_peers_mean",
				kn ? json_real((double)ksum / (double)kn) : json_null(), ok);
	}

	/* the peers' own chains: what a joiner would traverse */
	json_t *ch = json_object();
	ec_sim_json_put(o, "chains", ch, ok);
	if (ch) {
		uint64_t nb = 0, nt = 0, mx = 0, np = 0;
		for (size_t i = 0; i < s->n_peers; i++) {
			const ec_node_stats *st = ec_node_stats_get(s->peers[i].node);
			nb += st->blocks_sealed;
			nt += st->txs_committed;
			if (st->blocks_sealed > mx)
				mx = st->blocks_sealed;
			np++;
		}
		ec_sim_json_put(ch, "peers", u64j(np), ok);
		ec_sim_json_put(ch, "blocks", u64j(nb), ok);
		ec_sim_json_put(ch, "blocks_max", u64j(mx), ok);
		ec_sim_json_put(ch, "blocks_mean", np ? json_real((double)nb / (double)np)
						      : json_null(), ok);
		ec_sim_json_put(ch, "txs_per_block", nb ? json_real((double)nt / (double)nb)
						       : json_null(), ok);
	}
	uint64_t sync_msgs = 0;
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++)
		sync_msgs += s->sync[st].msgs;
	uint64_t wl_msgs = s->wl_started ? s->delivered - s->wl_msgs_base - sync_msgs : 0;
	ec_sim_json_put(net, "to_client", u64j(s->to_client), ok);
	ec_sim_json_put(net, "workload_messages", u64j(wl_msgs), ok);
	ec_sim_json_put(net, "workload_messages_per_commit",
			s->wl_committed ? json_real((double)wl_msgs / (double)s->wl_committed)
					: json_null(), ok);
	ec_sim_json_put(net, "by_type", types, ok);
	/* every message type the wire knows, in type-code order */
	for (unsigned c = 0; *ok && c < 256; c++) {
		const char *name = ec_msg_name((uint8_t)c);
		json_t *t;
		if (!name)
			continue;
		t = json_object();
		ec_sim_json_put(types, name, t, ok);
		if (!t)
			break;
		ec_sim_json_put(t, "sent", u64j(s->sent_type[c]), ok);
		ec_sim_json_put(t, "delivered", u64j(s->deliv_type[c]), ok);
		ec_sim_json_put(t, "bytes", u64j(s->bytes_type[c]), ok);
	}
	for (int st = 0; *ok && st < EC_SCN_SYNC_COUNT; st++) {
		const sim_sync *y = &s->sync[st];
		if (!y->measured)
			continue;
		json_t *x = json_object();
		ec_sim_json_put(sync, ec_scn_strategy_name((enum ec_scn_strategy)st), x, ok);
		if (!x)
			break;
		const char *engine = y->unavailable ? "sync engine not available"
				     : y->start_err ? ec_strerror(y->start_err)
						    : "available";
		uint64_t scope = 0;
		for (size_t k = 0; k < y->n_joiners; k++)
			scope += y->n_scope[k];
		ec_sim_json_put(x, "engine", json_string(engine), ok);
		ec_sim_json_put(x, "joiners", u64j(y->n_joiners), ok);
		ec_sim_json_put(x, "scope_tokens", u64j(scope), ok);
		ec_sim_json_put(x, "status", status_json(&y->st, ok), ok);
	}
	if (*ok) {
		ec_sim_json_put(o, "invariants", sim_inv_json(s, ok), ok);
		ec_sim_json_put(o, "liveness", sim_liveness_json(s, ok), ok);
	}
	if (*ok && s->atk) {
		json_t *a = sim_atk_json(s, ok); /* ec_sim_swap.c */
		if (a)
			ec_sim_json_put(o, "swap", a, ok);
	}
	return o;
}

static int build_summary(ec_sim *s, ec_summary *out, json_t **extra)
{
	int ok = 1;
	memset(out, 0, sizeof *out);
	out->scenario = s->sc;
	memcpy(out->seed, s->seed, EC_HASH_BYTES);
	out->version = EC_SIM_VERSION;
	out->simulated_ms = s->now_us / 1000;
	out->events_applied = s->events_applied;
	out->peers_initial = s->sc->peers.count;
	out->peers_joined = s->peers_joined;
	out->peers_left = s->peers_left;
	out->peers_crashed = s->peers_crashed;
	out->peers_returned = s->peers_returned;
	out->peers_online_final = sim_online_count(s);
	out->txs_submitted = s->wl_submitted;
	out->txs_committed = s->wl_committed;
	out->txs_double_signed = s->double_signed;
	out->conflicting_owners = s->conflicts;
	if (ec_sum_dist_compute(&out->commit_latency_ms, s->lat_ms, s->n_lat) != EC_OK)
		return EC_ERR_NOMEM;
	out->messages = s->delivered;
	out->bytes = s->bytes;
	out->messages_dropped = s->dropped;
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		const sim_sync *y = &s->sync[st];
		ec_sum_sync *z = &out->sync[st];
		if (!y->measured)
			continue;
		z->measured = 1;
		z->complete = y->complete_us != SIM_NEVER;
		z->first_head_ms = y->first_head_us == SIM_NEVER
				       ? EC_SUM_NEVER : (y->first_head_us - y->join_us) / 1000;
		z->complete_ms = y->complete_us == SIM_NEVER
				     ? EC_SUM_NEVER : (y->complete_us - y->join_us) / 1000;
		z->final_coverage = y->n_joiners ? y->coverage : NAN;
		z->messages = y->msgs;
		z->bytes = y->bytes;
		z->blocks_fetched = y->st.blocks_verified;
		z->queries = y->st.msgs_sent;
	}
	out->snapshots = s->snaps;
	out->nsnapshots = s->n_snaps;
	*extra = extra_json(s, &ok);
	if (!*extra || !ok) {
		json_decref(*extra);
		*extra = NULL;
		return EC_ERR_NOMEM;
	}
	out->extra = *extra;
	return EC_OK;
}

char *ec_sim_summary_json(ec_sim *s)
{
	ec_summary sum;
	json_t *extra = NULL;
	char *t;
	if (build_summary(s, &sum, &extra) != EC_OK)
		return NULL;
	t = ec_summary_to_json(&sum);
	json_decref(extra);
	return t;
}

int ec_sim_write_outputs(ec_sim *s, const char *dir, char *err, size_t errlen)
{
	ec_summary sum;
	json_t *extra = NULL;
	ec_csv *csv;
	int rc;
	size_t nc = sim_ts_ncols();
	if (!dir)
		dir = s->sc->report.dir;
	if ((rc = build_summary(s, &sum, &extra)) != EC_OK) {
		snprintf(err, errlen, "summary: out of memory");
		return rc;
	}
	rc = ec_summary_write(dir, &sum, err, errlen);
	json_decref(extra);
	if (rc)
		return rc;
	if ((rc = ec_csv_open(&csv, dir, "timeseries.csv", sim_ts_columns, nc, err, errlen)))
		return rc;
	for (size_t r = 0; r < s->ts_rows; r++)
		if ((rc = ec_csv_row(csv, &s->ts[r * nc]))) {
			ec_csv_abort(csv);
			snprintf(err, errlen, "timeseries.csv: %s", ec_strerror(rc));
			return rc;
		}
	if ((rc = ec_csv_close(csv, err, errlen)))
		return rc;
	ec_report_plot_data pd;
	memset(&pd, 0, sizeof pd);
	pd.title_suffix = s->sc->name;
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		const sim_sync *y = &s->sync[st];
		pd.sync[st].since_join_ms = y->c_t;
		pd.sync[st].messages = y->c_msgs;
		pd.sync[st].coverage = y->c_cov;
		pd.sync[st].n = y->c_n;
	}
	pd.latency_ms = s->lat_ms;
	pd.nlatency = s->n_lat;
	if (s->atk && (rc = sim_atk_write(s, dir, err, errlen)))
		return rc;
	return ec_report_plots(dir, s->sc->report.plots, &pd, err, errlen);
}
