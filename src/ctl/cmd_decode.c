/* cmd_decode.c - 'ecctl decode' (being built; replaced by the real command). */
#include <stdio.h>

#include "ctl/ctl.h"

int ctl_cmd_decode(int argc, char **argv)
{
	fprintf(stderr, "ecctl decode: not built yet\n");
	return 2;
}
