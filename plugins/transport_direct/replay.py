"""The audio of the round in flight, kept so a reconnect can replay it to the new session.

The server forgets a round when its connection drops; replaying the round's chunks from the
start with the same ``req_id`` regenerates every keyframe (the motion buffer drops the ones it
already has), so a dropped connection loses no motion. Bounded: a round longer than the cap
is not replayed (its later motion is simply regenerated from where the replay can start).
"""

from __future__ import annotations


class RoundReplay:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.req_id: str | None = None
        self._messages: list[bytes] = []
        self._bytes = 0
        self.complete = False  # the server sent the round's last keyframes: nothing to replay
        self.overflowed = False

    def sent(self, req_id: str, message: bytes) -> None:
        """Record an audio message that went out for ``req_id`` (a new id starts a new round)."""
        if req_id != self.req_id:
            self.req_id, self._messages, self._bytes = req_id, [], 0
            self.complete = self.overflowed = False
        if self.overflowed:
            return
        self._bytes += len(message)
        if self._bytes > self.max_bytes:
            self.overflowed = True
            self._messages = []
            return
        self._messages.append(message)

    def finished(self, req_id: str) -> None:
        if req_id == self.req_id:
            self.complete = True
            self._messages = []

    def drop(self, req_id: str) -> None:
        """Forget an interrupted round."""
        if req_id == self.req_id:
            self.req_id, self._messages, self._bytes = None, [], 0

    def messages(self) -> list[bytes]:
        return [] if self.complete or self.overflowed else list(self._messages)
