/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim tracepoints: the life of a device folio, for perf.
 *
 *   perf list 'vramsim:*'
 *   perf stat -e 'vramsim:*' -- <workload>
 *
 * vramsim_folio_alloc and vramsim_folio_free fire once per folio, so their
 * counts are folios allocated and freed (pieces of a split folio count as
 * folios).  vramsim_blocks_return fires once per return of every pending block
 * to the buddy.  vramsim_evict fires once per block an eviction tried:
 * bytes it moved to RAM, device pages it had to leave (skipped), and why
 * (a full VRAM or teardown).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vramsim

#if !defined(_VRAMSIM_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _VRAMSIM_TRACE_H_

#include <linux/tracepoint.h>

TRACE_EVENT(vramsim_folio_alloc,
	    TP_PROTO(unsigned long pfn, u64 offset, unsigned int order,
		     bool drained),
	    TP_ARGS(pfn, offset, order, drained),
	    TP_STRUCT__entry(__field(unsigned long, pfn)
			     __field(u64, offset)
			     __field(unsigned int, order)
			     __field(bool, drained)),
	    TP_fast_assign(__entry->pfn = pfn;
			   __entry->offset = offset;
			   __entry->order = order;
			   __entry->drained = drained;),
	    TP_printk("pfn=%#lx offset=%#llx order=%u drained=%d",
		      __entry->pfn, __entry->offset, __entry->order,
		      __entry->drained)
);

TRACE_EVENT(vramsim_folio_free,
	    TP_PROTO(unsigned long pfn, unsigned int order,
		     unsigned int block_order, bool last),
	    TP_ARGS(pfn, order, block_order, last),
	    TP_STRUCT__entry(__field(unsigned long, pfn)
			     __field(unsigned int, order)
			     __field(unsigned int, block_order)
			     __field(bool, last)),
	    TP_fast_assign(__entry->pfn = pfn;
			   __entry->order = order;
			   __entry->block_order = block_order;
			   __entry->last = last;),
	    TP_printk("pfn=%#lx order=%u block_order=%u last=%d",
		      __entry->pfn, __entry->order, __entry->block_order,
		      __entry->last)
);

TRACE_EVENT(vramsim_folio_prepare,
	    TP_PROTO(unsigned long pfn, unsigned long nr),
	    TP_ARGS(pfn, nr),
	    TP_STRUCT__entry(__field(unsigned long, pfn)
			     __field(unsigned long, nr)),
	    TP_fast_assign(__entry->pfn = pfn;
			   __entry->nr = nr;),
	    TP_printk("pfn=%#lx nr_pages=%lu", __entry->pfn, __entry->nr)
);

TRACE_EVENT(vramsim_blocks_return,
	    TP_PROTO(unsigned long blocks, u64 bytes, bool from_alloc),
	    TP_ARGS(blocks, bytes, from_alloc),
	    TP_STRUCT__entry(__field(unsigned long, blocks)
			     __field(u64, bytes)
			     __field(bool, from_alloc)),
	    TP_fast_assign(__entry->blocks = blocks;
			   __entry->bytes = bytes;
			   __entry->from_alloc = from_alloc;),
	    TP_printk("blocks=%lu bytes=%llu from=%s", __entry->blocks,
		      __entry->bytes, __entry->from_alloc ? "alloc" : "worker")
);

TRACE_EVENT(vramsim_folio_split,
	    TP_PROTO(unsigned long head_pfn, unsigned int head_order,
		     unsigned long tail_pfn, unsigned int tail_order),
	    TP_ARGS(head_pfn, head_order, tail_pfn, tail_order),
	    TP_STRUCT__entry(__field(unsigned long, head_pfn)
			     __field(unsigned long, tail_pfn)
			     __field(unsigned int, head_order)
			     __field(unsigned int, tail_order)),
	    TP_fast_assign(__entry->head_pfn = head_pfn;
			   __entry->tail_pfn = tail_pfn;
			   __entry->head_order = head_order;
			   __entry->tail_order = tail_order;),
	    TP_printk("head_pfn=%#lx head_order=%u tail_pfn=%#lx tail_order=%u",
		      __entry->head_pfn, __entry->head_order,
		      __entry->tail_pfn, __entry->tail_order)
);

TRACE_EVENT(vramsim_evict,
	    TP_PROTO(unsigned long pfn, unsigned int order, u64 bytes,
		     unsigned int skipped, int reason),
	    TP_ARGS(pfn, order, bytes, skipped, reason),
	    TP_STRUCT__entry(__field(unsigned long, pfn)
			     __field(u64, bytes)
			     __field(unsigned int, order)
			     __field(unsigned int, skipped)
			     __field(int, reason)),
	    TP_fast_assign(__entry->pfn = pfn;
			   __entry->bytes = bytes;
			   __entry->order = order;
			   __entry->skipped = skipped;
			   __entry->reason = reason;),
	    TP_printk("pfn=%#lx order=%u bytes=%llu skipped=%u reason=%s",
		      __entry->pfn, __entry->order, __entry->bytes,
		      __entry->skipped,
		      __print_symbolic(__entry->reason, { 0, "alloc" },
				       { 1, "teardown" }, { 2, "release" }))
);

#endif /* _VRAMSIM_TRACE_H_ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vramsim_trace
#include <trace/define_trace.h>
