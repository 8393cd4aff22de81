/* ec_sync_int.h - the sync engine's internal state, shared by its files:
 *   ec_sync.c        lifecycle, chain selection and resume points, requests,
 *                    the pump, answers (heads, ranges, tx-batches,
 *                    refusals), timers, status
 *   ec_sync_state.c  the wanted-transaction table, token state written from
 *                    verified chains or polled answers, peer penalties
 * (docs/PROTOCOL.md section 14c). */
#ifndef EC_SYNC_INT_H
#define EC_SYNC_INT_H

#include "ec_node_int.h"

#define SYNC_MAX_CHAINS 32
#define SYNC_MAX_REQ 512
#define SYNC_MAX_SRC 8
#define SYNC_STRIKES 3   /* invalid answers before a chain is dropped */
#define SYNC_TRIES 6     /* timeouts / refusals before a chain is dropped */

enum { RQ_FREE = 0, RQ_MAP, RQ_RANGE, RQ_TXB, RQ_POLL };

typedef struct sync_req {
	uint8_t kind;
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id peer;
	int chain; /* index into ch[], -1 = none */
	unsigned fill; /* RQ_RANGE: index into the chain's fills[] */
	ec_time sent, deadline;
	uint8_t n_ids;
	uint32_t ids[EC_TXBATCH_MAX]; /* RQ_TXB: indexes into tx[] */
} sync_req;

typedef struct sync_tx {
	ec_id txid;
	uint8_t held, inflight, tries, n_src;
	uint8_t src[SYNC_MAX_SRC]; /* chains naming it (first 8) */
	uint32_t failed;           /* chains that failed to deliver it */
} sync_tx;

/* One stretch of a chain being walked down with range requests: from
 * `cursor` (the next block wanted) to just above `stop` (zero = genesis).
 * A segment starts as one fill from its head to the resume point; jump
 * references of verified blocks split the last fill (the skeleton), and
 * the fills are walked in parallel. */
#define SYNC_MAX_FILLS 8
typedef struct sync_fill {
	ec_id cursor;
	uint64_t cursor_height;
	uint8_t height_known;  /* cursor_height known (else: from the answer) */
	uint8_t inflight, done;
	uint8_t has_low;       /* low = the verified block just above cursor */
	ec_id stop;
	ec_id low;
	uint64_t low_height;
	ec_time low_ts;
	uint8_t has_top;       /* its first block verified: top_height/ts */
	uint64_t top_height;
	ec_time top_ts;
} sync_fill;

typedef struct sync_chain {
	ec_id creator;
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t have_head, has_base, active, complete, dropped;
	uint8_t strikes, tries, map_out;
	ec_id head;            /* announced (verified mapping response) */
	uint64_t head_height;
	uint8_t *head_msg;     /* that signed response (evidence) */
	size_t head_len;
	ec_id base;            /* stored head: last completed sync point */
	uint64_t base_height;
	ec_time base_ts;       /* its timestamp (0 = unknown) */
	ec_id seg_head;        /* the segment under way: its target head */
	uint64_t seg_height;
	ec_time seg_ts;        /* its timestamp, once verified */
	sync_fill fills[SYNC_MAX_FILLS]; /* top to bottom */
	unsigned n_fills;
	ec_id low;             /* contiguous verified run from seg_head */
	uint64_t low_height;
	uint8_t has_low;
	uint64_t verified;     /* blocks verified (this sync, incl. resumed) */
	uint64_t target;       /* blocks this sync must verify */
	ec_time not_before;    /* backoff after a refusal */
	double srtt;           /* ms; 0 = no sample yet */
	/* Range source: -1 = the creator, else the index of another followed
	 * chain whose creator is asked instead (a holder of this chain after
	 * its own sync); alt_tried = the alternates already tried. */
	int alt;
	uint32_t alt_tried;
} sync_chain;

/* Receive-rate accounting per peer asked for data (range, tx-batch):
 * useful bytes of its accepted answers over the time during which at
 * least one such request to it was outstanding. */
#define SYNC_MAX_PEERS 64
typedef struct sync_peer {
	ec_id id;
	uint64_t bytes;
	uint64_t busy_ms;
	ec_time busy_since;   /* valid while outstanding > 0 */
	uint32_t outstanding;
	uint8_t answered;     /* judged only after its first answer */
} sync_peer;

typedef struct node_sync {
	ec_sync_cfg cfg;
	ec_sync_status st;
	sync_chain ch[SYNC_MAX_CHAINS];
	size_t n_ch;
	sync_req rq[SYNC_MAX_REQ];
	size_t n_rq;
	sync_tx **tx;
	size_t n_tx, cap_tx;
	ec_idindex txidx;
	ec_time next_maint;
	uint64_t ev_count;     /* equivocation evidence pairs kept */
	uint8_t *ev[2 * SYNC_MAX_CHAINS];
	size_t ev_len[2 * SYNC_MAX_CHAINS];
	double shown;          /* progress shown (never decreasing) */
	uint8_t applied;       /* state written for the current completion */
	ec_time run_start;
	uint64_t run_verified0;
	sync_peer pr[SYNC_MAX_PEERS];
	size_t n_pr;
	ec_time now;           /* time of the current entry (recv / tick) */
} node_sync;

/* ec_sync_state.c */
/* Lowers the peer's standing: its store record (created if missing) loses
 * one reputation point and counts a failure. */
void sync_penalise(ec_node *n, node_sync *s, const ec_id *peer, ec_time now);
sync_tx *sync_tx_get(node_sync *s, const ec_id *txid);
sync_tx *sync_tx_add(node_sync *s, const ec_id *txid);
/* Notes the txids of a verified block of chain ci (t, if given, tells
 * which bodies the store already holds). */
void sync_tx_note_block(node_sync *s, ec_store_txn *t, int ci, const ec_block *b);
/* Writes the state of every in-scope token from the bodies held. */
void sync_apply_state(ec_node *n, node_sync *s);
/* EC_SYNC_POLL: a verified mapping answer and its evidence. */
void sync_learn_poll(ec_node *n, node_sync *s, const ec_mapping_resp *m);

#endif
