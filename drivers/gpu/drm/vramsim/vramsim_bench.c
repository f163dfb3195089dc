// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: in-kernel benchmark of the device folio free path.
 *
 * For one order, on a private VRAM instance of the device's size (so that
 * the buddy has the same shape), created for the run and torn down after
 * it: the device's own VRAM, its users and its free-time policy are never
 * touched, and the run need not wait for the device to be idle.
 *
 *  1. the full path, once per prepare policy: allocate @count device folios
 *     through the real allocation path, drop them with folio_put() so each
 *     goes through the core's free_zone_device_folio() and ->folio_free,
 *     then return the queued blocks to the buddy.  The free worker is held
 *     off meanwhile, so the return is timed on its own, not overlapped.
 *  2. the prepare step alone, on the same number of freshly used folios;
 *  3. the raw buddy: allocating and freeing as many blocks of the order
 *     with no struct page work at all;
 *  4. the core alone: folio_put() of as many folios, reaching a
 *     ->folio_free that does nothing (the blocks are released after the
 *     timing).
 *
 * So a free path at its floor costs core + raw buddy free (prepare=alloc)
 * and core + prepare + raw buddy free (prepare=driver).
 *
 * With @threads > 0, also:
 *  5. the free path on @threads CPUs at once: each of @threads kernel
 *     threads, bound to its own CPU, drops @count folios with folio_put()
 *     (the kernel's default policy) when all are ready; the time is from the start to the
 *     last thread's end (wall clock: only meaningful in a guest with that
 *     many vCPUs, not in the deterministic single-CPU one).
 *
 * Times are ktime_get_ns() deltas; in vramsim's deterministic guest
 * (-icount shift=0) a nanosecond is one guest instruction.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include <kunit/visibility.h>

#include "vramsim_bench.h"
#include "vramsim_evict.h"
#include "vramsim_migrate.h"
#include "vramsim_vram.h"

static int alloc_folios(struct vramsim_vram *vram, unsigned int order,
			struct folio **folios, unsigned long count)
{
	unsigned long i;

	for (i = 0; i < count; i++) {
		cond_resched();
		folios[i] = vramsim_evict_alloc_folio(vram, order, 0);
		if (IS_ERR(folios[i])) {
			int err = PTR_ERR(folios[i]);

			while (i--)
				folio_put(folios[i]);
			return err;
		}
		folio_unlock(folios[i]);
	}
	return 0;
}

/* Time the full path with the given policy. */
static int bench_path(struct vramsim_vram *vram, unsigned int order,
		      struct folio **folios, unsigned long count,
		      struct vramsim_bench_path *path)
{
	unsigned long i;
	u64 t0, t1, t2, t3;
	int err;

	t0 = ktime_get_ns();
	err = alloc_folios(vram, order, folios, count);
	if (err)
		return err;
	t1 = ktime_get_ns();
	for (i = 0; i < count; i++) {
		folio_put(folios[i]);
		cond_resched();
	}
	t2 = ktime_get_ns();
	vramsim_vram_drain(vram);
	t3 = ktime_get_ns();

	path->alloc_ns = t1 - t0;
	path->free_ns = t2 - t1;
	path->return_ns = t3 - t2;
	return 0;
}

/*
 * Allocate @count folios and note each one's block, for the runs that
 * release the blocks themselves after the core (or nothing) freed the
 * folios.  Returns the array of blocks (kvfree() it) or an ERR_PTR.
 */
static struct vramsim_block **alloc_folios_blocks(struct vramsim_vram *vram,
						  unsigned int order,
						  struct folio **folios,
						  unsigned long count)
{
	struct vramsim_block **vbs;
	unsigned long i;
	int err;

	vbs = kvmalloc_array(count, sizeof(*vbs), GFP_KERNEL);
	if (!vbs)
		return ERR_PTR(-ENOMEM);
	err = alloc_folios(vram, order, folios, count);
	if (err) {
		kvfree(vbs);
		return ERR_PTR(err);
	}
	for (i = 0; i < count; i++)
		vbs[i] = folio_zone_device_data(folios[i]);
	return vbs;
}

/*
 * The prepare step alone, on folios just allocated (compound state built by
 * zone_device_folio_init()).  Their reference is frozen to 0, as it is when
 * ->folio_free runs, then they are released the way the core does after it.
 */
static int bench_prepare(struct vramsim_vram *vram, unsigned int order,
			 struct folio **folios, unsigned long count, u64 *ns)
{
	unsigned long nr = 1UL << order, i;
	struct vramsim_block **vbs;
	u64 t0;

	vbs = alloc_folios_blocks(vram, order, folios, count);
	if (IS_ERR(vbs))
		return PTR_ERR(vbs);
	for (i = 0; i < count; i++)
		WARN_ON_ONCE(!folio_ref_freeze(folios[i], 1));

	t0 = ktime_get_ns();
	for (i = 0; i < count; i++) {
		vramsim_folio_prepare(folios[i], nr, &vram->pgmap);
		cond_resched();
	}
	*ns = ktime_get_ns() - t0;

	for (i = 0; i < count; i++) {
		vramsim_folio_release(vram, vbs[i], folios[i], order);
		percpu_ref_put_many(&vram->pgmap.ref, nr);
		cond_resched();
	}
	vramsim_vram_drain(vram);
	kvfree(vbs);
	return 0;
}

/* ->folio_free of the core-alone run: nothing. */
#ifdef VRAMSIM_CORE_PREPARES
static void bench_core_folio_free(struct folio *folio, unsigned int order)
#else
static void bench_core_folio_free(struct folio *folio)
#endif
{
}

static const struct dev_pagemap_ops bench_core_ops = {
	.folio_free = bench_core_folio_free,
};

/*
 * The core's own free work: folio_put() down to free_zone_device_folio(),
 * with a ->folio_free that does nothing.  The instance is private and has
 * no folio in use, so its ops can be swapped for the run; the blocks are
 * released afterwards, untimed.
 */
static int bench_core(struct vramsim_vram *vram, unsigned int order,
		      struct folio **folios, unsigned long count, u64 *ns)
{
	const struct dev_pagemap_ops *ops = vram->pgmap.ops;
	struct vramsim_block **vbs;
	unsigned long i;
	u64 t0;

	vbs = alloc_folios_blocks(vram, order, folios, count);
	if (IS_ERR(vbs))
		return PTR_ERR(vbs);

	WRITE_ONCE(vram->pgmap.ops, &bench_core_ops);
	t0 = ktime_get_ns();
	for (i = 0; i < count; i++) {
		folio_put(folios[i]);
		cond_resched();
	}
	*ns = ktime_get_ns() - t0;
	WRITE_ONCE(vram->pgmap.ops, ops);

	/* The folios are free (their pages reset if the core does that): as in ->folio_free. */
	for (i = 0; i < count; i++) {
		vramsim_folio_release(vram, vbs[i], folios[i], order);
		cond_resched();
	}
	vramsim_vram_drain(vram);
	kvfree(vbs);
	return 0;
}

struct bench_freer {
	struct folio **folios;
	unsigned long count;
	struct completion *go;
	u64 end_ns;
	struct completion done;
};

static int bench_freer_fn(void *arg)
{
	struct bench_freer *f = arg;
	unsigned long i;

	wait_for_completion(f->go);
	for (i = 0; i < f->count; i++)
		folio_put(f->folios[i]);
	f->end_ns = ktime_get_ns();
	complete(&f->done);
	return 0;
}

/*
 * @threads threads on as many CPUs each free @count folios at once; *@ns
 * is the time until the last one is done.  The returns happen after.
 */
static int bench_parallel(struct vramsim_vram *vram, unsigned int order,
			  struct folio **folios, unsigned long count,
			  unsigned int threads, u64 *ns)
{
	struct bench_freer *f;
	DECLARE_COMPLETION_ONSTACK(go);
	unsigned int t, cpu;
	u64 t0, end = 0;
	int err;

	if (threads > num_online_cpus())
		return -EINVAL;
	f = kcalloc(threads, sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	err = alloc_folios(vram, order, folios, count * threads);
	if (err)
		goto out;

	t = 0;
	for_each_online_cpu(cpu) {
		struct task_struct *task;

		if (t == threads)
			break;
		f[t].folios = folios + t * count;
		f[t].count = count;
		init_completion(&f[t].done);
		task = kthread_create_on_cpu(bench_freer_fn, &f[t], cpu,
					     "vramsim_bench/%u");
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			break;
		}
		f[t].go = &go;
		wake_up_process(task);
		t++;
	}
	/* A CPU went offline since the check: fewer threads than asked. */
	if (!err && t < threads)
		err = -EBUSY;
	t0 = ktime_get_ns();
	complete_all(&go);
	while (t--) {
		wait_for_completion(&f[t].done);
		end = max(end, f[t].end_ns);
	}
	*ns = end - t0;
	/* A thread that could not start left its folios: free them here. */
	if (err) {
		unsigned long i;

		for (t = 0; t < threads; t++)
			if (!f[t].go)
				for (i = 0; i < count; i++)
					folio_put(folios[t * count + i]);
	}
	vramsim_vram_drain(vram);
out:
	kfree(f);
	return err;
}

/* The buddy alone: the same number of blocks, no folios. */
static int bench_buddy(struct vramsim_vram *vram, unsigned int order,
		       unsigned long count, struct vramsim_bench_result *res)
{
	u64 bytes = PAGE_SIZE << order, t0, t1, t2;
	struct gpu_buddy_block *block, *next;
	unsigned long i;
	LIST_HEAD(blocks);
	int err = 0;

	/* The instance is private: holding its lock across cond_resched() is fine. */
	mutex_lock(&vram->lock);
	t0 = ktime_get_ns();
	for (i = 0; i < count && !err; i++) {
		err = gpu_buddy_alloc_blocks(&vram->mm, 0, vram->size, bytes,
					     bytes, &blocks, 0);
		cond_resched();
	}
	t1 = ktime_get_ns();
	/*
	 * Newest first: the order the free path returns blocks in, when
	 * folios are freed in allocation order (a pending list is LIFO).
	 * The buddy's cost depends on it: oldest first costs 27 more
	 * instructions per order-0 block.
	 */
	list_for_each_entry_safe_reverse(block, next, &blocks, link) {
		gpu_buddy_free_block(&vram->mm, block);
		cond_resched();
	}
	t2 = ktime_get_ns();
	mutex_unlock(&vram->lock);

	res->buddy_alloc_ns = t1 - t0;
	res->buddy_free_ns = t2 - t1;
	return err;
}

/**
 * vramsim_bench_run() - benchmark the free path for one folio order
 * @dev: the device the private VRAM instance belongs to
 * @size: bytes of the private instance (the device's VRAM size)
 * @order: folio order, 0 to %VRAMSIM_MAX_ORDER
 * @count: folios per run, at least 1; they must fit in @size at once
 * @threads: also free @count folios on each of this many CPUs at once
 *	(0: not); at most the CPUs online, and @threads x @count folios must
 *	fit in @size
 * @res: out: timings, see &struct vramsim_bench_result
 *
 * Context: process context; runs for as long as the work takes.
 * Return: 0; -EINVAL for a bad order or count, -ENOSPC or -ENOMEM if the
 * instance or the folios cannot be had, -EIO if the buddy's free space did
 * not come back.
 */
int vramsim_bench_run(struct device *dev, u64 size, unsigned int order,
		      unsigned long count, unsigned int threads,
		      struct vramsim_bench_result *res)
{
	struct vramsim_vram *vram;
	struct folio **folios;
	int err, p;

	if (order > VRAMSIM_MAX_ORDER || !count ||
	    count > size >> (PAGE_SHIFT + order))
		return -EINVAL;
	if (threads > num_online_cpus() ||
	    count * max(threads, 1U) > size >> (PAGE_SHIFT + order))
		return -EINVAL;

	folios = kvmalloc_array(count * max(threads, 1U), sizeof(*folios),
				GFP_KERNEL);
	vram = kzalloc_obj(*vram);
	if (!folios || !vram) {
		err = -ENOMEM;
		goto out_free;
	}
	err = vramsim_dmem_init(vram, dev, size, VRAMSIM_DEFAULT_PREPARE);
	if (err)
		goto out_free;

	memset(res, 0, sizeof(*res));
	res->order = order;
	res->count = count;

	/* Returns happen in the timed drain, not in the worker meanwhile. */
	disable_work_sync(&vram->free_work);
	for (p = ARRAY_SIZE(res->path) - 1; p >= 0; p--) {
		if (!vramsim_prepare_supported(p))
			continue;
		WRITE_ONCE(vram->prepare, p);
		err = bench_path(vram, order, folios, count, &res->path[p]);
		if (err)
			break;
	}
	if (!err)
		err = bench_prepare(vram, order, folios, count, &res->prepare_ns);
	if (!err)
		err = bench_core(vram, order, folios, count, &res->core_free_ns);
	if (!err && threads) {
		WRITE_ONCE(vram->prepare, VRAMSIM_DEFAULT_PREPARE);
		res->threads = threads;
		err = bench_parallel(vram, order, folios, count, threads,
				     &res->parallel_free_ns);
	}
	enable_work(&vram->free_work);
	if (!err)
		err = bench_buddy(vram, order, count, res);

	if (!err && vramsim_vram_free_bytes(vram) != vram->size)
		err = -EIO;
	vramsim_dmem_fini(vram);
out_free:
	kfree(vram);
	kvfree(folios);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(vramsim_bench_run);
