/* ec_keyfile_int.h - the secret-key file format shared by ec_sign.c and
 * ec_transport.c (src/crypto only; see ec_keyfile.c). */
#ifndef EC_KEYFILE_INT_H
#define EC_KEYFILE_INT_H

#include <stdint.h>

#define EC_SECRETFILE_MAGIC_MAX 32

/* Creates path (O_EXCL, 0600, fsync'd) holding magic, sec and pub.
 * EC_OK, EC_ERR_EXISTS, EC_ERR_PERM, EC_ERR_IO, EC_ERR_ARG (magic too long). */
int ec_secretfile_write(const char *path, const char *magic, const uint8_t sec[32],
			const uint8_t pub[32]);
/* Reads the exact layout: EC_OK with sec/pub filled, EC_ERR_FORMAT (layout,
 * magic or hex wrong; sec zeroed), EC_ERR_PERM (not a regular file, or
 * group/other may access it), EC_ERR_NOTFOUND, EC_ERR_IO.  The caller
 * derives its key pair from sec and checks it against pub. */
int ec_secretfile_read(const char *path, const char *magic, uint8_t sec[32],
		       uint8_t pub[32]);

#endif
