// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: in-kernel benchmark of the device folio alloc and free paths.
 *
 * Allocates device folios through the real allocation path, then drops
 * them with folio_put() so that each goes through the core's
 * free_zone_device_folio(), vramsim's ->folio_free and the deferred return
 * to the buddy, and times each phase until the buddy is whole again.
 */

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "vramsim_bench.h"
#include "vramsim_vram.h"

/**
 * vramsim_bench_run() - allocate and free @count folios of @order
 * @vram: the VRAM, idle
 * @order: folio order, 0 to %VRAMSIM_MAX_ORDER
 * @count: number of folios, at least 1; they must fit in the VRAM
 * @res: out: timings
 *
 * Return: 0; -EINVAL for a bad order or count, -ENOSPC if the folios do not
 * fit, -EIO if the buddy's free space did not come back.
 */
int vramsim_bench_run(struct vramsim_vram *vram, unsigned int order,
		      unsigned long count, struct vramsim_bench_result *res)
{
	struct folio **folios;
	unsigned long i, n;
	u64 before, t0, t1, t2, t3;
	int err = 0;

	if (order > VRAMSIM_MAX_ORDER || !count ||
	    count > vram->size >> (PAGE_SHIFT + order))
		return -EINVAL;

	folios = kvmalloc_array(count, sizeof(*folios), GFP_KERNEL);
	if (!folios)
		return -ENOMEM;

	vramsim_vram_drain(vram);
	before = vramsim_vram_free_bytes(vram);

	t0 = ktime_get_ns();
	for (n = 0; n < count; n++) {
		folios[n] = vramsim_vram_alloc_folio(vram, order);
		if (IS_ERR(folios[n])) {
			err = PTR_ERR(folios[n]);
			break;
		}
		folio_unlock(folios[n]);
	}
	t1 = ktime_get_ns();
	for (i = 0; i < n; i++)
		folio_put(folios[i]);
	t2 = ktime_get_ns();
	vramsim_vram_drain(vram);
	t3 = ktime_get_ns();

	kvfree(folios);
	if (err)
		return err;
	if (vramsim_vram_free_bytes(vram) != before)
		return -EIO;

	res->order = order;
	res->count = count;
	res->alloc_ns = t1 - t0;
	res->free_ns = t2 - t1;
	res->drain_ns = t3 - t2;
	return 0;
}
