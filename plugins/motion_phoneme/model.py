"""The sound-class classifier: a one-hidden-layer network over a window of log-mel sub-frames.

Input: the ``CONTEXT`` sub-frames around a keyframe's time (``PAST`` before it, the rest after, up to
the contract's 80 ms look-ahead), flattened and standardised. Output: one logit per sound class of
:mod:`.phonemes` and the mouth opening the phonemes call for (0..1). Weights live in
``weights.npz`` beside this file, written by ``scripts/train_lipsync.py``.
"""

from __future__ import annotations

from importlib import resources

import attrs
import numba
import numpy as np

from engine import AvatarError, ErrorCode

from .features import FEATURES
from .phonemes import CLASSES

# Keyframe i shows time i·40 ms; with 2 windows of look-ahead the newest sub-frame ready when it
# is emitted is 2i+5 (its 25 ms window ends at i·40 + 120 ms); the oldest used ends at i·40 - 100 ms.
LOOKAHEAD_WINDOWS = 2
PAST = 6
FUTURE = 6
CONTEXT = PAST + FUTURE
INPUTS = CONTEXT * FEATURES
OUTPUTS = len(CLASSES) + 1
WEIGHTS_FILE = "weights.npz"


@attrs.frozen(eq=False)
class Weights:
    mean: np.ndarray  # (INPUTS,)
    scale: np.ndarray  # (INPUTS,) 1/std
    w1: np.ndarray  # (INPUTS, H)
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (H, OUTPUTS)
    b2: np.ndarray  # (OUTPUTS,)

    def arrays(self) -> dict[str, np.ndarray]:
        return attrs.asdict(self)


def load_weights(path=None) -> Weights:
    """The shipped weights (or those at ``path``), checked for shape and finiteness."""
    source = path if path is not None else resources.files(__package__).joinpath(WEIGHTS_FILE)
    try:
        with source.open("rb") if path is None else open(path, "rb") as f, np.load(f) as z:
            arrays = {k: np.ascontiguousarray(z[k], np.float32) for k in attrs.fields_dict(Weights)}
    except (OSError, KeyError, ValueError) as exc:
        raise AvatarError(ErrorCode.serverError, f"lip-sync weights {source} are missing or unreadable ({exc}); "
                          "reinstall facecast or re-run scripts/train_lipsync.py") from exc
    w = Weights(**arrays)
    hidden = w.b1.shape[0]
    shapes = {"mean": (INPUTS,), "scale": (INPUTS,), "w1": (INPUTS, hidden), "b1": (hidden,),
              "w2": (hidden, OUTPUTS), "b2": (OUTPUTS,)}
    for name, shape in shapes.items():
        a = getattr(w, name)
        if a.shape != shape or not np.isfinite(a).all():
            raise AvatarError(ErrorCode.serverError, f"lip-sync weights {source}: {name} has shape {a.shape}, "
                              f"expected {shape} of finite values; re-run scripts/train_lipsync.py")
    return w


@numba.njit(cache=True, nogil=True)
def infer(x, mean, scale, w1, b1, w2, b2, hidden, out):
    """``out (OUTPUTS,)`` for one flattened context ``x (INPUTS,)``; ``hidden`` is scratch."""
    n_in, n_hidden = w1.shape
    hidden[:] = b1
    for i in range(n_in):
        v = (x[i] - mean[i]) * scale[i]
        if v != 0.0:
            for j in range(n_hidden):
                hidden[j] += v * w1[i, j]
    out[:] = b2
    for j in range(n_hidden):
        h = hidden[j]
        if h > 0.0:
            for k in range(w2.shape[1]):
                out[k] += h * w2[j, k]
