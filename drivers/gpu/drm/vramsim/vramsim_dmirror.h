/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: the dmirror interface (lib/test_hmm_uapi.h's ioctls) of a
 * device.  Above the mirror (vramsim_mirror.h), below the DRM device.
 */
#ifndef _VRAMSIM_DMIRROR_H_
#define _VRAMSIM_DMIRROR_H_

struct vramsim_device;

int devm_vramsim_dmirror_init(struct vramsim_device *vdev);

#endif /* _VRAMSIM_DMIRROR_H_ */
