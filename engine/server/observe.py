"""What an ingress session reports as it runs: metrics, metered audio, and whether to drain.

The session calls these few methods at the points that matter (round start, keyframes sent,
error sent, audio received); everything they feed (Prometheus, the meter) lives elsewhere, so
the session's message loop stays about the protocol.
"""

from __future__ import annotations

FLUSH_EVERY = 25  # messages (1 s of 40 ms chunks) between additions to the Prometheus counters


class SessionObserver:
    """Counts keyframes and audio seconds locally and adds them to the Prometheus counters every
    :data:`FLUSH_EVERY` messages, at each round's end and when the session ends (``flush``): two
    locked counter updates per audio chunk were a visible share of the server's CPU."""

    __slots__ = ("_server", "app_id", "_keyframes", "_audio_s", "_unflushed")

    def __init__(self, server, app_id: str) -> None:
        self._server = server
        self.app_id = app_id
        self._keyframes = 0
        self._audio_s = 0.0
        self._unflushed = 0

    def round_started(self) -> None:
        self._server.metrics.rounds.inc()

    def keyframes(self, count: int, latency_s: float) -> None:
        self._keyframes += count
        self._server.metrics.keyframe_latency.observe(latency_s)
        self._unflushed += 1
        if self._unflushed >= FLUSH_EVERY:
            self.flush()

    def error(self, code: int) -> None:
        self._server.metrics.errors.labels(str(int(code))).inc()

    def audio(self, seconds: float) -> str | None:
        """Count received audio; the reason the session must end (the app's balance ran out), or None."""
        self._audio_s += seconds
        return self._server.meter.add_audio(self.app_id, seconds)

    def flush(self) -> None:
        """Add what was counted since the last flush to the server's metrics."""
        metrics = self._server.metrics
        if self._keyframes:
            metrics.keyframes.inc(self._keyframes)
        if self._audio_s:
            metrics.audio_seconds.inc(self._audio_s)
        self._keyframes, self._audio_s, self._unflushed = 0, 0.0, 0

    @property
    def draining(self) -> bool:
        """The server is shutting down gracefully: end the session once its current round is done."""
        return self._server.draining


class NullObserver:
    """For a session run outside a ``MotionServer`` (tests of the session alone)."""

    __slots__ = ()
    draining = False

    def round_started(self) -> None:
        pass

    def keyframes(self, count: int, latency_s: float) -> None:
        pass

    def error(self, code: int) -> None:
        pass

    def audio(self, seconds: float) -> str | None:
        return None

    def flush(self) -> None:
        pass
