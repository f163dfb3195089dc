/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _VRAMSIM_DRV_H_
#define _VRAMSIM_DRV_H_

#include <drm/drm_device.h>

#include <uapi/drm/vramsim_drm.h>

#include "vramsim_bench.h"
#include "vramsim_vram.h"

#define DRIVER_NAME	"vramsim"
#define DRIVER_DESC	"Simulated GPU VRAM on device-private memory"
#define DRIVER_MAJOR	VRAMSIM_UAPI_MAJOR
#define DRIVER_MINOR	VRAMSIM_UAPI_MINOR

struct faux_device;

/**
 * struct vramsim_device - the vramsim DRM device
 * @drm: DRM device
 * @faux: the faux bus device @drm hangs off
 * @index: device number, 0 to %VRAMSIM_MAX_DEVICES - 1
 * @vram: simulated VRAM
 * @bench: last in-kernel benchmark run, see vramsim_bench.c
 */
struct vramsim_device {
	struct drm_device drm;
	struct faux_device *faux;
	unsigned int index;
	struct vramsim_vram vram;
	struct vramsim_bench bench;
};

static inline struct vramsim_device *to_vramsim(struct drm_device *drm)
{
	return container_of(drm, struct vramsim_device, drm);
}

void vramsim_debugfs_init(struct vramsim_device *vdev);

#endif /* _VRAMSIM_DRV_H_ */
