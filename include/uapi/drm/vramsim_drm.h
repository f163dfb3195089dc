/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vramsim: simulated GPU VRAM on device-private memory.
 *
 * Userspace interface of the vramsim DRM driver, on its render node
 * (/dev/dri/renderD*).  Every ioctl returns 0 or -1 with errno set.
 */
#ifndef _UAPI_VRAMSIM_DRM_H_
#define _UAPI_VRAMSIM_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * Version of this interface, reported by DRM_IOCTL_VERSION as the driver's
 * major.minor.  Minor bumps add ioctls, or fields at the end of structures
 * (DRM zero-extends older callers' structures and truncates what it
 * returns to them); major bumps break compatibility.
 *
 * 2.0 removed DRM_IOCTL_VRAMSIM_STATS (1.x, number 0x00) and its struct
 * drm_vramsim_stats: its counters (allocations, frees and live folios per
 * order, pending frees, splits, evictions, peer migrations) and the free
 * policy (module parameter prepare) are debugging aids, not ABI.  They are
 * in debugfs now, one "key: value" per line in
 * /sys/kernel/debug/dri/vramsim/stats (device n: dri/vramsim.<n>/stats),
 * and may change there without notice.  What a GPU user legitimately asks,
 * the VRAM's size, its free bytes and which device a node is, is
 * DRM_IOCTL_VRAMSIM_QUERY.
 */
#define VRAMSIM_UAPI_MAJOR	2
#define VRAMSIM_UAPI_MINOR	0

/*
 * 0x00 is unassigned: it was DRM_VRAMSIM_STATS in 1.x.  The driver's ioctl
 * table has a hole there, for which DRM returns EINVAL, so a 1.x caller of
 * DRM_IOCTL_VRAMSIM_STATS gets EINVAL.  Not to be reused.
 */
#define DRM_VRAMSIM_MIGRATE_TO_DEVICE	0x01
#define DRM_VRAMSIM_MIGRATE_TO_RAM	0x02
#define DRM_VRAMSIM_QUERY		0x03

/**
 * struct drm_vramsim_migrate - move a range of the caller's memory
 *
 * For DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE and DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM.
 * The range must be page aligned, not empty, and mapped by private
 * anonymous memory.  To the device, 2 MiB-aligned transparent huge pages
 * and unpopulated 2 MiB-aligned ranges become 2 MiB device folios where the
 * mapping allows huge pages (MADV_HUGEPAGE, not MADV_NOHUGEPAGE or
 * PR_SET_THP_DISABLE), the rest 4 KiB ones; unpopulated memory becomes
 * zero-filled device pages.  To RAM, only device pages move; unpopulated
 * memory stays unpopulated.  A CPU access to a page in VRAM moves it back
 * on its own.
 *
 * When the VRAM is full, the driver (module parameter evict=on, the
 * default) evicts the device memory migrated in longest ago, whoever's it
 * is, back to system memory, and carries on; never what this call itself
 * moved in, so a range larger than the VRAM moves as far as the VRAM
 * holds.  What cannot be evicted at the time stays in VRAM.
 *
 * Errors: EINVAL (length 0, unaligned or overflowing range, non-zero
 * @flags or @pad, not private anonymous memory), EFAULT (part of the range
 * not mapped), ENOSPC (VRAM full and nothing could be evicted, nothing
 * moved), ENOMEM, EINTR (the caller was killed).  When the VRAM fills up
 * part way, the call succeeds and @moved says how much moved; the rest
 * stays in system memory with its contents.  @moved is written back on
 * errors too: the bytes moved before the error, in address order.
 */
struct drm_vramsim_migrate {
	/** @start: user address of the range, page aligned. */
	__u64 start;
	/** @length: bytes, page aligned, not 0. */
	__u64 length;
	/** @flags: must be 0. */
	__u32 flags;
	/** @pad: must be 0. */
	__u32 pad;
	/** @moved: out: bytes this call moved. */
	__u64 moved;
};

/**
 * struct drm_vramsim_query - what a device node is and how much VRAM it has
 *
 * Filled by DRM_IOCTL_VRAMSIM_QUERY (new in 2.0).  Output only: the ioctl
 * is _IOR, so DRM does not copy the caller's structure in, and the driver
 * writes every field, @pad included; nothing the caller puts in it is
 * checked or can make the call fail.  A future minor version may append
 * fields (an older caller gets what fits).  Errors: ENODEV (the device
 * was removed after the file was opened), EFAULT (the structure is not
 * writable).
 *
 * The driver's counters (per-order allocations and frees, evictions, ...)
 * and its free policy are not here: see debugfs, described above
 * VRAMSIM_UAPI_MAJOR.
 */
struct drm_vramsim_query {
	/**
	 * @vram_size: bytes of VRAM of this device (its module parameter
	 * vram_size).
	 */
	__u64 vram_size;
	/**
	 * @vram_free: bytes of VRAM free at the time of the call.  Freed
	 * device memory is returned to the allocator asynchronously, so this
	 * can lag a free for a moment; it is a snapshot that other users
	 * change at any time.
	 */
	__u64 vram_free;
	/**
	 * @device: this device's number, 0 to num_devices - 1 (module
	 * parameter): device 0 is the faux device /sys/devices/faux/vramsim,
	 * device n /sys/devices/faux/vramsim.<n>; it tells the nodes of
	 * several devices apart.
	 */
	__u32 device;
	/** @pad: 0 on return. */
	__u32 pad;
};

#define DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_MIGRATE_TO_DEVICE, \
		 struct drm_vramsim_migrate)
#define DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_MIGRATE_TO_RAM, \
		 struct drm_vramsim_migrate)
#define DRM_IOCTL_VRAMSIM_QUERY \
	DRM_IOR(DRM_COMMAND_BASE + DRM_VRAMSIM_QUERY, struct drm_vramsim_query)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VRAMSIM_DRM_H_ */
