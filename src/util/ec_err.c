/* ec_err.c - error names and small identifier helpers. */
#include "ec/ec.h"

static const struct {
	int code;
	const char *name;
	const char *text;
} errtab[] = {
	{EC_OK, "EC_OK", "success"},
	{EC_ERR_SHORT, "EC_ERR_SHORT", "input too short"},
	{EC_ERR_TRAILING, "EC_ERR_TRAILING", "trailing bytes after structure"},
	{EC_ERR_LIMIT, "EC_ERR_LIMIT", "count over protocol limit"},
	{EC_ERR_TYPE, "EC_ERR_TYPE", "unknown type"},
	{EC_ERR_VERSION, "EC_ERR_VERSION", "unsupported version"},
	{EC_ERR_VALUE, "EC_ERR_VALUE", "field value out of range"},
	{EC_ERR_ORDER, "EC_ERR_ORDER", "non-canonical order or duplicate"},
	{EC_ERR_SIGNATURE, "EC_ERR_SIGNATURE", "bad signature"},
	{EC_ERR_ID, "EC_ERR_ID", "identifier does not match content"},
	{EC_ERR_PREV, "EC_ERR_PREV", "previous-block link broken"},
	{EC_ERR_HEIGHT, "EC_ERR_HEIGHT", "wrong height"},
	{EC_ERR_TIME, "EC_ERR_TIME", "timestamp out of order or bounds"},
	{EC_ERR_MERKLE, "EC_ERR_MERKLE", "Merkle root mismatch"},
	{EC_ERR_JUMP, "EC_ERR_JUMP", "jump reference breaks the rule"},
	{EC_ERR_CREATOR, "EC_ERR_CREATOR", "creator differs within chain"},
	{EC_ERR_PROOF, "EC_ERR_PROOF", "consensus proof mismatch"},
	{EC_ERR_KEY, "EC_ERR_KEY", "public key does not match key hash"},
	{EC_ERR_NOMEM, "EC_ERR_NOMEM", "out of memory"},
	{EC_ERR_IO, "EC_ERR_IO", "I/O error"},
	{EC_ERR_NOTFOUND, "EC_ERR_NOTFOUND", "not found"},
	{EC_ERR_EXISTS, "EC_ERR_EXISTS", "already exists"},
	{EC_ERR_CORRUPT, "EC_ERR_CORRUPT", "stored data corrupt"},
	{EC_ERR_FULL, "EC_ERR_FULL", "disk or map full"},
	{EC_ERR_READONLY, "EC_ERR_READONLY", "read-only storage"},
	{EC_ERR_FORMAT, "EC_ERR_FORMAT", "unsupported format version"},
	{EC_ERR_ARG, "EC_ERR_ARG", "invalid argument"},
	{EC_ERR_PERM, "EC_ERR_PERM", "permission problem"},
	{EC_ERR_CRYPTO, "EC_ERR_CRYPTO", "crypto library failure"},
	{EC_ERR_BUSY, "EC_ERR_BUSY", "resource busy"},
	{EC_ERR_REFUSED, "EC_ERR_REFUSED", "request refused"},
};

const char *ec_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].text;
	return "unknown error";
}

const char *ec_errname(int err)
{
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].name;
	return "EC_ERR_UNKNOWN";
}

int ec_id_is_zero(const ec_id *a)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < EC_HASH_BYTES; i++)
		acc |= a->b[i];
	return acc == 0;
}

void ec_hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ec_hex_decode(uint8_t *out, size_t len, const char *hex)
{
	if (!hex || strlen(hex) != 2 * len)
		return EC_ERR_VALUE;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return EC_ERR_VALUE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EC_OK;
}
