"""``AvatarSDK``: process-wide initialisation and configuration (static, like the seed's)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from .config import Configuration
from .enums import RenderQuality
from .errors import AvatarError, ErrorCode
from .logs import apply_log_level, reset_logging
from .runtime import runtime
from .version import __version__

log = logging.getLogger("facecast.sdk")


def _read(field: str, doc: str) -> property:
    return property(lambda cls: getattr(runtime(), field), doc=doc)


class _SDKState(type):
    """``AvatarSDK.app_id`` and the rest read the process's ``engine.runtime`` state (read-only here:
    the SDK's methods are the only writers)."""

    app_id = _read("app_id", "The App ID given to ``initialize``.")
    configuration = _read("configuration", "The ``Configuration`` in force, or None before ``initialize``.")
    session_token = _read("session_token", "The direct-mode session token in force.")
    user_id = _read("user_id", "The user id sent with sessions, or None.")
    render_resolution_cap_enabled = _read("render_resolution_cap_enabled", "Whether the height cap applies.")
    render_resolution_max_height = _read("render_resolution_max_height", "The backing-buffer height cap (px).")


class AvatarSDK(metaclass=_SDKState):
    """Global SDK state. Call ``await AvatarSDK.initialize(app_id, Configuration(...))`` first.

    Every member mirrors the seed's ``AvatarSDK`` in snake_case. There is one SDK per process;
    its state lives in ``engine.runtime`` so lower floors can read it without importing this.
    """

    version: ClassVar[str] = __version__

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    async def initialize(cls, app_id: str, configuration: Configuration | dict | None = None) -> None:
        """Validate and apply ``app_id`` and ``configuration``; a second call reconfigures cleanly."""
        if not isinstance(app_id, str) or not app_id.strip():
            raise AvatarError(ErrorCode.appIDUnrecognized,
                              "app_id must be a non-empty string: pass the App ID of your application "
                              "(`facecast serve` prints the local one)")
        if any(c.isspace() for c in app_id):
            raise AvatarError(ErrorCode.appIDUnrecognized, f"app_id {app_id!r} contains whitespace; copy it exactly")
        config = cls._coerce_configuration(configuration)
        state = runtime()
        reconfigure = state.configuration is not None
        state.app_id = app_id
        state.configuration = config
        apply_log_level(config.log_level)
        if state.pending_token is not None:
            state.session_token = state.pending_token
            state.pending_token = None
        for view in list(state.views):
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
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "configuration must be an engine.Configuration or a dict, "
                              f"not {type(configuration).__name__}")
        aliases = {"drivingServiceMode": "driving_service_mode", "logLevel": "log_level",
                   "audioFormat": "audio_format", "customEndpoint": "custom_endpoint",
                   "renderQuality": "render_quality"}
        kwargs = {aliases.get(k, k): v for k, v in configuration.items()}
        try:
            return Configuration(**kwargs)
        except TypeError as exc:
            raise AvatarError(ErrorCode.playbackInitFailed, f"unknown configuration field: {exc}") from None
        except ValueError as exc:
            code = ErrorCode.networkLayerNotAvailable if "region" in str(exc) or "endpoint" in str(exc) \
                else ErrorCode.playbackInitFailed
            raise AvatarError(code, f"invalid configuration: {exc}") from None

    @classmethod
    def is_initialized(cls) -> bool:
        return runtime().configuration is not None

    @classmethod
    def require_initialized(cls, what: str) -> Configuration:
        """The configuration, or ``AvatarError`` telling the caller to initialise first."""
        return runtime().require_configuration(what)

    @classmethod
    def cleanup(cls) -> None:
        """Dispose every live view, forget cached avatars and reset all SDK state."""
        state = runtime()
        for view in list(state.views):
            try:
                view.dispose()
            except Exception:  # a broken view must not stop the rest from being released
                log.exception("disposing a view during cleanup failed")
        state.run_cleanups()  # what lower floors registered (AvatarManager forgets its cached avatars)
        state.reset()
        reset_logging()

    # -- credentials ----------------------------------------------------------------------------

    @classmethod
    def set_session_token(cls, token: str | None) -> None:
        """Token for direct mode (≤ 24 h, bound to the App ID). Before ``initialize`` it is kept and applied then."""
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise AvatarError(ErrorCode.sessionTokenInvalid,
                              "session token must be a non-empty string from your backend's "
                              "POST /v1/console/session-tokens (or None to clear it)")
        state = runtime()
        if state.configuration is None:
            state.pending_token = token
        else:
            state.session_token = token

    @classmethod
    def set_user_id(cls, user_id: str | None) -> None:
        if user_id is not None and not isinstance(user_id, str):
            raise AvatarError(ErrorCode.appIDUnrecognized,
                              f"user_id must be a string or None, not {type(user_id).__name__}")
        runtime().user_id = user_id

    # -- rendering ------------------------------------------------------------------------------

    @classmethod
    def set_render_quality(cls, quality: RenderQuality | str) -> None:
        """Change the quality tier; live views apply it on their next frame."""
        config = cls.require_initialized("set_render_quality")
        try:
            quality = RenderQuality.parse(quality, "render quality")
        except ValueError as exc:
            raise AvatarError(ErrorCode.playbackInitFailed, str(exc)) from None
        import attrs

        state = runtime()
        state.configuration = attrs.evolve(config, render_quality=quality)
        for view in list(state.views):
            view._on_sdk_reconfigured()

    @classmethod
    def set_render_resolution_cap(cls, enabled: bool, max_height: int | None = None) -> None:
        """Cap the backing-buffer height at ``max_height`` pixels (default 1080) while enabled."""
        if not isinstance(enabled, bool):
            raise AvatarError(ErrorCode.playbackInitFailed, f"enabled must be True or False, not {enabled!r}")
        if max_height is not None:
            if isinstance(max_height, bool) or not isinstance(max_height, int) or not 16 <= max_height <= 16384:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  f"max_height must be a whole number of pixels in 16..16384, not {max_height!r}")
        state = runtime()
        if max_height is not None:
            state.render_resolution_max_height = max_height
        state.render_resolution_cap_enabled = enabled
        for view in list(state.views):
            view._on_sdk_reconfigured()

    @classmethod
    async def device_score(cls) -> Any:
        """Benchmark each render backend on the real workload; returns a ``DeviceScore``."""
        from .render.device_score import measure_device_score

        score = runtime().device_score = await measure_device_score()
        return score

    @classmethod
    async def is_device_supported(cls) -> bool:
        """Whether some backend renders the demo workload fast enough to be usable here."""
        score = runtime().device_score or await cls.device_score()
        return bool(score.supported)
