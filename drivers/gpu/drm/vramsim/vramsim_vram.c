// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: device-private folios from the GPU buddy allocator.
 *
 * Life of a device folio:
 *
 *   vramsim_vram_alloc_try()     buddy block -> zone_device_folio_init()
 *   ... mapped, migrated, maybe split by the core (->folio_split) ...
 *   ->folio_free()               prepare the pages, then queue the block
 *   vramsim_free_work()          return queued blocks to the buddy
 *
 * This is the driver's bottom layer: it calls no other file of the driver.
 * An allocation that finds the buddy full, pending frees returned, fails
 * with -ENOSPC; the caller decides whether to evict and try again
 * (vramsim_evict_alloc_folio()).  A block's contents, kept by the layer
 * above, are freed through the release hook of &struct vramsim_vram_ops.
 *
 * ->folio_free runs wherever the last reference to a device folio is
 * dropped: in atomic context (zap under a page-table lock, the core's split
 * and migration paths) and preemptibly (migrate_vma_finalize() ->
 * folio_put(), process exit); it must never sleep.  The buddy needs a
 * sleeping lock, so the block goes back to the buddy later, from a worker
 * or from the next allocation that finds the buddy full.  The pages are
 * prepared before the block is queued: once queued, the block may be handed
 * out again, and once a piece's pages are dropped from the block's count,
 * another CPU may free the block: nothing of it is touched after that.
 */

#include <linux/device.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string_choices.h>

#include <drm/drm_buddy.h>
#include <drm/drm_print.h>
#include <kunit/visibility.h>

#include "vramsim_vram.h"

#define CREATE_TRACE_POINTS
#include "vramsim_trace.h"

/*
 * Every block in use has a struct vramsim_block, allocated with the block
 * and freed when it goes back to the buddy: a cache of its own makes the
 * free a per-CPU slab operation without kfree()'s lookup of the cache.
 */
static struct kmem_cache *vramsim_block_cache;

/**
 * vramsim_block_cache_init() - create the cache of &struct vramsim_block
 *
 * Called once at module load, before any VRAM is created.
 *
 * Return: 0 or -ENOMEM.
 */
int __init vramsim_block_cache_init(void)
{
	/*
	 * Unmerged: its own slabinfo line, and a leak named at unload.
	 * Accounted: a block is kernel memory a migration to VRAM makes its
	 * task's memcg pay for, as the struct pages it backs are charged.
	 */
	vramsim_block_cache = KMEM_CACHE(vramsim_block,
					 SLAB_NO_MERGE | SLAB_ACCOUNT);
	return vramsim_block_cache ? 0 : -ENOMEM;
}

/**
 * vramsim_block_cache_fini() - destroy the cache of &struct vramsim_block
 *
 * Called at module unload, once every VRAM is gone, or when module init
 * fails.
 */
void vramsim_block_cache_fini(void)
{
	kmem_cache_destroy(vramsim_block_cache);
	/* A built-in driver whose init failed stays: no VRAM without it. */
	vramsim_block_cache = NULL;
}

const char * const vramsim_prepare_names[VRAMSIM_NR_PREPARE] = {
	[VRAMSIM_PREPARE_DRIVER] = "driver",
	[VRAMSIM_PREPARE_ALLOC] = "alloc",
	[VRAMSIM_PREPARE_CORE] = "core",
};
EXPORT_SYMBOL_IF_KUNIT(vramsim_prepare_names);

#ifdef VRAMSIM_FOLIO_RESET
/*
 * The body of vramsim_folio_prepare(), inline in ->folio_free: the
 * kernel's zone_device_folio_reset() resets the pages, zone_device_data
 * included.
 */
static __always_inline void __vramsim_folio_prepare(struct folio *folio,
						    unsigned long nr,
						    struct dev_pagemap *pgmap)
{
	zone_device_folio_reset(folio, pgmap);
}
#else
/*
 * The body of vramsim_folio_prepare(), inline in ->folio_free, for a kernel
 * without zone_device_folio_reset(): the same reset, written here.
 */
static __always_inline void __vramsim_folio_prepare(struct folio *folio,
						    unsigned long nr,
						    struct dev_pagemap *pgmap)
{
	struct page *page = &folio->page;
	unsigned long i;

	/* _nr_pages lives outside page[1]'s first words: reset it first. */
	if (nr > 1)
		folio_reset_order(folio);

	for (i = 0; i < nr; i++, page++) {
		/*
		 * memremap_pages() leaves PG_reserved set on every page; a
		 * split clears it on the new folios (it copies only the
		 * flags a folio needs), so set it back.
		 */
		page->flags.f = (page->flags.f & ~PAGE_FLAGS_CHECK_AT_PREP) |
				BIT(PG_reserved);
		((struct folio *)page)->pgmap = pgmap;
		page->zone_device_data = NULL;
		page->mapping = NULL;
		page->share = 0;
		page->private = 0;
		atomic_set(&page->_mapcount, -1);
	}
}
#endif

/**
 * vramsim_folio_prepare() - make every page of a freed folio pristine again
 * @folio: the folio, refcount 0, compound state still intact
 * @nr: number of pages of @folio, read before this call
 * @pgmap: the page map the pages belong to (never read from the pages)
 *
 * Leaves each struct page as memremap_pages() initialised it: standalone
 * (no head, tail or order), PG_reserved and no other page flag (a former
 * page[1] loses its order and the flags that alias "has hwpoisoned",
 * "large rmappable" and "partially mapped"),
 * @pgmap in the word compound_info shares with it, and mapping, index,
 * private and zone_device_data cleared.  On a former page[1] and page[2]
 * those words held the mapcounts, mm ids and the deferred-split list.
 *
 * Context: any, including atomic; touches only the struct pages.
 */
void vramsim_folio_prepare(struct folio *folio, unsigned long nr,
			   struct dev_pagemap *pgmap)
{
	__vramsim_folio_prepare(folio, nr, pgmap);
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_folio_prepare);

/*
 * Blocks' tracking objects freed at once by a return: one slab call per
 * batch instead of per block.
 */
#define VRAMSIM_RETURN_BATCH	16

/*
 * Free what the layers above keep for a block (its contents): a call
 * through their hook, out of line so that the return loop below keeps
 * its registers for the blocks without contents, the free-path benchmark's.
 */
static noinline void vramsim_block_release(struct vramsim_vram *vram,
					   struct vramsim_block *vb, u64 size)
{
	vram->ops->release(vram, gpu_buddy_block_offset(vb->block) >> PAGE_SHIFT,
			   size >> PAGE_SHIFT);
}

/* Return the blocks of one pending list; adds to *@bytes.  Under vram->lock. */
static unsigned long vramsim_return_list(struct vramsim_vram *vram,
					 struct llist_node *list, u64 *bytes)
{
	void *batch[VRAMSIM_RETURN_BATCH];
	struct vramsim_block *vb, *next;
	unsigned long n = 0;
	unsigned int b = 0;

	llist_for_each_entry_safe(vb, next, list, free_node) {
		u64 size = gpu_buddy_block_size(&vram->mm, vb->block);

		if (test_bit(VRAMSIM_BLOCK_BACKED, &vb->flags)) {
			vramsim_block_release(vram, vb, size);
			/* Up to 512 pages freed: a point to reschedule. */
			cond_resched();
		}
		list_del(&vb->lru);
		list_del(&vb->region_node);
		vram->lru_len--;
		*bytes += size;
		gpu_buddy_free_block(&vram->mm, vb->block);
		batch[b++] = vb;
		if (b == VRAMSIM_RETURN_BATCH) {
			kmem_cache_free_bulk(vramsim_block_cache, b, batch);
			b = 0;
			cond_resched();
		}
		n++;
	}
	if (b)
		kmem_cache_free_bulk(vramsim_block_cache, b, batch);
	return n;
}

/* Return every pending block to the buddy.  Called with vram->lock held. */
static unsigned long vramsim_return_pending(struct vramsim_vram *vram,
					    bool from_alloc)
{
	unsigned long n = 0;
	u64 bytes = 0;
	int cpu;

	lockdep_assert_held(&vram->lock);

	for_each_possible_cpu(cpu)
		n += vramsim_return_list(vram,
					 llist_del_all(per_cpu_ptr(vram->pending, cpu)),
					 &bytes);
	if (n) {
		atomic64_add(n, &vram->stats.returned);
		trace_vramsim_blocks_return(n, bytes, from_alloc);
	}
	return n;
}

static void vramsim_free_work(struct work_struct *work)
{
	struct vramsim_vram *vram = container_of(work, struct vramsim_vram,
						 free_work);

	mutex_lock(&vram->lock);
	vramsim_return_pending(vram, false);
	mutex_unlock(&vram->lock);
}

/**
 * vramsim_vram_drain() - return all pending frees to the buddy now
 * @vram: the VRAM
 *
 * After this, every block whose folios have all gone through ->folio_free
 * is allocatable again and counted in the buddy's free space.
 *
 * Context: process context; takes @vram->lock.
 */
void vramsim_vram_drain(struct vramsim_vram *vram)
{
	flush_work(&vram->free_work);
	mutex_lock(&vram->lock);
	vramsim_return_pending(vram, false);
	mutex_unlock(&vram->lock);
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_vram_drain);

/*
 * The free path's two steps, inline in ->folio_free; vramsim_block_put()
 * and vramsim_folio_release() are their callable forms.
 */
static __always_inline bool __vramsim_block_put(struct vramsim_vram *vram,
						struct vramsim_block *vb,
						unsigned int nr)
{
	/* Full barrier: every piece's prepare is visible before the block is. */
	if (!atomic_sub_and_test(nr, &vb->live_pages))
		return false;
	this_cpu_inc(vram->stats.pcpu->queued);
	/*
	 * This CPU's list, so that CPUs freeing at once do not all cmpxchg
	 * one head.  Any CPU's list is correct (llist_add() is safe against
	 * other producers): preemption between picking it and adding to it
	 * costs nothing but the locality.
	 */
	/*
	 * The pending bit is read before queue_work() is called: when the
	 * work is already pending, that skips a locked bit operation on a
	 * line every CPU shares.  llist_add() is a full barrier, and the
	 * worker clears its pending bit, then a full barrier, then empties
	 * the lists: a bit still seen set means the worker has not emptied
	 * them yet and will find this block.  (Cancelling, disabling and
	 * enabling the work set the bit for a moment too; queue_work() would
	 * fail then as well, and every such caller returns what is pending
	 * itself.)
	 */
	if (llist_add(&vb->free_node, raw_cpu_ptr(vram->pending)) &&
	    !work_pending(&vram->free_work))
		queue_work(system_dfl_wq, &vram->free_work);
	return true;
}

/* Out of line, so that the free path keeps nothing live across a call. */
static noinline void vramsim_trace_folio_free(struct folio *folio,
					      unsigned int order,
					      unsigned int block_order, bool last)
{
	trace_vramsim_folio_free(folio_pfn(folio), order, block_order, last);
}

static __always_inline void __vramsim_folio_release(struct vramsim_vram *vram,
						    struct vramsim_block *vb,
						    struct folio *folio,
						    unsigned int order)
{
	bool trace = trace_vramsim_folio_free_enabled();
	unsigned int block_order = 0;
	bool last;

	this_cpu_inc(vram->stats.pcpu->frees[order]);
	/* Read before the count drops; only the tracepoint wants it. */
	if (trace)
		block_order = gpu_buddy_block_order(vb->block);
	last = __vramsim_block_put(vram, vb, 1U << order);
	/* The folio's pfn is arithmetic on its address: no access. */
	if (trace)
		vramsim_trace_folio_free(folio, order, block_order, last);
}

/**
 * vramsim_block_put() - drop pages (or an eviction's pin) from a block
 * @vram: the VRAM
 * @vb: the block
 * @nr: how many to drop from @vb->live_pages
 *
 * Queues the block for return to the buddy when the count reaches zero.
 * Unless this call dropped the count to zero, another CPU may free @vb and
 * its block as soon as the count is dropped: the caller reads what it
 * needs of them before.
 *
 * Context: any, including atomic; no sleeping, no allocation.
 * Return: true if the block was queued.
 */
bool vramsim_block_put(struct vramsim_vram *vram, struct vramsim_block *vb,
		       unsigned int nr)
{
	return __vramsim_block_put(vram, vb, nr);
}

/**
 * vramsim_folio_release() - account a freed folio; queue its block if last
 * @vram: the VRAM
 * @vb: the block the folio is (a piece of)
 * @folio: the folio, refcount 0 (only its address is used)
 * @order: order of the folio
 *
 * The second half of ->folio_free, after the prepare step: once the last
 * page of @vb is released, the block is queued for return to the buddy.
 * Everything needed of @vb is read before its count drops (see
 * vramsim_block_put()).
 *
 * Context: any, including atomic; no sleeping, no allocation.
 */
void vramsim_folio_release(struct vramsim_vram *vram, struct vramsim_block *vb,
			   struct folio *folio, unsigned int order)
{
	__vramsim_folio_release(vram, vb, folio, order);
}

#ifdef VRAMSIM_CORE_PREPARES
/**
 * vramsim_folio_free() - &dev_pagemap_ops.folio_free
 * @folio: the freed folio, reset by the core: order 0 now, only its first
 *	page's zone_device_data left
 * @order: the order the folio had
 *
 * Called by the core once the folio's refcount reached zero, after it
 * reset every page of the folio (prepare=core).
 *
 * Context: atomic (zap under a page-table lock) or preemptible
 * (migrate_vma_finalize(), exit); must not sleep or allocate.
 */
void vramsim_folio_free(struct folio *folio, unsigned int order)
{
	struct vramsim_block *vb = folio_zone_device_data(folio);
	struct vramsim_vram *vram = vramsim_folio_vram(folio);

	/* The one word the core leaves: ours, cleared before the block goes. */
	folio_set_zone_device_data(folio, NULL);
	__vramsim_folio_release(vram, vb, folio, order);
}
#else
/* The prepare step and the rest of ->folio_free, for prepare=driver. */
static noinline void vramsim_folio_free_scrub(struct folio *folio,
					      struct vramsim_vram *vram,
					      struct vramsim_block *vb,
					      unsigned int order)
{
	trace_vramsim_folio_prepare(folio_pfn(folio), 1UL << order);
	__vramsim_folio_prepare(folio, 1UL << order, &vram->pgmap);
	__vramsim_folio_release(vram, vb, folio, order);
}

/**
 * vramsim_folio_free() - &dev_pagemap_ops.folio_free
 * @folio: the freed folio, refcount 0
 *
 * Called by the core once the folio's refcount reached zero.  The compound
 * state is still intact, so folio_order() is valid here.
 *
 * Context: atomic (zap under a page-table lock) or preemptible
 * (migrate_vma_finalize(), exit); must not sleep or allocate.
 */
void vramsim_folio_free(struct folio *folio)
{
	struct vramsim_block *vb = folio_zone_device_data(folio);
	struct vramsim_vram *vram = vramsim_folio_vram(folio);
	unsigned int order = folio_order(folio);

	if (READ_ONCE(vram->prepare) == VRAMSIM_PREPARE_DRIVER)
		vramsim_folio_free_scrub(folio, vram, vb, order);
	else
		__vramsim_folio_release(vram, vb, folio, order);
}
#endif

/**
 * vramsim_folio_split() - &dev_pagemap_ops.folio_split
 * @head: the folio being split, already of its new order
 * @tail: a new folio, or NULL once all are made
 *
 * The core splits a large device folio: called once per new folio, then
 * once with @tail == NULL.  The block stays whole: its pages are counted
 * in vb->live_pages and it goes back to the buddy when the last piece is
 * freed.
 *
 * Context: IRQs off, refcounts frozen; no allocation, no sleeping lock.
 */
void vramsim_folio_split(struct folio *head, struct folio *tail)
{
	struct vramsim_block *vb = folio_zone_device_data(head);
	struct vramsim_vram *vram = vramsim_folio_vram(head);

	/*
	 * 7.3 splits device-private folios whole, to order 0, and only ever
	 * a folio that is a whole block: the old order is the block's.  The
	 * counters below depend on that; a core that splits otherwise must
	 * be noticed, not miscounted in silence.
	 */
	if (!tail) {
		VM_WARN_ON_ONCE(folio_order(head) != 0 ||
				folio_pfn(head) != vram->base_pfn +
				(gpu_buddy_block_offset(vb->block) >> PAGE_SHIFT));
		atomic64_inc(&vram->stats.splits);
		this_cpu_dec(vram->stats.pcpu->split_delta[gpu_buddy_block_order(vb->block)]);
		this_cpu_inc(vram->stats.pcpu->split_delta[folio_order(head)]);
		return;
	}

	trace_vramsim_folio_split(folio_pfn(head), folio_order(head),
				  folio_pfn(tail), folio_order(tail));

	/* Core copies these only when there is no ->folio_split. */
	tail->pgmap = &vram->pgmap;
	tail->page.mapping = head->page.mapping;
	folio_set_zone_device_data(tail, vb);
	this_cpu_inc(vram->stats.pcpu->split_delta[folio_order(tail)]);
}

/**
 * vramsim_page_vram() - the VRAM a page in use belongs to, if any
 * @page: a page the caller holds a reference on, or has collected for
 *	migration
 *
 * A page map is vramsim's if its ->folio_free is: the ops table is the
 * migration layer's (&vramsim_vram_ops.pagemap), its ->folio_free this
 * file's, and no other driver's page map has it.
 *
 * Return: the VRAM if @page is a vramsim device page, else NULL (a system
 * page, or another driver's device page).
 */
struct vramsim_vram *vramsim_page_vram(struct page *page)
{
	struct dev_pagemap *pgmap;

	if (!is_device_private_page(page))
		return NULL;
	pgmap = page_pgmap(page);
	if (pgmap->ops->folio_free != vramsim_folio_free)
		return NULL;
	return container_of(pgmap, struct vramsim_vram, pgmap);
}

static int vramsim_alloc_block(struct vramsim_vram *vram, unsigned int order,
			       struct gpu_buddy_block **block)
{
	u64 bytes = PAGE_SIZE << order;
	LIST_HEAD(blocks);
	int err;

	lockdep_assert_held(&vram->lock);

	/* size == min_block_size: one naturally aligned block. */
	err = gpu_buddy_alloc_blocks(&vram->mm, 0, vram->size, bytes, bytes,
				     &blocks, 0);
	if (err)
		return err;

	*block = list_first_entry(&blocks, struct gpu_buddy_block, link);
	return 0;
}

/*
 * Take a block of @order from the buddy, returning pending frees first if
 * it is full.  Called with vram->lock held.
 */
static int vramsim_take_block(struct vramsim_vram *vram, unsigned int order,
			      struct gpu_buddy_block **block, bool *drained)
{
	int err;

	if (vram->dying)
		return -ENODEV;
	err = vramsim_alloc_block(vram, order, block);
	if (err == -ENOSPC && vramsim_return_pending(vram, true)) {
		atomic64_inc(&vram->stats.drains);
		*drained = true;
		err = vramsim_alloc_block(vram, order, block);
	}
	/*
	 * The buddy reports any failure, its own failed kmalloc included, as
	 * -ENOSPC.  A 4 KiB block cannot be missing while space is left (any
	 * free block splits down to one), so that is memory, not a full VRAM.
	 */
	if (err == -ENOSPC && !order && vram->mm.avail)
		err = -ENOMEM;
	return err;
}

/**
 * vramsim_vram_alloc_try() - try once to allocate a device folio
 * @vram: the VRAM
 * @order: folio order, 0 to %VRAMSIM_MAX_ORDER
 * @ticket: the migration the folio is for (vramsim_vram_ticket()), or 0
 * @alloc: what earlier tries of this allocation kept; zeroed for the first
 *
 * Takes a naturally aligned block of @order from the buddy and initialises
 * its pages as one device-private folio of @order.  If the buddy is full,
 * blocks whose frees are still pending are returned first and the block
 * taken again.  Never evicts: a full VRAM is -ENOSPC, and the caller may
 * make room and try again with the same @alloc
 * (vramsim_evict_alloc_folio()), then end it with vramsim_vram_alloc_end()
 * if no try succeeded.  The block is tagged with @ticket, for eviction to
 * spare.
 *
 * The caller may hold locked device folios (destinations of a migration
 * in progress) and the mmap lock.
 *
 * Context: process context, may sleep; takes @vram->lock.
 * Return: the folio, locked, with a reference; ERR_PTR(-ENOSPC) when the
 * VRAM is full, -ENOMEM, -EINVAL for a bad order, -ENODEV while the VRAM
 * is emptied or torn down.
 */
struct folio *vramsim_vram_alloc_try(struct vramsim_vram *vram,
				     unsigned int order, u64 ticket,
				     struct vramsim_alloc *alloc)
{
	struct gpu_buddy_block *block;
	struct vramsim_block *vb;
	struct folio *folio;
	unsigned long pfn;
	int err;

	if (order > VRAMSIM_MAX_ORDER)
		return ERR_PTR(-EINVAL);

	/* Before the lock, once for all tries: GFP_KERNEL may reclaim. */
	if (!alloc->vb) {
		alloc->vb = kmem_cache_alloc(vramsim_block_cache, GFP_KERNEL);
		if (!alloc->vb)
			return ERR_PTR(-ENOMEM);
	}

	mutex_lock(&vram->lock);
	err = vramsim_take_block(vram, order, &block, &alloc->drained);
	if (err) {
		mutex_unlock(&vram->lock);
		return ERR_PTR(err);
	}

	/*
	 * Never page_folio() or page_pgmap() here: a page freed without a
	 * prepare may still carry the compound state of its last folio.
	 * The folio is whole before the block is on the LRU, the only way
	 * an eviction finds its pfns.
	 */
	vb = alloc->vb;
	alloc->vb = NULL;
	pfn = vram->base_pfn + (gpu_buddy_block_offset(block) >> PAGE_SHIFT);
	folio = (struct folio *)pfn_to_page(pfn);
	zone_device_folio_init(folio, &vram->pgmap, order);
	vb->block = block;
	atomic_set(&vb->live_pages, 1 << order);
	vb->evict_seq = 0;
	vb->flags = 0;
	vb->ticket = ticket;
	folio_set_zone_device_data(folio, vb);
	list_add_tail(&vb->lru, &vram->lru);
	list_add_tail(&vb->region_node,
		      &vram->regions[gpu_buddy_block_offset(block) >> VRAMSIM_REGION_SHIFT]);
	vram->lru_len++;
	mutex_unlock(&vram->lock);

	trace_vramsim_folio_alloc(pfn, gpu_buddy_block_offset(block), order,
				  alloc->drained);
	this_cpu_inc(vram->stats.pcpu->allocs[order]);
	return folio;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_vram_alloc_try);

/**
 * vramsim_vram_alloc_end() - give up an allocation no try made
 * @alloc: the allocation
 *
 * Frees what the tries kept.  Not needed after a try that succeeded.
 */
void vramsim_vram_alloc_end(struct vramsim_alloc *alloc)
{
	if (alloc->vb)
		kmem_cache_free(vramsim_block_cache, alloc->vb);
	alloc->vb = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_vram_alloc_end);

/**
 * vramsim_vram_init() - create simulated VRAM
 * @vram: structure to initialise: zeroed but for what the layers above
 *	set up first (the backing store and windows, which @ops->release
 *	uses and which must outlive vramsim_vram_fini())
 * @dev: device the memory belongs to
 * @size: bytes of VRAM: a multiple of 2 MiB, %VRAMSIM_MIN_SIZE to
 *	%VRAMSIM_MAX_SIZE
 * @prepare: free-time policy
 * @ops: the hooks of the layers above, with the page map's ops
 *
 * Reserves a free physical address range, creates device-private struct
 * pages for it with memremap_pages() and a buddy allocator over it.  The
 * layers above call this through vramsim_dmem_init(), which sets up their
 * own state of the VRAM too.
 *
 * Return: 0 or a negative errno; nothing is left behind on failure.
 */
int vramsim_vram_init(struct vramsim_vram *vram, struct device *dev, u64 size,
		      enum vramsim_prepare prepare,
		      const struct vramsim_vram_ops *ops)
{
	struct resource *res;
	unsigned long i;
	void *addr;
	int err;

	if (size < VRAMSIM_MIN_SIZE || size > VRAMSIM_MAX_SIZE ||
	    !IS_ALIGNED(size, VRAMSIM_MIN_SIZE))
		return -EINVAL;
	if (prepare >= VRAMSIM_NR_PREPARE || !vramsim_prepare_supported(prepare))
		return -EINVAL;
	/*
	 * vramsim_page_vram() knows a vramsim page map by its ->folio_free,
	 * and a block with contents is returned through ->release.
	 */
	if (WARN_ON_ONCE(ops->pagemap->folio_free != vramsim_folio_free ||
			 ops->pagemap->folio_split != vramsim_folio_split ||
			 !ops->release))
		return -EINVAL;
	/* Module init failed (a built-in driver's code stays). */
	if (!vramsim_block_cache)
		return -ENODEV;
	/* A 2 MiB device folio is what a PMD maps: the uapi's largest order. */
	if (HPAGE_PMD_ORDER != VRAMSIM_MAX_ORDER) {
		dev_err(dev, "needs PMD-sized folios of order %d, this kernel's are order %d\n",
			VRAMSIM_MAX_ORDER, HPAGE_PMD_ORDER);
		return -EOPNOTSUPP;
	}

	vram->dev = dev;
	vram->size = size;
	vram->prepare = prepare;
	vram->ops = ops;
	mutex_init(&vram->lock);
	INIT_WORK(&vram->free_work, vramsim_free_work);
	INIT_LIST_HEAD(&vram->lru);
	/* Zeroed: an empty llist_head is a NULL first. */
	vram->pending = alloc_percpu(struct llist_head);
	vram->stats.pcpu = alloc_percpu(struct vramsim_pcpu_counters);
	vram->regions = kvcalloc(size >> VRAMSIM_REGION_SHIFT,
				 sizeof(*vram->regions), GFP_KERNEL);
	if (!vram->pending || !vram->stats.pcpu || !vram->regions) {
		err = -ENOMEM;
		goto err_pcpu;
	}
	for (i = 0; i < size >> VRAMSIM_REGION_SHIFT; i++)
		INIT_LIST_HEAD(&vram->regions[i]);

	res = request_free_mem_region(&iomem_resource, size, "vramsim");
	if (IS_ERR(res)) {
		err = PTR_ERR(res);
		goto err_pcpu;
	}
	/*
	 * Buddy blocks are naturally aligned offsets; their pfns are aligned
	 * folios only if the base is.  request_free_mem_region() aligns to a
	 * memory section today, which is enough; do not rely on it silently.
	 */
	if (!IS_ALIGNED(PHYS_PFN(res->start), 1UL << VRAMSIM_MAX_ORDER)) {
		dev_err(dev, "VRAM range %pR is not 2 MiB aligned\n", res);
		err = -EINVAL;
		goto err_release;
	}

	vram->pgmap.type = MEMORY_DEVICE_PRIVATE;
	vram->pgmap.range.start = res->start;
	vram->pgmap.range.end = res->end;
	vram->pgmap.nr_range = 1;
	vram->pgmap.ops = ops->pagemap;
	vram->pgmap.owner = vram;
	vram->base_pfn = PHYS_PFN(res->start);

	addr = memremap_pages(&vram->pgmap, dev_to_node(dev));
	if (IS_ERR(addr)) {
		err = PTR_ERR(addr);
		goto err_release;
	}

	err = gpu_buddy_init(&vram->mm, size, PAGE_SIZE);
	if (err)
		goto err_unmap;
	gpu_buddy_driver_set_lock(&vram->mm, &vram->lock);
	return 0;

err_unmap:
	memunmap_pages(&vram->pgmap);
err_release:
	release_mem_region(res->start, resource_size(res));
err_pcpu:
	kvfree(vram->regions);
	free_percpu(vram->stats.pcpu);
	free_percpu(vram->pending);
	return err;
}

/**
 * vramsim_vram_fini() - tear down simulated VRAM
 * @vram: the VRAM, emptied: no allocation any more and no device page in
 *	use, or about to be freed (vramsim_evict_empty())
 *
 * Waits for the last ->folio_free, returns all blocks to the buddy (the
 * blocks with contents through @vram->ops->release: what it frees must
 * still be there) and releases the page map and the address range.
 * Reports leaked VRAM in the kernel log.  The layers above call this
 * through vramsim_dmem_fini(), which empties the VRAM first and releases
 * their state after.  Unemptied, memunmap_pages() would wait forever for
 * the pages still mapped.
 *
 * Context: process context, may sleep.
 */
void vramsim_vram_fini(struct vramsim_vram *vram)
{
	u64 start = vram->pgmap.range.start;
	u64 len = range_len(&vram->pgmap.range);

	WARN_ON_ONCE(!READ_ONCE(vram->dying));

	/* Waits until every device page has been through ->folio_free. */
	memunmap_pages(&vram->pgmap);

	/* No ->folio_free can queue the worker any more. */
	disable_work_sync(&vram->free_work);
	mutex_lock(&vram->lock);
	vramsim_return_pending(vram, false);
	if (vram->mm.avail != vram->mm.size)
		dev_err(vram->dev, "leaked %llu bytes of VRAM at unload\n",
			vram->mm.size - vram->mm.avail);
	gpu_buddy_fini(&vram->mm);
	mutex_unlock(&vram->lock);

	kvfree(vram->regions);
	free_percpu(vram->stats.pcpu);
	free_percpu(vram->pending);
	release_mem_region(start, len);
	mutex_destroy(&vram->lock);
}

/**
 * vramsim_vram_free_bytes() - free space in the buddy now
 * @vram: the VRAM
 *
 * Pending frees are not counted: call vramsim_vram_drain() first to see
 * what the VRAM holds once they are returned.
 *
 * Return: bytes the buddy allocator has free.
 */
u64 vramsim_vram_free_bytes(struct vramsim_vram *vram)
{
	u64 avail;

	mutex_lock(&vram->lock);
	avail = vram->mm.avail;
	mutex_unlock(&vram->lock);
	return avail;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_vram_free_bytes);

/**
 * vramsim_vram_get_stats() - read a VRAM's state and counters
 * @vram: the VRAM
 * @stats: out
 *
 * Read while the alloc and free paths go on counting, with no lock: not
 * one atomic snapshot, but consistent where the comments below say.
 */
void vramsim_vram_get_stats(struct vramsim_vram *vram,
			    struct vramsim_vram_stats *stats)
{
	struct vramsim_counters *c = &vram->stats;
	u64 queued = 0, returned;
	int i, cpu;

	stats->prepare = READ_ONCE(vram->prepare);
	stats->vram_size = vram->size;
	stats->vram_free = vramsim_vram_free_bytes(vram);
	/*
	 * Returned first: a block is counted queued before llist_add(), and
	 * returned after llist_del_all(), so once returned is read, the
	 * queued counts it includes are visible too.
	 */
	returned = atomic64_read(&c->returned);
	/* Pairs with the full barriers of llist_add() and llist_del_all(). */
	smp_rmb();
	for_each_possible_cpu(cpu)
		queued += READ_ONCE(per_cpu_ptr(c->pcpu, cpu)->queued);
	stats->pending_frees = queued > returned ? queued - returned : 0;
	stats->splits = atomic64_read(&c->splits);
	for (i = 0; i < VRAMSIM_NR_ORDERS; i++) {
		u64 allocs = 0, frees = 0;
		s64 delta = 0, live;

		for_each_possible_cpu(cpu) {
			struct vramsim_pcpu_counters *pc = per_cpu_ptr(c->pcpu, cpu);

			allocs += READ_ONCE(pc->allocs[i]);
			frees += READ_ONCE(pc->frees[i]);
			delta += READ_ONCE(pc->split_delta[i]);
		}
		stats->allocs[i] = allocs;
		stats->frees[i] = frees;
		live = allocs - frees + delta;
		/* CPUs read at different moments: never report below zero. */
		stats->live_folios[i] = max_t(s64, live, 0);
	}
	stats->evictions = atomic64_read(&c->evictions);
	stats->evicted_bytes = atomic64_read(&c->evicted_bytes);
	stats->evict_skipped = atomic64_read(&c->evict_skipped);
	stats->evict_no_ram = atomic64_read(&c->evict_no_ram);
	stats->evict_split = atomic64_read(&c->evict_split);
	stats->peer_bytes = atomic64_read(&c->peer_bytes);
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_vram_get_stats);

/**
 * vramsim_vram_print() - print the buddy state and the counters
 * @vram: the VRAM
 * @p: where to
 */
void vramsim_vram_print(struct vramsim_vram *vram, struct drm_printer *p)
{
	struct vramsim_vram_stats s;
	int i;

	vramsim_vram_get_stats(vram, &s);
	drm_printf(p, "vram: %llu MiB at pfn %#lx, prepare=%s\n",
		   vram->size >> 20, vram->base_pfn,
		   vramsim_prepare_names[s.prepare]);
	drm_printf(p, "pending_frees: %llu returned: %llu drains: %lld splits: %llu\n",
		   s.pending_frees, (u64)atomic64_read(&vram->stats.returned),
		   atomic64_read(&vram->stats.drains), s.splits);
	drm_printf(p, "backing_pages: %lld\n", atomic64_read(&vram->stats.backing));
	drm_printf(p, "evict: %s evictions: %llu evicted_bytes: %llu evict_skipped: %llu\n",
		   str_on_off(vram->evict), s.evictions, s.evicted_bytes,
		   s.evict_skipped);
	drm_printf(p, "evict_no_ram: %llu evict_split: %llu\n",
		   s.evict_no_ram, s.evict_split);
	drm_printf(p, "peer_bytes: %llu\n", s.peer_bytes);
	drm_printf(p, "order      live    allocs     frees\n");
	for (i = 0; i < VRAMSIM_NR_ORDERS; i++)
		drm_printf(p, "%5d %9llu %9llu %9llu\n", i, s.live_folios[i],
			   s.allocs[i], s.frees[i]);

	mutex_lock(&vram->lock);
	drm_buddy_print(&vram->mm, p);
	mutex_unlock(&vram->lock);
}
