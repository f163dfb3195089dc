// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: migrating anonymous memory to simulated VRAM and back.
 *
 * The contents of a device page live in a system page of the backing store,
 * indexed by the page's offset in the VRAM; "device copies" are memcpys
 * between that page and the system page being migrated.  Ranges are walked
 * in windows of at most PMD size, aligned to PMD boundaries, so that a THP or
 * a PMD-sized hole can become one order-9 device folio and back.
 */

#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <kunit/visibility.h>

#include "vramsim_migrate.h"
#include "vramsim_vram.h"

#define VRAMSIM_WINDOW_PAGES	HPAGE_PMD_NR

/* The system page holding the contents of device page @pgoff. */
static struct page *vramsim_backing_page(struct vramsim_vram *vram,
					 unsigned long pgoff)
{
	struct page *page, *old;

	page = xa_load(&vram->backing, pgoff);
	if (page)
		return page;

	/*
	 * Not charged: the device folio these contents belong to carries the
	 * memcg charge of the page it replaced (mem_cgroup_migrate()), so a
	 * second charge would count the memory twice.  And a migration that
	 * finds no RAM for its VRAM fails with -ENOMEM: no OOM kill for it.
	 */
	page = alloc_page(GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!page)
		return NULL;
	old = xa_cmpxchg(&vram->backing, pgoff, NULL, page, GFP_KERNEL);
	if (old) {
		__free_page(page);
		return xa_is_err(old) ? NULL : old;
	}
	atomic64_inc(&vram->stats.backing);
	return page;
}

/**
 * vramsim_backing_free() - free the system pages behind a range of VRAM
 * @vram: the VRAM
 * @pgoff: first device page, as an offset in the VRAM
 * @nr: number of device pages
 *
 * Called when a block goes back to the buddy: no device folio covers the
 * range any more, so nothing can read these pages.
 *
 * Context: any context that may take a spinlock; does not sleep.
 */
void vramsim_backing_free(struct vramsim_vram *vram, unsigned long pgoff,
			  unsigned long nr)
{
	XA_STATE(xas, &vram->backing, pgoff);
	struct page *page;
	long n = 0;

	xas_lock(&xas);
	xas_for_each(&xas, page, pgoff + nr - 1) {
		xas_store(&xas, NULL);
		__free_page(page);
		n++;
	}
	xas_unlock(&xas);
	if (n)
		atomic64_sub(n, &vram->stats.backing);
}

/**
 * vramsim_backing_fini() - free what is left of the backing store
 * @vram: the VRAM, with every block back in the buddy
 */
void vramsim_backing_fini(struct vramsim_vram *vram)
{
	struct page *page;
	unsigned long idx;

	/* Blocks free their backing when returned: this should be empty. */
	xa_for_each(&vram->backing, idx, page)
		__free_page(page);
	xa_destroy(&vram->backing);
}

/*
 * Both arrays of a migration window.  A few are kept per VRAM so that a
 * PMD fault, or an ioctl, does not allocate 8 KiB each time; callers past
 * that many at once get one from kmalloc.
 */
struct vramsim_window {
	unsigned long src[VRAMSIM_WINDOW_PAGES];
	unsigned long dst[VRAMSIM_WINDOW_PAGES];
};

static struct vramsim_window *vramsim_window_get(struct vramsim_vram *vram)
{
	unsigned int i;

	for (i = 0; i < VRAMSIM_NR_WINDOWS; i++)
		if (!test_and_set_bit_lock(i, &vram->windows_busy))
			return &vram->windows[i];
	return kmalloc_obj(struct vramsim_window);
}

static void vramsim_window_put(struct vramsim_vram *vram,
			       struct vramsim_window *w)
{
	if (w >= vram->windows && w < vram->windows + VRAMSIM_NR_WINDOWS)
		clear_bit_unlock(w - vram->windows, &vram->windows_busy);
	else
		kfree(w);
}

/**
 * vramsim_windows_init() - allocate the migration windows a VRAM keeps
 * @vram: the VRAM being created
 *
 * Return: 0 or -ENOMEM.
 */
int vramsim_windows_init(struct vramsim_vram *vram)
{
	vram->windows = kvmalloc_array(VRAMSIM_NR_WINDOWS,
				       sizeof(struct vramsim_window), GFP_KERNEL);
	return vram->windows ? 0 : -ENOMEM;
}

/**
 * vramsim_windows_fini() - free the migration windows
 * @vram: the VRAM, with no migration running
 */
void vramsim_windows_fini(struct vramsim_vram *vram)
{
	kvfree(vram->windows);
	vram->windows = NULL;
}

/*
 * May a 2 MiB folio, on the device or in RAM, map [haddr, haddr + 2 MiB) of
 * @vma?  thp_vma_allowable_order() and vma_thp_gfp_mask() are what the core
 * uses, but mm does not export them (nor the sysfs policy they read), so a
 * module honours what it can see: the VMA must fit the huge page, THP must
 * not be disabled for it or its process (MADV_NOHUGEPAGE,
 * PR_SET_THP_DISABLE), and, since the system-wide mode is hidden, the VMA
 * must have asked for huge pages (MADV_HUGEPAGE): under "madvise", the
 * default, that is exactly the core's answer; under "always" vramsim makes
 * fewer huge pages than the core would, under "never" it still makes them
 * where MADV_HUGEPAGE asked.
 */
static bool vramsim_thp_allowed(struct vm_area_struct *vma, unsigned long haddr)
{
	vm_flags_t flags = vma->vm_flags;

	return thp_vma_suitable_order(vma, haddr, HPAGE_PMD_ORDER) &&
	       !vma_thp_disabled(vma, flags, false) && (flags & VM_HUGEPAGE);
}

/* The GFP mask of a RAM THP: vma_thp_gfp_mask() under the default defrag. */
static gfp_t vramsim_thp_gfp(struct vm_area_struct *vma)
{
	gfp_t gfp = vma->vm_flags & VM_HUGEPAGE ? GFP_TRANSHUGE :
						  GFP_TRANSHUGE_LIGHT;

	return gfp | __GFP_NOWARN;
}

static unsigned long vramsim_pgoff(struct vramsim_vram *vram,
				   struct page *dpage)
{
	return page_to_pfn(dpage) - vram->base_pfn;
}

/*
 * Copy @nr pages into the device pages at @dpage: from the system pages at
 * @spage, from the device pages at @spage of another VRAM (a migration from
 * a peer device: its backing pages are copied, nothing goes through the
 * source's RAM pages), or zeroes if @spage is NULL.  A peer's pages are
 * collected by the migration, so locked and referenced: its VRAM cannot be
 * torn down under the copy.
 */
static int vramsim_copy_to_vram(struct vramsim_vram *vram, struct page *dpage,
				struct page *spage, unsigned long nr)
{
	unsigned long pgoff = vramsim_pgoff(vram, dpage), from_pgoff = 0;
	struct vramsim_vram *from = NULL;
	struct vramsim_block *vb;
	unsigned long i;

	if (spage && is_device_private_page(spage)) {
		/*
		 * The walk took device pages of one owner only, a vramsim
		 * VRAM's (struct vramsim_peers): anything else is a bug,
		 * not data to copy.
		 */
		from = vramsim_page_vram(spage);
		if (WARN_ON_ONCE(!from))
			return -EINVAL;
		from_pgoff = vramsim_pgoff(from, spage);
	}
	/*
	 * The block's return walks the backing store only if this is set:
	 * a block that never held data (a failed migration's, the free-path
	 * benchmark's) goes back to the buddy without the walk.  Set before
	 * any backing page exists, by the holder of a reference on the folio.
	 */
	vb = folio_zone_device_data(page_folio(dpage));
	if (!test_bit(VRAMSIM_BLOCK_BACKED, &vb->flags))
		set_bit(VRAMSIM_BLOCK_BACKED, &vb->flags);
	for (i = 0; i < nr; i++) {
		struct page *b = vramsim_backing_page(vram, pgoff + i);
		struct page *s = spage ? spage + i : NULL;

		if (!b)
			return -ENOMEM;
		if (from)
			s = xa_load(&from->backing, from_pgoff + i);
		if (s)
			copy_highpage(b, s);
		else
			clear_highpage(b);
	}
	if (from)
		atomic64_add(nr << PAGE_SHIFT, &vram->stats.peer_bytes);
	return 0;
}

/* Copy @nr device pages from @spage into system pages at @dpage. */
static void vramsim_copy_from_vram(struct vramsim_vram *vram,
				   struct page *dpage, struct page *spage,
				   unsigned long nr)
{
	unsigned long pgoff = vramsim_pgoff(vram, spage);
	unsigned long i;

	for (i = 0; i < nr; i++) {
		struct page *b = xa_load(&vram->backing, pgoff + i);

		/* Every device page was written when it was migrated in. */
		if (b)
			copy_highpage(dpage + i, b);
		else
			clear_highpage(dpage + i);
	}
}

/* Give back destination folios a window will not use (device or RAM). */
static void vramsim_put_dst(unsigned long *dst, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct page *page = migrate_pfn_to_page(dst[i]);

		if (page) {
			folio_unlock(page_folio(page));
			folio_put(page_folio(page));
		}
		dst[i] = 0;
	}
}

/*
 * Why the ioctls never give a THP 4 KiB destinations.
 *
 * Given order-0 destinations for a COMPOUND source, migrate_vma_pages()
 * splits the source folio after the walk unmapped it: it splits the PMD
 * migration entry of the VMA being migrated, then the folio.  The walk,
 * though, unmapped every mapping of the folio; one in another process (a
 * fork's child) keeps a PMD migration entry to what is now 512 folios, and
 * migrate_vma_finalize() trips over it (Linux 7.3: VM_BUG_ON_FOLIO in
 * remove_migration_pmd(), or a freed folio in rmap_walk_file()).  Nothing
 * tells the driver, after the walk, whether the folio was shared.
 *
 * So a COMPOUND source that cannot have a 2 MiB destination moves in a
 * second walk of the window without MIGRATE_VMA_SELECT_COMPOUND: the core
 * then splits the folio with split_folio(), which splits every mapping of
 * it.  A fault is different, see vramsim_migrate_to_ram().
 */

/*
 * Device destination for src entry @i: one order-9 folio for a COMPOUND entry
 * (a THP or a PMD hole), else order-0 folios.  When no 2 MiB block is left,
 * a PMD hole takes 512 order-0 folios; a THP takes nothing and sets *@again
 * if 2 MiB are free in smaller blocks (the THP then moves page by page in a
 * second walk), else it stays whole in RAM.
 * Returns the number of entries consumed, 0 if the VRAM is full or *@again.
 */
static unsigned long vramsim_alloc_dst(struct vramsim_vram *vram,
				       struct migrate_vma *args, u64 ticket,
				       unsigned long i, int *err, bool *again)
{
	unsigned long src = args->src[i];
	unsigned long write = src & MIGRATE_PFN_WRITE;
	struct page *spage = migrate_pfn_to_page(src);
	unsigned long nr = 1, j;
	struct folio *folio;

	if (src & MIGRATE_PFN_COMPOUND) {
		nr = min_t(unsigned long, HPAGE_PMD_NR, args->npages - i);
		folio = vramsim_vram_alloc_folio_for(vram, HPAGE_PMD_ORDER, ticket);
		if (!IS_ERR(folio)) {
			*err = vramsim_copy_to_vram(vram, &folio->page, spage, nr);
			args->dst[i] = migrate_pfn(folio_pfn(folio)) | write |
				       MIGRATE_PFN_COMPOUND;
			return nr;
		}
		if (PTR_ERR(folio) != -ENOSPC) {
			*err = PTR_ERR(folio);
			return 0;
		}
		if (spage) {
			/*
			 * Splitting a THP for less than all of it is a loss.
			 * A hint only: another user may take the space before
			 * the second walk, which then moves part of the THP.
			 */
			*again = vramsim_vram_free_bytes(vram) >= HPAGE_PMD_SIZE;
			return 0;
		}
	}

	for (j = 0; j < nr; j++) {
		int ret;

		folio = vramsim_vram_alloc_folio_for(vram, 0, ticket);
		if (IS_ERR(folio)) {
			/* A PMD hole is filled whole or not at all. */
			vramsim_put_dst(&args->dst[i], j);
			if (PTR_ERR(folio) != -ENOSPC)
				*err = PTR_ERR(folio);
			return 0;
		}
		args->dst[i + j] = migrate_pfn(folio_pfn(folio)) | write;
		/*
		 * Stop at the first page whose contents could not be copied:
		 * it must not move, and neither may the rest of the THP.
		 */
		ret = vramsim_copy_to_vram(vram, &folio->page,
					   spage ? spage + j : NULL, 1);
		if (ret) {
			vramsim_put_dst(&args->dst[i], j + 1);
			*err = ret;
			return 0;
		}
	}
	return nr;
}

/* Bytes that migrate_vma_pages() or migrate_device_pages() did move. */
static u64 vramsim_moved_bytes(const unsigned long *src,
			       const unsigned long *dst, unsigned long npages)
{
	u64 bytes = 0;
	unsigned long i;

	for (i = 0; i < npages; i++) {
		if (!(src[i] & MIGRATE_PFN_MIGRATE) || !dst[i])
			continue;
		if ((src[i] & MIGRATE_PFN_COMPOUND) &&
		    (dst[i] & MIGRATE_PFN_COMPOUND))
			bytes += HPAGE_PMD_SIZE;
		else
			bytes += PAGE_SIZE;
	}
	return bytes;
}

/*
 * Collect the window for migration with @flags.  Returns 0 with the
 * destinations cleared, 1 if there is nothing to migrate, or -errno.
 */
static int vramsim_window_collect(struct vramsim_vram *vram,
				  struct migrate_vma *args, unsigned long flags)
{
	int err;

	args->pgmap_owner = vram;
	args->flags = flags;
	err = migrate_vma_setup(args);
	if (err)
		return err;
	if (!args->cpages)
		return 1;
	memset(args->dst, 0, args->npages * sizeof(*args->dst));
	return 0;
}

/* Move what has a destination, count it, restore the rest. */
static void vramsim_window_finish(struct migrate_vma *args, u64 *moved)
{
	migrate_vma_pages(args);
	if (moved)
		*moved += vramsim_moved_bytes(args->src, args->dst,
					      args->npages);
	migrate_vma_finalize(args);
}

/*
 * Did the walk leave out part of the window?  The walk writes 0 for a
 * page it does not collect (one in device memory of another owner, or
 * one it could not lock), and for the 511 entries after a COMPOUND one.
 */
static bool vramsim_window_missed(const struct migrate_vma *args)
{
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		if (!args->src[i])
			return true;
		if (args->src[i] & MIGRATE_PFN_COMPOUND)
			i += HPAGE_PMD_NR - 1;
	}
	return false;
}

/*
 * Move what the window holds in system memory (@from == NULL) or in the
 * VRAM @from, a peer's, into @vram.  Sets *@missed if the last walk left
 * out entries another VRAM may hold.
 */
static int vramsim_window_in(struct vramsim_vram *vram,
			     struct vramsim_vram *from,
			     struct migrate_vma *args, u64 ticket, u64 *moved,
			     bool *full, bool *missed)
{
	bool compound = vramsim_thp_allowed(args->vma, args->start);
	unsigned long select = from ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE :
				      MIGRATE_VMA_SELECT_SYSTEM;
	bool again;
	int err;

	for (;;) {
		unsigned long i = 0, n;

		err = vramsim_window_collect(from ?: vram, args, select |
					     (compound ? MIGRATE_VMA_SELECT_COMPOUND : 0));
		if (err < 0)
			return err;
		/* Not collected: a device page, or one locked at the time. */
		*missed = vramsim_window_missed(args);
		if (err)
			return 0;

		again = false;
		while (i < args->npages && !err) {
			if (!(args->src[i] & MIGRATE_PFN_MIGRATE)) {
				i++;
				continue;
			}
			n = vramsim_alloc_dst(vram, args, ticket, i, &err, &again);
			if (!n) {
				*full = !err && !again;
				break;
			}
			i += n;
		}
		if (err)
			vramsim_put_dst(args->dst, args->npages);

		vramsim_window_finish(args, moved);
		/* No 2 MiB block for a THP: walk again, page by page. */
		if (err || !again || !compound)
			return err;
		compound = false;
	}
}

/*
 * Move the window into @vram: what is in system memory, then what is in
 * another vramsim device's VRAM, directly from there.  A peer is looked
 * for only where the walk of system memory left entries out, so a single
 * device, or a range all in RAM, costs one walk as before.
 */
static int vramsim_window_to_device(struct vramsim_vram *vram,
				    struct migrate_vma *args, u64 ticket,
				    u64 *moved, bool *full)
{
	struct vramsim_peers *peers = vram->peers;
	bool missed;
	unsigned int i;
	int err, idx;

	err = vramsim_window_in(vram, NULL, args, ticket, moved, full, &missed);
	if (err || *full || !peers)
		return err;

	/* A peer found here is not freed before the unlock. */
	idx = srcu_read_lock(peers->srcu);
	for (i = 0; i < VRAMSIM_MAX_DEVICES && missed; i++) {
		struct vramsim_vram *peer = srcu_dereference(peers->vram[i],
							     peers->srcu);

		if (!peer || peer == vram)
			continue;
		err = vramsim_window_in(vram, peer, args, ticket, moved, full,
					&missed);
		if (err || *full)
			break;
	}
	srcu_read_unlock(peers->srcu, idx);
	return err;
}

/*
 * System destination for device entry @i, with the contents copied in.
 * COMPOUND entries get a 2 MiB folio where the VMA allows a THP and one is
 * available; else, in a fault, 512 pages, and in an ioctl nothing: *@again
 * asks for a second walk without COMPOUND.
 */
static int vramsim_alloc_ram(struct vramsim_vram *vram,
			     struct migrate_vma *args, unsigned long i,
			     unsigned long *consumed, bool *again)
{
	unsigned long src = args->src[i];
	struct page *spage = migrate_pfn_to_page(src);
	unsigned long addr = args->start + i * PAGE_SIZE;
	unsigned long nr = 1, j;
	struct folio *folio;

	*consumed = 1;
	if (src & MIGRATE_PFN_COMPOUND) {
		nr = min_t(unsigned long, folio_nr_pages(page_folio(spage)),
			   args->npages - i);
		folio = NULL;
		if (nr == HPAGE_PMD_NR && vramsim_thp_allowed(args->vma, addr))
			folio = vma_alloc_folio(vramsim_thp_gfp(args->vma),
						HPAGE_PMD_ORDER, args->vma,
						addr);
		if (folio) {
			folio_lock(folio);
			vramsim_copy_from_vram(vram, &folio->page, spage, nr);
			args->dst[i] = migrate_pfn(folio_pfn(folio)) |
				       MIGRATE_PFN_COMPOUND;
			*consumed = nr;
			return 0;
		}
		if (!args->fault_page) {
			*consumed = nr;
			*again = true;
			return 0;
		}
	}

	for (j = 0; j < nr; j++) {
		folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE, 0, args->vma,
					addr + j * PAGE_SIZE);
		if (!folio)
			return -ENOMEM;
		folio_lock(folio);
		vramsim_copy_from_vram(vram, &folio->page, spage + j, 1);
		args->dst[i + j] = migrate_pfn(folio_pfn(folio));
	}
	*consumed = nr;
	return 0;
}

/*
 * Bring back what the window holds in this VRAM.  An ioctl asks for 2 MiB
 * folios where the VMA allows a THP, and walks a second time without them
 * for a THP that cannot come back whole; a PMD fault always asks (without
 * COMPOUND, the walk's split_folio() would fail on the fault's reference
 * and nothing would move).
 */
static int vramsim_window_to_ram(struct vramsim_vram *vram,
				 struct migrate_vma *args, u64 *moved)
{
	unsigned long select = 0;
	bool again;
	int err;

	if (args->fault_page ||
	    vramsim_thp_allowed(args->vma, ALIGN_DOWN(args->start, HPAGE_PMD_SIZE)))
		select = MIGRATE_VMA_SELECT_COMPOUND;

	for (;;) {
		unsigned long i = 0, n;

		err = vramsim_window_collect(vram, args,
					     MIGRATE_VMA_SELECT_DEVICE_PRIVATE | select);
		if (err)
			return err < 0 ? err : 0;

		again = false;
		while (i < args->npages) {
			/*
			 * The walk collects holes as "migrate" with no page,
			 * whatever the select flags: an unpopulated range, or
			 * a device PMD zapped (MADV_DONTNEED, munmap) after
			 * the fault dropped the page-table lock.  There is
			 * nothing to bring back: leave them unpopulated.
			 */
			if (!(args->src[i] & MIGRATE_PFN_MIGRATE) ||
			    !migrate_pfn_to_page(args->src[i])) {
				i++;
				continue;
			}
			err = vramsim_alloc_ram(vram, args, i, &n, &again);
			if (err) {
				vramsim_put_dst(args->dst, args->npages);
				break;
			}
			i += n;
		}

		vramsim_window_finish(args, moved);
		if (err || !again || !select)
			return err;
		select = 0;
	}
}

/**
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
 * its order, 2 MiB ones whole: a device THP exists only where its VMA
 * allowed a THP when it was migrated in, and 7.3 can move it no other
 * way (migrate_device_pages() will not split a folio without a VMA, and
 * split_folio() is not exported to modules).  A folio that is locked or
 * has references beyond its mappings is not collected; one for which no
 * RAM can be had stays.  Either stays in VRAM, contents untouched.
 *
 * Only for pfns of blocks in use (see vramsim_evict.c): the walk trusts
 * page_folio() of every pfn.
 *
 * Context: process context, may sleep.
 * Return: bytes moved.
 */
u64 vramsim_migrate_pfns_to_ram(struct vramsim_vram *vram, unsigned long pfn,
				unsigned long npages, bool may_fail,
				unsigned long *moved_map)
{
	gfp_t gfp0 = GFP_HIGHUSER_MOVABLE |
		     (may_fail ? __GFP_NORETRY | __GFP_NOWARN : 0);
	/* Teardown compacts and retries for its 2 MiB, but never OOM-kills. */
	gfp_t gfp9 = GFP_TRANSHUGE | __GFP_NOWARN |
		     (may_fail ? 0 : __GFP_RETRY_MAYFAIL);
	struct vramsim_window *w;
	unsigned long i, nr;
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
 * Walk [start, start + len) in PMD-aligned windows.  The whole range must be
 * mapped by anonymous VMAs.  Called with the mmap lock held for read.
 */
static int vramsim_walk(struct vramsim_vram *vram, struct mm_struct *mm,
			unsigned long start, unsigned long len, u64 *moved,
			bool to_device)
{
	unsigned long end = start + len, addr = start;
	u64 ticket = to_device ? vramsim_vram_ticket(vram) : 0;
	struct vramsim_window *w;
	bool full = false;
	int err = 0;

	mmap_assert_locked(mm);

	w = vramsim_window_get(vram);
	if (!w)
		return -ENOMEM;

	while (addr < end && !full) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct migrate_vma args = {
			.src = w->src,
			.dst = w->dst,
		};

		/*
		 * A range may be terabytes of holes: let a killed task go,
		 * and a removal of the device, which waits for this ioctl
		 * (drm_dev_unplug()), proceed.
		 */
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (READ_ONCE(vram->dying)) {
			err = -ENODEV;
			break;
		}
		if (!vma) {
			err = -EFAULT;
			break;
		}
		if (!vma_is_anonymous(vma)) {
			err = -EINVAL;
			break;
		}
		args.vma = vma;
		args.start = addr;
		args.end = min3(end, vma->vm_end, ALIGN(addr + 1, HPAGE_PMD_SIZE));

		if (to_device)
			err = vramsim_window_to_device(vram, &args, ticket, moved, &full);
		else
			err = vramsim_window_to_ram(vram, &args, moved);
		if (err)
			break;
		addr = args.end;
		cond_resched();
	}

	vramsim_window_put(vram, w);
	if (!err && full && !*moved)
		err = -ENOSPC;
	return err;
}

/**
 * vramsim_migrate_range() - move user memory into VRAM or out of it
 * @vram: the VRAM
 * @mm: address space of the range
 * @start: page-aligned start of the range
 * @len: page-aligned length, not 0
 * @to_device: into VRAM if true, back to system memory if false
 * @moved: out: bytes moved by this call
 *
 * Into VRAM, moves what fits; pages already in device memory, and what does
 * not fit, stay where they are.  Data are copied, so the range reads the
 * same either way.
 *
 * Return: 0 (check @moved), -EFAULT if part of the range is not mapped,
 * -EINVAL if it is not anonymous memory, -ENOSPC if the VRAM was full and
 * nothing moved, -ENOMEM.
 */
int vramsim_migrate_range(struct vramsim_vram *vram, struct mm_struct *mm,
			  unsigned long start, unsigned long len, bool to_device,
			  u64 *moved)
{
	int err;

	*moved = 0;
	mmap_read_lock(mm);
	err = vramsim_walk(vram, mm, start, len, moved, to_device);
	mmap_read_unlock(mm);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_migrate_range);

/**
 * vramsim_migrate_to_ram() - &dev_pagemap_ops.migrate_to_ram
 * @vmf: the CPU fault on a device-private entry
 *
 * A PMD-mapped device folio comes back as a 2 MiB folio where the VMA
 * allows a THP and one can be had, else as 512 pages; a PTE-mapped one, or
 * a piece of a split one, as a page.  If the entry is gone by the time the
 * walk gets there (the core dropped the page-table lock before calling
 * here), nothing moves and the fault is retried.
 *
 * Without a THP, the 512 pages do not move on Linux 7.3 (unlike an ioctl's,
 * see vramsim_alloc_dst()): the core's split of the unmapped folio fails on
 * the reference the fault holds, after it split this VMA's PMD into PTEs.
 * The folio goes back, PTE-mapped, and the retried fault brings back a page
 * at a time, splitting the folio with split_folio(), every mapping of it
 * (a fork's child's too).  The 2 MiB copy is wasted; test_hmm does the same.
 *
 * Context: page fault, may sleep; the core holds a reference on vmf->page.
 * Return: 0, VM_FAULT_OOM or VM_FAULT_SIGBUS.
 */
vm_fault_t vramsim_migrate_to_ram(struct vm_fault *vmf)
{
	struct folio *folio = page_folio(vmf->page);
	struct vramsim_vram *vram = vramsim_folio_vram(folio);
	unsigned int order = vmf->pte ? 0 : folio_order(folio);
	struct vramsim_window *w = NULL;
	unsigned long src, dst;
	vm_fault_t ret = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = ALIGN_DOWN(vmf->address, PAGE_SIZE << order),
		.src = &src,
		.dst = &dst,
		.fault_page = vmf->page,
	};

	args.end = args.start + (PAGE_SIZE << order);

	/* A PTE fault needs one entry, a PMD fault a window. */
	if (order) {
		w = vramsim_window_get(vram);
		if (!w)
			return VM_FAULT_OOM;
		args.src = w->src;
		args.dst = w->dst;
	}

	switch (vramsim_window_to_ram(vram, &args, NULL)) {
	case 0:
		break;
	case -ENOMEM:
		ret = VM_FAULT_OOM;
		break;
	default:
		ret = VM_FAULT_SIGBUS;
		break;
	}
	if (w)
		vramsim_window_put(vram, w);
	return ret;
}
