// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace tests of vramsim's migration ioctls, run in the guest with the
 * module loaded: data survive every trip to the device and back, the
 * counters say where the folios are, and nothing leaks.  Then the rest of
 * the uapi (2.0): DRM_IOCTL_VRAMSIM_QUERY, the version, the number STATS
 * had in 1.x, and the debugfs file the counters moved to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest_harness.h"

#define TO_DEV	VRAMSIM_TO_DEV
#define TO_RAM	VRAMSIM_TO_RAM

/*
 * The harness's default of 30 s per test is too short on the debug kernel
 * under TCG: it killed nothp.migrate_64m (16384 pages there and back) and
 * nothp.out_of_vram in CI.
 */
#define MIGRATE_TIMEOUT	600

#define SZ_4K	(4UL << 10)
#define SZ_64K	(64UL << 10)
#define SZ_2M	(2UL << 20)
#define SZ_4M	(4UL << 20)
#define SZ_64M	(64UL << 20)

FIXTURE(vramsim) {
	int fd;
	struct vramsim_stats s;
};

FIXTURE_VARIANT(vramsim) {
	int advice;
	bool thp;
};

FIXTURE_VARIANT_ADD(vramsim, thp) {
	.advice = MADV_HUGEPAGE,
	.thp = true,
};

FIXTURE_VARIANT_ADD(vramsim, nothp) {
	.advice = MADV_NOHUGEPAGE,
	.thp = false,
};

FIXTURE_SETUP(vramsim)
{
	self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0) TH_LOG("no vramsim render node: is the module loaded?");
	ASSERT_TRUE(wait_vram_idle(self->fd, &self->s))
		TH_LOG("VRAM not idle before the test: %llu of %llu free",
		       (unsigned long long)self->s.vram_free,
		       (unsigned long long)self->s.vram_size);
}

FIXTURE_TEARDOWN(vramsim)
{
	struct vramsim_stats s;

	/* Every test must leave the VRAM as it found it. */
	EXPECT_TRUE(wait_vram_idle(self->fd, &s))
		TH_LOG("leak: %llu of %llu bytes free, %llu pending",
		       (unsigned long long)s.vram_free,
		       (unsigned long long)s.vram_size,
		       (unsigned long long)s.pending_frees);
	/*
	 * ... and the system memory behind it: backing pages go with their
	 * blocks (they used to stay until unload, pinned by no one).
	 */
	EXPECT_EQ(vram_backing_pages(0), 0);
	close(self->fd);
}

/*
 * Migrate @len bytes to the device, check where they went, read them back
 * through CPU faults and compare every byte.
 */
static void migrate_and_fault_back(struct __test_metadata *_metadata, int fd,
				   int advice, bool thp, size_t len)
{
	struct vramsim_stats s;
	__u64 moved;
	char *buf;
	long bad;

	buf = vramsim_map_aligned(len, advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, len);

	ASSERT_EQ(vs_migrate(fd, TO_DEV, buf, len, &moved), 0);
	EXPECT_EQ(moved, len);
	ASSERT_EQ(vs_stats(fd, &s), 0);
	if (thp && len >= SZ_2M) {
		EXPECT_EQ(s.live_folios[9], len / SZ_2M);
		EXPECT_EQ(s.live_folios[0], 0);
	} else {
		EXPECT_EQ(s.live_folios[0], len / SZ_4K);
		EXPECT_EQ(s.live_folios[9], 0);
	}
	EXPECT_EQ(s.vram_free, s.vram_size - len);

	/* Reading faults every page back to RAM. */
	bad = check(buf, len, len);
	EXPECT_EQ(bad, -1) TH_LOG("word %ld differs after the round trip", bad);
	ASSERT_EQ(vs_stats(fd, &s), 0);
	EXPECT_EQ(live_folios(&s), 0);

	munmap(buf, len);
}

#define MIGRATE_AND_FAULT_BACK(len) \
	migrate_and_fault_back(_metadata, self->fd, variant->advice, variant->thp, len)

TEST_F_TIMEOUT(vramsim, migrate_4k, MIGRATE_TIMEOUT) { MIGRATE_AND_FAULT_BACK(SZ_4K); }
TEST_F_TIMEOUT(vramsim, migrate_64k, MIGRATE_TIMEOUT) { MIGRATE_AND_FAULT_BACK(SZ_64K); }
TEST_F_TIMEOUT(vramsim, migrate_2m, MIGRATE_TIMEOUT) { MIGRATE_AND_FAULT_BACK(SZ_2M); }
TEST_F_TIMEOUT(vramsim, migrate_4m, MIGRATE_TIMEOUT) { MIGRATE_AND_FAULT_BACK(SZ_4M); }
TEST_F_TIMEOUT(vramsim, migrate_64m, MIGRATE_TIMEOUT) { MIGRATE_AND_FAULT_BACK(SZ_64M); }

/*
 * Memory moved to VRAM is charged once: the device folio takes over the
 * memcg charge of the page it replaces (mem_cgroup_migrate()), and the
 * system page that holds its contents in the simulation is not charged
 * again.  A child in a memory cgroup whose memory.max is 1.6 times its
 * buffer migrates the buffer to the device and reads it back: charged
 * twice, the migration itself would OOM-kill it.
 */
#define MEMCG_ROOT	"/sys/fs/cgroup"
#define MEMCG_TEST	MEMCG_ROOT "/vramsim-memcg"
#define MEMCG_BUF	(10UL << 20)
#define MEMCG_MAX	(16UL << 20)

/* memory.events' oom_kill count of the test cgroup, or -1. */
static long memcg_oom_kills(void)
{
	char text[512], *p;

	if (vramsim_read_file(MEMCG_TEST "/memory.events", text, sizeof(text)))
		return -1;
	p = strstr(text, "oom_kill ");
	return p ? atol(p + 9) : -1;
}

static int memcg_child(int fd, int advice)
{
	__u64 moved = 0;
	char *buf;

	if (vramsim_write_file(MEMCG_TEST "/cgroup.procs", "0"))
		return 2;
	buf = vramsim_map_aligned(MEMCG_BUF, advice);
	if (!buf)
		return 2;
	fill(buf, MEMCG_BUF, 60);
	if (vs_migrate(fd, TO_DEV, buf, MEMCG_BUF, &moved) || moved != MEMCG_BUF)
		return 3;
	if (check(buf, MEMCG_BUF, 60) != -1)
		return 4;
	munmap(buf, MEMCG_BUF);
	return 0;
}

TEST_F_TIMEOUT(vramsim, memcg_charged_once, MIGRATE_TIMEOUT)
{
	char max[32], controllers[256];
	int status;
	pid_t pid;

	if (access(MEMCG_ROOT "/cgroup.controllers", F_OK))
		mount("none", MEMCG_ROOT, "cgroup2", 0, NULL);
	if (vramsim_read_file(MEMCG_ROOT "/cgroup.controllers", controllers,
			      sizeof(controllers)) ||
	    !strstr(controllers, "memory"))
		SKIP(return, "no cgroup2 memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(vramsim_write_file(MEMCG_ROOT "/cgroup.subtree_control", "+memory"), 0);
	rmdir(MEMCG_TEST);
	ASSERT_EQ(mkdir(MEMCG_TEST, 0755), 0);
	snprintf(max, sizeof(max), "%lu", MEMCG_MAX);
	ASSERT_EQ(vramsim_write_file(MEMCG_TEST "/memory.max", max), 0);
	/* Where the kernel swaps, the test's memory may not. */
	vramsim_write_file(MEMCG_TEST "/memory.swap.max", "0");

	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(memcg_child(self->fd, variant->advice));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x (SIGKILL 0x9: OOM-killed; 3: not moved; 4: data differ)",
		       status);
	EXPECT_EQ(memcg_oom_kills(), 0);
	EXPECT_EQ(rmdir(MEMCG_TEST), 0);
}

TEST_F_TIMEOUT(vramsim, migrate_back_explicitly, MIGRATE_TIMEOUT)
{
	size_t len = SZ_4M + 3 * SZ_4K;
	struct vramsim_stats s;
	__u64 moved;
	char *buf;

	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 7);
	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	EXPECT_EQ(moved, len);
	ASSERT_EQ(vs_migrate(self->fd, TO_RAM, buf, len, &moved), 0);
	EXPECT_EQ(moved, len);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_EQ(live_folios(&s), 0);
	EXPECT_EQ(check(buf, len, 7), -1);

	/* Nothing left on the device: moving back again moves nothing. */
	ASSERT_EQ(vs_migrate(self->fd, TO_RAM, buf, len, &moved), 0);
	EXPECT_EQ(moved, 0);
	munmap(buf, len);
}

TEST_F_TIMEOUT(vramsim, munmap_frees, MIGRATE_TIMEOUT)
{
	size_t len = SZ_4M;
	struct vramsim_stats s;
	__u64 moved;
	char *buf;

	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 1);
	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	ASSERT_EQ(moved, len);
	munmap(buf, len);
	EXPECT_TRUE(wait_vram_idle(self->fd, &s));
	EXPECT_EQ(s.vram_free, s.vram_size);
}

TEST_F_TIMEOUT(vramsim, partial_munmap_splits, MIGRATE_TIMEOUT)
{
	size_t len = SZ_2M;
	struct vramsim_stats before, s;
	__u64 moved;
	char *buf;

	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 3);
	ASSERT_EQ(vs_stats(self->fd, &before), 0);
	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	ASSERT_EQ(moved, len);

	/* Punch a hole in the middle of the 2 MiB device mapping. */
	ASSERT_EQ(munmap(buf + SZ_64K, SZ_4K), 0);
	/* The rest still reads back, a page at a time. */
	EXPECT_EQ(check(buf, SZ_64K, 3), -1);
	EXPECT_EQ(check_at(buf, SZ_64K + SZ_4K, len - SZ_64K - SZ_4K, 3), -1);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	if (variant->thp)
		EXPECT_GT(s.splits, before.splits);
	munmap(buf, SZ_64K);
	munmap(buf + SZ_64K + SZ_4K, len - SZ_64K - SZ_4K);
}

TEST_F_TIMEOUT(vramsim, fork_with_device_pages, MIGRATE_TIMEOUT)
{
	size_t len = SZ_4M;
	__u64 moved;
	int status;
	char *buf;
	pid_t pid;

	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 11);
	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	ASSERT_EQ(moved, len);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* The child sees the data, and its writes stay its own. */
		if (check(buf, len, 11) != -1)
			_exit(1);
		memset(buf, 0x5a, len);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(check(buf, len, 11), -1);
	munmap(buf, len);
}

/*
 * More than the VRAM holds: what fits moves, the rest stays in RAM (a
 * migration never evicts what it moved in itself).  Then, full, another
 * range: with evict=off it moves nothing and says ENOSPC; with evict=on
 * (the default) it evicts the oldest and moves (vramsim_evict_test has
 * the rest).
 */
TEST_F_TIMEOUT(vramsim, out_of_vram, MIGRATE_TIMEOUT)
{
	size_t len = self->s.vram_size + SZ_4M;
	struct vramsim_stats s;
	__u64 moved, moved2;
	char *buf, *more;
	char evict[8];

	ASSERT_EQ(read_param("evict", evict, sizeof(evict)), 0);
	buf = vramsim_map_aligned(len, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 5);

	ASSERT_EQ(vs_migrate(self->fd, TO_DEV, buf, len, &moved), 0);
	ASSERT_EQ(vs_stats(self->fd, &s), 0);
	EXPECT_GT(moved, 0);
	EXPECT_LE(moved, self->s.vram_size);
	EXPECT_EQ(s.vram_size - s.vram_free, moved);
	EXPECT_EQ(s.evictions, self->s.evictions);

	/* Full: another range moves nothing and says so, or evicts. */
	more = vramsim_map_aligned(SZ_64K, -1);
	ASSERT_NE(more, NULL);
	fill(more, SZ_64K, 6);
	if (evict[0] == 'Y') {
		EXPECT_EQ(vs_migrate(self->fd, TO_DEV, more, SZ_64K, &moved2), 0);
		EXPECT_EQ(moved2, SZ_64K);
		ASSERT_EQ(vs_stats(self->fd, &s), 0);
		EXPECT_GT(s.evictions, self->s.evictions);
	} else if (moved == self->s.vram_size) {
		EXPECT_EQ(vs_migrate(self->fd, TO_DEV, more, SZ_64K, &moved2), -ENOSPC);
	}
	EXPECT_EQ(check(more, SZ_64K, 6), -1);
	EXPECT_EQ(check(buf, len, 5), -1);
	munmap(more, SZ_64K);
	munmap(buf, len);
}

/* Bad arguments: the documented errno, and no state change. */
TEST_F_TIMEOUT(vramsim, bad_input, MIGRATE_TIMEOUT)
{
	struct drm_vramsim_migrate m;
	struct vramsim_stats s;
	char *buf, *file;
	__u64 moved;
	int fd = self->fd;

	buf = vramsim_map_aligned(SZ_4M, variant->advice);
	ASSERT_NE(buf, NULL);
	fill(buf, SZ_4M, 9);

	EXPECT_EQ(vs_migrate(fd, TO_DEV, buf, 0, &moved), -EINVAL);
	EXPECT_EQ(vs_migrate(fd, TO_DEV, buf + 1, SZ_4K, &moved), -EINVAL);
	EXPECT_EQ(vs_migrate(fd, TO_DEV, buf, SZ_4K + 1, &moved), -EINVAL);
	EXPECT_EQ(vs_migrate(fd, DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE,
			     (void *)(~0UL & ~(SZ_4K - 1)), 2 * SZ_4K, &moved), -EINVAL);
	EXPECT_EQ(vs_migrate(fd, TO_RAM, buf, 0, &moved), -EINVAL);

	/* Unmapped, or partly unmapped. */
	ASSERT_EQ(munmap(buf + SZ_2M, SZ_4K), 0);
	EXPECT_EQ(vs_migrate(fd, TO_DEV, buf + SZ_2M, SZ_4K, &moved), -EFAULT);
	EXPECT_EQ(vs_migrate(fd, TO_RAM, buf + SZ_2M, SZ_4K, &moved), -EFAULT);
	EXPECT_EQ(vs_migrate(fd, TO_DEV, (void *)SZ_4K, SZ_4K, &moved), -EFAULT);

	/* Foreign flags and padding. */
	memset(&m, 0, sizeof(m));
	m.start = (uintptr_t)buf;
	m.length = SZ_4K;
	m.flags = 1;
	EXPECT_EQ(ioctl(fd, TO_DEV, &m), -1);
	EXPECT_EQ(errno, EINVAL);
	m.flags = 0;
	m.pad = 1;
	EXPECT_EQ(ioctl(fd, TO_DEV, &m), -1);
	EXPECT_EQ(errno, EINVAL);

	/*
	 * A caller built against a smaller structure: DRM zero-extends it,
	 * so the length is 0 and the call is refused.
	 */
	m.pad = 0;
	EXPECT_EQ(ioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_MIGRATE_TO_DEVICE, __u64),
			&m), -1);
	EXPECT_EQ(errno, EINVAL);
	/* An ioctl number past the table. */
	EXPECT_EQ(ioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + 0x3f, struct drm_vramsim_migrate), &m), -1);
	EXPECT_EQ(errno, EINVAL);

	/* Not anonymous memory. */
	file = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(file, MAP_FAILED);
	memset(file, 1, SZ_64K);
	EXPECT_EQ(vs_migrate(fd, TO_DEV, file, SZ_64K, &moved), -EINVAL);
	munmap(file, SZ_64K);

	/* None of that changed anything. */
	ASSERT_EQ(vs_stats(fd, &s), 0);
	EXPECT_EQ(live_folios(&s), 0);
	EXPECT_EQ(s.vram_free, s.vram_size);
	EXPECT_EQ(check(buf, SZ_2M, 9), -1);
	munmap(buf, SZ_2M);
	munmap(buf + SZ_2M + SZ_4K, SZ_2M - SZ_4K);
}

/*
 * rmmod while a process that closed its file has pages in VRAM: the
 * module evicts them to RAM and goes, the process keeps its data.
 * (Before eviction, device pages pinned the module: rmmod said EBUSY.)
 */
TEST_F_TIMEOUT(vramsim, unload_with_live_pages, MIGRATE_TIMEOUT)
{
	char size[32], prepare[16], evict[8], cmd[128];
	int ready[2], go[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(read_param("vram_size", size, sizeof(size)), 0);
	ASSERT_EQ(read_param("prepare", prepare, sizeof(prepare)), 0);
	ASSERT_EQ(read_param("evict", evict, sizeof(evict)), 0);
	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(go), 0);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		char *buf = vramsim_map_aligned(SZ_4M, variant->advice);
		__u64 moved = 0;

		fill(buf, SZ_4M, 13);
		vs_migrate(self->fd, TO_DEV, buf, SZ_4M, &moved);
		close(self->fd);
		c = moved == SZ_4M ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(check(buf, SZ_4M, 13) == -1 ? 0 : 2);
	}
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ASSERT_EQ(c, 'y');

	EXPECT_EQ(system("rmmod vramsim"), 0);
	EXPECT_NE(access("/sys/module/vramsim", F_OK), 0);

	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x (2: data differ after the unload)", status);
	snprintf(cmd, sizeof(cmd), "modprobe vramsim vram_size=%s prepare=%s evict=%s",
		 size, prepare, evict[0] == 'Y' ? "on" : "off");
	ASSERT_EQ(system(cmd), 0);
	self->fd = vramsim_open_render_node();
	ASSERT_GE(self->fd, 0);
}

/* --- uapi 2.0: QUERY, the version, STATS gone to debugfs ---------------- */

/* vramsim loaded and device 0's VRAM idle: its render node, or -1. */
static int open_idle(struct __test_metadata *_metadata)
{
	struct vramsim_stats s;
	int fd = vramsim_open_render_node();

	if (fd < 0)
		return -1;
	EXPECT_TRUE(wait_vram_idle(fd, &s));
	return fd;
}

/*
 * QUERY: the size the module parameter gave, all of it free when idle,
 * device 0; a migration's bytes in use while they are on the device.
 */
TEST(query)
{
	struct drm_vramsim_query q;
	__u64 size = vramsim_param_vram_size(0), moved;
	int fd = open_idle(_metadata);
	char *buf;

	ASSERT_GE(fd, 0) TH_LOG("no vramsim render node: is the module loaded?");
	ASSERT_NE(size, 0);
	ASSERT_EQ(vs_query(fd, &q), 0);
	EXPECT_EQ(q.vram_size, size);
	EXPECT_EQ(q.vram_free, size);
	EXPECT_EQ(q.device, 0);
	EXPECT_EQ(q.pad, 0);

	buf = vramsim_map_aligned(SZ_4M, MADV_HUGEPAGE);
	ASSERT_NE(buf, NULL);
	fill(buf, SZ_4M, 21);
	ASSERT_EQ(vs_migrate(fd, TO_DEV, buf, SZ_4M, &moved), 0);
	ASSERT_EQ(moved, SZ_4M);
	ASSERT_EQ(vs_query(fd, &q), 0);
	EXPECT_EQ(q.vram_size, size);
	EXPECT_EQ(q.vram_free, size - SZ_4M);
	ASSERT_EQ(vs_migrate(fd, TO_RAM, buf, SZ_4M, &moved), 0);
	EXPECT_EQ(check(buf, SZ_4M, 21), -1);
	munmap(buf, SZ_4M);
	close(fd);
}

/*
 * QUERY is output only (_IOR): whatever the caller's structure holds, pad
 * included, comes back overwritten, never refused; an encoding with the
 * write bit copies nothing in either.  A shorter structure (an older
 * caller) gets what fits, a longer one (a newer caller) zeroes past it.
 */
TEST(query_output_only)
{
	struct drm_vramsim_query q, ref;
	unsigned char big[32];	/* a newer caller's structure */
	__u64 size = vramsim_param_vram_size(0);
	int fd = open_idle(_metadata);
	unsigned int i;

	ASSERT_GE(fd, 0);
	memset(&q, 0xa5, sizeof(q));
	ASSERT_EQ(ioctl(fd, DRM_IOCTL_VRAMSIM_QUERY, &q), 0);
	EXPECT_EQ(q.vram_size, size);
	EXPECT_EQ(q.vram_free, size);
	EXPECT_EQ(q.device, 0);
	EXPECT_EQ(q.pad, 0);
	ref = q;

	memset(&q, 0xa5, sizeof(q));
	ASSERT_EQ(ioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_QUERY,
				     struct drm_vramsim_query), &q), 0);
	EXPECT_EQ(memcmp(&q, &ref, sizeof(q)), 0);

	memset(&q, 0xa5, sizeof(q));
	ASSERT_EQ(ioctl(fd, DRM_IOR(DRM_COMMAND_BASE + DRM_VRAMSIM_QUERY, __u64), &q), 0);
	EXPECT_EQ(q.vram_size, size);
	EXPECT_EQ(q.device, 0xa5a5a5a5);
	EXPECT_EQ(q.pad, 0xa5a5a5a5);

	memset(big, 0xa5, sizeof(big));
	ASSERT_EQ(ioctl(fd, DRM_IOR(DRM_COMMAND_BASE + DRM_VRAMSIM_QUERY, char[32]), big), 0);
	EXPECT_EQ(memcmp(big, &ref, sizeof(ref)), 0);
	for (i = sizeof(ref); i < sizeof(big); i++)
		EXPECT_EQ(big[i], 0) TH_LOG("byte %u past the structure", i);
	close(fd);
}

/*
 * The number DRM_IOCTL_VRAMSIM_STATS had in 1.x (0x00) is empty: EINVAL
 * for a 1.x caller (1.0's 280 bytes, 1.1-1.3's 320) and any other
 * encoding, with nothing copied back.
 */
TEST(stats_ioctl_gone)
{
	const unsigned long cmds[] = {
		_IOR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00, char[280]),
		_IOR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00, char[320]),
		_IO(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00),
		_IOWR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00, char[24]),
	};
	unsigned char buf[320];
	int fd = open_idle(_metadata);
	unsigned int i, j;

	ASSERT_GE(fd, 0);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(buf, 0x5a, sizeof(buf));
		errno = 0;
		EXPECT_EQ(ioctl(fd, cmds[i], buf), -1);
		EXPECT_EQ(errno, EINVAL) TH_LOG("cmd %#lx", cmds[i]);
		for (j = 0; j < sizeof(buf) && buf[j] == 0x5a; j++)
			;
		EXPECT_EQ(j, sizeof(buf)) TH_LOG("cmd %#lx wrote byte %u", cmds[i], j);
	}
	close(fd);
}

/* DRM_IOCTL_VERSION: vramsim 2.0, the uapi's version. */
TEST(version)
{
	char name[16] = "";
	struct drm_version v = {
		.name_len = sizeof(name) - 1,
		.name = name,
	};
	int fd = vramsim_open_render_node();

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ioctl(fd, DRM_IOCTL_VERSION, &v), 0);
	EXPECT_EQ(v.version_major, 2);
	EXPECT_EQ(v.version_minor, 0);
	EXPECT_EQ(v.version_major, VRAMSIM_UAPI_MAJOR);
	EXPECT_EQ(v.version_minor, VRAMSIM_UAPI_MINOR);
	EXPECT_STREQ(name, "vramsim");
	close(fd);
}

/*
 * The debugfs file "stats" of the node's device (found from the node, as
 * vs_stats() does): every key, in order, one "key: value" line each, the
 * per-order ones with ten values; the policy and size the module
 * parameters say, device 0, and what QUERY says.
 */
TEST(debugfs_stats)
{
	static const char * const keys[] = {
		"prepare", "vram_size", "vram_free", "pending_frees", "splits",
		"live_folios", "allocs", "frees", "evictions", "evicted_bytes",
		"evict_skipped", "evict_no_ram", "evict_split", "peer_bytes",
		"device",
	};
	char dir[96], path[128], text[2048], prepare[16], *line, *next;
	struct drm_vramsim_query q;
	struct vramsim_stats s;
	int fd = open_idle(_metadata);
	unsigned int k = 0;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(vramsim_debugfs_dir(fd, dir, sizeof(dir)), 0);
	EXPECT_STREQ(dir, "/sys/kernel/debug/dri/vramsim");
	snprintf(path, sizeof(path), "%s/stats", dir);
	ASSERT_EQ(vramsim_read_file(path, text, sizeof(text)), 0);
	for (line = text; *line && k < ARRAY_SIZE(keys); line = next, k++) {
		size_t len = strlen(keys[k]);
		char *tok, *save, *end;
		int values = 0;

		next = strchr(line, '\n');
		ASSERT_NE(next, NULL);
		*next++ = '\0';
		ASSERT_TRUE(!strncmp(line, keys[k], len) && !strncmp(line + len, ": ", 2))
			TH_LOG("line %u: \"%s\", expected key %s", k + 1, line, keys[k]);
		for (tok = strtok_r(line + len + 2, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save), values++) {
			if (k)	/* all but the policy's name are numbers */
				strtoull(tok, &end, 10);
			EXPECT_TRUE(!k || (end != tok && !*end)) TH_LOG("%s: \"%s\"", keys[k], tok);
		}
		EXPECT_EQ(values, k >= 5 && k <= 7 ? VRAMSIM_NR_ORDERS : 1) TH_LOG("%s", keys[k]);
	}
	EXPECT_EQ(k, ARRAY_SIZE(keys));
	EXPECT_STREQ(line, "");

	ASSERT_EQ(vs_stats(fd, &s), 0);
	ASSERT_EQ(vs_query(fd, &q), 0);
	ASSERT_EQ(read_param("prepare", prepare, sizeof(prepare)), 0);
	EXPECT_STREQ(vramsim_prepare_name(s.prepare), prepare);
	EXPECT_EQ(s.vram_size, vramsim_param_vram_size(0));
	EXPECT_EQ(s.vram_free, q.vram_free);
	EXPECT_EQ(s.device, 0);
	EXPECT_EQ(s.pending_frees, 0);
	EXPECT_EQ(live_folios(&s), 0);
	close(fd);
}

TEST_HARNESS_MAIN
