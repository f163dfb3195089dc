/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: moving user memory between system RAM and simulated VRAM, and
 * the VRAM of a device put together: page map, buddy, backing store.
 *
 * Above eviction (vramsim_evict.h), below the DRM device.
 */
#ifndef _VRAMSIM_MIGRATE_H_
#define _VRAMSIM_MIGRATE_H_

#include <linux/types.h>

#include "vramsim_vram.h"

struct device;
struct mm_struct;

int vramsim_dmem_init(struct vramsim_vram *vram, struct device *dev, u64 size,
		      enum vramsim_prepare prepare);
void vramsim_dmem_fini(struct vramsim_vram *vram);
int devm_vramsim_dmem_init(struct device *dev, struct vramsim_vram *vram,
			   u64 size, enum vramsim_prepare prepare);

int vramsim_migrate_range(struct vramsim_vram *vram, struct mm_struct *mm,
			  unsigned long start, unsigned long len, bool to_device,
			  u64 *moved);

/**
 * struct vramsim_migrate_opts - where a migration differs from the render
 *	node's (the dmirror interface follows test_hmm)
 * @any_vma: walk every VMA the core migrates from (the anonymous pages of
 *	a private file mapping too; the core leaves the others where they
 *	are); -EINVAL for a hole or a VMA without VM_READ.  Else the range
 *	must be anonymous memory: -EFAULT for a hole, -EINVAL otherwise.
 * @no_peers: leave pages in another device's VRAM where they are, instead
 *	of moving them from there
 * @thp: 2 MiB folios wherever THP is not disabled for the VMA, not only
 *	under MADV_HUGEPAGE
 * @fail_alloc: if bit 0 is set, the next allocation of a destination
 *	clears it and fails as if no memory of that order were free (a 2 MiB
 *	folio then moves as 512 pages; a page to the device stays, and the
 *	walk stops; a page to RAM fails with -ENOMEM)
 */
struct vramsim_migrate_opts {
	bool any_vma;
	bool no_peers;
	bool thp;
	unsigned long *fail_alloc;
};

int vramsim_migrate_range_opts(struct vramsim_vram *vram,
			       const struct vramsim_migrate_opts *opts,
			       struct mm_struct *mm, unsigned long start,
			       unsigned long len, bool to_device, u64 *moved);

#endif /* _VRAMSIM_MIGRATE_H_ */
