/* ec_scenario_json.c - the resolved scenario as JSON in the file's own
 * schema (every default filled in).  summary.json embeds it, so a summary
 * says exactly what ran; and YAML being a superset of this JSON, the text
 * parses back into an equal scenario (the round-trip test). */
#include <stdlib.h>

#include <jansson.h>

#include "sim/ec_report.h"
#include "sim/ec_sim_int.h"
#include "sim/ec_scenario.h"

static json_t *u64j(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static void put_link(json_t *o, const ec_scn_link *l, uint32_t set, int *ok)
{
	if (set & EC_SCN_NET_DELAY)
		ec_sim_json_put(o, "delay_ms", u64j(l->delay_ms), ok);
	if (set & EC_SCN_NET_JITTER)
		ec_sim_json_put(o, "jitter_ms", u64j(l->jitter_ms), ok);
	if (set & EC_SCN_NET_LOSS)
		ec_sim_json_put(o, "loss", json_real(l->loss), ok);
	if (set & EC_SCN_NET_BANDWIDTH)
		ec_sim_json_put(o, "bandwidth_kbps", u64j(l->bandwidth_kbps), ok);
}

static json_t *name_set(uint32_t bits, const char *(*name)(int), int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		if (bits & (1u << i))
			json_array_append_new(a, json_string(name(i)));
	return a;
}

static const char *strategy_name(int i)
{
	return ec_scn_strategy_name((enum ec_scn_strategy)i);
}
static const char *plot_name(int i)
{
	return ec_scn_plot_name((enum ec_scn_plot)i);
}

static json_t *hexj(const uint8_t b[EC_HASH_BYTES])
{
	char hex[2 * EC_HASH_BYTES + 3] = "0x";
	ec_hex_encode(hex + 2, b, EC_HASH_BYTES);
	return json_string(hex);
}

static json_t *event_json(const ec_scenario *sc, const ec_scn_event *ev, int *ok)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "at_ms", u64j(ev->at_ms), ok);
	ec_sim_json_put(o, "kind", json_string(ec_scn_event_kind_name(ev->kind)), ok);
	switch (ev->kind) {
	case EC_SCN_EV_ATTACKER_GROUP:
		ec_sim_json_put(o, "name", json_string(ev->group), ok);
		ec_sim_json_put(o, "target", ev->target_set ? hexj(ev->target) : json_string("random"),
		    ok);
		ec_sim_json_put(o, "victims", u64j(ev->victims), ok);
		ec_sim_json_put(o, "mode", json_string(ev->eclipse ? "eclipse" : "hold"), ok);
		ec_sim_json_put(o, "placement", json_string(ev->near ? "near" : "random"), ok);
		ec_sim_json_put(o, "withhold", json_boolean(ev->withhold), ok);
		ec_sim_json_put(o, "discovery_ms", u64j(ev->discovery_ms), ok);
		/* fall through */
	case EC_SCN_EV_JOIN:
	case EC_SCN_EV_LEAVE:
	case EC_SCN_EV_CRASH:
	case EC_SCN_EV_RETURN:
		ec_sim_json_put(o, "count", u64j(ev->count), ok);
		if (ev->group[0] && ev->kind != EC_SCN_EV_ATTACKER_GROUP)
			ec_sim_json_put(o, "group", json_string(ev->group), ok);
		if (ev->region >= 0)
			ec_sim_json_put(o, "region", json_string(sc->peers.regions[ev->region].name), ok);
		break;
	case EC_SCN_EV_PARTITION:
		ec_sim_json_put(o, "name", json_string(ev->group), ok);
		if (ev->regions_mask) {
			json_t *a = json_array();
			for (size_t i = 0; a && i < sc->peers.nregions; i++)
				if (ev->regions_mask & (1u << i))
					json_array_append_new(
						a, json_string(sc->peers.regions[i].name));
			ec_sim_json_put(o, "regions", a, ok);
		} else {
			ec_sim_json_put(o, "fraction", json_real(ev->fraction), ok);
		}
		break;
	case EC_SCN_EV_HEAL:
		if (ev->group[0])
			ec_sim_json_put(o, "name", json_string(ev->group), ok);
		break;
	case EC_SCN_EV_NET_CONDITION:
		put_link(o, &ev->net, ev->net_set, ok);
		if (ev->region >= 0)
			ec_sim_json_put(o, "from", json_string(sc->peers.regions[ev->region].name), ok);
		if (ev->region_to >= 0)
			ec_sim_json_put(o, "to", json_string(sc->peers.regions[ev->region_to].name), ok);
		break;
	case EC_SCN_EV_REPORT:
		if (ev->label[0])
			ec_sim_json_put(o, "label", json_string(ev->label), ok);
		break;
	default:
		break;
	}
	return o;
}

json_t *ec_scenario_json(const ec_scenario *sc)
{
	int ok = 1;
	json_t *o = json_object(), *x;
	const ec_scn_workload *w = &sc->workload;
	if (!o)
		return NULL;

	x = json_object();
	ec_sim_json_put(o, "meta", x, &ok);
	if (x) {
		ec_sim_json_put(x, "name", json_string(sc->name), &ok);
		ec_sim_json_put(x, "description", json_string(sc->description), &ok);
	}
	if (sc->seed_set)
		ec_sim_json_put(o, "seed", hexj(sc->seed), &ok);
	ec_sim_json_put(o, "duration_ms", u64j(sc->duration_ms), &ok);
	ec_sim_json_put(o, "tick_ms", u64j(sc->tick_ms), &ok);
	ec_sim_json_put(o, "block_interval_ms", u64j(sc->block_interval_ms), &ok);

	x = json_object();
	ec_sim_json_put(o, "peers", x, &ok);
	if (x) {
		ec_sim_json_put(x, "count", u64j(sc->peers.count), &ok);
		ec_sim_json_put(x, "identity_difficulty", u64j(sc->peers.identity_difficulty), &ok);
		ec_sim_json_put(x, "topology", json_string(ec_scn_topology_name(sc->peers.topology)),
		    &ok);
		ec_sim_json_put(x, "degree", u64j(sc->peers.degree), &ok);
		if (sc->peers.topology == EC_SCN_TOPO_RANDOM)
			ec_sim_json_put(x, "random_peers", u64j(sc->peers.random_peers), &ok);
		json_t *a = json_array();
		ec_sim_json_put(x, "regions", a, &ok);
		for (size_t i = 0; a && i < sc->peers.nregions; i++) {
			json_t *r = json_object();
			if (r) {
				ec_sim_json_put(r, "name", json_string(sc->peers.regions[i].name), &ok);
				ec_sim_json_put(r, "fraction", json_real(sc->peers.regions[i].fraction), &ok);
			}
			if (!r || json_array_append_new(a, r))
				ok = 0;
		}
	}

	x = json_object();
	ec_sim_json_put(o, "links", x, &ok);
	if (x) {
		put_link(x, &sc->links.def, 0xf, &ok);
		json_t *m = json_object();
		ec_sim_json_put(x, "latency_ms", m, &ok);
		for (size_t a = 0; m && a < sc->peers.nregions; a++) {
			json_t *row = json_object();
			ec_sim_json_put(m, sc->peers.regions[a].name, row, &ok);
			for (size_t b = 0; row && b < sc->peers.nregions; b++)
				ec_sim_json_put(row, sc->peers.regions[b].name,
				    u64j(sc->links.latency_ms[a][b]), &ok);
		}
	}

	x = json_object();
	ec_sim_json_put(o, "workload", x, &ok);
	if (x) {
		ec_sim_json_put(x, "tx_rate", json_real(w->tx_rate), &ok);
		ec_sim_json_put(x, "total_txs", u64j(w->total_txs), &ok);
		ec_sim_json_put(x, "initial_tokens", u64j(w->initial_tokens), &ok);
		ec_sim_json_put(x, "setup_tokens_per_tx", u64j(w->setup_tokens), &ok);
		ec_sim_json_put(x, "tokens_per_tx", json_pack("{s:I,s:I}", "min", (json_int_t)w->tokens_min,
						  "max", (json_int_t)w->tokens_max), &ok);
		ec_sim_json_put(x, "mix", json_pack("{s:f,s:f,s:f}", "create", w->mix_create, "transfer",
					w->mix_transfer, "destroy", w->mix_destroy), &ok);
		ec_sim_json_put(x, "double_sign", json_real(w->double_sign), &ok);
		ec_sim_json_put(x, "start_ms", u64j(w->start_ms), &ok);
		ec_sim_json_put(x, "stop_ms", u64j(w->stop_ms), &ok);
	}

	if (sc->sync.enabled) {
		x = json_object();
		ec_sim_json_put(o, "sync", x, &ok);
		if (x) {
			ec_sim_json_put(x, "strategies", name_set(sc->sync.strategies, strategy_name,
						      EC_SCN_SYNC_COUNT), &ok);
			ec_sim_json_put(x, "join_at_ms", u64j(sc->sync.join_at_ms), &ok);
			ec_sim_json_put(x, "joiners", u64j(sc->sync.joiners), &ok);
			ec_sim_json_put(x, "target_coverage", json_real(sc->sync.target_coverage), &ok);
		}
	}

	{
		const ec_scn_swap *sw_ = &sc->swap;
		json_t *sw = json_pack("{s:b,s:I,s:I,s:I,s:I,s:f,s:b}", "enabled", sw_->enabled,
				       "interval_ms", (json_int_t)sw_->interval_ms, "jitter_ms",
				       (json_int_t)sw_->jitter_ms, "max_simultaneous",
				       (json_int_t)sw_->max_simultaneous, "initial_interval_ms",
				       (json_int_t)sw_->initial_interval_ms, "adaptation",
				       sw_->adaptation, "rotate", sw_->rotate);
		if (sw) {
			ec_sim_json_put(sw, "set_size", u64j(sw_->set_size), &ok);
			ec_sim_json_put(sw, "keep_ring", u64j(sw_->keep_ring), &ok);
			ec_sim_json_put(sw, "min_neighbours", u64j(sw_->min_neighbours), &ok);
			ec_sim_json_put(sw, "cooldown_ms", u64j(sw_->cooldown_ms), &ok);
			ec_sim_json_put(sw, "shift_step_ms", u64j(sw_->shift_step_ms), &ok);
			ec_sim_json_put(sw, "shift_steps", u64j(sw_->shift_steps), &ok);
			ec_sim_json_put(sw, "discovery", u64j(sw_->discovery), &ok);
		}
		ec_sim_json_put(o, "swap", sw, &ok);
	}

	x = json_object();
	ec_sim_json_put(o, "report", x, &ok);
	if (x) {
		ec_sim_json_put(x, "interval_ms", u64j(sc->report.interval_ms), &ok);
		ec_sim_json_put(x, "dir", json_string(sc->report.dir), &ok);
		ec_sim_json_put(x, "plots", name_set(sc->report.plots, plot_name, EC_SCN_PLOT_COUNT), &ok);
		ec_sim_json_put(x, "progress", json_boolean(sc->report.progress), &ok);
	}

	json_t *ev = json_array();
	ec_sim_json_put(o, "events", ev, &ok);
	for (size_t i = 0; ev && i < sc->nevents; i++) {
		json_t *e = event_json(sc, &sc->events[i], &ok);
		if (!e || json_array_append_new(ev, e))
			ok = 0;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *ec_scenario_to_json(const ec_scenario *sc)
{
	json_t *o = ec_scenario_json(sc);
	if (!o)
		return NULL;
	char *s = ec_report_json_text(o);
	json_decref(o);
	return s;
}
