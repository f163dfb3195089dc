/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vramsim: debugfs files, below the DRM device that creates them.
 */
#ifndef _VRAMSIM_DEBUGFS_H_
#define _VRAMSIM_DEBUGFS_H_

struct vramsim_device;

void vramsim_debugfs_init(struct vramsim_device *vdev);

#endif /* _VRAMSIM_DEBUGFS_H_ */
