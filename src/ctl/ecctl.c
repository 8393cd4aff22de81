/* ecctl.c - command-line client (placeholder until the ctl work lands). */
#include <stdio.h>

int main(int argc, char **argv)
{
	fprintf(stderr, "usage: ecctl <command> ...\n");
	return 2;
}
