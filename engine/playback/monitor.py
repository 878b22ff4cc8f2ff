"""Frame-rate monitoring: counts ticks and keyframes and reports a ``FrameRateInfo`` each window."""

from __future__ import annotations

from .events import FrameRateInfo

WINDOW_S = 1.0


class FrameRateMonitor:
    """Fed from the render tick (under the controller lock); ``tick`` returns a report when a window closes."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self.reset(None)

    def reset(self, device_now: float | None) -> None:
        self._start = device_now
        self._ticks = 0
        self._keyframes = 0
        self._dropped = 0
        self._repeated = 0
        self._offset = 0.0
        self._last_position: int | None = None
        self._last_frame: int | None = None

    def keyframes_received(self, accepted: int, dropped: int) -> None:
        self._keyframes += accepted
        self._dropped += dropped

    def tick(self, device_now: float, playing: bool, position: int, frame_index: int | None,
             offset_s: float) -> FrameRateInfo | None:
        if self._start is None:  # the first tick opens the window; rates count intervals after it
            self._start = device_now
            self._last_position = position if playing else None
            self._last_frame = frame_index if playing else None
            return None
        self._ticks += 1
        if playing:
            if self._last_position == position:
                self._repeated += 1
            if frame_index is not None and self._last_frame is not None and frame_index > self._last_frame + 1:
                self._dropped += frame_index - self._last_frame - 1
            self._offset = max(self._offset, abs(offset_s))
        self._last_position = position if playing else None
        self._last_frame = frame_index if playing else None
        elapsed = device_now - self._start
        if elapsed < self.window_s:
            return None
        info = FrameRateInfo(render_fps=self._ticks / elapsed, motion_fps=self._keyframes / elapsed,
                             dropped_frames=self._dropped, repeated_frames=self._repeated,
                             motion_to_audio_offset_ms=self._offset * 1e3, window_s=elapsed)
        last_position, last_frame = self._last_position, self._last_frame
        self.reset(device_now)
        self._last_position, self._last_frame = last_position, last_frame
        return info
