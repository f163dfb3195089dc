// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: a DRM driver that simulates GPU VRAM without a GPU.
 *
 * One faux device, one DRM device with a render node, and behind it
 * simulated VRAM: device-private memory from the GPU buddy allocator
 * (vramsim_vram.c) that user memory can be migrated to (vramsim_migrate.c).
 */

#include <linux/device/faux.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/string_choices.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>

#include "vramsim_drv.h"
#include "vramsim_migrate.h"

/* Module parameters are validated when set, so a bad one fails modprobe. */

static u64 vram_size = SZ_512M;

static int vram_size_set(const char *val, const struct kernel_param *kp)
{
	char *end;
	u64 size;

	size = memparse(val, &end);
	if (end == val || (*end && *end != '\n')) {
		pr_err(DRIVER_NAME ": vram_size=%s is not a size; use e.g. 512M or 1G\n",
		       val);
		return -EINVAL;
	}
	if (size < VRAMSIM_MIN_SIZE || size > VRAMSIM_MAX_SIZE ||
	    !IS_ALIGNED(size, VRAMSIM_MIN_SIZE)) {
		pr_err(DRIVER_NAME ": vram_size=%s: must be a multiple of %luM from %luM to %lluG\n",
		       val, VRAMSIM_MIN_SIZE >> 20, VRAMSIM_MIN_SIZE >> 20,
		       VRAMSIM_MAX_SIZE >> 30);
		return -EINVAL;
	}
	*(u64 *)kp->arg = size;
	return 0;
}

static int vram_size_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%llu\n", *(u64 *)kp->arg);
}

static const struct kernel_param_ops vram_size_ops = {
	.set = vram_size_set,
	.get = vram_size_get,
};
module_param_cb(vram_size, &vram_size_ops, &vram_size, 0444);
MODULE_PARM_DESC(vram_size, "Bytes of simulated VRAM, a multiple of 2M, 2M..64G (default 512M)");

static const char * const prepare_names[] = {
	[VRAMSIM_PREPARE_SCRUB] = "scrub",
	[VRAMSIM_PREPARE_NONE] = "none",
};

static int prepare = VRAMSIM_PREPARE_SCRUB;

static int prepare_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(prepare_names, val);

	if (i < 0) {
		pr_err(DRIVER_NAME ": prepare=%s: must be \"scrub\" or \"none\"\n", val);
		return -EINVAL;
	}
	*(int *)kp->arg = i;
	return 0;
}

static int prepare_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", prepare_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops prepare_ops = {
	.set = prepare_set,
	.get = prepare_get,
};
module_param_cb(prepare, &prepare_ops, &prepare, 0444);
MODULE_PARM_DESC(prepare, "What folio_free does before a block is reused: scrub (reset every struct page, default) or none (leave it to the next allocation)");

static bool evict = true;
module_param(evict, bool, 0444);
MODULE_PARM_DESC(evict, "When VRAM is full, evict the oldest device memory to RAM (on, default) or move only what fits (off)");

static int vramsim_ioctl_stats(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	vramsim_vram_get_stats(&to_vramsim(drm)->vram, data);
	return 0;
}

static int vramsim_migrate(struct drm_device *drm,
			   struct drm_vramsim_migrate *args, bool to_device)
{
	u64 end;

	/* Written back whatever happens: never echo the caller's bytes. */
	args->moved = 0;
	if (args->flags || args->pad || !args->length)
		return -EINVAL;
	if (!PAGE_ALIGNED(args->start) || !PAGE_ALIGNED(args->length))
		return -EINVAL;
	if (check_add_overflow(args->start, args->length, &end) ||
	    end > TASK_SIZE)
		return -EINVAL;
	return vramsim_migrate_range(&to_vramsim(drm)->vram, current->mm,
				     args->start, args->length, to_device,
				     &args->moved);
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

static const struct drm_ioctl_desc vramsim_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VRAMSIM_STATS, vramsim_ioctl_stats, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VRAMSIM_MIGRATE_TO_DEVICE, vramsim_ioctl_migrate_to_device,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VRAMSIM_MIGRATE_TO_RAM, vramsim_ioctl_migrate_to_ram,
			  DRM_RENDER_ALLOW),
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

static struct vramsim_device *vramsim;

static int __init vramsim_init(void)
{
	struct faux_device *faux;
	struct vramsim_device *vdev;
	int err;

	faux = faux_device_create(DRIVER_NAME, NULL, NULL);
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

	err = devm_vramsim_vram_init(&faux->dev, &vdev->vram, vram_size, prepare);
	if (err) {
		drm_err(&vdev->drm, "cannot create %llu MiB of VRAM: %pe\n",
			vram_size >> 20, ERR_PTR(err));
		goto err_devres;
	}
	vdev->vram.evict = evict;

	vramsim_debugfs_init(vdev);

	/* Final step: expose the device to userspace. */
	err = drm_dev_register(&vdev->drm, 0);
	if (err)
		goto err_devres;

	vramsim = vdev;
	drm_info(&vdev->drm, "%llu MiB of simulated VRAM at pfn %#lx, prepare=%s, evict=%s\n",
		 vram_size >> 20, vdev->vram.base_pfn, prepare_names[prepare],
		 str_on_off(evict));
	return 0;

err_devres:
	devres_release_group(&faux->dev, NULL);
err_faux:
	faux_device_destroy(faux);
	return err;
}

static void __exit vramsim_exit(void)
{
	struct faux_device *faux = vramsim->faux;

	drm_dev_unregister(&vramsim->drm);
	devres_release_group(&faux->dev, NULL);
	faux_device_destroy(faux);
}

module_init(vramsim_init);
module_exit(vramsim_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
