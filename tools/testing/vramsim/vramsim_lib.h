/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by vramsim's userspace tools: finding the render node,
 * the ioctls, mapping 2 MiB-aligned anonymous buffers (what THP and 2 MiB
 * device folios need), a data pattern every byte of which is checked, and
 * waiting for the VRAM to be whole again.
 */
#ifndef _VRAMSIM_LIB_H_
#define _VRAMSIM_LIB_H_

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vramsim_drm.h"

#define VRAMSIM_SZ_2M	(2UL << 20)

/* The vramsim render node, opened read-write, or -1. */
static inline int vramsim_open_render_node(void)
{
	glob_t g;
	size_t i;
	int fd = -1;

	if (glob("/sys/devices/faux/vramsim/drm/renderD*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		char dev[64];

		snprintf(dev, sizeof(dev), "/dev/dri/%s", strrchr(g.gl_pathv[i], '/') + 1);
		fd = open(dev, O_RDWR | O_CLOEXEC);
	}
	globfree(&g);
	return fd;
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

#define VRAMSIM_TO_DEV	DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE
#define VRAMSIM_TO_RAM	DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM

/* DRM_IOCTL_VRAMSIM_STATS: 0 or -errno. */
static inline int vs_stats(int fd, struct drm_vramsim_stats *s)
{
	memset(s, 0, sizeof(*s));
	return ioctl(fd, DRM_IOCTL_VRAMSIM_STATS, s) ? -errno : 0;
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

static inline __u64 live_folios(const struct drm_vramsim_stats *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < VRAMSIM_NR_ORDERS; i++)
		n += s->live_folios[i];
	return n;
}

/* Wait (up to 5 s) for deferred frees: true once the buddy is whole again. */
static inline bool wait_vram_idle(int fd, struct drm_vramsim_stats *s)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (vs_stats(fd, s))
			return false;
		if (!s->pending_frees && s->vram_free == s->vram_size &&
		    !live_folios(s))
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
 * Reload vramsim with its current vram_size and prepare, and evict=@evict
 * ("on" or "off"), for the tests of a full VRAM that does not evict.  *@fd,
 * an open render node or -1, is closed and reopened.  Returns 0 or -1.
 */
static inline int vramsim_reload_evict(int *fd, const char *evict)
{
	char size[32], prepare[16], cmd[160];

	if (read_param("vram_size", size, sizeof(size)) ||
	    read_param("prepare", prepare, sizeof(prepare)))
		return -1;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	snprintf(cmd, sizeof(cmd),
		 "rmmod vramsim && modprobe vramsim vram_size=%s prepare=%s evict=%s",
		 size, prepare, evict);
	if (system(cmd))
		return -1;
	*fd = vramsim_open_render_node();
	return *fd < 0 ? -1 : 0;
}

#endif /* _VRAMSIM_LIB_H_ */
