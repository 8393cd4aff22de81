/* chainfile.h - the chain file of docs/PROTOCOL.md section 14: a container
 * for a chain segment on disk (not a network message).
 *
 *   8 bytes "ECCHAIN1", u32 count,
 *   record[count]: u32 length, block, u32 proof_length (0 = none), proof
 *
 * Pure codec: bytes <-> records.  Reading and writing files is the
 * caller's (src/ctl).  Decoding is strict: a file that ends early, has
 * bytes after the last record, or a record whose block does not decode is
 * rejected with the record index and the reason.  Proof bytes are carried
 * as they are (the proof codec is separate); a caller checks them against
 * the block's proof_hash.
 */
#ifndef EC_CHAINFILE_H
#define EC_CHAINFILE_H

#include "ec/wire.h"

#define EC_CHAINFILE_MAGIC "ECCHAIN1"
#define EC_CHAINFILE_HEADER_BYTES 12 /* magic + u32 count */

/* Where and why decoding failed. */
typedef struct ec_chainfile_err {
	size_t record; /* index of the bad record; EC_CHAINFILE_HEADER for the
			* header; count for bytes after the last record */
	size_t offset; /* byte offset of that record (or of the header) */
	int err;       /* EC_ERR_FORMAT bad magic, EC_ERR_SHORT ends early,
			* EC_ERR_TRAILING bytes after the last record, or the
			* block decoder's error */
} ec_chainfile_err;
#define EC_CHAINFILE_HEADER ((size_t)-1)

/* A byte range inside the decoded input. */
typedef struct ec_chainfile_span {
	const uint8_t *p; /* NULL when len == 0 */
	size_t len;
} ec_chainfile_span;

/* ---- writing --------------------------------------------------------------
 * Appends to an ec_wbuf (src/util/ec_buf.h; sticky error), so that a
 * writer can stream: header once, then records, flushing as it goes. */
void ec_chainfile_write_header(struct ec_wbuf *w, uint32_t count);
/* One record: the block's encoding and proof[0..proof_len) (proof may be
 * NULL when proof_len is 0).  Returns the buffer's sticky error. */
int ec_chainfile_write_record(struct ec_wbuf *w, const ec_block *b,
			      const uint8_t *proof, size_t proof_len);
/* Whole file into a malloc'd buffer.  proofs may be NULL (no proofs). */
int ec_chainfile_encode(const ec_block *blocks,
			const ec_chainfile_span *proofs, size_t n,
			uint8_t **out, size_t *len);

/* ---- reading -------------------------------------------------------------- */
typedef struct ec_chainfile_reader {
	const uint8_t *p; /* whole input */
	size_t n;
	size_t off;     /* next unread byte */
	uint32_t count; /* records announced by the header */
	uint32_t next;  /* index of the next record */
} ec_chainfile_reader;

/* Checks the header.  EC_OK or EC_ERR_SHORT / EC_ERR_FORMAT (*err filled,
 * err may be NULL). */
int ec_chainfile_open(ec_chainfile_reader *r, const uint8_t *p, size_t n,
		      ec_chainfile_err *err);
/* Decodes the next record into *block (id computed by the decoder) and
 * *proof (a span into the input).  Returns EC_OK, EC_ERR_NOTFOUND after
 * the last record when the input ends exactly there, or an error with
 * *err naming the record (EC_ERR_TRAILING: bytes after the last record). */
int ec_chainfile_next(ec_chainfile_reader *r, ec_block *block,
		      ec_chainfile_span *proof, ec_chainfile_err *err);

/* Whole file: *blocks (and *proofs when proofs is non-NULL) malloc'd arrays
 * of *count entries, which the caller frees (both NULL when *count is 0).
 * On error nothing is allocated and *err names the record. */
int ec_chainfile_decode(const uint8_t *p, size_t n, ec_block **blocks,
			ec_chainfile_span **proofs, size_t *count,
			ec_chainfile_err *err);

#endif
