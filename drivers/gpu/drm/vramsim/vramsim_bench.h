/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _VRAMSIM_BENCH_H_
#define _VRAMSIM_BENCH_H_

#include <linux/mutex.h>
#include <linux/types.h>

struct vramsim_vram;

/**
 * struct vramsim_bench_result - one in-kernel alloc/free run
 * @order: folio order
 * @count: folios allocated and freed
 * @alloc_ns: allocating @count folios
 * @free_ns: folio_put() of all of them: core free + ->folio_free
 * @drain_ns: returning the pending blocks until the buddy is whole again
 */
struct vramsim_bench_result {
	unsigned int order;
	unsigned long count;
	u64 alloc_ns;
	u64 free_ns;
	u64 drain_ns;
};

/**
 * struct vramsim_bench - in-kernel benchmark state of a device
 * @lock: one run at a time
 * @last: result of the last run
 * @valid: @last holds a result
 */
struct vramsim_bench {
	struct mutex lock;
	struct vramsim_bench_result last;
	bool valid;
};

int vramsim_bench_run(struct vramsim_vram *vram, unsigned int order,
		      unsigned long count, struct vramsim_bench_result *res);

#endif /* _VRAMSIM_BENCH_H_ */
