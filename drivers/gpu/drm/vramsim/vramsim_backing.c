// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: the contents of the simulated VRAM, and the migration windows.
 *
 * The contents of a device page live in a system page of the backing store,
 * indexed by the page's offset in the VRAM; "device copies" are memcpys
 * between that page and the system page being migrated, or the backing
 * page of another VRAM.  A block's backing pages are freed when the block
 * goes back to the buddy, through the release hook of the VRAM
 * (&struct vramsim_vram_ops), since the VRAM layer below calls nothing of
 * this one.
 *
 * The layers above, eviction and migration, move device memory with these
 * copies, in migration windows of up to a PMD's pages.
 */

#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "vramsim_backing.h"
#include "vramsim_vram.h"

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
 * &vramsim_vram_ops.release: called when a block goes back to the buddy.
 * No device folio covers the range any more, so nothing can read these
 * pages.
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
 * vramsim_backing_init() - set up the backing store and migration windows
 * @vram: the VRAM being created, before vramsim_vram_init()
 *
 * Return: 0 or -ENOMEM.
 */
int vramsim_backing_init(struct vramsim_vram *vram)
{
	xa_init_flags(&vram->backing, XA_FLAGS_ACCOUNT);
	vram->windows = kvmalloc_array(VRAMSIM_NR_WINDOWS,
				       sizeof(struct vramsim_window), GFP_KERNEL);
	return vram->windows ? 0 : -ENOMEM;
}

/**
 * vramsim_backing_fini() - free the backing store and migration windows
 * @vram: the VRAM, with every block back in the buddy and no migration
 *	running (after vramsim_vram_fini())
 */
void vramsim_backing_fini(struct vramsim_vram *vram)
{
	struct page *page;
	unsigned long idx;

	/* Blocks free their backing when returned: this should be empty. */
	xa_for_each(&vram->backing, idx, page)
		__free_page(page);
	xa_destroy(&vram->backing);
	kvfree(vram->windows);
	vram->windows = NULL;
}

/**
 * vramsim_window_get() - a migration window
 * @vram: the VRAM
 *
 * One of the VRAM's windows if one is free (bit-locked, no lock), else one
 * from kmalloc.
 *
 * Context: process context.
 * Return: the window, or NULL.
 */
struct vramsim_window *vramsim_window_get(struct vramsim_vram *vram)
{
	unsigned int i;

	for (i = 0; i < VRAMSIM_NR_WINDOWS; i++)
		if (!test_and_set_bit_lock(i, &vram->windows_busy))
			return &vram->windows[i];
	return kmalloc_obj(struct vramsim_window);
}

/**
 * vramsim_window_put() - give back a migration window
 * @vram: the VRAM it came from
 * @w: the window, from vramsim_window_get()
 */
void vramsim_window_put(struct vramsim_vram *vram, struct vramsim_window *w)
{
	if (w >= vram->windows && w < vram->windows + VRAMSIM_NR_WINDOWS)
		clear_bit_unlock(w - vram->windows, &vram->windows_busy);
	else
		kfree(w);
}

static unsigned long vramsim_pgoff(struct vramsim_vram *vram,
				   struct page *dpage)
{
	return page_to_pfn(dpage) - vram->base_pfn;
}

/**
 * vramsim_copy_to_vram() - the device copy into VRAM
 * @vram: the VRAM of @dpage
 * @dpage: the first device page to write
 * @spage: the first system page to read, or the first device page of
 *	another VRAM (a migration from a peer device: its backing pages are
 *	copied, nothing goes through the source's RAM pages), or NULL for
 *	zeroes
 * @nr: number of pages
 *
 * A peer's pages are collected by the migration, so locked and referenced:
 * its VRAM cannot be torn down under the copy.
 *
 * Context: process context; allocates backing pages.
 * Return: 0, -ENOMEM if a backing page cannot be had (the pages before it
 * are written), -EINVAL if @spage is a device page not vramsim's.
 */
int vramsim_copy_to_vram(struct vramsim_vram *vram, struct page *dpage,
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

/**
 * vramsim_copy_from_vram() - the device copy out of VRAM
 * @vram: the VRAM of @spage
 * @dpage: the first system page to write
 * @spage: the first device page to read
 * @nr: number of pages
 *
 * Context: any; does not sleep.
 */
void vramsim_copy_from_vram(struct vramsim_vram *vram, struct page *dpage,
			    struct page *spage, unsigned long nr)
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

/**
 * vramsim_backing_read() - a device access reading a device page
 * @vram: the VRAM
 * @pfn: the device page, in @vram (vramsim_vram_has_pfn())
 * @dst: a page-sized kernel buffer
 *
 * The contents live in the page's backing page: a device-private page has
 * no kernel mapping of its own.
 *
 * Context: any; does not sleep.  The caller keeps the page in use (a
 * mirror entry, which an unmap invalidates before the page can be freed).
 */
void vramsim_backing_read(struct vramsim_vram *vram, unsigned long pfn,
			  void *dst)
{
	struct page *b = xa_load(&vram->backing, pfn - vram->base_pfn);

	/* Every device page in use was written when it was migrated in. */
	if (b)
		memcpy_from_page(dst, b, 0, PAGE_SIZE);
	else
		memset(dst, 0, PAGE_SIZE);
}

/**
 * vramsim_backing_write() - a device access writing a device page
 * @vram: the VRAM
 * @pfn: the device page, in @vram
 * @src: a page-sized kernel buffer
 *
 * Context: as vramsim_backing_read().
 * Return: 0, or -EIO if the page has no backing page (a bug: every device
 * page in use got one when its contents were migrated in).
 */
int vramsim_backing_write(struct vramsim_vram *vram, unsigned long pfn,
			  const void *src)
{
	struct page *b = xa_load(&vram->backing, pfn - vram->base_pfn);

	if (WARN_ON_ONCE(!b))
		return -EIO;
	memcpy_to_page(b, 0, src, PAGE_SIZE);
	return 0;
}

/**
 * vramsim_moved_bytes() - what a migration of a window moved
 * @src: the window's sources, after migrate_vma_pages() or
 *	migrate_device_pages()
 * @dst: its destinations
 * @npages: entries
 *
 * Return: bytes that did move.
 */
u64 vramsim_moved_bytes(const unsigned long *src, const unsigned long *dst,
			unsigned long npages)
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

/**
 * vramsim_put_dst() - give back destination folios a window will not use
 * @dst: the window's destinations (device or RAM folios, locked, with a
 *	reference, as the allocation handed them out)
 * @n: entries
 *
 * Unlocks and puts every folio in @dst[0..@n) and clears the entries.
 */
void vramsim_put_dst(unsigned long *dst, unsigned long n)
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
