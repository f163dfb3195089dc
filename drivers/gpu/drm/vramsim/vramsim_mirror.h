/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: a device's page table of a process's memory (the mirror),
 * kept coherent with the CPU's by HMM.
 *
 * Above migration (vramsim_migrate.h), below the device interfaces.
 */
#ifndef _VRAMSIM_MIRROR_H_
#define _VRAMSIM_MIRROR_H_

#include <linux/hmm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "vramsim_migrate.h"
#include "vramsim_vram.h"

struct mm_struct;

/**
 * struct vramsim_mirror - one address space as a device sees it
 * @vram: the device's VRAM: its pages are accessed through their backing
 *	store, and it is the owner of device pages hmm_range_fault() reports
 *	rather than faults
 * @notifier: invalidations of the whole address space
 * @lock: protects @pt; held by an invalidation while it erases entries, and
 *	by every device access through them (the "driver lock" of
 *	Documentation/mm/hmm.rst).  Nothing under it sleeps on memory: no
 *	GFP_KERNEL allocation, no user copy, no migration.
 * @pt: the device's page table: index addr >> PAGE_SHIFT, entries
 *	xa_mk_value(pfn << 2 | %VRAMSIM_MIRROR_WRITE | %VRAMSIM_MIRROR_ATOMIC)
 */
struct vramsim_mirror {
	struct vramsim_vram *vram;
	struct mmu_interval_notifier notifier;
	struct mutex lock;	/* see above */
	struct xarray pt;
};

#define VRAMSIM_MIRROR_WRITE	BIT(0)
#define VRAMSIM_MIRROR_ATOMIC	BIT(1)
#define VRAMSIM_MIRROR_SHIFT	2

int vramsim_mirror_init(struct vramsim_mirror *m, struct vramsim_vram *vram,
			struct mm_struct *mm);
void vramsim_mirror_fini(struct vramsim_mirror *m);

int vramsim_mirror_access(struct vramsim_mirror *m, unsigned long start,
			  unsigned long npages, void *buf, bool write,
			  bool unlocked, u64 *faults);
int vramsim_mirror_copy(struct vramsim_mirror *m, unsigned long start,
			unsigned long npages, void *buf);
int vramsim_mirror_map_local(struct vramsim_mirror *m, unsigned long start,
			     unsigned long npages);
int vramsim_mirror_snapshot(struct vramsim_mirror *m, unsigned long start,
			    unsigned long npages, unsigned long *pfns);
int vramsim_mirror_exclusive(struct vramsim_mirror *m, unsigned long start,
			     unsigned long npages);
bool vramsim_mirror_any_atomic(struct vramsim_mirror *m, unsigned long start,
			       unsigned long npages);
int vramsim_mirror_migrate(struct vramsim_mirror *m,
			   const struct vramsim_migrate_opts *opts,
			   unsigned long start, unsigned long npages,
			   bool to_device, u64 *moved);

/* The pfn of one of hmm_range_fault()'s entries. */
static inline unsigned long vramsim_hmm_pfn(unsigned long hmm_pfn)
{
	return hmm_pfn & ~HMM_PFN_FLAGS;
}

/* Pages of one snapshot window: vramsim_mirror_snapshot() covers at most this. */
#define VRAMSIM_MIRROR_WINDOW	HPAGE_PMD_NR

/* The end of the window @addr is in: the next PMD boundary, or @end. */
static inline unsigned long vramsim_mirror_window_end(unsigned long addr,
						      unsigned long end)
{
	return min(ALIGN(addr + 1, HPAGE_PMD_SIZE), end);
}

#endif /* _VRAMSIM_MIRROR_H_ */
