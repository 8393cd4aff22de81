/* cmd_swap.c - `ecctl swap ...`: ecnode's peer-swapping RPC (PROTOCOL 16.1
 * swap_*): status (schedule, counters, scores, swaps in flight), pause,
 * resume, force [OUT] [--in IN], static on|off.  Human output by default,
 * the raw JSON result with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/ec.h"

static json_int_t geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *gets(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "?";
}

static void print_status(json_t *r)
{
	json_t *c = json_object_get(r, "counts"), *s = json_object_get(r, "swaps");
	json_t *nd = json_object_get(r, "node"), *peers = json_object_get(r, "peers");
	json_t *ops = json_object_get(r, "ops"), *v;
	size_t i;
	json_int_t next = geti(r, "next_round_in_ms");
	printf("mode:        %s (health %.2f, load %.2f)\n", gets(r, "mode"),
	       json_real_value(json_object_get(r, "health")),
	       json_real_value(json_object_get(r, "load")));
	printf("interval:    %lld ms (effective %lld ms)\n", (long long)geti(r, "interval_ms"),
	       (long long)geti(r, "effective_ms"));
	if (next < 0)
		printf("next round:  none (paused)\n");
	else
		printf("next round:  in %lld ms\n", (long long)next);
	printf("peers:       %lld in the set, %lld swappable neighbours (%lld active), "
	       "%lld backups (%lld warm), %lld swaps in flight\n",
	       (long long)geti(c, "peer_set"), (long long)geti(c, "neighbours"),
	       (long long)geti(c, "active"), (long long)geti(c, "backups"),
	       (long long)geti(c, "warm_backups"), (long long)geti(c, "inflight"));
	printf("swaps:       %lld started, %lld done, %lld aborted (%lld rotations, "
	       "%lld emergencies, %lld forced); rounds %lld (%lld skipped); "
	       "waits: min size %lld, pending commit %lld; no replacement %lld\n",
	       (long long)geti(s, "started"), (long long)geti(s, "done"),
	       (long long)geti(s, "aborted"), (long long)geti(s, "rotations"),
	       (long long)geti(s, "emergencies"), (long long)geti(s, "forced"),
	       (long long)geti(s, "rounds"), (long long)geti(s, "rounds_skipped"),
	       (long long)geti(s, "waits_min_size"), (long long)geti(s, "waits_pending"),
	       (long long)geti(s, "no_replacement"));
	printf("node:        %lld connects, %lld disconnects, %lld hellos pooled, "
	       "%lld refused; %lld answers, %lld timeouts, %lld penalties observed\n",
	       (long long)geti(nd, "connects"), (long long)geti(nd, "disconnects"),
	       (long long)geti(s, "hellos_pooled"), (long long)geti(nd, "hellos_refused"),
	       (long long)geti(nd, "responses"), (long long)geti(nd, "timeouts"),
	       (long long)geti(nd, "penalties"));
	if (json_array_size(peers))
		printf("%-18s %-9s %6s %7s  %s\n", "peer", "role", "score", "samples", "flags");
	json_array_foreach(peers, i, v)
	{
		char flags[64] = "";
		if (json_is_true(json_object_get(v, "candidate")))
			strcat(flags, "candidate ");
		if (json_is_true(json_object_get(v, "emergency")))
			strcat(flags, "emergency ");
		if (json_is_true(json_object_get(v, "warm")))
			strcat(flags, "warm ");
		if (json_is_true(json_object_get(v, "in_swap")))
			strcat(flags, "in-swap ");
		printf("%.16s.. %-9s %6.3f %7lld  %s\n", gets(v, "peer"), gets(v, "role"),
		       json_real_value(json_object_get(v, "score")),
		       (long long)geti(v, "samples"), flags);
	}
	json_array_foreach(ops, i, v)
	{
		printf("swap %lld: %s (%s, step %lld) out %.16s.. in %.16s.., %lld ms\n",
		       (long long)geti(v, "id"), gets(v, "phase"), gets(v, "reason"),
		       (long long)geti(v, "step"), gets(v, "out"), gets(v, "in"),
		       (long long)geti(v, "age_ms"));
	}
}

static int usage(const char *msg)
{
	fprintf(stderr,
		"%s: %s\nusage: ecctl swap status | pause | resume | "
		"force [OUT] [--in IN] | static on|off   [--rpc PATH] [--json]\n",
		ctl_cmd, msg);
	return 2;
}

int ctl_swap_online(const char *rpc, int json, char **rest, int nrest)
{
	json_t *params = NULL, *res = NULL;
	const char *method, *sub = nrest ? rest[0] : "status";
	int r;
	if (!strcmp(sub, "status") || !strcmp(sub, "pause") || !strcmp(sub, "resume")) {
		if (nrest > 1)
			return usage("no arguments expected");
		method = !strcmp(sub, "status") ? "swap_status"
			 : !strcmp(sub, "pause")  ? "swap_pause"
						  : "swap_resume";
	} else if (!strcmp(sub, "static")) {
		if (nrest != 2 || (strcmp(rest[1], "on") && strcmp(rest[1], "off")))
			return usage("static on|off");
		params = json_pack("{s:b}", "on", !strcmp(rest[1], "on"));
		method = "swap_static";
	} else if (!strcmp(sub, "force")) {
		char full[65];
		params = json_object();
		for (int i = 1; i < nrest; i++) {
			const char *key = NULL, *v = NULL;
			if (!strcmp(rest[i], "--in") && i + 1 < nrest && ctl_is_id_prefix(rest[i + 1]))
				key = "in", v = rest[++i];
			else if (ctl_is_id_prefix(rest[i]) && !json_object_get(params, "out"))
				key = "out", v = rest[i];
			if (!key) {
				json_decref(params);
				return usage("force [OUT] [--in IN] (peer ids: 64 hex or a unique "
					     "prefix)");
			}
			if ((r = ctl_peer_expand(rpc, v, full)) != 0) {
				json_decref(params);
				return r;
			}
			json_object_set_new(params, key, json_string(full));
		}
		method = "swap_force";
	} else {
		return usage("unknown swap command");
	}
	if ((r = ctl_rpc_call(rpc, method, params, &res)) != 0)
		return r;
	if (json) {
		char *s = json_dumps(res, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
	} else if (!strcmp(method, "swap_status")) {
		print_status(res);
	} else if (!strcmp(method, "swap_force")) {
		printf("swap %lld started\n", (long long)geti(res, "op"));
	} else {
		printf("swapping: %s\n", gets(res, "mode"));
	}
	json_decref(res);
	return 0;
}
