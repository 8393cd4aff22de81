/* ecn_swap.c - ecnode's side of peer swapping (PROTOCOL 14d "In the node",
 * 16.1 "swap_*"): the --swap* settings into the node's configuration and
 * the JSON-RPC methods swap_status (schedule, counters, scores, swaps in
 * flight), swap_pause, swap_resume, swap_static {on} and swap_force
 * {out?, in?}.  The policy and its execution live in libec
 * (ec_swap.c, ec_node_swap.c); this file only translates. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "node/ecnode.h"

json_t *ecn_swap_rpc(ecnode *d, const char *method, json_t *params, int *code,
		     const char **msg);

void ecn_swap_node_cfg(const ecn_cfg *c, ec_node_cfg *nc)
{
	nc->swap_enabled = (uint8_t)(c->swap != 0);
	if (c->swap_interval_ms) {
		nc->swap.target_interval_ms = c->swap_interval_ms;
		nc->swap.initial_interval_ms = c->swap_initial_ms > c->swap_interval_ms
						       ? c->swap_initial_ms
						       : c->swap_interval_ms;
	} else if (c->swap_initial_ms >= nc->swap.target_interval_ms) {
		nc->swap.initial_interval_ms = c->swap_initial_ms;
	}
	if (c->swap_step_ms)
		nc->swap.shift_step_ms = c->swap_step_ms;
	if (c->swap_cooldown_ms)
		nc->swap.cooldown_ms = c->swap_cooldown_ms;
	if (c->swap_min)
		nc->swap.min_neighbours = c->swap_min;
	if (c->swap_set_size)
		nc->swap_set_size = c->swap_set_size;
	if (c->swap_keep_ring >= 0)
		nc->swap_keep_ring = (uint8_t)c->swap_keep_ring;
}

static json_t *idj(const ec_id *id)
{
	char h[2 * EC_HASH_BYTES + 1];
	ec_hex_encode(h, id->b, EC_HASH_BYTES);
	return json_string(h);
}

static const char *mode_name(uint8_t m)
{
	static const char *n[] = {"normal", "conservative", "gated", "static", "paused"};
	return m < 5 ? n[m] : "?";
}

static const char *role_name(uint8_t r)
{
	static const char *n[] = {"none", "neighbour", "joining", "backup", "retired"};
	return r < 5 ? n[r] : "?";
}

static const char *phase_name(uint8_t p)
{
	static const char *n[] = {"?", "connect", "sync", "shift", "disconnect", "done",
				  "aborted"};
	return p < 7 ? n[p] : "?";
}

static const char *reason_name(uint8_t r)
{
	static const char *n[] = {"?", "candidate", "rotation", "emergency", "forced"};
	return r < 5 ? n[r] : "?";
}

static json_t *status_json(ecnode *d)
{
	const ec_swap *sw = ec_node_swap_get(d->node);
	ec_swap_status st;
	ec_node_swap_counters k;
	ec_swap_row rows[128];
	ec_swap_op_info ops[EC_SWAP_MAX_OPS];
	size_t nr, no;
	ec_time now = ecn_now_ms();
	json_t *peers = json_array(), *aops = json_array(), *o;
	(void)ec_node_swap_status(d->node, &st);
	(void)ec_node_swap_counters_get(d->node, &k);
	nr = ec_swap_list(sw, rows, 128);
	no = ec_swap_list_ops(sw, ops, EC_SWAP_MAX_OPS);
	for (size_t i = 0; i < nr && i < 128; i++) {
		const ec_swap_row *r = &rows[i];
		json_array_append_new(
			peers,
			json_pack("{s:o, s:s, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:I, s:b, "
				  "s:b, s:b, s:b, s:I}",
				  "peer", idj(&r->peer), "role", role_name(r->role), "score",
				  r->score, "components", "accuracy", r->comp[0], "availability",
				  r->comp[1], "sync", r->comp[2], "reputation", r->comp[3],
				  "latency", r->comp[4], "samples", (json_int_t)r->samples,
				  "candidate", r->candidate, "emergency", r->emergency, "warm",
				  r->warm, "in_swap", r->in_swap, "lag",
				  (json_int_t)(r->lag == UINT64_MAX ? -1 : (int64_t)r->lag)));
	}
	for (size_t i = 0; i < no && i < EC_SWAP_MAX_OPS; i++)
		json_array_append_new(
			aops, json_pack("{s:I, s:s, s:s, s:i, s:o, s:o, s:I}", "id",
					(json_int_t)ops[i].id, "phase", phase_name(ops[i].phase),
					"reason", reason_name(ops[i].reason), "step", ops[i].step,
					"out", idj(&ops[i].out), "in", idj(&ops[i].in), "age_ms",
					(json_int_t)(now > ops[i].started ? now - ops[i].started : 0)));
	o = json_pack("{s:b, s:s, s:b, s:b, s:b, s:f, s:f, s:I, s:I, s:I}", "enabled", 1,
		      "mode", mode_name(st.mode), "paused", st.paused, "static",
		      st.manual_static, "auto_static", st.auto_static, "health", st.health,
		      "load", st.load, "interval_ms", (json_int_t)st.interval_ms,
		      "effective_ms", (json_int_t)st.effective_ms, "next_round_in_ms",
		      (json_int_t)(st.next_round == UINT64_MAX ? -1
				   : st.next_round > now ? (int64_t)(st.next_round - now)
							 : 0));
	json_object_set_new(
		o, "counts",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "neighbours",
			  (json_int_t)st.neighbours, "active", (json_int_t)st.active, "backups",
			  (json_int_t)st.backups, "warm_backups", (json_int_t)st.warm_backups,
			  "inflight", (json_int_t)st.inflight, "peer_set",
			  (json_int_t)ec_node_peer_count(d->node)));
	json_object_set_new(
		o, "swaps",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			  "rounds", (json_int_t)st.rounds, "rounds_skipped",
			  (json_int_t)st.rounds_skipped, "started", (json_int_t)st.started,
			  "done", (json_int_t)st.done, "aborted", (json_int_t)st.aborted,
			  "emergencies", (json_int_t)st.emergencies, "forced",
			  (json_int_t)st.forced, "rotations", (json_int_t)st.rotations,
			  "waits_min_size", (json_int_t)st.waits_min_size, "waits_pending",
			  (json_int_t)st.waits_pending, "no_replacement",
			  (json_int_t)st.no_replacement, "hellos_pooled",
			  (json_int_t)k.hellos_pooled));
	json_object_set_new(
		o, "node",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "repooled",
			  (json_int_t)k.repooled, "connects",
			  (json_int_t)k.connects, "syncs", (json_int_t)k.syncs, "load_steps",
			  (json_int_t)k.load_steps, "disconnects", (json_int_t)k.disconnects,
			  "hellos_refused", (json_int_t)k.hellos_refused, "responses",
			  (json_int_t)k.responses, "timeouts", (json_int_t)k.timeouts,
			  "penalties", (json_int_t)k.penalties));
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "ops", aops);
	return o;
}

static int id_param(json_t *params, const char *key, ec_id *out, int *has)
{
	json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;
	const char *s;
	*has = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(s = json_string_value(v)) != 2 * EC_HASH_BYTES ||
	    ec_hex_decode(out->b, EC_HASH_BYTES, s) != EC_OK)
		return -1;
	*has = 1;
	return 0;
}

json_t *ecn_swap_rpc(ecnode *d, const char *method, json_t *params, int *code,
		     const char **msg)
{
	ec_time now = ecn_now_ms();
	int err = EC_OK;
	json_t *r = NULL;
	if (!ec_node_swap_get(d->node)) {
		*code = 3;
		*msg = "swapping is off (start ecnode with --swap on)";
		return NULL;
	}
	if (!strcmp(method, "swap_status")) {
		return status_json(d);
	} else if (!strcmp(method, "swap_pause")) {
		err = ec_node_swap_pause(d->node, now);
	} else if (!strcmp(method, "swap_resume")) {
		err = ec_node_swap_resume(d->node, now);
	} else if (!strcmp(method, "swap_static")) {
		json_t *v = json_is_object(params) ? json_object_get(params, "on") : NULL;
		if (!json_is_boolean(v)) {
			*code = 2;
			*msg = "params.on: true or false";
			return NULL;
		}
		err = ec_node_swap_static(d->node, json_is_true(v), now);
	} else if (!strcmp(method, "swap_force")) {
		ec_id out, in;
		int ho, hi;
		uint32_t op = 0;
		if (id_param(params, "out", &out, &ho) || id_param(params, "in", &in, &hi)) {
			*code = 2;
			*msg = "params.out / params.in: 64 hex digits (a peer id)";
			return NULL;
		}
		err = ec_node_swap_force(d->node, ho ? &out : NULL, hi ? &in : NULL, now, &op);
		if (err == EC_OK)
			r = json_pack("{s:I}", "op", (json_int_t)op);
	} else {
		*code = 1;
		*msg = "method not found";
		return NULL;
	}
	ecn_flush(d);
	ecn_schedule(d);
	if (err == EC_ERR_NOTFOUND) {
		*code = 4;
		*msg = "no such neighbour or backup, or no replacement available";
		return NULL;
	}
	if (err == EC_ERR_BUSY) {
		*code = 5;
		*msg = "busy: too many swaps in flight, or the peer (or a related one) "
		       "is already being swapped";
		return NULL;
	}
	if (err != EC_OK) {
		*code = 0;
		*msg = ec_strerror(err);
		return NULL;
	}
	if (!r) {
		ec_swap_status st;
		(void)ec_node_swap_status(d->node, &st);
		r = json_pack("{s:s}", "mode", mode_name(st.mode));
	}
	return r;
}
