"""The demo's in-process stack: an embedded Motion Server, a provisioned app, a token, the SDK and the avatar."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import aiohttp

from ..config import AudioFormat, Configuration
from ..errors import AvatarError, ErrorCode
from ..sdk import AvatarSDK

TOKEN_TTL_S = 3600


class DemoStack:
    """``async with DemoStack(sample_rate) as stack:`` → ``stack.avatar`` ready for a direct-mode view.

    The server uses a throwaway data directory (its own app and key), so the demo never touches
    the user's ``facecast serve`` configuration. The token is fetched over HTTP from the console
    API, exactly as an app's backend would.
    """

    def __init__(self, sample_rate: int, *, host: str = "127.0.0.1", port: int = 0, avatar_id: str = "demo") -> None:
        self.sample_rate = sample_rate
        self.host, self.port = host, port
        self.avatar_id = avatar_id
        self.server = None
        self.avatar = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    async def __aenter__(self) -> "DemoStack":
        from ..avatar.manager import AvatarManager
        from ..server import MotionServer
        from ..server.provision import provision_if_empty

        self._tmp = tempfile.TemporaryDirectory(prefix="facecast-demo-")
        try:
            self.server = MotionServer(data_dir=Path(self._tmp.name))
            setup = await provision_if_empty(self.server.store)
            await self.server.start(self.host, self.port)
            token = await self._token(setup.api_key)
            await AvatarSDK.initialize(setup.app_id, Configuration(
                custom_endpoint=self.server.base_url, audio_format=AudioFormat(sample_rate=self.sample_rate)))
            AvatarSDK.set_session_token(token)
            self.avatar = await AvatarManager.shared.load(self.avatar_id)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _token(self, api_key: str) -> str:
        url = f"{self.server.base_url}/v1/console/session-tokens"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, headers={"X-Api-Key": api_key},
                                 json={"expireAt": int(time.time()) + TOKEN_TTL_S}) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise AvatarError(ErrorCode.sessionTokenInvalid, f"the embedded server refused a token: {body}")
                return body["sessionToken"]

    async def __aexit__(self, *exc) -> None:
        AvatarSDK.cleanup()
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
