"""Frame pixels: the float RGBA a renderer draws into → the uint8 RGBA the app gets."""

from __future__ import annotations

import numpy as np


def to_rgba8(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Round float32 RGBA in [0, 1] (H, W, 4) to uint8 in ``out`` (clamped); returns ``out``.

    ``image`` is the scratch space: it holds 255·value + ½ afterwards. Allocates nothing, so a
    renderer can call it for every read-back.
    """
    np.multiply(image, 255.0, out=image)
    np.add(image, 0.5, out=image)
    np.clip(image, 0.0, 255.0, out=image)
    np.copyto(out, image, casting="unsafe")
    return out
