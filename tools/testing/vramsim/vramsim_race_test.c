// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency tests of vramsim: two or more threads or processes at once on
 * the same device memory.  CPU faults race zaps, unmaps and migrations in
 * both directions; processes exit or are killed in the middle of a
 * migration while the module is being unloaded; the debugfs bench runs
 * next to users; the pieces of a split device folio are freed from two
 * CPUs at once.  Every word read is compared with what was written (or
 * with zeros where the memory was discarded), and the fixture's teardown
 * checks that the VRAM is whole again after each test.
 *
 * Each race runs for a bounded number of rounds and stops early after
 * VRAMSIM_RACE_SECONDS (default 10) seconds; a minimum number of rounds
 * always runs, so a slow machine tests less but still tests.  Nothing
 * here fails because something was slow, only because something was
 * wrong, hung or leaked.
 *
 * A fork's child exiting while its parent migrates the memory they share
 * (fork_exit_vs_migrate) is here too.
 *
 * Run in the guest with the module loaded, e.g.
 *   modprobe vramsim vram_size=64M prepare=driver && vramsim_race_test
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest_harness.h"

#define TO_DEV	VRAMSIM_TO_DEV
#define TO_RAM	VRAMSIM_TO_RAM

#define SZ_4K	(4UL << 10)
#define SZ_64K	(64UL << 10)
#define SZ_1M	(1024UL << 10)
#define SZ_2M	(2UL << 20)
#define SZ_32M	(32UL << 20)
#define SZ_48M	(48UL << 20)

#define BENCH_PATH	"/sys/kernel/debug/dri/vramsim/bench"

/*
 * The harness kills a test after this many seconds.  Far above a race's
 * time budget, because the round under way when the time is up finishes
 * first: on the debug kernel under TCG one round of two 48 MiB users in
 * 4 KiB folios takes nearly 4 minutes.
 */
#define RACE_TIMEOUT	600

/*
 * A killed child that has not gone after 3 minutes is hung (exit frees its
 * device pages, thousands of them: seconds on a slow debug guest).
 */
#define HANG_SECONDS	180

/*
 * A child told to stop finishes the round it is in first: on a slow
 * machine (a debug kernel under emulation) that takes minutes, so only
 * the harness's timeout says it hangs.
 */
#define FINISH_SECONDS	(RACE_TIMEOUT - 30)

/* --- Time and round budget ---------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * How long one race may run: at least @min rounds, at most @max, and no new
 * round once the time is up.
 */
struct budget {
	double start, end;
	unsigned long min, max;
};

static void budget_init(struct budget *b, unsigned long min, unsigned long max)
{
	const char *env = getenv("VRAMSIM_RACE_SECONDS");
	double secs = env ? atof(env) : 10;

	if (secs <= 0 || secs > 120)
		secs = 10;
	b->start = now_s();
	b->end = b->start + secs;
	b->min = min;
	b->max = max;
}

static bool budget_more(const struct budget *b, unsigned long done)
{
	if (done < b->min)
		return true;
	return done < b->max && now_s() < b->end;
}

static double budget_elapsed(const struct budget *b)
{
	return now_s() - b->start;
}

static void spin_us(unsigned int us)
{
	double end = now_s() + us / 1e6;

	while (now_s() < end)
		;
}

/*
 * A delay that lands anywhere in a fault or a migration: none in a quarter
 * of the draws, else 1 us to 8 ms, spread evenly over the powers of two.
 */
static unsigned int pick_delay_us(unsigned int *seed)
{
	unsigned int r = rand_r(seed), shift;

	if (!(r & 3))
		return 0;
	shift = (r >> 2) % 13;
	return (1U << shift) + (r >> 8) % (1U << shift);
}

/*
 * Salt of one writer's pattern: bit 63 set, so no pattern word is ever 0
 * (what discarded memory reads as), and different for every writer and
 * round, so stale data from another round or thread never matches.
 */
static __u64 salt_of(unsigned int who, unsigned long round)
{
	return (1ULL << 63) | ((__u64)(who & 0xff) << 52) |
	       ((__u64)(round & 0xffffffffUL) << 12);
}

/* --- What a thread or process saw ----------------------------------------- */

/*
 * The first thing that went wrong in a worker, kept for the main thread to
 * report: a call that failed (@err, a negative errno) or a word that was
 * not what was written (@bad, its index).  Lives in memory shared with
 * forked children where needed, hence no pointers but string literals.
 */
struct outcome {
	atomic_ulong iters;
	int err;
	long bad;
	unsigned long at;
	const char *what;
	__u64 got, want;
};

static void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	atomic_init(&o->iters, 0);
	o->bad = -1;
}

static bool outcome_ok(const struct outcome *o)
{
	return !o->err && o->bad < 0;
}

static void note_err(struct outcome *o, const char *what, int err)
{
	if (!outcome_ok(o))
		return;
	o->err = err;
	o->what = what;
	o->at = atomic_load(&o->iters);
}

/* Check [buf + off, buf + off + len) against @salt; note the first bad word. */
static bool check_noted(struct outcome *o, const char *what, const void *buf,
			size_t off, size_t len, __u64 salt)
{
	long bad = check_at(buf, off, len, salt);

	if (bad < 0)
		return true;
	if (outcome_ok(o)) {
		o->bad = bad;
		o->got = ((const __u64 *)buf)[bad];
		o->want = (bad * 8) ^ salt;
		o->what = what;
		o->at = atomic_load(&o->iters);
	}
	return false;
}

static void expect_outcome(struct __test_metadata *_metadata, const char *who,
			   const struct outcome *o)
{
	EXPECT_EQ(o->err, 0)
		TH_LOG("%s: %s failed in round %lu: %s", who, o->what, o->at,
		       strerror(-o->err));
	EXPECT_EQ(o->bad, -1)
		TH_LOG("%s: %s: word %ld (byte %#lx) is %#llx, not %#llx, in round %lu",
		       who, o->what, o->bad, o->bad * 8, (unsigned long long)o->got,
		       (unsigned long long)o->want, o->at);
}

/*
 * Words of [buf + off, buf + off + len) that hold the pattern, that are
 * zero, and the first that is neither.
 */
struct scan {
	unsigned long pattern, zero;
	long bad;
	__u64 bad_val;
};

static void scan_init(struct scan *r)
{
	memset(r, 0, sizeof(*r));
	r->bad = -1;
}

static void scan_pattern_or_zero(const void *buf, size_t off, size_t len,
				 __u64 salt, struct scan *r)
{
	const __u64 *w = buf;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++) {
		__u64 v = w[i];

		if (v == ((i * 8) ^ salt)) {
			r->pattern++;
		} else if (!v) {
			r->zero++;
		} else if (r->bad < 0) {
			r->bad = i;
			r->bad_val = v;
		}
	}
}

/* --- Processes ------------------------------------------------------------ */

/* Memory shared with forked children (zeroed), or NULL. */
static void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * fork() for a test's helper process: it dies with the test process (so a
 * failed assertion never leaves one behind) and never runs the harness's
 * exit paths; it must leave with _exit().
 */
static pid_t fork_helper(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

/*
 * Reap @pid within @secs seconds: 0, -ETIMEDOUT if it is still there (it
 * is then killed and reaped, as far as that goes), or -errno.
 */
static int reap(pid_t pid, int *status, double secs)
{
	double end = now_s() + secs;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		if (now_s() > end)
			break;
		usleep(2000);
	}
	kill(pid, SIGKILL);
	end = now_s() + 10;
	while (waitpid(pid, status, WNOHANG) == 0 && now_s() < end)
		usleep(10000);
	return -ETIMEDOUT;
}

/* Has @pid exited (or been killed)?  It is left to be reaped. */
static bool child_gone(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == pid;
}

static bool exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool killed_by(int status, int sig)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static int modprobe_vramsim(const char *size, const char *prepare)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "modprobe vramsim vram_size=%s prepare=%s",
		 size, prepare);
	return system(cmd);
}

/* --- Fixtures ------------------------------------------------------------- */

/*
 * Setup and teardown shared by both fixtures.  The teardown puts the module
 * back if a test that unloads it failed half way, so that the tests after
 * it still have a device.
 */
static void common_setup(struct __test_metadata *_metadata, int *fd,
			 struct vramsim_stats *s, char *size, char *prepare)
{
	ASSERT_EQ(read_param("vram_size", size, 32), 0)
		TH_LOG("vramsim is not loaded");
	ASSERT_EQ(read_param("prepare", prepare, 16), 0);
	*fd = vramsim_open_render_node();
	ASSERT_GE(*fd, 0) TH_LOG("no vramsim render node");
	ASSERT_TRUE(wait_vram_idle(*fd, s))
		TH_LOG("VRAM not idle before the test: %llu of %llu free",
		       (unsigned long long)s->vram_free,
		       (unsigned long long)s->vram_size);
}

static void common_teardown(struct __test_metadata *_metadata, int *fd,
			    const char *size, const char *prepare)
{
	struct vramsim_stats s;

	if (*fd < 0 && size[0]) {
		if (access("/sys/module/vramsim", F_OK))
			modprobe_vramsim(size, prepare);
		*fd = vramsim_open_render_node();
	}
	EXPECT_GE(*fd, 0) TH_LOG("no vramsim render node after the test");
	if (*fd < 0)
		return;
	/* Every test must leave the VRAM as it found it: whole. */
	EXPECT_TRUE(wait_vram_idle(*fd, &s))
		TH_LOG("leak: %llu of %llu bytes free, %llu pending, %llu live folios",
		       (unsigned long long)s.vram_free,
		       (unsigned long long)s.vram_size,
		       (unsigned long long)s.pending_frees,
		       (unsigned long long)live_folios(&s));
	close(*fd);
	*fd = -1;
}

/* Races where it matters whether the memory is THP (2 MiB device folios). */
FIXTURE(race) {
	int fd;
	struct vramsim_stats s;
	char size[32], prepare[16];
};

FIXTURE_VARIANT(race) {
	int advice;
	bool thp;
};

FIXTURE_VARIANT_ADD(race, thp) {
	.advice = MADV_HUGEPAGE,
	.thp = true,
};

FIXTURE_VARIANT_ADD(race, nothp) {
	.advice = MADV_NOHUGEPAGE,
	.thp = false,
};

FIXTURE_SETUP(race)
{
	common_setup(_metadata, &self->fd, &self->s, self->size, self->prepare);
}

FIXTURE_TEARDOWN(race)
{
	common_teardown(_metadata, &self->fd, self->size, self->prepare);
}

/* Races between processes and the module or debugfs: THP memory, once. */
FIXTURE(race_proc) {
	int fd;
	struct vramsim_stats s;
	char size[32], prepare[16];
};

FIXTURE_SETUP(race_proc)
{
	common_setup(_metadata, &self->fd, &self->s, self->size, self->prepare);
}

FIXTURE_TEARDOWN(race_proc)
{
	common_teardown(_metadata, &self->fd, self->size, self->prepare);
}

/* --- 1. A CPU fault on device memory racing a zap --------------------------- */

/*
 * Thread A reads a 2 MiB range that is in VRAM (with THP: one device-private
 * PMD, so its fault is ->migrate_to_ram of the whole folio) while thread B
 * discards it with MADV_DONTNEED, or unmaps it and maps fresh memory in its
 * place.  A sees the pattern or zeros, word by word, never anything else;
 * once B is done, the range is zeros.
 */
struct zap_race {
	char *buf;
	size_t len;
	int advice;
	bool munmap;
	pthread_barrier_t start, done;
	bool stop;
	/* This round */
	__u64 salt;
	size_t zap_off, zap_len, read_off;
	unsigned int delay_us;
	atomic_int reading;
	/* What this round did */
	struct scan seen;
	bool segv;
	struct outcome zapper;
};

/* The reader's way out of a read of memory B has just unmapped. */
static __thread sigjmp_buf *segv_jmp;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	if (segv_jmp)
		siglongjmp(*segv_jmp, 1);
	/* Not a read we expected to fault: die of it as usual. */
	signal(sig, SIG_DFL);
}

/*
 * Scan a page at a time; the signal fence makes each page's counts reach
 * memory before the next page is read, so a SIGSEGV loses at most the
 * counts of the page it hit, never a bad word already seen.
 */
static void zap_scan(struct zap_race *z, size_t off, size_t len)
{
	size_t o;

	for (o = off; o < off + len; o += SZ_4K) {
		scan_pattern_or_zero(z->buf, o, SZ_4K, z->salt, &z->seen);
		atomic_signal_fence(memory_order_seq_cst);
	}
}

static void *zap_reader(void *arg)
{
	struct zap_race *z = arg;
	sigjmp_buf jb;

	for (;;) {
		pthread_barrier_wait(&z->start);
		if (z->stop)
			break;
		scan_init(&z->seen);
		z->segv = false;
		segv_jmp = &jb;
		if (!sigsetjmp(jb, 1)) {
			atomic_store(&z->reading, 1);
			/* The first word read faults the whole PMD home. */
			zap_scan(z, z->read_off, z->len - z->read_off);
			zap_scan(z, 0, z->read_off);
		} else {
			z->segv = true;
		}
		segv_jmp = NULL;
		pthread_barrier_wait(&z->done);
	}
	return NULL;
}

static void *zap_zapper(void *arg)
{
	struct zap_race *z = arg;
	char *p;

	for (;;) {
		pthread_barrier_wait(&z->start);
		if (z->stop)
			break;
		/* From the reader's first access, so that the zap lands in its fault. */
		while (!atomic_load(&z->reading))
			;
		spin_us(z->delay_us);
		if (!z->munmap) {
			if (madvise(z->buf + z->zap_off, z->zap_len, MADV_DONTNEED))
				note_err(&z->zapper, "madvise(MADV_DONTNEED)", -errno);
		} else if (munmap(z->buf, z->len)) {
			note_err(&z->zapper, "munmap", -errno);
		} else {
			p = mmap(z->buf, z->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != z->buf)
				note_err(&z->zapper, "mmap at the same address",
					 p == MAP_FAILED ? -errno : -EADDRINUSE);
			else if (madvise(z->buf, z->len, z->advice))
				note_err(&z->zapper, "madvise(advice)", -errno);
		}
		atomic_fetch_add(&z->zapper.iters, 1);
		pthread_barrier_wait(&z->done);
	}
	return NULL;
}

static void fault_vs_zap(struct __test_metadata *_metadata, int fd, int advice,
			 bool thp, bool do_munmap)
{
	unsigned long round, pmd_rounds = 0, mixed = 0, segvs = 0, lost = 0, changed = 0;
	char first_lost[200] = "", first_changed[120] = "";
	struct sigaction sa = {
		.sa_sigaction = segv_handler,
		.sa_flags = SA_SIGINFO,
	};
	struct vramsim_stats s;
	pthread_t reader, zapper;
	struct scan after;
	struct zap_race z;
	unsigned int seed;
	struct budget b;
	bool ok = true;
	__u64 moved;
	long bad;
	int ret;

	memset(&z, 0, sizeof(z));
	z.len = SZ_2M;
	z.advice = advice;
	z.munmap = do_munmap;
	outcome_init(&z.zapper);
	z.buf = vramsim_map_aligned(z.len, advice);
	ASSERT_NE(z.buf, NULL);
	ASSERT_EQ(sigaction(SIGSEGV, &sa, NULL), 0);
	ASSERT_EQ(pthread_barrier_init(&z.start, NULL, 3), 0);
	ASSERT_EQ(pthread_barrier_init(&z.done, NULL, 3), 0);
	ASSERT_EQ(pthread_create(&reader, NULL, zap_reader, &z), 0);
	ASSERT_EQ(pthread_create(&zapper, NULL, zap_zapper, &z), 0);

	budget_init(&b, 5, 2000);
	for (round = 0; ok && budget_more(&b, round); round++) {
		seed = round * 2654435761U + do_munmap;
		z.salt = salt_of(1, round);
		fill(z.buf, z.len, z.salt);
		ret = vs_migrate(fd, TO_DEV, z.buf, z.len, &moved);
		EXPECT_EQ(ret, 0) TH_LOG("round %lu: to the device: %s", round, strerror(-ret));
		EXPECT_EQ(moved, z.len) TH_LOG("round %lu", round);
		if (ret || moved != z.len)
			break;
		EXPECT_EQ(vs_stats(fd, &s), 0);
		if (s.live_folios[9] == 1)
			pmd_rounds++;

		/* One round in four discards a single page: a PMD split racing the fault. */
		z.zap_off = 0;
		z.zap_len = z.len;
		if (!do_munmap && round % 4 == 3) {
			z.zap_off = (1 + rand_r(&seed) % 511) * SZ_4K;
			z.zap_len = SZ_4K;
		}
		z.read_off = (rand_r(&seed) % 512) * SZ_4K;
		z.delay_us = pick_delay_us(&seed);
		atomic_store(&z.reading, 0);
		pthread_barrier_wait(&z.start);
		pthread_barrier_wait(&z.done);

		EXPECT_EQ(z.seen.bad, -1)
			TH_LOG("round %lu: reader saw %#llx at byte %#lx: not pattern, not 0",
			       round, (unsigned long long)z.seen.bad_val, z.seen.bad * 8);
		if (z.seen.bad >= 0 || !outcome_ok(&z.zapper)) {
			ok = false;
			break;
		}
		if (z.seen.zero && z.seen.pattern)
			mixed++;
		segvs += z.segv;

		/*
		 * B is done: the discarded part reads as zeros, the rest as
		 * written.  Counted over all rounds, with the first described.
		 */
		scan_init(&after);
		scan_pattern_or_zero(z.buf, z.zap_off, z.zap_len, z.salt, &after);
		EXPECT_EQ(after.bad, -1)
			TH_LOG("round %lu: %#llx at byte %#lx after the zap", round,
			       (unsigned long long)after.bad_val, after.bad * 8);
		if (after.bad >= 0)
			ok = false;
		if (after.pattern && !lost++)
			snprintf(first_lost, sizeof(first_lost),
				 "round %lu: %lu of %lu words at %#zx still data (reader: %lu data, %lu zero words; zap after %u us)",
				 round, after.pattern, z.zap_len / 8, z.zap_off,
				 z.seen.pattern, z.seen.zero, z.delay_us);
		if (z.zap_len != z.len) {
			bad = check(z.buf, z.zap_off, z.salt);
			if (bad < 0)
				bad = check_at(z.buf, z.zap_off + z.zap_len,
					       z.len - z.zap_off - z.zap_len, z.salt);
			if (bad >= 0 && !changed++)
				snprintf(first_changed, sizeof(first_changed),
					 "round %lu: word %ld outside the discarded page is %#llx",
					 round, bad, (unsigned long long)((__u64 *)z.buf)[bad]);
		}
		/* Empty again, so that the next fill faults in a fresh THP. */
		EXPECT_EQ(madvise(z.buf, z.len, MADV_DONTNEED), 0);
	}

	z.stop = true;
	pthread_barrier_wait(&z.start);
	pthread_join(reader, NULL);
	pthread_join(zapper, NULL);
	expect_outcome(_metadata, "zapper", &z.zapper);
	ksft_print_msg("%lu rounds, %.1f s: %lu device PMDs, %lu zapped mid-read, %lu SIGSEGV\n",
		       round, budget_elapsed(&b), pmd_rounds, mixed, segvs);
	/* A discard that returned must have discarded: no data may survive it. */
	EXPECT_EQ(lost, 0)
		TH_LOG("the zap was lost in %lu of %lu rounds; first: %s", lost, round, first_lost);
	EXPECT_EQ(changed, 0)
		TH_LOG("data next to the discarded page changed in %lu rounds; first: %s",
		       changed, first_changed);
	/* The point of the THP variant: it must have raced a device PMD. */
	if (thp)
		EXPECT_GT(pmd_rounds, 0)
			TH_LOG("no round had a 2 MiB device folio: is THP available?");
	munmap(z.buf, z.len);
}

TEST_F_TIMEOUT(race, fault_vs_dontneed, RACE_TIMEOUT)
{
	fault_vs_zap(_metadata, self->fd, variant->advice, variant->thp, false);
}

TEST_F_TIMEOUT(race, fault_vs_munmap, RACE_TIMEOUT)
{
	fault_vs_zap(_metadata, self->fd, variant->advice, variant->thp, true);
}

/* --- 2. Migration both ways at once, readers faulting ----------------------- */

/*
 * One thread migrates a range to the device, another to RAM, over and over,
 * while two readers check every word of it (faulting pages home).  The
 * contents never change.
 */
struct both_ways {
	int fd;
	char *buf;
	size_t len;
	__u64 salt;
	atomic_bool stop;
};

struct bw_worker {
	struct both_ways *bw;
	int role;		/* 0: to the device, 1: to RAM, 2 and 3: readers */
	__u64 moved;
	struct outcome o;
};

static void *bw_thread(void *arg)
{
	struct bw_worker *w = arg;
	struct both_ways *bw = w->bw;
	size_t half = bw->len / 2 & ~(SZ_4K - 1);
	__u64 moved;
	int ret;

	while (!atomic_load(&bw->stop) && outcome_ok(&w->o)) {
		switch (w->role) {
		case 0:
		case 1:
			ret = vs_migrate(bw->fd, w->role ? TO_RAM : TO_DEV, bw->buf,
					 bw->len, &moved);
			if (ret)
				note_err(&w->o, w->role ? "to RAM" : "to the device", ret);
			else if (moved > bw->len)
				note_err(&w->o, "moved > length", -ERANGE);
			w->moved += moved;
			break;
		default:
			/* The second reader starts in the middle: both ends get raced. */
			if (w->role == 2) {
				check_noted(&w->o, "reader", bw->buf, 0, bw->len, bw->salt);
			} else if (check_noted(&w->o, "reader", bw->buf, half,
					       bw->len - half, bw->salt)) {
				check_noted(&w->o, "reader", bw->buf, 0, half, bw->salt);
			}
			break;
		}
		atomic_fetch_add(&w->o.iters, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, migrate_both_ways, RACE_TIMEOUT)
{
	static const char * const names[] = {
		"to-device thread", "to-RAM thread", "reader 1", "reader 2",
	};
	struct bw_worker w[4];
	pthread_t th[4];
	struct both_ways bw;
	unsigned long least;
	struct budget b;
	bool failed;
	int i;

	/* Four 2 MiB folios and a tail of 4 KiB pages. */
	bw.fd = self->fd;
	bw.len = 4 * SZ_2M + 16 * SZ_4K;
	bw.salt = salt_of(2, 0);
	atomic_init(&bw.stop, false);
	bw.buf = vramsim_map_aligned(bw.len, variant->advice);
	ASSERT_NE(bw.buf, NULL);
	fill(bw.buf, bw.len, bw.salt);

	for (i = 0; i < 4; i++) {
		w[i].bw = &bw;
		w[i].role = i;
		w[i].moved = 0;
		outcome_init(&w[i].o);
		ASSERT_EQ(pthread_create(&th[i], NULL, bw_thread, &w[i]), 0);
	}

	/* Until every thread has done a few rounds and the time is up. */
	budget_init(&b, 2, 500);
	do {
		usleep(20000);
		least = ULONG_MAX;
		failed = false;
		for (i = 0; i < 4; i++) {
			unsigned long n = atomic_load(&w[i].o.iters);

			if (n < least)
				least = n;
			failed |= !outcome_ok(&w[i].o);
		}
	} while (!failed && budget_more(&b, least));
	atomic_store(&bw.stop, true);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		expect_outcome(_metadata, names[i], &w[i].o);
	}

	EXPECT_EQ(check(bw.buf, bw.len, bw.salt), -1);
	ksft_print_msg("%.1f s: %lu to device (%llu MiB), %lu to RAM (%llu MiB), %lu + %lu reads\n",
		       budget_elapsed(&b), atomic_load(&w[0].o.iters),
		       (unsigned long long)w[0].moved >> 20, atomic_load(&w[1].o.iters),
		       (unsigned long long)w[1].moved >> 20, atomic_load(&w[2].o.iters),
		       atomic_load(&w[3].o.iters));
	munmap(bw.buf, bw.len);
}

/* --- 3. Many threads faulting the same device THPs ------------------------ */

#define STORM_READERS	4
#define STORM_FOLIOS	4

/*
 * Each round the range goes to the device; then STORM_READERS threads read
 * all of it at once, starting on the same folio (or each on its own), while
 * another thread keeps sending back to the device what they fault home.
 */
struct storm {
	int fd;
	char *buf;
	size_t len;
	__u64 salt;
	pthread_barrier_t start, done;
	bool stop, same;
	unsigned int first;
	atomic_int finished;
	unsigned long remigrations;
	struct outcome o[STORM_READERS + 1];
};

struct storm_arg {
	struct storm *st;
	int idx;
};

static void *storm_reader(void *arg)
{
	struct storm_arg *a = arg;
	struct storm *st = a->st;
	struct outcome *o = &st->o[a->idx];
	size_t off;

	for (;;) {
		pthread_barrier_wait(&st->start);
		if (st->stop)
			break;
		off = ((st->first + (st->same ? 0 : a->idx)) % STORM_FOLIOS) * SZ_2M;
		/* Every word, from @off to the end and around. */
		if (check_noted(o, "reader", st->buf, off, st->len - off, st->salt))
			check_noted(o, "reader", st->buf, 0, off, st->salt);
		atomic_fetch_add(&o->iters, 1);
		atomic_fetch_add(&st->finished, 1);
		pthread_barrier_wait(&st->done);
	}
	return NULL;
}

static void *storm_migrator(void *arg)
{
	struct storm *st = arg;
	struct outcome *o = &st->o[STORM_READERS];
	__u64 moved;
	int ret;

	for (;;) {
		pthread_barrier_wait(&st->start);
		if (st->stop)
			break;
		while (atomic_load(&st->finished) < STORM_READERS) {
			ret = vs_migrate(st->fd, TO_DEV, st->buf, st->len, &moved);
			if (ret)
				note_err(o, "to the device", ret);
			st->remigrations++;
		}
		atomic_fetch_add(&o->iters, 1);
		pthread_barrier_wait(&st->done);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, fault_storm, RACE_TIMEOUT)
{
	struct storm_arg args[STORM_READERS];
	pthread_t th[STORM_READERS + 1];
	unsigned long round, pmd_rounds = 0;
	struct vramsim_stats s;
	struct storm st;
	struct budget b;
	bool ok = true;
	char who[32];
	__u64 moved;
	int i, ret;

	memset(&st, 0, sizeof(st));
	st.fd = self->fd;
	st.len = STORM_FOLIOS * SZ_2M;
	st.salt = salt_of(3, 0);
	for (i = 0; i <= STORM_READERS; i++)
		outcome_init(&st.o[i]);
	st.buf = vramsim_map_aligned(st.len, variant->advice);
	ASSERT_NE(st.buf, NULL);
	fill(st.buf, st.len, st.salt);
	ASSERT_EQ(pthread_barrier_init(&st.start, NULL, STORM_READERS + 2), 0);
	ASSERT_EQ(pthread_barrier_init(&st.done, NULL, STORM_READERS + 2), 0);
	for (i = 0; i < STORM_READERS; i++) {
		args[i].st = &st;
		args[i].idx = i;
		ASSERT_EQ(pthread_create(&th[i], NULL, storm_reader, &args[i]), 0);
	}
	ASSERT_EQ(pthread_create(&th[STORM_READERS], NULL, storm_migrator, &st), 0);

	budget_init(&b, 2, 300);
	for (round = 0; ok && budget_more(&b, round); round++) {
		ret = vs_migrate(st.fd, TO_DEV, st.buf, st.len, &moved);
		EXPECT_EQ(ret, 0) TH_LOG("round %lu: %s", round, strerror(-ret));
		if (ret)
			break;
		EXPECT_EQ(vs_stats(st.fd, &s), 0);
		if (s.live_folios[9] == STORM_FOLIOS)
			pmd_rounds++;
		st.first = round % STORM_FOLIOS;
		st.same = !(round & 1);
		atomic_store(&st.finished, 0);
		pthread_barrier_wait(&st.start);
		pthread_barrier_wait(&st.done);
		for (i = 0; i <= STORM_READERS; i++)
			ok &= outcome_ok(&st.o[i]);
	}
	st.stop = true;
	pthread_barrier_wait(&st.start);
	for (i = 0; i <= STORM_READERS; i++) {
		pthread_join(th[i], NULL);
		if (i < STORM_READERS)
			snprintf(who, sizeof(who), "reader %d", i + 1);
		else
			snprintf(who, sizeof(who), "migrator");
		expect_outcome(_metadata, who, &st.o[i]);
	}
	EXPECT_EQ(check(st.buf, st.len, st.salt), -1);
	ksft_print_msg("%lu rounds, %.1f s: %lu with %d device PMDs, %lu re-migrations\n",
		       round, budget_elapsed(&b), pmd_rounds, STORM_FOLIOS, st.remigrations);
	if (variant->thp)
		EXPECT_GT(pmd_rounds, 0)
			TH_LOG("no round had 2 MiB device folios: is THP available?");
	munmap(st.buf, st.len);
}

/* --- 4. A process exits or is killed in the middle of a migration --------- */

struct exit_shared {
	atomic_int started;	/* the migrating thread is in its loop */
	atomic_int in_ioctl;	/* ... and inside a migration now */
	atomic_int mid;		/* the exit() came while it was */
	unsigned int delay_us;
};

static void *exit_child_exiter(void *arg)
{
	struct exit_shared *sh = arg;

	while (!atomic_load(&sh->started))
		usleep(100);
	usleep(sh->delay_us);
	atomic_store(&sh->mid, atomic_load(&sh->in_ioctl));
	/* The whole process goes, the other thread in the middle of its ioctl. */
	exit(0);
	return NULL;
}

/*
 * The child: migrates @len bytes to the device and back in a loop, checking
 * the data each time; with @by_exit, its other thread calls exit() after
 * sh->delay_us.  Exit codes: 3 data differ, 4 an ioctl failed.
 */
static void exit_child(int fd, size_t len, int advice, bool by_exit,
		       struct exit_shared *sh)
{
	pthread_t th;
	__u64 moved;
	char *buf;
	int ret;

	buf = vramsim_map_aligned(len, advice);
	if (!buf)
		_exit(5);
	fill(buf, len, salt_of(4, getpid()));
	if (by_exit && pthread_create(&th, NULL, exit_child_exiter, sh))
		_exit(5);
	for (;;) {
		atomic_store(&sh->in_ioctl, 1);
		atomic_store(&sh->started, 1);
		ret = vs_migrate(fd, TO_DEV, buf, len, &moved);
		if (ret && ret != -EINTR)
			_exit(4);
		ret = vs_migrate(fd, TO_RAM, buf, len, &moved);
		if (ret && ret != -EINTR)
			_exit(4);
		atomic_store(&sh->in_ioctl, 0);
		if (check(buf, len, salt_of(4, getpid())) != -1)
			_exit(3);
	}
}

TEST_F_TIMEOUT(race, exit_while_migrating, RACE_TIMEOUT)
{
	unsigned long round, mid = 0, hangs = 0;
	struct vramsim_stats s;
	struct exit_shared *sh;
	unsigned int seed = 4;
	struct budget b;
	int status, ret;
	bool by_exit;
	pid_t pid;

	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(sh, NULL);

	budget_init(&b, 2, 40);
	for (round = 0; budget_more(&b, round); round++) {
		/* Kill and exit() by turns; the delay lands early or late in a walk. */
		by_exit = round & 1;
		memset(sh, 0, sizeof(*sh));
		sh->delay_us = pick_delay_us(&seed) * 16;
		pid = fork_helper();
		ASSERT_GE(pid, 0);
		if (!pid)
			exit_child(self->fd, SZ_32M, variant->advice, by_exit, sh);

		if (!by_exit) {
			while (!atomic_load(&sh->started) && !child_gone(pid))
				usleep(100);
			usleep(sh->delay_us);
			mid += atomic_load(&sh->in_ioctl);
			kill(pid, SIGKILL);
		}
		ret = reap(pid, &status, HANG_SECONDS);
		EXPECT_EQ(ret, 0)
			TH_LOG("round %lu: the child did not go within %d s (%s)", round,
			       HANG_SECONDS, by_exit ? "exit()" : "SIGKILL");
		if (ret) {
			hangs++;
			break;
		}
		if (by_exit) {
			mid += atomic_load(&sh->mid);
			EXPECT_TRUE(exited_ok(status))
				TH_LOG("round %lu: status %#x (3: bad data, 4: ioctl failed)",
				       round, status);
		} else {
			EXPECT_TRUE(killed_by(status, SIGKILL))
				TH_LOG("round %lu: status %#x (3: bad data, 4: ioctl failed)",
				       round, status);
		}
		/* Its device pages are all freed: the VRAM is whole again. */
		EXPECT_TRUE(wait_vram_idle(self->fd, &s))
			TH_LOG("round %lu: %llu of %llu bytes free, %llu live folios", round,
			       (unsigned long long)s.vram_free,
			       (unsigned long long)s.vram_size,
			       (unsigned long long)live_folios(&s));
		if (!exited_ok(status) && !killed_by(status, SIGKILL))
			break;
		if (s.vram_free != s.vram_size)
			break;
	}
	ksft_print_msg("%lu children in %.1f s, %lu of them gone in the middle of a migration\n",
		       round, budget_elapsed(&b), mid);
	EXPECT_EQ(hangs, 0);
	munmap(sh, sizeof(*sh));
}

/* --- 5. rmmod while the last process with device pages dies -------------- */

/*
 * delete_module(2), as rmmod(8) calls it.  While a module is referenced the
 * kernel says EWOULDBLOCK (rmmod prints "in use", the EBUSY of the docs);
 * EBUSY proper is a module already on its way out.
 */
static int delete_vramsim(void)
{
	return syscall(__NR_delete_module, "vramsim", O_NONBLOCK) ? -errno : 0;
}

/*
 * The child: 4 MiB of THP and 64 KiB of small pages in VRAM, through its
 * own file.  With @busy it keeps the file open and keeps migrating (and
 * checking) until it is killed; else it closes the file and waits.
 */
static void rmmod_child(bool busy, int ready)
{
	size_t len = 2 * SZ_2M + SZ_64K;
	__u64 salt = salt_of(5, getpid());
	__u64 moved;
	char *buf;
	int fd;
	char c;

	fd = vramsim_open_render_node();
	buf = vramsim_map_aligned(len, MADV_HUGEPAGE);
	if (fd < 0 || !buf)
		_exit(5);
	fill(buf, len, salt);
	c = !vs_migrate(fd, TO_DEV, buf, len, &moved) && moved == len ? 'y' : 'n';
	if (!busy)
		close(fd);
	if (write(ready, &c, 1) != 1)
		_exit(5);
	for (;;) {
		if (!busy) {
			pause();
			continue;
		}
		if (vs_migrate(fd, TO_RAM, buf, len, &moved) ||
		    vs_migrate(fd, TO_DEV, buf, len, &moved))
			_exit(4);
		/* Every word, faulting it all home for the next round trip. */
		if (check(buf, len, salt) != -1)
			_exit(3);
	}
}

/*
 * A fork's child exits while its parent moves the device memory they share
 * back to RAM, by MIGRATE_TO_RAM or by a CPU fault: the parent's migration
 * puts migration entries in both page tables (the folio is mapped in
 * both), and the child's exit zaps its own.  Zapping a PMD migration entry
 * of a device folio put the folio twice on 7.3 (patches/0001: refcount 0
 * in do_huge_pmd_device_private(), found by the stress run); until that
 * fix was in every kernel, vramsim_stress let a fork's child exit only
 * while its parent ran nothing else.  Each round: the buffer to the
 * device, fork, the child exits after a random delay of up to 2 ms (its
 * exit, whole, is the zap), the parent moves the buffer home and checks
 * it.  A round counts as overlapped when the child's exit began inside
 * the parent's migration; some must.  4 KiB folios race the same way in
 * an eighth of the buffer: the PTE walk is per page, and 8 MiB of them
 * made a round take 8 s on a debug guest (20 rounds are the minimum).
 */
struct fork_exit_shared {
	atomic_long exit_us;
};

TEST_F_TIMEOUT(race, fork_exit_vs_migrate, RACE_TIMEOUT)
{
	size_t len = variant->thp ? 4 * SZ_2M : SZ_1M;
	unsigned long round, overlapped = 0;
	struct fork_exit_shared *sh;
	unsigned int seed = 11;
	struct budget b;
	__u64 salt = salt_of(11, 0);
	int status;
	char *buf;

	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(sh, NULL);
	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, salt);

	budget_init(&b, 20, 400);
	for (round = 0; budget_more(&b, round); round++) {
		unsigned int delay = rand_r(&seed) % 2000;
		double t0, t1;
		__u64 moved;
		pid_t pid;
		long bad;

		ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
		ASSERT_EQ(moved, len);
		atomic_store(&sh->exit_us, 0);
		fflush(stdout);
		t0 = now_s();
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			usleep(delay);
			atomic_store(&sh->exit_us, now_s() * 1e6);
			_exit(0);
		}
		if (round & 1)
			EXPECT_EQ(vs_migrate(self->fd, TO_RAM, buf, len, &moved), 0);
		bad = check(buf, len, salt);
		t1 = now_s();
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		ASSERT_EQ(bad, -1) TH_LOG("round %lu: word %ld differs", round, bad);
		if (atomic_load(&sh->exit_us) > t0 * 1e6 &&
		    atomic_load(&sh->exit_us) < t1 * 1e6)
			overlapped++;
	}
	ksft_print_msg("%lu rounds in %.1f s, %lu with the child's exit in a migration\n",
		       round, budget_elapsed(&b), overlapped);
	EXPECT_GT(overlapped, 0) TH_LOG("no exit fell inside a migration: nothing was raced");
	munmap(buf, len);
}

TEST_F_TIMEOUT(race_proc, rmmod_vs_exit, RACE_TIMEOUT)
{
	unsigned long round, attempts = 0, busy_attempts;
	int ready[2], status, ret;
	double deadline;
	struct budget b;
	bool busy;
	pid_t pid;
	char c;

	/* Our own file would pin the module. */
	close(self->fd);
	self->fd = -1;

	budget_init(&b, 2, 20);
	for (round = 0; budget_more(&b, round); round++) {
		busy = round & 1;
		ASSERT_EQ(pipe(ready), 0);
		pid = fork_helper();
		ASSERT_GE(pid, 0);
		if (!pid) {
			close(ready[0]);
			rmmod_child(busy, ready[1]);
		}
		close(ready[1]);
		ASSERT_EQ(read(ready[0], &c, 1), 1);
		close(ready[0]);
		ASSERT_EQ(c, 'y') TH_LOG("round %lu: the child could not migrate", round);

		/* The child's device pages are freed while we try to unload. */
		kill(pid, SIGKILL);
		deadline = now_s() + HANG_SECONDS;
		busy_attempts = 0;
		while ((ret = delete_vramsim()) && now_s() < deadline) {
			EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY)
				TH_LOG("round %lu: delete_module: %s", round, strerror(-ret));
			if (ret != -EWOULDBLOCK && ret != -EBUSY)
				break;
			/* A hot loop at first, the likeliest to catch the last put. */
			if (++busy_attempts > 1000)
				usleep(1000);
		}
		attempts += busy_attempts + 1;
		EXPECT_EQ(ret, 0)
			TH_LOG("round %lu: vramsim not unloaded after %d s: %s", round,
			       HANG_SECONDS, strerror(-ret));
		EXPECT_EQ(reap(pid, &status, HANG_SECONDS), 0);
		EXPECT_TRUE(killed_by(status, SIGKILL))
			TH_LOG("round %lu: child status %#x (3: data differ, 4: ioctl failed)",
			       round, status);
		if (ret)
			break;
		EXPECT_NE(access("/sys/module/vramsim", F_OK), 0);
		ASSERT_EQ(modprobe_vramsim(self->size, self->prepare), 0);
	}
	ksft_print_msg("%lu unloads in %.1f s, %lu delete_module calls\n", round,
		       budget_elapsed(&b), attempts);

	self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0);
	EXPECT_TRUE(wait_vram_idle(self->fd, &self->s));
	EXPECT_EQ(self->s.vram_size, strtoull(self->size, NULL, 0));
}

/* --- 6. The debugfs bench next to users of the render node --------------- */

struct bench_shared {
	atomic_bool stop, resident;
	atomic_ulong writes, resident_writes;
	struct outcome o;
};

/* The bench process: both commands over and over, each must succeed. */
static void bench_child(struct bench_shared *sh)
{
	static const char * const cmds[] = { "0 512", "9 8" };
	bool resident;
	ssize_t n;
	int fd, i;

	while (!atomic_load(&sh->stop)) {
		for (i = 0; i < 2; i++) {
			resident = atomic_load(&sh->resident);
			fd = open(BENCH_PATH, O_WRONLY);
			if (fd < 0) {
				note_err(&sh->o, "open " BENCH_PATH, -errno);
				_exit(1);
			}
			n = write(fd, cmds[i], strlen(cmds[i]));
			if (n != (ssize_t)strlen(cmds[i]))
				note_err(&sh->o, cmds[i], n < 0 ? -errno : -EIO);
			close(fd);
			atomic_fetch_add(&sh->writes, 1);
			if (resident && atomic_load(&sh->resident))
				atomic_fetch_add(&sh->resident_writes, 1);
		}
	}
	_exit(0);
}

struct stats_poller {
	int fd;
	__u32 want;
	__u64 size;
	atomic_bool stop;
	unsigned long calls, queries, wrong;
	__u32 seen;
	struct outcome o;
};

/*
 * Another client of the device, asking all the time what it may while
 * the users migrate and the bench runs: QUERY (the device's size, its
 * free bytes, which device), and the debugfs stats, whose policy must
 * not change under it.
 */
static void *stats_thread(void *arg)
{
	struct stats_poller *p = arg;
	struct drm_vramsim_query q;
	struct vramsim_stats s;
	int ret;

	while (!atomic_load(&p->stop)) {
		ret = vs_query(p->fd, &q);
		if (ret)
			note_err(&p->o, "DRM_IOCTL_VRAMSIM_QUERY", ret);
		else if (q.vram_size != p->size || q.vram_free > q.vram_size ||
			 q.device || q.pad)
			note_err(&p->o, "QUERY: not the device's size, or more free than it",
				 -ERANGE);
		p->queries++;
		ret = vs_stats(p->fd, &s);
		if (ret)
			note_err(&p->o, "debugfs stats", ret);
		else if (s.prepare != p->want && !p->wrong++)
			p->seen = s.prepare;
		p->calls++;
	}
	return NULL;
}

TEST_F_TIMEOUT(race_proc, bench_vs_users, RACE_TIMEOUT)
{
	size_t len = 2 * SZ_2M + SZ_64K;
	struct stats_poller poll;
	struct bench_shared *sh;
	struct vramsim_stats s;
	unsigned long i, wrong = 0;
	char *buf, *resident = NULL;
	int status, ret, fd;
	struct outcome o;
	struct budget b;
	pthread_t th;
	__u64 moved;
	pid_t pid;

	ASSERT_EQ(access(BENCH_PATH, W_OK), 0) TH_LOG("no %s", BENCH_PATH);
	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(sh, NULL);
	outcome_init(&sh->o);
	memset(&poll, 0, sizeof(poll));
	outcome_init(&poll.o);
	outcome_init(&o);
	/* What the device's policy is, and must stay, for every user. */
	for (poll.want = 0; poll.want < 3; poll.want++)
		if (!strcmp(self->prepare, vramsim_prepare_name(poll.want)))
			break;
	ASSERT_LT(poll.want, 3) TH_LOG("prepare=%s: not a policy", self->prepare);
	poll.size = self->s.vram_size;
	/* A file of its own, as another client of the render node has. */
	poll.fd = vramsim_open_render_node();
	ASSERT_GE(poll.fd, 0);
	buf = vramsim_map_aligned(len, MADV_HUGEPAGE);
	ASSERT_NE(buf, NULL);

	pid = fork_helper();
	ASSERT_GE(pid, 0);
	if (!pid)
		bench_child(sh);
	ASSERT_EQ(pthread_create(&th, NULL, stats_thread, &poll), 0);

	/*
	 * Migrate, check, and look at the policy.  In the second half a
	 * buffer stays in VRAM, so the bench runs while the VRAM is in use.
	 */
	fd = self->fd;
	budget_init(&b, 2, 10000);
	for (i = 0; outcome_ok(&o) && !child_gone(pid) &&
	     (budget_more(&b, i) || atomic_load(&sh->writes) < 2 ||
	      !atomic_load(&sh->resident_writes)); i++) {
		__u64 salt = salt_of(6, i);

		if (!resident && (budget_elapsed(&b) * 2 > b.end - b.start || i * 2 > b.max)) {
			resident = vramsim_map_aligned(SZ_2M, MADV_HUGEPAGE);
			ASSERT_NE(resident, NULL);
			fill(resident, SZ_2M, salt_of(7, 0));
			ret = vs_migrate(fd, TO_DEV, resident, SZ_2M, &moved);
			EXPECT_EQ(ret, 0);
			EXPECT_EQ(moved, SZ_2M);
			atomic_store(&sh->resident, true);
		}
		fill(buf, len, salt);
		ret = vs_migrate(fd, TO_DEV, buf, len, &moved);
		if (ret)
			note_err(&o, "to the device", ret);
		else if (moved != len)
			note_err(&o, "to the device: moved != length", -ERANGE);
		ret = vs_stats(fd, &s);
		if (ret)
			note_err(&o, "debugfs stats", ret);
		else
			wrong += s.prepare != poll.want;
		if (i & 1) {
			ret = vs_migrate(fd, TO_RAM, buf, len, &moved);
			if (ret)
				note_err(&o, "to RAM", ret);
			else if (moved != len)
				note_err(&o, "to RAM: moved != length", -ERANGE);
		}
		check_noted(&o, "data", buf, 0, len, salt);
		atomic_fetch_add(&o.iters, 1);
	}
	atomic_store(&sh->stop, true);
	atomic_store(&poll.stop, true);
	pthread_join(th, NULL);
	EXPECT_EQ(reap(pid, &status, FINISH_SECONDS), 0);
	EXPECT_TRUE(exited_ok(status)) TH_LOG("bench process: status %#x", status);

	expect_outcome(_metadata, "user", &o);
	expect_outcome(_metadata, "stats thread", &poll.o);
	expect_outcome(_metadata, "bench process", &sh->o);
	EXPECT_EQ(poll.wrong + wrong, 0)
		TH_LOG("stats.prepare was %u, not %u (prepare=%s), in %lu of %lu stats reads",
		       poll.seen, poll.want, self->prepare, poll.wrong + wrong, poll.calls + i);
	if (resident) {
		EXPECT_EQ(check(resident, SZ_2M, salt_of(7, 0)), -1);
		munmap(resident, SZ_2M);
	}
	ksft_print_msg("%.1f s: %lu rounds, %lu stats, %lu QUERY, %lu bench writes (%lu in VRAM)\n",
		       budget_elapsed(&b), i, poll.calls + i, poll.queries,
		       atomic_load(&sh->writes), atomic_load(&sh->resident_writes));
	close(poll.fd);
	munmap(buf, len);
	munmap(sh, sizeof(*sh));
}

/* --- 7. The pieces of a split device folio freed from two CPUs at once ---- */

/*
 * A 2 MiB device folio with a 4 KiB hole unmapped at @hole: the rest is
 * PTE-mapped, and the first CPU fault on it splits the folio into 512
 * order-0 pieces of one block.  Two threads then unmap the two sides at
 * once: whichever frees the last piece returns the block, exactly once.
 */
struct split_race {
	pthread_barrier_t start, done;
	bool stop;
	struct split_half {
		char *addr;
		size_t len;
		__u64 salt;
		bool check;
		struct outcome o;
	} half[2];
};

struct split_arg {
	struct split_race *sr;
	int idx;
};

static void *split_thread(void *arg)
{
	struct split_arg *a = arg;
	struct split_race *sr = a->sr;
	struct split_half *h = &sr->half[a->idx];

	for (;;) {
		pthread_barrier_wait(&sr->start);
		if (sr->stop)
			break;
		/* Faulting the pieces home frees them one by one, racing the other side. */
		if (h->check)
			check_noted(&h->o, "read before munmap", h->addr, 0, h->len, h->salt);
		if (munmap(h->addr, h->len))
			note_err(&h->o, "munmap", -errno);
		atomic_fetch_add(&h->o.iters, 1);
		pthread_barrier_wait(&sr->done);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, split_free_race, RACE_TIMEOUT)
{
	unsigned long round, thp_rounds = 0, split_rounds = 0;
	struct vramsim_stats before, s;
	struct split_arg args[2];
	struct split_race sr;
	size_t hole, right;
	unsigned int seed;
	pthread_t th[2];
	struct budget b;
	bool ok = true;
	int i, mode, ret;
	__u64 moved;
	char *buf;

	memset(&sr, 0, sizeof(sr));
	ASSERT_EQ(pthread_barrier_init(&sr.start, NULL, 3), 0);
	ASSERT_EQ(pthread_barrier_init(&sr.done, NULL, 3), 0);
	for (i = 0; i < 2; i++) {
		outcome_init(&sr.half[i].o);
		args[i].sr = &sr;
		args[i].idx = i;
		ASSERT_EQ(pthread_create(&th[i], NULL, split_thread, &args[i]), 0);
	}

	budget_init(&b, 4, 1000);
	for (round = 0; ok && budget_more(&b, round); round++) {
		/*
		 * 0: split, both sides unmapped at once; 1: split, both read
		 * (pieces faulted home concurrently) then unmapped; 2: one
		 * side read, the other unmapped; 3: no split first (the
		 * PTE-mapped 2 MiB folio's last references go at once).
		 */
		mode = round % 4;
		seed = round * 2654435761U + 7;
		hole = (2 + rand_r(&seed) % 509) * SZ_4K;
		right = hole + SZ_4K;
		buf = vramsim_map_aligned(SZ_2M, variant->advice);
		ASSERT_NE(buf, NULL);
		sr.half[0].addr = buf;
		sr.half[0].len = hole;
		sr.half[0].salt = salt_of(8, round);
		sr.half[1].addr = buf + right;
		sr.half[1].len = SZ_2M - right;
		sr.half[1].salt = salt_of(9, round);
		sr.half[0].check = mode == 1 || mode == 2;
		sr.half[1].check = mode == 1;
		fill(buf, right, sr.half[0].salt);
		fill(buf + right, SZ_2M - right, sr.half[1].salt);

		ret = vs_migrate(self->fd, TO_DEV, buf, SZ_2M, &moved);
		EXPECT_EQ(ret, 0) TH_LOG("round %lu: %s", round, strerror(-ret));
		EXPECT_EQ(moved, SZ_2M);
		ASSERT_EQ(vs_stats(self->fd, &before), 0);
		if (before.live_folios[9] == 1)
			thp_rounds++;

		EXPECT_EQ(munmap(buf + hole, SZ_4K), 0);
		if (mode != 3) {
			/* A CPU fault on each side of the hole: the folio splits. */
			EXPECT_EQ(check_at(buf, hole - SZ_4K, SZ_4K, sr.half[0].salt), -1);
			EXPECT_EQ(check(buf + right, SZ_4K, sr.half[1].salt), -1);
		}
		ASSERT_EQ(vs_stats(self->fd, &s), 0);
		if (s.splits > before.splits)
			split_rounds++;
		if (before.live_folios[9] == 1 && mode != 3)
			EXPECT_GT(s.splits, before.splits)
				TH_LOG("round %lu: faults on a PTE-mapped device THP: no split",
				       round);

		pthread_barrier_wait(&sr.start);
		pthread_barrier_wait(&sr.done);
		ok = outcome_ok(&sr.half[0].o) && outcome_ok(&sr.half[1].o);

		/* Both sides gone: the block came back, once. */
		EXPECT_TRUE(wait_vram_idle(self->fd, &s))
			TH_LOG("round %lu mode %d: %llu of %llu free, %llu pending, %llu live",
			       round, mode, (unsigned long long)s.vram_free,
			       (unsigned long long)s.vram_size,
			       (unsigned long long)s.pending_frees,
			       (unsigned long long)live_folios(&s));
		if (s.vram_free != s.vram_size || live_folios(&s))
			ok = false;
	}
	sr.stop = true;
	pthread_barrier_wait(&sr.start);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		expect_outcome(_metadata, i ? "right side" : "left side", &sr.half[i].o);
	}
	ksft_print_msg("%lu rounds in %.1f s: %lu with a 2 MiB device folio, %lu split\n",
		       round, budget_elapsed(&b), thp_rounds, split_rounds);
	if (variant->thp)
		EXPECT_GT(split_rounds, 0)
			TH_LOG("no device folio was split: is THP available?");
}

/* --- 8. Two processes, two files, VRAM filling up --------------------------- */

/*
 * Two processes, each with its own file, move 48 MiB each into a 64 MiB
 * VRAM and back, at the same time.  Bytes each has in VRAM are published
 * after its move to the device returns and withdrawn before anything
 * leaves, so the published sum is never above what is really there: it
 * must never pass the VRAM's size.
 */
struct two_shared {
	atomic_bool go, stop;
	double end;		/* no new round after this, once one is done */
	atomic_ullong on_device;
	__u64 vram_size;
	struct two_proc {
		struct outcome o;
		unsigned long partial, enospc, over;
		__u64 over_sum, max_sum;
		double slowest;
	} p[2];
};

static void two_child(struct two_shared *sh, int idx, int advice)
{
	struct two_proc *me = &sh->p[idx];
	__u64 moved, back, sum, salt;
	unsigned int seed = idx + 1;
	struct drm_vramsim_query q;
	unsigned long round;
	char *buf;
	int fd, ret;

	fd = vramsim_open_render_node();
	buf = vramsim_map_aligned(SZ_48M, advice);
	if (fd < 0 || !buf) {
		note_err(&me->o, "open or mmap", -ENODEV);
		_exit(1);
	}
	while (!atomic_load(&sh->go))
		usleep(100);
	/* A round takes minutes with 4 KiB folios on a debug guest: one may do. */
	for (round = 0; !atomic_load(&sh->stop) && (!round || now_s() < sh->end); round++) {
		double t0 = now_s();

		salt = salt_of(10 + idx, round);
		fill(buf, SZ_48M, salt);
		ret = vs_migrate(fd, TO_DEV, buf, SZ_48M, &moved);
		if (ret == -ENOSPC && !moved) {
			me->enospc++;
		} else if (ret) {
			note_err(&me->o, "to the device", ret);
			break;
		}
		if (moved < SZ_48M)
			me->partial++;
		sum = atomic_fetch_add(&sh->on_device, moved) + moved;
		if (sum > me->max_sum)
			me->max_sum = sum;
		if (sum > sh->vram_size && !me->over++)
			me->over_sum = sum;
		/* Our own bytes at least are allocated in the buddy. */
		ret = vs_query(fd, &q);
		if (ret)
			note_err(&me->o, "DRM_IOCTL_VRAMSIM_QUERY", ret);
		else if (q.vram_size - q.vram_free < moved)
			note_err(&me->o, "query: less VRAM in use than moved", -ERANGE);
		/* Held a while, for the other's moves to overlap; withdrawn before leaving. */
		usleep(rand_r(&seed) % 4000);
		atomic_fetch_sub(&sh->on_device, moved);
		if (round & 1) {
			/* Back by CPU faults; nothing is left for the ioctl then. */
			if (!check_noted(&me->o, "data (faulted home)", buf, 0, SZ_48M, salt))
				break;
			ret = vs_migrate(fd, TO_RAM, buf, SZ_48M, &back);
			if (ret || back)
				note_err(&me->o, "to RAM after the faults", ret ?: -ERANGE);
		} else {
			ret = vs_migrate(fd, TO_RAM, buf, SZ_48M, &back);
			if (ret || back != moved)
				note_err(&me->o, "to RAM: not what went to the device",
					 ret ?: -ERANGE);
			check_noted(&me->o, "data (migrated home)", buf, 0, SZ_48M, salt);
		}
		atomic_fetch_add(&me->o.iters, 1);
		if (now_s() - t0 > me->slowest)
			me->slowest = now_s() - t0;
		if (!outcome_ok(&me->o))
			break;
	}
	_exit(outcome_ok(&me->o) ? 0 : 1);
}

TEST_F_TIMEOUT(race, two_fds_two_processes, RACE_TIMEOUT)
{
	struct two_shared *sh;
	unsigned long least;
	int i, status[2];
	bool gone;
	struct budget b;
	pid_t pid[2];
	char who[16], evict[8];

	ASSERT_EQ(self->s.vram_size, 64UL << 20)
		TH_LOG("sized for vram_size=64M (two users of 48M must not both fit)");
	/* What fits moves, the rest stays: evict=on is vramsim_evict_test's. */
	ASSERT_EQ(read_param("evict", evict, sizeof(evict)), 0);
	ASSERT_EQ(vramsim_reload_evict(&self->fd, "off"), 0);
	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(sh, NULL);
	sh->vram_size = self->s.vram_size;
	for (i = 0; i < 2; i++) {
		outcome_init(&sh->p[i].o);
		pid[i] = fork_helper();
		ASSERT_GE(pid[i], 0);
		if (!pid[i])
			two_child(sh, i, variant->advice);
	}
	budget_init(&b, 1, 100);
	sh->end = b.end;
	atomic_store(&sh->go, true);

	do {
		usleep(20000);
		least = atomic_load(&sh->p[0].o.iters);
		if (atomic_load(&sh->p[1].o.iters) < least)
			least = atomic_load(&sh->p[1].o.iters);
		/* One that is done (its time is up, or it failed) ends the race. */
		gone = child_gone(pid[0]) || child_gone(pid[1]);
	} while (!gone && budget_more(&b, least));
	atomic_store(&sh->stop, true);

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(reap(pid[i], &status[i], FINISH_SECONDS), 0);
		snprintf(who, sizeof(who), "process %d", i + 1);
		expect_outcome(_metadata, who, &sh->p[i].o);
		EXPECT_TRUE(exited_ok(status[i])) TH_LOG("%s: status %#x", who, status[i]);
		EXPECT_EQ(sh->p[i].over, 0)
			TH_LOG("%s: %llu bytes in a %llu-byte VRAM (%lu times)", who,
			       (unsigned long long)sh->p[i].over_sum,
			       (unsigned long long)sh->vram_size, sh->p[i].over);
	}
	for (i = 0; i < 2; i++)
		ksft_print_msg("process %d: %lu rounds (%.1f s max), %lu partial, %lu ENOSPC\n",
			       i + 1, atomic_load(&sh->p[i].o.iters), sh->p[i].slowest,
			       sh->p[i].partial, sh->p[i].enospc);
	ksft_print_msg("%.1f s, at most %llu MiB in VRAM by the published counts\n",
		       budget_elapsed(&b),
		       (unsigned long long)(sh->p[0].max_sum > sh->p[1].max_sum ?
					    sh->p[0].max_sum : sh->p[1].max_sum) >> 20);
	munmap(sh, sizeof(*sh));
	ASSERT_TRUE(wait_vram_idle(self->fd, &self->s));
	ASSERT_EQ(vramsim_reload_evict(&self->fd, evict[0] == 'Y' ? "on" : "off"), 0);
}

TEST_HARNESS_MAIN
