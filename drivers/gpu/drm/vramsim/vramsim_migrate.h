/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: moving user memory between system RAM and simulated VRAM, and
 * the VRAM of a device put together: page map, buddy, backing store.
 *
 * Above eviction (vramsim_evict.h), below the DRM device.
 */
#ifndef _VRAMSIM_MIGRATE_H_
#define _VRAMSIM_MIGRATE_H_

#include <linux/types.h>

#include "vramsim_vram.h"

struct device;
struct mm_struct;

int vramsim_dmem_init(struct vramsim_vram *vram, struct device *dev, u64 size,
		      enum vramsim_prepare prepare);
void vramsim_dmem_fini(struct vramsim_vram *vram);
int devm_vramsim_dmem_init(struct device *dev, struct vramsim_vram *vram,
			   u64 size, enum vramsim_prepare prepare);

int vramsim_migrate_range(struct vramsim_vram *vram, struct mm_struct *mm,
			  unsigned long start, unsigned long len, bool to_device,
			  u64 *moved);

#endif /* _VRAMSIM_MIGRATE_H_ */
