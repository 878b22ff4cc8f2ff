"""The ``rtc`` transport: the backend-mode feed of a controller that an :class:`RtcClient` drives.

An RTC client yields each round's audio and the envelopes it rebuilt from the data channel to
the controller, exactly as an app in Backend Mode would; with ``Configuration(transport="rtc")``
this class is the ``BackendFeed`` those calls pass through. It dials nothing itself (the
client owns the peer connection) and keeps the feed contract: only the current conversation's
envelopes are handed back, in order.
"""

from __future__ import annotations

from engine.kit import AvatarError, ErrorCode, TransportContext


class RtcTransport:
    def __init__(self, context: TransportContext) -> None:
        self.context = context
        self.conversation: str | None = None
        self.closed = False

    async def connect(self) -> None:
        if self.closed:
            raise AvatarError(ErrorCode.networkLayerNotAvailable, "the rtc transport was closed")

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None:
        self.open_round(req_id)  # the audio came from the server: nothing goes back

    async def interrupt(self, req_id: str) -> None:
        self.close_round(req_id)

    async def close(self) -> None:
        self.closed = True
        self.conversation = None

    def open_round(self, conversation_id: str) -> None:
        self.conversation = conversation_id

    def close_round(self, conversation_id: str | None = None) -> None:
        if conversation_id in (None, self.conversation):
            self.conversation = None

    def feed(self, payloads, conversation_id: str) -> list[bytes] | None:
        """The envelopes of the current conversation (the controller decodes them); None for any other id."""
        if not isinstance(payloads, (list, tuple)):
            raise AvatarError(ErrorCode.serverError, f"motion payloads must be a list, not {type(payloads).__name__}")
        for index, payload in enumerate(payloads):
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise AvatarError(ErrorCode.serverError, f"motion payload {index} is a {type(payload).__name__}, "
                                  "not bytes")
        if conversation_id != self.conversation or self.closed:
            return None
        return [bytes(p) for p in payloads]
