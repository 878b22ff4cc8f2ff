"""The server's WebRTC egress service: opens an egress for a session, issues its join tokens, finds it for a join."""

from __future__ import annotations

import importlib.util
import secrets

import attrs

from ...wire import message_pb2 as pb
from ...rtc.codes import RtcErrorCode
from .join_tokens import JoinTokenSigner
from .settings import ConfigRefused, RtcSettings


class EgressUnavailable(Exception):
    def __init__(self, message: str) -> None:
        self.code = RtcErrorCode.UNAVAILABLE
        self.message = message
        super().__init__(message)


@attrs.frozen
class Opened:
    egress: object  # RtcEgress
    join_url: str
    join_token: str
    expires_at: int


def join_path(connection_id: str) -> str:
    return f"/v1/rtc/sessions/{connection_id}/whep"


class RtcService:
    """``base_url()`` says where the server listens (join URLs are on the console API's host).

    Join tokens are signed with a secret of this process: the egress lives in the process that
    holds the session, so a join must reach that process anyway.
    """

    def __init__(self, base_url, settings: RtcSettings | None = None) -> None:
        self.settings = settings or RtcSettings()
        self.signer = JoinTokenSigner(secrets.token_bytes(32))
        self._base_url = base_url
        self._egresses: dict[str, object] = {}

    def get(self, connection_id: str):
        return self._egresses.get(connection_id)

    def open(self, *, connection_id: str, app_id: str, sample_rate: int, config: pb.WebRtcEgressConfig,
             on_failure) -> Opened:
        """A running egress for the session; ``ConfigRefused`` / ``EgressUnavailable`` say why not."""
        if importlib.util.find_spec("aiortc") is None:
            raise EgressUnavailable("this server cannot run a WebRTC egress: the aiortc package is not installed")
        from .egress import RtcEgress

        settings = self.settings.for_session(config)
        egress = RtcEgress(connection_id=connection_id, app_id=app_id, sample_rate=sample_rate, settings=settings,
                           on_failure=on_failure)
        self._egresses[connection_id] = egress
        token, expires = self.signer.issue(connection_id, app_id, settings.join_token_ttl_s)
        return Opened(egress, self._base_url() + join_path(connection_id), token, expires)

    def base_url(self) -> str:
        return self._base_url()

    def register(self, connection_id: str, egress) -> tuple[str, int]:
        """Make another kind of egress (the rendered-video one) joinable like ours: ``(join token, expiry)``."""
        self._egresses[connection_id] = egress
        return self.signer.issue(connection_id, egress.app_id, egress.settings.join_token_ttl_s)

    def new_token(self, connection_id: str) -> tuple[str, int]:
        egress = self._egresses[connection_id]
        return self.signer.issue(connection_id, egress.app_id, egress.settings.join_token_ttl_s)

    async def close(self, connection_id: str) -> None:
        egress = self._egresses.pop(connection_id, None)
        if egress is not None:
            await egress.close()


__all__ = ["ConfigRefused", "EgressUnavailable", "Opened", "RtcService", "join_path"]
