// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: eviction, making room in VRAM by moving device memory to RAM.
 *
 * Above the VRAM and its contents, below migration: an allocation that
 * finds the VRAM full comes here from above (vramsim_evict_alloc_folio(),
 * which migration allocates with), evicts, and tries the VRAM layer's
 * allocation again; the VRAM layer never calls eviction.  The migration
 * by pfn that eviction does, with no VMA, is here too.
 *
 * Which blocks go first.  Every block in use is on vram->lru, in the order
 * it was allocated: a FIFO by migration into VRAM, "least recently migrated
 * in" first.  An allocation appends its block under vram->lock, which it
 * holds anyway; the block leaves the list when it goes back to the buddy
 * (vramsim_return_pending(), same lock).  So ->folio_free, which may run in
 * atomic context, never touches the list and the free path costs nothing
 * more.  A FIFO and not an LRU of accesses: a CPU access to a device page
 * migrates it to RAM, and the simulated GPU has no accessed bits, so the
 * time of migration in is the only age the driver knows.  The oldest
 * block picks a 2 MiB region, and every block in use in that region goes
 * with it (vram->regions lists them): what is freed is contiguous, as an
 * order-9 allocation needs, at the cost of evicting some younger blocks
 * beside an old one.  A block an eviction pass has looked at goes to the
 * end of the list, so that the next pass starts with blocks not tried
 * yet; blocks whose pages are all freed but not yet returned stay on the
 * list until the next drain and are passed over.
 *
 * How a region is evicted.  Under vram->lock, its blocks in use are
 * pinned: one more count in vb->live_pages, taken only while the count is
 * not zero, so that a block cannot go back to the buddy, and its pfns to
 * somebody else, while the eviction works on them.  Then, without the
 * lock, vramsim_migrate_pfns_to_ram() collects the pfns of each run of
 * adjacent pinned blocks with migrate_device_pfns() and moves every device
 * folio it finds there to a RAM folio of the same order.  Dropping a pin
 * queues the block if everything in it was freed meanwhile.
 *
 * Only the pfns of pinned blocks in use are walked, never free VRAM.
 * Under prepare=alloc, free pages keep the compound state of their last
 * folio (a freed order-9 folio's tails still name their old head), and the
 * core's pfn walkers trust page_folio() of every pfn.  A block in use has
 * no stale page: vramsim_vram_alloc_try() initialises a folio over the
 * whole block before putting it on the list, and the pieces the core splits
 * it into are folios of their own, freed ones included.  So the walk is
 * the same under both policies and costs nothing extra under either.
 */

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/list_sort.h>
#include <linux/migrate.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include <kunit/visibility.h>

#include "vramsim_backing.h"
#include "vramsim_evict.h"
#include "vramsim_trace.h"
#include "vramsim_vram.h"

/*
 * Can no pass with @ticket pin @vb now?  Not if the migration of @ticket
 * allocated it (its own blocks stay), nor while another pass works on it:
 * one pass at a time per block, as a second one's folio references would
 * make the first one's collection fail.
 */
static bool vramsim_evict_blocked(struct vramsim_block *vb, u64 ticket)
{
	return (ticket && vb->ticket == ticket) ||
	       test_bit(VRAMSIM_BLOCK_EVICTING, &vb->flags);
}

/* Pin @vb unless it is blocked or all its pages are already freed. */
static bool vramsim_evict_pin(struct vramsim_block *vb, u64 ticket)
{
	if (vramsim_evict_blocked(vb, ticket) ||
	    !atomic_inc_not_zero(&vb->live_pages))
		return false;
	set_bit(VRAMSIM_BLOCK_EVICTING, &vb->flags);
	return true;
}

/*
 * The oldest block not yet looked at by pass @seq, moved to the end of the
 * list, or NULL once @budget blocks have been looked at or every block on
 * the list has.  Other passes rotate the list too, so meeting one block
 * this pass has seen does not mean that every block was seen: a whole
 * turn of them does.
 */
static struct vramsim_block *vramsim_evict_pick(struct vramsim_vram *vram,
						unsigned long seq,
						unsigned long *budget)
{
	unsigned long seen = 0;
	struct vramsim_block *vb;

	lockdep_assert_held(&vram->lock);

	while (*budget && !list_empty(&vram->lru)) {
		vb = list_first_entry(&vram->lru, struct vramsim_block, lru);
		list_move_tail(&vb->lru, &vram->lru);
		/* A whole turn of blocks this pass has seen: nothing is left. */
		if (vb->evict_seq == seq) {
			if (++seen >= vram->lru_len)
				return NULL;
			continue;
		}
		(*budget)--;
		return vb;
	}
	return NULL;
}

/*
 * Pin every block in use in @first's 2 MiB region onto @pinned.  Each
 * counts as looked at by pass @seq, and goes to the end of the list as
 * @first did.  With @whole (the allocation needs a region whole), a region
 * with a block the pass cannot pin (its own, another pass's) is left as it
 * is, nothing pinned: it cannot be emptied, and evicting the rest of it
 * would be for nothing.
 */
static void vramsim_evict_gather(struct vramsim_vram *vram,
				 struct vramsim_block *first, unsigned long seq,
				 u64 ticket, bool whole, unsigned long *budget,
				 struct list_head *pinned)
{
	u64 region = gpu_buddy_block_offset(first->block) >> VRAMSIM_REGION_SHIFT;
	struct list_head *blocks = &vram->regions[region];
	bool skip = false;
	struct vramsim_block *vb;

	lockdep_assert_held(&vram->lock);

	if (whole) {
		list_for_each_entry(vb, blocks, region_node)
			skip |= vramsim_evict_blocked(vb, ticket);
	}
	list_for_each_entry(vb, blocks, region_node) {
		if (vb != first) {
			if (vb->evict_seq == seq)
				continue;
			if (*budget)
				(*budget)--;
			list_move_tail(&vb->lru, &vram->lru);
		}
		vb->evict_seq = seq;
		if (!skip && vramsim_evict_pin(vb, ticket))
			list_add_tail(&vb->evict_node, pinned);
	}
}

static int vramsim_block_cmp(void *priv, const struct list_head *a,
			     const struct list_head *b)
{
	const struct vramsim_block *x = list_entry(a, struct vramsim_block, evict_node);
	const struct vramsim_block *y = list_entry(b, struct vramsim_block, evict_node);

	return gpu_buddy_block_offset(x->block) > gpu_buddy_block_offset(y->block);
}

static unsigned long vramsim_block_first_page(const struct vramsim_block *vb)
{
	return gpu_buddy_block_offset(vb->block) >> PAGE_SHIFT;
}

/*
 * Order-0 RAM destinations for the @nr pages of the device folio at
 * @spage, copied, into @dst: all of them, or none (what is allocated is
 * given back).  A device THP moves split rather than not at all:
 * migrate_device_pages() splits every PMD migration entry of it, then the
 * folio.
 */
static bool vramsim_evict_pages_dst(struct vramsim_vram *vram,
				    unsigned long *dst, struct page *spage,
				    unsigned long nr, gfp_t gfp)
{
	struct folio *folio;
	unsigned long j;

#ifndef VRAMSIM_PFN_SPLIT
	/*
	 * This kernel's migrate_device_pages() does not split: the pages
	 * would be copied for nothing, every time a teardown retries.
	 */
	return false;
#endif
	for (j = 0; j < nr; j++) {
		folio = folio_alloc(gfp, 0);
		if (!folio)
			break;
		folio_lock(folio);
		vramsim_copy_from_vram(vram, &folio->page, spage + j, 1);
		dst[j] = migrate_pfn(folio_pfn(folio));
	}
	if (j == nr)
		return true;
	vramsim_put_dst(dst, j);
	return false;
}

/*
 * vramsim_migrate_pfns_to_ram() - move the device folios at some pfns to RAM
 * @vram: the VRAM
 * @pfn: first pfn, the start of a run of adjacent blocks in use that the
 *	caller pinned, all in one 2 MiB region
 * @npages: number of pfns, at most a region's
 * @may_fail: RAM for the folios is not worth an OOM kill or a long wait
 *	(an eviction an allocation asked for, not the teardown's)
 * @moved_map: if not NULL, a bitmap of the region's pages: the bit of every
 *	page that moved is set
 *
 * Eviction's migration: by pfn, with no VMA and no mmap lock, through
 * migrate_device_pfns().  Each device folio found moves to a RAM folio of
 * its order, 2 MiB ones whole where 2 MiB of RAM can be had: a device THP
 * exists only where its VMA allowed a THP when it was migrated in.  Where
 * none can be had, a device THP moves to 512 pages, and
 * migrate_device_pages() splits it and every PMD that maps it ("mm/
 * migrate_device: split device THPs migrated by pfn"; Linux 7.3 leaves
 * such a folio where it is, and a teardown waits for RAM for ever).  A
 * folio that is locked or has references beyond its mappings is not
 * collected; one for which no RAM can be had stays.  Either stays in
 * VRAM, contents untouched.
 *
 * Only for pfns of blocks in use (see the top of this file): the walk trusts
 * page_folio() of every pfn.
 *
 * Context: process context, may sleep.
 * Return: bytes moved.
 */
static u64 vramsim_migrate_pfns_to_ram(struct vramsim_vram *vram,
				       unsigned long pfn, unsigned long npages,
				       bool may_fail, unsigned long *moved_map)
{
	gfp_t gfp0 = GFP_HIGHUSER_MOVABLE |
		     (may_fail ? __GFP_NORETRY | __GFP_NOWARN : 0);
	/*
	 * Teardown compacts and retries for a THP's 2 MiB, but never
	 * OOM-kills for them; its 4 KiB pages may (a removal must end).
	 */
	gfp_t gfp9 = GFP_TRANSHUGE | __GFP_NOWARN |
		     (may_fail ? 0 : __GFP_RETRY_MAYFAIL);
	unsigned long i, nr, split = ULONG_MAX;
	struct vramsim_window *w;
	unsigned int hold;
	u64 moved;

	if (WARN_ON_ONCE(npages > VRAMSIM_WINDOW_PAGES ||
			 (pfn ^ (pfn + npages - 1)) >> VRAMSIM_MAX_ORDER))
		return 0;
	w = vramsim_window_get(vram);
	if (!w)
		return 0;

	for (i = 0; i < npages; i++)
		w->src[i] = pfn + i;
	migrate_device_pfns(w->src, npages);
	memset(w->dst, 0, npages * sizeof(*w->dst));

	for (i = 0; i < npages; i += nr) {
		struct page *spage = migrate_pfn_to_page(w->src[i]);
		unsigned int order;
		struct folio *folio;

		nr = 1;
		if (!spage || !(w->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		order = folio_order(page_folio(spage));
		nr = 1UL << order;
		folio = folio_alloc(order ? gfp9 : gfp0, order);
		if (!folio) {
			if (order && vramsim_evict_pages_dst(vram, &w->dst[i],
							     spage, nr, gfp0)) {
				split = i;
				continue;
			}
			atomic64_add(nr, &vram->stats.evict_no_ram);
			continue;
		}
		folio_lock(folio);
		vramsim_copy_from_vram(vram, &folio->page, spage, nr);
		w->dst[i] = migrate_pfn(folio_pfn(folio)) |
			    (order ? MIGRATE_PFN_COMPOUND : 0);
	}

	/*
	 * A test's hold: the folios are unmapped, locked and copied, their
	 * migration entries in place, and no mmap lock is held, so their
	 * owner may munmap them or exit meanwhile.  The tests that aim at
	 * that window set it (vramsim_evict_test.c, unmap_during_eviction).
	 */
	hold = READ_ONCE(vram->evict_hold_ms);
	if (unlikely(hold))
		msleep(hold);

	migrate_device_pages(w->src, w->dst, npages);
	/*
	 * The core split the THP if it filled the entries of its pieces
	 * (else it stays, whole: an extra reference).  One THP at most: the
	 * pfns are one region's.
	 */
	if (split < npages && w->src[split + 1])
		atomic64_inc(&vram->stats.evict_split);
	moved = vramsim_moved_bytes(w->src, w->dst, npages);
	for (i = 0; moved_map && i < npages; i++) {
		unsigned long bit = (pfn + i) & (VRAMSIM_REGION_PAGES - 1);
		struct page *dpage = migrate_pfn_to_page(w->dst[i]);

		if (!(w->src[i] & MIGRATE_PFN_MIGRATE) || !dpage)
			continue;
		/* The RAM folio, locked until the finalize, has the order. */
		bitmap_set(moved_map, bit,
			   min_t(unsigned long, folio_nr_pages(page_folio(dpage)),
				 VRAMSIM_REGION_PAGES - bit));
	}
	migrate_device_finalize(w->src, w->dst, npages);

	vramsim_window_put(vram, w);
	return moved;
}

/*
 * Evict what can be of the pinned blocks of one region, @pinned, with as
 * few walks as it has runs of adjacent blocks, then drop the pins.
 */
static u64 vramsim_evict_pinned(struct vramsim_vram *vram,
				struct list_head *pinned,
				enum vramsim_evict_reason reason, bool *emptied)
{
	DECLARE_BITMAP(moved, VRAMSIM_REGION_PAGES);
	bool may_fail = reason == VRAMSIM_EVICT_ALLOC;
	unsigned long run = 0, run_pages = 0;
	struct vramsim_block *vb, *next;
	u64 done = 0;

	bitmap_zero(moved, VRAMSIM_REGION_PAGES);
	list_sort(NULL, pinned, vramsim_block_cmp);
	list_for_each_entry(vb, pinned, evict_node) {
		unsigned long first = vramsim_block_first_page(vb);

		if (run_pages && first != run + run_pages) {
			vramsim_migrate_pfns_to_ram(vram, vram->base_pfn + run,
						    run_pages, may_fail, moved);
			run_pages = 0;
		}
		if (!run_pages)
			run = first;
		run_pages += 1UL << gpu_buddy_block_order(vb->block);
	}
	if (run_pages)
		vramsim_migrate_pfns_to_ram(vram, vram->base_pfn + run,
					    run_pages, may_fail, moved);

	list_for_each_entry_safe(vb, next, pinned, evict_node) {
		unsigned int order = gpu_buddy_block_order(vb->block);
		unsigned long first = vramsim_block_first_page(vb);
		unsigned long bit = first & (VRAMSIM_REGION_PAGES - 1);
		unsigned long pages = bitmap_weight_from(moved, bit,
							 bit + (1U << order));
		int left;

		/*
		 * What is still counted, besides the pin, was in use and
		 * could not move: locked (a migration or a fault has it),
		 * referenced beyond its mappings, or no RAM for it.  Pages
		 * freed meanwhile are not counted.
		 */
		left = atomic_read(&vb->live_pages) - 1;
		if (left > 0) {
			atomic64_add(left, &vram->stats.evict_skipped);
			*emptied = false;
		}
		if (pages) {
			atomic64_inc(&vram->stats.evictions);
			atomic64_add(pages << PAGE_SHIFT, &vram->stats.evicted_bytes);
		}
		trace_vramsim_evict(vram->base_pfn + first, order,
				    (u64)pages << PAGE_SHIFT, max(left, 0), reason);
		done += (u64)pages << PAGE_SHIFT;

		/*
		 * The next pass to pin @vb may use its evict_node as soon as
		 * the bit is clear: release.  Nothing of @vb after the put:
		 * it may be freed.
		 */
		list_del(&vb->evict_node);
		clear_bit_unlock(VRAMSIM_BLOCK_EVICTING, &vb->flags);
		vramsim_block_put(vram, vb, 1);
	}
	return done;
}

/*
 * Say what an eviction for teardown waits for: blocks still in use, and
 * of the pages it tried since @no_ram and @skipped were read, those for
 * which no RAM could be had (not even 4 KiB pages for a device THP) and
 * the others, which a fault, a migration or a reference held elsewhere
 * kept.
 */
static void vramsim_evict_report(struct vramsim_vram *vram, unsigned long left,
				 const char *what, s64 no_ram, s64 skipped)
{
	no_ram = atomic64_read(&vram->stats.evict_no_ram) - no_ram;
	skipped = atomic64_read(&vram->stats.evict_skipped) - skipped;
	dev_warn(vram->dev, "eviction %s %lu blocks (%llu MiB in use): %lld page moves found no RAM, %lld were held by a fault, a migration or a reference\n",
		 what, left,
		 (vram->mm.size - vramsim_vram_free_bytes(vram)) >> 20,
		 no_ram, max(skipped - no_ram, 0));
}

/**
 * vramsim_evict() - move the oldest device memory to RAM, by region
 * @vram: the VRAM
 * @bytes: stop once this much has been evicted
 * @ticket: blocks allocated with this ticket stay (0: none do)
 * @reason: why, for the tracepoint
 * @emptied: if not NULL, set to whether a region was emptied whole
 *
 * Takes the oldest block in use (the order of allocation) and evicts the
 * whole naturally aligned 2 MiB region around it, every block in use
 * there, then the region of the oldest block left, until @bytes have
 * moved or every block in use has been tried once.  By region, so that
 * what an eviction frees is contiguous: an order-9 allocation that meets
 * VRAM full of scattered 4 KiB blocks gets its 2 MiB from one region
 * instead of evicting the oldest 512 blocks, wherever they are, and
 * finding no 2 MiB free.  For an allocation of a whole region (@bytes at
 * least 2 MiB, %VRAMSIM_EVICT_ALLOC), a region with a block of @ticket or
 * of another pass is passed over, and the call ends as soon as one region
 * is emptied.  So one call evicts at most @bytes plus one region.  Data
 * always survive: a folio moves only once its contents are copied; a
 * folio that cannot move now (locked, pinned, no RAM for it) stays and is
 * counted in the evict_skipped counter.  The space freed is in the buddy
 * after the next drain of pending frees (vramsim_vram_alloc_try() does
 * one).
 *
 * Context: process context, may sleep; must not hold @vram->lock.  The
 * caller may hold device folio locks and an mmap lock (see
 * vramsim_evict_alloc_folio()).
 * Return: bytes evicted.
 */
u64 vramsim_evict(struct vramsim_vram *vram, u64 bytes, u64 ticket,
		  enum vramsim_evict_reason reason, bool *emptied)
{
	bool whole = reason == VRAMSIM_EVICT_ALLOC &&
		     bytes >= BIT_ULL(VRAMSIM_REGION_SHIFT);
	bool region_emptied = false;
	struct vramsim_block *vb;
	unsigned long seq, budget;
	LIST_HEAD(pinned);
	u64 done = 0;

	mutex_lock(&vram->lock);
	seq = ++vram->evict_seq;
	budget = vram->lru_len;
	mutex_unlock(&vram->lock);

	while (done < bytes && !(whole && region_emptied)) {
		mutex_lock(&vram->lock);
		vb = vramsim_evict_pick(vram, seq, &budget);
		if (vb)
			vramsim_evict_gather(vram, vb, seq, ticket, whole,
					     &budget, &pinned);
		mutex_unlock(&vram->lock);
		if (!vb)
			break;
		if (list_empty(&pinned))
			continue;
		region_emptied = true;
		done += vramsim_evict_pinned(vram, &pinned, reason,
					     &region_emptied);
		cond_resched();
	}
	if (emptied)
		*emptied = region_emptied;
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_evict);

/*
 * Eviction passes an allocation may start before it gives up: space freed
 * by an eviction is not reserved, so while other allocations run, one may
 * take it before the retry.  Each pass evicts what the allocation needs,
 * by whole 2 MiB regions (vramsim_evict()): at most one region more than
 * it needs.  A 2 MiB allocation makes another pass only if its last one
 * emptied a region whole and another allocation took it: a pass that
 * emptied none (pages it could not move) is not repeated.  A region is
 * one migration window: a walk to the device needs that much for one
 * window anyway.
 */
#define VRAMSIM_EVICT_TRIES	4

/**
 * vramsim_evict_alloc_retry() - evict and try again an allocation
 * @vram: the VRAM
 * @order: folio order
 * @ticket: the migration it is for, or 0
 * @alloc: the allocation, whose first try failed
 * @folio: what that try returned, an ERR_PTR()
 *
 * The rest of vramsim_evict_alloc_folio(), out of line: while the VRAM is
 * full (-ENOSPC) and @vram->evict is set, evict what the allocation needs
 * and try again, %VRAMSIM_EVICT_TRIES times at most; stop at once when an
 * eviction moved nothing, and after one more try when a 2 MiB allocation's
 * eviction emptied no region whole.  Ends @alloc unless a try succeeded.
 *
 * Context: process context, may sleep; not under @vram->lock.
 * Return: the folio, or the last try's error.
 */
struct folio *vramsim_evict_alloc_retry(struct vramsim_vram *vram,
					unsigned int order, u64 ticket,
					struct vramsim_alloc *alloc,
					struct folio *folio)
{
	unsigned int tries = 0;
	bool emptied;

	for (;;) {
		if (folio != ERR_PTR(-ENOSPC) || !vram->evict ||
		    tries++ == VRAMSIM_EVICT_TRIES)
			break;
		/* Freed blocks come back to the buddy at the next try. */
		if (!vramsim_evict(vram, PAGE_SIZE << order, ticket,
				   VRAMSIM_EVICT_ALLOC, &emptied))
			break;
		/* No region freed whole: one more try, for what was freed. */
		if (order == VRAMSIM_MAX_ORDER && !emptied)
			tries = VRAMSIM_EVICT_TRIES;
		folio = vramsim_vram_alloc_try(vram, order, ticket, alloc);
	}
	if (IS_ERR(folio))
		vramsim_vram_alloc_end(alloc);
	return folio;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_evict_alloc_retry);

/**
 * vramsim_evict_all() - move all device memory to RAM, for teardown
 * @vram: the VRAM, with allocation stopped (@vram->dying set)
 * @patience: jiffies without progress after which to give up; 0: never
 *
 * Returns when no block is in use any more: every device page was evicted
 * or freed.  A page that cannot move now (a fault or a migration to RAM
 * holds it, or no RAM can be had for it) is retried, for as long as some
 * block goes now and then.  With @patience, once none has gone for that
 * long, or when the caller is killed, it gives up; without, it retries
 * until all have gone (memunmap_pages() would otherwise wait for them),
 * saying every ten seconds what it waits for.
 *
 * Context: process context, may sleep.
 * Return: 0; with @patience, -EBUSY or -EINTR if blocks are left.
 */
int vramsim_evict_all(struct vramsim_vram *vram, unsigned long patience)
{
	s64 no_ram = atomic64_read(&vram->stats.evict_no_ram);
	s64 skipped = atomic64_read(&vram->stats.evict_skipped);
	unsigned long warn = jiffies + 10 * HZ, stuck = jiffies;
	unsigned long left, last = ULONG_MAX;

	for (;;) {
		vramsim_vram_drain(vram);
		mutex_lock(&vram->lock);
		left = vram->lru_len;
		mutex_unlock(&vram->lock);
		if (!left)
			return 0;
		/* Before anything else: a removal that moves a lot still ends. */
		if (patience && fatal_signal_pending(current))
			return -EINTR;
		if (left < last) {
			last = left;
			stuck = jiffies;
		}

		if (vramsim_evict(vram, U64_MAX, 0, VRAMSIM_EVICT_TEARDOWN,
				  NULL)) {
			stuck = jiffies;
			continue;
		}
		if (patience && time_after(jiffies, stuck + patience)) {
			vramsim_evict_report(vram, left, "cannot move", no_ram,
					     skipped);
			return -EBUSY;
		}
		if (!patience && time_after(jiffies, warn)) {
			vramsim_evict_report(vram, left, "still waiting for",
					     no_ram, skipped);
			warn = jiffies + 10 * HZ;
		}
		if (patience)
			schedule_timeout_killable(msecs_to_jiffies(20));
		else
			msleep(20);
	}
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_evict_all);

/**
 * vramsim_evict_release() - move device memory to RAM, the device staying
 * @vram: the VRAM
 *
 * One pass over every block in use, as vramsim_evict() makes them: what
 * cannot move now (a fault or a migration holds it, no RAM for it) stays,
 * and allocation goes on meanwhile.  The space is in the buddy on return.
 *
 * Context: process context, may sleep.
 * Return: bytes evicted.
 */
u64 vramsim_evict_release(struct vramsim_vram *vram)
{
	u64 done = vramsim_evict(vram, U64_MAX, 0, VRAMSIM_EVICT_RELEASE, NULL);

	vramsim_vram_drain(vram);
	return done;
}

/**
 * vramsim_evict_empty() - stop allocating and move all device memory to RAM
 * @vram: the VRAM
 * @patience: as for vramsim_evict_all(); 0: wait as long as it takes
 *
 * The first step of removing a device, while its render node still works:
 * on success no device page is left and none will be allocated, and
 * vramsim_vram_fini() has nothing to wait for.  If some memory cannot
 * move, allocation resumes and the VRAM stays as usable as it was.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EBUSY or -EINTR (with @patience): the VRAM is still in use.
 */
int vramsim_evict_empty(struct vramsim_vram *vram, unsigned long patience)
{
	int err;

	mutex_lock(&vram->lock);
	WRITE_ONCE(vram->dying, true);
	mutex_unlock(&vram->lock);

	err = vramsim_evict_all(vram, patience);
	if (err) {
		mutex_lock(&vram->lock);
		WRITE_ONCE(vram->dying, false);
		mutex_unlock(&vram->lock);
	}
	return err;
}
