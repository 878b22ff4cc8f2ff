"""The ``backend`` transport: Backend Mode, where the app's own server holds the Motion Server session.

Nothing is dialled from here. The app relays audio and raw ``SERVER_RESPONSE_ANIMATION``
envelopes through its own channel and hands them to ``yield_audio_data`` /
``yield_frames_data``; this transport owns that yielded-payload path: it knows which
conversation is current, checks each payload list (bytes-like items only), drops lists for
any other conversation, and returns the accepted envelopes for the controller to decode.
"""

from __future__ import annotations

import logging

import numpy as np

import engine
from engine.contracts import TransportContext

log = logging.getLogger("facecast.transport.backend")


class BackendTransport:
    """Accepts yielded payloads of the current conversation; drops the others."""

    def __init__(self, context: TransportContext) -> None:
        self.context = context
        self.current: str | None = None
        self.dropped_payloads = 0
        self._closed = False

    # -- the Transport protocol (nothing to dial: the app's server holds the session) -------

    async def connect(self) -> None:
        self._check_open()

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None:
        # The app's server already has this audio; only the round bookkeeping happens here.
        self.open_round(req_id)

    async def interrupt(self, req_id: str) -> None:
        self.close_round(req_id)

    async def close(self) -> None:
        self._closed = True
        self.current = None

    # -- the yielded-payload path (synchronous: called from yield_* on the app's thread) -----

    def open_round(self, conversation_id: str) -> None:
        self._check_open()
        self.current = conversation_id

    def close_round(self, conversation_id: str | None = None) -> None:
        if conversation_id is None or conversation_id == self.current:
            self.current = None

    def feed(self, payloads, conversation_id: str) -> list[bytes] | None:
        """The envelopes of ``payloads`` as bytes if they belong to the current conversation.

        Returns None when the list was dropped (stale id). Raises ``AvatarError(serverError)``
        naming the first item that is not bytes-like.
        """
        self._check_open()
        if not isinstance(payloads, (list, tuple)):
            raise engine.AvatarError(engine.ErrorCode.serverError,
                                     "yield_frames_data takes a list of motion payloads (bytes), "
                                     f"not {type(payloads).__name__}")
        envelopes = [_as_bytes(p, i) for i, p in enumerate(payloads)]
        if conversation_id != self.current:
            self.dropped_payloads += len(envelopes)
            log.debug("dropped %d payloads for conversation %s (current: %s)", len(envelopes),
                      conversation_id, self.current)
            return None
        return envelopes

    def _check_open(self) -> None:
        if self._closed:
            raise engine.AvatarError(engine.ErrorCode.animationPlayerNotInitialized,
                                     "the backend transport is closed (controller disposed)")


def _as_bytes(payload, index: int) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, np.ndarray) and payload.dtype == np.uint8:
        return payload.tobytes()
    raise engine.AvatarError(engine.ErrorCode.serverError,
                             f"motion payload {index} is a {type(payload).__name__}; pass each "
                             "SERVER_RESPONSE_ANIMATION message as bytes, exactly as your backend received it")


@engine.hookimpl
def register_transports(register):
    register("backend", BackendTransport)
