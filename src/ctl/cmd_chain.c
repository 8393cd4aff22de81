/* cmd_chain.c - 'ecctl chain' (being built; replaced by the real command). */
#include <stdio.h>

#include "ctl/ctl.h"

int ctl_cmd_chain(int argc, char **argv)
{
	fprintf(stderr, "ecctl chain: not built yet\n");
	return 2;
}
