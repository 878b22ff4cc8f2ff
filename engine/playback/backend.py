"""Backend mode of ``AvatarController``: the app's server holds the Motion Server session and
hands the controller audio (``yield_audio_data``) and raw animation envelopes (``yield_frames_data``).

A mixin of ``AvatarController``: it uses the controller's lock, rounds and sink (see controller.py).
"""

from __future__ import annotations

from ..enums import DrivingServiceMode
from ..errors import AvatarError, ErrorCode
from ..sdk import AvatarSDK
from . import audio_input
from .connection import LinkListener


class BackendMode:

    def yield_audio_data(self, data, end: bool = False) -> str | None:
        """Play PCM16 mono ``data`` at the configured rate; returns the conversation id, or None if nothing plays."""
        pcm = audio_input.to_pcm16(data, end, "yield_audio_data")
        with self._session():
            self._require_mode(DrivingServiceMode.backend, "yield_audio_data", "send(audio, end)")
            self._ensure_backend_transport()
            return self._accept_audio(pcm, end, audio_only=False)

    def yield_frames_data(self, payloads, conversation_id: str) -> bool:
        """Feed raw animation messages for ``conversation_id``; True once its final message arrived.

        Payloads for any other conversation are dropped. An empty list makes the conversation audio-only.
        """
        if not isinstance(conversation_id, str) or not conversation_id:
            raise AvatarError(ErrorCode.serverError,
                              "yield_frames_data needs the conversation id returned by yield_audio_data, "
                              f"not {conversation_id!r}")
        with self._session():
            self._require_mode(DrivingServiceMode.backend, "yield_frames_data", "the transport (direct mode)")
            transport = self._ensure_backend_transport()
            rnd = self._round
            current = rnd is not None and rnd.id == conversation_id and not rnd.finished
            if current and isinstance(payloads, (list, tuple)) and len(payloads) == 0:
                rnd.make_audio_only()
                self._update()
                return True
            fed = transport.feed(payloads, conversation_id)  # -> self._on_transport_animation per payload
            self._update()
            if fed is None:
                return bool(rnd is not None and rnd.id == conversation_id and rnd.motion_ended)
            return rnd.motion_ended

    def _ensure_backend_transport(self):
        if self._transport is None:
            name = self._config().transport or "backend"
            transport = make_transport(self, name, AvatarSDK.session_token)
            for method in ("open_round", "close_round", "feed"):
                if not callable(getattr(transport, method, None)):
                    raise AvatarError(ErrorCode.networkLayerNotAvailable,
                                      f"transport {name!r} cannot serve backend mode: it has no {method}()")
            self._transport = transport
            if self._round is not None and not self._round.finished:
                transport.open_round(self._round.id)
        return self._transport

    def _on_transport_animation(self, message: bytes) -> None:
        """A raw animation envelope from the transport (backend: already matched; direct: match req_id)."""
        try:
            with self._lock:
                rnd = self._round
                if rnd is None or rnd.finished or rnd.audio_only:
                    return
                decoded = self._animation_decoder().decode(message)
                if self._link is not None and decoded.req_id != rnd.id:
                    return  # direct mode: motion of a round that was superseded or interrupted
                self._push_motion(rnd, decoded)
        except AvatarError as error:
            if self._link is None:
                raise  # backend mode: yield_frames_data's caller hears it directly
            self._emit_error(error)


def make_transport(controller, name: str, session_token):
    """A new instance of the registered transport ``name`` (either mode), reporting to ``controller``."""
    from ..contracts import TransportContext
    from ..plugins import get_plugin_manager

    try:
        factory = get_plugin_manager().get("transports", name).factory
    except KeyError as exc:
        raise AvatarError(ErrorCode.networkLayerNotAvailable, f"{exc.args[0]}; install the plugin that "
                          "provides it or set Configuration.transport") from None
    config = controller._config()
    context = TransportContext(app_id=AvatarSDK.app_id, avatar_id=controller.avatar.id,
                               audio_format=config.audio_format, endpoints=config.endpoints(),
                               session_token=session_token, listener=LinkListener(controller),
                               user_id=AvatarSDK.user_id)
    return factory(context)
