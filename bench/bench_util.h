/* bench_util.h - helpers shared by the benchmarks (header-only: each
 * bench/bench_*.c is linked alone against libec). */
#ifndef EC_BENCH_UTIL_H
#define EC_BENCH_UTIL_H

#include <time.h>

#include "ec/crypto.h"

/* Monotonic wall time in seconds. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A deterministic id: H_tag(tag, u64 n big-endian). */
static inline void idn(ec_id *out, const char *tag, uint64_t n)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(n >> (56 - 8 * i));
	ec_hash(out, tag, b, 8);
}

#endif
