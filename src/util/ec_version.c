/* ec_version.c - ec_version(): the library's own version string. */
#include "ec/version.h"

const char *ec_version(void)
{
	return EC_VERSION_STRING;
}
