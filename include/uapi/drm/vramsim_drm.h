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
 * Version of this interface; reported by DRM_IOCTL_VERSION as the driver's
 * major.minor and in drm_vramsim_stats.uapi_version.  Minor bumps add
 * fields at the end of structures (DRM zero-extends older callers); major
 * bumps break compatibility.
 */
#define VRAMSIM_UAPI_MAJOR	1
#define VRAMSIM_UAPI_MINOR	3

/* Folio orders vramsim hands out: 0 (4 KiB) up to 9 (2 MiB). */
#define VRAMSIM_NR_ORDERS	10

#define DRM_VRAMSIM_STATS		0x00
#define DRM_VRAMSIM_MIGRATE_TO_DEVICE	0x01
#define DRM_VRAMSIM_MIGRATE_TO_RAM	0x02

/**
 * struct drm_vramsim_stats - state of the simulated VRAM
 *
 * Filled by DRM_IOCTL_VRAMSIM_STATS.  Counts are since the driver was
 * loaded, except @vram_free, @live_folios and @pending_frees, which are
 * the state now.  Fields from @evictions on are new in 1.1, from
 * @peer_bytes on in 1.2; an older caller's shorter structure gets what
 * fits.
 */
struct drm_vramsim_stats {
	/** @uapi_version: (VRAMSIM_UAPI_MAJOR << 16) | VRAMSIM_UAPI_MINOR. */
	__u32 uapi_version;
	/**
	 * @prepare: where freed folios are reset (module parameter prepare):
	 * 0 = driver, 1 = alloc, 2 = core (since 1.3; 0 and 1 were named
	 * scrub and none).
	 */
	__u32 prepare;
	/** @vram_size: bytes of simulated VRAM (the vram_size parameter). */
	__u64 vram_size;
	/** @vram_free: bytes free in the buddy allocator now. */
	__u64 vram_free;
	/** @pending_frees: blocks freed by ->folio_free, not yet returned. */
	__u64 pending_frees;
	/** @splits: large device folios split by the core. */
	__u64 splits;
	/** @live_folios: device folios in use now, per order. */
	__u64 live_folios[VRAMSIM_NR_ORDERS];
	/** @allocs: device folios allocated, per order. */
	__u64 allocs[VRAMSIM_NR_ORDERS];
	/** @frees: device folios freed (->folio_free calls), per order. */
	__u64 frees[VRAMSIM_NR_ORDERS];
	/** @evictions: VRAM blocks an eviction moved data out of (1.1). */
	__u64 evictions;
	/** @evicted_bytes: bytes evicted from VRAM to system memory (1.1). */
	__u64 evicted_bytes;
	/**
	 * @evict_skipped: device pages an eviction found in use but could
	 * not move at the time (locked or referenced elsewhere, no system
	 * memory for them); they stayed in VRAM, intact (1.1).
	 */
	__u64 evict_skipped;
	/**
	 * @peer_bytes: bytes migrated into this device's VRAM directly from
	 * another vramsim device's, without a copy in system memory (1.2).
	 */
	__u64 peer_bytes;
	/**
	 * @device: this device's number, 0 to num_devices - 1: its faux
	 * device is /sys/devices/faux/vramsim for 0, vramsim.<device> for
	 * the others (1.2).
	 */
	__u32 device;
	/** @pad: 0. */
	__u32 pad;
};

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

#define DRM_IOCTL_VRAMSIM_STATS \
	DRM_IOR(DRM_COMMAND_BASE + DRM_VRAMSIM_STATS, struct drm_vramsim_stats)
#define DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_MIGRATE_TO_DEVICE, \
		 struct drm_vramsim_migrate)
#define DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VRAMSIM_MIGRATE_TO_RAM, \
		 struct drm_vramsim_migrate)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VRAMSIM_DRM_H_ */
