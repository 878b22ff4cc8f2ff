"""``MotionBuffer``: the keyframes of the conversation round that is playing, indexed by frame.

Keyframe i of a round covers ``[i/25, (i+1)/25)`` s of the round's audio; ``pose_at(t)`` blends
keyframes ``floor(25t)`` and ``floor(25t) + 1``. Frames live in a ring of ``capacity_frames`` slots
(slot = frame % capacity), so memory is fixed. Frames before the playback position are evicted
when space is needed; frames that would overwrite unplayed ones are refused (``overflow``).
A gap (a message starting past the next expected frame) is bridged by interpolating between
the frames on either side, so playback never jumps; it is counted in ``stats``. Thread-safe:
the transport pushes from its loop, the render tick reads.
"""

from __future__ import annotations

import math
import threading

import attrs
import numpy as np

from ..errors import AvatarError, ErrorCode
from .interpolate import blend_pose
from .layout import MOTION_FPS, MOTION_LIMIT


@attrs.frozen
class MotionBufferStats:
    """Counters since the buffer was made (``clear`` and ``begin_round`` keep them)."""

    accepted: int = 0
    duplicates: int = 0  # frames already buffered
    late: int = 0  # frames whose time had already been played
    stale: int = 0  # frames of a round that is not the current one
    overflow: int = 0  # frames refused because the buffer was full of unplayed frames
    gaps: int = 0  # discontinuities bridged
    missing: int = 0  # frames synthesized to bridge gaps


class MotionBuffer:
    """Bounded per-round keyframe store with interpolated reads (see docs/internals.md)."""

    def __init__(self, dim: int, capacity_frames: int = 1500) -> None:
        if dim < 20:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, f"motion dim must be >= 20, not {dim}")
        if capacity_frames < 4:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"capacity_frames must be at least 4, not {capacity_frames}")
        self.dim = dim
        self.capacity = capacity_frames
        self._frames = np.zeros((capacity_frames, dim), dtype=np.float32)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(attrs.fields_dict(MotionBufferStats), 0)
        self._round: str | None = None
        self._reset_round()

    def _reset_round(self) -> None:
        self._first = 0  # oldest frame still held
        self._next = 0  # one past the newest frame held (frames [first, next) are all present)
        self._play = 0  # frame on screen (latest pose_at): earlier frames are past and may be evicted
        self._ended = False

    # -- producer side --------------------------------------------------------------------------
    def begin_round(self, round_id: str) -> None:
        """Start a new round; the previous round's frames are dropped."""
        with self._lock:
            self._round = round_id
            self._reset_round()

    def push(self, round_id: str, start_frame: int, keyframes: np.ndarray, end: bool = False) -> int:
        """Add ``keyframes`` (float32 (K, dim)) starting at ``start_frame``; return how many were accepted."""
        kf = np.asarray(keyframes, dtype=np.float32)
        if kf.ndim != 2 or kf.shape[1] != self.dim:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"keyframes must have shape (K, {self.dim}), not {kf.shape}")
        if not (np.abs(kf) <= MOTION_LIMIT).all():  # False for NaN too
            bad = "NaN or infinite" if not np.isfinite(kf).all() else f"beyond ±{MOTION_LIMIT:g}"
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"keyframes contain values {bad}; pose values are metres, radians and blendshape "
                              f"weights within ±{MOTION_LIMIT:g}")
        if start_frame < 0:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, f"start_frame must be >= 0, not {start_frame}")
        with self._lock:
            c = self._counts
            if round_id != self._round:
                c["stale"] += len(kf)
                return 0
            gap = start_frame - self._next  # > 0: the server's stream skipped frames
            # Frames before `next` are held (duplicates) or evicted; frames before `play` are past (late).
            skip = max(0, min(len(kf), max(self._next, self._play) - start_frame))
            held = max(0, min(start_frame + skip, self._next) - max(start_frame, self._first))
            c["duplicates"] += held
            c["late"] += skip - held
            start, kf = start_frame + skip, kf[skip:]
            if not len(kf):
                self._ended = self._ended or bool(end)
                return 0
            keep_from = max(self._first, min(self._play, start))  # the frame on screen and all after it
            excess = start + len(kf) - keep_from - self.capacity
            if excess > 0:  # refuse what does not fit rather than drop unplayed frames
                c["overflow"] += min(len(kf), excess)
                kf, end = kf[: max(0, len(kf) - excess)], False
                if not len(kf):
                    return 0
            self._store(start, kf)
            self._ended = self._ended or bool(end)
            if gap > 0:
                c["gaps"] += 1
                c["missing"] += gap
            c["accepted"] += len(kf)
            return len(kf)

    def _store(self, start: int, kf: np.ndarray) -> None:
        stop = start + len(kf)
        first = max(self._first, stop - self.capacity)
        if self._next == self._first:  # empty: nothing to bridge from; pose_at holds the first frame before it
            first = start
        elif start > self._next:  # bridge [next, start) by blending from the last held frame to kf[0]
            prev = self._frames[(self._next - 1) % self.capacity].copy()
            span = start - self._next + 1
            for f in range(max(self._next, first), start):
                blend_pose(prev, kf[0], (f - self._next + 1) / span, self._frames[f % self.capacity])
        self._frames[np.arange(start, stop) % self.capacity] = kf
        self._first, self._next = first, stop

    # -- consumer side --------------------------------------------------------------------------
    def pose_at(self, t_round_seconds: float, out: np.ndarray) -> bool:
        """Fill ``out`` with the pose at ``t`` s into the round; False when starved.

        Starved means ``t`` is past the last buffered keyframe (and, for an ended round, past its end);
        ``out`` then holds the last keyframe if there is one (a hold-last pose), else is untouched.
        """
        x = min(max(0.0, float(t_round_seconds)), 1e9) * MOTION_FPS  # NaN → 0; inf stays an integer frame
        i = int(math.floor(x))
        with self._lock:
            if self._next == self._first:
                return False
            self._play = max(self._play, i)
            f = self._frames
            if i < self._first:
                out[:] = f[self._first % self.capacity]
                return True
            if i + 1 < self._next:
                blend_pose(f[i % self.capacity], f[(i + 1) % self.capacity], x - i, out)
                return True
            out[:] = f[(self._next - 1) % self.capacity]
            return self._ended and i == self._next - 1

    def ready(self, min_frames: int = 2) -> bool:
        """Enough frames buffered ahead of the playback position to start (or the round has ended)."""
        with self._lock:
            return self._next - max(self._play, self._first) >= min_frames or (self._ended and self._next > 0)

    def clear(self) -> None:
        """Drop the round and all its frames (interrupt); later pushes for it count as stale."""
        with self._lock:
            self._round = None
            self._reset_round()

    @property
    def round_id(self) -> str | None:
        return self._round

    @property
    def ended(self) -> bool:
        """The round's final message (``end=True``) has been accepted."""
        return self._ended

    @property
    def frames_available(self) -> int:
        """Frames held at or after the playback position."""
        with self._lock:
            return max(0, self._next - max(self._play, self._first))

    @property
    def last_frame_time(self) -> float | None:
        """Round time (s) of the newest held keyframe, or None before any."""
        with self._lock:
            return (self._next - 1) / MOTION_FPS if self._next > self._first else None

    @property
    def stats(self) -> MotionBufferStats:
        with self._lock:
            return MotionBufferStats(**self._counts)
