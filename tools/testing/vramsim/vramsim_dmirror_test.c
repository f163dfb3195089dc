// SPDX-License-Identifier: GPL-2.0
/*
 * vramsim's dmirror interface (/dev/vramsim_dmirrorN, the ioctls of
 * lib/test_hmm_uapi.h): what hmm-tests does not cover.  Run with vramsim
 * loaded, num_devices=2, as root.
 *
 *   bad_input             every malformed command: -EINVAL or -EFAULT,
 *                         nothing written back
 *   fail_alloc_disarm     FLAGS 0 disarms FAIL_ALLOC (test_hmm: -EINVAL),
 *                         an armed flag never reaches a CPU fault
 *   fail_alloc_small      FAIL_ALLOC on 4 KiB pages: -ENOENT to the
 *                         device, -ENOMEM to RAM, one shot each
 *   read_entry_lost       a device READ of pages on this device whose
 *                         entries an mprotect() and a fork() erased (test_hmm
 *                         maps the device-private page and oopses)
 *   write_after_fork      a device WRITE of read-only device pages after
 *                         fork: copy on write, the child keeps its data
 *                         (test_hmm WARNs)
 *   write_after_madv_free a device WRITE of pages MADV_FREE made clean,
 *                         then MADV_PAGEOUT: the data stay (the device's
 *                         write dirties the page, which its CPU page table
 *                         does not see)
 *   other_device          a page on device 1: READ through device 0 brings
 *                         it home, MIGRATE_TO_DEV leaves it (-ENOENT)
 *   thp_inside            a device THP read, written and snapshot from
 *                         inside it, through a second file of the device
 *                         (its page table empty): the pages at those
 *                         addresses, not the THP's first ones (7.3's
 *                         hmm_range_fault(), fixed by patches/0005)
 *   thp_other_device      a THP on device 1, snapshot through device 0:
 *                         no valid page, as for a 4 KiB one, not an error
 *                         (7.3, fixed by patches/0006)
 *   release               RELEASE moves everything to RAM, the device stays
 *                         usable, every byte intact
 *   close_with_pages      the file closed with pages in VRAM: they stay,
 *                         and read back
 *   removal               device 1 removed with a dmirror file open on it:
 *                         its pages come home, the file answers -ENODEV
 *   race_invalidate       device reads and writes of one buffer racing
 *                         migrations both ways, mprotect, fork and CPU
 *                         faults, two threads; every byte checked
 *   two_processes         two processes, each with its own file and buffer,
 *                         migrating and accessing at once
 *   exclusive_vs_zap      EXCLUSIVE and device READs of a page while
 *                         another thread zaps it (MADV_DONTNEED) and
 *                         writes it: no entry outlives the page (KASAN
 *                         would see the device read a freed page)
 *   random_commands       two threads send random commands (numbers,
 *                         addresses, lengths, buffers, flags) on one file
 *                         while a third remaps the memory under them: an
 *                         errno of the interface's list or 0, every byte of
 *                         the data buffer intact
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_hmm_uapi.h"
#include "vramsim_lib.h"

#define SZ_4K		4096UL
#define SZ_2M		(2UL << 20)
#define DMIRROR_TIMEOUT	120

static int dmirror_open(int dev)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vramsim_dmirror%d", dev);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* One command on @npages pages at @addr, @ptr the buffer: 0 or -errno. */
static int dmirror(int fd, unsigned long req, void *addr, void *ptr,
		   unsigned long npages, struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd c = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)ptr,
		.npages = npages,
		.cpages = 0xdead,
		.faults = 0xbeef,
	};
	int ret;

	do {
		ret = ioctl(fd, req, &c) ? -errno : 0;
	} while (ret == -EINTR);
	if (out)
		*out = c;
	return ret;
}

static int dmirror_flags(int fd, __u64 flags)
{
	struct hmm_dmirror_cmd c = { .npages = flags };

	return ioctl(fd, HMM_DMIRROR_FLAGS, &c) ? -errno : 0;
}

/*
 * The buffers most tests use: @buf, @len bytes of private anonymous memory
 * on a 2 MiB boundary with madvise(@advice) (none if negative), filled with
 * @salt; @out, as long, for what the device reads.  0, or -1 (both NULL).
 */
static int dm_buffers(size_t len, int advice, __u64 salt, char **buf,
		      char **out)
{
	*buf = vramsim_map_aligned(len, advice);
	*out = malloc(len);
	if (!*buf || !*out) {
		if (*buf)
			munmap(*buf, len);
		free(*out);
		*buf = *out = NULL;
		return -1;
	}
	fill(*buf, len, salt);
	return 0;
}

static void dm_free(char *buf, char *out, size_t len)
{
	munmap(buf, len);
	free(out);
}

FIXTURE(dmirror) {
	int fd, fd1, render;
	struct vramsim_stats s;
	size_t vram;
};

FIXTURE_SETUP(dmirror)
{
	self->render = vramsim_open_render_node();
	ASSERT_GE(self->render, 0) TH_LOG("vramsim is not loaded");
	ASSERT_TRUE(wait_vram_idle(self->render, &self->s));
	self->vram = self->s.vram_size;
	self->fd = dmirror_open(0);
	ASSERT_GE(self->fd, 0) TH_LOG("no /dev/vramsim_dmirror0: %s", strerror(errno));
	self->fd1 = dmirror_open(1);
	ASSERT_GE(self->fd1, 0) TH_LOG("load vramsim with num_devices=2");
}

FIXTURE_TEARDOWN(dmirror)
{
	struct vramsim_stats s;

	close(self->fd);
	close(self->fd1);
	EXPECT_TRUE(wait_vram_idle(self->render, &s))
		TH_LOG("leak: %llu of %llu bytes free, %llu live folios",
		       (unsigned long long)s.vram_free,
		       (unsigned long long)s.vram_size,
		       (unsigned long long)live_folios(&s));
	close(self->render);
}

TEST_F(dmirror, bad_input)
{
	struct hmm_dmirror_cmd c, before;
	char *buf, *out;
	unsigned long n = SZ_2M / SZ_4K;

	ASSERT_EQ(dm_buffers(SZ_2M, -1, 1, &buf, &out), 0);

	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf + 1, out, 1, NULL), -EINVAL);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, 0, NULL), -EINVAL);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, 1UL << 52, NULL), -EINVAL);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, (void *)-4096UL, out, 1, NULL), -EINVAL);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, (void *)(1UL << 47), out, 1, NULL),
		  -EINVAL);
	EXPECT_EQ(dmirror(self->fd, _IOWR('H', 0x0a, struct hmm_dmirror_cmd), buf, out, 1, NULL),
		  -EINVAL);
	EXPECT_EQ(dmirror_flags(self->fd, 2), -EINVAL);
	EXPECT_EQ(dmirror_flags(self->fd, 0), 0);
	EXPECT_EQ(ioctl(self->fd, HMM_DMIRROR_READ, NULL), -1);
	EXPECT_EQ(errno, EFAULT);

	/* A hole: nothing to read, nothing to migrate. */
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf + SZ_2M, out, 1, NULL), -EFAULT);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf + SZ_2M, out, 1, NULL),
		  -EINVAL);

	/* A bad buffer: -EFAULT, and the command is not written back. */
	before = (struct hmm_dmirror_cmd){ .addr = (uintptr_t)buf, .ptr = 8,
					   .npages = n, .cpages = 77, .faults = 78 };
	c = before;
	EXPECT_EQ(ioctl(self->fd, HMM_DMIRROR_READ, &c), -1);
	EXPECT_EQ(errno, EFAULT);
	EXPECT_EQ(memcmp(&c, &before, sizeof(c)), 0);
	c = before;
	EXPECT_EQ(ioctl(self->fd, HMM_DMIRROR_WRITE, &c), -1);
	EXPECT_EQ(errno, EFAULT);
	c = before;
	EXPECT_EQ(ioctl(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, &c), -1);
	EXPECT_EQ(errno, EFAULT);
	c = before;
	EXPECT_EQ(ioctl(self->fd, HMM_DMIRROR_SNAPSHOT, &c), -1);
	EXPECT_EQ(errno, EFAULT);

	/* The data went nowhere (the migration did happen: bring it back). */
	EXPECT_EQ(check(buf, SZ_2M, 1), -1);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_EQ(check(out, SZ_2M, 1), -1);
	dm_free(buf, out, SZ_2M);
}

/*
 * test_hmm: FLAGS with 0 is -EINVAL, so FAIL_ALLOC cannot be disarmed, and
 * the next CPU fault of a device page fails its allocation (VM_FAULT_OOM
 * leaks to the page-fault handler).  Here 0 disarms, and CPU faults never
 * see the flag.
 */
TEST_F(dmirror, fail_alloc_disarm)
{
	unsigned long n = SZ_2M / SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;

	ASSERT_EQ(dm_buffers(SZ_2M, MADV_NOHUGEPAGE, 2, &buf, &out), 0);

	ASSERT_EQ(dmirror_flags(self->fd, HMM_DMIRROR_FLAG_FAIL_ALLOC), 0);
	ASSERT_EQ(dmirror_flags(self->fd, 0), 0);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_TRUE(on_device(buf));

	/* Armed, then the CPU faults everything home: no allocation fails. */
	ASSERT_EQ(dmirror_flags(self->fd, HMM_DMIRROR_FLAG_FAIL_ALLOC), 0);
	EXPECT_EQ(check(buf, SZ_2M, 2), -1);
	EXPECT_FALSE(on_device(buf + SZ_2M - SZ_4K));
	ASSERT_EQ(dmirror_flags(self->fd, 0), 0);
	dm_free(buf, out, SZ_2M);
}

TEST_F(dmirror, fail_alloc_small)
{
	unsigned long n = 16;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 3, &buf, &out), 0);

	/* The first page finds no VRAM: it stays, and so does the rest. */
	ASSERT_EQ(dmirror_flags(self->fd, HMM_DMIRROR_FLAG_FAIL_ALLOC), 0);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), -ENOENT);
	EXPECT_FALSE(on_device(buf));
	/* One shot: the next migration moves all. */
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_EQ(check(out, len, 3), -1);

	/* Back to RAM: the first page finds no RAM, -ENOMEM; then all move. */
	ASSERT_EQ(dmirror_flags(self->fd, HMM_DMIRROR_FLAG_FAIL_ALLOC), 0);
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_SYS, buf, out, n, &c), -ENOMEM);
	EXPECT_TRUE(on_device(buf));
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_SYS, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_FALSE(on_device(buf));
	EXPECT_EQ(check(buf, len, 3), -1);
	dm_free(buf, out, len);
}

/*
 * Pages on this device whose mirror entries are gone: a device READ gets
 * the device-private pages from hmm_range_fault() and must read them from
 * VRAM, not map them.
 */
TEST_F(dmirror, read_entry_lost)
{
	unsigned long n = 64;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;
	int status;
	pid_t pid;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 4, &buf, &out), 0);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);

	/* mprotect() invalidates the entries; the pages stay in VRAM. */
	ASSERT_EQ(mprotect(buf, len, PROT_READ), 0);
	ASSERT_EQ(mprotect(buf, len, PROT_READ | PROT_WRITE), 0);
	EXPECT_TRUE(on_device(buf));
	memset(out, 0, len);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_EQ(c.faults, 1);
	EXPECT_EQ(check(out, len, 4), -1);
	EXPECT_TRUE(on_device(buf + len - SZ_4K));

	/* So does fork(), which write-protects them in both processes. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(check(buf, len, 4) == -1 ? 0 : 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	memset(out, 0, len);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, n, &c), 0);
	EXPECT_EQ(check(out, len, 4), -1);
	EXPECT_EQ(check(buf, len, 4), -1);
	dm_free(buf, out, len);
}

/*
 * A device WRITE of pages on this device that fork() made read-only:
 * test_hmm WARNs (its fault pass stores a read-only device page for a
 * write).  The write must copy on write: the parent sees the new data, the
 * child the old.
 */
TEST_F(dmirror, write_after_fork)
{
	unsigned long n = 64;
	size_t len = n * SZ_4K;
	char *buf, *out;
	int ready[2], go[2], status;
	struct hmm_dmirror_cmd c;
	pid_t pid;
	char x;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 5, &buf, &out), 0);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);

	pid = vs_fork_paired(ready, go);
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (write(ready[1], "r", 1) != 1 || read(go[0], &x, 1) != 1)
			_exit(2);
		_exit(check(buf, len, 5) == -1 ? 0 : 1);
	}
	ASSERT_EQ(read(ready[0], &x, 1), 1);

	fill(out, len, 6);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_WRITE, buf, out, n, &c), 0);
	EXPECT_EQ(c.cpages, n);
	EXPECT_EQ(c.faults, 1);
	memset(out, 0, len);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, n, &c), 0);
	EXPECT_EQ(check(out, len, 6), -1);

	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0) TH_LOG("the child saw the parent's write");
	EXPECT_EQ(check(buf, len, 6), -1);
	dm_free(buf, out, len);
}

TEST_F(dmirror, write_after_madv_free)
{
	unsigned long n = 64;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 12, &buf, &out), 0);
	/*
	 * Clean and lazily freeable; the mapping stays writable, so the
	 * device's write faults nothing and nothing marks the page dirty
	 * but the device.
	 */
	ASSERT_EQ(madvise(buf, len, MADV_FREE), 0);
	fill(out, len, 13);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_WRITE, buf, out, n, &c), 0);
	/* Reclaim them now: a clean lazyfree page is dropped, a dirty one kept. */
	if (madvise(buf, len, MADV_PAGEOUT))
		SKIP(return, "MADV_PAGEOUT: %s", strerror(errno));
	EXPECT_EQ(check(buf, len, 13), -1) TH_LOG("the device's write was lost");
	dm_free(buf, out, len);
}

TEST_F(dmirror, other_device)
{
	unsigned long n = 32;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 7, &buf, &out), 0);
	ASSERT_EQ(dmirror(self->fd1, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	EXPECT_TRUE(on_device(buf));

	/* Not moved from device 1 to device 0: -ENOENT, as test_hmm. */
	EXPECT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), -ENOENT);
	EXPECT_TRUE(on_device(buf));
	/* Device 0 reads them: they come home first. */
	memset(out, 0, len);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_READ, buf, out, n, &c), 0);
	EXPECT_EQ(check(out, len, 7), -1);
	EXPECT_FALSE(on_device(buf));
	EXPECT_EQ(check(buf, len, 7), -1);
	dm_free(buf, out, len);
}

/*
 * @buf (@len, a multiple of 2 MiB) migrated to @fd's device: true if it
 * went as a device THP (false: the caller skips, no THP to be had); a
 * failed migration or snapshot fails the test.
 */
static bool thp_on_device(struct __test_metadata *_metadata, int fd, char *buf,
			  char *out, size_t len)
{
	unsigned char *snap = (unsigned char *)out;

	EXPECT_EQ(dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, len / SZ_4K, NULL), 0);
	EXPECT_EQ(dmirror(fd, HMM_DMIRROR_SNAPSHOT, buf, snap, len / SZ_4K, NULL), 0);
	return snap[0] == (HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_PMD |
			   HMM_DMIRROR_PROT_WRITE);
}

/*
 * A device THP accessed from inside: a second file of the same device has
 * no entries, so its READ faults in the range from an address inside the
 * THP, and hmm_range_fault() reports this device's PMD entry.  7.3 gave
 * the THP's first pfns for the pages from that address on: the device
 * read and wrote the first pages instead (patches/0005).
 */
TEST_F(dmirror, thp_inside)
{
	const size_t off = SZ_2M / 2 + 5 * SZ_4K, n = 16, len = n * SZ_4K;
	unsigned char *snap;
	char *buf, *out;
	size_t i;
	int fd2;

	ASSERT_EQ(dm_buffers(SZ_2M, MADV_HUGEPAGE, 51, &buf, &out), 0);
	fd2 = dmirror_open(0);
	ASSERT_GE(fd2, 0);
	if (!thp_on_device(_metadata, self->fd, buf, out, SZ_2M)) {
		close(fd2);
		dm_free(buf, out, SZ_2M);
		if (_metadata->exit_code == KSFT_PASS)
			SKIP(return, "no device THP");
		return;
	}

	/* READ: the pages at buf + off. */
	ASSERT_EQ(dmirror(fd2, HMM_DMIRROR_READ, buf + off, out, n, NULL), 0);
	/* word k of @out is word off / 8 + k of the buffer */
	EXPECT_EQ(check_at(out - off, off, len, 51), -1)
		TH_LOG("the device read other pages of the THP than those at +%#zx", off);

	/* SNAPSHOT from inside: this device's THP, page after page. */
	snap = (unsigned char *)out;
	ASSERT_EQ(dmirror(fd2, HMM_DMIRROR_SNAPSHOT, buf + off, snap, n, NULL), 0);
	for (i = 0; i < n; i++)
		EXPECT_EQ(snap[i], HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_PMD |
				   HMM_DMIRROR_PROT_WRITE);

	/* WRITE from inside: those pages change, and only those. */
	fill(out, len, 52);
	ASSERT_EQ(dmirror(fd2, HMM_DMIRROR_WRITE, buf + off, out, n, NULL), 0);
	EXPECT_EQ(check_at(buf, 0, off, 51), -1) TH_LOG("a page before +%#zx changed", off);
	EXPECT_EQ(check(buf + off, len, 52), -1) TH_LOG("the device's write is not there");
	EXPECT_EQ(check_at(buf, off + len, SZ_2M - off - len, 51), -1)
		TH_LOG("a page after the write changed");

	close(fd2);
	dm_free(buf, out, SZ_2M);
}

/*
 * A THP on device 1 as device 0 sees it, from its start and from inside:
 * not valid (PROT_NONE), as hmm-tests' hmm2.snapshot expects of a 4 KiB
 * page on the other device.  7.3 reported the PMD as an error
 * (patches/0006).
 */
TEST_F(dmirror, thp_other_device)
{
	unsigned char *snap;
	char *buf, *out;
	size_t i, n = SZ_2M / SZ_4K;

	ASSERT_EQ(dm_buffers(SZ_2M, MADV_HUGEPAGE, 53, &buf, &out), 0);
	if (!thp_on_device(_metadata, self->fd1, buf, out, SZ_2M)) {
		dm_free(buf, out, SZ_2M);
		if (_metadata->exit_code == KSFT_PASS)
			SKIP(return, "no device THP");
		return;
	}
	snap = (unsigned char *)out;
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_SNAPSHOT, buf, snap, n, NULL), 0);
	for (i = 0; i < n; i++)
		if (snap[i] != HMM_DMIRROR_PROT_NONE)
			break;
	EXPECT_EQ(i, n) TH_LOG("page %zu: %#x", i, snap[i]);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_SNAPSHOT, buf + SZ_2M / 2, snap, 8, NULL), 0);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(snap[i], HMM_DMIRROR_PROT_NONE);
	/* The CPU brings it home from device 1, intact. */
	EXPECT_EQ(check(buf, SZ_2M, 53), -1);
	dm_free(buf, out, SZ_2M);
}

TEST_F(dmirror, release)
{
	size_t len = 4 * SZ_2M;
	unsigned long n = len / SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;
	struct vramsim_stats s;

	ASSERT_EQ(dm_buffers(len, MADV_HUGEPAGE, 8, &buf, &out), 0);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_RELEASE, buf, out, n, &c), 0);
	ASSERT_TRUE(wait_vram_idle(self->render, &s));
	EXPECT_FALSE(on_device(buf));
	EXPECT_FALSE(on_device(buf + len - SZ_4K));

	/* Still usable. */
	ASSERT_EQ(dmirror(self->fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	EXPECT_EQ(check(out, len, 8), -1);
	EXPECT_EQ(check(buf, len, 8), -1);
	dm_free(buf, out, len);
}

TEST_F(dmirror, close_with_pages)
{
	unsigned long n = 32;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;
	int fd = dmirror_open(0);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 9, &buf, &out), 0);
	ASSERT_EQ(dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);
	close(fd);
	EXPECT_TRUE(on_device(buf));
	EXPECT_EQ(check(buf, len, 9), -1);
	dm_free(buf, out, len);
}

TEST_F(dmirror, removal)
{
	unsigned long n = 64;
	size_t len = n * SZ_4K;
	char *buf, *out;
	struct hmm_dmirror_cmd c;

	ASSERT_EQ(dm_buffers(len, MADV_NOHUGEPAGE, 10, &buf, &out), 0);
	ASSERT_EQ(dmirror(self->fd1, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), 0);

	ASSERT_EQ(vramsim_set_num_devices(1), 0);
	EXPECT_FALSE(on_device(buf));
	EXPECT_EQ(dmirror(self->fd1, HMM_DMIRROR_READ, buf, out, n, &c), -ENODEV);
	EXPECT_EQ(dmirror(self->fd1, HMM_DMIRROR_MIGRATE_TO_DEV, buf, out, n, &c), -ENODEV);
	EXPECT_EQ(check(buf, len, 10), -1);
	EXPECT_LT(dmirror_open(1), 0);
	close(self->fd1);
	ASSERT_EQ(vramsim_set_num_devices(2), 0);
	self->fd1 = dmirror_open(1);
	ASSERT_GE(self->fd1, 0);
	dm_free(buf, out, len);
}

struct racer {
	int fd, render;
	char *buf;
	size_t len;
	atomic_bool stop;
	atomic_ulong rounds, errors;
};

/* Data-preserving invalidations of the buffer, until told to stop. */
static void *invalidator(void *arg)
{
	struct racer *r = arg;
	unsigned long i = 0;
	__u64 moved;
	int status;
	pid_t pid;

	while (!atomic_load(&r->stop)) {
		size_t off = (i * 7 % (r->len / SZ_4K)) * SZ_4K;

		switch (i++ % 5) {
		case 0:
			vs_migrate(r->render, VRAMSIM_TO_DEV, r->buf, r->len, &moved);
			break;
		case 1:
			vs_migrate(r->render, VRAMSIM_TO_RAM, r->buf, r->len / 2, &moved);
			break;
		case 2:
			mprotect(r->buf, r->len, PROT_READ);
			mprotect(r->buf, r->len, PROT_READ | PROT_WRITE);
			break;
		case 3:
			pid = fork();
			if (!pid)
				_exit(0);
			if (pid > 0)
				waitpid(pid, &status, 0);
			break;
		case 4:
			__atomic_load_n(&r->buf[off], __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

/* Device reads and writes: each round checks the last salt, writes the next. */
static void *accessor(void *arg)
{
	struct racer *r = arg;
	unsigned long n = r->len / SZ_4K;
	struct hmm_dmirror_cmd c;
	char *out = malloc(r->len);
	__u64 salt = 100;
	int ret;

	if (!out) {
		atomic_fetch_add(&r->errors, 1);
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		ret = dmirror(r->fd, HMM_DMIRROR_READ, r->buf, out, n, &c);
		if (ret == -EBUSY)
			continue;
		if (ret || check(out, r->len, salt) != -1) {
			fprintf(stderr, "# read: %s, first bad word %ld\n",
				strerror(-ret), ret ? 0 : check(out, r->len, salt));
			atomic_fetch_add(&r->errors, 1);
			break;
		}
		/*
		 * -EPERM while the invalidator has the buffer read-only: the
		 * pages before the one refused have the new data already, so
		 * write all of it again until it goes through.
		 */
		fill(out, r->len, ++salt);
		do {
			ret = dmirror(r->fd, HMM_DMIRROR_WRITE, r->buf, out, n, &c);
		} while (ret == -EBUSY || ret == -EPERM);
		if (ret) {
			fprintf(stderr, "# write: %s\n", strerror(-ret));
			atomic_fetch_add(&r->errors, 1);
			break;
		}
		atomic_fetch_add(&r->rounds, 1);
	}
	/* The CPU sees the last write. */
	if (check(r->buf, r->len, salt) != -1)
		atomic_fetch_add(&r->errors, 1);
	free(out);
	return NULL;
}

/* Race for @seconds with a buffer of @len: 0, or the number of errors. */
static unsigned long race(int fd, int render, size_t len, int advice,
			  unsigned int seconds, unsigned long *rounds)
{
	struct racer r = { .fd = fd, .render = render, .len = len };
	pthread_t a, b;

	r.buf = vramsim_map_aligned(len, advice);
	if (!r.buf)
		return 1;
	fill(r.buf, len, 100);
	if (pthread_create(&a, NULL, accessor, &r))
		return 1;
	if (pthread_create(&b, NULL, invalidator, &r)) {
		atomic_store(&r.stop, true);
		pthread_join(a, NULL);
		return 1;
	}
	sleep(seconds);
	atomic_store(&r.stop, true);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	munmap(r.buf, len);
	*rounds = atomic_load(&r.rounds);
	return atomic_load(&r.errors);
}

static unsigned int race_seconds(void)
{
	const char *s = getenv("VRAMSIM_RACE_SECONDS");

	return s ? atoi(s) : 6;
}

TEST_F_TIMEOUT(dmirror, race_invalidate, DMIRROR_TIMEOUT)
{
	unsigned long rounds = 0, thp_rounds = 0;

	/* A THP round moves and copies 2 MiB: it gets the longer share. */
	EXPECT_EQ(race(self->fd, self->render, 16 * SZ_4K, MADV_NOHUGEPAGE,
		       race_seconds() / 3, &rounds), 0);
	EXPECT_EQ(race(self->fd, self->render, SZ_2M, MADV_HUGEPAGE,
		       race_seconds() - race_seconds() / 3, &thp_rounds), 0);
	ksft_print_msg("%lu + %lu rounds\n", rounds, thp_rounds);
	EXPECT_GT(rounds, 0);
	EXPECT_GT(thp_rounds, 0);
}

TEST_F_TIMEOUT(dmirror, two_processes, DMIRROR_TIMEOUT)
{
	pid_t pids[2];
	int i, status;

	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (!pids[i]) {
			/* Each process its own file, as hmm-tests does. */
			int fd = dmirror_open(i);
			int render = vramsim_open_device(i);
			unsigned long rounds = 0;

			if (fd < 0 || render < 0)
				_exit(2);
			_exit(race(fd, render, 32 * SZ_4K, MADV_NOHUGEPAGE,
				   race_seconds() / 2, &rounds) || !rounds);
		}
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
		EXPECT_EQ(status, 0);
	}
}

struct zapper {
	char *page;
	atomic_bool stop;
	atomic_ulong zaps;
};

static void *zap_fn(void *arg)
{
	struct zapper *z = arg;
	__u64 v = 1;

	while (!atomic_load(&z->stop)) {
		madvise(z->page, SZ_4K, MADV_DONTNEED);
		__atomic_store_n((__u64 *)z->page, v++, __ATOMIC_RELAXED);
		atomic_fetch_add(&z->zaps, 1);
	}
	return NULL;
}

/*
 * EXCLUSIVE takes the page with the folio lock, which a zap does not
 * take: an entry stored after a zap would map a page freed meanwhile.
 * The device's reads after each EXCLUSIVE must see a value the CPU wrote
 * (0 between a zap and the write), never another page's bytes.
 */
TEST_F_TIMEOUT(dmirror, exclusive_vs_zap, DMIRROR_TIMEOUT)
{
	struct zapper z = {};
	unsigned long rounds = 0, busy = 0, bad = 0;
	struct hmm_dmirror_cmd c;
	__u64 out[SZ_4K / 8];
	time_t end;
	pthread_t t;
	int ret;

	z.page = vramsim_map_aligned(SZ_4K, MADV_NOHUGEPAGE);
	ASSERT_NE(z.page, NULL);
	__atomic_store_n((__u64 *)z.page, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(pthread_create(&t, NULL, zap_fn, &z), 0);
	end = time(NULL) + race_seconds();
	while (time(NULL) < end) {
		__u64 seen;

		/*
		 * -EBUSY: the page kept changing; -ENOENT: a zap took it
		 * between the conversion and EXCLUSIVE's read of it.
		 */
		ret = dmirror(self->fd, HMM_DMIRROR_EXCLUSIVE, z.page, out, 1, &c);
		if (ret == -EBUSY || ret == -ENOENT) {
			busy++;
			continue;
		}
		if (ret) {
			TH_LOG("EXCLUSIVE: %s", strerror(-ret));
			bad++;
			break;
		}
		ret = dmirror(self->fd, HMM_DMIRROR_READ, z.page, out, 1, &c);
		/* The zapper has written at most this value by now. */
		seen = atomic_load(&z.zaps) + 1;
		if (ret && ret != -EBUSY) {
			TH_LOG("READ: %s", strerror(-ret));
			bad++;
			break;
		}
		/* 0 (zapped) or a value the CPU wrote; the rest of the page 0. */
		if (!ret && (out[0] > seen || out[1])) {
			TH_LOG("read %llu (at most %llu written), then %llu: not the page's",
			       (unsigned long long)out[0], (unsigned long long)seen,
			       (unsigned long long)out[1]);
			bad++;
			break;
		}
		rounds++;
	}
	atomic_store(&z.stop, true);
	pthread_join(t, NULL);
	ksft_print_msg("%lu rounds, %lu lost to a zap, %lu zaps\n", rounds, busy,
		       atomic_load(&z.zaps));
	EXPECT_EQ(bad, 0);
	EXPECT_GT(rounds, 0);
	munmap(z.page, SZ_4K);
}

struct fuzzer {
	int fd;
	char *buf;		/* DATA_LEN of data, salt 11, never written */
	char *wild;		/* remapped, unmapped, protected by remapper() */
	char *out;		/* per-thread buffers follow, 2 x OUT_LEN */
	atomic_bool stop;
	atomic_ulong calls, bad;
	unsigned int seed;
};

#define DATA_LEN	(4 * SZ_2M)
#define WILD_LEN	(2 * SZ_2M)
#define OUT_LEN		(8 * SZ_2M)

static unsigned long fz_rand(unsigned int *seed)
{
	return (unsigned long)rand_r(seed) << 31 ^ rand_r(seed);
}

/* One of the places a command may point at. */
static uintptr_t fz_addr(struct fuzzer *f, unsigned int *seed, char *out)
{
	switch (rand_r(seed) % 9) {
	case 0: return (uintptr_t)f->buf + rand_r(seed) % (DATA_LEN / SZ_4K) * SZ_4K;
	case 1: return (uintptr_t)f->wild + rand_r(seed) % (WILD_LEN / SZ_4K) * SZ_4K;
	case 2: return (uintptr_t)out;
	case 3: return (uintptr_t)f->buf + rand_r(seed) % DATA_LEN;	/* unaligned */
	case 4: return 0;
	case 5: return (1UL << 47) - SZ_4K * (rand_r(seed) % 4);
	case 6: return -SZ_4K * (rand_r(seed) % 4 + 1);			/* kernel */
	case 7: return fz_rand(seed) & ~(SZ_4K - 1);
	default: return (uintptr_t)f->buf;
	}
}

static __u64 fz_npages(unsigned int *seed)
{
	switch (rand_r(seed) % 6) {
	case 0: return 0;
	case 1: return 1;
	case 2: return rand_r(seed) % 64 + 1;
	case 3: return SZ_2M / SZ_4K;
	case 4: return 1UL << (rand_r(seed) % 64);
	default: return rand_r(seed) % 16 + 1;
	}
}

/* The errnos the interface answers with: all but ENODEV and EINTR. */
static bool fz_errno_ok(int ret)
{
	switch (-ret) {
	case 0: case EINVAL: case EFAULT: case EPERM: case ENOENT:
	case ENOMEM: case EBUSY: case EOPNOTSUPP:
		return true;
	}
	return false;
}

static void *fz_thread(void *arg)
{
	struct fuzzer *f = arg;
	unsigned int seed = __atomic_add_fetch(&f->seed, 7919, __ATOMIC_RELAXED);
	char *out = f->out + (seed % 2) * OUT_LEN;

	while (!atomic_load(&f->stop)) {
		struct hmm_dmirror_cmd c = {
			.addr = fz_addr(f, &seed, out),
			.ptr = rand_r(&seed) % 4 ? (uintptr_t)out : fz_addr(f, &seed, out),
			.npages = fz_npages(&seed),
			.cpages = fz_rand(&seed),
			.faults = fz_rand(&seed),
		};
		unsigned int nr = rand_r(&seed) % 12;
		unsigned long req;
		int ret;

		/* Never a buffer the data live in: the data must stay. */
		if (c.ptr >= (uintptr_t)f->buf && c.ptr < (uintptr_t)f->buf + DATA_LEN)
			c.ptr = (uintptr_t)out;
		if (c.ptr == (uintptr_t)out)
			c.npages = c.npages % (OUT_LEN / SZ_4K) + 1;
		if (nr == 8)	/* FLAGS: mostly FAIL_ALLOC or 0 */
			c.npages = rand_r(&seed) % 4 ? rand_r(&seed) % 2 : fz_rand(&seed);
		req = rand_r(&seed) % 16 ? _IOWR('H', nr, struct hmm_dmirror_cmd) :
			fz_rand(&seed);
		/* A device write goes to the wild region or the buffer only. */
		if ((unsigned int)req == HMM_DMIRROR_WRITE) {
			size_t off = rand_r(&seed) % (WILD_LEN / SZ_4K) * SZ_4K;

			if (rand_r(&seed) % 2) {
				c.addr = (uintptr_t)f->wild + off;
				c.npages = c.npages % ((WILD_LEN - off) / SZ_4K) + 1;
			} else {
				c.addr = (uintptr_t)out;
				c.npages = c.npages % (OUT_LEN / SZ_4K) + 1;
			}
		}
		ret = ioctl(f->fd, req, &c) ? -errno : 0;
		if (!fz_errno_ok(ret)) {
			fprintf(stderr, "# cmd %#lx addr %#llx ptr %#llx npages %#llx: %s\n",
				req, (unsigned long long)c.addr, (unsigned long long)c.ptr,
				(unsigned long long)c.npages, strerror(-ret));
			atomic_fetch_add(&f->bad, 1);
		}
		atomic_fetch_add(&f->calls, 1);
	}
	dmirror_flags(f->fd, 0);
	return NULL;
}

/* Remap, unmap, protect and fill the wild region, over and over. */
static void *fz_remapper(void *arg)
{
	struct fuzzer *f = arg;
	unsigned int seed = 1;

	while (!atomic_load(&f->stop)) {
		size_t off = rand_r(&seed) % (WILD_LEN / SZ_4K) * SZ_4K;
		size_t len = (rand_r(&seed) % 64 + 1) * SZ_4K;

		if (off + len > WILD_LEN)
			len = WILD_LEN - off;
		switch (rand_r(&seed) % 4) {
		case 0:
			/* a failed mmap (ENOMEM) leaves what was there: no memset */
			if (mmap(f->wild + off, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
				memset(f->wild + off, rand_r(&seed), len);
			break;
		case 1:
			munmap(f->wild + off, len);
			break;
		case 2:
			mprotect(f->wild + off, len, rand_r(&seed) % 2 ? PROT_READ : PROT_NONE);
			break;
		case 3:
			madvise(f->wild + off, len, MADV_DONTNEED);
			break;
		}
		usleep(1000);
	}
	return NULL;
}

TEST_F_TIMEOUT(dmirror, random_commands, DMIRROR_TIMEOUT)
{
	struct fuzzer f = { .fd = self->fd, .seed = time(NULL) };
	pthread_t t[3];
	int i;

	ksft_print_msg("seed %u\n", f.seed);
	f.buf = vramsim_map_aligned(DATA_LEN, MADV_HUGEPAGE);
	f.wild = vramsim_map_aligned(WILD_LEN, -1);
	f.out = malloc(2 * OUT_LEN);
	ASSERT_NE(f.buf, NULL);
	ASSERT_NE(f.wild, NULL);
	ASSERT_NE(f.out, NULL);
	fill(f.buf, DATA_LEN, 11);
	ASSERT_EQ(pthread_create(&t[0], NULL, fz_thread, &f), 0);
	ASSERT_EQ(pthread_create(&t[1], NULL, fz_thread, &f), 0);
	ASSERT_EQ(pthread_create(&t[2], NULL, fz_remapper, &f), 0);
	sleep(race_seconds());
	atomic_store(&f.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ksft_print_msg("%lu calls\n", atomic_load(&f.calls));
	EXPECT_EQ(atomic_load(&f.bad), 0);
	EXPECT_GT(atomic_load(&f.calls), 50);
	EXPECT_EQ(check(f.buf, DATA_LEN, 11), -1);
	munmap(f.buf, DATA_LEN);
	munmap(f.wild, WILD_LEN);
	free(f.out);
}

TEST_HARNESS_MAIN
