/* ec_keyfile.c - the secret-key file format shared by the signing key
 * (ec_keyfile_*, "ec-secret-key-v1") and the transport key
 * (ec_kx_keyfile_*, "ec-kx-secret-key-v1"): exactly
 *   MAGIC "\n" hex(secret, 32 bytes) "\n" hex(public, 32 bytes) "\n"
 * created 0600 with O_EXCL, fsync'd; refused on read when it is not a
 * regular file or group/other may access it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ec/ec.h"
#include "ec_keyfile_int.h"

int ec_secretfile_write(const char *path, const char *magic, const uint8_t sec[32],
			const uint8_t pub[32])
{
	char buf[EC_SECRETFILE_MAGIC_MAX + 2 * 65 + 8];
	char hex[65];
	int fd, n, r = EC_OK;

	if (strlen(magic) > EC_SECRETFILE_MAGIC_MAX)
		return EC_ERR_ARG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? EC_ERR_EXISTS
		       : errno == EACCES || errno == EROFS ? EC_ERR_PERM
							   : EC_ERR_IO;
	ec_hex_encode(hex, sec, 32);
	n = snprintf(buf, sizeof buf, "%s\n%s\n", magic, hex);
	ec_hex_encode(hex, pub, 32);
	n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\n", hex);
	if (fchmod(fd, 0600) != 0 || write(fd, buf, (size_t)n) != n ||
	    fsync(fd) != 0)
		r = EC_ERR_IO;
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(hex, sizeof hex);
	if (close(fd) != 0)
		r = EC_ERR_IO;
	if (r != EC_OK)
		unlink(path);
	return r;
}

int ec_secretfile_read(const char *path, const char *magic, uint8_t sec[32],
		       uint8_t pub[32])
{
	char buf[256];
	char sechex[65], pubhex[65];
	struct stat st;
	ssize_t n;
	int fd, r = EC_ERR_FORMAT;
	const size_t m = strlen(magic) + 1; /* magic + '\n' */

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? EC_ERR_NOTFOUND
		       : errno == EACCES ? EC_ERR_PERM
					 : EC_ERR_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return EC_ERR_IO;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return EC_ERR_PERM;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return EC_ERR_IO;
	buf[n] = 0;
	if ((size_t)n == m + 65 + 65 && memcmp(buf, magic, m - 1) == 0 &&
	    buf[m - 1] == '\n' && buf[m + 64] == '\n' && buf[n - 1] == '\n') {
		memcpy(sechex, buf + m, 64);
		sechex[64] = 0;
		memcpy(pubhex, buf + m + 65, 64);
		pubhex[64] = 0;
		if (ec_hex_decode(sec, 32, sechex) == EC_OK &&
		    ec_hex_decode(pub, 32, pubhex) == EC_OK)
			r = EC_OK;
	}
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(sechex, sizeof sechex);
	if (r != EC_OK)
		sodium_memzero(sec, 32);
	return r;
}
