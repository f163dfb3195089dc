// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: the dmirror interface, a char device per vramsim device that
 * speaks the ioctls of lib/test_hmm_uapi.h (Linux 7.3), so that the
 * upstream hmm-tests runs, unmodified, against vramsim's VRAM.
 *
 * /dev/vramsim_dmirrorN, device N's; a test runner links the names
 * hmm-tests opens (/dev/hmm_dmirror0 and 1) to them.  Each open file is a
 * device address space of the opener's process (vramsim_mirror.c): device
 * reads and writes, snapshots of the CPU's page table, atomic (exclusive)
 * access, and migrations with test_hmm's rules, which differ from the
 * render node's: a private file mapping's anonymous pages migrate, a page
 * on another device stays there, and the answer is every page or -ENOENT.
 *
 * Root only (mode 0600): a test interface.
 */

#include <linux/device/faux.h>
#include <linux/hmm.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>

#include "vramsim_device.h"
#include "vramsim_dmirror.h"
#include "vramsim_evict.h"
#include "vramsim_mirror.h"

/* The ABI of lib/test_hmm_uapi.h: the same numbers and layout. */
struct vramsim_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

static_assert(sizeof(struct vramsim_dmirror_cmd) == 40);

#define VRAMSIM_DMIRROR_READ		_IOWR('H', 0x00, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_WRITE		_IOWR('H', 0x01, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_MIGRATE_TO_DEV	_IOWR('H', 0x02, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_MIGRATE_TO_SYS	_IOWR('H', 0x03, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_SNAPSHOT	_IOWR('H', 0x04, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_EXCLUSIVE	_IOWR('H', 0x05, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_CHECK_EXCLUSIVE	_IOWR('H', 0x06, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_RELEASE		_IOWR('H', 0x07, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_FLAGS		_IOWR('H', 0x08, struct vramsim_dmirror_cmd)
#define VRAMSIM_DMIRROR_READ_UNLOCKED	_IOWR('H', 0x09, struct vramsim_dmirror_cmd)

#define VRAMSIM_DMIRROR_FLAG_FAIL_ALLOC	BIT_ULL(0)

/* SNAPSHOT's byte per page. */
#define VRAMSIM_DMIRROR_PROT_ERROR		0xff
#define VRAMSIM_DMIRROR_PROT_NONE		0x00
#define VRAMSIM_DMIRROR_PROT_READ		0x01
#define VRAMSIM_DMIRROR_PROT_WRITE		0x02
#define VRAMSIM_DMIRROR_PROT_PMD		0x04
#define VRAMSIM_DMIRROR_PROT_PUD		0x08
#define VRAMSIM_DMIRROR_PROT_ZERO		0x10
#define VRAMSIM_DMIRROR_PROT_DEV_PRIVATE_LOCAL	0x20

/**
 * struct vramsim_dmirror_file - an open dmirror file
 * @vdev: the device, referenced (drm_dev_get()) while the file is open
 * @mirror: the device's page table of the opener's address space
 * @flags: bit 0 is FLAGS' FAIL_ALLOC: the next allocation of a
 *	destination by this file's migrations fails (one shot)
 */
struct vramsim_dmirror_file {
	struct vramsim_device *vdev;
	struct vramsim_mirror mirror;
	unsigned long flags;
};

static int vramsim_dmirror_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct vramsim_device *vdev = container_of(misc, struct vramsim_device,
						   dmirror);
	struct vramsim_dmirror_file *f;
	int idx, err;

	/* A device address space is a process's: a kernel thread has none. */
	if (!current->mm)
		return -EINVAL;
	if (!drm_dev_enter(&vdev->drm, &idx))
		return -ENODEV;
	f = kzalloc_obj(*f);
	err = f ? vramsim_mirror_init(&f->mirror, &vdev->vram, current->mm) :
		  -ENOMEM;
	if (err) {
		kfree(f);
		drm_dev_exit(idx);
		return err;
	}
	f->vdev = vdev;
	drm_dev_get(&vdev->drm);
	drm_dev_exit(idx);
	file->private_data = f;
	return 0;
}

static int vramsim_dmirror_release(struct inode *inode, struct file *file)
{
	struct vramsim_dmirror_file *f = file->private_data;

	/* Nothing is evicted: another process may still use the pages. */
	vramsim_mirror_fini(&f->mirror);
	drm_dev_put(&f->vdev->drm);
	kfree(f);
	return 0;
}

/*
 * The commands work on a kernel buffer (@buf: @npages pages, or for
 * SNAPSHOT @npages bytes), inside drm_dev_enter(); the ioctl copies it
 * from and to the caller's outside, so that a removal of the device never
 * waits for a user copy (a userfaultfd could hold one for ever).
 */

static int vramsim_dmirror_migrate(struct vramsim_dmirror_file *f,
				   struct vramsim_dmirror_cmd *c, void *buf,
				   bool to_device)
{
	const struct vramsim_migrate_opts opts = {
		.any_vma = true,
		.no_peers = true,
		.thp = true,
		.fail_alloc = &f->flags,
	};
	u64 moved;
	int ret;

	ret = vramsim_mirror_migrate(&f->mirror, &opts, c->addr, c->npages,
				     to_device, &moved);
	if (!to_device) {
		if (!ret)
			c->cpages = moved >> PAGE_SHIFT;
		return ret;
	}
	/* A full VRAM is no error here: what did not move answers -ENOENT. */
	if (ret && ret != -ENOSPC)
		return ret;
	ret = vramsim_mirror_map_local(&f->mirror, c->addr, c->npages);
	return ret ?: vramsim_mirror_copy(&f->mirror, c->addr, c->npages, buf);
}

static u8 vramsim_dmirror_prot(struct vramsim_dmirror_file *f,
			       unsigned long hmm_pfn)
{
	unsigned long pfn = vramsim_hmm_pfn(hmm_pfn);
	unsigned int order;
	u8 prot;

	if (hmm_pfn & HMM_PFN_ERROR)
		return VRAMSIM_DMIRROR_PROT_ERROR;
	if (!(hmm_pfn & HMM_PFN_VALID))
		return VRAMSIM_DMIRROR_PROT_NONE;

	/*
	 * Another device's page is not VALID: hmm_range_fault() reports only
	 * the pages of the owner it is given, this VRAM.
	 */
	if (vramsim_vram_has_pfn(&f->vdev->vram, pfn))
		prot = VRAMSIM_DMIRROR_PROT_DEV_PRIVATE_LOCAL;
	else if (is_zero_pfn(pfn))
		prot = VRAMSIM_DMIRROR_PROT_ZERO;
	else
		prot = VRAMSIM_DMIRROR_PROT_NONE;
	prot |= hmm_pfn & HMM_PFN_WRITE ? VRAMSIM_DMIRROR_PROT_WRITE :
					  VRAMSIM_DMIRROR_PROT_READ;
	order = hmm_pfn_to_map_order(hmm_pfn);
	if (order + PAGE_SHIFT == PMD_SHIFT)
		prot |= VRAMSIM_DMIRROR_PROT_PMD;
	else if (order + PAGE_SHIFT == PUD_SHIFT)
		prot |= VRAMSIM_DMIRROR_PROT_PUD;
	return prot;
}

static int vramsim_dmirror_snapshot(struct vramsim_dmirror_file *f,
				    struct vramsim_dmirror_cmd *c, u8 *prot)
{
	unsigned long addr = c->addr, end = c->addr + (c->npages << PAGE_SHIFT);
	unsigned long *pfns;
	int ret = 0;

	pfns = kmalloc_array(VRAMSIM_MIRROR_WINDOW, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	while (addr < end) {
		unsigned long next = vramsim_mirror_window_end(addr, end);
		unsigned long i, n = (next - addr) >> PAGE_SHIFT;

		ret = vramsim_mirror_snapshot(&f->mirror, addr, n, pfns);
		if (ret)
			break;
		for (i = 0; i < n; i++)
			*prot++ = vramsim_dmirror_prot(f, pfns[i]);
		addr = next;
	}
	kfree(pfns);
	if (!ret)
		c->cpages = c->npages;
	return ret;
}

static int vramsim_dmirror_cmd(struct vramsim_dmirror_file *f,
			       unsigned int cmd, struct vramsim_dmirror_cmd *c,
			       void *buf)
{
	struct vramsim_mirror *m = &f->mirror;
	int ret;

	switch (cmd) {
	case VRAMSIM_DMIRROR_READ:
	case VRAMSIM_DMIRROR_READ_UNLOCKED:
	case VRAMSIM_DMIRROR_WRITE:
		ret = vramsim_mirror_access(m, c->addr, c->npages, buf,
					    cmd == VRAMSIM_DMIRROR_WRITE,
					    cmd == VRAMSIM_DMIRROR_READ_UNLOCKED,
					    &c->faults);
		break;
	case VRAMSIM_DMIRROR_MIGRATE_TO_DEV:
		ret = vramsim_dmirror_migrate(f, c, buf, true);
		break;
	case VRAMSIM_DMIRROR_MIGRATE_TO_SYS:
		return vramsim_dmirror_migrate(f, c, NULL, false);
	case VRAMSIM_DMIRROR_SNAPSHOT:
		return vramsim_dmirror_snapshot(f, c, buf);
	case VRAMSIM_DMIRROR_EXCLUSIVE:
		ret = vramsim_mirror_exclusive(m, c->addr, c->npages) ?:
		      vramsim_mirror_copy(m, c->addr, c->npages, buf);
		break;
	case VRAMSIM_DMIRROR_CHECK_EXCLUSIVE:
		return vramsim_mirror_any_atomic(m, c->addr, c->npages) ?
		       -EPERM : 0;
	case VRAMSIM_DMIRROR_RELEASE:
		vramsim_evict_release(&f->vdev->vram);
		return 0;
	default:
		return -EINVAL;
	}
	if (!ret)
		c->cpages = c->npages;
	return ret;
}

/*
 * The kernel buffer of a command, and how it is copied: from the caller's
 * before the command (WRITE), to it after (READ, MIGRATE_TO_DEV, SNAPSHOT,
 * EXCLUSIVE), or not at all.
 */
static int vramsim_dmirror_buf(unsigned int cmd, u64 npages, size_t *len,
			       bool *in, bool *out)
{
	*in = false;
	*out = true;
	*len = npages << PAGE_SHIFT;
	switch (cmd) {
	case VRAMSIM_DMIRROR_WRITE:
		*in = true;
		*out = false;
		return 0;
	case VRAMSIM_DMIRROR_READ:
	case VRAMSIM_DMIRROR_READ_UNLOCKED:
	case VRAMSIM_DMIRROR_MIGRATE_TO_DEV:
	case VRAMSIM_DMIRROR_EXCLUSIVE:
		return 0;
	case VRAMSIM_DMIRROR_SNAPSHOT:
		*len = npages;
		return 0;
	case VRAMSIM_DMIRROR_MIGRATE_TO_SYS:
	case VRAMSIM_DMIRROR_CHECK_EXCLUSIVE:
	case VRAMSIM_DMIRROR_RELEASE:
		*out = false;
		*len = 0;
		return 0;
	}
	return -EINVAL;
}

/*
 * test_hmm's rules: the command is read whole; the range must be page
 * aligned and not empty; FLAGS takes its flag word in @npages (0 disarms,
 * an unknown bit is -EINVAL); on failure nothing is written back, neither
 * the command nor the buffer it points to.
 */
static long vramsim_dmirror_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct vramsim_dmirror_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct vramsim_dmirror_cmd c;
	void *buf = NULL;
	bool in, out;
	size_t len;
	int idx, ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	c.cpages = 0;
	c.faults = 0;

	if (cmd == VRAMSIM_DMIRROR_FLAGS) {
		if (c.npages & ~VRAMSIM_DMIRROR_FLAG_FAIL_ALLOC)
			return -EINVAL;
		assign_bit(0, &f->flags,
			   c.npages & VRAMSIM_DMIRROR_FLAG_FAIL_ALLOC);
		return copy_to_user(uarg, &c, sizeof(c)) ? -EFAULT : 0;
	}

	if (!PAGE_ALIGNED(c.addr) || c.addr >= TASK_SIZE || !c.npages ||
	    c.npages > (TASK_SIZE - c.addr) >> PAGE_SHIFT)
		return -EINVAL;
	ret = vramsim_dmirror_buf(cmd, c.npages, &len, &in, &out);
	if (ret)
		return ret;
	if (len) {
		/* At most the address space: kvmalloc() fails, quietly. */
		buf = kvmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!buf)
			return -ENOMEM;
	}
	if (in && copy_from_user(buf, u64_to_user_ptr(c.ptr), len)) {
		ret = -EFAULT;
		goto out;
	}

	if (!drm_dev_enter(&f->vdev->drm, &idx)) {
		ret = -ENODEV;
		goto out;
	}
	ret = vramsim_dmirror_cmd(f, cmd, &c, buf);
	drm_dev_exit(idx);

	if (!ret && out && copy_to_user(u64_to_user_ptr(c.ptr), buf, len))
		ret = -EFAULT;
	if (!ret && copy_to_user(uarg, &c, sizeof(c)))
		ret = -EFAULT;
out:
	kvfree(buf);
	return ret;
}

/*
 * mmap of the file: zeroed system pages, inserted as normal pages of a
 * mixed mapping (hmm-tests' "mixedmap" reads them through the device).
 */
static int vramsim_dmirror_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long addr;

	for (addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
		struct page *page;
		int ret;

		/* The caller's: charged, and a killed caller stops. */
		if (fatal_signal_pending(current))
			return -EINTR;
		page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!page)
			return -ENOMEM;
		ret = vm_insert_page(vma, addr, page);
		/* The mapping holds its own reference. */
		put_page(page);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct file_operations vramsim_dmirror_fops = {
	.owner = THIS_MODULE,
	.open = vramsim_dmirror_open,
	.release = vramsim_dmirror_release,
	.unlocked_ioctl = vramsim_dmirror_ioctl,
	.mmap = vramsim_dmirror_mmap,
	.llseek = default_llseek,
};

static void vramsim_dmirror_unregister(void *misc)
{
	misc_deregister(misc);
}

/**
 * devm_vramsim_dmirror_init() - create a device's dmirror node
 * @vdev: the device, with its VRAM
 *
 * /dev/vramsim_dmirrorN for device N, removed with @vdev's faux device.
 * Files opened before a removal stay open and get -ENODEV.
 *
 * Return: 0 or -errno.
 */
int devm_vramsim_dmirror_init(struct vramsim_device *vdev)
{
	struct miscdevice *misc = &vdev->dmirror;
	int err;

	snprintf(vdev->dmirror_name, sizeof(vdev->dmirror_name),
		 "vramsim_dmirror%u", vdev->index);
	misc->minor = MISC_DYNAMIC_MINOR;
	misc->name = vdev->dmirror_name;
	misc->fops = &vramsim_dmirror_fops;
	misc->mode = 0600;
	err = misc_register(misc);
	if (err)
		return err;
	return devm_add_action_or_reset(&vdev->faux->dev,
					vramsim_dmirror_unregister, misc);
}
