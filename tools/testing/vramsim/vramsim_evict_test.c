// SPDX-License-Identifier: GPL-2.0
/*
 * Eviction and teardown by eviction, run in the guest with the module
 * loaded with evict=on (the default) on a small VRAM (make test: 8 MiB):
 *
 *   oversubscribe      the VRAM full of one buffer, a second of twice its
 *                      size to the device: the first goes back to RAM (as
 *                      THPs where it was THPs), the second moves as far as
 *                      the VRAM holds, every byte of both intact
 *   readers            one thread keeps pushing 1.5x the VRAM to the
 *                      device while another keeps checking (and rewriting)
 *                      its own buffer, evicted and faulted back in turn
 *   two_processes      two processes, each pushing 3/4 of the VRAM,
 *                      evicting each other's memory, every byte checked
 *   munmap_during_eviction, exit_during_eviction
 *                      the owner of the memory an eviction is moving
 *                      munmaps it or exits while the eviction holds it
 *                      unmapped (debugfs evict_hold_ms): its anon_vma
 *                      must outlive the eviction (patches/0003)
 *   evict_off          reloaded with evict=off: the old "move what fits"
 *   unload             rmmod with device pages mapped by a process that
 *                      closed the file: the module goes, the data stay
 *   unload_vs_faults   the same while the process's threads fault its
 *                      device pages back and write them
 *   unload_without_thp_ram  unload with no 2 MiB of RAM to be had: device
 *                      THPs go as 4 KiB pages (patches/0004)
 *   oversubscribe_without_thp_ram  oversubscribe, no 2 MiB of RAM, the
 *                      old buffer shared with a fork child: evicted as
 *                      4 KiB pages, split in both processes
 *
 * Each test leaves the VRAM whole: every block back in the buddy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest_harness.h"

#define TO_DEV	VRAMSIM_TO_DEV
#define TO_RAM	VRAMSIM_TO_RAM

#define EVICT_TIMEOUT	600

#define SZ_4K	(4UL << 10)
#define SZ_64K	(64UL << 10)
#define SZ_2M	(2UL << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int reload(const char *params)
{
	char cmd[160];

	if (system("rmmod vramsim"))
		return -1;
	snprintf(cmd, sizeof(cmd), "modprobe vramsim %s", params);
	return system(cmd);
}

FIXTURE(evict) {
	int fd;
	struct vramsim_stats s;
	char size[32], prepare[16];
};

FIXTURE_VARIANT(evict) {
	int advice;
};

FIXTURE_VARIANT_ADD(evict, thp) {
	.advice = MADV_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(evict, nothp) {
	.advice = MADV_NOHUGEPAGE,
};

FIXTURE_SETUP(evict)
{
	char on[8];

	ASSERT_EQ(read_param("vram_size", self->size, sizeof(self->size)), 0)
		TH_LOG("vramsim is not loaded");
	ASSERT_EQ(read_param("prepare", self->prepare, sizeof(self->prepare)), 0);
	ASSERT_EQ(read_param("evict", on, sizeof(on)), 0);
	ASSERT_EQ(on[0], 'Y') TH_LOG("load vramsim with evict=on for these tests");
	self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0);
	ASSERT_TRUE(wait_vram_idle(self->fd, &self->s));
}

FIXTURE_TEARDOWN(evict)
{
	struct vramsim_stats s;
	char cmd[128];

	/* A test that holds evictions and failed half way: let them go. */
	if (self->fd >= 0)
		vs_set_evict_hold(self->fd, 0);
	/* One that failed with fail_page_alloc armed: let RAM be had. */
	vs_fpa_restore();

	/* A test that unloads the module and failed half way: put it back. */
	if (access("/sys/module/vramsim", F_OK)) {
		snprintf(cmd, sizeof(cmd), "modprobe vramsim vram_size=%s prepare=%s",
			 self->size, self->prepare);
		EXPECT_EQ(system(cmd), 0);
	}
	if (self->fd < 0)
		self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0);
	EXPECT_TRUE(wait_vram_idle(self->fd, &s))
		TH_LOG("leak: %llu of %llu bytes free, %llu live folios",
		       (unsigned long long)s.vram_free,
		       (unsigned long long)s.vram_size,
		       (unsigned long long)live_folios(&s));
	close(self->fd);
}

/*
 * The buffers of the oversubscribe tests: @old, the VRAM's size, filled
 * with @salt and moved to the device (*@moved says how much), and @buf,
 * twice that, filled with @salt + 1, in RAM.  0 or -errno.
 */
static int oversubscribe_buffers(int fd, size_t vram, int advice, __u64 salt,
				 char **old, char **buf, __u64 *moved)
{
	*old = vramsim_map_aligned(vram, advice);
	*buf = vramsim_map_aligned(2 * vram, advice);
	if (!*old || !*buf)
		return -ENOMEM;
	fill(*old, vram, salt);
	fill(*buf, 2 * vram, salt + 1);
	return vs_migrate(fd, TO_DEV, *old, vram, moved);
}

/*
 * Old data out, new data in.  The VRAM full of an older buffer, a second
 * one of twice the VRAM goes to the device: the older one is evicted whole
 * (to RAM, as THPs where it was THPs), the newer one moves as far as the
 * VRAM holds and not further: a migration does not evict what it has just
 * moved in.  Every byte of both reads back.
 */
TEST_F_TIMEOUT(evict, oversubscribe, EVICT_TIMEOUT)
{
	size_t vram = self->s.vram_size, len = 2 * vram;
	struct vramsim_stats s, mid;
	__u64 moved = 0;
	char *old, *buf;

	ASSERT_EQ(oversubscribe_buffers(self->fd, vram, variant->advice, 20,
					&old, &buf, &moved), 0);
	EXPECT_EQ(moved, vram);
	ASSERT_EQ(vs_stats(self->fd, &mid), 0);
	EXPECT_EQ(mid.evictions, self->s.evictions);

	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	EXPECT_EQ(moved, vram);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_EQ(s.evicted_bytes - mid.evicted_bytes, vram);
	EXPECT_EQ(s.evict_skipped, mid.evict_skipped);

	/* The old buffer is in RAM, the new one's first half in VRAM. */
	EXPECT_FALSE(on_device(old));
	EXPECT_FALSE(on_device(old + vram - SZ_4K));
	if (variant->advice == MADV_HUGEPAGE)
		EXPECT_TRUE(in_thp(old)) TH_LOG("an evicted device THP came back as small pages");
	EXPECT_TRUE(on_device(buf));
	EXPECT_TRUE(on_device(buf + vram - SZ_4K));
	EXPECT_FALSE(on_device(buf + vram));

	EXPECT_EQ(check(old, vram, 20), -1);
	EXPECT_EQ(check(buf, len, 21), -1);
	/* The reads faulted everything home. */
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_EQ(live_folios(&s), 0);
	munmap(old, vram);
	munmap(buf, len);
}

/*
 * oversubscribe with no 2 MiB of RAM to be had (fail_page_alloc at order
 * 9 stands in for fragmented RAM), and the old buffer shared with a child
 * (fork): each device THP of it is mapped by a PMD in two processes.
 * Eviction moves such a THP to 512 pages, and the core splits the folio
 * and both PMDs (patches/0004; on 7.3 it stayed in VRAM, and the new
 * buffer found no room).  The new buffer moves as before; every byte of
 * the old one reads back in both processes, and stays each one's own.
 */
TEST_F_TIMEOUT(evict, oversubscribe_without_thp_ram, EVICT_TIMEOUT)
{
	bool thp = variant->advice == MADV_HUGEPAGE;
	size_t vram = self->s.vram_size, len = 2 * vram;
	int ready[2], go[2], status, err;
	struct vramsim_stats s, mid;
	__u64 moved = 0;
	char *old, *buf, c;
	pid_t pid;

	if (!vs_fpa_available(false))
		SKIP(return, "no fail_page_alloc in debugfs (CONFIG_FAIL_PAGE_ALLOC)");
	ASSERT_EQ(oversubscribe_buffers(self->fd, vram, variant->advice, 22,
					&old, &buf, &moved), 0);
	EXPECT_EQ(moved, vram);

	/* The child maps the old buffer's device folios too. */
	pid = vs_fork_paired(ready, go);
	ASSERT_GE(pid, 0);
	if (!pid) {
		int ret;

		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		ret = check(old, vram, 22) == -1 ? 0 : 4;
		fill(old, vram, 24);
		_exit(ret ?: check(old, vram, 24) == -1 ? 0 : 4);
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ASSERT_EQ(vs_stats(self->fd, &mid), 0);

	ASSERT_EQ(vs_fpa_fail(9, false), 0);
	moved = 0;
	err = vs_migrate(self->fd, TO_DEV, buf, len, &moved);
	vs_fpa_restore();
	EXPECT_EQ(err, 0);
	EXPECT_EQ(moved, vram);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_EQ(s.evicted_bytes - mid.evicted_bytes, vram);
	EXPECT_EQ(s.evict_no_ram, mid.evict_no_ram);
	/* Every device THP of the old buffer went as 512 pages. */
	EXPECT_EQ(s.evict_split - mid.evict_split, thp ? vram / SZ_2M : 0);
	EXPECT_FALSE(on_device(old));
	EXPECT_FALSE(on_device(old + vram - SZ_4K));

	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x (4: its data differ)", status);
	close(ready[0]);
	close(go[1]);
	EXPECT_EQ(check(old, vram, 22), -1);
	EXPECT_EQ(check(buf, len, 23), -1);
	munmap(old, vram);
	munmap(buf, len);
}

struct reader {
	char *buf;
	size_t len;
	atomic_bool stop;
	atomic_ulong rounds, errors;
};

/* Check the buffer, then write it again with the next salt. */
static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	__u64 salt = 100;

	while (!atomic_load(&r->stop)) {
		if (check(r->buf, r->len, salt) != -1)
			atomic_fetch_add(&r->errors, 1);
		fill(r->buf, r->len, ++salt);
		atomic_fetch_add(&r->rounds, 1);
	}
	return NULL;
}

/*
 * A thread keeps pushing 1.5x the VRAM to the device (as much as fits)
 * while another checks and rewrites its own buffer, half the VRAM, which
 * is migrated too, once per round, just before: the push evicts what the
 * reader has not faulted back yet, and a quarter of the VRAM that nobody
 * touches during the round, which it evicts for sure.
 */
#define READERS_ROUNDS	4

TEST_F_TIMEOUT(evict, readers, EVICT_TIMEOUT)
{
	size_t len = self->s.vram_size + self->s.vram_size / 2;
	size_t qlen = self->s.vram_size / 4;
	struct reader r = { .len = self->s.vram_size / 2 };
	struct vramsim_stats s, prev;
	unsigned int evicted = 0;
	char *buf, *quiet;
	pthread_t th;
	__u64 moved;
	int i;

	buf = vramsim_map_aligned(len, variant->advice);
	quiet = vramsim_map_aligned(qlen, variant->advice);
	r.buf = vramsim_map_aligned(r.len, variant->advice);
	ASSERT_NE(buf, NULL);
	ASSERT_NE(quiet, NULL);
	ASSERT_NE(r.buf, NULL);
	fill(buf, len, 22);
	fill(quiet, qlen, 23);
	fill(r.buf, r.len, 100);
	ASSERT_EQ(pthread_create(&th, NULL, reader_fn, &r), 0);

	/* Four rounds: 38 s of nothp's on the debug kernel took six. */
	for (i = 0; i < READERS_ROUNDS; i++) {
		ASSERT_EQ(vs_stats(self->fd, &prev), 0);
		EXPECT_EQ(vs_migrate(self->fd, TO_DEV, quiet, qlen, &moved), 0);
		EXPECT_EQ(vs_migrate(self->fd, TO_DEV, r.buf, r.len, &moved), 0);
		EXPECT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
		ASSERT_EQ(vs_stats(self->fd, &s), 0);
		evicted += s.evicted_bytes - prev.evicted_bytes >= qlen;
		EXPECT_FALSE(on_device(quiet)) TH_LOG("round %d: the oldest data not evicted", i);
		EXPECT_EQ(check(quiet, qlen, 23), -1);
		EXPECT_EQ(check(buf, len, 22), -1);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ksft_print_msg("%lu reader rounds\n", atomic_load(&r.rounds));
	EXPECT_EQ(atomic_load(&r.errors), 0);
	EXPECT_GT(atomic_load(&r.rounds), 0);
	EXPECT_EQ(evicted, READERS_ROUNDS);
	munmap(buf, len);
	munmap(quiet, qlen);
	munmap(r.buf, r.len);
}

/*
 * One of two_processes' processes: 3/4 of the VRAM, brought home, written
 * anew and pushed, four times.  Two of them do not fit: each push evicts
 * the other's data.  All of a push moves but for what the other holds
 * locked at that moment (one 2 MiB migration window at most); every byte
 * is checked.
 */
static int pusher(int fd, size_t vram, int advice, __u64 salt)
{
	size_t len = vram / 4 * 3, off;
	__u64 moved = 0, back;
	char *buf;
	int i;

	buf = vramsim_map_aligned(len, advice);
	if (!buf)
		return 2;
	for (i = 0; i < 4; i++, salt += 2) {
		int ret = vs_migrate(fd, TO_RAM, buf, len, &back);

		fill(buf, len, salt);
		if (!ret)
			ret = vs_migrate(fd, TO_DEV, buf, len, &moved);
		if (ret || moved + SZ_2M < len) {
			fprintf(stderr, "# salt %llu: round %d: %s, moved %llu of %zu\n",
				(unsigned long long)salt, i, strerror(-ret),
				(unsigned long long)moved, len);
			return 3;
		}
		/* 2 MiB somewhere: some of it in VRAM, some evicted. */
		off = (size_t)(i * 7 + salt) % (len / SZ_2M) * SZ_2M;
		if (check_at(buf, off, SZ_2M, salt) != -1)
			return 4;
	}
	if (check(buf, len, salt - 2) != -1)
		return 4;
	munmap(buf, len);
	return 0;
}

TEST_F_TIMEOUT(evict, two_processes, EVICT_TIMEOUT)
{
	struct vramsim_stats s;
	int status[2], i;
	pid_t pid[2];

	for (i = 0; i < 2; i++) {
		fflush(stdout);
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(pusher(self->fd, self->s.vram_size, variant->advice,
				     31 + i));
		}
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(waitpid(pid[i], &status[i], 0), pid[i]);
		EXPECT_TRUE(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0)
			TH_LOG("process %d: status %#x (3: did not move all, 4: data differ)",
			       i, status[i]);
	}
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_GT(s.evictions, self->s.evictions);
}

/*
 * Eviction migrates by pfn, with no mmap lock: between unmapping a folio
 * (try_to_migrate()) and removing its migration entries, only a reference
 * the core takes keeps the folio's anon_vma alive, and 7.3 takes none.  A
 * child fills the VRAM and, once the parent's migration evicts the child's
 * oldest block, munmaps its buffer or exits; debugfs evict_hold_ms holds
 * the eviction in that window long enough for the munmap or exit, and an
 * RCU grace period after it, to finish.  Without patches/0003, KASAN
 * reports a slab-use-after-free in rmap_walk_anon(): remove_migration_ptes()
 * walks the anon_vma that unlink_anon_vmas() freed.  A round counts as
 * aimed when the child's munmap (or the start of its exit) fell inside the
 * parent's migration; most rounds must.
 */
#define UNMAP_ROUNDS	4
#define UNMAP_HOLD_MS	150

/* The child: fill the VRAM, say so, wait for "go", let it all go. */
static int unmap_child(int fd, size_t vram, int advice, bool by_exit,
		       int ready, int go, atomic_long *gone)
{
	char *buf = vramsim_map_aligned(vram, advice);
	__u64 moved = 0;
	char c;

	if (!buf)
		return 2;
	fill(buf, vram, 40);
	if (vs_migrate(fd, TO_DEV, buf, vram, &moved) || moved != vram)
		return 3;
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	/* Into the hold: after the eviction unmapped, before it moves. */
	usleep(UNMAP_HOLD_MS * 1000 / 3);
	if (by_exit) {
		atomic_store(gone, now_s() * 1e6);
		return 0;
	}
	munmap(buf, vram);
	atomic_store(gone, now_s() * 1e6);
	return 0;
}

static void unmap_during_eviction(struct __test_metadata *_metadata, int fd,
				  size_t vram, int advice, bool by_exit)
{
	size_t len = advice == MADV_HUGEPAGE ? SZ_2M : SZ_4K;
	unsigned long taint = kernel_taint();
	int round, aimed = 0;
	atomic_long *gone;
	struct vramsim_stats s0, s;

	gone = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(gone, MAP_FAILED);
	ASSERT_EQ(vs_set_evict_hold(fd, UNMAP_HOLD_MS), 0)
		TH_LOG("debugfs evict_hold_ms: this vramsim cannot hold an eviction");

	for (round = 0; round < UNMAP_ROUNDS; round++) {
		int ready[2], go[2], status;
		double t0, t1;
		__u64 moved = 0;
		char *buf, c;
		pid_t pid;

		buf = vramsim_map_aligned(len, advice);
		ASSERT_NE(buf, NULL);
		fill(buf, len, 41 + round);
		atomic_store(gone, 0);
		pid = vs_fork_paired(ready, go);
		ASSERT_GE(pid, 0);
		if (!pid)
			_exit(unmap_child(fd, vram, advice, by_exit, ready[1],
					  go[0], gone));
		ASSERT_EQ(read(ready[0], &c, 1), 1) {
			waitpid(pid, &status, 0);
			TH_LOG("child status %#x (3: its buffer did not fit)", status);
		}
		ASSERT_EQ(vs_stats(fd, &s0), 0);

		/* The VRAM is full: this evicts the child's oldest block. */
		t0 = now_s();
		ASSERT_EQ(write(go[1], "g", 1), 1);
		ASSERT_EQ(vs_migrate(fd, TO_DEV, buf, len, &moved), 0);
		t1 = now_s();
		EXPECT_EQ(moved, len);

		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child status %#x (3: its buffer did not fit)",
			       status);
		ASSERT_EQ(vs_stats(fd, &s), 0);
		/* Microseconds: when the child had unmapped, or began to exit. */
		if (atomic_load(gone) > t0 * 1e6 && atomic_load(gone) < t1 * 1e6 &&
		    s.evictions > s0.evictions)
			aimed++;
		EXPECT_EQ(check(buf, len, 41 + round), -1);
		munmap(buf, len);
		close(ready[0]);
		close(go[1]);
	}
	EXPECT_EQ(vs_set_evict_hold(fd, 0), 0);
	munmap((void *)gone, SZ_4K);

	ksft_print_msg("%d of %d rounds %s inside an eviction\n", aimed,
		       UNMAP_ROUNDS, by_exit ? "exited" : "unmapped");
	EXPECT_GE(aimed, UNMAP_ROUNDS / 2)
		TH_LOG("the test missed the window: it proves nothing");
	EXPECT_EQ(kernel_taint() & ~taint & VRAMSIM_TAINT_SPLAT, 0)
		TH_LOG("the kernel tainted itself (KASAN, WARN or oops): see dmesg");
}

TEST_F_TIMEOUT(evict, munmap_during_eviction, EVICT_TIMEOUT)
{
	unmap_during_eviction(_metadata, self->fd, self->s.vram_size,
			      variant->advice, false);
}

TEST_F_TIMEOUT(evict, exit_during_eviction, EVICT_TIMEOUT)
{
	unmap_during_eviction(_metadata, self->fd, self->s.vram_size,
			      variant->advice, true);
}

/* evict=off: what does not fit stays in RAM, and a full VRAM says ENOSPC. */
TEST_F_TIMEOUT(evict, evict_off, EVICT_TIMEOUT)
{
	size_t len = self->s.vram_size + 2 * SZ_2M;
	struct vramsim_stats s;
	char params[96];
	__u64 moved;
	char *buf;

	close(self->fd);
	snprintf(params, sizeof(params), "vram_size=%s prepare=%s evict=off",
		 self->size, self->prepare);
	ASSERT_EQ(reload(params), 0);
	self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0);

	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 23);
	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	EXPECT_EQ(moved, self->s.vram_size);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_EQ(s.evictions, 0);
	EXPECT_EQ(vs_migrate(self->fd, TO_DEV, buf + len - SZ_64K, SZ_64K, &moved), -ENOSPC);
	EXPECT_EQ(check(buf, len, 23), -1);
	munmap(buf, len);

	ASSERT_TRUE(wait_vram_idle(self->fd, &s));
	close(self->fd);
	snprintf(params, sizeof(params), "vram_size=%s prepare=%s",
		 self->size, self->prepare);
	ASSERT_EQ(reload(params), 0);
	self->fd = vramsim_open_render_node();
}

struct toucher {
	char *buf;
	size_t len;
	atomic_bool stop;
	atomic_ulong errors;
	unsigned long rounds;
	int idx;
};

/*
 * The first word of every 4 KiB page of the thread's half: round r checks
 * the value round r - 1 wrote and writes a new one, so a write lost while
 * the page moved (a fault racing the eviction) shows.
 */
static __u64 touch_value(size_t off, unsigned long round)
{
	return (off ^ 41) + round;
}

static void *toucher_fn(void *arg)
{
	struct toucher *t = arg;
	size_t half = t->len / 2, first = t->idx * half, off;
	__u64 *w;

	do {
		for (off = first; off < first + half; off += SZ_4K) {
			w = (__u64 *)(t->buf + off);
			if (*w != touch_value(off, t->rounds))
				atomic_fetch_add(&t->errors, 1);
			*w = touch_value(off, t->rounds + 1);
		}
		t->rounds++;
	} while (!atomic_load(&t->stop));
	return NULL;
}

/*
 * The child of the unload tests: 2 THPs' worth and 64 KiB of small pages
 * in VRAM through its own file, which it closes, so that nothing but its
 * device pages ties it to the module.  With @threads, once told that
 * rmmod has started, two threads fault the pages back and write them
 * while the module goes.  Once told it has gone, it checks every byte and
 * that none of it is on a device any more.
 */
static int teardown_child(int advice, bool threads, int ready, int go)
{
	size_t len = 2 * SZ_2M + SZ_64K, off;
	struct toucher t[2] = { 0 };
	pthread_t th[2];
	__u64 moved;
	char *buf, c;
	int fd, i;

	fd = vramsim_open_render_node();
	buf = vramsim_map_aligned(len, advice);
	if (fd < 0 || !buf)
		return 2;
	fill(buf, len, 41);
	if (vs_migrate(fd, TO_DEV, buf, len, &moved) || moved != len)
		return 3;
	close(fd);
	c = 'y';
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	for (i = 0; threads && i < 2; i++) {
		t[i].buf = buf;
		t[i].len = len;
		t[i].idx = i;
		if (pthread_create(&th[i], NULL, toucher_fn, &t[i]))
			return 2;
	}
	if (read(go, &c, 1) != 1)
		return 2;
	for (i = 0; threads && i < 2; i++) {
		atomic_store(&t[i].stop, true);
		pthread_join(th[i], NULL);
		if (atomic_load(&t[i].errors))
			return 4;
	}
	for (off = 0; off < len; off += SZ_4K) {
		__u64 want = threads ? touch_value(off, t[off >= len / 2].rounds) : off ^ 41;

		if (*(__u64 *)(buf + off) != want ||
		    check_at(buf, off + 8, SZ_4K - 8, 41) != -1)
			return 4;
		if (on_device(buf + off))
			return 5;
	}
	return 0;
}

/* rmmod in a process of its own: returns its pid. */
static pid_t start_rmmod(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		execlp("rmmod", "rmmod", "vramsim", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void teardown_test(struct __test_metadata *_metadata, int *fd,
			  int advice, bool threads, bool no_thp_ram)
{
	int ready[2], go[2], status;
	struct vramsim_stats s;
	pid_t pid, rmmod, done;
	double t0;
	char c;

	if (no_thp_ram && !vs_fpa_available(false))
		SKIP(return, "no fail_page_alloc in debugfs (CONFIG_FAIL_PAGE_ALLOC)");

	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(go), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(*fd);
		_exit(teardown_child(advice, threads, ready[1], go[0]));
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	/* What the module must evict: 2 device THPs, or 1040 pages. */
	ASSERT_EQ(vs_stats(*fd, &s), 0);
	EXPECT_EQ(s.live_folios[VRAMSIM_NR_ORDERS - 1], advice == MADV_HUGEPAGE ? 2 : 0);
	close(*fd);
	*fd = -1;

	/* Device pages mapped, no file open: the module must go. */
	if (no_thp_ram)
		ASSERT_EQ(vs_fpa_fail(9, false), 0);
	t0 = now_s();
	rmmod = start_rmmod();
	ASSERT_GE(rmmod, 0);
	/* The child's threads start faulting while the module goes. */
	EXPECT_EQ(write(go[1], "g", 1), 1);
	/*
	 * With no 2 MiB of RAM, rmmod hung on 7.3: give it a minute, then
	 * let RAM be had again (it then goes), and fail.
	 */
	done = 0;
	while (!done && now_s() - t0 < (no_thp_ram ? 60 : 500)) {
		done = waitpid(rmmod, &status, WNOHANG);
		if (!done)
			usleep(100000);
	}
	vs_fpa_restore();
	EXPECT_EQ(done, rmmod) TH_LOG("rmmod still waits after %.0f s", now_s() - t0);
	if (done != rmmod)
		ASSERT_EQ(waitpid(rmmod, &status, 0), rmmod);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("rmmod: status %#x", status);
	ksft_print_msg("rmmod took %.2f s\n", now_s() - t0);
	EXPECT_NE(access("/sys/module/vramsim", F_OK), 0);

	ASSERT_EQ(write(go[1], "s", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x (4: data or a write lost, 5: a page left in VRAM)",
		       status);
	/* The teardown puts the module back. */
}

TEST_F_TIMEOUT(evict, unload, EVICT_TIMEOUT)
{
	teardown_test(_metadata, &self->fd, variant->advice, false, false);
}

TEST_F_TIMEOUT(evict, unload_vs_faults, EVICT_TIMEOUT)
{
	teardown_test(_metadata, &self->fd, variant->advice, true, false);
}

/*
 * rmmod with device THPs mapped and no 2 MiB of RAM to be had: module
 * exit cannot fail, and on 7.3 it waited for RAM for ever (a device THP
 * evicted by pfn moved only whole).  With patches/0004 the THPs go as
 * 4 KiB pages: rmmod returns, every byte in RAM.
 */
TEST_F_TIMEOUT(evict, unload_without_thp_ram, EVICT_TIMEOUT)
{
	teardown_test(_metadata, &self->fd, variant->advice, false, true);
}

TEST_HARNESS_MAIN
