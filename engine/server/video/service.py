"""Opens the rendered-video egress of a session: capacity, the avatar, the renderer, the join token.

Rendering is the costly part of a video session (``python -m benchmarks video`` measures it), so
the server admits at most ``VideoSettings.max_sessions`` at once and refuses the next one with
``RtcErrorCode.RENDER_CAPACITY`` — a clear error for one, rather than late frames for everyone.
Every video session renders in this process at 48 kHz (Opus's rate): the engine's client SDK is
process-wide, so the service initializes it in backend mode at that rate and refuses to run
beside an SDK configured otherwise (an app and a server in one process).
"""

from __future__ import annotations

import importlib.util
import logging
import os

import attrs
import numpy as np

from ...rtc.codes import RtcErrorCode
from ...wire import message_pb2 as pb
from ..rtc.attach import joinable_confirm
from ..threads import in_own_thread
from ..rtc.service import EgressUnavailable, Opened, join_path

RENDER_RATE = 48000
log = logging.getLogger("facecast.server")
MAX_SIZE = 1920


def _default_sessions() -> int:
    return max(1, (os.cpu_count() or 1) // 2)  # the cpu backend renders a 512² demo at 25 fps on ~2 cores


def _even_size(instance, attribute, value) -> None:
    if not (16 <= value <= MAX_SIZE and value % 2 == 0):
        raise ValueError(f"VideoSettings.{attribute.name} must be an even number of pixels 16..{MAX_SIZE}, "
                         f"not {value!r}")


@attrs.frozen
class VideoSettings:
    max_sessions: int = attrs.field(factory=_default_sessions)
    width: int = attrs.field(default=512, validator=_even_size)
    height: int = attrs.field(default=512, validator=_even_size)
    fps: int = 25
    backend: str | None = None  # None: the one the device score picks

    def for_session(self, params) -> "VideoSettings":
        """Apply a session's ``extra_params`` (``video_width``, ``video_height``, ``video_fps``)."""
        changes = {}
        for key, name in (("video_width", "width"), ("video_height", "height"), ("video_fps", "fps")):
            if key in params:
                try:
                    changes[name] = int(params[key])
                except ValueError:
                    raise CapacityError(RtcErrorCode.CONFIG_INVALID,
                                        f"extra_params[{key!r}] must be an integer, not {params[key]!r}") from None
        if changes.get("fps", self.fps) not in (25, 30) or RENDER_RATE % changes.get("fps", self.fps):
            raise CapacityError(RtcErrorCode.CONFIG_INVALID, "video_fps must be 25 or 30")
        try:
            return attrs.evolve(self, **changes)
        except ValueError as exc:
            raise CapacityError(RtcErrorCode.CONFIG_INVALID, str(exc)) from None


class CapacityError(EgressUnavailable):
    def __init__(self, code: RtcErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class VideoService:
    def __init__(self, rtc, catalog, settings: VideoSettings | None = None) -> None:
        self.rtc = rtc
        self.catalog = catalog
        self.settings = settings or VideoSettings()
        self._avatars: dict[str, object] = {}
        self._active: set[str] = set()

    async def warm_up(self) -> None:
        """Play a short round of silence with the bundled demo avatar (keyframes in, decode, pose, frames at
        64²) on this service's backend, so numba compiles (or loads from its cache) the kernels a session
        uses now, not inside the first video session:
        a compile holds the GIL for seconds, and meanwhile that session's WebRTC peer fails its
        connectivity checks (Chromium reports the connection failed).

        Initializes the process's SDK as every video session does (backend mode, 48 kHz), so it is for a
        process that serves alone, as ``facecast serve`` does. A failure is logged, not raised: the
        sessions will report it.
        """
        if self.settings.max_sessions <= 0 or importlib.util.find_spec("aiortc") is None:
            return
        from ...video import AvatarStream

        try:
            stream = await AvatarStream.create("demo", width=64, height=64, fps=self.settings.fps,
                                               sample_rate=RENDER_RATE, backend=self.settings.backend,
                                               app_id="facecast-server-video", motion_generator=False)
            try:
                stream.push(np.zeros(RENDER_RATE // 5, np.int16))
                stream.push_keyframes(np.zeros((5, stream.keyframe_dim), np.float32))
                stream.end_segment()
                for _ in range(2 * self.settings.fps // 5 + 2):
                    await stream.next_frame()
            finally:
                stream.close()
        except Exception:
            log.warning("the video renderer failed its warm-up round", exc_info=True)

    async def open(self, session, cfg: pb.ClientConfigureSession, on_failure):
        """``(egress, confirm bytes)`` for a session configured with ``EGRESS_TYPE_WEBRTC_VIDEO``."""
        if importlib.util.find_spec("aiortc") is None:
            raise EgressUnavailable("this server cannot stream video: the aiortc package is not installed")
        if len(self._active) >= self.settings.max_sessions:
            raise CapacityError(RtcErrorCode.RENDER_CAPACITY,
                                f"this server renders at most {self.settings.max_sessions} video session(s) at once "
                                "and all are in use; try again later or use the motion egress (EGRESS_TYPE_WEBRTC), "
                                "which renders on the viewer's device")
        video = self.settings.for_session(cfg.extra_params)
        rtc_settings = self.rtc.settings.for_session(cfg.webrtc_egress)
        self._active.add(session.connection_id)
        try:
            media = await self._media(session.avatar_id, video)
        except BaseException:
            self._active.discard(session.connection_id)
            raise
        from .egress import VideoEgress

        egress = VideoEgress(connection_id=session.connection_id, app_id=session.app_id, sample_rate=cfg.sample_rate,
                             settings=rtc_settings, media=media, on_failure=on_failure,
                             on_close=lambda: self._active.discard(session.connection_id))
        token, expires = self.rtc.register(session.connection_id, egress)
        opened = Opened(egress, self.rtc.base_url() + join_path(session.connection_id), token, expires)
        return egress, joinable_confirm(session.connection_id, opened)

    async def _media(self, avatar_id: str, video: VideoSettings):
        from ...errors import AvatarError
        from ...sdk import AvatarSDK
        from ...video import AvatarStream
        from ...video.media import AvatarMedia

        config = AvatarSDK.configuration
        if config is not None and (config.driving_service_mode.value != "backend"
                                   or config.audio_format.sample_rate != RENDER_RATE):
            raise EgressUnavailable("this process also runs a Facecast client in "
                                    f"{config.driving_service_mode.value} mode; run the video egress in its own "
                                    "`facecast serve` process")
        avatar = await self._avatar(avatar_id)
        try:
            stream = await AvatarStream.create(avatar, width=video.width, height=video.height, fps=video.fps,
                                               sample_rate=RENDER_RATE, backend=video.backend,
                                               app_id="facecast-server-video", motion_generator=False)
        except AvatarError as exc:
            raise EgressUnavailable(f"the video renderer could not start: {exc}") from None
        return AvatarMedia(stream)

    async def _avatar(self, avatar_id: str):
        if avatar_id not in self._avatars:
            from ...avatar.package import load_package
            from ...errors import AvatarError

            package = self.catalog.package_dir(avatar_id)
            if package is None:
                raise EgressUnavailable(f"avatar {avatar_id!r} has no package on this server")
            try:
                self._avatars[avatar_id] = await in_own_thread(load_package, package)
            except AvatarError as exc:
                raise EgressUnavailable(f"avatar {avatar_id!r} cannot be rendered: {exc}") from None
        return self._avatars[avatar_id]
