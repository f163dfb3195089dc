/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by vramsim's userspace tools: finding the render node,
 * the ioctls, the driver's counters (from debugfs), mapping 2 MiB-aligned
 * anonymous buffers (what THP and 2 MiB device folios need), a data
 * pattern every byte of which is checked, and waiting for the VRAM to be
 * whole again.
 */
#ifndef _VRAMSIM_LIB_H_
#define _VRAMSIM_LIB_H_

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vramsim_drm.h"

#define VRAMSIM_SZ_2M	(2UL << 20)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Folio orders the driver counts: 0 (4 KiB) to 9 (2 MiB). */
#define VRAMSIM_NR_ORDERS	10

/* The policies, as the module parameter prepare and debugfs spell them. */
#define VRAMSIM_NR_PREPARE	3

/* vramsim_stats.prepare as the module parameter spells it. */
static inline const char *vramsim_prepare_name(unsigned int prepare)
{
	static const char * const names[VRAMSIM_NR_PREPARE] = { "driver", "alloc", "core" };

	return prepare < VRAMSIM_NR_PREPARE ? names[prepare] : "?";
}

/*
 * The render node of vramsim device @n (module parameter num_devices),
 * opened read-write, or -1.  Device 0's faux device is "vramsim", the
 * others' "vramsim.<n>".
 */
static inline int vramsim_open_device(int n)
{
	char pattern[64];
	glob_t g;
	size_t i;
	int fd = -1;

	if (n)
		snprintf(pattern, sizeof(pattern),
			 "/sys/devices/faux/vramsim.%d/drm/renderD*", n);
	else
		snprintf(pattern, sizeof(pattern),
			 "/sys/devices/faux/vramsim/drm/renderD*");
	if (glob(pattern, 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		char dev[64];

		snprintf(dev, sizeof(dev), "/dev/dri/%s", strrchr(g.gl_pathv[i], '/') + 1);
		fd = open(dev, O_RDWR | O_CLOEXEC);
	}
	globfree(&g);
	return fd;
}

/* The render node of vramsim device 0, opened read-write, or -1. */
static inline int vramsim_open_render_node(void)
{
	return vramsim_open_device(0);
}

/*
 * An anonymous private mapping of @len bytes starting on a 2 MiB boundary,
 * with madvise(@advice) unless @advice is negative; NULL on failure.
 */
static inline void *vramsim_map_aligned(size_t len, int advice)
{
	size_t span = len + VRAMSIM_SZ_2M;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + VRAMSIM_SZ_2M - 1) & ~(VRAMSIM_SZ_2M - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + span - (a + len));
	if (advice >= 0 && madvise(a, len, advice)) {
		munmap(a, len);
		return NULL;
	}
	return a;
}

/* /proc/pid/pagemap and /proc/kpageflags bits. */
#define PM_BIT(n)	(1ULL << (n))
#define PM_PFN_MASK	(PM_BIT(55) - 1)
#define PM_SWAP		PM_BIT(62)
#define PM_PRESENT	PM_BIT(63)
#define KPF_THP		22

static inline __u64 pagemap_entry(const void *addr)
{
	__u64 e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / 4096 * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

/* Is the page at @addr in RAM and part of a THP?  (Needs root for the pfn.) */
static inline bool in_thp(const void *addr)
{
	__u64 e = pagemap_entry(addr), flags = 0;
	int fd;

	if (!(e & PM_PRESENT))
		return false;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return false;
	if (pread(fd, &flags, 8, (e & PM_PFN_MASK) * 8) != 8)
		flags = 0;
	close(fd);
	return flags & (1ULL << KPF_THP);
}

/* A device-private entry: not present, shown as a swap entry. */
static inline bool on_device(const void *addr)
{
	__u64 e = pagemap_entry(addr);

	return !(e & PM_PRESENT) && (e & PM_SWAP);
}

#define VRAMSIM_TO_DEV	DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE
#define VRAMSIM_TO_RAM	DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM

/* DRM_IOCTL_VRAMSIM_QUERY: 0 or -errno. */
static inline int vs_query(int fd, struct drm_vramsim_query *q)
{
	memset(q, 0, sizeof(*q));
	return ioctl(fd, DRM_IOCTL_VRAMSIM_QUERY, q) ? -errno : 0;
}

/*
 * The driver's state and counters, from the debugfs file "stats" of a
 * device (DRM_IOCTL_VRAMSIM_STATS in uapi 1.x; debugging aids, not ABI).
 * Counts are since the device was created, except vram_free, pending_frees
 * and live_folios, which are the state now.
 */
struct vramsim_stats {
	__u32 prepare;		/* index for vramsim_prepare_name() */
	__u64 vram_size;
	__u64 vram_free;
	__u64 pending_frees;
	__u64 splits;
	__u64 live_folios[VRAMSIM_NR_ORDERS];
	__u64 allocs[VRAMSIM_NR_ORDERS];
	__u64 frees[VRAMSIM_NR_ORDERS];
	__u64 evictions;
	__u64 evicted_bytes;
	__u64 evict_skipped;
	__u64 evict_no_ram;
	__u64 evict_split;
	__u64 peer_bytes;
	__u32 device;
};

/*
 * The debugfs directory of the vramsim device whose node @fd is open
 * (/sys/kernel/debug/dri/vramsim or .../vramsim.<n>): DRM names it after
 * the parent of the node's device, the faux device, whose name is the
 * last component of /sys/dev/char/<major>:<minor>/device.  0 or -errno.
 */
static inline int vramsim_debugfs_dir(int fd, char *dir, size_t len)
{
	char link[256], path[64];
	const char *name;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strncmp(name, "vramsim", 7) || (name[7] && name[7] != '.'))
		return -ENODEV;
	snprintf(dir, len, "/sys/kernel/debug/dri/%.40s", name);
	return 0;
}

/*
 * Parse the "key: value" lines of a stats file into @s: 0, or -EPROTO if
 * a key is missing or malformed.  Unknown keys are skipped (not ABI: the
 * file may grow).
 */
static inline int vramsim_parse_stats(char *text, struct vramsim_stats *s)
{
	static const struct {
		const char *key;
		size_t off;
		int n;		/* values; 0: the policy's name */
	} keys[] = {
#define VS_KEY(f, n)	{ #f, offsetof(struct vramsim_stats, f), n }
		VS_KEY(prepare, 0),
		VS_KEY(vram_size, 1),
		VS_KEY(vram_free, 1),
		VS_KEY(pending_frees, 1),
		VS_KEY(splits, 1),
		VS_KEY(live_folios, VRAMSIM_NR_ORDERS),
		VS_KEY(allocs, VRAMSIM_NR_ORDERS),
		VS_KEY(frees, VRAMSIM_NR_ORDERS),
		VS_KEY(evictions, 1),
		VS_KEY(evicted_bytes, 1),
		VS_KEY(evict_skipped, 1),
		VS_KEY(evict_no_ram, 1),
		VS_KEY(evict_split, 1),
		VS_KEY(peer_bytes, 1),
		VS_KEY(device, -1),	/* a __u32 */
#undef VS_KEY
	};
	const unsigned int nkeys = ARRAY_SIZE(keys);
	unsigned int seen = 0, k;
	char *line, *next, *val, *end;
	int i;

	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		val = strstr(line, ": ");
		if (!val)
			continue;
		*val = '\0';
		val += 2;
		for (k = 0; k < nkeys && strcmp(line, keys[k].key); k++)
			;
		if (k == nkeys)
			continue;
		if (keys[k].n == 0) {
			for (i = 0; i < VRAMSIM_NR_PREPARE &&
			     strcmp(val, vramsim_prepare_name(i)); i++)
				;
			if (i == VRAMSIM_NR_PREPARE)
				return -EPROTO;
			s->prepare = i;
		} else if (keys[k].n < 0) {
			errno = 0;
			*(__u32 *)((char *)s + keys[k].off) = strtoul(val, &end, 10);
			if (errno || end == val || *end)
				return -EPROTO;
		} else {
			__u64 *v = (__u64 *)((char *)s + keys[k].off);

			for (i = 0; i < keys[k].n; i++) {
				errno = 0;
				v[i] = strtoull(val, &end, 10);
				if (errno || end == val)
					return -EPROTO;
				val = end;
			}
			if (*val)
				return -EPROTO;
		}
		seen |= 1U << k;
	}
	return seen == (1U << nkeys) - 1 ? 0 : -EPROTO;
}

/* File @path into @buf (at most @len - 1 bytes, then a NUL): 0 or -errno. */
static inline int vramsim_read_file(const char *path, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r = 0;
	int f, ret = 0;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	while (n < len - 1 && (r = read(f, buf + n, len - 1 - n)) > 0)
		n += r;
	if (r < 0)
		ret = -errno;
	close(f);
	buf[n] = '\0';
	return ret;
}

/*
 * The stats of the vramsim device whose node @fd is open, from its
 * debugfs file "stats" (needs root and debugfs): 0 or -errno.  Like the
 * ioctls, -ENODEV once the device was removed (num_devices lowered): a
 * QUERY after the read tells, and that it succeeds says the file read was
 * this device's (the node's minor cannot have gone to another device while
 * this one lived).
 */
static inline int vs_stats(int fd, struct vramsim_stats *s)
{
	struct drm_vramsim_query q;
	char dir[96], path[128], text[2048];
	int ret, qret;

	memset(s, 0, sizeof(*s));
	ret = vramsim_debugfs_dir(fd, dir, sizeof(dir));
	if (!ret) {
		snprintf(path, sizeof(path), "%s/stats", dir);
		ret = vramsim_read_file(path, text, sizeof(text));
	}
	qret = vs_query(fd, &q);
	if (qret)
		return qret;
	if (!ret)
		ret = vramsim_parse_stats(text, s);
	if (!ret && (s->device != q.device || s->vram_size != q.vram_size))
		ret = -EPROTO;
	return ret;
}

/*
 * Write @val to the file @path in one write(), as sysfs, debugfs and
 * cgroupfs want it: 0, or the write's (or open's) -errno.
 */
static inline int vramsim_write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val);
	int f, ret;

	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	ret = write(f, val, len) == len ? 0 : -errno;
	close(f);
	return ret;
}

/*
 * fork() with two pipes, for a child that writes to @ready once set up and
 * reads @go before it goes on.  In the child (0 returned) ready[0] and
 * go[1] are closed and it dies with its parent; in the parent ready[1] and
 * go[0] are, so that a child that exits early ends the parent's read with
 * EOF instead of blocking it.  The child's pid, 0 in the child, or -1.
 */
static inline pid_t vs_fork_paired(int ready[2], int go[2])
{
	pid_t pid;

	if (pipe(ready))
		return -1;
	if (pipe(go)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(go[1]);
	} else {
		close(ready[1]);
		close(go[0]);
	}
	return pid;
}

/*
 * Hold every eviction of the device whose node @fd is open for @ms
 * milliseconds between unmapping its folios and moving them (debugfs
 * evict_hold_ms, 0 to 1000; 0: no hold): 0 or -errno.
 */
static inline int vs_set_evict_hold(int fd, unsigned int ms)
{
	char dir[96], path[128], val[16];
	int ret;

	ret = vramsim_debugfs_dir(fd, dir, sizeof(dir));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/evict_hold_ms", dir);
	snprintf(val, sizeof(val), "%u\n", ms);
	return vramsim_write_file(path, val);
}

/*
 * The kernel's taint mask (/proc/sys/kernel/tainted), or ~0UL if it
 * cannot be read.  A KASAN report sets TAINT_BAD_PAGE, a WARN TAINT_WARN,
 * an oops TAINT_DIE: a test that compares the mask before and after sees
 * a splat even where nobody reads the kernel log.
 */
#define VRAMSIM_TAINT_SPLAT	((1UL << 5) | (1UL << 7) | (1UL << 9))

static inline unsigned long kernel_taint(void)
{
	unsigned long t = ~0UL;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (!f)
		return t;
	if (fscanf(f, "%lu", &t) != 1)
		t = ~0UL;
	fclose(f);
	return t;
}

/*
 * VRAMSIM_TO_DEV or VRAMSIM_TO_RAM of [addr, addr + len): 0 or -errno;
 * *moved (if not NULL) gets the bytes moved, which the driver writes back
 * on error too.
 */
static inline int vs_migrate(int fd, unsigned long req, void *addr, size_t len,
			     __u64 *moved)
{
	struct drm_vramsim_migrate m = {
		.start = (uintptr_t)addr,
		.length = len,
	};
	int ret = ioctl(fd, req, &m) ? -errno : 0;

	if (moved)
		*moved = m.moved;
	return ret;
}

static inline __u64 live_folios(const struct vramsim_stats *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < VRAMSIM_NR_ORDERS; i++)
		n += s->live_folios[i];
	return n;
}

/*
 * "backing_pages: N" from device @dev's debugfs file "vram": the system
 * pages that hold its contents.  -1 if it cannot be read (no debugfs, or
 * the device is being removed).
 */
static inline long vram_backing_pages(unsigned int dev)
{
	char path[64], line[256];
	long n = -1;
	FILE *f;

	if (dev)
		snprintf(path, sizeof(path), "/sys/kernel/debug/dri/vramsim.%u/vram", dev);
	else
		snprintf(path, sizeof(path), "/sys/kernel/debug/dri/vramsim/vram");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "backing_pages: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Wait (up to 5 s) for deferred frees: true once the buddy is whole again
 * and, where debugfs says, the backing store empty (a block's backing
 * pages are freed before the block goes back to the buddy, under the same
 * lock: a whole buddy with backing pages left is a leak).
 */
static inline bool wait_vram_idle(int fd, struct vramsim_stats *s)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (vs_stats(fd, s))
			return false;
		if (!s->pending_frees && s->vram_free == s->vram_size &&
		    !live_folios(s) && vram_backing_pages(s->device) <= 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* A pattern no page repeats: the offset of each 8-byte word, salted. */
static inline void fill(void *buf, size_t len, __u64 salt)
{
	__u64 *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = (i * 8) ^ salt;
}

/* Index of the first wrong word of [buf + off, buf + off + len), or -1. */
static inline long check_at(const void *buf, size_t off, size_t len, __u64 salt)
{
	const __u64 *w = buf;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		if (w[i] != ((i * 8) ^ salt))
			return i;
	return -1;
}

static inline long check(const void *buf, size_t len, __u64 salt)
{
	return check_at(buf, 0, len, salt);
}

/* /sys/module/vramsim/parameters/@name into @buf, newline stripped. */
static inline int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/sys/module/vramsim/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ret = 0;
	}
	fclose(f);
	return ret;
}

/*
 * Device @dev's VRAM size as the module parameter vram_size gives it (its
 * entry of the list, or the last), or 0.
 */
static inline __u64 vramsim_param_vram_size(unsigned int dev)
{
	char buf[160], *p = buf, *end;
	unsigned long long size = 0;
	unsigned int i;

	if (read_param("vram_size", buf, sizeof(buf)))
		return 0;
	for (i = 0; i <= dev; i++) {
		size = strtoull(p, &end, 10);
		if (end == p)
			return 0;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return size;
}

/*
 * Reload vramsim with its current parameters except those in @params
 * ("evict=off", "num_devices=2 vram_size=8M", ...: later ones win).  *@fd,
 * an open render node of device 0 or -1, is closed and reopened.  Returns
 * 0 or -1.
 */
static inline int vramsim_reload(int *fd, const char *params)
{
	char size[160], prepare[16], evict[8], num[8], cmd[512];

	if (read_param("vram_size", size, sizeof(size)) ||
	    read_param("prepare", prepare, sizeof(prepare)) ||
	    read_param("evict", evict, sizeof(evict)) ||
	    read_param("num_devices", num, sizeof(num)))
		return -1;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	snprintf(cmd, sizeof(cmd),
		 "rmmod vramsim && modprobe vramsim vram_size=%s prepare=%s evict=%s num_devices=%s %s",
		 size, prepare, evict, num, params);
	if (system(cmd))
		return -1;
	*fd = vramsim_open_render_node();
	return *fd < 0 ? -1 : 0;
}

/*
 * Reload vramsim with evict=@evict ("on" or "off"), for the tests of a
 * full VRAM that does not evict; see vramsim_reload().
 */
static inline int vramsim_reload_evict(int *fd, const char *evict)
{
	char p[16];

	snprintf(p, sizeof(p), "evict=%s", evict);
	return vramsim_reload(fd, p);
}

/* Write num_devices: 0 or the write's -errno (EBUSY: a removal gave up). */
static inline int vramsim_set_num_devices(int n)
{
	char val[16];

	snprintf(val, sizeof(val), "%d\n", n);
	return vramsim_write_file("/sys/module/vramsim/parameters/num_devices", val);
}

/*
 * fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC), for the tests of memory that
 * cannot be had: vs_fpa_fail() saves its settings and arms it,
 * vs_fpa_restore() puts them back.  A test restores before it can fail;
 * its fixture's teardown restores too (a no-op if nothing is armed), for
 * a test that failed in between.
 */
#define VS_FPA	"/sys/kernel/debug/fail_page_alloc/"

static const char * const vs_fpa_files[] = {
	"probability", "interval", "times", "space", "verbose", "min-order",
	"ignore-gfp-wait", "ignore-gfp-highmem", "task-filter",
	/* The stack filter: CONFIG_FAULT_INJECTION_STACKTRACE_FILTER. */
	"require-start", "require-end", "stacktrace-depth",
};

#define VS_FPA_FILTER	9	/* the first of the stack filter's files */

static struct {
	bool armed;
	char val[ARRAY_SIZE(vs_fpa_files)][32];
} vs_fpa;

static inline int vs_fpa_write(const char *file, const char *val)
{
	char path[96];

	snprintf(path, sizeof(path), VS_FPA "%s", file);
	return vramsim_write_file(path, val);
}

/* Is there fail_page_alloc, with (@filter) its stack filter? */
static inline bool vs_fpa_available(bool filter)
{
	char path[96];
	size_t i;

	for (i = 0; i < (filter ? ARRAY_SIZE(vs_fpa_files) : VS_FPA_FILTER); i++) {
		snprintf(path, sizeof(path), VS_FPA "%s", vs_fpa_files[i]);
		if (access(path, W_OK))
			return false;
	}
	return true;
}

static inline void vs_fpa_restore(void)
{
	size_t i;

	if (!vs_fpa.armed)
		return;
	vs_fpa_write("probability", "0");
	for (i = 0; i < ARRAY_SIZE(vs_fpa_files); i++)
		if (vs_fpa.val[i][0])
			vs_fpa_write(vs_fpa_files[i], vs_fpa.val[i]);
	vs_fpa.armed = false;
}

/*
 * The vramsim module's text, [*@start, *@end): from its first function to
 * the first symbol after its last one (kallsyms lists no ends).  0, or -1
 * if /proc/kallsyms has no address for it (kptr_restrict).
 */
static inline int vs_vramsim_text(unsigned long long *start,
				  unsigned long long *end)
{
	unsigned long long lo = ~0ULL, hi = 0, next = ~0ULL, a;
	char line[256], type;
	int pass;
	FILE *f;

	for (pass = 0; pass < 2; pass++) {
		f = fopen("/proc/kallsyms", "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			bool ours = strstr(line, "[vramsim]");

			if (sscanf(line, "%llx %c", &a, &type) != 2 || !a)
				continue;
			if (!pass && ours && (type == 't' || type == 'T')) {
				lo = a < lo ? a : lo;
				hi = a > hi ? a : hi;
			} else if (pass && !ours && a > hi && a < next) {
				next = a;
			}
		}
		fclose(f);
		if (lo >= hi)
			return -1;
	}
	*start = lo;
	/* A last function longer than 64 KiB would be news. */
	*end = next < hi + (64 << 10) ? next : hi + (64 << 10);
	return 0;
}

/*
 * Every page allocation of order @min_order or more fails from now on;
 * with @vramsim_only, only those with the vramsim module's text on the
 * stack (the stack filter).  0, or -1 (restored).
 */
static inline int vs_fpa_fail(unsigned int min_order, bool vramsim_only)
{
	unsigned long long lo = 0, hi = ~0ULL;
	char path[96], buf[32];
	size_t i;

	if (vramsim_only && vs_vramsim_text(&lo, &hi))
		return -1;
	if (!vs_fpa.armed) {
		for (i = 0; i < ARRAY_SIZE(vs_fpa_files); i++) {
			snprintf(path, sizeof(path), VS_FPA "%s", vs_fpa_files[i]);
			if (vramsim_read_file(path, vs_fpa.val[i], sizeof(vs_fpa.val[i])))
				vs_fpa.val[i][0] = 0;
		}
		vs_fpa.armed = true;
	}
	snprintf(buf, sizeof(buf), "%u", min_order);
	if (vs_fpa_write("probability", "0") || vs_fpa_write("interval", "1") ||
	    vs_fpa_write("times", "-1") || vs_fpa_write("space", "0") ||
	    vs_fpa_write("verbose", "0") || vs_fpa_write("min-order", buf) ||
	    vs_fpa_write("ignore-gfp-wait", "N") ||
	    vs_fpa_write("ignore-gfp-highmem", "N") ||
	    vs_fpa_write("task-filter", "N"))
		goto fail;
	/* Without the filter, no range left by an earlier run either. */
	if (vramsim_only || vs_fpa_available(true)) {
		snprintf(buf, sizeof(buf), "%#llx", lo);
		if (vs_fpa_write("require-start", buf) ||
		    vs_fpa_write("stacktrace-depth", "32"))
			goto fail;
		snprintf(buf, sizeof(buf), "%#llx", hi);
		if (vs_fpa_write("require-end", buf))
			goto fail;
	}
	if (!vs_fpa_write("probability", "100"))
		return 0;
fail:
	vs_fpa_restore();
	return -1;
}

#endif /* _VRAMSIM_LIB_H_ */
