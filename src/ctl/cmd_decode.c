/* cmd_decode.c - 'ecctl decode': any encoded protocol object -> JSON.
 * The object's type comes from its first byte; the decoder is the strict
 * one of src/wire, so a non-canonical or damaged input is an error naming
 * the reason. Derived ids (tx id, block id, digests) are printed too, and
 * signatures are checked and reported (decode never trusts them). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ec/crypto.h"
#include "ec/wire.h"

static json_t *jhex(const uint8_t *b, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64)
		n = 64;
	ec_hex_encode(buf, b, n);
	return json_string(buf);
}

static json_t *jid(const ec_id *id)
{
	return jhex(id->b, EC_HASH_BYTES);
}

/* A u64 field: a JSON integer, or a decimal string above INT64_MAX (a
 * jansson integer is signed 64-bit; casting printed such values negative). */
static json_t *ju64(uint64_t v)
{
	char buf[24];
	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return json_string(buf);
}

static json_t *jsigok(int r)
{
	return json_string(r == EC_OK ? "valid" : ec_strerror(r));
}

static json_t *tx_json(const ec_tx *tx)
{
	json_t *o = json_object(), *ents = json_array(), *sigs = json_array();
	json_object_set_new(o, "type", json_string("tx"));
	json_object_set_new(o, "id", jid(&tx->id));
	json_object_set_new(o, "timestamp", ju64(tx->timestamp));
	for (unsigned i = 0; i < tx->n_entries; i++) {
		const ec_tx_entry *e = &tx->entries[i];
		json_array_append_new(ents, json_pack("{s:o, s:o, s:o}", "token", jid(&e->token),
						      "prev", jid(&e->prev), "next_key",
						      jid(&e->next_key)));
	}
	for (unsigned i = 0; i < tx->n_sigs; i++)
		json_array_append_new(sigs, json_pack("{s:i, s:o, s:o}", "entry",
						      (int)tx->sigs[i].entry, "pk",
						      jhex(tx->sigs[i].pk, 32), "sig",
						      jhex(tx->sigs[i].sig, 64)));
	json_object_set_new(o, "entries", ents);
	json_object_set_new(o, "signatures", sigs);
	json_object_set_new(o, "signature_check", jsigok(ec_tx_verify_sigs(tx)));
	return o;
}

static json_t *vote_json(const ec_vote *v)
{
	json_t *o = json_object(), *flags = json_array(), *conf = json_array();
	json_object_set_new(o, "type", json_string("vote"));
	json_object_set_new(o, "txid", jid(&v->txid));
	json_object_set_new(o, "voter", jid(&v->voter));
	json_object_set_new(o, "seq", json_integer(v->seq));
	json_object_set_new(o, "timestamp", ju64(v->timestamp));
	for (unsigned i = 0; i < v->n_flags; i++)
		json_array_append_new(flags, json_pack("{s:o, s:i}", "token",
						       jid(&v->flags[i].token), "vote",
						       v->flags[i].flag == EC_VOTE_YES ? 1 : -1));
	for (unsigned i = 0; i < v->n_conflicts; i++)
		json_array_append_new(conf, jid(&v->conflicts[i]));
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "conflicts", conf);
	json_object_set_new(o, "pk", jhex(v->pk, 32));
	json_object_set_new(o, "signature_check", jsigok(ec_vote_verify(v)));
	return o;
}

static const char *jump_names[EC_JUMP_COUNT] = {"1min", "1h", "1d", "7d", "30d"};

static json_t *block_json(const ec_block *b)
{
	json_t *o = json_object(), *jumps = json_object(), *txs = json_array();
	json_object_set_new(o, "type", json_string("block"));
	json_object_set_new(o, "id", jid(&b->id));
	json_object_set_new(o, "creator", jid(&b->creator));
	json_object_set_new(o, "height", ju64(b->height));
	json_object_set_new(o, "timestamp", ju64(b->timestamp));
	json_object_set_new(o, "prev", jid(&b->prev));
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		json_object_set_new(jumps, jump_names[i], jid(&b->jumps[i]));
	json_object_set_new(o, "jumps", jumps);
	json_object_set_new(o, "merkle_root", jid(&b->merkle_root));
	json_object_set_new(o, "proof_hash", jid(&b->proof_hash));
	json_object_set_new(o, "signer_pk", jhex(b->signer_pk, 32));
	for (unsigned i = 0; i < b->n_txs; i++)
		json_array_append_new(txs, jid(&b->txids[i]));
	json_object_set_new(o, "txids", txs);
	{
		ec_id root;
		ec_merkle_root(&root, b->txids, b->n_txs);
		json_object_set_new(o, "merkle_check",
				    json_string(ec_id_eq(&root, &b->merkle_root)
							? "valid"
							: ec_strerror(EC_ERR_MERKLE)));
	}
	json_object_set_new(o, "signature_check",
			    jsigok(ec_verify_digest(b->sig, &b->id, b->signer_pk)));
	return o;
}

static json_t *proof_json(const ec_proof *p)
{
	json_t *o = json_object(), *txs = json_array();
	ec_id h;
	json_object_set_new(o, "type", json_string("proof"));
	if (ec_proof_hash(p, &h) == EC_OK)
		json_object_set_new(o, "hash", jid(&h));
	for (unsigned i = 0; i < p->n_txs; i++) {
		json_t *votes = json_array();
		for (unsigned j = 0; j < p->txs[i].n_votes; j++)
			json_array_append_new(votes, vote_json(&p->txs[i].votes[j]));
		json_array_append_new(txs, json_pack("{s:o, s:o}", "txid", jid(&p->txs[i].txid),
						     "votes", votes));
	}
	json_object_set_new(o, "txs", txs);
	return o;
}

/* Opens (o NULL: a new object) a message's JSON with its type, and for
 * answers and queries the nonce and, when not NULL, the responder. */
static json_t *msg_json(json_t *o, const char *type, const uint8_t *nonce,
			const ec_id *responder)
{
	if (!o)
		o = json_object();
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "nonce", jhex(nonce, EC_NONCE_BYTES));
	if (responder)
		json_object_set_new(o, "responder", jid(responder));
	return o;
}

static json_t *auth_json(json_t *o, const ec_req_auth *a)
{
	json_object_set_new(o, "requester", jid(&a->requester));
	json_object_set_new(o, "timestamp", ju64(a->timestamp));
	json_object_set_new(o, "nonce", jhex(a->nonce, EC_NONCE_BYTES));
	json_object_set_new(o, "pk", jhex(a->pk, 32));
	return o;
}

static const char *prio_name(uint8_t p)
{
	return p == EC_PRIO_SYNC ? "synchronization"
	       : p == EC_PRIO_VALIDATION ? "validation"
					 : "historical";
}

static json_t *item_json(const ec_block *b, int has_proof, const ec_proof *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "block", block_json(b));
	if (has_proof)
		json_object_set_new(o, "proof", proof_json(p));
	return o;
}

/* Decodes one object; on success *out is its JSON. */
static int decode_any(const uint8_t *p, size_t n, json_t **out)
{
	uint8_t type;
	int r = ec_msg_peek(p, n, &type);
	json_t *o = NULL;
	if (r != EC_OK)
		return r;
	switch (type) {
	case EC_MSG_TX: {
		ec_tx tx;
		if ((r = ec_tx_decode(&tx, p, n)) == EC_OK)
			o = tx_json(&tx);
		break;
	}
	case EC_MSG_VOTE: {
		ec_vote v;
		if ((r = ec_vote_decode(&v, p, n)) == EC_OK)
			o = vote_json(&v);
		break;
	}
	case EC_MSG_BLOCK: {
		ec_block b;
		if ((r = ec_block_decode(&b, p, n)) == EC_OK)
			o = block_json(&b);
		break;
	}
	case EC_MSG_PROOF: {
		ec_proof pr;
		memset(&pr, 0, sizeof pr);
		if ((r = ec_proof_decode(&pr, p, n)) == EC_OK)
			o = proof_json(&pr);
		ec_proof_free(&pr);
		break;
	}
	case EC_MSG_MAPPING_RESP: {
		ec_mapping_resp m;
		json_t *ev;
		if ((r = ec_mapping_resp_decode(&m, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "mapping_resp", m.nonce, &m.responder);
		json_object_set_new(o, "token", jid(&m.token));
		json_object_set_new(o, "txid", jid(&m.txid));
		json_object_set_new(o, "owner_key_hash", jid(&m.owner_key_hash));
		json_object_set_new(o, "prev_txid", jid(&m.prev_txid));
		json_object_set_new(o, "commit_block", jid(&m.commit_block));
		json_object_set_new(o, "commit_block_ts", ju64(m.commit_block_ts));
		json_object_set_new(o, "head", jid(&m.head));
		json_object_set_new(o, "height", ju64(m.height));
		json_object_set_new(o, "response_ts", ju64(m.response_ts));
		ev = json_array();
		for (unsigned i = 0; i < m.n_evidence; i++)
			json_array_append_new(ev, json_pack("{s:o, s:o, s:o}", "token",
							    jid(&m.evidence[i].token), "txid",
							    jid(&m.evidence[i].txid), "commit_ts",
							    ju64(m.evidence[i].commit_ts)));
		json_object_set_new(o, "evidence", ev);
		json_object_set_new(o, "pk", jhex(m.pk, 32));
		json_object_set_new(o, "signature_check", jsigok(ec_mapping_resp_verify(&m)));
		break;
	}
	case EC_MSG_TX_RESP: {
		ec_tx_resp t;
		if ((r = ec_tx_resp_decode(&t, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "tx_resp", t.nonce, &t.responder);
		json_object_set_new(o, "tx", tx_json(&t.tx));
		json_object_set_new(o, "commit_block", jid(&t.commit_block));
		json_object_set_new(o, "position", json_integer(t.position));
		json_object_set_new(o, "confirmations", ju64(t.confirmations));
		json_object_set_new(o, "pk", jhex(t.pk, 32));
		json_object_set_new(o, "signature_check", jsigok(ec_tx_resp_verify(&t)));
		break;
	}
	case EC_MSG_BLOCK_REQ: {
		ec_block_req q;
		if ((r = ec_block_req_decode(&q, p, n)) != EC_OK)
			break;
		o = json_object();
		json_object_set_new(o, "type", json_string("block_req"));
		json_object_set_new(o, "block_id", jid(&q.block_id));
		json_object_set_new(o, "priority", json_string(prio_name(q.priority)));
		auth_json(o, &q.auth);
		json_object_set_new(o, "signature_check", jsigok(ec_block_req_verify(&q)));
		break;
	}
	case EC_MSG_RANGE_REQ: {
		ec_range_req q;
		if ((r = ec_range_req_decode(&q, p, n)) != EC_OK)
			break;
		o = json_object();
		json_object_set_new(o, "type", json_string("range_req"));
		json_object_set_new(o, "start", jid(&q.start));
		json_object_set_new(o, "stop", jid(&q.stop));
		json_object_set_new(o, "max_blocks", json_integer(q.max_blocks));
		json_object_set_new(o, "max_bytes", json_integer(q.max_bytes));
		json_object_set_new(o, "with_proofs", json_boolean(q.flags & EC_RANGE_WITH_PROOFS));
		json_object_set_new(o, "priority", json_string(prio_name(q.priority)));
		auth_json(o, &q.auth);
		json_object_set_new(o, "signature_check", jsigok(ec_range_req_verify(&q)));
		break;
	}
	case EC_MSG_BLOCK_RESP: {
		ec_block_resp b;
		json_t *en;
		memset(&b, 0, sizeof b);
		if ((r = ec_block_resp_decode(&b, p, n)) == EC_OK) {
			o = item_json(&b.block, b.has_proof, &b.proof);
			o = msg_json(o, "block_resp", b.nonce, &b.responder);
			en = json_array();
			for (unsigned i = 0; i < b.n_endorse; i++)
				json_array_append_new(
					en, json_pack("{s:o, s:o, s:o}", "peer", jid(&b.endorse[i].peer),
						      "pk", jhex(b.endorse[i].pk, 32), "signature_check",
						      jsigok(ec_endorsement_verify(&b.endorse[i],
										   &b.block.id))));
			json_object_set_new(o, "endorsements", en);
			json_object_set_new(o, "pk", jhex(b.pk, 32));
			json_object_set_new(o, "signature_check", jsigok(ec_block_resp_verify(&b)));
		}
		ec_block_resp_free(&b);
		break;
	}
	case EC_MSG_RANGE_RESP: {
		ec_range_resp rr;
		json_t *items;
		memset(&rr, 0, sizeof rr);
		if ((r = ec_range_resp_decode(&rr, p, n)) == EC_OK) {
			o = msg_json(NULL, "range_resp", rr.nonce, &rr.responder);
			json_object_set_new(o, "start", jid(&rr.start));
			items = json_array();
			for (unsigned i = 0; i < rr.n_items; i++)
				json_array_append_new(items, item_json(&rr.items[i].block,
								       rr.items[i].has_proof,
								       &rr.items[i].proof));
			json_object_set_new(o, "items", items);
			json_object_set_new(o, "complete", json_boolean(rr.complete));
			json_object_set_new(o, "pk", jhex(rr.pk, 32));
			json_object_set_new(o, "signature_check", jsigok(ec_range_resp_verify(&rr)));
		}
		ec_range_resp_free(&rr);
		break;
	}
	case EC_MSG_REFUSAL: {
		ec_refusal f;
		const char *reasons[] = {"?", "rate limited", "not found", "bad request", "busy"};
		if ((r = ec_refusal_decode(&f, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "refusal", f.nonce, &f.responder);
		json_object_set_new(o, "request_type",
				    json_string(ec_msg_name(f.request_type) ? ec_msg_name(f.request_type)
									    : "unknown"));
		json_object_set_new(o, "reason", json_string(reasons[f.reason <= 4 ? f.reason : 0]));
		json_object_set_new(o, "retry_after_ms", json_integer(f.retry_after_ms));
		json_object_set_new(o, "pk", jhex(f.pk, 32));
		json_object_set_new(o, "signature_check", jsigok(ec_refusal_verify(&f)));
		break;
	}
	case EC_MSG_MAPPING_REQ: {
		ec_mapping_req q;
		if ((r = ec_mapping_req_decode(&q, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "mapping_req", q.nonce, NULL);
		json_object_set_new(o, "token", jid(&q.token));
		json_object_set_new(o, "want_evidence",
				    json_boolean(q.flags & EC_MAPPING_WANT_EVIDENCE));
		break;
	}
	case EC_MSG_TX_REQ: {
		ec_tx_req q;
		if ((r = ec_tx_req_decode(&q, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "tx_req", q.nonce, NULL);
		json_object_set_new(o, "txid", jid(&q.txid));
		break;
	}
	case EC_MSG_TXBATCH_REQ: {
		ec_txbatch_req q;
		json_t *ids;
		if ((r = ec_txbatch_req_decode(&q, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "txbatch_req", q.nonce, NULL);
		ids = json_array();
		for (unsigned i = 0; i < q.n; i++)
			json_array_append_new(ids, jid(&q.txids[i]));
		json_object_set_new(o, "txids", ids);
		break;
	}
	case EC_MSG_TXBATCH_RESP: {
		ec_txbatch_resp b;
		json_t *txs, *missing;
		memset(&b, 0, sizeof b);
		if ((r = ec_txbatch_resp_decode(&b, p, n)) == EC_OK) {
			o = msg_json(NULL, "txbatch_resp", b.nonce, &b.responder);
			json_object_set_new(o, "n_asked", json_integer(b.n_asked));
			missing = json_array();
			for (unsigned i = 0; i < b.n_asked; i++)
				if (b.missing & (1ull << i))
					json_array_append_new(missing, json_integer(i));
			json_object_set_new(o, "missing", missing);
			txs = json_array();
			for (unsigned i = 0; i < b.n_txs; i++)
				json_array_append_new(txs, tx_json(&b.txs[i]));
			json_object_set_new(o, "txs", txs);
			json_object_set_new(o, "pk", jhex(b.pk, 32));
			json_object_set_new(o, "signature_check",
					    jsigok(ec_txbatch_resp_verify(&b)));
		}
		ec_txbatch_resp_free(&b);
		break;
	}
	case EC_MSG_REFERRAL: {
		ec_referral f;
		json_t *peers;
		if ((r = ec_referral_decode(&f, p, n)) != EC_OK)
			break;
		o = msg_json(NULL, "referral", f.nonce, &f.responder);
		json_object_set_new(o, "target", jid(&f.target));
		peers = json_array();
		for (unsigned i = 0; i < f.n_peers; i++)
			json_array_append_new(peers, json_pack("{s:o, s:o}", "peer",
							       jid(&f.peers[i].peer), "addr",
							       jhex(f.peers[i].addr,
								    f.peers[i].addr_len)));
		json_object_set_new(o, "peers", peers);
		break;
	}
	case EC_MSG_HELLO: {
		ec_hello h;
		uint64_t mined = 0;
		if ((r = ec_hello_decode(&h, p, n)) != EC_OK)
			break;
		for (unsigned i = 8; i < 16; i++) /* salt[8..16]: u64 seconds */
			mined = mined << 8 | h.salt[i];
		o = json_object();
		json_object_set_new(o, "type", json_string("hello"));
		json_object_set_new(o, "peer_id", jid(&h.peer_id));
		json_object_set_new(o, "kx_pk", jhex(h.kx_pk, 32));
		json_object_set_new(o, "network_id", ju64(h.network_id));
		json_object_set_new(o, "salt", jhex(h.salt, sizeof h.salt));
		json_object_set_new(o, "mined_at_s", ju64(mined));
		json_object_set_new(o, "addr", jhex(h.addr, h.addr_len));
		json_object_set_new(o, "timestamp", ju64(h.timestamp));
		json_object_set_new(o, "head", jid(&h.head));
		json_object_set_new(o, "height", ju64(h.height));
		json_object_set_new(o, "pk", jhex(h.pk, 32));
		/* the identity proof needs the network's difficulty: not checked */
		json_object_set_new(o, "signature_check", jsigok(ec_hello_verify(&h)));
		break;
	}
	default:
		r = EC_ERR_TYPE;
	}
	if (r == EC_OK) {
		json_object_set_new(o, "bytes", json_integer((json_int_t)n));
		*out = o;
	}
	return r;
}

/* Hex text (whitespace ignored) -> bytes, in place. */
static int unhex_text(uint8_t *buf, size_t *len)
{
	size_t o = 0;
	int hi = -1;
	for (size_t i = 0; i < *len; i++) {
		int c = buf[i], v;
		if (isspace(c))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			buf[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return -1;
	*len = o;
	return 0;
}

int ctl_cmd_decode(int argc, char **argv)
{
	const char *path = NULL;
	int hex = 0, r;
	uint8_t *buf;
	size_t len;
	json_t *o;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ecctl decode [--hex] FILE|-\n"
			       "Decodes one protocol object (transaction, vote, commit block,\n"
			       "consensus proof, mapping/transaction/block/range response,\n"
			       "mapping/transaction/block/range request, refusal, referral, hello)\n"
			       "and prints it as JSON with its derived ids and signature checks.\n"
			       "--hex reads hex text instead of raw bytes.\n"
			       "Exit 0 decoded, 1 not a valid object (reason on stderr), 2 usage.\n");
			return 0;
		} else if (!strcmp(argv[i], "--hex")) {
			hex = 1;
		} else if (!path && (argv[i][0] != '-' || !argv[i][1])) {
			path = argv[i];
		} else {
			fprintf(stderr, "ecctl decode: unexpected argument %s\n", argv[i]);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: ecctl decode [--hex] FILE|-\n");
		return 2;
	}
	if (ctl_read_file(path, &buf, &len) != 0)
		return 2;
	if (hex && unhex_text(buf, &len) != 0) {
		fprintf(stderr, "ecctl decode: %s: not hex text\n", path);
		free(buf);
		return 1;
	}
	r = decode_any(buf, len, &o);
	free(buf);
	if (r != EC_OK) {
		fprintf(stderr, "ecctl decode: %s: %s (%s)\n", path, ec_strerror(r), ec_errname(r));
		return 1;
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
	return 0;
}
