/* ec_scenario.c - scenario YAML -> ec_scenario: libyaml's document API, a
 * strict schema walk (every key known, every value typed and ranged),
 * defaults, cross-field checks, and the JSON dump of the resolved scenario.
 * The schema is docs/SCENARIOS.md; keep the two in step.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "sim/ec_scenario.h"

static const char *const kind_names[EC_SCN_EV_COUNT] = {
	"join", "leave", "crash", "return", "partition", "heal",
	"net_condition", "attacker_group", "report",
};
static const char *const strategy_names[EC_SCN_SYNC_COUNT] = {"chain", "polling"};
static const char *const plot_names[EC_SCN_PLOT_COUNT] = {
	"coverage_time", "coverage_messages", "commit_latency",
};
static const char *const topo_names[] = {"ring", "random", "full", NULL};

const char *ec_scn_event_kind_name(enum ec_scn_event_kind k)
{
	return (unsigned)k < EC_SCN_EV_COUNT ? kind_names[k] : NULL;
}
const char *ec_scn_strategy_name(enum ec_scn_strategy s)
{
	return (unsigned)s < EC_SCN_SYNC_COUNT ? strategy_names[s] : NULL;
}
const char *ec_scn_plot_name(enum ec_scn_plot p)
{
	return (unsigned)p < EC_SCN_PLOT_COUNT ? plot_names[p] : NULL;
}
const char *ec_scn_topology_name(enum ec_scn_topology t)
{
	return (unsigned)t <= EC_SCN_TOPO_FULL ? topo_names[t] : NULL;
}

/* ---- parse context and errors ------------------------------------------ */

typedef struct pctx {
	yaml_document_t doc;
	const char *file;
	char *err;
	size_t errlen;
	int failed;
} pctx;

#define FIELD_MAX 160

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 1;
}

/* Records "FILE:LINE: field 'F': msg" and returns EC_ERR_VALUE. */
static int fail(pctx *p, const yaml_node_t *n, const char *field,
		const char *fmt, ...)
{
	if (p->failed)
		return EC_ERR_VALUE;
	p->failed = 1;
	if (!p->err || !p->errlen)
		return EC_ERR_VALUE;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: field '%s': %s", p->file,
		 line_of(n), field, msg);
	return EC_ERR_VALUE;
}

/* Field names longer than FIELD_MAX are cut; vsnprintf keeps gcc's
 * truncation warnings for plain snprintf quiet about that intent. */
__attribute__((format(printf, 2, 3))) static void fieldf(char *out,
							  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, FIELD_MAX, fmt, ap);
	va_end(ap);
}

static void join_path(char *out, const char *parent, const char *key)
{
	if (parent[0])
		fieldf(out, "%s.%s", parent, key);
	else
		fieldf(out, "%s", key);
}

static yaml_node_t *node(pctx *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int is_null(const yaml_node_t *n)
{
	if (!is_plain(n))
		return 0;
	const char *s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static const char *type_word(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "nothing";
	return "a string";
}

/* ---- mappings ----------------------------------------------------------- */

/* Checks that n is a mapping whose keys are all in keys[] (NULL-ended),
 * without duplicates; vals[i] receives the value node of keys[i] or NULL. */
static int map_fields(pctx *p, yaml_node_t *n, const char *path,
		      const char *const *keys, yaml_node_t **vals)
{
	size_t nk = 0;
	while (keys[nk])
		vals[nk++] = NULL;
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, path[0] ? path : "(top level)",
			    "expected a mapping, got %s", type_word(n));
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		char f[FIELD_MAX];
		if (k->type != YAML_SCALAR_NODE)
			return fail(p, k, path[0] ? path : "(top level)",
				    "keys must be plain names");
		join_path(f, path, scalar(k));
		size_t i = 0;
		while (i < nk && strcmp(keys[i], scalar(k)))
			i++;
		if (i == nk)
			return fail(p, k, f, "unknown key");
		if (vals[i])
			return fail(p, k, f, "duplicate key");
		vals[i] = v;
	}
	return EC_OK;
}

static int required(pctx *p, yaml_node_t *map, yaml_node_t *v,
		    const char *path, const char *key)
{
	char f[FIELD_MAX];
	if (v)
		return EC_OK;
	join_path(f, path, key);
	return fail(p, map, f, "required field missing");
}

/* ---- scalars ------------------------------------------------------------ */

static int want_plain(pctx *p, yaml_node_t *v, const char *f, const char *what)
{
	if (is_plain(v) && !is_null(v))
		return EC_OK;
	if (v->type == YAML_SCALAR_NODE && !is_null(v))
		return fail(p, v, f, "expected %s, got the quoted string '%s'",
			    what, scalar(v));
	return fail(p, v, f, "expected %s, got %s", what, type_word(v));
}

/* Decimal digits, '_' allowed between digits (YAML 1.1 style 100_000). */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	if (!*s)
		return -1;
	for (const char *c = s; *c; c++) {
		if (*c == '_' && digits && c[1] >= '0' && c[1] <= '9')
			continue;
		if (*c < '0' || *c > '9')
			return -1;
		unsigned d = (unsigned)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -2;
		v = v * 10 + d;
		digits++;
	}
	*out = v;
	return 0;
}

static int get_u64(pctx *p, yaml_node_t *v, const char *path, const char *key,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	char f[FIELD_MAX];
	uint64_t x;
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (want_plain(p, v, f, "an integer"))
		return EC_ERR_VALUE;
	int r = parse_u64(scalar(v), &x);
	if (r == -1)
		return fail(p, v, f, "expected an integer, got '%s'", scalar(v));
	if (r == -2 || x < min || x > max)
		return fail(p, v, f, "%s is out of range %llu..%llu", scalar(v),
			    (unsigned long long)min, (unsigned long long)max);
	*out = x;
	return EC_OK;
}

static int get_u32(pctx *p, yaml_node_t *v, const char *path, const char *key,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t x = *out;
	int r = get_u64(p, v, path, key, min, max, &x);
	*out = (uint32_t)x;
	return r;
}

#define OPEN_MIN 1 /* get_f64: min itself is out of range */
#define OPEN_MAX 2 /* get_f64: max itself is out of range */

/* A number in [min, max], either end excluded by OPEN_MIN/OPEN_MAX. */
static int get_f64(pctx *p, yaml_node_t *v, const char *path, const char *key,
		   double min, double max, int open, double *out)
{
	char f[FIELD_MAX], *end;
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (want_plain(p, v, f, "a number"))
		return EC_ERR_VALUE;
	const char *s = scalar(v);
	if (strspn(s, "0123456789.eE+-") != strlen(s))
		return fail(p, v, f, "expected a number, got '%s'", s);
	errno = 0;
	double x = strtod(s, &end);
	if (*end || end == s || errno)
		return fail(p, v, f, "expected a number, got '%s'", s);
	if (!((open & OPEN_MIN ? x > min : x >= min) &&
	      (open & OPEN_MAX ? x < max : x <= max)))
		return fail(p, v, f, "%s is out of range %c%g, %g%c", s,
			    open & OPEN_MIN ? '(' : '[', min, max,
			    open & OPEN_MAX ? ')' : ']');
	*out = x;
	return EC_OK;
}

static int get_bool(pctx *p, yaml_node_t *v, const char *path, const char *key,
		    int *out)
{
	char f[FIELD_MAX];
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (want_plain(p, v, f, "true or false"))
		return EC_ERR_VALUE;
	if (!strcmp(scalar(v), "true"))
		*out = 1;
	else if (!strcmp(scalar(v), "false"))
		*out = 0;
	else
		return fail(p, v, f, "expected true or false, got '%s'", scalar(v));
	return EC_OK;
}

static int get_str(pctx *p, yaml_node_t *v, const char *path, const char *key,
		   char *out, size_t cap)
{
	char f[FIELD_MAX];
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(p, v, f, "expected a string, got %s", type_word(v));
	if (strlen(scalar(v)) >= cap)
		return fail(p, v, f, "longer than %zu characters", cap - 1);
	memcpy(out, scalar(v), strlen(scalar(v)) + 1);
	return EC_OK;
}

/* A name: 1..31 of [A-Za-z0-9_-]. */
static int get_name(pctx *p, yaml_node_t *v, const char *path, const char *key,
		    char out[EC_SCN_NAME_MAX])
{
	char f[FIELD_MAX];
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (get_str(p, v, path, key, out, EC_SCN_NAME_MAX))
		return EC_ERR_VALUE;
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-";
	if (!out[0] || strspn(out, ok) != strlen(out))
		return fail(p, v, f, "'%s' is not a name (letters, digits, '_', '-')",
			    out);
	return EC_OK;
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

static void join_names(char *out, size_t cap, const char *const *names, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && names[i]; i++)
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s",
				      i ? ", " : "", names[i]);
}

static int get_enum(pctx *p, yaml_node_t *v, const char *f,
		    const char *const *names, size_t n, int *out)
{
	char list[200];
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(p, v, f, "expected a string, got %s", type_word(v));
	int i = lookup(names, n, scalar(v));
	if (i < 0) {
		join_names(list, sizeof list, names, n);
		return fail(p, v, f, "'%s' is not one of: %s", scalar(v), list);
	}
	*out = i;
	return EC_OK;
}

/* A list of distinct enum names -> bit set (non-empty). */
static int get_enum_set(pctx *p, yaml_node_t *v, const char *path,
			const char *key, const char *const *names, size_t n,
			uint32_t *out)
{
	char f[FIELD_MAX], fi[FIELD_MAX];
	uint32_t set = 0;
	if (!v)
		return EC_OK;
	join_path(f, path, key);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, f, "expected a list, got %s", type_word(v));
	int idx = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++, idx++) {
		yaml_node_t *e = node(p, *it);
		int k;
		fieldf(fi, "%s[%d]", f, idx);
		if (get_enum(p, e, fi, names, n, &k))
			return EC_ERR_VALUE;
		if (set & (1u << k))
			return fail(p, e, fi, "'%s' is listed twice", names[k]);
		set |= 1u << k;
	}
	if (!set)
		return fail(p, v, f, "the list is empty");
	*out = set;
	return EC_OK;
}

static int hex32(uint8_t out[EC_HASH_BYTES], const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return ec_hex_decode(out, EC_HASH_BYTES, s);
}

int ec_scenario_seed_parse(uint8_t seed[EC_HASH_BYTES], const char *s)
{
	uint64_t v;
	if (!s)
		return EC_ERR_VALUE;
	if (hex32(seed, s) == EC_OK)
		return EC_OK;
	if (parse_u64(s, &v) != 0)
		return EC_ERR_VALUE;
	memset(seed, 0, EC_HASH_BYTES);
	for (int i = 0; i < 8; i++)
		seed[EC_HASH_BYTES - 1 - i] = (uint8_t)(v >> (8 * i));
	return EC_OK;
}

static int region_index(const ec_scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->peers.nregions; i++)
		if (!strcmp(sc->peers.regions[i].name, name))
			return (int)i;
	return -1;
}

/* A region name given in the file -> index. */
static int get_region(pctx *p, const ec_scenario *sc, yaml_node_t *v,
		      const char *f, int *out)
{
	char name[EC_SCN_NAME_MAX];
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(p, v, f, "expected a region name, got %s", type_word(v));
	if (strlen(scalar(v)) >= sizeof name)
		return fail(p, v, f, "no region is named '%s'", scalar(v));
	memcpy(name, scalar(v), strlen(scalar(v)) + 1);
	int i = region_index(sc, name);
	if (i < 0)
		return fail(p, v, f, "no region is named '%s'", name);
	*out = i;
	return EC_OK;
}

static int check_sum1(pctx *p, yaml_node_t *n, const char *f, double sum)
{
	if (fabs(sum - 1.0) > 1e-9)
		return fail(p, n, f, "fractions sum to %.9g, not 1", sum);
	return EC_OK;
}

/* ---- sections ----------------------------------------------------------- */

static int parse_meta(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"name", "description", NULL};
	yaml_node_t *v[2];
	if (map_fields(p, n, "meta", keys, v) || required(p, n, v[0], "meta", "name"))
		return EC_ERR_VALUE;
	if (get_str(p, v[0], "meta", "name", sc->name, sizeof sc->name) ||
	    get_str(p, v[1], "meta", "description", sc->description,
		    sizeof sc->description))
		return EC_ERR_VALUE;
	if (!sc->name[0])
		return fail(p, v[0], "meta.name", "must not be empty");
	return EC_OK;
}

static int parse_regions(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"name", "fraction", NULL};
	const char *f = "peers.regions";
	char fi[FIELD_MAX];
	double sum = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, f, "expected a list, got %s", type_word(n));
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (!cnt || cnt > EC_SCN_MAX_REGIONS)
		return fail(p, n, f, "%zu regions; 1..%d allowed", cnt, EC_SCN_MAX_REGIONS);
	sc->peers.nregions = 0;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = node(p, n->data.sequence.items.start[i]), *v[2];
		ec_scn_region *rg = &sc->peers.regions[i];
		fieldf(fi, "%s[%zu]", f, i);
		if (map_fields(p, e, fi, keys, v) || required(p, e, v[0], fi, "name") ||
		    required(p, e, v[1], fi, "fraction") ||
		    get_name(p, v[0], fi, "name", rg->name) ||
		    get_f64(p, v[1], fi, "fraction", 0, 1, OPEN_MIN, &rg->fraction))
			return EC_ERR_VALUE;
		if (region_index(sc, rg->name) >= 0) {
			char ff[FIELD_MAX];
			join_path(ff, fi, "name");
			return fail(p, v[0], ff, "region '%s' is defined twice", rg->name);
		}
		sc->peers.nregions = i + 1;
		sum += rg->fraction;
	}
	return check_sum1(p, n, f, sum);
}

static int parse_peers(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"count", "identity_difficulty",
					   "topology", "degree", "regions",
					   "random_peers", NULL};
	yaml_node_t *v[6];
	ec_scn_peers *pe = &sc->peers;
	if (map_fields(p, n, "peers", keys, v) || required(p, n, v[0], "peers", "count") ||
	    get_u32(p, v[0], "peers", "count", 1, EC_SCN_MAX_PEERS, &pe->count) ||
	    get_u32(p, v[1], "peers", "identity_difficulty", 0, 32,
		    &pe->identity_difficulty) ||
	    get_u32(p, v[3], "peers", "degree", 1, 1024, &pe->degree) ||
	    get_u32(p, v[5], "peers", "random_peers", 0, 1024, &pe->random_peers))
		return EC_ERR_VALUE;
	if (v[2]) {
		int t;
		if (get_enum(p, v[2], "peers.topology", topo_names, 3, &t))
			return EC_ERR_VALUE;
		pe->topology = (enum ec_scn_topology)t;
	}
	if (v[4] && parse_regions(p, sc, v[4]))
		return EC_ERR_VALUE;
	return EC_OK;
}

/* The four link fields at v[0..3]; sets *set bits for those present. */
static int link_fields(pctx *p, yaml_node_t **v, const char *path,
		       ec_scn_link *l, uint32_t *set)
{
	if (get_u32(p, v[0], path, "delay_ms", 0, EC_SCN_MAX_DELAY_MS, &l->delay_ms) ||
	    get_u32(p, v[1], path, "jitter_ms", 0, EC_SCN_MAX_DELAY_MS, &l->jitter_ms) ||
	    get_f64(p, v[2], path, "loss", 0, 1, OPEN_MAX, &l->loss) ||
	    get_u64(p, v[3], path, "bandwidth_kbps", 0, 100000000, &l->bandwidth_kbps))
		return EC_ERR_VALUE;
	*set = (v[0] ? EC_SCN_NET_DELAY : 0) | (v[1] ? EC_SCN_NET_JITTER : 0) |
	       (v[2] ? EC_SCN_NET_LOSS : 0) | (v[3] ? EC_SCN_NET_BANDWIDTH : 0);
	return EC_OK;
}

static int parse_links(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"delay_ms", "jitter_ms", "loss",
					   "bandwidth_kbps", "latency_ms", NULL};
	yaml_node_t *v[5];
	uint32_t set;
	uint8_t given[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
	char f[FIELD_MAX], fr[FIELD_MAX];
	if (map_fields(p, n, "links", keys, v) ||
	    link_fields(p, v, "links", &sc->links.def, &set))
		return EC_ERR_VALUE;
	memset(given, 0, sizeof given);
	if (v[4]) {
		yaml_node_t *m = v[4];
		if (m->type != YAML_MAPPING_NODE)
			return fail(p, m, "links.latency_ms", "expected a mapping, got %s",
				    type_word(m));
		for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
		     pr < m->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node(p, pr->key), *row = node(p, pr->value);
			int a, b;
			fieldf(f, "links.latency_ms.%s",
				 k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
			if (get_region(p, sc, k, f, &a))
				return EC_ERR_VALUE;
			if (row->type != YAML_MAPPING_NODE)
				return fail(p, row, f, "expected a mapping of region: ms, got %s",
					    type_word(row));
			for (yaml_node_pair_t *q = row->data.mapping.pairs.start;
			     q < row->data.mapping.pairs.top; q++) {
				yaml_node_t *k2 = node(p, q->key), *val = node(p, q->value);
				uint32_t ms = 0;
				fieldf(fr, "%s.%s", f,
					 k2->type == YAML_SCALAR_NODE ? scalar(k2) : "?");
				if (get_region(p, sc, k2, fr, &b))
					return EC_ERR_VALUE;
				if (given[a][b])
					return fail(p, k2, fr, "duplicate key");
				if (get_u32(p, val, "", fr, 0, EC_SCN_MAX_DELAY_MS, &ms))
					return EC_ERR_VALUE;
				sc->links.latency_ms[a][b] = ms;
				given[a][b] = 1;
			}
		}
	}
	for (size_t a = 0; a < sc->peers.nregions; a++)
		for (size_t b = 0; b < sc->peers.nregions; b++)
			if (!given[a][b])
				sc->links.latency_ms[a][b] = given[b][a]
					? sc->links.latency_ms[b][a]
					: sc->links.def.delay_ms;
	return EC_OK;
}

static int parse_workload(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"tx_rate", "total_txs", "initial_tokens",
					   "tokens_per_tx", "mix", "double_sign",
					   "start_ms", "stop_ms", "setup_tokens_per_tx", NULL};
	static const char *const tkeys[] = {"min", "max", NULL};
	static const char *const mkeys[] = {"create", "transfer", "destroy", NULL};
	yaml_node_t *v[9], *t[2], *m[3];
	ec_scn_workload *w = &sc->workload;
	const char *P = "workload";
	if (map_fields(p, n, P, keys, v) ||
	    get_f64(p, v[0], P, "tx_rate", 0, 1e6, 0, &w->tx_rate) ||
	    get_u64(p, v[1], P, "total_txs", 0, 1000000000000ull, &w->total_txs) ||
	    get_u64(p, v[2], P, "initial_tokens", 0, 1000000000000ull,
		    &w->initial_tokens) ||
	    get_f64(p, v[5], P, "double_sign", 0, 1, 0, &w->double_sign) ||
	    get_u64(p, v[6], P, "start_ms", 0, sc->duration_ms, &w->start_ms) ||
	    get_u64(p, v[7], P, "stop_ms", 0, sc->duration_ms, &w->stop_ms) ||
	    get_u32(p, v[8], P, "setup_tokens_per_tx", 1, EC_TX_MAX_ENTRIES,
		    &w->setup_tokens))
		return EC_ERR_VALUE;
	if (!v[7])
		w->stop_ms = sc->duration_ms;
	if (w->stop_ms < w->start_ms)
		return fail(p, v[7] ? v[7] : v[6], v[7] ? "workload.stop_ms" : "workload.start_ms",
			    "stop_ms %llu is before start_ms %llu",
			    (unsigned long long)w->stop_ms, (unsigned long long)w->start_ms);
	if (v[3]) {
		const char *T = "workload.tokens_per_tx";
		if (map_fields(p, v[3], T, tkeys, t) ||
		    get_u32(p, t[0], T, "min", 1, EC_TX_MAX_ENTRIES, &w->tokens_min) ||
		    get_u32(p, t[1], T, "max", 1, EC_TX_MAX_ENTRIES, &w->tokens_max))
			return EC_ERR_VALUE;
		if (w->tokens_max < w->tokens_min)
			return fail(p, t[1] ? t[1] : t[0],
				    t[1] ? "workload.tokens_per_tx.max"
					 : "workload.tokens_per_tx.min",
				    "max %u is below min %u", w->tokens_max, w->tokens_min);
	}
	if (v[4]) {
		const char *M = "workload.mix";
		w->mix_create = w->mix_transfer = w->mix_destroy = 0;
		if (map_fields(p, v[4], M, mkeys, m) ||
		    get_f64(p, m[0], M, "create", 0, 1, 0, &w->mix_create) ||
		    get_f64(p, m[1], M, "transfer", 0, 1, 0, &w->mix_transfer) ||
		    get_f64(p, m[2], M, "destroy", 0, 1, 0, &w->mix_destroy) ||
		    check_sum1(p, v[4], M, w->mix_create + w->mix_transfer + w->mix_destroy))
			return EC_ERR_VALUE;
	}
	if (w->mix_create <= 0 && !w->initial_tokens)
		return fail(p, v[4] ? v[4] : n, v[4] ? "workload.mix" : "workload",
			    "transfers and destroys need tokens: set mix.create > 0 "
			    "or initial_tokens");
	return EC_OK;
}

static int parse_sync(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"strategies", "join_at_ms", "joiners",
					   "target_coverage", NULL};
	yaml_node_t *v[4];
	ec_scn_sync *s = &sc->sync;
	s->enabled = 1;
	if (map_fields(p, n, "sync", keys, v) ||
	    required(p, n, v[1], "sync", "join_at_ms") ||
	    get_enum_set(p, v[0], "sync", "strategies", strategy_names,
			 EC_SCN_SYNC_COUNT, &s->strategies) ||
	    get_u64(p, v[1], "sync", "join_at_ms", 0, sc->duration_ms, &s->join_at_ms) ||
	    get_u32(p, v[2], "sync", "joiners", 1, 1000, &s->joiners) ||
	    get_f64(p, v[3], "sync", "target_coverage", 0, 1, OPEN_MIN,
		    &s->target_coverage))
		return EC_ERR_VALUE;
	return EC_OK;
}

static int parse_swap(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"enabled", "interval_ms", "jitter_ms",
					   "max_simultaneous", "initial_interval_ms",
					   "adaptation", "rotate", "set_size", "keep_ring",
					   "min_neighbours", "cooldown_ms", "shift_step_ms",
					   "shift_steps", "discovery", NULL};
	yaml_node_t *v[14];
	ec_scn_swap *s = &sc->swap;
	const uint64_t D30 = 86400000ull * 30;
	if (map_fields(p, n, "swap", keys, v) ||
	    get_bool(p, v[0], "swap", "enabled", &s->enabled) ||
	    get_u64(p, v[1], "swap", "interval_ms", 1, D30, &s->interval_ms) ||
	    get_u64(p, v[2], "swap", "jitter_ms", 0, D30, &s->jitter_ms) ||
	    get_u32(p, v[3], "swap", "max_simultaneous", 1, 16 /* EC_SWAP_MAX_OPS */,
		    &s->max_simultaneous) ||
	    get_u64(p, v[4], "swap", "initial_interval_ms", 1, D30, &s->initial_interval_ms) ||
	    get_f64(p, v[5], "swap", "adaptation", 0, 1, OPEN_MAX, &s->adaptation) ||
	    get_bool(p, v[6], "swap", "rotate", &s->rotate) ||
	    get_u32(p, v[7], "swap", "set_size", 0, 100000, &s->set_size) ||
	    get_u32(p, v[8], "swap", "keep_ring", 0, 16, &s->keep_ring) ||
	    get_u32(p, v[9], "swap", "min_neighbours", 0, 100000, &s->min_neighbours) ||
	    get_u64(p, v[10], "swap", "cooldown_ms", 0, D30, &s->cooldown_ms) ||
	    get_u64(p, v[11], "swap", "shift_step_ms", 0, D30, &s->shift_step_ms) ||
	    get_u32(p, v[12], "swap", "shift_steps", 1, 255, &s->shift_steps) ||
	    get_u32(p, v[13], "swap", "discovery", 0, 100000, &s->discovery))
		return EC_ERR_VALUE;
	if (!v[2])
		s->jitter_ms = s->interval_ms / 2; /* the design's +-50 % */
	if (s->jitter_ms >= s->interval_ms && s->jitter_ms)
		return fail(p, v[2], "swap.jitter_ms", "must be below interval_ms %llu",
			    (unsigned long long)s->interval_ms);
	if (!v[4])
		s->initial_interval_ms = s->interval_ms; /* no rollout */
	if (s->initial_interval_ms < s->interval_ms)
		return fail(p, v[4], "swap.initial_interval_ms", "below interval_ms %llu",
			    (unsigned long long)s->interval_ms);
	return EC_OK;
}

static int parse_report(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = {"interval_ms", "dir", "plots", "progress",
					   NULL};
	yaml_node_t *v[4];
	ec_scn_report *r = &sc->report;
	if (map_fields(p, n, "report", keys, v) ||
	    get_u64(p, v[0], "report", "interval_ms", 1, sc->duration_ms,
		    &r->interval_ms) ||
	    get_str(p, v[1], "report", "dir", r->dir, sizeof r->dir) ||
	    get_bool(p, v[3], "report", "progress", &r->progress))
		return EC_ERR_VALUE;
	if (v[1] && !r->dir[0])
		return fail(p, v[1], "report.dir", "must not be empty");
	if (v[2]) {
		/* an empty list is allowed here: no plots */
		if (v[2]->type == YAML_SEQUENCE_NODE &&
		    v[2]->data.sequence.items.top == v[2]->data.sequence.items.start)
			r->plots = 0;
		else if (get_enum_set(p, v[2], "report", "plots", plot_names,
				      EC_SCN_PLOT_COUNT, &r->plots))
			return EC_ERR_VALUE;
	}
	return EC_OK;
}

/* ---- events ------------------------------------------------------------- */

/* Parameters each kind accepts besides at_ms and kind. */
static const char *const ev_keys[EC_SCN_EV_COUNT][11] = {
	[EC_SCN_EV_JOIN] = {"count", "region", "group", NULL},
	[EC_SCN_EV_LEAVE] = {"count", "region", "group", NULL},
	[EC_SCN_EV_CRASH] = {"count", "region", "group", NULL},
	[EC_SCN_EV_RETURN] = {"count", "group", NULL},
	[EC_SCN_EV_PARTITION] = {"name", "regions", "fraction", NULL},
	[EC_SCN_EV_HEAL] = {"name", NULL},
	[EC_SCN_EV_NET_CONDITION] = {"delay_ms", "jitter_ms", "loss",
				     "bandwidth_kbps", "from", "to"},
	[EC_SCN_EV_ATTACKER_GROUP] = {"name", "count", "region", "target", "victims",
				      "mode", "withhold", "discovery_ms", "placement", NULL},
	[EC_SCN_EV_REPORT] = {"label", NULL},
};

static yaml_node_t *param(pctx *p, yaml_node_t *e, const char *key)
{
	for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
	     pr < e->data.mapping.pairs.top; pr++)
		if (!strcmp(scalar(node(p, pr->key)), key))
			return node(p, pr->value);
	return NULL;
}

/* attacker_group's victims / mode / withhold / discovery_ms. */
static int attacker_params(pctx *p, const ec_scenario *sc, ec_scn_event *ev,
			   yaml_node_t *e, const char *fi)
{
	yaml_node_t *mv = param(p, e, "mode");
	char f[FIELD_MAX];
	ev->victims = 1;
	if (get_u32(p, param(p, e, "victims"), fi, "victims", 1, EC_SCN_MAX_PEERS,
		    &ev->victims) ||
	    get_bool(p, param(p, e, "withhold"), fi, "withhold", &ev->withhold) ||
	    get_u64(p, param(p, e, "discovery_ms"), fi, "discovery_ms", 0, sc->duration_ms,
		    &ev->discovery_ms))
		return EC_ERR_VALUE;
	if (mv) {
		join_path(f, fi, "mode");
		if (mv->type != YAML_SCALAR_NODE ||
		    (strcmp(scalar(mv), "hold") && strcmp(scalar(mv), "eclipse")))
			return fail(p, mv, f, "expected 'hold' or 'eclipse'");
		ev->eclipse = !strcmp(scalar(mv), "eclipse");
	}
	if ((mv = param(p, e, "placement"))) {
		join_path(f, fi, "placement");
		if (mv->type != YAML_SCALAR_NODE ||
		    (strcmp(scalar(mv), "random") && strcmp(scalar(mv), "near")))
			return fail(p, mv, f, "expected 'random' or 'near'");
		ev->near = !strcmp(scalar(mv), "near");
	}
	if (ev->eclipse && ev->victims != 1) {
		join_path(f, fi, "victims");
		return fail(p, param(p, e, "victims"), f, "an eclipse has one victim (the joiner)");
	}
	return EC_OK;
}

static int has_group(const ec_scenario *sc, size_t upto, const char *name,
		     enum ec_scn_event_kind kind)
{
	for (size_t i = 0; i < upto; i++)
		if (sc->events[i].kind == kind && !strcmp(sc->events[i].group, name))
			return 1;
	return 0;
}

static int parse_partition(pctx *p, ec_scenario *sc, ec_scn_event *ev,
			   yaml_node_t *e, const char *fi, size_t idx)
{
	yaml_node_t *rv = param(p, e, "regions"), *fv = param(p, e, "fraction");
	char f[FIELD_MAX], fr[FIELD_MAX];
	if (get_name(p, param(p, e, "name"), fi, "name", ev->group))
		return EC_ERR_VALUE;
	if (!ev->group[0])
		snprintf(ev->group, sizeof ev->group, "p%zu", idx);
	if (has_group(sc, idx, ev->group, EC_SCN_EV_PARTITION)) {
		join_path(f, fi, "name");
		return fail(p, param(p, e, "name") ? param(p, e, "name") : e, f,
			    "partition '%s' is defined twice", ev->group);
	}
	if (!rv == !fv) {
		join_path(f, fi, "regions");
		return fail(p, e, f, "give exactly one of 'regions' and 'fraction'");
	}
	if (fv)
		return get_f64(p, fv, fi, "fraction", 0, 1, OPEN_MIN | OPEN_MAX,
			       &ev->fraction);
	join_path(f, fi, "regions");
	if (rv->type != YAML_SEQUENCE_NODE)
		return fail(p, rv, f, "expected a list of region names, got %s",
			    type_word(rv));
	int j = 0;
	for (yaml_node_item_t *it = rv->data.sequence.items.start;
	     it < rv->data.sequence.items.top; it++, j++) {
		int r;
		fieldf(fr, "%s[%d]", f, j);
		if (get_region(p, sc, node(p, *it), fr, &r))
			return EC_ERR_VALUE;
		if (ev->regions_mask & (1u << r))
			return fail(p, node(p, *it), fr, "'%s' is listed twice",
				    sc->peers.regions[r].name);
		ev->regions_mask |= 1u << r;
	}
	if (!ev->regions_mask)
		return fail(p, rv, f, "the list is empty");
	if (ev->regions_mask == (1u << sc->peers.nregions) - 1)
		return fail(p, rv, f, "cuts off every region; leave one outside");
	return EC_OK;
}

static int parse_event(pctx *p, ec_scenario *sc, yaml_node_t *e, size_t idx,
		       uint64_t *online)
{
	ec_scn_event *ev = &sc->events[idx];
	char fi[FIELD_MAX], f[FIELD_MAX];
	yaml_node_t *atv = NULL, *kv = NULL;
	int k;
	fieldf(fi, "events[%zu]", idx);
	memset(ev, 0, sizeof *ev);
	ev->region = ev->region_to = -1;
	ev->count = 1;
	ev->line = line_of(e);
	if (e->type != YAML_MAPPING_NODE)
		return fail(p, e, fi, "expected a mapping, got %s", type_word(e));
	/* kind first: it decides which other keys are allowed */
	for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
	     pr < e->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = node(p, pr->key);
		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, fi, "keys must be plain names");
		if (!strcmp(scalar(key), "kind"))
			kv = node(p, pr->value);
		else if (!strcmp(scalar(key), "at_ms"))
			atv = node(p, pr->value);
	}
	if (required(p, e, kv, fi, "kind"))
		return EC_ERR_VALUE;
	join_path(f, fi, "kind");
	if (get_enum(p, kv, f, kind_names, EC_SCN_EV_COUNT, &k))
		return EC_ERR_VALUE;
	ev->kind = (enum ec_scn_event_kind)k;
	const char *keys[13] = {"at_ms", "kind"};
	size_t nk = 2;
	for (size_t i = 0; i < 11 && ev_keys[k][i]; i++)
		keys[nk++] = ev_keys[k][i];
	keys[nk] = NULL;
	yaml_node_t *v[13];
	/* unknown keys are named with the kind that refuses them */
	for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
	     pr < e->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = node(p, pr->key);
		if (lookup(keys, nk, scalar(key)) < 0) {
			join_path(f, fi, scalar(key));
			return fail(p, key, f, "unknown key for a '%s' event",
				    kind_names[k]);
		}
	}
	if (map_fields(p, e, fi, keys, v) || required(p, e, atv, fi, "at_ms") ||
	    get_u64(p, atv, fi, "at_ms", 0, UINT64_MAX, &ev->at_ms))
		return EC_ERR_VALUE;
	join_path(f, fi, "at_ms");
	if (ev->at_ms > sc->duration_ms)
		return fail(p, atv, f, "%llu is beyond duration_ms %llu",
			    (unsigned long long)ev->at_ms,
			    (unsigned long long)sc->duration_ms);
	if (idx && ev->at_ms < sc->events[idx - 1].at_ms)
		return fail(p, atv, f, "%llu is before the previous event's %llu "
			    "(events must be in time order)",
			    (unsigned long long)ev->at_ms,
			    (unsigned long long)sc->events[idx - 1].at_ms);

	yaml_node_t *cv = param(p, e, "count"), *rv = param(p, e, "region"),
		    *gv = param(p, e, "group");
	switch (ev->kind) {
	case EC_SCN_EV_JOIN:
	case EC_SCN_EV_ATTACKER_GROUP:
		if (ev->kind == EC_SCN_EV_ATTACKER_GROUP) {
			gv = param(p, e, "name");
			if (required(p, e, gv, fi, "name") || required(p, e, cv, fi, "count") ||
			    get_name(p, gv, fi, "name", ev->group))
				return EC_ERR_VALUE;
			if (has_group(sc, idx, ev->group, EC_SCN_EV_ATTACKER_GROUP) ||
			    has_group(sc, idx, ev->group, EC_SCN_EV_JOIN)) {
				join_path(f, fi, "name");
				return fail(p, gv, f, "group '%s' is defined twice", ev->group);
			}
		} else if (get_name(p, gv, fi, "group", ev->group)) {
			return EC_ERR_VALUE;
		}
		if (get_u32(p, cv, fi, "count", 1, EC_SCN_MAX_PEERS, &ev->count))
			return EC_ERR_VALUE;
		if (rv) {
			join_path(f, fi, "region");
			if (get_region(p, sc, rv, f, &ev->region))
				return EC_ERR_VALUE;
		}
		if (ev->kind == EC_SCN_EV_ATTACKER_GROUP) {
			yaml_node_t *tv = param(p, e, "target");
			join_path(f, fi, "target");
			if (tv && (tv->type != YAML_SCALAR_NODE ||
				   (strcmp(scalar(tv), "random") &&
				    hex32(ev->target, scalar(tv)))))
				return fail(p, tv, f, "expected 'random' or 64 hex digits");
			ev->target_set = tv && strcmp(scalar(tv), "random");
			if (attacker_params(p, sc, ev, e, fi))
				return EC_ERR_VALUE;
		}
		*online += ev->count;
		break;
	case EC_SCN_EV_LEAVE:
	case EC_SCN_EV_CRASH:
	case EC_SCN_EV_RETURN:
		if (get_u32(p, cv, fi, "count", 1, EC_SCN_MAX_PEERS, &ev->count) ||
		    get_name(p, gv, fi, "group", ev->group))
			return EC_ERR_VALUE;
		if (rv) {
			join_path(f, fi, "region");
			if (get_region(p, sc, rv, f, &ev->region))
				return EC_ERR_VALUE;
		}
		if (gv && !has_group(sc, idx, ev->group, EC_SCN_EV_JOIN) &&
		    !has_group(sc, idx, ev->group, EC_SCN_EV_ATTACKER_GROUP)) {
			join_path(f, fi, "group");
			return fail(p, gv, f, "no earlier join or attacker_group "
				    "names group '%s'", ev->group);
		}
		if (ev->kind != EC_SCN_EV_RETURN && ev->count > *online) {
			join_path(f, fi, "count");
			return fail(p, cv, f, "%u peers, but at most %llu can be online here",
				    ev->count, (unsigned long long)*online);
		}
		break;
	case EC_SCN_EV_PARTITION:
		if (parse_partition(p, sc, ev, e, fi, idx))
			return EC_ERR_VALUE;
		break;
	case EC_SCN_EV_HEAL:
		gv = param(p, e, "name");
		if (get_name(p, gv, fi, "name", ev->group))
			return EC_ERR_VALUE;
		if (gv && !has_group(sc, idx, ev->group, EC_SCN_EV_PARTITION)) {
			join_path(f, fi, "name");
			return fail(p, gv, f, "no earlier partition is named '%s'", ev->group);
		}
		break;
	case EC_SCN_EV_NET_CONDITION: {
		yaml_node_t *lv[4] = {param(p, e, "delay_ms"), param(p, e, "jitter_ms"),
				      param(p, e, "loss"), param(p, e, "bandwidth_kbps")};
		yaml_node_t *fv = param(p, e, "from"), *tv = param(p, e, "to");
		if (link_fields(p, lv, fi, &ev->net, &ev->net_set))
			return EC_ERR_VALUE;
		if (!ev->net_set) {
			join_path(f, fi, "delay_ms");
			return fail(p, e, f, "a net_condition sets at least one of "
				    "delay_ms, jitter_ms, loss, bandwidth_kbps");
		}
		join_path(f, fi, "from");
		if (fv && get_region(p, sc, fv, f, &ev->region))
			return EC_ERR_VALUE;
		join_path(f, fi, "to");
		if (tv && get_region(p, sc, tv, f, &ev->region_to))
			return EC_ERR_VALUE;
		break;
	}
	case EC_SCN_EV_REPORT:
		if (get_name(p, param(p, e, "label"), fi, "label", ev->label))
			return EC_ERR_VALUE;
		break;
	default:
		break;
	}
	return EC_OK;
}

static int parse_events(pctx *p, ec_scenario *sc, yaml_node_t *n)
{
	uint64_t online = sc->peers.count;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, "events", "expected a list, got %s", type_word(n));
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt > EC_SCN_MAX_EVENTS)
		return fail(p, n, "events", "%zu events; at most %u", cnt, EC_SCN_MAX_EVENTS);
	if (!cnt)
		return EC_OK;
	sc->events = calloc(cnt, sizeof *sc->events);
	if (!sc->events)
		return EC_ERR_NOMEM;
	for (size_t i = 0; i < cnt; i++) {
		int r = parse_event(p, sc, node(p, n->data.sequence.items.start[i]), i,
				    &online);
		sc->nevents = i + 1;
		if (r)
			return r;
	}
	return EC_OK;
}

/* ---- top level ---------------------------------------------------------- */

static void set_defaults(ec_scenario *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->tick_ms = 50;
	sc->peers.identity_difficulty = 0;
	sc->peers.topology = EC_SCN_TOPO_RING;
	sc->peers.degree = 8;
	sc->peers.random_peers = 2;
	sc->peers.nregions = 1;
	strcpy(sc->peers.regions[0].name, "all");
	sc->peers.regions[0].fraction = 1.0;
	sc->links.def.delay_ms = 25;
	sc->workload.tx_rate = 1.0;
	sc->workload.tokens_min = 1;
	sc->workload.tokens_max = 3;
	sc->workload.setup_tokens = EC_TX_MAX_ENTRIES;
	sc->workload.mix_create = 1.0;
	sc->sync.strategies = 1u << EC_SCN_SYNC_CHAIN;
	sc->sync.joiners = 1;
	sc->sync.target_coverage = 1.0;
	sc->swap.interval_ms = 60000;
	sc->swap.jitter_ms = 30000;
	sc->swap.initial_interval_ms = 60000;
	sc->swap.max_simultaneous = 1;
	sc->swap.adaptation = 0.1;
	sc->swap.rotate = 1;
	sc->swap.keep_ring = 4; /* EC_NEIGHBOURS */
	sc->swap.min_neighbours = 4;
	sc->swap.cooldown_ms = 86400000ull;
	sc->swap.shift_step_ms = 30000;
	sc->swap.shift_steps = 4;
	sc->swap.discovery = 8;
	sc->report.interval_ms = 1000;
	sc->report.plots = (1u << EC_SCN_PLOT_COUNT) - 1;
	sc->report.progress = 1;
}

static int parse_top(pctx *p, ec_scenario *sc, yaml_node_t *root)
{
	static const char *const keys[] = {"meta", "seed", "duration_ms", "tick_ms",
					   "peers", "links", "workload", "sync",
					   "swap", "events", "report",
					   "block_interval_ms", NULL};
	enum { META, SEED, DUR, TICK, PEERS, LINKS, WORK, SYNC, SWAP, EVENTS, REPORT,
	       BLOCK };
	yaml_node_t *v[12];
	int r;
	if (map_fields(p, root, "", keys, v) || required(p, root, v[META], "", "meta") ||
	    required(p, root, v[DUR], "", "duration_ms") ||
	    required(p, root, v[PEERS], "", "peers") || parse_meta(p, sc, v[META]) ||
	    get_u64(p, v[DUR], "", "duration_ms", 1, 1000000000000ull, &sc->duration_ms) ||
	    get_u32(p, v[TICK], "", "tick_ms", 1, 60000, &sc->tick_ms))
		return EC_ERR_VALUE;
	sc->block_interval_ms = sc->tick_ms;
	if (get_u32(p, v[BLOCK], "", "block_interval_ms", 1, 3600000, &sc->block_interval_ms))
		return EC_ERR_VALUE;
	if (v[SEED]) {
		if (v[SEED]->type != YAML_SCALAR_NODE || is_null(v[SEED]) ||
		    ec_scenario_seed_parse(sc->seed, scalar(v[SEED])))
			return fail(p, v[SEED], "seed",
				    "expected a decimal u64 or 64 hex digits");
		sc->seed_set = 1;
	}
	snprintf(sc->report.dir, sizeof sc->report.dir, "out/%.*s",
		 (int)(sizeof sc->report.dir - 5), sc->name);
	/* peers before links and events: they name regions */
	if (parse_peers(p, sc, v[PEERS]) ||
	    (v[LINKS] && parse_links(p, sc, v[LINKS])))
		return EC_ERR_VALUE;
	if (!v[LINKS])
		for (size_t a = 0; a < sc->peers.nregions; a++)
			for (size_t b = 0; b < sc->peers.nregions; b++)
				sc->links.latency_ms[a][b] = sc->links.def.delay_ms;
	sc->workload.stop_ms = sc->duration_ms;
	if ((v[WORK] && parse_workload(p, sc, v[WORK])) ||
	    (v[SYNC] && parse_sync(p, sc, v[SYNC])) ||
	    (v[SWAP] && parse_swap(p, sc, v[SWAP])) ||
	    (v[REPORT] && parse_report(p, sc, v[REPORT])))
		return EC_ERR_VALUE;
	if (v[EVENTS] && (r = parse_events(p, sc, v[EVENTS])))
		return r;
	return EC_OK;
}

int ec_scenario_parse(ec_scenario *sc, const char *name, const char *text,
		      size_t len, char *err, size_t errlen)
{
	yaml_parser_t yp;
	pctx p = {.file = name ? name : "<scenario>", .err = err, .errlen = errlen};
	int r;
	if (err && errlen)
		err[0] = 0;
	set_defaults(sc);
	if (!yaml_parser_initialize(&yp))
		return EC_ERR_NOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &p.doc)) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%zu: YAML syntax: %s%s%s", p.file,
				 (yp.problem_mark.line + 1),
				 yp.problem ? yp.problem : "error",
				 yp.context ? " " : "", yp.context ? yp.context : "");
		r = yp.error == YAML_MEMORY_ERROR ? EC_ERR_NOMEM : EC_ERR_FORMAT;
		yaml_parser_delete(&yp);
		return r;
	}
	yaml_node_t *root = yaml_document_get_root_node(&p.doc);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "%s:1: field '(top level)': the file is empty",
				 p.file);
		r = EC_ERR_VALUE;
	} else {
		r = parse_top(&p, sc, root);
		if (r == EC_OK) {
			/* a second document would be silently ignored: refuse it */
			yaml_document_t extra;
			if (!yaml_parser_load(&yp, &extra)) {
				r = fail(&p, NULL, "(top level)", "YAML syntax after the document");
			} else {
				yaml_node_t *x = yaml_document_get_root_node(&extra);
				if (x)
					r = fail(&p, x, "(top level)",
						 "a second YAML document; one scenario per file");
				yaml_document_delete(&extra);
			}
		}
	}
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&yp);
	if (r != EC_OK)
		ec_scenario_free(sc);
	return r;
}

int ec_scenario_load(ec_scenario *sc, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;
	if (err && errlen)
		err[0] = 0;
	memset(sc, 0, sizeof *sc);
	if (!fp) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return EC_ERR_IO;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb = ncap <= (64u << 20) ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				fclose(fp);
				if (err && errlen)
					snprintf(err, errlen, "%s: larger than 64 MiB or out of memory",
						 path);
				return EC_ERR_NOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	r = ferror(fp) ? EC_ERR_IO : EC_OK;
	fclose(fp);
	if (r != EC_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
		free(buf);
		return r;
	}
	r = ec_scenario_parse(sc, path, buf, len, err, errlen);
	free(buf);
	return r;
}

void ec_scenario_free(ec_scenario *sc)
{
	if (!sc)
		return;
	free(sc->events);
	sc->events = NULL;
	sc->nevents = 0;
}
