// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: migrating anonymous memory to simulated VRAM and back.
 *
 * Ranges are walked in windows of at most PMD size, aligned to PMD
 * boundaries, so that a THP or a PMD-sized hole can become one order-9
 * device folio and back.  The contents move with the device copies of
 * vramsim_backing.c; device folios come from vramsim_evict_alloc_folio(),
 * which evicts older device memory when the VRAM is full.
 *
 * This layer also puts the VRAM together for a device
 * (vramsim_dmem_init()): the VRAM layer's page map with this layer's
 * ->migrate_to_ram, the backing store, and at teardown the eviction of
 * whatever is still in VRAM.
 */

#include <linux/device.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>

#include <kunit/visibility.h>

#include "vramsim_backing.h"
#include "vramsim_evict.h"
#include "vramsim_migrate.h"
#include "vramsim_vram.h"

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

/*
 * May a migration with @opts ask for 2 MiB folios in [haddr, haddr + 2 MiB)
 * of @vma?  The render node's rule above, or, for a caller that follows
 * test_hmm (&vramsim_migrate_opts.thp), wherever THP is not disabled.
 */
static bool vramsim_thp_wanted(const struct vramsim_migrate_opts *opts,
			       struct vm_area_struct *vma, unsigned long haddr)
{
	if (opts && opts->thp)
		return thp_vma_suitable_order(vma, haddr, HPAGE_PMD_ORDER) &&
		       !vma_thp_disabled(vma, vma->vm_flags, false);
	return vramsim_thp_allowed(vma, haddr);
}

/* Does @opts ask the next allocation to fail?  Consumes the request. */
static bool vramsim_fail_alloc(const struct vramsim_migrate_opts *opts)
{
	return opts && opts->fail_alloc &&
	       test_and_clear_bit(0, opts->fail_alloc);
}

/* The GFP mask of a RAM THP: vma_thp_gfp_mask() under the default defrag. */
static gfp_t vramsim_thp_gfp(struct vm_area_struct *vma)
{
	gfp_t gfp = vma->vm_flags & VM_HUGEPAGE ? GFP_TRANSHUGE :
						  GFP_TRANSHUGE_LIGHT;

	return gfp | __GFP_NOWARN;
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
				       const struct vramsim_migrate_opts *opts,
				       struct migrate_vma *args, u64 ticket,
				       unsigned long i, int *err, bool *again)
{
	unsigned long src = args->src[i];
	unsigned long write = src & MIGRATE_PFN_WRITE;
	struct page *spage = migrate_pfn_to_page(src);
	unsigned long nr = 1, j;
	struct folio *folio;

	if (src & MIGRATE_PFN_COMPOUND) {
		bool injected = vramsim_fail_alloc(opts);

		nr = min_t(unsigned long, HPAGE_PMD_NR, args->npages - i);
		if (injected)
			folio = ERR_PTR(-ENOSPC);
		else
			folio = vramsim_evict_alloc_folio(vram, HPAGE_PMD_ORDER,
							  ticket);
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
			*again = injected ||
				 vramsim_vram_free_bytes(vram) >= HPAGE_PMD_SIZE;
			return 0;
		}
	}

	for (j = 0; j < nr; j++) {
		int ret;

		if (vramsim_fail_alloc(opts))
			folio = ERR_PTR(-ENOSPC);
		else
			folio = vramsim_evict_alloc_folio(vram, 0, ticket);
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
			     const struct vramsim_migrate_opts *opts,
			     struct migrate_vma *args, u64 ticket, u64 *moved,
			     bool *full, bool *missed)
{
	bool compound = vramsim_thp_wanted(opts, args->vma, args->start);
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
			n = vramsim_alloc_dst(vram, opts, args, ticket, i, &err,
					      &again);
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
				    const struct vramsim_migrate_opts *opts,
				    struct migrate_vma *args, u64 ticket,
				    u64 *moved, bool *full)
{
	struct vramsim_peers *peers = vram->peers;
	bool missed;
	unsigned int i;
	int err, idx;

	err = vramsim_window_in(vram, NULL, opts, args, ticket, moved, full,
				&missed);
	if (err || *full || !peers || (opts && opts->no_peers))
		return err;

	/* A peer found here is not freed before the unlock. */
	idx = srcu_read_lock(peers->srcu);
	for (i = 0; i < VRAMSIM_MAX_DEVICES && missed; i++) {
		struct vramsim_vram *peer = srcu_dereference(peers->vram[i],
							     peers->srcu);

		if (!peer || peer == vram)
			continue;
		err = vramsim_window_in(vram, peer, opts, args, ticket, moved,
					full, &missed);
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
			     const struct vramsim_migrate_opts *opts,
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
		if (nr == HPAGE_PMD_NR &&
		    vramsim_thp_wanted(opts, args->vma, addr) &&
		    !vramsim_fail_alloc(opts))
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
		if (vramsim_fail_alloc(opts))
			return -ENOMEM;
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
				 const struct vramsim_migrate_opts *opts,
				 struct migrate_vma *args, u64 *moved)
{
	unsigned long select = 0;
	bool again;
	int err;

	if (args->fault_page ||
	    vramsim_thp_wanted(opts, args->vma,
			       ALIGN_DOWN(args->start, HPAGE_PMD_SIZE)))
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
			err = vramsim_alloc_ram(vram, opts, args, i, &n, &again);
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

/*
 * Walk [start, start + len) in PMD-aligned windows.  The whole range must be
 * mapped by anonymous VMAs, or with &vramsim_migrate_opts.any_vma by
 * readable ones.  Called with the mmap lock held for read.
 */
static int vramsim_walk(struct vramsim_vram *vram,
			const struct vramsim_migrate_opts *opts,
			struct mm_struct *mm, unsigned long start,
			unsigned long len, u64 *moved, bool to_device)
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
		if (opts && opts->any_vma) {
			if (!vma || !(vma->vm_flags & VM_READ)) {
				err = -EINVAL;
				break;
			}
		} else if (!vma) {
			err = -EFAULT;
			break;
		} else if (!vma_is_anonymous(vma)) {
			err = -EINVAL;
			break;
		}
		args.vma = vma;
		args.start = addr;
		args.end = min3(end, vma->vm_end, ALIGN(addr + 1, HPAGE_PMD_SIZE));

		if (to_device)
			err = vramsim_window_to_device(vram, opts, &args, ticket,
						       moved, &full);
		else
			err = vramsim_window_to_ram(vram, opts, &args, moved);
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
	err = vramsim_walk(vram, NULL, mm, start, len, moved, to_device);
	mmap_read_unlock(mm);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_migrate_range);

/**
 * vramsim_migrate_range_opts() - vramsim_migrate_range() with other rules
 * @vram: the VRAM
 * @opts: how the migration differs from the render node's
 * @mm: address space of the range, with a user reference (mmget())
 * @start: page-aligned start of the range
 * @len: page-aligned length, not 0
 * @to_device: into VRAM if true, back to system memory if false
 * @moved: out: bytes moved by this call
 *
 * Return: as vramsim_migrate_range(), but with @opts->any_vma -EINVAL for a
 * hole or an unreadable VMA (and no -EFAULT).
 */
int vramsim_migrate_range_opts(struct vramsim_vram *vram,
			       const struct vramsim_migrate_opts *opts,
			       struct mm_struct *mm, unsigned long start,
			       unsigned long len, bool to_device, u64 *moved)
{
	int err;

	*moved = 0;
	mmap_read_lock(mm);
	err = vramsim_walk(vram, opts, mm, start, len, moved, to_device);
	mmap_read_unlock(mm);
	return err;
}

/*
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
static vm_fault_t vramsim_migrate_to_ram(struct vm_fault *vmf)
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

	switch (vramsim_window_to_ram(vram, NULL, &args, NULL)) {
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

/*
 * A vramsim page map: the VRAM layer's free and split, this layer's CPU
 * fault.  Assembled here, where ->migrate_to_ram is, since the VRAM layer
 * calls nothing above it.
 */
static const struct dev_pagemap_ops vramsim_pagemap_ops = {
	.folio_free = vramsim_folio_free,
	.folio_split = vramsim_folio_split,
	.migrate_to_ram = vramsim_migrate_to_ram,
};

static const struct vramsim_vram_ops vramsim_dmem_ops = {
	.pagemap = &vramsim_pagemap_ops,
	.release = vramsim_backing_free,
};

/**
 * vramsim_dmem_init() - create simulated VRAM that memory migrates to
 * @vram: zeroed structure to initialise
 * @dev: device the memory belongs to
 * @size: bytes of VRAM: a multiple of 2 MiB, %VRAMSIM_MIN_SIZE to
 *	%VRAMSIM_MAX_SIZE
 * @prepare: free-time policy
 *
 * The backing store and migration windows (vramsim_backing_init()), then
 * the VRAM itself (vramsim_vram_init(): address range, page map with
 * vramsim's pagemap ops, buddy allocator), so that the backing store is
 * there for as long as a block can be returned.
 *
 * Return: 0 or a negative errno; nothing is left behind on failure.
 */
int vramsim_dmem_init(struct vramsim_vram *vram, struct device *dev, u64 size,
		      enum vramsim_prepare prepare)
{
	int err;

	err = vramsim_backing_init(vram);
	if (!err)
		err = vramsim_vram_init(vram, dev, size, prepare,
					&vramsim_dmem_ops);
	if (err)
		vramsim_backing_fini(vram);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_dmem_init);

/**
 * vramsim_dmem_fini() - tear down simulated VRAM
 * @vram: the VRAM
 *
 * Evicts every device page still in use to RAM (the processes that map
 * them keep their data; vramsim_evict_empty() with no patience: however
 * long it takes), then tears down the VRAM (vramsim_vram_fini(): waits for
 * the last ->folio_free, returns every block, releases the page map and
 * the address range), then frees the backing store and windows.
 *
 * Context: process context, may sleep.
 */
void vramsim_dmem_fini(struct vramsim_vram *vram)
{
	/* No allocation now: move what is left to RAM, however long it takes. */
	vramsim_evict_empty(vram, 0);
	vramsim_vram_fini(vram);
	vramsim_backing_fini(vram);
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_dmem_fini);

static void vramsim_dmem_release(void *vram)
{
	vramsim_dmem_fini(vram);
}

/**
 * devm_vramsim_dmem_init() - vramsim_dmem_init(), undone when @dev goes
 * @dev: device the memory belongs to
 * @vram: zeroed structure to initialise
 * @size: bytes of VRAM
 * @prepare: free-time policy
 *
 * Return: 0 or a negative errno.
 */
int devm_vramsim_dmem_init(struct device *dev, struct vramsim_vram *vram,
			   u64 size, enum vramsim_prepare prepare)
{
	int err;

	err = vramsim_dmem_init(vram, dev, size, prepare);
	if (err)
		return err;
	return devm_add_action_or_reset(dev, vramsim_dmem_release, vram);
}
