/* version.h - the one place the release version of ec is written: the
 * programs' --version, libec.pc (the Makefile reads the macros below) and
 * ec_version() take it from here.  Semantic versioning: major.minor.patch. */
#ifndef EC_VERSION_H
#define EC_VERSION_H

#define EC_VERSION_MAJOR 0
#define EC_VERSION_MINOR 1
#define EC_VERSION_PATCH 0

#define EC_VERSION_STR_(x) #x
#define EC_VERSION_STR(x) EC_VERSION_STR_(x)
#define EC_VERSION_STRING                                                  \
	EC_VERSION_STR(EC_VERSION_MAJOR)                                   \
	"." EC_VERSION_STR(EC_VERSION_MINOR) "." EC_VERSION_STR(EC_VERSION_PATCH)

/* The version of the libec that is linked, "MAJOR.MINOR.PATCH": differs
 * from EC_VERSION_STRING when a program was compiled against other
 * headers than the library it runs with. */
const char *ec_version(void);

#endif
