/* ec_tx.c - transaction codec, id, signing digest (docs/PROTOCOL.md
 * "Transaction").  Spec 7.2: up to six entries (token, prev, pkHash);
 * DESIGN.md: one Ed25519 key + signature per entry that updates an existing
 * token; id = hash of the full encoding, signatures included (spec 8.5). */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Structural rules shared by the decoder and ec_tx_finalize. */
static int tx_check(const ec_tx *tx)
{
	unsigned need = 0, have = 0;
	if (tx->n_entries == 0)
		return EC_ERR_VALUE;
	if (tx->n_entries > EC_TX_MAX_ENTRIES || tx->n_sigs > EC_TX_MAX_ENTRIES)
		return EC_ERR_LIMIT;
	for (unsigned i = 0; i < tx->n_entries; i++) {
		if (i && ec_id_cmp(&tx->entries[i - 1].token,
				   &tx->entries[i].token) >= 0)
			return EC_ERR_ORDER;
		if (!ec_id_is_zero(&tx->entries[i].prev))
			need |= 1u << i;
	}
	for (unsigned i = 0; i < tx->n_sigs; i++) {
		uint8_t e = tx->sigs[i].entry;
		if (i && tx->sigs[i - 1].entry >= e)
			return EC_ERR_ORDER;
		if (e >= tx->n_entries)
			return EC_ERR_VALUE;
		have |= 1u << e;
	}
	return have == need ? EC_OK : EC_ERR_VALUE;
}

/* Everything up to and including the entries (the signed part). */
static void write_unsigned(ec_wbuf *w, const ec_tx *tx)
{
	ec_wire_write_header(w, EC_MSG_TX);
	ec_wbuf_u64(w, tx->timestamp);
	ec_wbuf_u8(w, tx->n_entries);
	for (unsigned i = 0; i < tx->n_entries && i < EC_TX_MAX_ENTRIES; i++) {
		ec_wbuf_id(w, &tx->entries[i].token);
		ec_wbuf_id(w, &tx->entries[i].prev);
		ec_wbuf_id(w, &tx->entries[i].next_key);
	}
}

int ec_tx_write(ec_wbuf *w, const ec_tx *tx)
{
	int r = tx_check(tx);
	if (r != EC_OK)
		return ec_wire_refuse(w, r);
	write_unsigned(w, tx);
	ec_wbuf_u8(w, tx->n_sigs);
	for (unsigned i = 0; i < tx->n_sigs; i++) {
		ec_wbuf_u8(w, tx->sigs[i].entry);
		ec_wbuf_bytes(w, tx->sigs[i].pk, EC_PUBKEY_BYTES);
		ec_wbuf_bytes(w, tx->sigs[i].sig, EC_SIG_BYTES);
	}
	return w->err;
}

int ec_tx_read(ec_cur *c, ec_tx *tx)
{
	const uint8_t *start = c->p;
	int r;

	memset(tx, 0, sizeof *tx);
	ec_wire_read_header(c, EC_MSG_TX);
	tx->timestamp = ec_cur_u64(c);
	tx->n_entries = (uint8_t)ec_cur_count8(c, 1, EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; c->err == EC_OK && i < tx->n_entries; i++) {
		ec_cur_id(c, &tx->entries[i].token);
		ec_cur_id(c, &tx->entries[i].prev);
		ec_cur_id(c, &tx->entries[i].next_key);
	}
	tx->n_sigs = (uint8_t)ec_cur_count8(c, 0, EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; c->err == EC_OK && i < tx->n_sigs; i++) {
		tx->sigs[i].entry = ec_cur_u8(c);
		ec_cur_bytes(c, tx->sigs[i].pk, EC_PUBKEY_BYTES);
		ec_cur_bytes(c, tx->sigs[i].sig, EC_SIG_BYTES);
	}
	if (c->err != EC_OK)
		return c->err;
	r = tx_check(tx);
	if (r != EC_OK) {
		ec_cur_fail(c, r);
		return r;
	}
	ec_hash(&tx->id, EC_TAG_TXID, start, (size_t)(c->p - start));
	return EC_OK;
}

EC_WIRE_CODEC(tx, ec_tx)

int ec_tx_sig_digest(const ec_tx *tx, ec_id *out)
{
	ec_wbuf w;
	int r;
	if (tx->n_entries == 0 || tx->n_entries > EC_TX_MAX_ENTRIES)
		return tx->n_entries ? EC_ERR_LIMIT : EC_ERR_VALUE;
	ec_wbuf_init(&w);
	write_unsigned(&w, tx);
	r = w.err;
	if (r == EC_OK)
		ec_hash(out, EC_TAG_TXSIG, w.p, w.len);
	ec_wbuf_free(&w);
	return r;
}

int ec_tx_finalize(ec_tx *tx)
{
	uint8_t *buf;
	size_t len;
	int r = ec_tx_encode(tx, &buf, &len);
	if (r != EC_OK)
		return r;
	ec_hash(&tx->id, EC_TAG_TXID, buf, len);
	free(buf);
	return EC_OK;
}

int ec_tx_sign_entry(ec_tx *tx, uint8_t entry, const uint8_t pk[32],
		     const uint8_t sk[64])
{
	ec_id d;
	unsigned pos;
	int r;

	/* creation entries carry no signature (PROTOCOL.md section 3) */
	if (entry >= tx->n_entries || tx->n_entries > EC_TX_MAX_ENTRIES ||
	    ec_id_is_zero(&tx->entries[entry].prev))
		return EC_ERR_ARG;
	r = ec_tx_sig_digest(tx, &d);
	if (r != EC_OK)
		return r;
	/* find or insert the slot, keeping ascending entry order */
	for (pos = 0; pos < tx->n_sigs && tx->sigs[pos].entry < entry; pos++)
		;
	if (pos == tx->n_sigs || tx->sigs[pos].entry != entry) {
		if (tx->n_sigs >= EC_TX_MAX_ENTRIES)
			return EC_ERR_LIMIT;
		memmove(&tx->sigs[pos + 1], &tx->sigs[pos],
			(tx->n_sigs - pos) * sizeof tx->sigs[0]);
		tx->n_sigs++;
		tx->sigs[pos].entry = entry;
	}
	memcpy(tx->sigs[pos].pk, pk, EC_PUBKEY_BYTES);
	return ec_sign_digest(tx->sigs[pos].sig, &d, sk);
}

int ec_tx_verify_sigs(const ec_tx *tx)
{
	ec_id d;
	int r = tx_check(tx);
	if (r != EC_OK)
		return r;
	r = ec_tx_sig_digest(tx, &d);
	if (r != EC_OK)
		return r;
	for (unsigned i = 0; i < tx->n_sigs; i++) {
		r = ec_verify_digest(tx->sigs[i].sig, &d, tx->sigs[i].pk);
		if (r != EC_OK)
			return r;
	}
	return EC_OK;
}
