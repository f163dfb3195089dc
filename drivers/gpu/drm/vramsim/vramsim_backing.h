/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: the contents of the simulated VRAM, and the migration windows.
 *
 * Above the VRAM (vramsim_vram.h), below eviction and migration, which
 * move device memory with these "device copies" and windows.
 */
#ifndef _VRAMSIM_BACKING_H_
#define _VRAMSIM_BACKING_H_

#include <linux/mm.h>
#include <linux/types.h>

#include "vramsim_vram.h"

struct page;

/* Entries of a migration window: one PMD, what a device THP needs. */
#define VRAMSIM_WINDOW_PAGES	HPAGE_PMD_NR

/**
 * struct vramsim_window - both arrays of a migration window
 * @src: the source pfns of migrate_vma_setup() or migrate_device_pfns()
 * @dst: the destinations
 *
 * A VRAM keeps %VRAMSIM_NR_WINDOWS of them, so that a PMD fault, or an
 * ioctl, does not allocate 8 KiB each time; callers past that many at once
 * get one from kmalloc.
 */
struct vramsim_window {
	unsigned long src[VRAMSIM_WINDOW_PAGES];
	unsigned long dst[VRAMSIM_WINDOW_PAGES];
};

int vramsim_backing_init(struct vramsim_vram *vram);
void vramsim_backing_fini(struct vramsim_vram *vram);
void vramsim_backing_free(struct vramsim_vram *vram, unsigned long pgoff,
			  unsigned long nr);

struct vramsim_window *vramsim_window_get(struct vramsim_vram *vram);
void vramsim_window_put(struct vramsim_vram *vram, struct vramsim_window *w);

int vramsim_copy_to_vram(struct vramsim_vram *vram, struct page *dpage,
			 struct page *spage, unsigned long nr);
void vramsim_copy_from_vram(struct vramsim_vram *vram, struct page *dpage,
			    struct page *spage, unsigned long nr);
void vramsim_backing_read(struct vramsim_vram *vram, unsigned long pfn,
			  void *dst);
int vramsim_backing_write(struct vramsim_vram *vram, unsigned long pfn,
			  const void *src);
u64 vramsim_moved_bytes(const unsigned long *src, const unsigned long *dst,
			unsigned long npages);
void vramsim_put_dst(unsigned long *dst, unsigned long n);

#endif /* _VRAMSIM_BACKING_H_ */
