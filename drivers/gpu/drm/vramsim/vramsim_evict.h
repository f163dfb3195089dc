/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: eviction, making room in VRAM by moving device memory to RAM,
 * and the allocation that evicts when the VRAM is full.
 *
 * Above the VRAM (vramsim_vram.h) and its contents (vramsim_backing.h),
 * below migration, which allocates its device folios here.
 */
#ifndef _VRAMSIM_EVICT_H_
#define _VRAMSIM_EVICT_H_

#include <linux/err.h>
#include <linux/types.h>

#include "vramsim_vram.h"

struct folio;

/**
 * enum vramsim_evict_reason - why device memory is evicted to RAM
 * @VRAMSIM_EVICT_ALLOC: an allocation found the VRAM full
 * @VRAMSIM_EVICT_TEARDOWN: the VRAM is going away (rmmod)
 * @VRAMSIM_EVICT_RELEASE: a user asked for everything in RAM (the dmirror
 *	interface's RELEASE), the device stays
 */
enum vramsim_evict_reason {
	VRAMSIM_EVICT_ALLOC,
	VRAMSIM_EVICT_TEARDOWN,
	VRAMSIM_EVICT_RELEASE,
};

u64 vramsim_evict(struct vramsim_vram *vram, u64 bytes, u64 ticket,
		  enum vramsim_evict_reason reason, bool *emptied);
int vramsim_evict_all(struct vramsim_vram *vram, unsigned long patience);
int vramsim_evict_empty(struct vramsim_vram *vram, unsigned long patience);
u64 vramsim_evict_release(struct vramsim_vram *vram);

struct folio *vramsim_evict_alloc_retry(struct vramsim_vram *vram,
					unsigned int order, u64 ticket,
					struct vramsim_alloc *alloc,
					struct folio *folio);

/**
 * vramsim_evict_alloc_folio() - allocate a device folio, evicting if full
 * @vram: the VRAM
 * @order: folio order, 0 to %VRAMSIM_MAX_ORDER
 * @ticket: the migration it is for (vramsim_vram_ticket()), or 0: eviction
 *	may then take any block to make room
 *
 * vramsim_vram_alloc_try(), and if the VRAM is full and @vram->evict is
 * set, eviction of the oldest blocks to RAM (vramsim_evict()) and another
 * try, a few times (vramsim_evict_alloc_retry()).  Blocks allocated with
 * the same non-zero @ticket are not evicted: a migration larger than the
 * VRAM moves what fits, evicting older data only, instead of evicting its
 * own beginning to make room for its end.
 *
 * The first try is inline: most allocations need no other, and their
 * path is then the VRAM layer's alone.
 *
 * The caller may hold locked device folios (destinations of a migration in
 * progress) and the mmap lock: eviction only trylocks folios and skips
 * those it cannot lock.
 *
 * Context: process context, may sleep.
 * Return: the folio, locked, with a reference; ERR_PTR(-ENOSPC) when the
 * VRAM is full (and nothing could be evicted), -ENOMEM, -EINVAL for a bad
 * order, -ENODEV while the VRAM is emptied or torn down.
 */
static inline struct folio *vramsim_evict_alloc_folio(struct vramsim_vram *vram,
						      unsigned int order,
						      u64 ticket)
{
	struct vramsim_alloc alloc = {};
	struct folio *folio = vramsim_vram_alloc_try(vram, order, ticket, &alloc);

	if (!IS_ERR(folio))
		return folio;
	return vramsim_evict_alloc_retry(vram, order, ticket, &alloc, folio);
}

#endif /* _VRAMSIM_EVICT_H_ */
