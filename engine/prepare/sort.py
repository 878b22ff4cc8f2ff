"""Depth ordering: compaction of visible splats and an LSD radix sort of float32 keys (numba).

Float keys become order-preserving uint32s (flip the sign bit of positives, every bit of negatives).
Digits (12 bits) are taken of the keys minus their minimum, one histogram pass counts all digits,
and only as many scatter passes run as the key range needs — the depths of one head span under 2²⁴
key values, so 2 passes run, and for up to 2²⁰ keys the first moves (second digit, index) packed in one
uint32. LSD is stable, so equal
depths keep index order (as ``np.argsort(kind="stable")``). All scratch is preallocated by
:class:`RadixSorter`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

DIGIT_BITS = 12
BUCKETS = 1 << DIGIT_BITS
PASSES = 3  # 12 + 12 + 8 bits at most


@nb.njit(cache=True, nogil=True)
def sortable_bits(bits):
    """uint32 whose unsigned order is the float order of the float32 with these ``bits``."""
    if bits & np.uint32(0x80000000):
        return ~bits
    return bits | np.uint32(0x80000000)


@nb.njit(cache=True, nogil=True)
def compact_visible(visible, depth_bits, keys, values):
    """Gather (sortable depth key, index) of the visible splats into the front of ``keys``/``values``."""
    m = 0
    for i in range(visible.shape[0]):
        if visible[i]:
            keys[m] = sortable_bits(depth_bits[i])
            values[m] = i
            m += 1
    return m


@nb.njit(cache=True, nogil=True)
def radix_sort(keys, values, m, keys_tmp, values_tmp, hist):
    """Order ``values[:m]`` by ``keys[:m]`` ascending (stable); ``keys`` are scratch afterwards.

    Digits are taken of the keys minus their minimum, so only the digits that the key range spans
    are sorted: the depths of one head fit in 2 passes of 12 bits. The keys themselves are moved
    unchanged (one pass finds the range, one counts every digit, then one scatter per digit).
    """
    if m == 0:
        return
    lo, hi = keys[0], keys[0]
    for i in range(m):
        lo = min(lo, keys[i])
        hi = max(hi, keys[i])
    passes = 0
    span = hi - lo
    while span > 0 and passes < PASSES:
        span >>= np.uint32(DIGIT_BITS)
        passes += 1
    hist[:passes, :] = 0
    mask = np.uint32(BUCKETS - 1)
    for i in range(m):
        k = keys[i] - lo
        for p in range(passes):
            hist[p, (k >> np.uint32(p * DIGIT_BITS)) & mask] += 1
    if passes == 2 and m <= INDEX_MASK + 1:
        _two_passes_packed(keys, values, m, lo, keys_tmp, hist)  # keys_tmp holds the packed words
        return
    src_k, src_v, dst_k, dst_v = keys, values, keys_tmp, values_tmp
    swapped = False
    for p in range(passes):
        shift = np.uint32(p * DIGIT_BITS)
        total = 0
        for b in range(BUCKETS):  # exclusive prefix sums: where each bucket starts
            count = hist[p, b]
            hist[p, b] = total
            total += count
        last = p == passes - 1
        for i in range(m):
            k = src_k[i]
            d = ((k - lo) >> shift) & mask
            at = hist[p, d]
            hist[p, d] = at + 1
            if not last:  # the last pass's keys are never read again
                dst_k[at] = k
            dst_v[at] = src_v[i]
        src_k, src_v, dst_k, dst_v = dst_k, dst_v, src_k, src_v
        swapped = not swapped
    if swapped:
        values[:m] = values_tmp[:m]


INDEX_BITS = 32 - DIGIT_BITS  # two passes with ≤ 2²⁰ keys: (second digit, index) fit one uint32
INDEX_MASK = (1 << INDEX_BITS) - 1


@nb.njit(cache=True, nogil=True)
def _two_passes_packed(keys, values, m, lo, packed, hist):
    """The two scatter passes of :func:`radix_sort` for ≤ 2²⁰ keys spanning ≤ 2²⁴ values (``hist`` counted).

    The first pass moves one uint32 per key, its second digit above its value, instead of a key and a
    value; the second unpacks them. One stream of scattered writes instead of two: ~25% less time.
    """
    mask = np.uint32(BUCKETS - 1)
    shift = np.uint32(DIGIT_BITS)
    index_bits = np.uint32(INDEX_BITS)
    for p in range(2):
        total = 0
        for b in range(BUCKETS):
            count = hist[p, b]
            hist[p, b] = total
            total += count
    for i in range(m):
        d = keys[i] - lo
        at = hist[0, d & mask]
        hist[0, d & mask] = at + 1
        packed[at] = ((d >> shift) << index_bits) | np.uint32(values[i])
    index_mask = np.uint32(INDEX_MASK)
    for i in range(m):
        w = packed[i]
        d2 = w >> index_bits
        at = hist[1, d2]
        hist[1, d2] = at + 1
        values[at] = np.int32(w & index_mask)


class RadixSorter:
    """Sorts up to ``capacity`` float32 depths; ``sort_visible`` fills ``order`` front to back."""

    def __init__(self, capacity: int) -> None:
        self.keys = np.zeros(capacity, dtype=np.uint32)
        self._keys_tmp = np.zeros(capacity, dtype=np.uint32)
        self._values_tmp = np.zeros(capacity, dtype=np.int32)
        self._hist = np.zeros((PASSES, BUCKETS), dtype=np.int32)

    def sort_visible(self, depths: np.ndarray, visible: np.ndarray, order: np.ndarray) -> int:
        """Write the indices of visible splats, nearest first, to ``order[:M]``; return M."""
        m = compact_visible(visible, depths.view(np.uint32), self.keys, order)
        radix_sort(self.keys, order, m, self._keys_tmp, self._values_tmp, self._hist)
        return m

    def argsort(self, values: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Stable ascending argsort of float32 ``values`` into ``out`` (int32), like ``np.argsort(kind='stable')``."""
        n = values.shape[0]
        _keys_of(values.view(np.uint32), self.keys, out)
        radix_sort(self.keys, out, n, self._keys_tmp, self._values_tmp, self._hist)
        return out[:n]


@nb.njit(cache=True, nogil=True)
def _keys_of(bits, keys, values):
    for i in range(bits.shape[0]):
        keys[i] = sortable_bits(bits[i])
        values[i] = i
