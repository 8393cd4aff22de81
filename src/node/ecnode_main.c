/* ecnode_main.c - the daemon: the data-directory lock, data directory
 * (keys, identity, LMDB store, transport epoch), the node core, bootstrap
 * and stored peers, the housekeeping timer (re-greeting, sync start, the
 * store-full state), the control socket's path, signals (SIGINT/SIGTERM
 * stop, SIGHUP re-reads settings and reopens the log), the offline store
 * check (--check-store), and the service manager's readiness protocol
 * (sd_notify: READY=1 once the UDP socket and the control socket are up,
 * STATUS= lines, RELOADING=1 and STOPPING=1; nothing when NOTIFY_SOCKET is
 * unset, i.e. not started by systemd). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "ec/crypto.h"
#include "ec/identity.h"
#include "node/ecnode.h"

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	if (a + b + 2 > cap)
		return -1;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return 0;
}

/* ---- the data-directory lock ---------------------------------------------- */

/* The live process whose pid the lock file records, or 0 (none yet: the
 * holder writes it right after locking; or no such process). */
static long lock_holder(int fd)
{
	char b[32], *end;
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	long pid;
	if (n <= 0)
		return 0;
	b[n] = 0;
	pid = strtol(b, &end, 10);
	if (end == b || (*end && *end != '\n') || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM ? pid : 0;
}

/* One process per data directory: an exclusive flock on DATA/ecnode.lock,
 * held for the process's life (the kernel drops it at any exit, a crash
 * included, so there is never a stale lock), taken before anything else
 * in DATA is read or written: two processes would sign with one identity
 * from one store.  The file holds our pid for the message a second process
 * prints.  0, 1 (in use), 2 (error). */
static int lock_data_dir(ecnode *d)
{
	char p[700], pid[32];
	long holder = 0;
	int fd, n;
	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		ecn_log(ECN_ERROR, "%s: %s", d->cfg.data_dir, strerror(errno));
		return 2;
	}
	if (path_in(p, sizeof p, d->cfg.data_dir, "ecnode.lock") != 0) {
		ecn_log(ECN_ERROR, "%s: path too long", d->cfg.data_dir);
		return 2;
	}
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		ecn_log(ECN_ERROR, "%s: %s", p, strerror(errno));
		return 2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			ecn_log(ECN_ERROR, "%s: %s", p, strerror(errno));
			close(fd);
			return 2;
		}
		for (int i = 0; i < 50 && !(holder = lock_holder(fd)); i++)
			usleep(20000);
		if (holder)
			ecn_log(ECN_ERROR, "data directory %s is in use by pid %ld",
				d->cfg.data_dir, holder);
		else
			ecn_log(ECN_ERROR, "data directory %s is in use by another process",
				d->cfg.data_dir);
		close(fd);
		return 1;
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		ecn_log(ECN_WARN, "%s: could not record our pid: %s", p, strerror(errno));
	d->lock_fd = fd; /* kept open: the lock lasts as long as we run */
	return 0;
}

/* ---- the control socket's path (PROTOCOL 16.1) ------------------------------- */

/* 0 when path is free (absent, or a stale socket now removed), -1 when
 * it must not be replaced (logged). */
static int sock_clear(const char *path)
{
	struct sockaddr_un a;
	struct stat st;
	size_t len = strlen(path);
	int fd, r, e;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		ecn_log(ECN_ERROR, "control socket %s: exists and is not a socket; not replaced",
			path);
		return -1;
	}
	if (len >= sizeof a.sun_path)
		return -1; /* ecn_sock_listen refuses it first */
	/* someone listening there?  Non-blocking: a listener with a full
	 * backlog answers EAGAIN instead of holding us up */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, path, len + 1);
	r = connect(fd, (const struct sockaddr *)&a, sizeof a);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		ecn_log(ECN_ERROR,
			"control socket %s: a running process answers on it (another ecnode?); "
			"not replaced: stop that process or choose another --rpc",
			path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	ecn_log(ECN_INFO, "removed the stale control socket %s (nobody answered on it)", path);
	return 0;
}

int ecn_sock_listen(ecnode *d, uv_pipe_t *server)
{
	const char *path = d->cfg.rpc_path;
	struct sockaddr_un a;
	struct stat st;
	size_t len = strlen(path);
	int fd, r;
	if (len >= sizeof a.sun_path) {
		ecn_log(ECN_ERROR, "control socket %s: path too long", path);
		return -1;
	}
	if (sock_clear(path) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, path, len + 1);
	if (bind(fd, (const struct sockaddr *)&a, sizeof a) != 0 || chmod(path, 0600) != 0 ||
	    lstat(path, &st) != 0) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	d->sock_dev = (uint64_t)st.st_dev;
	d->sock_ino = (uint64_t)st.st_ino;
	d->sock_bound = 1;
	if ((r = uv_pipe_open(server, fd)) < 0) {
		ecn_log(ECN_ERROR, "control socket %s: %s", path, uv_strerror(r));
		close(fd);
		ecn_sock_remove(d);
		return -1;
	}
	return 0;
}

void ecn_sock_remove(ecnode *d)
{
	struct stat st;
	if (!d->sock_bound)
		return;
	d->sock_bound = 0;
	if (lstat(d->cfg.rpc_path, &st) != 0)
		return;
	if ((uint64_t)st.st_dev != d->sock_dev || (uint64_t)st.st_ino != d->sock_ino) {
		ecn_log(ECN_INFO, "control socket %s is no longer ours: left in place",
			d->cfg.rpc_path);
		return;
	}
	(void)unlink(d->cfg.rpc_path);
}

/* ---- file modes ------------------------------------------------------------- */

/* A secret-holding file or directory that group or others may use: the
 * exact mode and what it should be.  0 fine (or absent), -1 (logged) when
 * group or others have any bit of `forbid`. */
static int mode_check(const char *path, const char *what, mode_t want, mode_t forbid, int level)
{
	struct stat st;
	if (stat(path, &st) != 0 || !(st.st_mode & forbid))
		return 0;
	ecn_log(level, "%s %s: mode %04o, expected %04o (group or others can %s it; chmod %o %s)",
		what, path, (unsigned)(st.st_mode & 07777), (unsigned)want,
		S_ISDIR(st.st_mode) ? "enter or list" : "read", (unsigned)want, path);
	return -1;
}

/* ---- identity file: "ec-identity-v1", peer id, salt, network id ----------- */

static int identity_write(const char *path, const ec_identity *id)
{
	char pid[65], salt[33];
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	ec_hex_encode(pid, id->peer_id.b, 32);
	ec_hex_encode(salt, id->salt, 16);
	fprintf(f, "ec-identity-v1\n%s\n%s\n%llu\n", pid, salt,
		(unsigned long long)id->network_id);
	fflush(f);
	fsync(fd);
	return fclose(f) == 0 ? 0 : -1;
}

static int identity_read(const char *path, ec_identity *id)
{
	char l1[64], pid[80], salt[80];
	unsigned long long net;
	FILE *f = fopen(path, "r");
	int ok;
	if (!f)
		return -1;
	ok = fscanf(f, "%63s %79s %79s %llu", l1, pid, salt, &net) == 4 &&
	     !strcmp(l1, "ec-identity-v1") && ec_hex_decode(id->peer_id.b, 32, pid) == EC_OK &&
	     ec_hex_decode(id->salt, 16, salt) == EC_OK;
	fclose(f);
	id->network_id = net;
	return ok ? 0 : -1;
}

static const char *pow_name(const ec_pow_params *p)
{
	return p == &ec_pow_test ? "test" : "production";
}

/* Why the stored identity does not verify, in the operator's terms: most
 * often it was mined under the other --pow setting. */
static void identity_explain(ecnode *d, const char *path, int r)
{
	const ec_pow_params *other = d->pow == &ec_pow_test ? &ec_pow_production : &ec_pow_test;
	unsigned zeros = ec_id_trailing_zeros(&d->ident.peer_id);
	uint64_t now_s = ecn_now_ms() / 1000;
	if (ec_identity_verify(&d->ident, now_s, other) == EC_OK) {
		ecn_log(ECN_ERROR,
			"%s: the identity was mined for --pow %s (difficulty %u bits), this node "
			"is configured with --pow %s (difficulty %u bits): use --pow %s, or move "
			"%s aside to mine a new identity (a new peer id)",
			path, pow_name(other), other->difficulty, pow_name(d->pow),
			d->pow->difficulty, pow_name(other), path);
	} else if (r == EC_ERR_VALUE) {
		ecn_log(ECN_ERROR,
			"%s: the identity's peer id has %u trailing zero bits, --pow %s needs %u: "
			"it was mined at another difficulty; move %s aside to mine a new one",
			path, zeros, pow_name(d->pow), d->pow->difficulty, path);
	} else if (r == EC_ERR_TIME) {
		ecn_log(ECN_ERROR,
			"%s: the identity's mining time is outside the accepted window (too old "
			"or in the future; check the clock): %s",
			path, ec_strerror(r));
	} else {
		ecn_log(ECN_ERROR, "%s: identity does not verify (not mined for this key "
			"and network, or damaged): %s", path, ec_strerror(r));
	}
}

static int open_data_dir(ecnode *d)
{
	char p[700];
	int r;
	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		ecn_log(ECN_ERROR, "%s: %s", d->cfg.data_dir, strerror(errno));
		return -1;
	}
	(void)mode_check(d->cfg.data_dir, "data directory", 0700, 077, ECN_WARN);
	path_in(p, sizeof p, d->cfg.data_dir, "node.key");
	if (mode_check(p, "key file", 0600, 077, ECN_ERROR) != 0)
		return -1;
	r = ec_keyfile_read(p, &d->key);
	if (r == EC_ERR_NOTFOUND) {
		if ((r = ec_keypair_generate(&d->key)) == EC_OK)
			r = ec_keyfile_write(p, &d->key);
		if (r == EC_OK)
			ecn_log(ECN_INFO, "created %s", p);
	}
	if (r != EC_OK) {
		ecn_log(ECN_ERROR, "%s: %s", p, ec_strerror(r));
		return -1;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "kx.key");
	if (mode_check(p, "key file", 0600, 077, ECN_ERROR) != 0)
		return -1;
	r = ec_kx_keyfile_read(p, &d->kx);
	if (r == EC_ERR_NOTFOUND) {
		if ((r = ec_kx_keypair_generate(&d->kx)) == EC_OK)
			r = ec_kx_keyfile_write(p, &d->kx);
		if (r == EC_OK)
			ecn_log(ECN_INFO, "created %s", p);
	}
	if (r != EC_OK) {
		ecn_log(ECN_ERROR, "%s: %s", p, ec_strerror(r));
		return -1;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "identity");
	if (identity_read(p, &d->ident) == 0) {
		memcpy(d->ident.pk, d->key.pk, 32);
		if (d->ident.network_id != d->cfg.network_id) {
			ecn_log(ECN_ERROR, "%s: identity is for network %llu, configured %llu", p,
				(unsigned long long)d->ident.network_id,
				(unsigned long long)d->cfg.network_id);
			return -1;
		}
		if ((r = ec_identity_verify(&d->ident, ecn_now_ms() / 1000, d->pow)) != EC_OK) {
			identity_explain(d, p, r);
			return -1;
		}
	} else if (access(p, F_OK) == 0) {
		ecn_log(ECN_ERROR, "%s: malformed identity file", p);
		return -1;
	} else {
		uint64_t tries = 0;
		ec_time t0 = ecn_now_ms();
		r = ecn_identity_mine_all(&d->ident, d->key.pk, d->cfg.network_id, d->pow,
					  d->cfg.mine_threads, &tries);
		if (r != EC_OK || identity_write(p, &d->ident) != 0) {
			ecn_log(ECN_ERROR, "%s: could not create identity", p);
			return -1;
		}
		ecn_log(ECN_INFO, "identity mined after %llu attempts in %.1f s",
			(unsigned long long)tries, (double)(ecn_now_ms() - t0) / 1000);
	}
	return 0;
}

/* The transport counter epoch: raised and persisted at every start so that
 * no (key, nonce) pair is ever used twice (PROTOCOL 16). */
int ecn_epoch_raise(ecnode *d, uint64_t min_epoch)
{
	char p[700], tmp[720];
	unsigned long long old = 0, now_s = ecn_now_ms() / 1000, e;
	FILE *f;
	path_in(p, sizeof p, d->cfg.data_dir, "transport.epoch");
	if ((f = fopen(p, "r"))) {
		if (fscanf(f, "%llu", &old) != 1)
			old = 0;
		fclose(f);
	}
	e = now_s > old ? now_s : old + 1;
	if (e < min_epoch)
		e = min_epoch;
	if (e > 0xffffffffull) {
		ecn_log(ECN_ERROR, "%s: transport epoch exhausted", p);
		return -1;
	}
	memcpy(tmp, p, strlen(p));
	memcpy(tmp + strlen(p), ".tmp", 5);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	dprintf(fd, "%llu\n", e);
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, p) != 0)
		return -1;
	d->counter = (uint64_t)e << 32;
	return 0;
}

/* ---- store integrity ------------------------------------------------------- */

static int g_serving; /* the node runs: a corrupt read now stops the process */

/* The store's log hook: problems as errors, progress as info.  Once the
 * node runs, a damaged record ends the process at once: whatever the
 * caller computes from the failed read (an answer, a vote, an RPC reply)
 * must not leave it.  Committed data is safe (LMDB), the write in
 * progress is discarded. */
static void on_store_log(void *ctx, int corrupt, const char *msg)
{
	const char *data_dir = ctx;
	ecn_log(corrupt ? ECN_ERROR : ECN_INFO, "%s", msg);
	if (corrupt && g_serving) {
		ecn_log(ECN_ERROR, "stopping: the store is damaged ('ecnode --check-store --data "
				   "%s' lists every problem)",
			data_dir);
		exit(1);
	}
}

/* --check-store's share of DATA/ecnode.lock: a shared flock, so that no
 * node starts while the check runs.  Returns the fd holding it, -1 when a
 * node holds the lock (*live = 1) or there is no lock file to take. */
static int check_store_lock(const char *data_dir, int *live)
{
	char p[700];
	int fd;
	*live = 0;
	if (path_in(p, sizeof p, data_dir, "ecnode.lock") != 0)
		return -1;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1; /* no node ever ran here, or DATA cannot be read */
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		*live = errno == EWOULDBLOCK;
		close(fd);
		return -1;
	}
	return fd;
}

/* --check-store: opens DATA/store read-only, verifies everything, prints
 * a summary; 0 clean, 1 damaged or unreadable.  Beside a running node (it
 * holds DATA/ecnode.lock) the structural page walk is skipped: the walk
 * reads pages outside any LMDB transaction, which the node's commits
 * reuse meanwhile, and the node walked the file when it opened it.  The
 * records are then checked in one read transaction, a consistent commit.
 * Otherwise the check holds the lock throughout and runs everything. */
static int check_store(const char *data_dir)
{
	char p[700];
	ec_store *s;
	ec_store_report rep;
	ec_store_opts o = {.read_only = 1, .quick_open = 1, .log = on_store_log};
	ec_time t0 = ecn_now_ms();
	int r, live, lock_fd = check_store_lock(data_dir, &live);
	o.log_ctx = (void *)data_dir;
	o.skip_walk = live;
	path_in(p, sizeof p, data_dir, "store");
	if (live)
		printf("store %s: a node is running (%s/ecnode.lock held): page walk "
		       "skipped, records checked in one read transaction\n",
		       p, data_dir);
	r = ec_store_open_lmdb(&s, p, &o);
	if (r != EC_OK) {
		fprintf(stderr, "store %s: cannot be opened: %s\n", p,
			r == EC_ERR_NOTFOUND ? "no store there" : ec_strerror(r));
		if (lock_fd >= 0)
			close(lock_fd);
		return 1;
	}
	r = ec_store_verify(s, EC_VERIFY_REFS, &rep);
	printf("store %s: format %u, commit %llu\n", p, (unsigned)ec_store_format(s),
	       (unsigned long long)rep.commit);
	for (unsigned i = 0; i < EC_STORE_TABLES; i++)
		printf("  %-10s %10llu records\n", ec_store_table_name(i),
		       (unsigned long long)rep.records[i]);
	printf("  %-10s %10llu records verified in %.2f s\n", "total",
	       (unsigned long long)rep.total, (double)(ecn_now_ms() - t0) / 1000.0);
	ec_store_close(s);
	if (lock_fd >= 0)
		close(lock_fd);
	if (r == EC_OK) {
		printf("store %s: ok\n", p);
		return 0;
	}
	if (r == EC_ERR_CORRUPT)
		printf("store %s: damaged, %llu problem%s found\n", p,
		       (unsigned long long)rep.problems, rep.problems == 1 ? "" : "s");
	else
		printf("store %s: the check stopped: %s\n", p, ec_strerror(r));
	return 1;
}

/* ---- peers at start --------------------------------------------------------- */

static int load_peer(void *ctx, const ec_peer_rec *r)
{
	ecnode *d = ctx;
	static const uint8_t zero[32];
	ecn_peer *p;
	if (!memcmp(r->kx_pk, zero, 32) || !memcmp(r->sign_pk, zero, 32))
		return 0;
	if (!(p = ecn_peer_add(d, r->kx_pk)))
		return 0;
	/* the bound share holds the first records that fit (none is dead
	 * yet); the rest stay unbound entries until their hello arrives */
	if (ecn_peer_bind(d, p, &r->peer) != 0)
		return 0;
	if (ecn_addr_parse(r->addr, &p->addr, &p->addr_len) == 0)
		p->has_addr = 1;
	(void)ec_node_add_peer_key(d->node, &r->peer, r->sign_pk);
	return 0;
}

/* KXPUBKEY@HOST:PORT -> key and address.  0, or -1 (logged). */
static int bootstrap_parse(const char *spec, int family, uint8_t kx[32],
			   struct sockaddr_storage *addr, socklen_t *len)
{
	char kxhex[65];
	const char *at = strchr(spec, '@');
	if (!at || at - spec != 64) {
		ecn_log(ECN_ERROR, "bootstrap '%s': expected KXPUBKEY@HOST:PORT", spec);
		return -1;
	}
	memcpy(kxhex, spec, 64);
	kxhex[64] = 0;
	if (ec_hex_decode(kx, 32, kxhex) != EC_OK) {
		ecn_log(ECN_ERROR, "bootstrap '%s': bad key", spec);
		return -1;
	}
	if (ecn_addr_parse_family(at + 1, family, addr, len) != 0) {
		ecn_log(ECN_ERROR, "bootstrap '%s': bad address (or host name not resolved)",
			spec);
		return -1;
	}
	return 0;
}

static int add_bootstrap(ecnode *d, const char *spec)
{
	uint8_t kx[32];
	struct sockaddr_storage addr;
	socklen_t len;
	ecn_peer *p;
	/* a host name's address of our socket's family */
	if (bootstrap_parse(spec, d->listen_addr.ss_family, kx, &addr, &len) != 0)
		return -1;
	if (!memcmp(kx, d->kx.pk, 32))
		return 0; /* ourselves (shared config files) */
	if (!(p = ecn_peer_add(d, kx))) {
		ecn_log(ECN_ERROR, "bootstrap '%s': unusable key", spec);
		return -1;
	}
	p->addr = addr;
	p->addr_len = len;
	p->has_addr = 1;
	p->bootstrap = 1;
	return 0;
}

/* Everything in the configuration that can be wrong, checked before the
 * data directory is touched beyond its lock (an identity is mined for
 * hours there): the addresses (host names resolved), the bootstrap specs,
 * with `sockets`, the UDP port (bound once and released) and the control
 * socket's path.  0, or -1 with every problem logged. */
static int preflight(ecnode *d, int sockets)
{
	struct sockaddr_storage a;
	socklen_t len;
	uint8_t kx[32];
	int bad = 0;
	if (ecn_addr_parse(d->cfg.listen, &a, &len) != 0) {
		ecn_log(ECN_ERROR, "bad listen address '%s' (HOST:PORT, [IPv6]:PORT, or a host "
			"name that resolves)", d->cfg.listen);
		bad = 1;
	} else if (sockets) {
		int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (const struct sockaddr *)&a, len) != 0) {
			ecn_log(ECN_ERROR, "listen %s: %s", d->cfg.listen, strerror(errno));
			bad = 1;
		}
		if (fd >= 0)
			close(fd);
	}
	if (d->cfg.announce[0] && ecn_addr_parse(d->cfg.announce, &a, &len) != 0) {
		ecn_log(ECN_ERROR, "bad announce address '%s'", d->cfg.announce);
		bad = 1;
	}
	for (size_t i = 0; i < d->cfg.n_bootstrap; i++)
		if (bootstrap_parse(d->cfg.bootstrap[i], AF_UNSPEC, kx, &a, &len) != 0)
			bad = 1;
	if (strlen(d->cfg.rpc_path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
		ecn_log(ECN_ERROR, "control socket %s: path too long", d->cfg.rpc_path);
		bad = 1;
	} else if (sockets && sock_clear(d->cfg.rpc_path) != 0) {
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void greet(ecnode *d, ecn_peer *p, ec_time now)
{
	if (ecn_log_level >= ECN_DEBUG) {
		char a[128], id[65];
		ecn_addr_str((const struct sockaddr *)&p->addr, a, sizeof a);
		ec_hex_encode(id, p->id.b, 32);
		ecn_log(ECN_DEBUG, "hello to %.16s... at %s (%s)", id, a,
			!p->bound ? "bootstrap, not bound yet"
			: now - p->last_rx >= d->cfg.hello_ms ? "quiet peer" : "keepalive");
	}
	p->hello_sent = now;
	if (ec_node_send_hello(d->node, &p->id, now) == EC_OK)
		ecn_flush(d);
}

/* ---- housekeeping ----------------------------------------------------------- */

/* The core's store-full pause (node.h "Store full"), logged once when it
 * starts and once when it ends. */
static void store_watch(ecnode *d, ec_time now)
{
	ec_node_store_state ss;
	ec_node_store_state_get(d->node, &ss);
	if (ss.paused && !d->store_paused) {
		ecn_log(ECN_ERROR,
			"store full: block %llu could not be written; writes paused (nothing "
			"new is committed), reads still served; retrying every 1..10 s",
			(unsigned long long)ss.height);
		d->store_paused_at = now;
	} else if (!ss.paused && d->store_paused) {
		ecn_log(ECN_INFO, "store writable again: writes resumed after %llu s",
			(unsigned long long)((now - d->store_paused_at) / 1000));
	}
	d->store_paused = ss.paused;
}

/* STATUS= for the service manager (`systemctl status`): height and peers,
 * sent when they change. */
static void status_notify(ecnode *d)
{
	ec_id head;
	uint64_t height = 0;
	size_t peers = ec_node_peer_count(d->node);
	if (ec_node_head(d->node, &head, &height) != EC_OK)
		height = 0;
	if (height == d->status_height && peers == d->status_peers)
		return;
	d->status_height = height;
	d->status_peers = peers;
	sd_notifyf(0, "STATUS=height %llu, %zu peers, listening on %s%s",
		   (unsigned long long)height, peers, d->listen_str,
		   d->store_paused ? ", store full: writes paused" : "");
}

static const char *phase_word(uint8_t phase)
{
	switch (phase) {
	case EC_SYNC_DISCOVER: return "discovering heads";
	case EC_SYNC_TRAVERSE: return "traversing chains";
	case EC_SYNC_CAUGHT_UP: return "caught up";
	case EC_SYNC_POLLING: return "polling";
	default: return "idle";
	}
}

/* Progress in the log: the sync's phase changes, its progress every 10 s
 * while it runs, "sync finished" once caught up; our chain's height when
 * it grows (at most every 10 s at info, each block at debug). */
static void progress_watch(ecnode *d, ec_time now)
{
	ec_sync_status ss;
	ec_id head;
	uint64_t height = 0;
	int has = ec_node_head(d->node, &head, &height) == EC_OK;
	if (has && (!d->log_has_head || height != d->log_height)) {
		ecn_log(ECN_DEBUG, "chain: height %llu", (unsigned long long)height);
		if (now - d->log_height_at >= 10000) {
			ecn_log(ECN_INFO, "chain: height %llu (+%llu blocks since the last "
				"report), %zu peers",
				(unsigned long long)height,
				(unsigned long long)(d->log_has_head ? height - d->log_height_reported
								     : height + 1),
				ec_node_peer_count(d->node));
			d->log_height_at = now;
			d->log_height_reported = height;
		}
		d->log_height = height;
		d->log_has_head = 1;
	}
	if (d->sync_started != 1)
		return;
	memset(&ss, 0, sizeof ss);
	if (ec_node_sync_status(d->node, &ss, NULL, 0) != EC_OK)
		return;
	if (ss.phase != d->log_sync_phase) {
		if (ss.phase == EC_SYNC_CAUGHT_UP)
			ecn_log(ECN_INFO, "sync finished: caught up after %.1f s, %llu blocks and "
				"%llu transactions verified, %llu messages",
				ss.started && ss.caught_up_at >= ss.started
					? (double)(ss.caught_up_at - ss.started) / 1000
					: 0.0,
				(unsigned long long)ss.blocks_verified,
				(unsigned long long)ss.txs_confirmed,
				(unsigned long long)(ss.msgs_sent + ss.msgs_recv));
		else
			ecn_log(ECN_INFO, "sync: %s", phase_word(ss.phase));
		d->log_sync_phase = ss.phase;
		d->log_sync_at = now;
	} else if ((ss.phase == EC_SYNC_TRAVERSE || ss.phase == EC_SYNC_DISCOVER) &&
		   now - d->log_sync_at >= 10000) {
		ecn_log(ECN_INFO, "sync: %s, %.1f%%, %llu/%llu blocks verified, ETA %.0f s",
			phase_word(ss.phase), 100 * ss.progress,
			(unsigned long long)ss.blocks_verified,
			(unsigned long long)ss.blocks_target, (double)ss.eta_ms / 1000);
		d->log_sync_at = now;
	}
}

static void on_housekeeping(uv_timer_t *t)
{
	ecnode *d = t->data;
	ec_time now = ecn_now_ms();
	store_watch(d, now);
	status_notify(d);
	progress_watch(d, now);
	(void)ecn_peers_check_dead(d, now);
	(void)ec_reasm_expire(d->reasm, now);
	for (size_t i = 0; i < d->n_peers; i++) {
		ecn_peer *p = &d->peers[i];
		if (!p->has_addr)
			continue;
		/* bootstrap peers until they answer, every second; known
		 * peers we have not heard from in hello_ms, and (keepalive,
		 * so that a quiet link does not look dead from the other
		 * side: PROTOCOL 16 "Dead peers") known peers we sent
		 * nothing to in hello_ms */
		if ((p->bootstrap && !p->bound && now - p->hello_sent >= 1000) ||
		    (p->bound && now - p->hello_sent >= d->cfg.hello_ms &&
		     (now - p->last_rx >= d->cfg.hello_ms || now - p->last_tx >= d->cfg.hello_ms)))
			greet(d, p, now);
	}
	if (d->cfg.sync != EC_SYNC_OFF && d->sync_started == 0 &&
	    now - d->started >= d->cfg.sync_delay_ms) {
		int err = ec_node_sync_start(d->node, (uint8_t)d->cfg.sync, now);
		d->sync_err = err;
		if (err == EC_OK || err == EC_ERR_BUSY) {
			d->sync_started = 1;
			ecn_log(ECN_INFO, "sync started (%s)",
				d->cfg.sync == EC_SYNC_CHAIN ? "chain traversal" : "polling");
		} else {
			d->sync_started = -1;
			ecn_log(ECN_WARN, "sync not available: %s",
				err == EC_ERR_NOTFOUND ? "no sync engine in this build"
						       : ec_strerror(err));
		}
		ecn_flush(d);
	}
	ecn_schedule(d);
}

static void on_close(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *s, int signum)
{
	ecnode *d = s->data;
	ecn_log(ECN_INFO, "signal %d: stopping", signum);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	d->stopping = 1;
	uv_stop(d->loop);
}

/* ---- SIGHUP: settings that change at run time, the log file ------------------ */

/* The query rate limits: the defaults times --rate-scale, each at least 1. */
static void scale_limits(ec_ratelimit_cfg *rc, double scale)
{
	for (int c = 0; c < EC_RL_CLASSES; c++) {
		ec_rl_limit *lims[2] = {&rc->per_peer[c], &rc->total[c]};
		for (int k = 0; k < 2; k++) {
			double ps = lims[k]->per_sec * scale;
			double b = lims[k]->burst * scale;
			lims[k]->per_sec = ps > 4e9 ? 4000000000u : (uint32_t)(ps < 1 ? 1 : ps);
			lims[k]->burst = b > 4e9 ? 4000000000u : (uint32_t)(b < 1 ? 1 : b);
		}
	}
}

static void later(const char *name)
{
	ecn_log(ECN_WARN, "SIGHUP: %s changed in the configuration: takes effect at the next start",
		name);
}

/* Applies the settings of `n` that change at run time and names the others
 * that differ from the running ones. */
static void reload_apply(ecnode *d, const ecn_cfg *n)
{
	ecn_cfg *o = &d->cfg;
	if (n->log_level != o->log_level) {
		ecn_log(ECN_INFO, "SIGHUP: log-level %s -> %s", ecn_log_level_name(o->log_level),
			ecn_log_level_name(n->log_level));
		o->log_level = ecn_log_level = n->log_level;
	}
	if (strcmp(n->log_file, o->log_file) != 0) {
		if (n->log_file[0]) {
			ecn_log(ECN_INFO, "SIGHUP: log-file %s -> %s",
				o->log_file[0] ? o->log_file : "(stderr)", n->log_file);
			memcpy(o->log_file, n->log_file, sizeof o->log_file);
		} else {
			later("log-file (removed)");
		}
	}
	if (n->hello_ms != o->hello_ms) {
		ecn_log(ECN_INFO, "SIGHUP: hello-interval %u -> %u", o->hello_ms, n->hello_ms);
		o->hello_ms = n->hello_ms;
	}
	if (n->peer_dead_ms != o->peer_dead_ms) {
		ecn_log(ECN_INFO, "SIGHUP: peer-dead-after %llu -> %llu",
			(unsigned long long)o->peer_dead_ms, (unsigned long long)n->peer_dead_ms);
		o->peer_dead_ms = n->peer_dead_ms;
	}
	if (n->rate_scale != o->rate_scale) {
		ec_ratelimit_cfg rc = ec_ratelimit_default_cfg;
		int r;
		scale_limits(&rc, n->rate_scale);
		if (!o->rate_limit) {
			later("rate-scale (rate limits are off)");
		} else if ((r = ec_node_set_rate_limits(d->node, &rc)) != EC_OK) {
			ecn_log(ECN_ERROR, "SIGHUP: rate-scale %g not applied: %s", n->rate_scale,
				ec_strerror(r));
		} else {
			ecn_log(ECN_INFO, "SIGHUP: rate-scale %g -> %g", o->rate_scale,
				n->rate_scale);
			o->rate_scale = n->rate_scale;
		}
	}
#define LATER_STR(f, name)                    \
	if (strcmp(n->f, o->f) != 0)          \
		later(name);
#define LATER_NUM(f, name)                    \
	if (n->f != o->f)                     \
		later(name);
	LATER_STR(listen, "listen")
	LATER_STR(announce, "announce")
	LATER_STR(data_dir, "data")
	LATER_STR(rpc_path, "rpc")
	LATER_NUM(network_id, "network")
	LATER_NUM(pow_test, "pow")
	LATER_NUM(block_interval_ms, "block-interval")
	LATER_NUM(rate_limit, "rate-limit")
	LATER_NUM(sync, "sync")
	LATER_NUM(sync_delay_ms, "sync-delay")
	LATER_NUM(sync_range_blocks, "sync-range-blocks")
	LATER_NUM(swap, "swap")
	LATER_NUM(swap_interval_ms, "swap-interval")
	LATER_NUM(swap_initial_ms, "swap-initial")
	LATER_NUM(swap_step_ms, "swap-step")
	LATER_NUM(swap_cooldown_ms, "swap-cooldown")
	LATER_NUM(swap_set_size, "swap-set-size")
	LATER_NUM(swap_keep_ring, "swap-keep-ring")
	LATER_NUM(swap_min, "swap-min")
	LATER_NUM(dgram_max, "datagram-max")
	LATER_NUM(msg_max, "message-max")
	LATER_NUM(reasm_timeout_ms, "reassembly-timeout")
	LATER_NUM(answer_dgrams, "answer-datagrams")
	LATER_NUM(mine_threads, "mine-threads")
#undef LATER_STR
#undef LATER_NUM
	{
		int same = n->n_bootstrap == o->n_bootstrap;
		for (size_t i = 0; same && i < n->n_bootstrap; i++)
			same = !strcmp(n->bootstrap[i], o->bootstrap[i]);
		if (!same)
			later("bootstrap");
	}
}

static void on_sighup(uv_signal_t *s, int signum)
{
	ecnode *d = s->data;
	const char *file = NULL;
	ecn_cfg n;
	int ok = 0;
	(void)signum;
	sd_notify(0, "RELOADING=1\nSTATUS=re-reading the configuration");
	for (int i = 1; i + 1 < d->argc; i++)
		if (!strcmp(d->argv[i], "--config"))
			file = d->argv[i + 1];
	ecn_cfg_default(&n);
	/* the file again, then the flags again (they still win) */
	if (file)
		ok = ecn_cfg_load(&n, d->argc, d->argv) == 0;
	/* the log first, so that what follows lands in the new file */
	if (d->cfg.log_file[0] || (ok && n.log_file[0])) {
		const char *path = ok && n.log_file[0] ? n.log_file : d->cfg.log_file;
		if (ecn_log_open(path) != 0)
			ecn_log(ECN_ERROR, "SIGHUP: log file %s: %s (still writing to the old one)",
				path, strerror(errno));
		else
			ecn_log(ECN_INFO, "SIGHUP: log file %s reopened", path);
	}
	if (!file)
		ecn_log(ECN_INFO, "SIGHUP: no --config file to re-read");
	else if (!ok)
		ecn_log(ECN_ERROR, "SIGHUP: %s not applied: it has errors (printed above); "
			"nothing changed", file);
	else
		reload_apply(d, &n);
	ecn_cfg_free(&n);
	d->status_height = UINT64_MAX; /* the next housekeeping rewrites STATUS */
	sd_notify(0, "READY=1");
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, on_close);
}

int main(int argc, char **argv)
{
	static ecnode D;
	ecnode *d = &D;
	ec_node_cfg nc;
	char p[700];
	int r;

	d->lock_fd = -1;
	d->argc = argc;
	d->argv = argv;
	signal(SIGHUP, SIG_IGN); /* until the loop handles it: never a kill */
	ecn_cfg_default(&d->cfg);
	if ((r = ecn_cfg_load(&d->cfg, argc, argv)) != 0)
		return r > 0 ? 0 : 2;
	ecn_log_level = d->cfg.log_level;
	umask(077);
	/* the check only reads; beside a live node it reads one LMDB read
	 * transaction, otherwise it keeps a node from starting meanwhile */
	if (d->cfg.check_store) {
		if (ec_crypto_init() != EC_OK) {
			ecn_log(ECN_ERROR, "crypto library failed to initialise");
			return 2;
		}
		return check_store(d->cfg.data_dir);
	}
	/* before anything else touches the data directory */
	if ((r = lock_data_dir(d)) != 0)
		return r;
	if (d->cfg.log_file[0] && ecn_log_open(d->cfg.log_file) != 0) {
		ecn_log(ECN_ERROR, "log file %s: %s", d->cfg.log_file, strerror(errno));
		return 2;
	}
	if (ec_crypto_init() != EC_OK) {
		ecn_log(ECN_ERROR, "crypto library failed to initialise");
		return 2;
	}
	d->pow = d->cfg.pow_test ? &ec_pow_test : &ec_pow_production;
	/* --init checks the addresses too, not the sockets of a node that is
	 * not started */
	if (preflight(d, !d->cfg.init_only) != 0)
		return 2;
	if (open_data_dir(d) != 0)
		return 2;
	if (d->cfg.init_only) {
		char pid[65], kx[65];
		ec_hex_encode(pid, d->ident.peer_id.b, 32);
		ec_hex_encode(kx, d->kx.pk, 32);
		printf("peer_id %s\nkx_pk %s\n", pid, kx);
		return 0;
	}
	path_in(p, sizeof p, d->cfg.data_dir, "store");
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		ecn_log(ECN_ERROR, "%s: %s", p, strerror(errno));
		return 2;
	}
	{
		ec_store_opts so = {.log = on_store_log, .log_ctx = d->cfg.data_dir};
		ec_time t0 = ecn_now_ms();
		if ((r = ec_store_open_lmdb(&d->store, p, &so)) != EC_OK) {
			ecn_log(ECN_ERROR, "store %s: %s", p, ec_strerror(r));
			return r == EC_ERR_CORRUPT || r == EC_ERR_FORMAT ? 1 : 2;
		}
		ecn_log(ECN_INFO, "store %s verified in %llu ms", p,
			(unsigned long long)(ecn_now_ms() - t0));
	}
	if (ecn_epoch_raise(d, 0) != 0) {
		ecn_log(ECN_ERROR, "cannot persist the transport epoch");
		return 2;
	}
	d->loop = uv_default_loop();
	if (ecn_net_start(d) != 0)
		return 2;

	ec_node_cfg_default(&nc);
	nc.key = d->key;
	nc.identity = d->ident;
	nc.store = d->store;
	nc.pow = d->pow;
	nc.block_interval_ms = d->cfg.block_interval_ms;
	nc.rng = ecn_rng;
	nc.rng_ctx = NULL;
	memcpy(nc.kx_pk, d->kx.pk, 32);
	{
		struct sockaddr_storage ann = d->listen_addr;
		socklen_t al;
		if (d->cfg.announce[0] &&
		    ecn_addr_parse_family(d->cfg.announce, d->listen_addr.ss_family, &ann, &al) != 0) {
			ecn_log(ECN_ERROR, "bad announce address '%s'", d->cfg.announce);
			return 2;
		}
		nc.addr_len = ecn_addr_pack((const struct sockaddr *)&ann, nc.addr);
	}
	nc.rate_limit = (uint8_t)d->cfg.rate_limit;
	scale_limits(&nc.ratelimit, d->cfg.rate_scale);
	/* Messages over one datagram travel as fragments up to --message-max
	 * (PROTOCOL 16 "Fragments"): what we serve stays under it, and the
	 * range answers we ask for are bounded to --answer-datagrams
	 * datagrams, so a lost datagram costs a small answer, not a big one */
	if (nc.serve.max_range_bytes > d->cfg.msg_max)
		nc.serve.max_range_bytes = d->cfg.msg_max;
	nc.sync.strategy = (uint8_t)d->cfg.sync;
	if (d->cfg.sync_range_blocks)
		nc.sync.range_max_blocks = d->cfg.sync_range_blocks;
	nc.sync.range_max_bytes = ecn_answer_bytes(&d->cfg);
	/* tx-batch answers alike: about 256 bytes a body (a one-token
	 * transfer is 205), at least 8 ids, at most the engine's default */
	{
		uint32_t ids = ecn_answer_bytes(&d->cfg) / 256;
		if (ids < 8)
			ids = 8;
		if (ids < nc.sync.txbatch_max)
			nc.sync.txbatch_max = (uint16_t)ids;
	}
	{
		ec_reasm_cfg rc;
		ec_reasm_cfg_default(&rc);
		rc.max_msg = d->cfg.msg_max;
		if (rc.max_bytes_peer < 4ull * rc.max_msg)
			rc.max_bytes_peer = 4 * rc.max_msg;
		if (rc.max_bytes < 4ull * rc.max_bytes_peer)
			rc.max_bytes = 4 * rc.max_bytes_peer;
		rc.timeout_ms = d->cfg.reasm_timeout_ms;
		if ((r = ec_reasm_new(&d->reasm, &rc)) != EC_OK) {
			ecn_log(ECN_ERROR, "reassembly: %s", ec_strerror(r));
			return 2;
		}
	}
	d->started = ecn_now_ms();
	ecn_swap_node_cfg(&d->cfg, &nc);
	if ((r = ec_node_new(&d->node, &nc, d->started)) != EC_OK) {
		if (ec_store_corruptions(d->store)) {
			ecn_log(ECN_ERROR, "node not started: %s",
				ec_store_first_corruption(d->store));
			return 1;
		}
		ecn_log(ECN_ERROR, "node not started: %s%s", ec_strerror(r),
			r == EC_ERR_CORRUPT ? " (the store's contents do not fit together)"
					    : "");
		return r == EC_ERR_CORRUPT ? 1 : 2;
	}
	ec_memzero(&nc.key, sizeof nc.key);
	g_serving = 1;
	{
		ec_store_txn *t;
		if (ec_store_txn_begin(d->store, 0, &t) == EC_OK) {
			(void)ec_store_iter_peers(t, load_peer, d);
			ec_store_txn_abort(t);
		}
	}
	for (size_t i = 0; i < d->cfg.n_bootstrap; i++)
		if (add_bootstrap(d, d->cfg.bootstrap[i]) != 0)
			return 2;
	if (ecn_rpc_start(d) != 0)
		return 2;
	{
		char pid[65], kx[65];
		ec_id head;
		uint64_t height = 0;
		int has = ec_node_head(d->node, &head, &height) == EC_OK;
		ec_hex_encode(pid, d->ident.peer_id.b, 32);
		ec_hex_encode(kx, d->kx.pk, 32);
		ecn_log(ECN_INFO, "peer %s listening on %s (network %llu), contact %s@%s", pid,
			d->listen_str, (unsigned long long)d->ident.network_id, kx, d->listen_str);
		ecn_log(ECN_INFO, "chain: %s, %zu stored peers, %zu bootstrap, rpc %s",
			has ? "resumed" : "empty", ec_node_peer_count(d->node),
			d->cfg.n_bootstrap, d->cfg.rpc_path);
		if (has)
			ecn_log(ECN_INFO, "chain: height %llu", (unsigned long long)height);
		d->log_has_head = has;
		d->log_height = d->log_height_reported = height;
	}
	/* the UDP socket and the control socket are up: ready */
	d->status_height = UINT64_MAX;
	status_notify(d);
	sd_notify(0, "READY=1");
	/* greet everyone we know: stored peers (rejoin) and bootstrap */
	for (size_t i = 0; i < d->n_peers; i++)
		if (d->peers[i].has_addr)
			greet(d, &d->peers[i], d->started);
	uv_timer_init(d->loop, &d->housekeeping);
	d->housekeeping.data = d;
	uv_timer_start(&d->housekeeping, on_housekeeping, 250, 250);
	uv_signal_init(d->loop, &d->sigint);
	uv_signal_init(d->loop, &d->sigterm);
	uv_signal_init(d->loop, &d->sighup);
	d->sigint.data = d->sigterm.data = d->sighup.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sighup, on_sighup, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	ecn_flush(d);
	ecn_schedule(d);

	uv_run(d->loop, UV_RUN_DEFAULT);

	/* stopped: the current callback (batch) finished; close everything */
	d->stopping = 1;
	ecn_rpc_close(d);
	uv_walk(d->loop, close_walk, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	uv_loop_close(d->loop);
	ec_node_free(d->node);
	ec_reasm_free(d->reasm);
	ec_store_close(d->store);
	ec_keypair_wipe(&d->key);
	ec_kx_keypair_wipe(&d->kx);
	for (size_t i = 0; i < d->n_peers; i++)
		free(d->peers[i].hello);
	free(d->peers);
	ecn_cfg_free(&d->cfg);
	ecn_log(ECN_INFO, "stopped");
	return 0;
}
