/* ec_sim_check.c - the global invariant checker (ec_sim_check.h): commit
 * records per transaction, final neighbourhood states per token, and the
 * evaluation of double commits, atomicity and divergence. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sim/ec_sim_check.h"
#include "sim/ec_sim_int.h"

typedef struct chk_tx {
	ec_id txid;
	uint8_t n;
	uint8_t established; /* bit e: a member majority at a commit moment */
	ec_id token[EC_CHK_ENTRIES], prev[EC_CHK_ENTRIES];
	uint32_t first, last; /* commit list, indexes + 1 into cm (0 = none) */
} chk_tx;

typedef struct chk_commit {
	uint32_t node;
	uint32_t next;        /* + 1, 0 = end */
	uint64_t t_us;
	uint8_t member;       /* bit e: the node was in entry e's neighbourhood */
} chk_commit;

typedef struct chk_final {
	ec_id token;
	uint32_t n;
	ec_chk_member m[EC_CHK_NB];
} chk_final;

struct ec_chk {
	chk_tx *tx;
	size_t n_tx, cap_tx;
	sim_idmap map;        /* txid -> tx index */
	chk_commit *cm;
	size_t n_cm, cap_cm;
	chk_final *fin;
	size_t n_fin, cap_fin;
	int fin_sorted;
};

static const ec_id *tx_key(const void *ctx, size_t k)
{
	return &((const ec_chk *)ctx)->tx[k].txid;
}

int ec_chk_new(ec_chk **out)
{
	ec_chk *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return EC_ERR_NOMEM;
	c->map.key = tx_key;
	c->map.ctx = c;
	*out = c;
	return EC_OK;
}

void ec_chk_free(ec_chk *c)
{
	if (!c)
		return;
	free(c->tx);
	sim_idmap_free(&c->map);
	free(c->cm);
	free(c->fin);
	free(c);
}

/* ---- transactions ------------------------------------------------------- */

static size_t find_tx(const ec_chk *c, const ec_id *id)
{
	return sim_idmap_get(&c->map, id);
}

int ec_chk_tx(ec_chk *c, const ec_id *txid, unsigned n, const ec_id *token,
	      const ec_id *prev)
{
	if (n < 1 || n > EC_CHK_ENTRIES)
		return EC_ERR_ARG;
	if (find_tx(c, txid) != SIZE_MAX)
		return EC_OK;
	if (sim_grow((void **)&c->tx, &c->cap_tx, c->n_tx + 1, sizeof *c->tx) ||
	    sim_idmap_reserve(&c->map, c->n_tx + 1, c->n_tx))
		return EC_ERR_NOMEM;
	chk_tx *x = &c->tx[c->n_tx];
	memset(x, 0, sizeof *x);
	x->txid = *txid;
	x->n = (uint8_t)n;
	for (unsigned e = 0; e < n; e++) {
		x->token[e] = token[e];
		x->prev[e] = prev[e];
	}
	sim_idmap_put(&c->map, c->n_tx++);
	return EC_OK;
}

/* ---- commits ------------------------------------------------------------ */

static int in_nbhd(const ec_chk_nbhd *nb, uint32_t node)
{
	for (uint32_t j = 0; j < nb->n && j < EC_CHK_NB; j++)
		if (nb->node[j] == node)
			return (int)j + 1;
	return 0;
}

/* Distinct nodes of nb that member-committed entry e of x. */
static uint32_t member_committers_in(const ec_chk *c, const chk_tx *x, unsigned e,
				     const ec_chk_nbhd *nb)
{
	uint8_t seen[EC_CHK_NB] = {0};
	uint32_t k = 0;
	for (uint32_t i = x->first; i; i = c->cm[i - 1].next) {
		const chk_commit *r = &c->cm[i - 1];
		int j;
		if (!(r->member >> e & 1) || !(j = in_nbhd(nb, r->node)) || seen[j - 1])
			continue;
		seen[j - 1] = 1;
		k++;
	}
	return k;
}

int ec_chk_commit(ec_chk *c, const ec_id *txid, uint32_t node, uint64_t t_us,
		  const ec_chk_nbhd *nb)
{
	size_t k = find_tx(c, txid);
	if (k == SIZE_MAX)
		return EC_ERR_NOTFOUND;
	if (sim_grow((void **)&c->cm, &c->cap_cm, c->n_cm + 1, sizeof *c->cm))
		return EC_ERR_NOMEM;
	chk_tx *x = &c->tx[k];
	chk_commit *r = &c->cm[c->n_cm];
	memset(r, 0, sizeof *r);
	r->node = node;
	r->t_us = t_us;
	for (unsigned e = 0; e < x->n; e++)
		if (in_nbhd(&nb[e], node))
			r->member |= (uint8_t)(1u << e);
	c->n_cm++;
	if (x->last)
		c->cm[x->last - 1].next = (uint32_t)c->n_cm;
	else
		x->first = (uint32_t)c->n_cm;
	x->last = (uint32_t)c->n_cm;
	/* established: more than half of the neighbourhood as it is now has
	 * member-committed the entry */
	for (unsigned e = 0; e < x->n; e++) {
		if (!(r->member >> e & 1) || (x->established >> e & 1))
			continue;
		if (2 * member_committers_in(c, x, e, &nb[e]) > nb[e].n)
			x->established |= (uint8_t)(1u << e);
	}
	return EC_OK;
}

/* ---- final states ------------------------------------------------------- */

int ec_chk_final(ec_chk *c, const ec_id *token, const ec_chk_member *m, size_t n)
{
	if (n > EC_CHK_NB)
		return EC_ERR_ARG;
	if (sim_grow((void **)&c->fin, &c->cap_fin, c->n_fin + 1, sizeof *c->fin))
		return EC_ERR_NOMEM;
	chk_final *f = &c->fin[c->n_fin++];
	memset(f, 0, sizeof *f);
	f->token = *token;
	f->n = (uint32_t)n;
	if (n)
		memcpy(f->m, m, n * sizeof *m);
	c->fin_sorted = 0;
	return EC_OK;
}

static int cmp_final(const void *a, const void *b)
{
	return ec_id_cmp(&((const chk_final *)a)->token, &((const chk_final *)b)->token);
}

static const chk_final *find_final(const ec_chk *c, const ec_id *token)
{
	size_t lo = 0, hi = c->n_fin;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = ec_id_cmp(&c->fin[mid].token, token);
		if (!d)
			return &c->fin[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* head is txid or one of its descendants in token's history, as far as the
 * known transactions tell. */
static int holds(const ec_chk *c, const ec_id *head, const ec_id *token, const ec_id *txid)
{
	ec_id h = *head;
	for (size_t steps = 0; steps <= c->n_tx; steps++) {
		size_t k;
		unsigned e;
		if (ec_id_eq(&h, txid))
			return 1;
		if ((k = find_tx(c, &h)) == SIZE_MAX)
			return 0;
		for (e = 0; e < c->tx[k].n; e++)
			if (ec_id_eq(&c->tx[k].token[e], token))
				break;
		if (e == c->tx[k].n || ec_id_is_zero(&c->tx[k].prev[e]))
			return 0;
		h = c->tx[k].prev[e];
	}
	return 0;
}

/* ---- evaluation --------------------------------------------------------- */

typedef struct dc_item {
	ec_id token, prev;
	uint32_t tx;
	ec_chk_side first;
} dc_item;

static int cmp_item(const void *a, const void *b)
{
	const dc_item *x = a, *y = b;
	int d = ec_id_cmp(&x->token, &y->token);
	if (!d)
		d = ec_id_cmp(&x->prev, &y->prev);
	if (!d && x->first.t_us != y->first.t_us)
		d = x->first.t_us < y->first.t_us ? -1 : 1;
	if (!d)
		d = ec_id_cmp(&x->first.txid, &y->first.txid);
	return d;
}

/* Double commits over (token, prev): items of every entry with a commit
 * (member commits only when members = 1).  Returns the count; examples
 * into r when members = 1.  -1 on allocation failure. */
static long double_commits(const ec_chk *c, int members, ec_chk_result *r)
{
	dc_item *it = NULL;
	size_t n = 0, cap = 0;
	long viol = 0;
	for (size_t k = 0; k < c->n_tx; k++) {
		const chk_tx *x = &c->tx[k];
		for (unsigned e = 0; e < x->n; e++) {
			dc_item d;
			int any = 0;
			memset(&d, 0, sizeof d);
			for (uint32_t i = x->first; i; i = c->cm[i - 1].next) {
				const chk_commit *m = &c->cm[i - 1];
				if (members && !(m->member >> e & 1))
					continue;
				if (!any || m->t_us < d.first.t_us) {
					d.first.t_us = m->t_us;
					d.first.node = m->node;
				}
				any = 1;
			}
			if (!any)
				continue;
			if (sim_grow((void **)&it, &cap, n + 1, sizeof *it)) {
				free(it);
				return -1;
			}
			d.token = x->token[e];
			d.prev = x->prev[e];
			d.tx = (uint32_t)k;
			d.first.txid = x->txid;
			it[n++] = d;
		}
	}
	if (n)
		qsort(it, n, sizeof *it, cmp_item);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && ec_id_eq(&it[j].token, &it[i].token) &&
		       ec_id_eq(&it[j].prev, &it[i].prev))
			j++;
		if (j - i >= 2) {
			viol++;
			if (members && r->n_double < EC_CHK_EXAMPLES) {
				ec_chk_double *x = &r->dbl[r->n_double++];
				x->token = it[i].token;
				x->prev = it[i].prev;
				x->txs = (uint32_t)(j - i);
				x->a = it[i].first;
				x->b = it[i + 1].first;
			}
		}
		i = j;
	}
	free(it);
	return viol;
}

static void atomicity(const ec_chk *c, ec_chk_result *r)
{
	for (size_t k = 0; k < c->n_tx; k++) {
		const chk_tx *x = &c->tx[k];
		ec_chk_atomic a;
		uint8_t ok = x->established;
		int any = 0;
		if (x->n < 2)
			continue;
		memset(&a, 0, sizeof a);
		for (uint32_t i = x->first; i; i = c->cm[i - 1].next) {
			const chk_commit *m = &c->cm[i - 1];
			if (!m->member)
				continue;
			a.committed |= m->member;
			if (!any || m->t_us < a.first.t_us) {
				a.first.t_us = m->t_us;
				a.first.node = m->node;
			}
			any = 1;
		}
		if (!any)
			continue; /* no honest member holds it anywhere: none */
		for (unsigned e = 0; e < x->n; e++) {
			const chk_final *f = find_final(c, &x->token[e]);
			uint32_t held = 0;
			for (uint32_t j = 0; f && j < f->n; j++)
				held += f->m[j].honest && f->m[j].has &&
					holds(c, &f->m[j].head, &x->token[e], &x->txid);
			if (f && 2 * held > f->n)
				ok |= (uint8_t)(1u << e);
			a.holders[e] = (uint8_t)held;
			a.members[e] = (uint8_t)(f ? f->n : 0);
		}
		if (ok == (uint8_t)((1u << x->n) - 1))
			continue;
		r->count[EC_CHK_ATOMICITY]++;
		if (r->n_atomic >= EC_CHK_EXAMPLES)
			continue;
		a.txid = x->txid;
		a.first.txid = x->txid;
		a.n = x->n;
		a.established = ok;
		for (unsigned e = 0; e < x->n; e++) {
			uint8_t seen_n = 0;
			uint32_t seen[64];
			a.token[e] = x->token[e];
			for (uint32_t i = x->first; i; i = c->cm[i - 1].next) {
				const chk_commit *m = &c->cm[i - 1];
				int dup = 0;
				if (!(m->member >> e & 1))
					continue;
				for (uint8_t q = 0; q < seen_n; q++)
					dup |= seen[q] == m->node;
				if (!dup && seen_n < 64)
					seen[seen_n++] = m->node;
			}
			a.committers[e] = seen_n;
		}
		r->atom[r->n_atomic++] = a;
	}
}

static void divergence(const ec_chk *c, ec_chk_result *r)
{
	for (size_t k = 0; k < c->n_fin; k++) {
		const chk_final *f = &c->fin[k];
		ec_chk_diverge d;
		uint32_t heads = 0, none = 0;
		memset(&d, 0, sizeof d);
		d.token = f->token;
		for (uint32_t j = 0; j < f->n; j++) {
			const ec_chk_member *m = &f->m[j];
			uint32_t v;
			if (!m->honest || !m->online)
				continue;
			for (v = 0; v < d.n_values; v++)
				if (d.v[v].has == m->has && (!m->has || ec_id_eq(&d.v[v].head, &m->head)))
					break;
			if (v == d.n_values) {
				d.n_values++;
				d.v[v].has = m->has;
				d.v[v].head = m->head;
				d.v[v].node = m->node;
				if (m->has)
					heads++;
				else
					none++;
			}
			d.v[v].count++;
		}
		r->tokens++;
		if (d.n_values < 2)
			continue;
		r->count[EC_CHK_DIVERGENCE]++;
		if (heads >= 2)
			r->divergence_heads++;
		else
			r->divergence_missing++;
		if (r->n_diverge < EC_CHK_EXAMPLES)
			r->div[r->n_diverge++] = d;
	}
}

int ec_chk_eval(ec_chk *c, ec_chk_result *r)
{
	long d;
	memset(r, 0, sizeof *r);
	if (!c->fin_sorted && c->n_fin)
		qsort(c->fin, c->n_fin, sizeof *c->fin, cmp_final);
	c->fin_sorted = 1;
	r->txs = c->n_tx;
	r->commits = c->n_cm;
	for (size_t k = 0; k < c->n_tx; k++)
		r->multi_token_txs += c->tx[k].n >= 2;
	for (size_t i = 0; i < c->n_cm; i++)
		r->member_commits += c->cm[i].member != 0;
	if ((d = double_commits(c, 1, r)) < 0)
		return EC_ERR_NOMEM;
	r->count[EC_CHK_DOUBLE_COMMIT] = (uint64_t)d;
	if ((d = double_commits(c, 0, r)) < 0)
		return EC_ERR_NOMEM;
	r->double_commit_any = (uint64_t)d;
	atomicity(c, r);
	divergence(c, r);
	return EC_OK;
}

uint64_t ec_chk_violations(const ec_chk_result *r)
{
	uint64_t n = 0;
	for (int k = 0; k < EC_CHK_KINDS; k++)
		n += r->count[k];
	return n;
}

/* ---- outputs ------------------------------------------------------------ */

static json_t *idj(const ec_id *id)
{
	char hex[2 * EC_HASH_BYTES + 1];
	ec_hex_encode(hex, id->b, EC_HASH_BYTES);
	return json_string(hex);
}

static json_t *u64j(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *side_json(const ec_chk_side *s, int *ok)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "txid", idj(&s->txid), ok);
	ec_sim_json_put(o, "node", u64j(s->node), ok);
	ec_sim_json_put(o, "t_ms", json_real((double)s->t_us / 1000.0), ok);
	return o;
}

/* A new object appended to array a (NULL, with *ok = 0, on failure). */
static json_t *push_obj(json_t *a, int *ok)
{
	json_t *x = a ? json_object() : NULL;
	if (!x || json_array_append_new(a, x)) {
		*ok = 0;
		return NULL;
	}
	return x;
}

/* A new array or object set as o[k] (NULL, with *ok = 0, on failure). */
static json_t *put_new(json_t *o, const char *k, json_t *v, int *ok)
{
	if (!o || !v || json_object_set_new(o, k, v)) {
		*ok = 0;
		return NULL;
	}
	return v;
}

json_t *ec_chk_json(const ec_chk_result *r)
{
	int ok = 1;
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "double_commit", u64j(r->count[EC_CHK_DOUBLE_COMMIT]), &ok);
	ec_sim_json_put(o, "atomicity", u64j(r->count[EC_CHK_ATOMICITY]), &ok);
	ec_sim_json_put(o, "divergence", u64j(r->count[EC_CHK_DIVERGENCE]), &ok);
	ec_sim_json_put(o, "violations", u64j(ec_chk_violations(r)), &ok);
	ec_sim_json_put(o, "divergence_heads", u64j(r->divergence_heads), &ok);
	ec_sim_json_put(o, "divergence_missing", u64j(r->divergence_missing), &ok);
	ec_sim_json_put(o, "double_commit_any_node", u64j(r->double_commit_any), &ok);
	json_t *chk = put_new(o, "checked", json_object(), &ok);
	ec_sim_json_put(chk, "txs", u64j(r->txs), &ok);
	ec_sim_json_put(chk, "multi_token_txs", u64j(r->multi_token_txs), &ok);
	ec_sim_json_put(chk, "commits", u64j(r->commits), &ok);
	ec_sim_json_put(chk, "member_commits", u64j(r->member_commits), &ok);
	ec_sim_json_put(chk, "tokens", u64j(r->tokens), &ok);
	json_t *ex = put_new(o, "examples", json_object(), &ok);
	json_t *a1 = put_new(ex, "double_commit", json_array(), &ok);
	json_t *a2 = put_new(ex, "atomicity", json_array(), &ok);
	json_t *a3 = put_new(ex, "divergence", json_array(), &ok);
	for (size_t i = 0; ok && i < r->n_double; i++) {
		const ec_chk_double *d = &r->dbl[i];
		json_t *x = push_obj(a1, &ok);
		ec_sim_json_put(x, "token", idj(&d->token), &ok);
		ec_sim_json_put(x, "prev", idj(&d->prev), &ok);
		ec_sim_json_put(x, "txs", u64j(d->txs), &ok);
		ec_sim_json_put(x, "a", side_json(&d->a, &ok), &ok);
		ec_sim_json_put(x, "b", side_json(&d->b, &ok), &ok);
	}
	for (size_t i = 0; ok && i < r->n_atomic; i++) {
		const ec_chk_atomic *a = &r->atom[i];
		json_t *x = push_obj(a2, &ok);
		ec_sim_json_put(x, "txid", idj(&a->txid), &ok);
		ec_sim_json_put(x, "first", side_json(&a->first, &ok), &ok);
		json_t *ents = put_new(x, "entries", json_array(), &ok);
		for (unsigned e = 0; ok && e < a->n; e++) {
			json_t *y = push_obj(ents, &ok);
			ec_sim_json_put(y, "token", idj(&a->token[e]), &ok);
			ec_sim_json_put(y, "established", json_boolean(a->established >> e & 1), &ok);
			ec_sim_json_put(y, "member_committers", u64j(a->committers[e]), &ok);
			ec_sim_json_put(y, "final_holders", u64j(a->holders[e]), &ok);
			ec_sim_json_put(y, "final_members", u64j(a->members[e]), &ok);
		}
	}
	for (size_t i = 0; ok && i < r->n_diverge; i++) {
		const ec_chk_diverge *d = &r->div[i];
		json_t *x = push_obj(a3, &ok);
		ec_sim_json_put(x, "token", idj(&d->token), &ok);
		json_t *vals = put_new(x, "values", json_array(), &ok);
		for (uint32_t v = 0; ok && v < d->n_values; v++) {
			json_t *y = push_obj(vals, &ok);
			ec_sim_json_put(y, "head", d->v[v].has ? idj(&d->v[v].head) : json_null(), &ok);
			ec_sim_json_put(y, "members", u64j(d->v[v].count), &ok);
			ec_sim_json_put(y, "node", u64j(d->v[v].node), &ok);
		}
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *shortid(char buf[17], const ec_id *id)
{
	ec_hex_encode(buf, id->b, 8);
	return buf;
}

void ec_chk_print(FILE *f, const char *prefix, const ec_chk_result *r, size_t examples)
{
	char b1[17], b2[17], b3[17], b4[17];
	fprintf(f, "%sinvariants: %llu double_commit, %llu atomicity, %llu divergence"
		   " (%llu with two heads, %llu with members missing the head)\n",
		prefix, (unsigned long long)r->count[EC_CHK_DOUBLE_COMMIT],
		(unsigned long long)r->count[EC_CHK_ATOMICITY],
		(unsigned long long)r->count[EC_CHK_DIVERGENCE],
		(unsigned long long)r->divergence_heads,
		(unsigned long long)r->divergence_missing);
	for (size_t i = 0; i < r->n_double && i < examples; i++) {
		const ec_chk_double *d = &r->dbl[i];
		fprintf(f, "%sdouble_commit: token %s prev %s: tx %s by node %u at %.3f ms, "
			   "tx %s by node %u at %.3f ms (%u txs)\n",
			prefix, shortid(b1, &d->token), shortid(b2, &d->prev),
			shortid(b3, &d->a.txid), d->a.node, (double)d->a.t_us / 1000.0,
			shortid(b4, &d->b.txid), d->b.node, (double)d->b.t_us / 1000.0, d->txs);
	}
	for (size_t i = 0; i < r->n_atomic && i < examples; i++) {
		const ec_chk_atomic *a = &r->atom[i];
		fprintf(f, "%satomicity: tx %s first committed by node %u at %.3f ms;", prefix,
			shortid(b1, &a->txid), a->first.node, (double)a->first.t_us / 1000.0);
		for (unsigned e = 0; e < a->n; e++)
			fprintf(f, " token %s %s (%u member committers, %u/%u hold it)",
				shortid(b2, &a->token[e]),
				a->established >> e & 1 ? "established" : "NOT established",
				a->committers[e], a->holders[e], a->members[e]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->n_diverge && i < examples; i++) {
		const ec_chk_diverge *d = &r->div[i];
		fprintf(f, "%sdivergence: token %s:", prefix, shortid(b1, &d->token));
		for (uint32_t v = 0; v < d->n_values; v++)
			fprintf(f, " %s x%u (node %u)", d->v[v].has ? shortid(b2, &d->v[v].head) : "none",
				d->v[v].count, d->v[v].node);
		fputc('\n', f);
	}
}
