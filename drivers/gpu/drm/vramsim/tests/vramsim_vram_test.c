// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for vramsim's VRAM backend, run against a real
 * MEMORY_DEVICE_PRIVATE page map: the state of every struct page and of the
 * buddy allocator after init, allocation, free and teardown.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "../vramsim_vram.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define ORDER_2M	VRAMSIM_MAX_ORDER
#define PAGES_2M	(1UL << ORDER_2M)

struct vramsim_test {
	struct vramsim_vram vram;
	bool live;
	/* A struct page exactly as memremap_pages() left it. */
	struct page pristine;
};

static void vramsim_test_fini(struct vramsim_test *t)
{
	if (t->live)
		vramsim_vram_fini(&t->vram);
	t->live = false;
}

static void vramsim_test_release(void *t)
{
	vramsim_test_fini(t);
}

/* VRAM of @size bytes on a KUnit device, torn down when the test ends. */
static struct vramsim_test *vramsim_test_init(struct kunit *test, u64 size,
					      enum vramsim_prepare prepare)
{
	struct vramsim_test *t;
	struct device *dev;
	int err;

	dev = kunit_device_register(test, "vramsim-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);

	err = vramsim_vram_init(&t->vram, dev, size, prepare);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "vramsim_vram_init: %pe", ERR_PTR(err));
	t->live = true;
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, vramsim_test_release, t));

	memcpy(&t->pristine, pfn_to_page(t->vram.base_pfn), sizeof(struct page));
	return t;
}

static unsigned long vram_pages(struct vramsim_vram *vram)
{
	return vram->size >> PAGE_SHIFT;
}

/* Count pages of [pfn, pfn + nr) that differ from the pristine snapshot. */
static unsigned long count_dirty_pages(struct kunit *test, struct vramsim_test *t,
				       unsigned long pfn, unsigned long nr)
{
	unsigned long i, dirty = 0;

	for (i = 0; i < nr; i++) {
		struct page *p = pfn_to_page(pfn + i);

		if (!memcmp(p, &t->pristine, sizeof(*p)))
			continue;
		if (dirty++ < 3)
			kunit_info(test,
				   "pfn %#lx (+%lu) not pristine: flags %#lx pgmap/head %#lx data %p mapping %p index %#lx private %#lx mapcount %d refcount %d",
				   pfn + i, i, p->flags.f, p->compound_info,
				   p->zone_device_data, p->mapping,
				   p->__folio_index, p->private,
				   atomic_read(&p->_mapcount), page_ref_count(p));
	}
	return dirty;
}

static struct folio *alloc_unlocked(struct kunit *test, struct vramsim_vram *vram,
				    unsigned int order)
{
	struct folio *folio = vramsim_vram_alloc_folio(vram, order);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	return folio;
}

static void vramsim_test_init_pristine(struct kunit *test)
{
	struct vramsim_test *t = vramsim_test_init(test, SZ_32M, VRAMSIM_PREPARE_SCRUB);
	struct vramsim_vram *vram = &t->vram;
	struct page *p = &t->pristine;
	unsigned long i;

	/* The snapshot itself: a standalone device-private page of ours. */
	KUNIT_EXPECT_EQ(test, page_ref_count(p), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&p->_mapcount), -1);
	KUNIT_EXPECT_EQ(test, p->flags.f & PAGEFLAGS_MASK, BIT(PG_reserved));
	KUNIT_EXPECT_PTR_EQ(test, ((struct folio *)p)->pgmap, &vram->pgmap);
	KUNIT_EXPECT_NULL(test, p->zone_device_data);
	KUNIT_EXPECT_NULL(test, p->mapping);

	for (i = 0; i < vram_pages(vram); i++) {
		struct page *page = pfn_to_page(vram->base_pfn + i);

		if (PageHead(page) || PageTail(page) ||
		    page_folio(page) != (struct folio *)page ||
		    page_pgmap(page) != &vram->pgmap ||
		    !is_device_private_page(page) || page_ref_count(page)) {
			KUNIT_FAIL(test, "pfn %#lx is not a standalone device-private page",
				   vram->base_pfn + i);
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, count_dirty_pages(test, t, vram->base_pfn,
						vram_pages(vram)), 0);
	KUNIT_EXPECT_EQ(test, vram->mm.size, (u64)SZ_32M);
	KUNIT_EXPECT_EQ(test, vramsim_vram_free_bytes(vram), (u64)SZ_32M);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(vram->base_pfn, PAGES_2M));
}

static void vramsim_test_teardown(struct kunit *test)
{
	struct vramsim_test *t = vramsim_test_init(test, SZ_16M, VRAMSIM_PREPARE_SCRUB);
	struct vramsim_vram *vram = &t->vram;
	unsigned long base_pfn = vram->base_pfn;
	resource_size_t start = vram->pgmap.range.start;
	struct dev_pagemap *pgmap;
	struct folio *f0, *f9;
	struct resource *res;

	/* Use it, then tear it down: nothing may be left behind. */
	f0 = alloc_unlocked(test, vram, 0);
	f9 = alloc_unlocked(test, vram, ORDER_2M);
	folio_put(f0);
	folio_put(f9);
	vramsim_vram_drain(vram);
	KUNIT_EXPECT_EQ(test, vramsim_vram_free_bytes(vram), vram->size);

	vramsim_test_fini(t);

	pgmap = get_dev_pagemap(base_pfn);
	KUNIT_EXPECT_NULL(test, pgmap);
	if (pgmap)
		put_dev_pagemap(pgmap);

	/* The physical range is free again. */
	res = request_mem_region(start, SZ_16M, "vramsim-kunit-check");
	KUNIT_EXPECT_NOT_NULL(test, res);
	if (res)
		release_mem_region(start, SZ_16M);
}

static void check_alloc_free(struct kunit *test, unsigned int order)
{
	struct vramsim_test *t = vramsim_test_init(test, SZ_32M, VRAMSIM_PREPARE_SCRUB);
	struct vramsim_vram *vram = &t->vram;
	unsigned long nr = 1UL << order, i, pfn;
	struct drm_vramsim_stats s;
	struct folio *folio;

	folio = vramsim_vram_alloc_folio(vram, order);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	pfn = folio_pfn(folio);

	KUNIT_EXPECT_EQ(test, folio_order(folio), order);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 1);
	KUNIT_EXPECT_TRUE(test, folio_test_locked(folio));
	KUNIT_EXPECT_TRUE(test, folio_is_device_private(folio));
	KUNIT_EXPECT_PTR_EQ(test, folio->pgmap, &vram->pgmap);
	KUNIT_EXPECT_NOT_NULL(test, folio_zone_device_data(folio));
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(pfn - vram->base_pfn, nr));
	for (i = 1; i < nr; i++) {
		if (page_folio(pfn_to_page(pfn + i)) != folio) {
			KUNIT_FAIL(test, "page %lu of the folio is not its tail", i);
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, vramsim_vram_free_bytes(vram), vram->size - (PAGE_SIZE << order));

	vramsim_vram_get_stats(vram, &s);
	KUNIT_EXPECT_EQ(test, s.live_folios[order], 1);
	KUNIT_EXPECT_EQ(test, s.allocs[order], 1);

	folio_unlock(folio);
	folio_put(folio);
	vramsim_vram_drain(vram);

	KUNIT_EXPECT_EQ(test, vramsim_vram_free_bytes(vram), vram->size);
	KUNIT_EXPECT_EQ(test, count_dirty_pages(test, t, pfn, nr), 0);
	vramsim_vram_get_stats(vram, &s);
	KUNIT_EXPECT_EQ(test, s.live_folios[order], 0);
	KUNIT_EXPECT_EQ(test, s.frees[order], 1);
	KUNIT_EXPECT_EQ(test, s.pending_frees, 0);
}

static void vramsim_test_alloc_free_order0(struct kunit *test)
{
	check_alloc_free(test, 0);
}

static void vramsim_test_alloc_free_order9(struct kunit *test)
{
	check_alloc_free(test, ORDER_2M);
}

static struct kunit_case vramsim_vram_cases[] = {
	KUNIT_CASE(vramsim_test_init_pristine),
	KUNIT_CASE(vramsim_test_teardown),
	KUNIT_CASE(vramsim_test_alloc_free_order0),
	KUNIT_CASE(vramsim_test_alloc_free_order9),
	{}
};

static struct kunit_suite vramsim_vram_suite = {
	.name = "vramsim",
	.test_cases = vramsim_vram_cases,
};

kunit_test_suite(vramsim_vram_suite);

MODULE_DESCRIPTION("KUnit tests for vramsim's VRAM backend");
MODULE_LICENSE("GPL");
