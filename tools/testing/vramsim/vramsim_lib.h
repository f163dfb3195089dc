/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by vramsim's userspace tools: finding the render node and
 * mapping 2 MiB-aligned anonymous buffers (what THP and 2 MiB device folios
 * need).
 */
#ifndef _VRAMSIM_LIB_H_
#define _VRAMSIM_LIB_H_

#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

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

#endif /* _VRAMSIM_LIB_H_ */
