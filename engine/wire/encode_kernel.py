"""The numba half of ``encode_animation``: keyframe floats into the rows of a ``FlameAnimation`` in one pass.

Each row is the byte template of one ``keyframes`` entry (tag, length, the Flame fields' tags and
lengths); the floats' little-endian bytes go to fixed positions in it. The same pass finds the
largest magnitude, so range and NaN/inf are checked without a second reduction over the array.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def encode_rows(kf, kf_bytes, template, positions, out):
    """Write ``K`` rows (``template`` with ``kf_bytes[k]`` scattered to ``positions``) into ``out (K·T,)``.

    ``kf (K, D)`` float32 and ``kf_bytes (K, 4D)`` its bytes; returns the largest ``|value|``, NaN if any is NaN.
    """
    rows, dim = kf.shape
    size = template.shape[0]
    largest = 0.0
    for k in range(rows):
        for d in range(dim):
            a = abs(np.float64(kf[k, d]))
            if a > largest:
                largest = a
            elif a != a:
                largest = np.nan
        at = k * size
        out[at:at + size] = template
        for b in range(positions.shape[0]):
            out[at + positions[b]] = kf_bytes[k, b]
    return largest
