"""The server-side motion-generator contract."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class MotionGenerator(Protocol):
    """Turns a stream of PCM16 speech into FLAME keyframes at 25 fps.

    Rules:
    - ``feed(pcm16)`` returns the keyframes (``float32 (K, D)``, engine motion
      layout, ``D = 20 + expression_count``) that the audio received so far
      completes; keyframe i covers samples ``[i*sr/25, (i+1)*sr/25)`` of the round.
    - ``finish()`` returns the remaining keyframes of the round (the last partial
      window padded), then the generator is ready for a new round.
    - ``reset()`` drops the round in progress (interrupt).
    - Latency from a chunk to its keyframes stays under 80 ms; state is bounded;
      the same seed and audio give the same keyframes.
    """

    def feed(self, pcm16: np.ndarray) -> np.ndarray: ...

    def finish(self) -> np.ndarray: ...

    def reset(self) -> None: ...
