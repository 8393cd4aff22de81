/* cmd_keygen.c - 'ecctl keygen' (being built; replaced by the real command). */
#include <stdio.h>

#include "ctl/ctl.h"

int ctl_cmd_keygen(int argc, char **argv)
{
	fprintf(stderr, "ecctl keygen: not built yet\n");
	return 2;
}
