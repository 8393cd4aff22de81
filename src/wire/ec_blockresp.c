/* ec_blockresp.c - block response and range response codecs, endorsements
 * (docs/PROTOCOL.md sections 10 and 12).  Both carry full blocks, each with
 * an optional consensus proof; these responses own heap memory (proofs,
 * range items) released by their _free functions, and a failed decode
 * releases what it allocated. */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Smallest range item: a one-transaction block without proof. */
#define RANGE_ITEM_MIN_BYTES (EC_BLOCK_FIXED_BYTES + 32 + 1)

/* ---- block with optional proof (shared by both responses) --------------- */

static void block_proof_write(ec_wbuf *w, const ec_block *b, uint8_t has_proof,
			      const ec_proof *p)
{
	if (has_proof > 1) {
		ec_wire_refuse(w, EC_ERR_VALUE);
		return;
	}
	ec_block_write(w, b);
	ec_wbuf_u8(w, has_proof);
	if (has_proof)
		ec_proof_write(w, p);
}

/* Leaves *p zeroed unless a proof was read (and on error frees it). */
static void block_proof_read(ec_cur *c, ec_block *b, uint8_t *has_proof,
			     ec_proof *p)
{
	memset(p, 0, sizeof *p);
	if (c->err == EC_OK)
		ec_block_read(c, b);
	*has_proof = ec_cur_u8(c);
	if (c->err == EC_OK && *has_proof > 1)
		ec_cur_fail(c, EC_ERR_VALUE);
	if (c->err == EC_OK && *has_proof)
		ec_proof_read(c, p);
}

/* ---- endorsements ------------------------------------------------------- */

static void endorse_digest(ec_id *d, const ec_id *block_id)
{
	ec_hash(d, EC_TAG_ENDORSE, block_id->b, EC_HASH_BYTES);
}

int ec_endorsement_sign(ec_endorsement *e, const ec_id *block_id,
			const uint8_t sk[64])
{
	ec_id d;
	memcpy(e->pk, sk + 32, EC_PUBKEY_BYTES); /* libsodium layout */
	endorse_digest(&d, block_id);
	return ec_sign_digest(e->sig, &d, sk);
}

int ec_endorsement_verify(const ec_endorsement *e, const ec_id *block_id)
{
	ec_id d;
	endorse_digest(&d, block_id);
	return ec_verify_digest(e->sig, &d, e->pk);
}

/* ---- block response ------------------------------------------------------ */

static int block_resp_check(const ec_block_resp *r)
{
	if (r->n_endorse > EC_RESP_MAX_ENDORSE)
		return EC_ERR_LIMIT;
	for (unsigned i = 1; i < r->n_endorse; i++)
		if (ec_id_cmp(&r->endorse[i - 1].peer, &r->endorse[i].peer) >= 0)
			return EC_ERR_ORDER;
	return EC_OK;
}

int ec_block_resp_write(ec_wbuf *w, const ec_block_resp *r)
{
	int e = block_resp_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_BLOCK_RESP, r->nonce, &r->responder);
	block_proof_write(w, &r->block, r->has_proof, &r->proof);
	ec_wbuf_u8(w, r->n_endorse);
	for (unsigned i = 0; i < r->n_endorse; i++) {
		ec_wbuf_id(w, &r->endorse[i].peer);
		ec_wbuf_bytes(w, r->endorse[i].pk, EC_PUBKEY_BYTES);
		ec_wbuf_bytes(w, r->endorse[i].sig, EC_SIG_BYTES);
	}
	ec_wire_write_sig_tail(w, r->pk, r->sig);
	return w->err;
}

int ec_block_resp_read(ec_cur *c, ec_block_resp *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_BLOCK_RESP, r->nonce, &r->responder);
	block_proof_read(c, &r->block, &r->has_proof, &r->proof);
	r->n_endorse = (uint8_t)ec_cur_count8(c, 0, EC_RESP_MAX_ENDORSE);
	for (unsigned i = 0; i < r->n_endorse; i++) {
		ec_cur_id(c, &r->endorse[i].peer);
		ec_cur_bytes(c, r->endorse[i].pk, EC_PUBKEY_BYTES);
		ec_cur_bytes(c, r->endorse[i].sig, EC_SIG_BYTES);
	}
	ec_wire_read_sig_tail(c, r->pk, r->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, block_resp_check(r));
	if (c->err != EC_OK)
		ec_block_resp_free(r);
	return c->err;
}

void ec_block_resp_free(ec_block_resp *r)
{
	if (!r)
		return;
	ec_proof_free(&r->proof);
	r->has_proof = 0;
}

static void block_resp_release(void *r)
{
	ec_block_resp_free(r);
}

EC_WIRE_CODEC_FREE(block_resp, ec_block_resp, block_resp_release)
EC_WIRE_SIGNED(block_resp, ec_block_resp, EC_TAG_BLOCKRESP, pk, sig)

/* ---- range response ------------------------------------------------------ */

static int range_resp_check(const ec_range_resp *r)
{
	if (r->n_items > EC_RANGE_MAX_BLOCKS)
		return EC_ERR_LIMIT;
	if (r->n_items && !r->items)
		return EC_ERR_ARG;
	return r->complete > 1 ? EC_ERR_VALUE : EC_OK;
}

int ec_range_resp_write(ec_wbuf *w, const ec_range_resp *r)
{
	int e = range_resp_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_RANGE_RESP, r->nonce, &r->responder);
	ec_wbuf_id(w, &r->start);
	ec_wbuf_u16(w, r->n_items);
	for (unsigned i = 0; i < r->n_items; i++)
		block_proof_write(w, &r->items[i].block, r->items[i].has_proof,
				  &r->items[i].proof);
	ec_wbuf_u8(w, r->complete);
	ec_wire_write_sig_tail(w, r->pk, r->sig);
	return w->err;
}

int ec_range_resp_read(ec_cur *c, ec_range_resp *r)
{
	unsigned n;
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_RANGE_RESP, r->nonce, &r->responder);
	ec_cur_id(c, &r->start);
	n = ec_cur_count16(c, 0, EC_RANGE_MAX_BLOCKS);
	ec_cur_need(c, n, RANGE_ITEM_MIN_BYTES);
	if (c->err == EC_OK && n) {
		r->items = calloc(n, sizeof *r->items);
		if (!r->items)
			ec_cur_fail(c, EC_ERR_NOMEM);
		else
			r->n_items = (uint16_t)n;
	}
	for (unsigned i = 0; i < r->n_items && c->err == EC_OK; i++)
		block_proof_read(c, &r->items[i].block, &r->items[i].has_proof,
				 &r->items[i].proof);
	r->complete = ec_cur_u8(c);
	ec_wire_read_sig_tail(c, r->pk, r->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, range_resp_check(r));
	if (c->err != EC_OK)
		ec_range_resp_free(r);
	return c->err;
}

void ec_range_resp_free(ec_range_resp *r)
{
	if (!r)
		return;
	for (unsigned i = 0; r->items && i < r->n_items; i++)
		ec_proof_free(&r->items[i].proof);
	free(r->items);
	r->items = NULL;
	r->n_items = 0;
}

static void range_resp_release(void *r)
{
	ec_range_resp_free(r);
}

EC_WIRE_CODEC_FREE(range_resp, ec_range_resp, range_resp_release)
EC_WIRE_SIGNED(range_resp, ec_range_resp, EC_TAG_RANGERESP, pk, sig)
