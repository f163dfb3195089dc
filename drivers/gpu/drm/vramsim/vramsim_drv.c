// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: a DRM driver that simulates GPU VRAM without a GPU.
 *
 * num_devices faux devices, each with a DRM device, a render node and
 * behind it simulated VRAM: device-private memory from the GPU buddy
 * allocator (vramsim_vram.c) that user memory can be migrated to, and from
 * one device to another (vramsim_migrate.c).
 *
 * This file is the driver's top layer; each file includes and calls only
 * those listed before it in the Makefile.
 */

#include <linux/device/faux.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/string_choices.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>

#include <uapi/drm/vramsim_drm.h>

#include "vramsim_debugfs.h"
#include "vramsim_device.h"
#include "vramsim_dmirror.h"
#include "vramsim_evict.h"
#include "vramsim_migrate.h"
#include "vramsim_vram.h"

#define DRIVER_NAME	"vramsim"
#define DRIVER_DESC	"Simulated GPU VRAM on device-private memory"
#define DRIVER_MAJOR	VRAMSIM_UAPI_MAJOR
#define DRIVER_MINOR	VRAMSIM_UAPI_MINOR

/*
 * Module parameters are validated when set, so a bad one fails modprobe
 * (or the write to sysfs) with a message saying what is accepted.
 */

/*
 * Devices that exist; vramsim_lock serialises creating and removing them
 * (module init and exit, writes to num_devices).  vramsim_peers.vram[i]
 * is device i's VRAM while it can be migrated from: the pgmap owners a
 * migration to another device looks for (vramsim_migrate.c).
 */
static DEFINE_MUTEX(vramsim_lock);
static struct vramsim_device *vramsim_devices[VRAMSIM_MAX_DEVICES];
DEFINE_STATIC_SRCU(vramsim_peers_srcu);
static struct vramsim_peers vramsim_peers = { .srcu = &vramsim_peers_srcu };
static unsigned int vramsim_count;
static bool vramsim_live;	/* between module init and exit */

static u64 vram_sizes[VRAMSIM_MAX_DEVICES] = { SZ_512M };
static unsigned int nr_vram_sizes = 1;

/* Device @i's VRAM size: its entry, or the list's last one. */
static u64 vramsim_vram_size(unsigned int i)
{
	return vram_sizes[min(i, nr_vram_sizes - 1)];
}

/*
 * One size of a vram_size list: a decimal or 0x-prefixed hexadecimal
 * number and an optional K, M, G or T, as memparse() reads it, but an
 * error where memparse() would wrap: 0 or -errno, *@end past the size.
 */
static int vramsim_parse_size(const char *s, const char **end, u64 *size)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? "0123456789abcdefABCDEF" : "0123456789";
	size_t len = (hex ? 2 : 0) + strspn(s + (hex ? 2 : 0), digits);
	unsigned int shift = 0;
	char num[24];
	u64 v;
	int err;

	if (len == (hex ? 2 : 0))
		return -EINVAL;
	if (len >= sizeof(num))
		return -ERANGE;
	memcpy(num, s, len);
	num[len] = '\0';
	err = kstrtou64(num, 0, &v);
	if (err)
		return err;
	s += len;
	switch (*s) {
	case 'T': case 't':
		shift += 10;
		fallthrough;
	case 'G': case 'g':
		shift += 10;
		fallthrough;
	case 'M': case 'm':
		shift += 10;
		fallthrough;
	case 'K': case 'k':
		shift += 10;
		s++;
	}
	if (check_shl_overflow(v, shift, size))
		return -ERANGE;
	*end = s;
	return 0;
}

static int vram_size_set(const char *val, const struct kernel_param *kp)
{
	u64 sizes[VRAMSIM_MAX_DEVICES];
	const char *s = val;
	unsigned int n = 0;

	for (;;) {
		const char *end = s;
		u64 size = 0;
		int err = vramsim_parse_size(s, &end, &size);

		if (err == -ERANGE) {
			pr_err(DRIVER_NAME ": vram_size=%s: a size does not fit in 64 bits\n",
			       val);
			return -ERANGE;
		}
		if (err || (*end && *end != ',' && *end != '\n')) {
			pr_err(DRIVER_NAME ": vram_size=%s is not a size or a list of sizes; use e.g. 512M or 1G,256M\n",
			       val);
			return -EINVAL;
		}
		if (size < VRAMSIM_MIN_SIZE || size > VRAMSIM_MAX_SIZE ||
		    !IS_ALIGNED(size, VRAMSIM_MIN_SIZE)) {
			pr_err(DRIVER_NAME ": vram_size=%s: each size must be a multiple of %luM from %luM to %lluG\n",
			       val, VRAMSIM_MIN_SIZE >> 20,
			       VRAMSIM_MIN_SIZE >> 20, VRAMSIM_MAX_SIZE >> 30);
			return -EINVAL;
		}
		if (n == VRAMSIM_MAX_DEVICES) {
			pr_err(DRIVER_NAME ": vram_size=%s: at most %d sizes, one per device\n",
			       val, VRAMSIM_MAX_DEVICES);
			return -EINVAL;
		}
		sizes[n++] = size;
		if (*end != ',')
			break;
		s = end + 1;
	}
	memcpy(vram_sizes, sizes, n * sizeof(*sizes));
	nr_vram_sizes = n;
	return 0;
}

static int vram_size_get(char *buffer, const struct kernel_param *kp)
{
	int len = 0;
	unsigned int i;

	for (i = 0; i < nr_vram_sizes; i++)
		len += sysfs_emit_at(buffer, len, "%s%llu", i ? "," : "",
				     vram_sizes[i]);
	return len + sysfs_emit_at(buffer, len, "\n");
}

static const struct kernel_param_ops vram_size_ops = {
	.set = vram_size_set,
	.get = vram_size_get,
};
module_param_cb(vram_size, &vram_size_ops, NULL, 0444);
MODULE_PARM_DESC(vram_size, "Bytes of simulated VRAM per device, a multiple of 2M, 2M..64G (default 512M); a list (1G,256M) gives device i the i-th size, the last one to the rest");

/*
 * The names before the placements got theirs: scrub is driver, none is
 * alloc.  Kept through vramsim 2.0, removed after.
 */
static const char * const prepare_old_names[] = {
	[VRAMSIM_PREPARE_DRIVER] = "scrub",
	[VRAMSIM_PREPARE_ALLOC] = "none",
};

static int prepare = VRAMSIM_DEFAULT_PREPARE;

static int prepare_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(vramsim_prepare_names, val);

	if (i < 0)
		i = sysfs_match_string(prepare_old_names, val);
	if (i < 0) {
		pr_err(DRIVER_NAME ": prepare=%s: must be \"driver\", \"alloc\" or \"core\"\n",
		       val);
		return -EINVAL;
	}
	if (!vramsim_prepare_supported(i)) {
		if (i == VRAMSIM_PREPARE_CORE)
			pr_err(DRIVER_NAME ": prepare=%s: this kernel does not reset freed device folios before ->folio_free (VARIANT=core does)\n",
			       val);
		else
			pr_err(DRIVER_NAME ": prepare=%s: this kernel resets freed device folios before ->folio_free; prepare=core is its only policy\n",
			       val);
		return -EINVAL;
	}
	*(int *)kp->arg = i;
	return 0;
}

static int prepare_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", vramsim_prepare_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops prepare_ops = {
	.set = prepare_set,
	.get = prepare_get,
};
module_param_cb(prepare, &prepare_ops, &prepare, 0444);
MODULE_PARM_DESC(prepare, "Where a freed folio's struct pages are reset: driver (in ->folio_free, the default), alloc (left to the next allocation), core (before ->folio_free, the only one on a kernel that does it); scrub and none are the old names of driver and alloc");

static bool evict = true;
module_param(evict, bool, 0444);
MODULE_PARM_DESC(evict, "When VRAM is full, evict the oldest device memory to RAM (on, default) or move only what fits (off)");

/*
 * Every ioctl that reaches the VRAM does so inside drm_dev_enter(): a
 * device removed (num_devices lowered) tears its VRAM down after
 * drm_dev_unplug(), which waits for those sections, while files opened
 * before stay open and get -ENODEV.
 */
static int vramsim_ioctl_query(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	struct vramsim_device *vdev = to_vramsim(drm);
	struct drm_vramsim_query *q = data;
	int idx;

	/*
	 * _IOR: DRM copied nothing of the caller's in, *q is zeroed.  Every
	 * field is written all the same, @pad too, so that the reply never
	 * depends on that.
	 */
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	q->vram_size = vdev->vram.size;
	q->vram_free = vramsim_vram_free_bytes(&vdev->vram);
	q->device = vdev->index;
	q->pad = 0;
	drm_dev_exit(idx);
	return 0;
}

static int vramsim_migrate(struct drm_device *drm,
			   struct drm_vramsim_migrate *args, bool to_device)
{
	u64 end;
	int idx, err;

	/* Written back whatever happens: never echo the caller's bytes. */
	args->moved = 0;
	if (args->flags || args->pad || !args->length)
		return -EINVAL;
	if (!PAGE_ALIGNED(args->start) || !PAGE_ALIGNED(args->length))
		return -EINVAL;
	if (check_add_overflow(args->start, args->length, &end) ||
	    end > TASK_SIZE)
		return -EINVAL;
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	err = vramsim_migrate_range(&to_vramsim(drm)->vram, current->mm,
				    args->start, args->length, to_device,
				    &args->moved);
	drm_dev_exit(idx);
	return err;
}

static int vramsim_ioctl_migrate_to_device(struct drm_device *drm, void *data,
					   struct drm_file *file)
{
	return vramsim_migrate(drm, data, true);
}

static int vramsim_ioctl_migrate_to_ram(struct drm_device *drm, void *data,
					struct drm_file *file)
{
	return vramsim_migrate(drm, data, false);
}

/*
 * Entry 0 was STATS in uapi 1.x: left empty, drm_ioctl() answers it with
 * -EINVAL (no ->func), as it does numbers past the table.
 */
static const struct drm_ioctl_desc vramsim_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VRAMSIM_MIGRATE_TO_DEVICE, vramsim_ioctl_migrate_to_device,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VRAMSIM_MIGRATE_TO_RAM, vramsim_ioctl_migrate_to_ram,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VRAMSIM_QUERY, vramsim_ioctl_query, DRM_RENDER_ALLOW),
};

static const struct file_operations vramsim_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = drm_ioctl,
	.compat_ioctl = drm_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static const struct drm_driver vramsim_driver = {
	.driver_features = DRIVER_RENDER,
	.ioctls = vramsim_ioctls,
	.num_ioctls = ARRAY_SIZE(vramsim_ioctls),
	.fops = &vramsim_fops,
	.name = DRIVER_NAME,
	.desc = DRIVER_DESC,
	.major = DRIVER_MAJOR,
	.minor = DRIVER_MINOR,
};

/*
 * Create device @i: a faux device ("vramsim" for device 0, as when there
 * was only one, else "vramsim.<i>"), its DRM device and its VRAM, all
 * released with the faux device's resources.
 */
static int vramsim_device_create(unsigned int i)
{
	u64 size = vramsim_vram_size(i);
	struct vramsim_device *vdev;
	struct faux_device *faux;
	char name[24];
	int err;

	lockdep_assert_held(&vramsim_lock);

	if (i)
		snprintf(name, sizeof(name), DRIVER_NAME ".%u", i);
	else
		strscpy(name, DRIVER_NAME);
	faux = faux_device_create(name, NULL, NULL);
	if (!faux)
		return -ENODEV;

	if (!devres_open_group(&faux->dev, NULL, GFP_KERNEL)) {
		err = -ENOMEM;
		goto err_faux;
	}

	vdev = devm_drm_dev_alloc(&faux->dev, &vramsim_driver,
				  struct vramsim_device, drm);
	if (IS_ERR(vdev)) {
		err = PTR_ERR(vdev);
		goto err_devres;
	}
	vdev->faux = faux;
	vdev->index = i;

	err = devm_vramsim_dmem_init(&faux->dev, &vdev->vram, size, prepare);
	if (err) {
		drm_err(&vdev->drm, "cannot create %llu MiB of VRAM: %pe\n",
			size >> 20, ERR_PTR(err));
		goto err_devres;
	}
	vdev->vram.evict = evict;
	vdev->vram.peers = &vramsim_peers;

	vramsim_debugfs_init(vdev);

	/* Final step: expose the device to userspace and to its peers. */
	err = drm_dev_register(&vdev->drm, 0);
	if (err)
		goto err_devres;
	/*
	 * After the DRM device: a dmirror file's commands run inside
	 * drm_dev_enter(), which only drm_dev_unplug() closes.
	 */
	err = devm_vramsim_dmirror_init(vdev);
	if (err) {
		drm_err(&vdev->drm, "cannot create its dmirror node: %pe\n",
			ERR_PTR(err));
		drm_dev_unplug(&vdev->drm);
		goto err_devres;
	}
	rcu_assign_pointer(vramsim_peers.vram[i], &vdev->vram);
	vramsim_devices[i] = vdev;

	drm_info(&vdev->drm, "device %u: %llu MiB of simulated VRAM at pfn %#lx, prepare=%s, evict=%s\n",
		 i, size >> 20, vdev->vram.base_pfn, vramsim_prepare_names[prepare],
		 str_on_off(evict));
	return 0;

err_devres:
	devres_release_group(&faux->dev, NULL);
err_faux:
	faux_device_destroy(faux);
	return err;
}

/*
 * How long a removal through num_devices waits while no block of the
 * device's VRAM goes back to the buddy before it gives up.
 */
#define VRAMSIM_REMOVE_PATIENCE	(5 * HZ)

/*
 * Remove device @i.  Its VRAM's contents go back to RAM (the processes
 * that map them keep their data); files still open on its render node
 * get -ENODEV until they are closed.  With @patience (jiffies, see
 * vramsim_evict_all()), a removal that cannot move some of the memory to
 * RAM gives up, and the device stays as it was: -EBUSY, or -EINTR if the
 * caller was killed.  Without, it waits as long as it takes (module exit,
 * which cannot fail).
 */
static int vramsim_device_destroy(unsigned int i, unsigned long patience)
{
	struct vramsim_device *vdev = vramsim_devices[i];
	struct faux_device *faux = vdev->faux;
	int err;

	lockdep_assert_held(&vramsim_lock);

	/*
	 * Migrations to other devices stop looking for this one's pages, and
	 * those that already loaded its address finish with it before it
	 * goes (struct vramsim_peers); a page one of them took is referenced,
	 * and the eviction below waits for it.
	 */
	RCU_INIT_POINTER(vramsim_peers.vram[i], NULL);
	synchronize_srcu(&vramsim_peers_srcu);
	err = vramsim_evict_empty(&vdev->vram, patience);
	if (err) {
		rcu_assign_pointer(vramsim_peers.vram[i], &vdev->vram);
		drm_err(&vdev->drm, "device %u stays: %s its memory to RAM (%pe)\n",
			i, err == -EINTR ? "killed while moving" : "cannot move all of",
			ERR_PTR(err));
		return err;
	}
	vramsim_devices[i] = NULL;
	drm_dev_unplug(&vdev->drm);
	devres_release_group(&faux->dev, NULL);
	faux_device_destroy(faux);
	return 0;
}

/*
 * Create or remove devices until there are @n; a removal waits at most
 * @patience without progress (0: as long as it takes).
 */
static int vramsim_set_count(unsigned int n, unsigned long patience)
{
	int err = 0;

	lockdep_assert_held(&vramsim_lock);

	while (vramsim_count > n && !err) {
		err = vramsim_device_destroy(vramsim_count - 1, patience);
		if (!err)
			vramsim_count--;
	}
	while (vramsim_count < n && !err) {
		err = vramsim_device_create(vramsim_count);
		if (!err)
			vramsim_count++;
	}
	return err;
}

static unsigned int num_devices = 1;

/*
 * num_devices may be changed at runtime: devices past the new count are
 * removed (the highest first, their memory evicted to RAM), new ones are
 * created with their vram_size.  Before the module is initialised, the
 * value is only recorded.
 */
static int num_devices_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	if (kstrtouint(val, 0, &n) || n < 1 || n > VRAMSIM_MAX_DEVICES) {
		/* A write to sysfs ends in a newline: not in the message. */
		pr_err(DRIVER_NAME ": num_devices=%.*s: must be a number from 1 to %d\n",
		       (int)strcspn(val, "\n"), val, VRAMSIM_MAX_DEVICES);
		return -EINVAL;
	}
	mutex_lock(&vramsim_lock);
	if (!vramsim_live) {
		num_devices = n;
		err = 0;
	} else {
		err = vramsim_set_count(n, VRAMSIM_REMOVE_PATIENCE);
		if (err && vramsim_count > n)
			pr_err(DRIVER_NAME ": num_devices=%u: could remove devices only down to %u: %pe\n",
			       n, vramsim_count, ERR_PTR(err));
		else if (err)
			pr_err(DRIVER_NAME ": num_devices=%u: could create only %u devices: %pe\n",
			       n, vramsim_count, ERR_PTR(err));
		num_devices = vramsim_count;
	}
	mutex_unlock(&vramsim_lock);
	return err;
}

static const struct kernel_param_ops num_devices_ops = {
	.set = num_devices_set,
	.get = param_get_uint,
};
module_param_cb(num_devices, &num_devices_ops, &num_devices, 0644);
MODULE_PARM_DESC(num_devices, "Number of vramsim devices, 1..8 (default 1), each with its own VRAM and render node; writable: lowering it removes the last devices, evicting their memory to RAM");

static int __init vramsim_init(void)
{
	int err;

	err = vramsim_block_cache_init();
	if (err)
		return err;
	mutex_lock(&vramsim_lock);
	err = vramsim_set_count(num_devices, 0);
	if (err)
		vramsim_set_count(0, 0);
	else
		vramsim_live = true;
	mutex_unlock(&vramsim_lock);
	if (err)
		vramsim_block_cache_fini();
	return err;
}

static void __exit vramsim_exit(void)
{
	mutex_lock(&vramsim_lock);
	vramsim_live = false;
	vramsim_set_count(0, 0);
	mutex_unlock(&vramsim_lock);
	vramsim_block_cache_fini();
}

module_init(vramsim_init);
module_exit(vramsim_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
