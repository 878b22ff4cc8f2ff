"""Screen bounds of a prepared frame's visible splats (for ``AvatarView.get_bounding_rect``)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _bounds(count, order, means2d, radii, out):
    x0 = np.inf
    y0 = np.inf
    x1 = -np.inf
    y1 = -np.inf
    for k in range(count):
        i = order[k]
        r = radii[i]
        if r <= 0:
            continue
        x0 = min(x0, means2d[i, 0] - r)
        x1 = max(x1, means2d[i, 0] + r)
        y0 = min(y0, means2d[i, 1] - r)
        y1 = max(y1, means2d[i, 1] + r)
    out[0] = x0
    out[1] = y0
    out[2] = x1
    out[3] = y1


def frame_bounds(frame, out: np.ndarray) -> bool:
    """Fill ``out`` (float64[4]) with (x0, y0, x1, y1) clipped to the target; False if nothing is visible."""
    _bounds(int(frame.count), frame.order, frame.means2d, frame.radii, out)
    if not out[0] < out[2]:
        return False
    np.clip(out[0::2], 0, frame.width, out=out[0::2])
    np.clip(out[1::2], 0, frame.height, out=out[1::2])
    return bool(out[0] < out[2] and out[1] < out[3])
