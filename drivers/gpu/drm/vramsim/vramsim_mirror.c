// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: a device's page table of a process's memory (the mirror).
 *
 * What a GPU driver does to let its engines access a process's memory
 * (Documentation/mm/hmm.rst): a page table of its own, filled from the
 * CPU's by hmm_range_fault() and emptied by the invalidations of an
 * mmu_interval_notifier.  A device access goes through an entry of that
 * table, under the lock the invalidations take: to a page in this VRAM
 * through its backing store (a device-private page has no kernel mapping),
 * to a system page through a kernel mapping.
 *
 * The rule that keeps the device off freed memory: every invalidation of
 * a page, whatever its event or owner, erases the page's entry before it
 * returns, and the core frees or moves a page only after the invalidation
 * of its last mapping.  No invalidation is filtered, not even those of
 * this device's own migrations: an entry in one file's table must not
 * survive another file's migration of the same page.
 *
 * Entries are filled in windows of one PMD, aligned: the faults of a
 * window (a copy on write that splits a THP, say) invalidate that window,
 * not those already filled.
 */

#include <linux/hmm.h>
#include <linux/highmem.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "vramsim_backing.h"
#include "vramsim_migrate.h"
#include "vramsim_mirror.h"
#include "vramsim_vram.h"

static bool vramsim_mirror_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct vramsim_mirror *m = container_of(mni, struct vramsim_mirror,
						notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	XA_STATE(xas, &m->pt, range->start >> PAGE_SHIFT);
	unsigned int n = 0;
	void *entry;

	/*
	 * The one event not to act on: this mirror's own conversion of a
	 * page to device-exclusive (vramsim_mirror_exclusive() passes the
	 * mirror as the owner), which stores the entry itself and would
	 * otherwise bump the sequence it checks, for ever.  Every other
	 * event, of whatever owner, this VRAM's migrations included, erases.
	 */
	if (range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == m)
		return true;

	if (blockable)
		mutex_lock(&m->lock);
	else if (!mutex_trylock(&m->lock))
		return false;

	mmu_interval_set_seq(mni, cur_seq);
	xas_lock(&xas);
	xas_for_each(&xas, entry, (range->end - 1) >> PAGE_SHIFT) {
		xas_store(&xas, NULL);
		/* An exit's invalidation covers everything: let others run. */
		if (blockable && !(++n % 4096)) {
			xas_pause(&xas);
			xas_unlock(&xas);
			cond_resched();
			xas_lock(&xas);
		}
	}
	xas_unlock(&xas);

	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops vramsim_mirror_ops = {
	.invalidate = vramsim_mirror_invalidate,
};

/**
 * vramsim_mirror_init() - an empty device page table of an address space
 * @m: the mirror
 * @vram: the device's VRAM
 * @mm: the address space
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno (mmu_interval_notifier_insert()).
 */
int vramsim_mirror_init(struct vramsim_mirror *m, struct vramsim_vram *vram,
			struct mm_struct *mm)
{
	m->vram = vram;
	mutex_init(&m->lock);
	/* The page table is the opener's: charged to its memory cgroup. */
	xa_init_flags(&m->pt, XA_FLAGS_ACCOUNT);
	return mmu_interval_notifier_insert(&m->notifier, mm, 0,
					    ULONG_MAX & PAGE_MASK,
					    &vramsim_mirror_ops);
}

/**
 * vramsim_mirror_fini() - remove a mirror from its address space
 * @m: the mirror, from a successful vramsim_mirror_init()
 *
 * Waits for invalidations in progress; afterwards none can come.
 */
void vramsim_mirror_fini(struct vramsim_mirror *m)
{
	mmu_interval_notifier_remove(&m->notifier);
	xa_destroy(&m->pt);
	mutex_destroy(&m->lock);
}

/*
 * A pfn array of one window and a user reference on the address space, for
 * a walk of it; -ENOMEM, or @gone if the address space is gone.
 */
static unsigned long *vramsim_mirror_begin(struct vramsim_mirror *m, int gone,
					   int *err)
{
	unsigned long *pfns;

	pfns = kmalloc_array(VRAMSIM_MIRROR_WINDOW, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		*err = -ENOMEM;
		return NULL;
	}
	if (!mmget_not_zero(m->notifier.mm)) {
		kfree(pfns);
		*err = gone;
		return NULL;
	}
	return pfns;
}

static void vramsim_mirror_end(struct vramsim_mirror *m, unsigned long *pfns)
{
	mmput(m->notifier.mm);
	kfree(pfns);
}

/*
 * Read the CPU's page table for [start, end), inside one PMD, into @pfns
 * with hmm_range_fault(): faulting what @req asks for, or nothing (0).
 * This VRAM's pages are reported, not faulted, unless a write needs one
 * that is not writable (a copy on write after fork): then they come to RAM
 * like any other device page.  With @store, the entries are stored, and
 * what is not there is erased.
 */
static int vramsim_mirror_fill(struct vramsim_mirror *m, unsigned long start,
			       unsigned long end, unsigned long req,
			       bool unlocked, bool store, unsigned long *pfns)
{
	unsigned long patience = msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	unsigned long timeout = jiffies + patience;
	struct mm_struct *mm = m->notifier.mm;
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = req,
		.dev_private_owner = m->vram,
	};
	unsigned long i, n = (end - start) >> PAGE_SHIFT;
	int ret = 0;

	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		/*
		 * A removal waits for the command (drm_dev_enter()): a walk of
		 * millions of windows (SNAPSHOT, MIGRATE_TO_DEV's mapping) stops
		 * at the next one.
		 */
		if (READ_ONCE(m->vram->dying))
			return -ENODEV;
		if (time_after(jiffies, timeout))
			return -EBUSY;
		if (unlocked) {
			ret = hmm_range_fault_unlocked_timeout(&range, patience);
		} else {
			range.notifier_seq = mmu_interval_read_begin(&m->notifier);
			mmap_read_lock(mm);
			ret = hmm_range_fault(&range);
			mmap_read_unlock(mm);
			if (ret == -EBUSY)
				continue;
		}
		if (ret)
			return ret;

		if ((req & HMM_PFN_REQ_WRITE) && range.dev_private_owner) {
			for (i = 0; i < n; i++)
				if (!(pfns[i] & HMM_PFN_WRITE))
					break;
			if (i < n) {
				/* Fault our read-only pages home. */
				range.dev_private_owner = NULL;
				continue;
			}
		}

		mutex_lock(&m->lock);
		if (!mmu_interval_read_retry(&m->notifier, range.notifier_seq))
			break;
		mutex_unlock(&m->lock);
	}

	for (i = 0; store && i < n; i++) {
		unsigned long index = (start >> PAGE_SHIFT) + i;
		unsigned long pfn = vramsim_hmm_pfn(pfns[i]);
		unsigned long val;
		void *old;

		if (!(pfns[i] & HMM_PFN_VALID) || (pfns[i] & HMM_PFN_ERROR)) {
			xa_erase(&m->pt, index);
			continue;
		}
		/*
		 * Only system memory and this VRAM are device-accessible:
		 * not another driver's device memory (fsdax, devdax, P2PDMA,
		 * coherent), which a device access must not map.  A faulting
		 * pass that meets it fails; a pass that only looks does not
		 * map it.
		 */
		if (!vramsim_vram_has_pfn(m->vram, pfn) &&
		    is_zone_device_page(pfn_to_page(pfn))) {
			xa_erase(&m->pt, index);
			if (req & HMM_PFN_REQ_FAULT)
				ret = -EFAULT;
			continue;
		}
		val = pfn << VRAMSIM_MIRROR_SHIFT;
		if (pfns[i] & HMM_PFN_WRITE)
			val |= VRAMSIM_MIRROR_WRITE;
		/* An invalidation may come from reclaim: no GFP_KERNEL here. */
		old = xa_store(&m->pt, index, xa_mk_value(val),
			       GFP_NOWAIT | __GFP_NOWARN);
		if (xa_is_err(old)) {
			ret = xa_err(old);
			break;
		}
	}
	mutex_unlock(&m->lock);
	return ret;
}

/* Fault in [start, end) and fill the entries, PMD window by PMD window. */
static int vramsim_mirror_fault(struct vramsim_mirror *m, unsigned long start,
				unsigned long end, bool write, bool unlocked,
				unsigned long *pfns)
{
	unsigned long req = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
	unsigned long addr, next;
	int ret = 0;

	for (addr = start; addr < end && !ret; addr = next) {
		next = vramsim_mirror_window_end(addr, end);
		ret = vramsim_mirror_fill(m, addr, next, req, unlocked, true,
					  pfns);
	}
	return ret;
}

/*
 * One device access of a page through entry @val: to or from @buf.
 * Called with the lock held, which keeps the page where the entry says.
 */
static int vramsim_mirror_page(struct vramsim_mirror *m, unsigned long val,
			       void *buf, bool write)
{
	unsigned long pfn = val >> VRAMSIM_MIRROR_SHIFT;

	lockdep_assert_held(&m->lock);

	if (vramsim_vram_has_pfn(m->vram, pfn)) {
		if (write)
			return vramsim_backing_write(m->vram, pfn, buf);
		vramsim_backing_read(m->vram, pfn, buf);
		return 0;
	}
	if (write) {
		struct page *page = pfn_to_page(pfn);

		memcpy_to_page(page, 0, buf, PAGE_SIZE);
		/*
		 * Written behind the CPU's page table, whose dirty bit does
		 * not see it: a clean page (MADV_FREE, a swap-in) would be
		 * dropped by reclaim with the device's data.  The page is
		 * mapped (the entry is there, under the lock), which keeps
		 * its mapping, so no folio lock is needed.
		 */
		folio_mark_dirty(page_folio(page));
	} else {
		memcpy_from_page(buf, pfn_to_page(pfn), 0, PAGE_SIZE);
	}
	return 0;
}

/*
 * Access pages from *@addr on, up to @end, while their entries allow it.
 * Advances *@addr past the pages accessed.
 */
static int vramsim_mirror_walk_entries(struct vramsim_mirror *m,
				       unsigned long start, unsigned long *addr,
				       unsigned long end, void *buf, bool write)
{
	int ret = 0;

	mutex_lock(&m->lock);
	for (; *addr < end; *addr += PAGE_SIZE) {
		void *entry = xa_load(&m->pt, *addr >> PAGE_SHIFT);
		unsigned long val;

		if (!entry)
			break;
		val = xa_to_value(entry);
		if (write && !(val & VRAMSIM_MIRROR_WRITE))
			break;
		ret = vramsim_mirror_page(m, val, buf + (*addr - start), write);
		if (ret)
			break;
		if (need_resched()) {
			mutex_unlock(&m->lock);
			cond_resched();
			mutex_lock(&m->lock);
		}
	}
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * vramsim_mirror_access() - a device read or write of user memory
 * @m: the mirror
 * @start: page-aligned address in the mirror's address space
 * @npages: pages, not 0
 * @buf: @npages pages: the data read, or to write
 * @write: write @buf to the memory, else read it into @buf
 * @unlocked: fault with hmm_range_fault_unlocked_timeout(), which lets a
 *	fault handler drop the mmap lock (userfaultfd)
 * @faults: out: incremented for every pass of faults the access took
 *
 * Accesses through the entries there are, faults in the rest and goes on.
 *
 * Context: process context, may sleep.
 * Return: 0, -EFAULT (memory not there, or not readable; or the address
 * space is gone), -EPERM (a write to read-only memory), -EINTR, -EBUSY
 * (the range kept changing), -ENOMEM.
 */
int vramsim_mirror_access(struct vramsim_mirror *m, unsigned long start,
			  unsigned long npages, void *buf, bool write,
			  bool unlocked, u64 *faults)
{
	unsigned long end = start + (npages << PAGE_SHIFT), addr = start;
	unsigned long *pfns;
	int ret = 0;

	pfns = vramsim_mirror_begin(m, -EFAULT, &ret);
	if (!pfns)
		return ret;
	for (;;) {
		ret = vramsim_mirror_walk_entries(m, start, &addr, end, buf,
						  write);
		if (ret || addr == end)
			break;
		/*
		 * Entries invalidated as fast as they are filled: a kill or
		 * the device's removal, which waits for this access, ends the
		 * loop in the fill.
		 */
		ret = vramsim_mirror_fault(m, addr, end, write, unlocked, pfns);
		if (ret)
			break;
		(*faults)++;
	}
	vramsim_mirror_end(m, pfns);
	return ret;
}

/**
 * vramsim_mirror_copy() - read user memory through the entries there are
 * @m: the mirror
 * @start: page-aligned address
 * @npages: pages
 * @buf: @npages pages for the data
 *
 * Faults nothing in.
 *
 * Return: 0, or -ENOENT if a page has no entry.
 */
int vramsim_mirror_copy(struct vramsim_mirror *m, unsigned long start,
			unsigned long npages, void *buf)
{
	unsigned long end = start + (npages << PAGE_SHIFT), addr = start;
	int ret;

	ret = vramsim_mirror_walk_entries(m, start, &addr, end, buf, false);
	return ret ?: addr == end ? 0 : -ENOENT;
}

/**
 * vramsim_mirror_map_local() - map what is in this VRAM
 * @m: the mirror
 * @start: page-aligned address
 * @npages: pages
 *
 * Fills the entries of [@start, + @npages pages) from the CPU's page table,
 * faulting nothing in.
 *
 * Context: process context, may sleep.
 * Return: 0 if every page is in this device's VRAM, -ENOENT if one is not,
 * -EINVAL if the address space is gone, -ENODEV if the device is being
 * removed, other errors of hmm_range_fault().
 */
int vramsim_mirror_map_local(struct vramsim_mirror *m, unsigned long start,
			     unsigned long npages)
{
	unsigned long end = start + (npages << PAGE_SHIFT), addr, next, i;
	unsigned long *pfns;
	int ret = 0;

	pfns = vramsim_mirror_begin(m, -EINVAL, &ret);
	if (!pfns)
		return ret;
	for (addr = start; addr < end && !ret; addr = next) {
		next = vramsim_mirror_window_end(addr, end);
		ret = vramsim_mirror_fill(m, addr, next, 0, false, true, pfns);
		for (i = 0; !ret && i < (next - addr) >> PAGE_SHIFT; i++)
			if (!(pfns[i] & HMM_PFN_VALID) ||
			    !vramsim_vram_has_pfn(m->vram, vramsim_hmm_pfn(pfns[i])))
				ret = -ENOENT;
	}
	vramsim_mirror_end(m, pfns);
	return ret;
}

/**
 * vramsim_mirror_snapshot() - what the CPU's page table holds, unfaulted
 * @m: the mirror
 * @start: page-aligned address
 * @npages: pages, at most to the end of @start's PMD
 * @pfns: out: hmm_range_fault()'s pfns, this VRAM's pages reported
 *
 * Changes no entry.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL if the address space is gone, -ENODEV if the device
 * is being removed, -EINTR, -EBUSY, errors of hmm_range_fault().
 */
int vramsim_mirror_snapshot(struct vramsim_mirror *m, unsigned long start,
			    unsigned long npages, unsigned long *pfns)
{
	struct mm_struct *mm = m->notifier.mm;
	int ret;

	if (WARN_ON_ONCE(start + (npages << PAGE_SHIFT) >
			 vramsim_mirror_window_end(start, ULONG_MAX)))
		return -EINVAL;
	if (!mmget_not_zero(mm))
		return -EINVAL;
	ret = vramsim_mirror_fill(m, start, start + (npages << PAGE_SHIFT), 0,
				  false, false, pfns);
	mmput(mm);
	return ret;
}

/*
 * One page of vramsim_mirror_exclusive(), with the mmap lock held for read.
 * The entry is stored only if no invalidation came since the sequence was
 * read: a zap (MADV_DONTNEED, under the same read lock) takes no folio
 * lock, so the folio lock make_device_exclusive() returns with does not
 * keep the page mapped; an entry stored after such a zap would point at a
 * page nothing unmaps any more, freed by our folio_put().
 */
static int vramsim_mirror_exclusive_page(struct vramsim_mirror *m,
					 struct mm_struct *mm,
					 unsigned long addr)
{
	unsigned long timeout = jiffies +
				msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	struct folio *folio;
	struct page *page;
	unsigned long seq;
	void *old;

	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		/*
		 * A removal waits for the command (drm_dev_enter()): a walk of
		 * millions of windows (SNAPSHOT, MIGRATE_TO_DEV's mapping) stops
		 * at the next one.
		 */
		if (READ_ONCE(m->vram->dying))
			return -ENODEV;
		if (time_after(jiffies, timeout))
			return -EBUSY;
		seq = mmu_interval_read_begin(&m->notifier);
		page = make_device_exclusive(mm, addr, m, &folio);
		if (IS_ERR(page))
			return PTR_ERR(page);
		mutex_lock(&m->lock);
		if (!mmu_interval_read_retry(&m->notifier, seq))
			break;
		mutex_unlock(&m->lock);
		folio_unlock(folio);
		folio_put(folio);
	}
	old = xa_store(&m->pt, addr >> PAGE_SHIFT,
		       xa_mk_value(page_to_pfn(page) << VRAMSIM_MIRROR_SHIFT |
				   VRAMSIM_MIRROR_WRITE | VRAMSIM_MIRROR_ATOMIC),
		       GFP_NOWAIT | __GFP_NOWARN);
	mutex_unlock(&m->lock);
	folio_unlock(folio);
	folio_put(folio);
	return xa_is_err(old) ? xa_err(old) : 0;
}

/**
 * vramsim_mirror_exclusive() - take pages for the device's atomic access
 * @m: the mirror
 * @start: page-aligned address
 * @npages: pages
 *
 * Makes each page device-exclusive (make_device_exclusive(): the CPU
 * faults before it touches the page again, and that fault invalidates the
 * entry) and maps it with %VRAMSIM_MIRROR_ATOMIC.  Stops at the first page
 * that cannot be made exclusive.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL if the address space is gone, or the error of
 * make_device_exclusive() (-EBUSY, -EFAULT...).
 */
int vramsim_mirror_exclusive(struct vramsim_mirror *m, unsigned long start,
			     unsigned long npages)
{
	unsigned long end = start + (npages << PAGE_SHIFT), addr;
	struct mm_struct *mm = m->notifier.mm;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -EINVAL;
	mmap_read_lock(mm);
	for (addr = start; addr < end && !ret; addr += PAGE_SIZE)
		ret = READ_ONCE(m->vram->dying) ? -ENODEV :
		      vramsim_mirror_exclusive_page(m, mm, addr);
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/**
 * vramsim_mirror_any_atomic() - does the device hold a page for atomics?
 * @m: the mirror
 * @start: page-aligned address
 * @npages: pages
 *
 * Return: true if an entry in the range has %VRAMSIM_MIRROR_ATOMIC.
 */
bool vramsim_mirror_any_atomic(struct vramsim_mirror *m, unsigned long start,
			       unsigned long npages)
{
	unsigned long first = start >> PAGE_SHIFT;
	unsigned long index;
	bool atomic = false;
	void *entry;

	mutex_lock(&m->lock);
	xa_for_each_range(&m->pt, index, entry, first, first + npages - 1) {
		if (xa_to_value(entry) & VRAMSIM_MIRROR_ATOMIC) {
			atomic = true;
			break;
		}
	}
	mutex_unlock(&m->lock);
	return atomic;
}

/**
 * vramsim_mirror_migrate() - migrate memory of the mirror's address space
 * @m: the mirror
 * @opts: the migration's rules
 * @start: page-aligned address
 * @npages: pages, not 0
 * @to_device: into this VRAM, else back to RAM
 * @moved: out: bytes moved
 *
 * Changes no entry itself: the migration's invalidations erase those of
 * the pages it moves.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL if the address space is gone, or the error of
 * vramsim_migrate_range_opts().
 */
int vramsim_mirror_migrate(struct vramsim_mirror *m,
			   const struct vramsim_migrate_opts *opts,
			   unsigned long start, unsigned long npages,
			   bool to_device, u64 *moved)
{
	struct mm_struct *mm = m->notifier.mm;
	int ret;

	*moved = 0;
	if (!mmget_not_zero(mm))
		return -EINVAL;
	ret = vramsim_migrate_range_opts(m->vram, opts, mm, start,
					 npages << PAGE_SHIFT, to_device, moved);
	mmput(mm);
	return ret;
}
