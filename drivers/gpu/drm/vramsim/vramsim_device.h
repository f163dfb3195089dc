/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: the device, for the files of the top layer (vramsim_drv.c,
 * vramsim_debugfs.c): its type and to_vramsim(), no code of its own.
 */
#ifndef _VRAMSIM_DEVICE_H_
#define _VRAMSIM_DEVICE_H_

#include <linux/miscdevice.h>

#include <drm/drm_device.h>

#include "vramsim_bench.h"
#include "vramsim_vram.h"

struct faux_device;

/**
 * struct vramsim_device - the vramsim DRM device
 * @drm: DRM device
 * @faux: the faux bus device @drm hangs off
 * @index: device number, 0 to %VRAMSIM_MAX_DEVICES - 1
 * @vram: simulated VRAM
 * @bench: last in-kernel benchmark run, see vramsim_bench.c
 * @dmirror: the dmirror node, /dev/@dmirror_name (vramsim_dmirror.c)
 * @dmirror_name: "vramsim_dmirror<index>"
 */
struct vramsim_device {
	struct drm_device drm;
	struct faux_device *faux;
	unsigned int index;
	struct vramsim_vram vram;
	struct vramsim_bench bench;
	struct miscdevice dmirror;
	char dmirror_name[24];
};

static inline struct vramsim_device *to_vramsim(struct drm_device *drm)
{
	return container_of(drm, struct vramsim_device, drm);
}

#endif /* _VRAMSIM_DEVICE_H_ */
