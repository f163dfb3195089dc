// SPDX-License-Identifier: GPL-2.0-only
/*
 * vramsim: debugfs files, in /sys/kernel/debug/dri/<device>/.
 *
 *   vram    the buddy allocator's state and the driver's counters, for
 *           people
 *   stats   the counters for programs: one "key: value" per line, per
 *           order arrays as "key: v0 v1 ... v9" (what uapi 1.x's STATS
 *           ioctl returned; not ABI)
 *   bench   write "<order> <count> [<threads>]": benchmark the free path
 *           of <count> device folios of <order> on a private VRAM
 *           instance of the device's size, and with <threads>, on that
 *           many CPUs at once (see vramsim_bench.c); read: key=value
 *           timings of the last run
 *   evict_hold_ms
 *           for tests: milliseconds an eviction waits between unmapping
 *           its folios and moving them (0 to 1000; 0, the default: no
 *           wait), so that a test can munmap or exit in that window
 */

#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_print.h>

#include "vramsim_bench.h"
#include "vramsim_debugfs.h"
#include "vramsim_device.h"
#include "vramsim_vram.h"

static int vramsim_vram_show(struct seq_file *m, void *unused)
{
	struct drm_debugfs_entry *entry = m->private;
	struct drm_printer p = drm_seq_file_printer(m);

	vramsim_vram_print(&to_vramsim(entry->dev)->vram, &p);
	return 0;
}

static void vramsim_stats_seq_orders(struct seq_file *m, const char *key,
				     const u64 *v)
{
	int i;

	seq_printf(m, "%s:", key);
	for (i = 0; i < VRAMSIM_NR_ORDERS; i++)
		seq_printf(m, " %llu", v[i]);
	seq_putc(m, '\n');
}

static int vramsim_stats_show(struct seq_file *m, void *unused)
{
	struct drm_debugfs_entry *entry = m->private;
	struct vramsim_device *vdev = to_vramsim(entry->dev);
	struct vramsim_vram_stats s;

	vramsim_vram_get_stats(&vdev->vram, &s);
	seq_printf(m, "prepare: %s\n", vramsim_prepare_names[s.prepare]);
	seq_printf(m, "vram_size: %llu\n", s.vram_size);
	seq_printf(m, "vram_free: %llu\n", s.vram_free);
	seq_printf(m, "pending_frees: %llu\n", s.pending_frees);
	seq_printf(m, "splits: %llu\n", s.splits);
	vramsim_stats_seq_orders(m, "live_folios", s.live_folios);
	vramsim_stats_seq_orders(m, "allocs", s.allocs);
	vramsim_stats_seq_orders(m, "frees", s.frees);
	seq_printf(m, "evictions: %llu\n", s.evictions);
	seq_printf(m, "evicted_bytes: %llu\n", s.evicted_bytes);
	seq_printf(m, "evict_skipped: %llu\n", s.evict_skipped);
	seq_printf(m, "evict_no_ram: %llu\n", s.evict_no_ram);
	seq_printf(m, "evict_split: %llu\n", s.evict_split);
	seq_printf(m, "peer_bytes: %llu\n", s.peer_bytes);
	seq_printf(m, "device: %u\n", vdev->index);
	return 0;
}

static const struct drm_debugfs_info vramsim_debugfs_files[] = {
	{ "vram", vramsim_vram_show, 0 },
	{ "stats", vramsim_stats_show, 0 },
};

static int vramsim_bench_show(struct seq_file *m, void *unused)
{
	struct vramsim_device *vdev = m->private;
	struct vramsim_bench_result *r = &vdev->bench.last;
	int p;

	mutex_lock(&vdev->bench.lock);
	if (vdev->bench.valid) {
		seq_printf(m, "order=%u count=%lu bytes=%lu",
			   r->order, r->count, r->count << (PAGE_SHIFT + r->order));
		for (p = 0; p < VRAMSIM_NR_PREPARE; p++) {
			const char *name = vramsim_prepare_names[p];

			if (!vramsim_prepare_supported(p))
				continue;
			seq_printf(m, " %s_alloc_ns=%llu %s_free_ns=%llu %s_return_ns=%llu",
				   name, r->path[p].alloc_ns, name, r->path[p].free_ns,
				   name, r->path[p].return_ns);
		}
		seq_printf(m, " prepare_ns=%llu buddy_alloc_ns=%llu buddy_free_ns=%llu core_alone_ns=%llu",
			   r->prepare_ns, r->buddy_alloc_ns, r->buddy_free_ns,
			   r->core_free_ns);
		if (r->threads)
			seq_printf(m, " threads=%u parallel_free_ns=%llu",
				   r->threads, r->parallel_free_ns);
		seq_putc(m, '\n');
	} else {
		seq_puts(m, "no run yet; write \"<order> <count>\" to run\n");
	}
	mutex_unlock(&vdev->bench.lock);
	return 0;
}

static int vramsim_bench_open(struct inode *inode, struct file *file)
{
	return single_open(file, vramsim_bench_show, inode->i_private);
}

static ssize_t vramsim_bench_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *pos)
{
	struct vramsim_device *vdev = file_inode(file)->i_private;
	struct vramsim_bench_result res;
	unsigned int order, threads = 0;
	unsigned long count;
	char buf[48];
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%u %lu %u", &order, &count, &threads) < 2)
		return -EINVAL;

	mutex_lock(&vdev->bench.lock);
	err = vramsim_bench_run(vdev->vram.dev, vdev->vram.size, order, count,
				threads, &res);
	if (!err) {
		vdev->bench.last = res;
		vdev->bench.valid = true;
	}
	mutex_unlock(&vdev->bench.lock);
	return err ?: len;
}

static const struct file_operations vramsim_bench_fops = {
	.owner = THIS_MODULE,
	.open = vramsim_bench_open,
	.read = seq_read,
	.write = vramsim_bench_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int vramsim_evict_hold_get(void *data, u64 *val)
{
	struct vramsim_vram *vram = data;

	*val = READ_ONCE(vram->evict_hold_ms);
	return 0;
}

static int vramsim_evict_hold_set(void *data, u64 val)
{
	struct vramsim_vram *vram = data;

	if (val > VRAMSIM_EVICT_HOLD_MAX_MS)
		return -EINVAL;
	WRITE_ONCE(vram->evict_hold_ms, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(vramsim_evict_hold_fops, vramsim_evict_hold_get,
			 vramsim_evict_hold_set, "%llu\n");

/**
 * vramsim_debugfs_init() - create vramsim's debugfs files
 * @vdev: the device, not yet registered
 */
void vramsim_debugfs_init(struct vramsim_device *vdev)
{
	mutex_init(&vdev->bench.lock);
	drm_debugfs_add_files(&vdev->drm, vramsim_debugfs_files,
			      ARRAY_SIZE(vramsim_debugfs_files));
	debugfs_create_file("bench", 0600, vdev->drm.debugfs_root, vdev,
			    &vramsim_bench_fops);
	debugfs_create_file_unsafe("evict_hold_ms", 0600, vdev->drm.debugfs_root,
				   &vdev->vram, &vramsim_evict_hold_fops);
}
