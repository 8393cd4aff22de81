/* ecn_log.c - stderr logging with levels, the wall clock and the random
 * source the daemon hands the core. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/ecnode.h"

int ecn_log_level = ECN_INFO;

static const char *names[] = {"error", "warn", "info", "debug"};

void ecn_log(int level, const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	if (level > ecn_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof tbuf, "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld ecnode %-5s ", tbuf, ts.tv_nsec / 1000000L, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ecn_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	if (!strcmp(s, "warning"))
		return ECN_WARN;
	return -1;
}

ec_time ecn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ec_time)ts.tv_sec * 1000u + (ec_time)(ts.tv_nsec / 1000000);
}

void ecn_rng(void *ctx, void *out, size_t len)
{
	(void)ctx;
	randombytes_buf(out, len);
}
