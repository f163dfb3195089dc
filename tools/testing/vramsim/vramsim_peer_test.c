// SPDX-License-Identifier: GPL-2.0
/*
 * Several devices (module parameter num_devices), run in the guest with
 * two devices of a few MiB each (make test: 16 MiB):
 *
 *   ping_pong          a buffer moves from device to device and back,
 *                      directly (peer_bytes), 2 MiB folios whole
 *   ping_pong_readers  the same while two threads keep reading half of
 *                      it, faulting pages home under the migrations
 *   to_ram_per_device  MIGRATE_TO_RAM on a device brings back its own
 *                      pages only
 *   peer_evicts        a full device takes a peer's buffer: it evicts its
 *                      own oldest data to RAM, never the peer's
 *   unplug_holder      device 1 removed (num_devices=1) while it holds one
 *                      buffer and device 0 another: device 1's goes home,
 *                      device 0's stays, its open file gets ENODEV
 *   unplug_vs_ping_pong  device 1 removed and re-created over and over
 *                      while a thread moves a buffer between the devices
 *                      and another reads it
 *   two_processes      two processes move their buffers between the
 *                      devices in opposite orders at the same time
 *   remove_without_thp_ram  device 1 removed while two processes (a
 *                      fork) map a device THP on it and no 2 MiB of RAM
 *                      can be had: it goes as 4 KiB pages (patches/0004)
 *   remove_without_ram  the same with no RAM at all for the eviction:
 *                      EBUSY, and device 1 stays usable
 *   remove_during_long_walk  device 1 removed half a second into a
 *                      MIGRATE_TO_RAM over 4 TiB of holes: the walk ends
 *                      with ENODEV, the removal at once
 *   query_devices      DRM_IOCTL_VRAMSIM_QUERY and the debugfs stats of
 *                      each device say which device it is, its size
 *                      (module parameter vram_size) and, idle, all free
 *
 * Each test ends with both devices' VRAM whole: every block back in the
 * buddy.
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

#define PEER_TIMEOUT	600
#define SZ_4K		(4UL << 10)
#define SZ_64K		(64UL << 10)
#define SZ_2M		(2UL << 20)
#define BUF_LEN		(2 * SZ_2M)

FIXTURE(peer) {
	int fd[2];
	struct vramsim_stats s[2];
};

FIXTURE_VARIANT(peer) {
	int advice;
};

FIXTURE_VARIANT_ADD(peer, thp) {
	.advice = MADV_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(peer, nothp) {
	.advice = MADV_NOHUGEPAGE,
};

FIXTURE_SETUP(peer)
{
	char num[8];
	int i;

	ASSERT_EQ(read_param("num_devices", num, sizeof(num)), 0)
		TH_LOG("vramsim is not loaded");
	/* num_devices is writable: make sure there are (at least) two. */
	if (atoi(num) < 2)
		ASSERT_EQ(vramsim_set_num_devices(2), 0);
	for (i = 0; i < 2; i++) {
		self->fd[i] = vramsim_open_device(i);
		ASSERT_GE(self->fd[i], 0) TH_LOG("cannot open device %d", i);
		ASSERT_TRUE(wait_vram_idle(self->fd[i], &self->s[i]));
		ASSERT_EQ(self->s[i].device, i);
		ASSERT_GE(self->s[i].vram_size, 2 * BUF_LEN)
			TH_LOG("device %d has less than %lu MiB of VRAM", i,
			       2 * BUF_LEN >> 20);
	}
}

FIXTURE_TEARDOWN(peer)
{
	struct vramsim_stats s;
	int i;

	/* A test that failed with fail_page_alloc armed: let RAM be had. */
	vs_fpa_restore();
	/* A test that removed device 1 and failed half way: put it back. */
	EXPECT_EQ(vramsim_set_num_devices(2), 0);
	for (i = 0; i < 2; i++) {
		if (self->fd[i] >= 0)
			close(self->fd[i]);
		self->fd[i] = vramsim_open_device(i);
		ASSERT_GE(self->fd[i], 0);
		EXPECT_TRUE(wait_vram_idle(self->fd[i], &s))
			TH_LOG("device %d leaks: %llu of %llu bytes free, %llu live folios",
			       i, (unsigned long long)s.vram_free,
			       (unsigned long long)s.vram_size,
			       (unsigned long long)live_folios(&s));
		close(self->fd[i]);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *map_buf(struct __test_metadata *_metadata, int advice,
		     size_t len, __u64 salt)
{
	char *buf = vramsim_map_aligned(len, advice);

	if (!buf)
		return NULL;
	fill(buf, len, salt);
	return buf;
}

/* Is all of [buf, buf + len) on a device?  (The first and last page of each 2 MiB.) */
static bool all_on_device(const char *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += SZ_2M)
		if (!on_device(buf + off) || !on_device(buf + off + SZ_2M - SZ_4K))
			return false;
	return true;
}

static __u64 live_2m(const struct vramsim_stats *s)
{
	return s->live_folios[VRAMSIM_NR_ORDERS - 1];
}

/*
 * Device 0, then device 1, and back, three times: each move takes the whole
 * buffer from the other device, directly (the destination's peer_bytes
 * grows by the buffer, the source ends with nothing live), and 2 MiB
 * device folios move as 2 MiB folios.
 */
TEST_F_TIMEOUT(peer, ping_pong, PEER_TIMEOUT)
{
	struct vramsim_stats s[2];
	char *buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e1);
	__u64 moved;
	int r;

	ASSERT_NE(buf, NULL);
	for (r = 0; r < 6; r++) {
		int to = r & 1, from = !to;

		ASSERT_EQ(vs_migrate(self->fd[to], TO_DEV, buf, BUF_LEN, &moved), 0);
		ASSERT_EQ(moved, BUF_LEN) TH_LOG("round %d", r);
		ASSERT_TRUE(all_on_device(buf, BUF_LEN));
		ASSERT_TRUE(wait_vram_idle(self->fd[from], &s[from]));
		ASSERT_EQ(vs_stats(self->fd[to], &s[to]), 0);
		/* Round 0 came from RAM, every later one from the other device. */
		EXPECT_EQ(s[to].peer_bytes - self->s[to].peer_bytes,
			  r ? BUF_LEN : 0) TH_LOG("round %d", r);
		EXPECT_EQ(live_2m(&s[to]),
			  variant->advice == MADV_HUGEPAGE ? BUF_LEN / SZ_2M : 0);
		self->s[to] = s[to];
	}
	EXPECT_EQ(check(buf, BUF_LEN, 0x9e1), -1);
	munmap(buf, BUF_LEN);
}

struct reader {
	const char *buf;
	size_t len;
	__u64 salt;
	atomic_bool stop;
	atomic_ulong rounds, errors;
};

/*
 * Read every byte, again and again, faulting device pages home: 64 KiB at
 * a time with a pause between, so that the migrations find the buffer part
 * in RAM and part on the other device, not all of it faulted home.
 */
static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	size_t off = 0;

	while (!atomic_load(&r->stop)) {
		if (check_at(r->buf, off, SZ_64K, r->salt) != -1)
			atomic_fetch_add(&r->errors, 1);
		off += SZ_64K;
		if (off == r->len) {
			off = 0;
			atomic_fetch_add(&r->rounds, 1);
		}
		usleep(2000);
	}
	return NULL;
}

/*
 * The buffer moves between the devices while two threads keep reading its
 * first half: each migration finds that half part in RAM (faulted home),
 * part on the other device, and takes both, racing the faults; the second
 * half, which nobody touches until the end, moves device to device every
 * round.  No byte ever reads wrong.
 */
TEST_F_TIMEOUT(peer, ping_pong_readers, PEER_TIMEOUT)
{
	char *buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e2);
	struct reader r = { .len = BUF_LEN / 2, .salt = 0x9e2 };
	struct vramsim_stats s;
	__u64 moved, total = 0;
	pthread_t th[2];
	int i, rounds;

	ASSERT_NE(buf, NULL);
	r.buf = buf;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, reader_fn, &r), 0);
	/* Ten pushes at least (sixteen took 23 to 33 s of nothp's). */
	for (rounds = 0; rounds < 10 || atomic_load(&r.rounds) < 2; rounds++) {
		ASSERT_EQ(vs_migrate(self->fd[rounds & 1], TO_DEV, buf, BUF_LEN,
				     &moved), 0);
		/* At least the untouched half moves, every time. */
		EXPECT_GE(moved, BUF_LEN / 2);
		total += moved;
	}
	atomic_store(&r.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	EXPECT_EQ(atomic_load(&r.errors), 0);
	EXPECT_EQ(check(buf, BUF_LEN, 0x9e2), -1);
	/* The second half went device to device each round after the first. */
	ASSERT_EQ(vs_stats(self->fd[0], &s), 0);
	total = s.peer_bytes - self->s[0].peer_bytes;
	ASSERT_EQ(vs_stats(self->fd[1], &s), 0);
	total += s.peer_bytes - self->s[1].peer_bytes;
	EXPECT_GE(total, (rounds - 1) * BUF_LEN / 2);
	TH_LOG("%d migrations, %lu reader passes, %llu bytes moved device to device",
	       rounds, atomic_load(&r.rounds), (unsigned long long)total);
	munmap(buf, BUF_LEN);
}

/* MIGRATE_TO_RAM on one device leaves another device's pages where they are. */
TEST_F_TIMEOUT(peer, to_ram_per_device, PEER_TIMEOUT)
{
	char *buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e3);
	__u64 moved;

	ASSERT_NE(buf, NULL);
	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, buf, BUF_LEN, &moved), 0);
	ASSERT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_migrate(self->fd[0], TO_RAM, buf, BUF_LEN, &moved), 0);
	EXPECT_EQ(moved, 0);
	EXPECT_TRUE(all_on_device(buf, BUF_LEN));
	ASSERT_EQ(vs_migrate(self->fd[1], TO_RAM, buf, BUF_LEN, &moved), 0);
	EXPECT_EQ(moved, BUF_LEN);
	EXPECT_FALSE(on_device(buf));
	EXPECT_EQ(check(buf, BUF_LEN, 0x9e3), -1);
	munmap(buf, BUF_LEN);
}

/*
 * Device 1 full of an older buffer takes a buffer from device 0: it
 * evicts its own oldest data to RAM to make room, and the new buffer
 * arrives whole from device 0.  All three read back.
 */
TEST_F_TIMEOUT(peer, peer_evicts, PEER_TIMEOUT)
{
	size_t full = self->s[1].vram_size;
	char *old = map_buf(_metadata, variant->advice, full, 0x9e4);
	char *buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e5);
	struct vramsim_stats s;
	char on[8];
	__u64 moved;

	ASSERT_EQ(read_param("evict", on, sizeof(on)), 0);
	if (on[0] != 'Y')
		SKIP(return, "evict=off");
	ASSERT_NE(old, NULL);
	ASSERT_NE(buf, NULL);
	ASSERT_EQ(vs_migrate(self->fd[0], TO_DEV, buf, BUF_LEN, &moved), 0);
	ASSERT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, old, full, &moved), 0);
	ASSERT_EQ(moved, full);

	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, buf, BUF_LEN, &moved), 0);
	EXPECT_EQ(moved, BUF_LEN);
	EXPECT_TRUE(all_on_device(buf, BUF_LEN));
	ASSERT_EQ(vs_stats(self->fd[1], &s), 0);
	EXPECT_EQ(s.peer_bytes - self->s[1].peer_bytes, BUF_LEN);
	EXPECT_EQ(s.evicted_bytes - self->s[1].evicted_bytes, BUF_LEN);
	/* The oldest part of the old buffer went home, the rest stayed. */
	EXPECT_FALSE(on_device(old));
	EXPECT_TRUE(on_device(old + full - SZ_4K));
	ASSERT_EQ(vs_stats(self->fd[0], &s), 0);
	EXPECT_EQ(s.evicted_bytes, self->s[0].evicted_bytes);

	EXPECT_EQ(check(buf, BUF_LEN, 0x9e5), -1);
	EXPECT_EQ(check(old, full, 0x9e4), -1);
	munmap(old, full);
	munmap(buf, BUF_LEN);
}

/*
 * Device 1 goes away holding a buffer while device 0 holds another: the
 * first comes home intact, the second stays on device 0 untouched, and
 * the file still open on device 1 gets ENODEV.  A new device 1 works.
 */
TEST_F_TIMEOUT(peer, unplug_holder, PEER_TIMEOUT)
{
	char *a = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e6);
	char *b = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e7);
	struct drm_vramsim_query q;
	struct vramsim_stats s0, s;
	__u64 moved;

	ASSERT_NE(a, NULL);
	ASSERT_NE(b, NULL);
	ASSERT_EQ(vs_migrate(self->fd[0], TO_DEV, a, BUF_LEN, &moved), 0);
	ASSERT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, b, BUF_LEN, &moved), 0);
	ASSERT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_stats(self->fd[0], &s0), 0);

	ASSERT_EQ(vramsim_set_num_devices(1), 0);
	EXPECT_EQ(vramsim_open_device(1), -1);
	EXPECT_EQ(vs_query(self->fd[1], &q), -ENODEV);
	EXPECT_EQ(vs_stats(self->fd[1], &s), -ENODEV);
	EXPECT_EQ(vs_migrate(self->fd[1], TO_DEV, a, BUF_LEN, &moved), -ENODEV);
	EXPECT_EQ(moved, 0);
	close(self->fd[1]);
	self->fd[1] = -1;

	EXPECT_FALSE(on_device(b));
	EXPECT_TRUE(all_on_device(a, BUF_LEN));
	ASSERT_EQ(vs_stats(self->fd[0], &s), 0);
	EXPECT_EQ(live_folios(&s), live_folios(&s0));
	EXPECT_EQ(s.evicted_bytes, s0.evicted_bytes);
	EXPECT_EQ(check(b, BUF_LEN, 0x9e7), -1);

	/* A new device 1 takes device 0's buffer directly. */
	ASSERT_EQ(vramsim_set_num_devices(2), 0);
	self->fd[1] = vramsim_open_device(1);
	ASSERT_GE(self->fd[1], 0);
	ASSERT_EQ(vs_query(self->fd[1], &q), 0);
	EXPECT_EQ(q.device, 1);
	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, a, BUF_LEN, &moved), 0);
	EXPECT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_stats(self->fd[1], &s), 0);
	EXPECT_EQ(s.peer_bytes, BUF_LEN);
	EXPECT_EQ(check(a, BUF_LEN, 0x9e6), -1);
	munmap(a, BUF_LEN);
	munmap(b, BUF_LEN);
}

struct mover {
	char *buf;
	atomic_bool stop;
	atomic_ulong rounds, errors, enodev;
};

/*
 * Move the buffer to device 0 and device 1 in turn, reopening device 1
 * whenever it went away (ENODEV) and skipping it while it is gone.
 */
static void *mover_fn(void *arg)
{
	struct mover *m = arg;
	int fd[2] = { vramsim_open_device(0), vramsim_open_device(1) };
	unsigned long i;
	__u64 moved;

	for (i = 0; !atomic_load(&m->stop); i++) {
		int d = i & 1, err;

		if (fd[d] < 0)
			fd[d] = vramsim_open_device(d);
		if (fd[d] < 0)
			continue;
		err = vs_migrate(fd[d], TO_DEV, m->buf, BUF_LEN, &moved);
		if (err == -ENODEV && d == 1) {
			atomic_fetch_add(&m->enodev, 1);
			close(fd[d]);
			fd[d] = -1;
		} else if (err) {
			atomic_fetch_add(&m->errors, 1);
		}
		atomic_fetch_add(&m->rounds, 1);
	}
	for (i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return NULL;
}

TEST_F_TIMEOUT(peer, unplug_vs_ping_pong, PEER_TIMEOUT)
{
	char *buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9e8);
	struct reader r = { .len = BUF_LEN, .salt = 0x9e8 };
	struct mover m = { 0 };
	pthread_t mt, rt;
	int i;

	ASSERT_NE(buf, NULL);
	r.buf = buf;
	m.buf = buf;
	ASSERT_EQ(pthread_create(&mt, NULL, mover_fn, &m), 0);
	ASSERT_EQ(pthread_create(&rt, NULL, reader_fn, &r), 0);
	for (i = 0; i < 5; i++) {
		usleep(100000);
		ASSERT_EQ(vramsim_set_num_devices(1), 0);
		usleep(50000);
		ASSERT_EQ(vramsim_set_num_devices(2), 0);
	}
	atomic_store(&m.stop, true);
	atomic_store(&r.stop, true);
	pthread_join(mt, NULL);
	pthread_join(rt, NULL);

	EXPECT_EQ(atomic_load(&m.errors), 0);
	EXPECT_EQ(atomic_load(&r.errors), 0);
	EXPECT_EQ(check(buf, BUF_LEN, 0x9e8), -1);
	TH_LOG("%lu migrations (%lu ENODEV), %lu reader passes",
	       atomic_load(&m.rounds), atomic_load(&m.enodev),
	       atomic_load(&r.rounds));
	/* The fixture's file on device 1 is stale now. */
	close(self->fd[1]);
	self->fd[1] = -1;
	munmap(buf, BUF_LEN);
}

/* One process's rounds: its buffer to device @first, then the other, checked. */
static int process_rounds(int first, __u64 salt, int advice)
{
	int fd[2] = { vramsim_open_device(0), vramsim_open_device(1) };
	char *buf = vramsim_map_aligned(BUF_LEN, advice);
	int i, ret = 0;
	__u64 moved;

	if (fd[0] < 0 || fd[1] < 0 || !buf)
		return 2;
	fill(buf, BUF_LEN, salt);
	for (i = 0; i < 10 && !ret; i++) {
		if (vs_migrate(fd[(first + i) & 1], TO_DEV, buf, BUF_LEN, &moved) ||
		    moved != BUF_LEN)
			ret = 3;
		else if (i % 3 == 2 && check(buf, BUF_LEN, salt) != -1)
			ret = 4;
	}
	if (!ret && check(buf, BUF_LEN, salt) != -1)
		ret = 4;
	return ret;
}

/* Two processes at once, in opposite orders: each move is a swap of sorts. */
TEST_F_TIMEOUT(peer, two_processes, PEER_TIMEOUT)
{
	int status, i;
	pid_t pid[2];

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i])
			_exit(process_rounds(i, 0x9f0 + i, variant->advice));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(waitpid(pid[i], &status, 0), pid[i]);
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(WEXITSTATUS(status), 0)
			TH_LOG("process %d: %s", i,
			       WEXITSTATUS(status) == 3 ? "a migration failed or moved less" :
			       WEXITSTATUS(status) == 4 ? "wrong data" : "setup failed");
	}
}

/*
 * Each device's node says which device it is: QUERY's device, its size
 * from the module parameter vram_size (a list gives each its own), all of
 * it free when idle; its debugfs directory, found from the node, is
 * vramsim or vramsim.<n>, and its stats file says the same.
 */
/*
 * The holder: its buffer on device 1, then idle until told to check it.
 * With @shared, it forks once its buffer is on the device: the device THP
 * is mapped by a PMD in two processes, as an eviction must split it in
 * both.  After the check, the child writes its copy, and the holder's
 * must not change (copy-on-write survives the eviction).
 */
static int holder(int fd, int advice, bool shared, int ready, int go)
{
	char *buf = map_buf(NULL, advice, SZ_2M, 0x9eb);
	int status, ret;
	__u64 moved = 0;
	pid_t child = 0;
	char c;

	if (!buf || vs_migrate(fd, TO_DEV, buf, SZ_2M, &moved) || moved != SZ_2M)
		return 3;
	close(fd);
	if (shared) {
		child = fork();
		if (child < 0)
			return 2;
		if (!child) {
			if (read(go, &c, 1) != 1)
				_exit(2);
			ret = check(buf, SZ_2M, 0x9eb) == -1 ? 0 : 4;
			fill(buf, SZ_2M, 0x9ed);
			_exit(ret ?: check(buf, SZ_2M, 0x9ed) == -1 ? 0 : 4);
		}
	}
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	if (child) {
		if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
			return 2;
		if (WEXITSTATUS(status))
			return 10 + WEXITSTATUS(status);
	}
	return check(buf, SZ_2M, 0x9eb) == -1 ? 0 : 4;
}

/*
 * Start a holder of a 2 MiB buffer on device 1 (shared with a child of
 * its own if @shared) and check it is one device THP with THPs: its pid,
 * with the pipes to it in @ready and @go.
 */
static pid_t start_holder(struct __test_metadata *_metadata, int fd,
			  int advice, bool shared, int ready[2], int go[2])
{
	struct vramsim_stats s;
	int status;
	pid_t pid;
	char c;

	pid = vs_fork_paired(ready, go);
	if (!pid)
		_exit(holder(fd, advice, shared, ready[1], go[0]));
	if (pid < 0)
		return pid;
	if (read(ready[0], &c, 1) != 1) {
		waitpid(pid, &status, 0);
		TH_LOG("holder failed: status %#x (3: its buffer did not move)", status);
		return -1;
	}
	if (vs_stats(fd, &s))
		return -1;
	EXPECT_EQ(s.live_folios[VRAMSIM_NR_ORDERS - 1], advice == MADV_HUGEPAGE ? 1 : 0)
		TH_LOG("the holder's 2 MiB is not one device THP");
	return pid;
}

/* Let the holder (and its child) check their data, and wait for it. */
static void end_holder(struct __test_metadata *_metadata, pid_t pid,
		       int ready[2], int go[2])
{
	int status;

	EXPECT_EQ(write(go[1], "gg", 2), 2);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("holder status %#x (4: its data differ; 14: its child's)", status);
	close(ready[0]);
	close(go[1]);
}

/*
 * Remove device 1 with fail_page_alloc failing every page allocation from
 * order @min_order up (@vramsim_only: only those with vramsim on the
 * stack), and say how it went: *@err is the write's 0 or -errno.  False
 * if fail_page_alloc could not be armed.
 */
static bool remove_without(unsigned int min_order, bool vramsim_only,
			   const char *what, int *err)
{
	double t0;

	if (vs_fpa_fail(min_order, vramsim_only))
		return false;
	t0 = now_s();
	*err = vramsim_set_num_devices(1);
	vs_fpa_restore();
	ksft_print_msg("removal with no %s: %s after %.1f s\n", what,
		       strerror(-*err), now_s() - t0);
	return true;
}

/*
 * Device 1 removed while an idle process maps a 2 MiB folio on it, and a
 * child of its own maps it too, while no 2 MiB of RAM can be had
 * (fail_page_alloc at order 9 stands in for fragmented RAM).  A device
 * THP evicted by pfn moved only whole on 7.3: the removal could not
 * finish (it gave up with EBUSY; rmmod waited for ever).  With
 * patches/0004 the eviction moves it to 512 pages and the core splits it,
 * and both its PMD mappings: the removal succeeds (order 9 cannot be had:
 * this is the only way), and both processes' data are intact and their
 * own.  Without THPs
 * (nothp) there is nothing to split.
 */
TEST_F_TIMEOUT(peer, remove_without_thp_ram, PEER_TIMEOUT)
{
	bool thp = variant->advice == MADV_HUGEPAGE;
	struct drm_vramsim_query q;
	int ready[2], go[2], err;
	pid_t pid;

	if (!vs_fpa_available(false))
		SKIP(return, "no fail_page_alloc in debugfs (CONFIG_FAIL_PAGE_ALLOC)");
	pid = start_holder(_metadata, self->fd[1], variant->advice, thp, ready, go);
	ASSERT_GT(pid, 0);

	ASSERT_TRUE(remove_without(9, false, "2 MiB of RAM", &err));
	EXPECT_EQ(err, 0);
	EXPECT_EQ(vs_query(self->fd[1], &q), -ENODEV);
	end_holder(_metadata, pid, ready, go);
}

/*
 * Device 1 removed while a process maps memory on it and no RAM at all
 * can be had for it (every page allocation with vramsim on the stack
 * fails): the removal cannot make progress, gives up with EBUSY within
 * seconds, and device 1 stays, usable.  Once RAM can be had, the removal
 * succeeds and the holder's data are intact.
 */
TEST_F_TIMEOUT(peer, remove_without_ram, PEER_TIMEOUT)
{
	unsigned long long text_start, text_end;
	struct vramsim_stats s0, s1;
	struct drm_vramsim_query q;
	int ready[2], go[2], err;
	char num[8];
	__u64 moved;
	char *buf;
	pid_t pid;

	if (!vs_fpa_available(true))
		SKIP(return, "no fail_page_alloc with a stack filter in debugfs");
	if (vs_vramsim_text(&text_start, &text_end))
		SKIP(return, "no address of vramsim's text in /proc/kallsyms");
	pid = start_holder(_metadata, self->fd[1], variant->advice, false, ready, go);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(vs_stats(self->fd[1], &s0), 0);

	ASSERT_TRUE(remove_without(0, true, "RAM", &err));
	EXPECT_EQ(err, -EBUSY);
	/* Device 1 stays, usable, and says so: no RAM was the reason. */
	ASSERT_EQ(read_param("num_devices", num, sizeof(num)), 0);
	EXPECT_STREQ(num, "2");
	ASSERT_EQ(vs_query(self->fd[1], &q), 0);
	EXPECT_EQ(q.device, 1);
	ASSERT_EQ(vs_stats(self->fd[1], &s1), 0);
	EXPECT_GT(s1.evict_no_ram, s0.evict_no_ram);
	buf = map_buf(_metadata, variant->advice, SZ_2M, 0x9ec);
	ASSERT_NE(buf, NULL);
	EXPECT_EQ(vs_migrate(self->fd[1], TO_DEV, buf, SZ_2M, &moved), 0);
	EXPECT_EQ(moved, SZ_2M);
	EXPECT_EQ(check(buf, SZ_2M, 0x9ec), -1);
	munmap(buf, SZ_2M);
	/* With RAM to be had, it goes. */
	EXPECT_EQ(vramsim_set_num_devices(1), 0);
	EXPECT_EQ(vs_query(self->fd[1], &q), -ENODEV);
	end_holder(_metadata, pid, ready, go);
}

struct long_walk {
	int fd;
	char *buf;
	size_t len;
	int err;
	double done;
};

static void *long_walk_fn(void *arg)
{
	struct long_walk *w = arg;

	w->err = vs_migrate(w->fd, TO_RAM, w->buf, w->len, NULL);
	w->done = now_s();
	return NULL;
}

/*
 * A MIGRATE_TO_RAM over 4 TiB of unpopulated memory walks it for many
 * seconds under TCG, inside drm_dev_enter(), which a removal waits for:
 * one written half a second in used to wait until the walk was done (36.8
 * s).  The walk now checks for removal per window, as it checks for a
 * fatal signal: the ioctl ends with ENODEV and the removal at once.
 */
#define LONG_WALK	(4UL << 40)

TEST_F_TIMEOUT(peer, remove_during_long_walk, PEER_TIMEOUT)
{
	struct long_walk w = { .fd = self->fd[1], .len = LONG_WALK };
	double t0, t1;
	pthread_t t;

	w.buf = mmap(NULL, LONG_WALK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(w.buf, MAP_FAILED);
	ASSERT_EQ(pthread_create(&t, NULL, long_walk_fn, &w), 0);
	usleep(500000);
	t0 = now_s();
	EXPECT_EQ(vramsim_set_num_devices(1), 0);
	t1 = now_s();
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ksft_print_msg("removal took %.2f s; the walk ended %.2f s after it began (%s)\n",
		       t1 - t0, w.done - t0, strerror(-w.err));
	ASSERT_GT(w.done, t0) TH_LOG("the walk ended before the removal: it aims at nothing");
	EXPECT_EQ(w.err, -ENODEV);
	EXPECT_LT(t1 - t0, 10.0);
	munmap(w.buf, LONG_WALK);
}

TEST_F_TIMEOUT(peer, query_devices, PEER_TIMEOUT)
{
	struct drm_vramsim_query q;
	struct vramsim_stats s;
	char dir[96], want[64];
	__u64 moved;
	char *buf;
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(vs_query(self->fd[i], &q), 0);
		EXPECT_EQ(q.device, i);
		EXPECT_EQ(q.vram_size, vramsim_param_vram_size(i));
		EXPECT_EQ(q.vram_free, q.vram_size);
		EXPECT_EQ(q.pad, 0);
		ASSERT_EQ(vramsim_debugfs_dir(self->fd[i], dir, sizeof(dir)), 0);
		if (i)
			snprintf(want, sizeof(want), "/sys/kernel/debug/dri/vramsim.%d", i);
		else
			snprintf(want, sizeof(want), "/sys/kernel/debug/dri/vramsim");
		EXPECT_STREQ(dir, want);
		ASSERT_EQ(vs_stats(self->fd[i], &s), 0);
		EXPECT_EQ(s.device, i);
		EXPECT_EQ(s.vram_size, q.vram_size);
	}

	/* Memory on device 1 is device 1's: device 0's free bytes stay. */
	buf = map_buf(_metadata, variant->advice, BUF_LEN, 0x9ea);
	ASSERT_NE(buf, NULL);
	ASSERT_EQ(vs_migrate(self->fd[1], TO_DEV, buf, BUF_LEN, &moved), 0);
	ASSERT_EQ(moved, BUF_LEN);
	ASSERT_EQ(vs_query(self->fd[1], &q), 0);
	EXPECT_EQ(q.vram_free, q.vram_size - BUF_LEN);
	ASSERT_EQ(vs_query(self->fd[0], &q), 0);
	EXPECT_EQ(q.vram_free, q.vram_size);
	EXPECT_EQ(check(buf, BUF_LEN, 0x9ea), -1);
	munmap(buf, BUF_LEN);
}

TEST_HARNESS_MAIN
