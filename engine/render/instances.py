"""Per-splat instance data for the GPU backends, gathered from a ``PreparedFrame`` in sorted order.

One row of 12 float32 per visible splat (48 bytes, the vertex-buffer stride):
``[x, y, radius, opacity, a, b, c, 0, r, g, b, 0]`` — pixel mean, quad half-size, conic, colour.
"""

from __future__ import annotations

import numba as nb
import numpy as np

INSTANCE_FLOATS = 12
INSTANCE_BYTES = INSTANCE_FLOATS * 4


@nb.njit(cache=True, nogil=True, parallel=True)
def _gather(count, order, means2d, conics, radii, opacities, colors, out):
    for k in nb.prange(count):
        i = order[k]
        out[k, 0] = means2d[i, 0]
        out[k, 1] = means2d[i, 1]
        out[k, 2] = radii[i]
        out[k, 3] = opacities[i]
        out[k, 4] = conics[i, 0]
        out[k, 5] = conics[i, 1]
        out[k, 6] = conics[i, 2]
        out[k, 7] = 0.0
        out[k, 8] = colors[i, 0]
        out[k, 9] = colors[i, 1]
        out[k, 10] = colors[i, 2]
        out[k, 11] = 0.0


class InstanceBuffer:
    """A reusable host-side staging array; grows (by 1.5×) only when a frame has more splats."""

    def __init__(self, capacity: int = 0) -> None:
        self.array = np.zeros((max(capacity, 1), INSTANCE_FLOATS), np.float32)

    @property
    def capacity(self) -> int:
        return self.array.shape[0]

    def fill(self, frame) -> int:
        """Gather ``frame``'s sorted visible splats; returns how many rows are valid."""
        count = int(frame.count)
        if count > self.capacity:
            self.array = np.zeros((max(count, int(self.capacity * 1.5)), INSTANCE_FLOATS), np.float32)
        if count:
            _gather(count, frame.order, frame.means2d, frame.conics, frame.radii, frame.opacities,
                    frame.colors, self.array)
        return count
