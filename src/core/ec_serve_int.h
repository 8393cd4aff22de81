/* ec_serve_int.h - what the query service's files share (internal):
 * the handle, admission (rate limit, refusal budget), refusals, sealing
 * (sign the bytes written so far and append the signature), raw block
 * header reads. */
#ifndef EC_SERVE_INT_H
#define EC_SERVE_INT_H

#include "ec/serve.h"
#include "util/ec_buf.h"

struct ec_serve {
	ec_serve_cfg cfg;
	ec_id self;
	ec_keypair kp;
	ec_ratelimit *rl; /* NULL = no limits */
	ec_serve_hooks hooks;
	ec_evidence ev[EC_RESP_MAX_EVIDENCE]; /* ring */
	unsigned ev_next;                     /* slot of the next note */
	unsigned ev_n;
	ec_serve_stats st;
};

/* Zeroes *ans (if given); 1 if every argument is there, else 0 (the
 * caller returns EC_ERR_ARG). */
int serve_open(const ec_serve *srv, const ec_store_txn *t, const ec_id *from,
	       const void *req, ec_serve_answer *ans);

/* Rate limit.  1: go on.  0: finished, the caller returns *rc: EC_OK with
 * a RATE refusal in ans, EC_ERR_REFUSED (dropped: nothing to send), or an
 * error. */
int serve_admit(ec_serve *srv, unsigned kind, const ec_id *from, unsigned cls,
		uint32_t cost, ec_time now, const uint8_t *nonce, uint8_t req_type,
		ec_serve_answer *ans, int *rc);

/* Signed refusal into ans; counts it under kind. */
int serve_refuse(ec_serve *srv, unsigned kind, const uint8_t *nonce,
		 uint8_t req_type, uint8_t reason, uint32_t retry_after_ms,
		 ec_serve_answer *ans);

/* A store error: EC_ERR_NOMEM is returned as is (no answer); anything
 * else becomes a BUSY refusal (EC_OK). */
int serve_store_fail(ec_serve *srv, unsigned kind, int err, const uint8_t *nonce,
		     uint8_t req_type, ec_serve_answer *ans);

/* The cheap checks of a signed request trailer, before its signature:
 * requester == from and the timestamp window.  1 = pass. */
int serve_auth_cheap(const ec_serve *srv, const ec_id *from,
		     const ec_req_auth *auth, ec_time now);
/* After the signature verified: the node's key hook.  1 = pass. */
int serve_auth_key(const ec_serve *srv, const ec_req_auth *auth);

/* w holds an encoding up to and including the responder's pk: signs
 * H_tag(tag, those bytes), appends the signature and hands the bytes to
 * ans (type, counted as served under kind).  Frees w's memory on error. */
int serve_seal(ec_serve *srv, ec_wbuf *w, const char *tag, uint8_t type,
	       unsigned kind, ec_serve_answer *ans);

/* Writes a struct-encoded signed object whose pk is srv's (the writer
 * appends pk and a placeholder sig; the sig is replaced by sealing). */
typedef int (*serve_writefn)(ec_wbuf *w, const void *obj);
int serve_seal_obj(ec_serve *srv, serve_writefn write, const void *obj,
		   const char *tag, uint8_t type, unsigned kind,
		   ec_serve_answer *ans);

/* Fields of a stored (canonical) block encoding read in place. */
typedef struct serve_block_hdr {
	ec_id creator;
	uint64_t height;
	ec_time timestamp;
	ec_id prev;
} serve_block_hdr;
int serve_block_hdr_read(const uint8_t *p, size_t n, serve_block_hdr *h);

/* The response head: type, version, nonce, responder = self. */
void serve_write_head(const ec_serve *srv, ec_wbuf *w, uint8_t type,
		      const uint8_t *nonce);

#endif
