#!/bin/sh
# The deterministic layers (wire, store, core) may not read clocks, draw
# randomness or print: time and randomness come from the caller, output goes
# through return values.  Fails listing every offending line.
set -u
cd "$(dirname "$0")/.." || exit 2
dirs="src/wire src/store src/core"
pat='\<(time|clock_gettime|gettimeofday|clock|rand|random|srand|srandom|drand48|arc4random|randombytes_buf|randombytes_random|randombytes_uniform|getrandom|printf|fprintf|puts|putchar|perror)[[:space:]]*\('
hits=$(grep -rnE "$pat" $dirs --include='*.c' --include='*.h' 2>/dev/null |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
if [ -n "$hits" ]; then
	echo "check-source: forbidden calls in the deterministic layers:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "check-source: ok ($dirs)"
