/* ecn_mine.c - mining the node's identity (the proof of work of
 * PROTOCOL "Identity") on every core: one thread per online CPU draws
 * salts and hashes, the calling thread logs progress (share of the
 * expected attempts, rate, time left at that rate) and tells the service
 * manager (sd_notify STATUS=), until one thread finds an identity. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "ec/crypto.h"
#include "ec/identity.h"
#include "node/ecnode.h"

typedef struct miner {
	const uint8_t *pk;
	uint64_t network_id;
	const ec_pow_params *pow;
	atomic_uint_fast64_t attempts;
	atomic_int done; /* 1 found, -1 failed */
	int err;
	ec_identity found;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} miner;

static void *mine_thread(void *arg)
{
	miner *m = arg;
	ec_identity id;
	while (!atomic_load(&m->done)) {
		uint64_t n = 0;
		/* the salt's time is the current one: a long search still
		 * yields an identity inside the verification window */
		int r = ec_identity_mine(&id, m->pk, m->network_id, ecn_now_ms() / 1000, m->pow,
					 ecn_rng, NULL, 4, &n);
		atomic_fetch_add(&m->attempts, n);
		if (r == EC_ERR_NOTFOUND)
			continue;
		pthread_mutex_lock(&m->mu);
		if (!atomic_load(&m->done)) {
			m->err = r;
			if (r == EC_OK)
				m->found = id;
			atomic_store(&m->done, r == EC_OK ? 1 : -1);
			pthread_cond_broadcast(&m->cv);
		}
		pthread_mutex_unlock(&m->mu);
	}
	ec_memzero(&id, sizeof id);
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "3.2 h", "41 min", "12 s" */
static void span(char *out, size_t cap, double s)
{
	if (s >= 2 * 86400)
		snprintf(out, cap, "%.1f days", s / 86400);
	else if (s >= 2 * 3600)
		snprintf(out, cap, "%.1f h", s / 3600);
	else if (s >= 120)
		snprintf(out, cap, "%.0f min", s / 60);
	else
		snprintf(out, cap, "%.0f s", s);
}

static void progress(miner *m, unsigned threads, double elapsed, int to_log)
{
	uint64_t n = atomic_load(&m->attempts);
	double expected = ldexp(1.0, (int)m->pow->difficulty);
	double rate = elapsed > 0 ? (double)n / elapsed : 0;
	char left[128], line[320];
	if (rate <= 0)
		snprintf(left, sizeof left, "unknown");
	else if ((double)n < expected)
		span(left, sizeof left, (expected - (double)n) / rate);
	else
		snprintf(left, sizeof left, "past the expected count: each attempt has the same "
					    "chance, about %.0f s apart",
			 expected / rate);
	snprintf(line, sizeof line,
		 "mining identity: %llu attempts, %.1f%% of the %.0f expected, %.1f/s on %u "
		 "threads, ETA %s",
		 (unsigned long long)n, 100.0 * (double)n / expected, expected, rate, threads,
		 left);
	if (to_log)
		ecn_log(ECN_INFO, "%s", line);
	sd_notifyf(0, "STATUS=%s", line);
}

int ecn_identity_mine_all(ec_identity *out, const uint8_t pk[32], uint64_t network_id,
			  const ec_pow_params *pow, unsigned threads, uint64_t *attempts)
{
	miner m;
	pthread_t th[256];
	unsigned started = 0;
	double t0 = mono_s(), next_log = 2, every = 2, last_status = 0;
	int r;
	if (threads == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (unsigned)c : 1;
	}
	if (threads > sizeof th / sizeof th[0])
		threads = sizeof th / sizeof th[0];
	memset(&m, 0, sizeof m);
	m.pk = pk;
	m.network_id = network_id;
	m.pow = pow;
	atomic_init(&m.attempts, 0);
	atomic_init(&m.done, 0);
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	ecn_log(ECN_INFO, "mining identity (difficulty %u bits: %.0f attempts expected) on %u threads",
		pow->difficulty, ldexp(1.0, (int)pow->difficulty), threads);
	for (unsigned i = 0; i < threads; i++)
		if (pthread_create(&th[started], NULL, mine_thread, &m) == 0)
			started++;
	if (!started) {
		ecn_log(ECN_ERROR, "mining identity: no thread could be started");
		r = EC_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_lock(&m.mu);
	while (!atomic_load(&m.done)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&m.cv, &m.mu, &until);
		if (atomic_load(&m.done))
			break;
		double el = mono_s() - t0;
		if (el >= next_log) {
			progress(&m, started, el, 1);
			every = every * 2 > 600 ? 600 : every * 2;
			next_log = el + every;
			last_status = el;
		} else if (el - last_status >= 5) {
			progress(&m, started, el, 0);
			last_status = el;
		}
	}
	pthread_mutex_unlock(&m.mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	r = m.err;
	if (r == EC_OK)
		*out = m.found;
out:
	if (attempts)
		*attempts = atomic_load(&m.attempts);
	ec_memzero(&m.found, sizeof m.found);
	pthread_cond_destroy(&m.cv);
	pthread_mutex_destroy(&m.mu);
	return r;
}
