/* chain.h - one creator's commit chain in memory: build (seal), extend
 * with received blocks (append, fully verified), verify whole segments,
 * compute jump references and seek back in time.
 *
 * docs/PROTOCOL.md section 5 is normative: 5.1 fixes every jump reference
 * exactly, 5.2 lists the chain rules.  Everything here is deterministic and
 * sans-I/O: timestamps and keys come from the caller.
 *
 * Failure reporting: verifying functions fill an ec_chain_fail naming the
 * FIRST bad block, the rule it breaks (an EC_ERR_* code) and, for
 * EC_ERR_JUMP, which jump reference (enum ec_jump).
 *
 * Rule -> error code (checks run in this order, cheap checks before crypto):
 *   structure: n_txs 0 -> EC_ERR_VALUE, > 32 -> EC_ERR_LIMIT,
 *              a txid twice -> EC_ERR_ORDER
 *   height != parent height + 1 (genesis: 0)       EC_ERR_HEIGHT
 *   prev != id(parent) (genesis: non-zero prev)    EC_ERR_PREV
 *   creator != parent's creator                    EC_ERR_CREATOR
 *   timestamp < parent's timestamp                 EC_ERR_TIME
 *   Merkle root != MTH(txids)                      EC_ERR_MERKLE
 *   version not 1 or 2, or 1 after a version-2 parent EC_ERR_VERSION
 *   a jump reference differs from section 5.1      EC_ERR_JUMP (jump = i)
 *   a version-2 skip reference differs from 5.1    EC_ERR_JUMP (jump =
 *                                                  EC_REF_SKIP)
 *   b->id != H_tag("ec/v1/block", encoding w/o sig) EC_ERR_ID
 *   sig does not verify with signer_pk             EC_ERR_SIGNATURE
 * The consensus proof is not part of the block; checking proof_hash
 * against a stored proof is the caller's (ecctl chain verify does it).
 * Whether signer_pk is the creator's key needs the creator's identity token
 * and is the node core's check.
 */
#ifndef EC_CHAIN_H
#define EC_CHAIN_H

#include "ec/wire.h"

/* The skip reference in ec_chain_fail.jump and ec_seek_hop.via (the time
 * references are 0..EC_JUMP_COUNT-1, prev is -1). */
#define EC_REF_SKIP EC_JUMP_COUNT

typedef struct ec_chain ec_chain;

/* The first bad block of a verification. */
typedef struct ec_chain_fail {
	uint64_t height; /* height the block must have at its position (for a
			  * segment's first block: the height it claims) */
	size_t index;    /* position in the segment, or in the chain (= height)
			  * for ec_chain_append */
	int err;         /* EC_ERR_* naming the broken rule */
	int jump;        /* enum ec_jump for EC_ERR_JUMP, else -1 */
} ec_chain_fail;

/* Empty chain; the first block must be a genesis block. NULL on no memory. */
ec_chain *ec_chain_new(void);
void ec_chain_free(ec_chain *c); /* accepts NULL */

/* Number of blocks (= head height + 1; 0 when empty). */
uint64_t ec_chain_length(const ec_chain *c);
/* Block at a height, or NULL.  Pointers stay valid until ec_chain_free
 * (blocks are stored in fixed chunks and never move). */
const ec_block *ec_chain_at(const ec_chain *c, uint64_t height);
/* Newest block, or NULL when empty. */
const ec_block *ec_chain_head(const ec_chain *c);
/* Block with this id, or NULL.  O(1) (hash index). */
const ec_block *ec_chain_find(const ec_chain *c, const ec_id *id);

/* The five jump references (section 5.1) of a block with timestamp ts
 * about to be appended at height ec_chain_length(c).  EC_ERR_TIME if ts is
 * older than the head.  O(1) amortised for non-decreasing ts (one monotone
 * cursor per delta); an older ts is still answered, by binary search. */
int ec_chain_jumps(ec_chain *c, ec_time ts, ec_id out[EC_JUMP_COUNT]);

/* Seals and appends a new version-2 block (a version-1 chain continues as
 * version 2): height, prev, jumps, skip, Merkle root over
 * txids[0..n), proof_hash, signer_pk from sk, id and signature.  The
 * sealed block is copied to *out when out is non-NULL.
 * Errors: EC_ERR_TIME (ts older than the head), EC_ERR_VALUE (n == 0),
 * EC_ERR_LIMIT (n > 32), EC_ERR_ORDER (a txid twice), EC_ERR_CREATOR
 * (creator differs from the chain's), EC_ERR_NOMEM, EC_ERR_ARG. */
int ec_chain_seal(ec_chain *c, const ec_id *creator, ec_time ts,
		  const ec_id *txids, size_t n, const ec_id *proof_hash,
		  const uint8_t sk[EC_SECKEY_BYTES], ec_block *out);

/* Verifies a received block against the tip and the chain's history (all
 * section 5.2 rules, every jump reference recomputed, id and signature)
 * and appends it.  On a rule violation returns that EC_ERR_* and fills
 * *fail (may be NULL); the chain is unchanged.  EC_ERR_NOMEM possible. */
int ec_chain_append(ec_chain *c, const ec_block *b, ec_chain_fail *fail);

/* Verifies a segment blocks[0..n) in ascending height, without allocating.
 *
 * Starting at genesis (blocks[0].height == 0 or blocks[0].prev zero: a
 * block claiming one but not the other fails EC_ERR_HEIGHT or EC_ERR_PREV)
 * every rule is checked and EC_OK means the segment is a valid chain.
 *
 * Starting above genesis, blocks[0] cannot be linked: its prev, its
 * creator and timestamp relative to its parent are unknown and accepted
 * as given.  A jump reference whose target time (timestamp - delta) is
 * older than blocks[0].timestamp points before the segment and is not
 * checked: any value is accepted (except when timestamp < delta: then no
 * block can qualify and zero is required).  Everything else is: links, heights, creator,
 * timestamps, Merkle roots, ids, signatures, and every jump reference that
 * must point inside the segment.
 *
 * Returns EC_OK or the first failure's EC_ERR_* (details in *fail, which
 * may be NULL).  n == 0 is EC_OK. */
int ec_chain_verify(const ec_block *blocks, size_t n, ec_chain_fail *fail);

/* Short name of a reference: "1min", "1h", "1d", "7d", "30d"; "prev" for
 * -1; "skip" for EC_REF_SKIP; "?" otherwise. */
const char *ec_chain_ref_name(int jump);

/* ---- seek ---------------------------------------------------------------
 * One hop of a seek: the height reached and the reference followed. */
typedef struct ec_seek_hop {
	uint64_t height;
	int via; /* -1 = prev, EC_REF_SKIP, else enum ec_jump */
} ec_seek_hop;

/* Walks from block from_id back to the NEWEST block (from itself or an
 * ancestor; equal timestamps allowed) whose timestamp is
 * <= from.timestamp - back_ms.  At block B (not yet at the target time T)
 * the walk reads J, the target of the largest jump reference with
 * B.timestamp - delta >= T (the newest block with timestamp <=
 * B.timestamp - delta, so not older than the answer).  A version-1 B
 * follows J.  A version-2 B follows J only when J.timestamp <= T (then J
 * is the answer), else its skip reference when the skip block is still
 * newer than T, else prev: the height walk toward the answer, so at most
 * one hop more than ec_chain_seek_height to the answer's height + 1.
 * Without J: prev.  The walk stops at the first block with
 * timestamp <= T, which is the answer.
 *
 * Up to max_hops hops are written to hops (may be NULL when max_hops is
 * 0); *n_hops receives the total number of hops (may exceed max_hops).
 * Returns EC_OK with *found = the answer's height, or
 *   EC_ERR_NOTFOUND  "none": no block of the chain is that old (the chain
 *                    did not exist yet at T; also when back_ms exceeds
 *                    from's timestamp).  *found = UINT64_MAX; the hops
 *                    walked until that became certain are reported.
 *                    (Not genesis: a peer asking for the state at T must
 *                    not mistake the first block for it.)
 *   EC_ERR_ARG       from_id is not in the chain (*n_hops = 0).
 *   EC_ERR_CORRUPT   a reference names a block the chain does not hold, or
 *                    one that is not older (impossible in a chain built by
 *                    ec_chain_append/seal). */
int ec_chain_seek(const ec_chain *c, const ec_id *from_id, uint64_t back_ms,
		  ec_seek_hop *hops, size_t max_hops, size_t *n_hops,
		  uint64_t *found);

/* Walks from block from_id back to the block at height `height`
 * (<= from's height).  At a version-2 block B: follow skip when
 * ec_skip_height(B.height) >= height, else prev (PROTOCOL.md 5.1 bounds
 * this walk by 3*floor(log2(from.height + 2)) - 2 hops on a chain whose
 * blocks from `height` up are version 2).  At a version-1 block: the
 * lowest-height jump reference target still >= height, else prev.
 * Hops as for ec_chain_seek.  EC_OK; EC_ERR_ARG (from_id not in the chain,
 * height above it); EC_ERR_CORRUPT as for ec_chain_seek. */
int ec_chain_seek_height(const ec_chain *c, const ec_id *from_id,
			 uint64_t height, ec_seek_hop *hops, size_t max_hops,
			 size_t *n_hops);

/* ---- inclusion proofs (PROTOCOL.md 5.3) -----------------------------------
 * From a signed head to a transaction of an older block of the same chain:
 * the blocks of the height walk head -> target (each linked to the next by
 * prev, skip or a jump reference) and the Merkle audit path of the txid in
 * the target block. */
#define EC_INCL_MAX_BLOCKS 1024

/* Builds the proof that block `height` of c holds txid, walking from the
 * block head_id, into *out (malloc'd, *len bytes; free()).
 * EC_ERR_NOTFOUND: the block at that height does not hold txid;
 * EC_ERR_ARG: head_id not in c or height above it; EC_ERR_LIMIT: path
 * longer than EC_INCL_MAX_BLOCKS; EC_ERR_NOMEM; EC_ERR_CORRUPT. */
int ec_incl_build(const ec_chain *c, const ec_id *head_id, uint64_t height,
		  const ec_id *txid, uint8_t **out, size_t *len);

/* What a verified proof shows. */
typedef struct ec_incl_info {
	ec_block head;      /* the signed head the proof starts from */
	uint64_t height;    /* height of the block holding the txid */
	ec_id block_id;     /* its id */
	ec_id txid;
	unsigned index;     /* position of txid in that block */
	size_t n_blocks;    /* blocks in the proof (head and target included) */
	size_t bad_block;   /* on a block failure: its position, else SIZE_MAX */
} ec_incl_info;

/* Verifies a proof offline: exact encoding, every block's id and
 * signature (by its signer_pk), one creator, each link, and the Merkle
 * audit path to the target block's root.  Whether the head's signer_pk is
 * the creator's key is the caller's to judge (info->head).  Returns EC_OK
 * or the failure: EC_ERR_SHORT / EC_ERR_TRAILING / EC_ERR_FORMAT /
 * EC_ERR_LIMIT / EC_ERR_VALUE (encoding), a block decoding error,
 * EC_ERR_ID, EC_ERR_SIGNATURE, EC_ERR_CREATOR, EC_ERR_PREV (a link),
 * EC_ERR_MERKLE (txid or audit path).  info may be NULL. */
int ec_incl_verify(const uint8_t *p, size_t n, ec_incl_info *info);

#endif
