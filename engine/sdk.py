"""``AvatarSDK``: process-wide initialisation and configuration (static, like the seed's)."""

from __future__ import annotations

import logging
import weakref
from typing import Any, ClassVar

from .config import Configuration
from .enums import DrivingServiceMode, RenderQuality
from .errors import AvatarError, ErrorCode
from .logs import apply_log_level, reset_logging
from .version import __version__

log = logging.getLogger("facecast.sdk")

DEFAULT_MAX_HEIGHT = 1080


def _bad(code: ErrorCode, message: str) -> AvatarError:
    return AvatarError(code, message)


class AvatarSDK:
    """Global SDK state. Call ``await AvatarSDK.initialize(app_id, Configuration(...))`` first.

    Every member mirrors the seed's ``AvatarSDK`` in snake_case. State is
    class-level: there is one SDK per process.
    """

    app_id: ClassVar[str | None] = None
    configuration: ClassVar[Configuration | None] = None
    session_token: ClassVar[str | None] = None
    user_id: ClassVar[str | None] = None
    version: ClassVar[str] = __version__
    render_resolution_cap_enabled: ClassVar[bool] = False
    render_resolution_max_height: ClassVar[int] = DEFAULT_MAX_HEIGHT
    _pending_token: ClassVar[str | None] = None
    _views: ClassVar["weakref.WeakSet[Any]"] = weakref.WeakSet()
    _device_score: ClassVar[Any] = None

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    async def initialize(cls, app_id: str, configuration: Configuration | dict | None = None) -> None:
        """Validate and apply ``app_id`` and ``configuration``; a second call reconfigures cleanly."""
        if not isinstance(app_id, str) or not app_id.strip():
            raise _bad(ErrorCode.appIDUnrecognized,
                       "app_id must be a non-empty string: pass the App ID of your application "
                       "(`facecast serve` prints the local one)")
        if any(c.isspace() for c in app_id):
            raise _bad(ErrorCode.appIDUnrecognized, f"app_id {app_id!r} contains whitespace; copy it exactly")
        config = cls._coerce_configuration(configuration)
        reconfigure = cls.configuration is not None
        cls.app_id = app_id
        cls.configuration = config
        apply_log_level(config.log_level)
        if cls._pending_token is not None:
            cls.session_token = cls._pending_token
            cls._pending_token = None
        for view in list(cls._views):
            view._on_sdk_reconfigured()
        log.info("initialized app %s (%s mode, region %s)%s", app_id, config.driving_service_mode.value,
                 config.custom_endpoint or config.region, " again" if reconfigure else "")

    @staticmethod
    def _coerce_configuration(configuration: Configuration | dict | None) -> Configuration:
        if configuration is None:
            return Configuration()
        if isinstance(configuration, Configuration):
            return configuration
        if not isinstance(configuration, dict):
            raise _bad(ErrorCode.playbackInitFailed,
                       f"configuration must be an engine.Configuration or a dict, not {type(configuration).__name__}")
        aliases = {"drivingServiceMode": "driving_service_mode", "logLevel": "log_level",
                   "audioFormat": "audio_format", "customEndpoint": "custom_endpoint",
                   "renderQuality": "render_quality"}
        kwargs = {aliases.get(k, k): v for k, v in configuration.items()}
        try:
            return Configuration(**kwargs)
        except TypeError as exc:
            raise _bad(ErrorCode.playbackInitFailed, f"unknown configuration field: {exc}") from None
        except ValueError as exc:
            code = ErrorCode.networkLayerNotAvailable if "region" in str(exc) or "endpoint" in str(exc) \
                else ErrorCode.playbackInitFailed
            raise _bad(code, f"invalid configuration: {exc}") from None

    @classmethod
    def is_initialized(cls) -> bool:
        return cls.configuration is not None

    @classmethod
    def require_initialized(cls, what: str) -> Configuration:
        """The configuration, or ``AvatarError`` telling the caller to initialise first."""
        if cls.configuration is None:
            raise _bad(ErrorCode.appIDUnrecognized,
                       f"{what} needs the SDK: call `await AvatarSDK.initialize(app_id, Configuration(...))` first")
        return cls.configuration

    @classmethod
    def cleanup(cls) -> None:
        """Dispose every live view, forget cached avatars and reset all SDK state."""
        for view in list(cls._views):
            try:
                view.dispose()
            except Exception:  # a broken view must not stop the rest from being released
                log.exception("disposing a view during cleanup failed")
        try:
            from .avatar.manager import AvatarManager

            AvatarManager.shared.clear_all(memory_only=True)
        except ImportError:
            pass
        cls.app_id = None
        cls.configuration = None
        cls.session_token = None
        cls._pending_token = None
        cls.user_id = None
        cls.render_resolution_cap_enabled = False
        cls.render_resolution_max_height = DEFAULT_MAX_HEIGHT
        cls._device_score = None
        reset_logging()

    # -- credentials ----------------------------------------------------------------------------

    @classmethod
    def set_session_token(cls, token: str | None) -> None:
        """Token for direct mode (≤ 24 h, bound to the App ID). Before ``initialize`` it is kept and applied then."""
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise _bad(ErrorCode.sessionTokenInvalid,
                       "session token must be a non-empty string from your backend's "
                       "POST /v1/console/session-tokens (or None to clear it)")
        if cls.configuration is None:
            cls._pending_token = token
        else:
            cls.session_token = token

    @classmethod
    def set_user_id(cls, user_id: str | None) -> None:
        if user_id is not None and not isinstance(user_id, str):
            raise _bad(ErrorCode.appIDUnrecognized, f"user_id must be a string or None, not {type(user_id).__name__}")
        cls.user_id = user_id

    # -- rendering ------------------------------------------------------------------------------

    @classmethod
    def set_render_quality(cls, quality: RenderQuality | str) -> None:
        """Change the quality tier; live views apply it on their next frame."""
        config = cls.require_initialized("set_render_quality")
        try:
            quality = RenderQuality.parse(quality, "render quality")
        except ValueError as exc:
            raise _bad(ErrorCode.playbackInitFailed, str(exc)) from None
        import attrs

        cls.configuration = attrs.evolve(config, render_quality=quality)
        for view in list(cls._views):
            view._on_sdk_reconfigured()

    @classmethod
    def set_render_resolution_cap(cls, enabled: bool, max_height: int | None = None) -> None:
        """Cap the backing-buffer height at ``max_height`` pixels (default 1080) while enabled."""
        if not isinstance(enabled, bool):
            raise _bad(ErrorCode.playbackInitFailed, f"enabled must be True or False, not {enabled!r}")
        if max_height is not None:
            if isinstance(max_height, bool) or not isinstance(max_height, int) or not 16 <= max_height <= 16384:
                raise _bad(ErrorCode.playbackInitFailed,
                           f"max_height must be a whole number of pixels in 16..16384, not {max_height!r}")
            cls.render_resolution_max_height = max_height
        cls.render_resolution_cap_enabled = enabled
        for view in list(cls._views):
            view._on_sdk_reconfigured()

    @classmethod
    async def device_score(cls) -> Any:
        """Benchmark each render backend on the real workload; returns a ``DeviceScore``."""
        from .render.device_score import measure_device_score

        cls._device_score = await measure_device_score()
        return cls._device_score

    @classmethod
    async def is_device_supported(cls) -> bool:
        """Whether some backend renders the demo workload fast enough to be usable here."""
        score = cls._device_score or await cls.device_score()
        return bool(score.supported)

    # -- engine-internal ------------------------------------------------------------------------

    @classmethod
    def _track_view(cls, view: Any) -> None:
        cls._views.add(view)

    @classmethod
    def _driving_mode(cls) -> DrivingServiceMode:
        return cls.require_initialized("this call").driving_service_mode
