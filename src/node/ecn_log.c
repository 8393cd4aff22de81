/* ecn_log.c - stderr logging with levels, each line stamped with the UTC
 * date and time in ISO 8601 (2026-01-31T12:00:00.123Z), the log file (--log-file: stderr
 * itself is pointed at it, so that library and sanitizer messages land there
 * too; reopened on SIGHUP), the wall clock and the random source the daemon
 * hands the core. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ ecnode %-5s ", tbuf, ts.tv_nsec / 1000000L, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ecn_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fd != STDERR_FILENO) {
		int r = dup2(fd, STDERR_FILENO);
		int e = errno;
		close(fd);
		if (r < 0) {
			errno = e;
			return -1;
		}
	}
	return 0;
}

const char *ecn_log_level_name(int level)
{
	return level >= 0 && level < 4 ? names[level] : "?";
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
