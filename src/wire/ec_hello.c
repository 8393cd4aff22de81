/* ec_hello.c - the hello message (docs/PROTOCOL.md section 13b): a peer's
 * signed announcement of its identity proof, transport key, address and
 * chain head. */
#include "wire/ec_wire_int.h"

int ec_hello_write(ec_wbuf *w, const ec_hello *h)
{
	int e = ec_wire_addr_check(h->addr_len, h->addr);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_header(w, EC_MSG_HELLO);
	ec_wbuf_id(w, &h->peer_id);
	ec_wbuf_bytes(w, h->kx_pk, EC_PUBKEY_BYTES);
	ec_wbuf_u64(w, h->network_id);
	ec_wbuf_bytes(w, h->salt, sizeof h->salt);
	ec_wire_write_addr(w, h->addr_len, h->addr);
	ec_wbuf_u64(w, h->timestamp);
	ec_wbuf_id(w, &h->head);
	ec_wbuf_u64(w, h->height);
	ec_wire_write_sig_tail(w, h->pk, h->sig);
	return w->err;
}

int ec_hello_read(ec_cur *c, ec_hello *h)
{
	memset(h, 0, sizeof *h);
	ec_wire_read_header(c, EC_MSG_HELLO);
	ec_cur_id(c, &h->peer_id);
	ec_cur_bytes(c, h->kx_pk, EC_PUBKEY_BYTES);
	h->network_id = ec_cur_u64(c);
	ec_cur_bytes(c, h->salt, sizeof h->salt);
	ec_wire_read_addr(c, &h->addr_len, h->addr);
	h->timestamp = ec_cur_u64(c);
	ec_cur_id(c, &h->head);
	h->height = ec_cur_u64(c);
	ec_wire_read_sig_tail(c, h->pk, h->sig);
	return c->err;
}

EC_WIRE_CODEC(hello, ec_hello)
EC_WIRE_SIGNED(hello, ec_hello, EC_TAG_HELLO, pk, sig)
