/* ec_identity.c - Argon2id proof-of-work peer identities (spec 4.1,
 * upstream_notes 4.1).  Mining and checking; time and randomness come from
 * the caller. */
#include "ec/identity.h"

#include "util/ec_buf.h"

#define PEERID_TAG "ec/v1/peerid"

const ec_pow_params ec_pow_production = {24, 1, 4096, 365ull * 86400, 86400};
const ec_pow_params ec_pow_test = {4, 1, 64, 365ull * 86400, 86400};

unsigned ec_id_trailing_zeros(const ec_id *id)
{
	unsigned n = 0;
	for (int i = EC_HASH_BYTES - 1; i >= 0; i--) {
		uint8_t b = id->b[i];
		if (b == 0) {
			n += 8;
			continue;
		}
		while (!(b & 1)) {
			n++;
			b >>= 1;
		}
		break;
	}
	return n;
}

int ec_identity_hash(ec_id *out, const uint8_t pk[32], uint64_t network_id,
		     const uint8_t salt[16], const ec_pow_params *p)
{
	uint8_t pwd[sizeof(PEERID_TAG) + 32 + 8];
	memcpy(pwd, PEERID_TAG, sizeof(PEERID_TAG)); /* with its NUL */
	memcpy(pwd + sizeof(PEERID_TAG), pk, 32);
	ec_put_u64(pwd + sizeof(PEERID_TAG) + 32, network_id);
	return ec_argon2id(out->b, pwd, sizeof pwd, salt, p->ops,
			   (size_t)p->mem_kib * 1024);
}

int ec_identity_mine(ec_identity *out, const uint8_t pk[32], uint64_t network_id,
		     uint64_t now_s, const ec_pow_params *p, ec_rng_fn rng,
		     void *rng_ctx, uint64_t max_attempts, uint64_t *attempts)
{
	uint64_t i;
	int r = EC_ERR_NOTFOUND;
	if (p->difficulty > 256)
		return EC_ERR_ARG;
	memcpy(out->pk, pk, 32);
	out->network_id = network_id;
	ec_put_u64(out->salt + 8, now_s);
	for (i = 0; i < max_attempts; i++) {
		int e;
		rng(rng_ctx, out->salt, 8);
		e = ec_identity_hash(&out->peer_id, pk, network_id, out->salt, p);
		if (e != EC_OK) {
			r = e;
			i++;
			break;
		}
		if (ec_id_trailing_zeros(&out->peer_id) >= p->difficulty) {
			r = EC_OK;
			i++;
			break;
		}
	}
	if (attempts)
		*attempts = i;
	return r;
}

int ec_identity_precheck(const ec_identity *id, uint64_t now_s,
			 const ec_pow_params *p)
{
	uint64_t mined = ec_get_u64(id->salt + 8);
	if (mined > now_s + p->future_tol_s ||
	    (now_s > p->max_age_s && mined < now_s - p->max_age_s))
		return EC_ERR_TIME;
	if (ec_id_trailing_zeros(&id->peer_id) < p->difficulty)
		return EC_ERR_VALUE;
	return EC_OK;
}

int ec_identity_verify(const ec_identity *id, uint64_t now_s,
		       const ec_pow_params *p)
{
	ec_id h;
	int r = ec_identity_precheck(id, now_s, p);
	if (r != EC_OK)
		return r;
	r = ec_identity_hash(&h, id->pk, id->network_id, id->salt, p);
	if (r != EC_OK)
		return r;
	return ec_memeq_ct(h.b, id->peer_id.b, 32) ? EC_OK : EC_ERR_ID;
}
