/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: the simulated VRAM, the driver's bottom layer.
 *
 * A MEMORY_DEVICE_PRIVATE page map whose pages are handed out by the GPU
 * buddy allocator as naturally aligned device folios of order 0 to
 * VRAMSIM_MAX_ORDER, and given back through ->folio_free.  This layer
 * calls no other file of the driver: an allocation that finds the VRAM
 * full fails, and its caller (vramsim_evict.h) decides whether to evict
 * and try again; what the layers above keep for a block (the contents of
 * its pages) is freed through &struct vramsim_vram_ops when the block goes
 * back to the buddy.
 */
#ifndef _VRAMSIM_VRAM_H_
#define _VRAMSIM_VRAM_H_

#include <linux/atomic.h>
#include <linux/gpu_buddy.h>
#include <linux/llist.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/srcu.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct device;
struct drm_printer;
struct vramsim_vram;
struct vramsim_window;

/*
 * Folio orders vramsim hands out: 0 (4 KiB) up to 9 (2 MiB folios: the PMD
 * order, which is what THP migration produces).
 */
#define VRAMSIM_NR_ORDERS	10
#define VRAMSIM_MAX_ORDER	(VRAMSIM_NR_ORDERS - 1)

/* Migration windows a VRAM keeps ready (at most BITS_PER_LONG). */
#define VRAMSIM_NR_WINDOWS	4

/* Devices, each with its own VRAM, a module instance may have. */
#define VRAMSIM_MAX_DEVICES	8

/* Smallest and largest VRAM size accepted. */
#define VRAMSIM_MIN_SIZE	(PAGE_SIZE << VRAMSIM_MAX_ORDER)
#define VRAMSIM_MAX_SIZE	(64ULL << 30)

/*
 * Eviction's unit: a naturally aligned 2 MiB region of VRAM, what one
 * order-9 allocation needs and one migration window holds.
 */
#define VRAMSIM_REGION_SHIFT	(PAGE_SHIFT + VRAMSIM_MAX_ORDER)
#define VRAMSIM_REGION_PAGES	BIT(VRAMSIM_MAX_ORDER)

/**
 * enum vramsim_prepare - where a freed folio's struct pages are reset
 *	before its block is reused (the placements of docs/debate.md)
 * @VRAMSIM_PREPARE_DRIVER: ->folio_free resets every struct page of the
 *	folio to the state memremap_pages() left it in, then returns the
 *	block ("scrub" before the rename, still accepted).
 * @VRAMSIM_PREPARE_ALLOC: ->folio_free returns the block as it is; the
 *	next zone_device_folio_init() reinitialises the pages it hands out
 *	("none" before the rename, still accepted).
 * @VRAMSIM_PREPARE_CORE: the core resets the folio before ->folio_free
 *	and passes its order; only on a kernel that does (VARIANT=core).
 * @VRAMSIM_NR_PREPARE: number of policies
 *
 * On a kernel whose core resets freed folios, CORE is the only policy;
 * elsewhere DRIVER and ALLOC are (vramsim_prepare_supported()).
 */
enum vramsim_prepare {
	VRAMSIM_PREPARE_DRIVER = 0,
	VRAMSIM_PREPARE_ALLOC = 1,
	VRAMSIM_PREPARE_CORE = 2,
	VRAMSIM_NR_PREPARE
};

/*
 * What the kernel vramsim is built against does with a freed device folio
 * (docs/variants.md); the Makefile finds out from its sources.
 *  VRAMSIM_CORE_PREPARES: the core resets it before ->folio_free, which
 *	takes the order (VARIANT=core)
 *  VRAMSIM_INIT_RESETS: zone_device_page_init() resets every page it hands
 *	out as if used for the first time (VARIANT=fix)
 *  VRAMSIM_FOLIO_RESET: zone_device_folio_reset() exists, for a driver
 *	that resets a freed folio itself (prepare=driver; VARIANT=fix)
 *  VRAMSIM_WALK_HELD: migrate_device_range() skips pfns only by the
 *	folios it holds (VARIANT=fix)
 */
#ifdef VRAMSIM_CORE_PREPARES
#define VRAMSIM_HAS_CORE_PREPARE	true
#define VRAMSIM_DEFAULT_PREPARE		VRAMSIM_PREPARE_CORE
#else
#define VRAMSIM_HAS_CORE_PREPARE	false
#define VRAMSIM_DEFAULT_PREPARE		VRAMSIM_PREPARE_DRIVER
#endif
#ifdef VRAMSIM_INIT_RESETS
#define VRAMSIM_HAS_INIT_RESET		true
#else
#define VRAMSIM_HAS_INIT_RESET		false
#endif
#ifdef VRAMSIM_WALK_HELD
#define VRAMSIM_HAS_WALK_FIX		true
#else
#define VRAMSIM_HAS_WALK_FIX		false
#endif

extern const char * const vramsim_prepare_names[VRAMSIM_NR_PREPARE];

/**
 * vramsim_prepare_supported() - whether this kernel has a policy
 * @prepare: the policy
 *
 * Return: true if @prepare can be used with the kernel vramsim is built for.
 */
static inline bool vramsim_prepare_supported(enum vramsim_prepare prepare)
{
	if (VRAMSIM_HAS_CORE_PREPARE)
		return prepare == VRAMSIM_PREPARE_CORE;
	return prepare == VRAMSIM_PREPARE_DRIVER || prepare == VRAMSIM_PREPARE_ALLOC;
}

/**
 * struct vramsim_block - one buddy block in use as device memory
 * @block: the buddy block (its order is the block's order in pages: the
 *	buddy's chunk size is PAGE_SIZE)
 * @live_pages: pages of the block not yet freed, plus one while an eviction
 *	works on the block; the folio holding the block may have been split,
 *	so this counts pages, not folios
 * @free_node: link in a list of &vramsim_vram.pending once the count
 *	reaches zero
 * @lru: link in &vramsim_vram.lru, from allocation until the block is back
 *	in the buddy; under &vramsim_vram.lock
 * @region_node: link in the list of its 2 MiB region's blocks in use
 *	(&vramsim_vram.regions), for the same time and under the same lock
 * @evict_node: link in the list of blocks one eviction pass pinned; only
 *	while %VRAMSIM_BLOCK_EVICTING is set, by the pass that set it
 * @evict_seq: the last eviction pass that looked at the block; under
 *	&vramsim_vram.lock
 * @flags: %VRAMSIM_BLOCK_EVICTING while an eviction pass works on the block
 *	(set under &vramsim_vram.lock, cleared before the pass unpins it);
 *	%VRAMSIM_BLOCK_BACKED once a migration writes its contents (set before
 *	its first backing page is allocated, never cleared): the block's
 *	return calls &vramsim_vram_ops.release
 * @ticket: the migration that allocated the block (0: none); its own
 *	allocations never evict it
 *
 * Every device folio's zone_device_data points to its block, including
 * the pieces of a split folio.
 */
struct vramsim_block {
	struct gpu_buddy_block *block;
	atomic_t live_pages;
	struct llist_node free_node;
	struct list_head lru;
	struct list_head region_node;
	struct list_head evict_node;
	unsigned long evict_seq;
	unsigned long flags;
	u64 ticket;
};

#define VRAMSIM_BLOCK_EVICTING	0
#define VRAMSIM_BLOCK_BACKED	1

/**
 * struct vramsim_pcpu_counters - the counters the alloc and free paths bump
 * @allocs: device folios allocated, per order
 * @frees: ->folio_free calls, per order
 * @split_delta: device folios that splits made (a piece) or unmade (the
 *	large folio), per order; live folios are @allocs - @frees + @split_delta, so
 *	neither path pays for a live count of its own
 * @queued: blocks queued for return to the buddy (pending + returned)
 *
 * Per CPU: every free would otherwise pay two locked read-modify-writes
 * on lines all CPUs share.  this_cpu_*() is one unlocked instruction, safe
 * against interrupts, in any context; a reader sums the CPUs.
 */
struct vramsim_pcpu_counters {
	u64 allocs[VRAMSIM_NR_ORDERS];
	u64 frees[VRAMSIM_NR_ORDERS];
	s64 split_delta[VRAMSIM_NR_ORDERS];
	u64 queued;
};

/**
 * struct vramsim_counters - event counters, read by debugfs
 * @pcpu: the alloc and free paths' counters, per CPU
 * @splits: large folios split by the core
 * @returned: blocks returned to the buddy (pending ones: @pcpu's queued
 *	minus these)
 * @drains: times an allocation found the buddy full and drained pending frees
 * @backing: system pages in the backing store now
 * @evictions: blocks an eviction moved something out of
 * @evicted_bytes: bytes of device memory evicted to RAM
 * @evict_skipped: device pages an eviction found in use but could not move
 *	(locked by a migration or fault, an extra reference, no RAM)
 * @evict_no_ram: of those, the pages for which no RAM could be had
 * @evict_split: device THPs evicted as 512 pages, no 2 MiB of RAM to be had
 * @peer_bytes: bytes migrated into this VRAM directly from another's
 */
struct vramsim_counters {
	struct vramsim_pcpu_counters __percpu *pcpu;
	atomic64_t splits;
	atomic64_t returned;
	atomic64_t drains;
	atomic64_t backing;
	atomic64_t evictions;
	atomic64_t evicted_bytes;
	atomic64_t evict_skipped;
	atomic64_t evict_no_ram;
	atomic64_t evict_split;
	atomic64_t peer_bytes;
};

/**
 * struct vramsim_vram_stats - a snapshot of a VRAM's state and counters
 * @prepare: the VRAM's free-time policy
 * @vram_size: bytes of VRAM
 * @vram_free: bytes free in the buddy allocator (pending frees not counted)
 * @pending_frees: blocks freed by ->folio_free, not yet returned
 * @splits: large device folios split by the core
 * @live_folios: device folios in use, per order
 * @allocs: device folios allocated, per order
 * @frees: device folios freed (->folio_free calls), per order
 * @evictions: blocks an eviction moved data out of
 * @evicted_bytes: bytes evicted to system memory
 * @evict_skipped: device pages an eviction found in use but could not move
 * @evict_no_ram: of those, the pages for which no RAM could be had
 * @evict_split: device THPs an eviction moved as 512 pages (no 2 MiB of RAM)
 * @peer_bytes: bytes migrated in directly from another VRAM
 *
 * Filled by vramsim_vram_get_stats(); counts are since the VRAM was
 * created, except @vram_free, @pending_frees and @live_folios.  Not ABI:
 * debugfs shows it (vramsim_debugfs.c), the KUnit tests check it.
 */
struct vramsim_vram_stats {
	enum vramsim_prepare prepare;
	u64 vram_size;
	u64 vram_free;
	u64 pending_frees;
	u64 splits;
	u64 live_folios[VRAMSIM_NR_ORDERS];
	u64 allocs[VRAMSIM_NR_ORDERS];
	u64 frees[VRAMSIM_NR_ORDERS];
	u64 evictions;
	u64 evicted_bytes;
	u64 evict_skipped;
	u64 evict_no_ram;
	u64 evict_split;
	u64 peer_bytes;
};

/**
 * struct vramsim_peers - VRAMs a migration may take pages from directly
 * @srcu: a reader holds it from loading a slot until it is done with the
 *	VRAM it found there, the migrations that use it as a page map owner
 *	included
 * @vram: slot i: device i's VRAM while its pages may be migrated from, or
 *	NULL
 *
 * A slot is set once its VRAM is ready.  Removal clears it and waits for
 * the readers (synchronize_srcu()) before it empties the VRAM and frees
 * it, so a reader never hands the core the address of a VRAM that is
 * going, or of whatever is allocated there next, as a page map owner.
 */
struct vramsim_peers {
	struct srcu_struct *srcu;
	struct vramsim_vram __rcu *vram[VRAMSIM_MAX_DEVICES];
};

/**
 * struct vramsim_vram_ops - what the layers above give a VRAM
 * @pagemap: the page map's ops: ->folio_free and ->folio_split are this
 *	layer's vramsim_folio_free() and vramsim_folio_split(), which mark a
 *	page map as vramsim's (vramsim_page_vram()); ->migrate_to_ram is the
 *	migration layer's
 * @release: free what the layers above keep for the pages [@pgoff,
 *	@pgoff + @nr) of a block going back to the buddy: called for a block
 *	with %VRAMSIM_BLOCK_BACKED set, in process context, under
 *	&vramsim_vram.lock, when no folio covers the block any more
 *
 * A hook and not a call: the bottom layer calls nothing above it.
 */
struct vramsim_vram_ops {
	const struct dev_pagemap_ops *pagemap;
	void (*release)(struct vramsim_vram *vram, unsigned long pgoff,
			unsigned long nr);
};

/**
 * struct vramsim_vram - simulated VRAM
 * @dev: device the memory belongs to
 * @pgmap: the device-private page map
 * @base_pfn: first pfn of @pgmap; buddy offset 0
 * @size: bytes of VRAM
 * @prepare: free-time policy, see &enum vramsim_prepare; fixed for the
 *	device's VRAM, changed only on the benchmark's private instances
 * @evict: evict the oldest blocks to RAM when an allocation finds the VRAM
 *	full (else it fails with -ENOSPC); set before the VRAM is used, read
 *	by vramsim_evict_alloc_folio()
 * @peers: the VRAMs whose pages a migration to this one may take
 *	directly (its own slot is skipped); NULL: none (vramsim_migrate.c)
 * @lock: protects @mm, @dying, @lru, @lru_len, @regions and @evict_seq;
 *	a mutex because the buddy allocates with GFP_KERNEL
 * @mm: the buddy allocator over [0, @size)
 * @dying: set while the VRAM is emptied for removal and at teardown: no
 *	allocation meanwhile, and migration walks stop (read locklessly with
 *	READ_ONCE() there)
 * @pending: blocks whose last page was freed, not yet returned to @mm:
 *	one list per CPU, filled locklessly by ->folio_free on the CPU it
 *	runs on, all emptied under @lock
 * @free_work: returns @pending to @mm
 * @lru: blocks allocated from @mm and not yet returned, oldest first: the
 *	eviction order (vramsim_evict.c)
 * @lru_len: blocks on @lru
 * @regions: for each 2 MiB region of the VRAM, its blocks on @lru, so that
 *	eviction can empty the region around a block (vramsim_evict.c)
 * @evict_seq: number of the last eviction pass
 * @tickets: last migration ticket handed out (vramsim_vram_ticket())
 * @backing: contents of the VRAM: system pages indexed by page offset,
 *	allocated on first write, freed when their block is returned
 *	(vramsim_backing.c)
 * @windows: %VRAMSIM_NR_WINDOWS migration windows (vramsim_backing.c), so
 *	that faults and ioctls need not allocate them
 * @windows_busy: bit i set while window i is in use
 * @evict_hold_ms: for tests only (debugfs evict_hold_ms): how long an
 *	eviction waits with its folios unmapped, locked and copied, before
 *	it moves them; 0 (the default): not at all.  Read with READ_ONCE().
 * @stats: event counters
 * @ops: the hooks of the layers above, see &struct vramsim_vram_ops
 *
 * The layers above keep their state of a VRAM here too, marked with the
 * file that owns it; this layer leaves it alone.
 */
struct vramsim_vram {
	struct device *dev;
	struct dev_pagemap pgmap;
	unsigned long base_pfn;
	u64 size;
	enum vramsim_prepare prepare;
	bool evict;
	struct vramsim_peers *peers;

	struct mutex lock;	/* the buddy's driver lock; see above */
	struct gpu_buddy mm;
	bool dying;

	struct llist_head __percpu *pending;
	struct work_struct free_work;
	struct list_head lru;
	unsigned long lru_len;
	struct list_head *regions;
	unsigned long evict_seq;
	atomic64_t tickets;

	struct xarray backing;
	struct vramsim_window *windows;
	unsigned long windows_busy;
	unsigned int evict_hold_ms;
	struct vramsim_counters stats;
	const struct vramsim_vram_ops *ops;
};

/* Longest hold debugfs evict_hold_ms accepts. */
#define VRAMSIM_EVICT_HOLD_MAX_MS	1000

int vramsim_block_cache_init(void);
void vramsim_block_cache_fini(void);

int vramsim_vram_init(struct vramsim_vram *vram, struct device *dev, u64 size,
		      enum vramsim_prepare prepare,
		      const struct vramsim_vram_ops *ops);
void vramsim_vram_fini(struct vramsim_vram *vram);

/**
 * struct vramsim_alloc - what one allocation keeps from try to try
 * @vb: the tracking object for the block, allocated by the first try and
 *	kept for the next ones; NULL before it, and once a try succeeded
 * @drained: a try returned pending frees to the buddy (for the tracepoint)
 *
 * Zeroed before the first vramsim_vram_alloc_try(); given to
 * vramsim_vram_alloc_end() unless a try succeeded.
 */
struct vramsim_alloc {
	struct vramsim_block *vb;
	bool drained;
};

struct folio *vramsim_vram_alloc_try(struct vramsim_vram *vram,
				     unsigned int order, u64 ticket,
				     struct vramsim_alloc *alloc);
void vramsim_vram_alloc_end(struct vramsim_alloc *alloc);
void vramsim_vram_drain(struct vramsim_vram *vram);
void vramsim_folio_prepare(struct folio *folio, unsigned long nr,
			   struct dev_pagemap *pgmap);
void vramsim_folio_release(struct vramsim_vram *vram, struct vramsim_block *vb,
			   struct folio *folio, unsigned int order);
bool vramsim_block_put(struct vramsim_vram *vram, struct vramsim_block *vb,
		       unsigned int nr);

#ifdef VRAMSIM_CORE_PREPARES
void vramsim_folio_free(struct folio *folio, unsigned int order);
#else
void vramsim_folio_free(struct folio *folio);
#endif
void vramsim_folio_split(struct folio *head, struct folio *tail);

u64 vramsim_vram_free_bytes(struct vramsim_vram *vram);
void vramsim_vram_get_stats(struct vramsim_vram *vram,
			    struct vramsim_vram_stats *stats);
void vramsim_vram_print(struct vramsim_vram *vram, struct drm_printer *p);

/**
 * vramsim_vram_ticket() - a ticket for one migration's allocations
 * @vram: the VRAM
 *
 * Blocks allocated with a ticket are never evicted to make room for an
 * allocation with the same ticket: a migration does not evict what it
 * has itself just moved in.
 *
 * Return: a ticket, never 0.
 */
static inline u64 vramsim_vram_ticket(struct vramsim_vram *vram)
{
	return atomic64_inc_return(&vram->tickets);
}

struct vramsim_vram *vramsim_page_vram(struct page *page);

/**
 * vramsim_vram_has_pfn() - is @pfn one of @vram's device pages?
 * @vram: the VRAM
 * @pfn: any pfn
 *
 * Reads no struct page: safe for a pfn whose page is free (and may hold
 * stale state under prepare=alloc).
 *
 * Return: true if @pfn is in @vram's range.
 */
static inline bool vramsim_vram_has_pfn(const struct vramsim_vram *vram,
					unsigned long pfn)
{
	return pfn - vram->base_pfn < vram->size >> PAGE_SHIFT;
}

/**
 * vramsim_folio_vram() - the VRAM a device folio in use belongs to
 * @folio: a vramsim folio that holds a reference, or is being freed or split
 *
 * Only for live folios: a free page's pgmap word may be stale under
 * prepare=alloc.
 *
 * Return: the VRAM.
 */
static inline struct vramsim_vram *vramsim_folio_vram(struct folio *folio)
{
	return container_of(folio->pgmap, struct vramsim_vram, pgmap);
}

#endif /* _VRAMSIM_VRAM_H_ */
