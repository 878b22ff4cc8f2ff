"""Radix depth sort: same order as a stable np.argsort, negatives and duplicates included."""

import numpy as np

from engine.prepare.sort import RadixSorter


def test_argsort_matches_stable_numpy_argsort():
    rng = np.random.default_rng(0)
    sorter = RadixSorter(100_000)
    out = np.zeros(100_000, np.int32)
    for values in (rng.uniform(0.4, 0.8, 100_000), rng.normal(0, 100, 50_000), rng.integers(-3, 3, 1000) * 0.5,
                   np.array([3.0, -1.0, np.inf, -np.inf, 1e-30, -1e-30, 2.0]), np.zeros(0)):
        values = values.astype(np.float32)
        values[values == 0] = 0.0  # canonical +0: -0.0 sorts just before +0.0 in key order
        np.testing.assert_array_equal(sorter.argsort(values, out), np.argsort(values, kind="stable"))


def test_sort_visible_returns_only_visible_indices_front_to_back():
    rng = np.random.default_rng(1)
    depths = rng.uniform(0.5, 0.7, 1000).astype(np.float32)
    visible = (rng.random(1000) < 0.7).astype(np.uint8)
    order = np.zeros(1000, np.int32)
    count = RadixSorter(1000).sort_visible(depths, visible, order)
    idx = np.flatnonzero(visible)
    assert count == len(idx)
    np.testing.assert_array_equal(order[:count], idx[np.argsort(depths[idx], kind="stable")])


def test_equal_depths_keep_index_order():
    out = np.zeros(5, np.int32)
    np.testing.assert_array_equal(RadixSorter(5).argsort(np.full(5, 0.7, np.float32), out), np.arange(5))


def test_two_pass_sort_packs_indices_up_to_its_limit_and_falls_back_beyond():
    # a head's depths span < 2²⁴ key values: two passes, which pack (digit, index) into one uint32 for up to
    # 2²⁰ keys; one key more takes the general path. Both must equal a stable argsort (duplicates included).
    from engine.prepare.sort import INDEX_MASK

    rng = np.random.default_rng(3)
    for n in (INDEX_MASK + 1, INDEX_MASK + 2):
        values = np.round(rng.uniform(0.55, 0.95, n), 4).astype(np.float32)  # ~4000 distinct: many ties
        out = np.zeros(n, np.int32)
        np.testing.assert_array_equal(RadixSorter(n).argsort(values, out), np.argsort(values, kind="stable"))
