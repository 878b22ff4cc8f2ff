"""Direct mode of ``AvatarController``: it connects to the Motion Server itself through the
transport plugin the configuration selects, streams the app's audio and plays the motion that
comes back; without a connection it plays audio only (the seed's fallback).

A mixin of ``AvatarController``: it uses the controller's lock, rounds and sink (see controller.py).
"""

from __future__ import annotations

import asyncio
import logging

from ..enums import ConnectionState, DrivingServiceMode
from ..errors import AvatarError, ErrorCode
from ..sdk import AvatarSDK
from . import audio_input
from .backend import make_transport
from .connection import CREDENTIAL_CODES, DirectLink

log = logging.getLogger("facecast.playback")


class DirectMode:

    async def initialize_audio_context(self) -> None:
        """Open the audio output (the seed asks for this inside a user gesture); idempotent."""
        with self._session():
            self._ensure_sink()

    async def start(self) -> None:
        """Connect to the Motion Server through the configured transport (direct mode)."""
        with self._session():
            config = self._config()
            self._require_mode(DrivingServiceMode.direct, "start()", "yield_audio_data / yield_frames_data")
            if self._connecting or self._connection == ConnectionState.connected:
                raise AvatarError(ErrorCode.connectionInProgress,
                                  "start() was already called: the connection is "
                                  f"{self._connection.value}; close() it before starting again")
            token = AvatarSDK.session_token
            if not token:
                raise AvatarError(ErrorCode.sessionTokenInvalid,
                                  "direct mode needs a session token: get one from your backend "
                                  "(POST /v1/console/session-tokens) and call AvatarSDK.set_session_token() first")
            transport = make_transport(self, config.transport or "direct", token)
            old, self._link = self._link, DirectLink(transport, asyncio.get_running_loop())
            link = self._link
            self._connecting = True
            self._fallback = False
            self._set_connection(ConnectionState.connecting)
        if old is not None:
            await old.close()
        try:
            await link.connect(self.connect_timeout_s)
        except AvatarError as error:
            with self._session(check=False):
                self._connecting = False
                self._enter_fallback()
                self._queue("on_error", error)
            try:
                await link.close()
            except Exception:
                log.exception("closing the failed transport raised")
            if error.code in CREDENTIAL_CODES:
                raise
            log.warning("direct mode: %s", error.message)
            return
        with self._session(check=False):
            self._connecting = False
            if self._link is link:
                self._set_connection(ConnectionState.connected)

    def _enter_fallback(self, state: ConnectionState = ConnectionState.failed) -> None:
        """Audio-only from now on: the transport is gone or never came up. Lock held."""
        self._fallback = True
        self._set_connection(state)
        rnd = self._round
        if rnd is not None and not rnd.finished and not rnd.audio_only:
            rnd.make_audio_only()
            self._apply_limit(None)
            if self._runner is not None and self._runner.stalled:
                self._runner.stalled = False
                self._queue("on_playback_stall", False)

    def _on_transport_state(self, state: ConnectionState) -> None:
        """The transport's own reports after ``start()``: reconnecting, back, or gone for good."""
        with self._lock:
            if self._connecting or self._link is None:
                return  # start() reports the outcome of connecting itself; after close() nothing
            if state in (ConnectionState.failed, ConnectionState.disconnected):
                self._enter_fallback(state)
            else:
                if state == ConnectionState.connected:
                    self._fallback = False  # rounds started from now on get motion again
                self._set_connection(state)
        self._dispatch()

    def send(self, audio, end: bool = False) -> str | None:
        """Play PCM16 mono ``audio`` locally and stream it to the Motion Server; returns the conversation id."""
        pcm = audio_input.to_pcm16(audio, end, "send")
        with self._session():
            self._require_mode(DrivingServiceMode.direct, "send()", "yield_audio_data(data, end)")
            if self._sink is None:
                raise AvatarError(ErrorCode.audioContextNotInitialized,
                                  "call `await controller.initialize_audio_context()` before send()")
            if self._link is None and not self._fallback:
                raise AvatarError(ErrorCode.networkLayerNotAvailable,
                                  "send() needs a connection: `await controller.start()` first")
            audio_only = self._fallback or self._link is None
            cid = self._accept_audio(pcm, end, audio_only=audio_only)
            if cid is not None and not audio_only:
                self._link.post(("audio", cid, pcm.astype("<i2", copy=False).tobytes(), bool(end)))
            return cid

    async def close(self) -> None:
        """Close the Motion Server connection (direct mode); playback of queued audio goes on audio-only."""
        with self._session():
            link, self._link = self._link, None
            self._connecting = False
            self._enter_fallback(ConnectionState.disconnected)
        if link is not None:
            await link.close()
