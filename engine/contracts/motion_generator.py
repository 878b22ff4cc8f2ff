"""The server-side motion-generator contract."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class MotionGenerator(Protocol):
    """Turns a stream of PCM16 speech into FLAME keyframes at 25 fps.

    Made by ``factory(sample_rate, expression_count, seed)`` (the ``register_motion_generators``
    hook), one per server session, after the client's configure message; a server selects it with
    ``MotionServer(motion_generator=name)`` or ``facecast serve --generator name``.

    Rules (``facecast conformance --motion-generator NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. ``feed(pcm16)`` takes ``int16`` mono samples at ``sample_rate`` (chunks of any length, an
       empty one gives no keyframes) and returns the keyframes (``float32 (K, D)``, engine motion
       layout, ``D = 20 + expression_count``) that the audio received so far completes; keyframe
       i covers samples ``[i*sr/25, (i+1)*sr/25)`` of the round. A round of N samples yields
       ``ceil(N * 25 / sr)`` keyframes in all.
    2. ``finish()`` returns the remaining keyframes of the round (the last partial window padded),
       then the generator is ready for a new round; ``reset()`` drops the round in progress
       (interrupt, or a new ``req_id``). Both keep session-long state (blink timing, noise floor)
       so motion stays continuous from one round to the next.
    3. The keyframes do not depend on how the audio is split into chunks.
    4. Deterministic: the same seed and the same audio give the same keyframes.
    5. Values are finite and within ±10 (``engine.motion.layout.MOTION_LIMIT``; clients refuse
       anything else); rotations are axis-angle radians (well under π), eyelids 0 (open) .. 1 (closed).
    6. Latency: keyframe i is returned by the ``feed`` that completes its window, plus at most
       80 ms of look-ahead.
    7. ``feed`` runs on the server's event loop, so it must be cheap (tens of microseconds per
       keyframe, no I/O, no blocking) and its state bounded.
    8. Errors: an exception from ``feed``/``finish`` ends the session with ``SERVER_ERROR`` 14;
       the server itself keeps running.
    """

    def feed(self, pcm16: np.ndarray) -> np.ndarray: ...

    def finish(self) -> np.ndarray: ...

    def reset(self) -> None: ...
