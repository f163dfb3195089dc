/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: moving user memory between system RAM and simulated VRAM.
 */
#ifndef _VRAMSIM_MIGRATE_H_
#define _VRAMSIM_MIGRATE_H_

#include <linux/mm_types.h>

struct vramsim_vram;

vm_fault_t vramsim_migrate_to_ram(struct vm_fault *vmf);

int vramsim_migrate_range(struct vramsim_vram *vram, struct mm_struct *mm,
			  unsigned long start, unsigned long len, bool to_device,
			  u64 *moved);

u64 vramsim_migrate_pfns_to_ram(struct vramsim_vram *vram, unsigned long pfn,
				unsigned long npages, bool may_fail,
				unsigned long *moved_map);

void vramsim_backing_free(struct vramsim_vram *vram, unsigned long pgoff,
			  unsigned long nr);
void vramsim_backing_fini(struct vramsim_vram *vram);
int vramsim_windows_init(struct vramsim_vram *vram);
void vramsim_windows_fini(struct vramsim_vram *vram);

#endif /* _VRAMSIM_MIGRATE_H_ */
