/* ec_proof.c - consensus proof codec, hash and memory (docs/PROTOCOL.md
 * section 6): for each transaction of a block, in block order, the signed
 * votes that made the node commit it.  Votes of one transaction name it and
 * are strictly ascending by voter (so no voter counts twice). */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Smallest vote encoding: one flag, no conflicts. */
#define VOTE_MIN_BYTES (2 + 32 + 32 + 4 + 8 + 1 + 33 + 1 + 32 + 64)

/* Rule between vote j of t and its predecessor (the vote itself is checked
 * by its own codec). */
static int proof_vote_check(const ec_proof_tx *t, unsigned j)
{
	if (!ec_id_eq(&t->votes[j].txid, &t->txid))
		return EC_ERR_VALUE;
	if (j && ec_id_cmp(&t->votes[j - 1].voter, &t->votes[j].voter) >= 0)
		return EC_ERR_ORDER;
	return EC_OK;
}

static int proof_check(const ec_proof *p)
{
	if (p->n_txs > EC_BLOCK_MAX_TXS)
		return EC_ERR_LIMIT;
	if (p->n_txs == 0)
		return EC_ERR_VALUE;
	for (unsigned i = 0; i < p->n_txs; i++) {
		const ec_proof_tx *t = &p->txs[i];
		if (t->n_votes > EC_PROOF_MAX_VOTES)
			return EC_ERR_LIMIT;
		if (t->n_votes && !t->votes)
			return EC_ERR_ARG;
		for (unsigned j = 0; j < t->n_votes; j++) {
			int r = proof_vote_check(t, j);
			if (r != EC_OK)
				return r;
		}
	}
	return EC_OK;
}

int ec_proof_write(ec_wbuf *w, const ec_proof *p)
{
	int r = proof_check(p);
	if (r != EC_OK)
		return ec_wire_refuse(w, r);
	ec_wire_write_header(w, EC_MSG_PROOF);
	ec_wbuf_u8(w, p->n_txs);
	for (unsigned i = 0; i < p->n_txs; i++) {
		ec_wbuf_id(w, &p->txs[i].txid);
		ec_wbuf_u8(w, p->txs[i].n_votes);
		for (unsigned j = 0; j < p->txs[i].n_votes; j++)
			ec_vote_write(w, &p->txs[i].votes[j]);
	}
	return w->err;
}

static void proof_tx_read(ec_cur *c, ec_proof_tx *t)
{
	unsigned n;
	ec_cur_id(c, &t->txid);
	n = ec_cur_count8(c, 0, EC_PROOF_MAX_VOTES);
	ec_cur_need(c, n, VOTE_MIN_BYTES);
	if (c->err != EC_OK || n == 0)
		return;
	t->votes = calloc(n, sizeof *t->votes);
	if (!t->votes) {
		ec_cur_fail(c, EC_ERR_NOMEM);
		return;
	}
	t->n_votes = (uint8_t)n;
	for (unsigned j = 0; j < n && c->err == EC_OK; j++) {
		ec_vote_read(c, &t->votes[j]);
		if (c->err == EC_OK)
			ec_cur_check(c, proof_vote_check(t, j));
	}
}

int ec_proof_read(ec_cur *c, ec_proof *p)
{
	memset(p, 0, sizeof *p);
	ec_wire_read_header(c, EC_MSG_PROOF);
	p->n_txs = (uint8_t)ec_cur_count8(c, 1, EC_BLOCK_MAX_TXS);
	for (unsigned i = 0; i < p->n_txs && c->err == EC_OK; i++)
		proof_tx_read(c, &p->txs[i]);
	if (c->err != EC_OK)
		ec_proof_free(p);
	return c->err;
}

static void proof_release(void *p)
{
	ec_proof_free(p);
}

EC_WIRE_CODEC_FREE(proof, ec_proof, proof_release)

int ec_proof_hash(const ec_proof *p, ec_id *out)
{
	return ec_wire_hash(proof_write_any, p, EC_TAG_PROOF, 0, out);
}

void ec_proof_free(ec_proof *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < EC_BLOCK_MAX_TXS; i++)
		free(p->txs[i].votes);
	memset(p, 0, sizeof *p);
}
