/* ec_vote.c - vote codec, digest and signature (docs/PROTOCOL.md section 4,
 * spec 8.3): per-token +1/-1 flags, known conflicting transactions, the
 * voter's lamppost key and its signature. */
#include "wire/ec_wire_int.h"

/* The rules the decoder enforces, shared with the writer. */
static int vote_check(const ec_vote *v)
{
	if (v->n_flags > EC_TX_MAX_ENTRIES ||
	    v->n_conflicts > EC_VOTE_MAX_CONFLICTS)
		return EC_ERR_LIMIT;
	if (v->n_flags == 0)
		return EC_ERR_VALUE;
	for (unsigned i = 0; i < v->n_flags; i++)
		if (v->flags[i].flag != EC_VOTE_YES &&
		    v->flags[i].flag != EC_VOTE_NO)
			return EC_ERR_VALUE;
	for (unsigned i = 1; i < v->n_flags; i++)
		if (ec_id_cmp(&v->flags[i - 1].token, &v->flags[i].token) >= 0)
			return EC_ERR_ORDER;
	for (unsigned i = 1; i < v->n_conflicts; i++)
		if (ec_id_cmp(&v->conflicts[i - 1], &v->conflicts[i]) >= 0)
			return EC_ERR_ORDER;
	return EC_OK;
}

int ec_vote_write(ec_wbuf *w, const ec_vote *v)
{
	int r = vote_check(v);
	if (r != EC_OK)
		return ec_wire_refuse(w, r);
	ec_wire_write_header(w, EC_MSG_VOTE);
	ec_wbuf_id(w, &v->txid);
	ec_wbuf_id(w, &v->voter);
	ec_wbuf_u32(w, v->seq);
	ec_wbuf_u64(w, v->timestamp);
	ec_wbuf_u8(w, v->n_flags);
	for (unsigned i = 0; i < v->n_flags; i++) {
		ec_wbuf_id(w, &v->flags[i].token);
		ec_wbuf_u8(w, v->flags[i].flag);
	}
	ec_wbuf_u8(w, v->n_conflicts);
	for (unsigned i = 0; i < v->n_conflicts; i++)
		ec_wbuf_id(w, &v->conflicts[i]);
	ec_wire_write_sig_tail(w, v->pk, v->sig);
	return w->err;
}

int ec_vote_read(ec_cur *c, ec_vote *v)
{
	memset(v, 0, sizeof *v);
	ec_wire_read_header(c, EC_MSG_VOTE);
	ec_cur_id(c, &v->txid);
	ec_cur_id(c, &v->voter);
	v->seq = ec_cur_u32(c);
	v->timestamp = ec_cur_u64(c);
	v->n_flags = (uint8_t)ec_cur_count8(c, 1, EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; i < v->n_flags; i++) {
		ec_cur_id(c, &v->flags[i].token);
		v->flags[i].flag = ec_cur_u8(c);
	}
	v->n_conflicts = (uint8_t)ec_cur_count8(c, 0, EC_VOTE_MAX_CONFLICTS);
	for (unsigned i = 0; i < v->n_conflicts; i++)
		ec_cur_id(c, &v->conflicts[i]);
	ec_wire_read_sig_tail(c, v->pk, v->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, vote_check(v));
	return c->err;
}

EC_WIRE_CODEC(vote, ec_vote)
EC_WIRE_SIGNED(vote, ec_vote, EC_TAG_VOTE, pk, sig)
