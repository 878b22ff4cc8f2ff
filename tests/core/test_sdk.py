"""AvatarSDK: initialisation, validation, credentials, render settings, cleanup."""

from __future__ import annotations

import logging

import pytest

from engine import (AvatarError, AvatarSDK, Configuration, DrivingServiceMode, ErrorCode, LogLevel, RenderQuality,
                    register_region)
from engine.config import REGIONS


async def test_initialize_applies_configuration_and_defaults():
    await AvatarSDK.initialize("app-1")
    config = AvatarSDK.configuration
    assert AvatarSDK.app_id == "app-1"
    assert config.region == "local"
    assert config.driving_service_mode is DrivingServiceMode.direct
    assert config.log_level is LogLevel.off
    assert config.render_quality is RenderQuality.ultra
    assert config.audio_format.sample_rate == 16000 and config.audio_format.channel_count == 1
    assert config.endpoints().ingress.startswith("ws://127.0.0.1:")


async def test_initialize_accepts_seed_style_dicts():
    await AvatarSDK.initialize("app-1", {"drivingServiceMode": "backend", "logLevel": "warning",
                                         "audioFormat": {"channelCount": 1, "sampleRate": 24000},
                                         "renderQuality": "high"})
    c = AvatarSDK.configuration
    assert c.driving_service_mode is DrivingServiceMode.backend
    assert c.audio_format.sample_rate == 24000 and c.render_quality is RenderQuality.high


@pytest.mark.parametrize("app_id", ["", "   ", None, 42, "has space"])
async def test_bad_app_id_is_rejected(app_id):
    with pytest.raises(AvatarError) as info:
        await AvatarSDK.initialize(app_id)
    assert info.value.code is ErrorCode.appIDUnrecognized
    assert "app_id" in info.value.message
    assert AvatarSDK.configuration is None


@pytest.mark.parametrize("config, fragment", [
    ({"audioFormat": {"channelCount": 2, "sampleRate": 16000}}, "mono"),
    ({"audioFormat": {"channelCount": 1, "sampleRate": 11025}}, "8000, 16000, 22050"),
    ({"renderQuality": "extreme"}, "'standard', 'high', 'ultra'"),
    ({"drivingServiceMode": "p2p"}, "'direct', 'backend'"),
    ({"logLevel": "verbose"}, "log_level"),
    ({"nonsense": 1}, "unknown configuration field"),
])
async def test_bad_configuration_says_what_is_allowed(config, fragment):
    with pytest.raises(AvatarError) as info:
        await AvatarSDK.initialize("app", config)
    assert info.value.code is ErrorCode.playbackInitFailed
    assert fragment in info.value.message


async def test_unknown_region_and_bad_endpoint():
    with pytest.raises(AvatarError) as info:
        await AvatarSDK.initialize("app", {"region": "mars"})
    assert info.value.code is ErrorCode.networkLayerNotAvailable
    assert "register_region" in info.value.message
    with pytest.raises(AvatarError) as info:
        await AvatarSDK.initialize("app", {"customEndpoint": "ftp://x"})
    assert "http" in info.value.message


async def test_custom_endpoint_and_user_regions():
    await AvatarSDK.initialize("app", Configuration(custom_endpoint="http://127.0.0.1:9999"))
    assert AvatarSDK.configuration.endpoints().ingress == "ws://127.0.0.1:9999/v2/driveningress"
    register_region("lab", "https://avatars.example.org")
    try:
        await AvatarSDK.initialize("app", Configuration(region="lab"))
        ep = AvatarSDK.configuration.endpoints()
        assert ep.console == "https://avatars.example.org/v1/console"
        assert ep.ingress == "wss://avatars.example.org/v2/driveningress"
    finally:
        REGIONS.pop("lab")


async def test_second_initialize_reconfigures_cleanly():
    AvatarSDK.set_session_token("tok-1")
    await AvatarSDK.initialize("app-1", {"drivingServiceMode": "backend"})
    await AvatarSDK.initialize("app-2", {"drivingServiceMode": "direct"})
    assert AvatarSDK.app_id == "app-2"
    assert AvatarSDK.configuration.driving_service_mode is DrivingServiceMode.direct
    assert AvatarSDK.session_token == "tok-1"


async def test_session_token_before_initialize_is_applied_on_initialize():
    AvatarSDK.set_session_token("early-token")
    assert AvatarSDK.session_token is None
    await AvatarSDK.initialize("app")
    assert AvatarSDK.session_token == "early-token"
    AvatarSDK.set_session_token("later-token")
    assert AvatarSDK.session_token == "later-token"


@pytest.mark.parametrize("token", ["", "  ", 5])
def test_bad_session_token(token):
    with pytest.raises(AvatarError) as info:
        AvatarSDK.set_session_token(token)
    assert info.value.code is ErrorCode.sessionTokenInvalid


async def test_user_id():
    AvatarSDK.set_user_id("user-123")
    assert AvatarSDK.user_id == "user-123"
    with pytest.raises(AvatarError):
        AvatarSDK.set_user_id(3)


def test_calls_before_initialize_say_to_initialize_first():
    with pytest.raises(AvatarError) as info:
        AvatarSDK.set_render_quality("high")
    assert "AvatarSDK.initialize" in info.value.message


async def test_render_quality_and_resolution_cap():
    await AvatarSDK.initialize("app")
    AvatarSDK.set_render_quality(RenderQuality.standard)
    assert AvatarSDK.configuration.render_quality is RenderQuality.standard
    with pytest.raises(AvatarError) as info:
        AvatarSDK.set_render_quality("4k")
    assert "'standard', 'high', 'ultra'" in info.value.message
    AvatarSDK.set_render_resolution_cap(True, 720)
    assert AvatarSDK.render_resolution_cap_enabled and AvatarSDK.render_resolution_max_height == 720
    AvatarSDK.set_render_resolution_cap(False)
    assert not AvatarSDK.render_resolution_cap_enabled and AvatarSDK.render_resolution_max_height == 720
    for bad in (0, -5, 1.5, "1080", True):
        with pytest.raises(AvatarError):
            AvatarSDK.set_render_resolution_cap(True, bad)
    with pytest.raises(AvatarError):
        AvatarSDK.set_render_resolution_cap("yes")


@pytest.mark.parametrize("level, emitted, silenced", [
    ("off", [], [logging.ERROR]),
    ("error", [logging.ERROR], [logging.WARNING]),
    ("warning", [logging.WARNING], [logging.INFO]),
    ("all", [logging.DEBUG], []),
])
async def test_log_levels_map_onto_logging(level, emitted, silenced):
    await AvatarSDK.initialize("app", {"logLevel": level})
    logger = logging.getLogger("facecast.test")
    for lvl in emitted:
        assert logger.isEnabledFor(lvl)
    for lvl in silenced:
        assert not logger.isEnabledFor(lvl)


async def test_cleanup_resets_everything():
    AvatarSDK.set_session_token("t")
    await AvatarSDK.initialize("app")
    AvatarSDK.set_user_id("u")
    AvatarSDK.set_render_resolution_cap(True, 480)
    AvatarSDK.cleanup()
    assert (AvatarSDK.app_id, AvatarSDK.configuration, AvatarSDK.session_token, AvatarSDK.user_id) == (None,) * 4
    assert not AvatarSDK.render_resolution_cap_enabled
    assert AvatarSDK.version
