/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _VRAMSIM_BENCH_H_
#define _VRAMSIM_BENCH_H_

#include <linux/mutex.h>
#include <linux/types.h>

#include "vramsim_vram.h"

/**
 * struct vramsim_bench_path - one run of the full alloc/free path
 * @alloc_ns: vramsim_evict_alloc_folio() of every folio
 * @free_ns: folio_put() of every folio: the core's free_zone_device_folio()
 *	and ->folio_free (prepare, if the policy has one, and release)
 * @return_ns: returning the queued blocks to the buddy
 */
struct vramsim_bench_path {
	u64 alloc_ns;
	u64 free_ns;
	u64 return_ns;
};

/**
 * struct vramsim_bench_result - in-kernel benchmark of one order
 * @order: folio order
 * @count: folios per run
 * @path: the full path, per prepare policy (&enum vramsim_prepare) this
 *	kernel has (vramsim_prepare_supported()); zero for the others
 * @prepare_ns: the prepare step alone, on @count freshly used folios
 * @buddy_alloc_ns: gpu_buddy_alloc_blocks() of @count blocks of @order
 * @buddy_free_ns: gpu_buddy_free_block() of them
 * @core_free_ns: folio_put() of @count folios of @order reaching a
 *	->folio_free that does nothing: the core's own share of a free
 * @threads: CPUs of the parallel run (0: none)
 * @parallel_free_ns: wall time for @threads threads, one per CPU, to free
 *	@count folios each at once (the kernel's default policy)
 */
struct vramsim_bench_result {
	unsigned int order;
	unsigned long count;
	struct vramsim_bench_path path[VRAMSIM_NR_PREPARE];
	u64 prepare_ns;
	u64 buddy_alloc_ns;
	u64 buddy_free_ns;
	u64 core_free_ns;
	unsigned int threads;
	u64 parallel_free_ns;
};

/**
 * struct vramsim_bench - in-kernel benchmark state of a device
 * @lock: one run at a time
 * @last: result of the last run
 * @valid: @last holds a result
 */
struct vramsim_bench {
	struct mutex lock;	/* serialises runs and @last */
	struct vramsim_bench_result last;
	bool valid;
};

struct device;

int vramsim_bench_run(struct device *dev, u64 size, unsigned int order,
		      unsigned long count, unsigned int threads,
		      struct vramsim_bench_result *res);

#endif /* _VRAMSIM_BENCH_H_ */
