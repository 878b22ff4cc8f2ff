"""What an ingress session reports as it runs: metrics, metered audio, and whether to drain.

The session calls these few methods at the points that matter (round start, keyframes sent,
error sent, audio received); everything they feed (Prometheus, the meter) lives elsewhere, so
the session's message loop stays about the protocol.
"""

from __future__ import annotations


class SessionObserver:
    __slots__ = ("_server", "app_id")

    def __init__(self, server, app_id: str) -> None:
        self._server = server
        self.app_id = app_id

    def round_started(self) -> None:
        self._server.metrics.rounds.inc()

    def keyframes(self, count: int, latency_s: float) -> None:
        self._server.metrics.keyframes.inc(count)
        self._server.metrics.keyframe_latency.observe(latency_s)

    def error(self, code: int) -> None:
        self._server.metrics.errors.labels(str(int(code))).inc()

    def audio(self, seconds: float) -> str | None:
        """Count received audio; the reason the session must end (the app's balance ran out), or None."""
        self._server.metrics.audio_seconds.inc(seconds)
        return self._server.meter.add_audio(self.app_id, seconds)

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
