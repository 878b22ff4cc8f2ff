"""The public names, enums and error codes match the SDK seed exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "sdk-web-api-reference.txt"


def _seed_enum(name: str) -> dict[str, str]:
    """Parse `enum Name { member = 'value' , ... }` out of the seed text."""
    text = SEED.read_text()
    body = re.search(r"enum " + name + r"\s*\{(.*?)\}", text, re.S).group(1)
    return dict(re.findall(r"(\w+)\s*=\s*'([^']+)'", body))


needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared/seeds is not next to this checkout")


@needs_seed
@pytest.mark.parametrize("enum_name", ["DrivingServiceMode", "RenderQuality", "FrameStarvationMode",
                                       "AnimationType", "LogLevel", "ConnectionState", "ConversationState",
                                       "ErrorCode"])
def test_enum_values_match_the_seed(enum_name):
    seed = _seed_enum(enum_name)
    ours = {m.name: m.value for m in getattr(engine, enum_name)}
    assert ours == seed


def test_error_code_has_the_22_codes():
    assert len(engine.ErrorCode) == 22
    assert all(isinstance(c, str) and c == c.value for c in engine.ErrorCode)


@needs_seed
def test_load_progress_types_match_the_seed():
    text = SEED.read_text()
    seed_types = set(re.search(r"type : ('downloading' \| 'completed' \| 'failed')", text).group(1)
                     .replace("'", "").replace(" ", "").split("|"))
    assert {t.value for t in engine.LoadProgressType} == seed_types
    info = engine.LoadProgressInfo("downloading", progress=0.5)
    assert info.type is engine.LoadProgressType.downloading and info.progress == 0.5


def test_enums_are_str_enums():
    assert engine.RenderQuality.ultra == "ultra"
    assert f"{engine.ConversationState.playing}" == "playing"


def test_avatar_error_carries_code_and_message():
    err = engine.AvatarError(engine.ErrorCode.noAudio, "nothing to play")
    assert err.code is engine.ErrorCode.noAudio
    assert err.message == "nothing to play"
    assert "noAudio" in str(err)
    with pytest.raises(ValueError):
        engine.AvatarError("notACode", "x")


def test_public_api_names_exist():
    for name in ("AvatarSDK", "AvatarManager", "AvatarView", "AvatarController", "Avatar", "Configuration",
                 "AudioFormat", "LoadProgressInfo", "AvatarError", "ErrorCode", "hookimpl"):
        assert getattr(engine, name) is not None, name


@pytest.mark.parametrize("seed_name", ["initialize", "setSessionToken", "setUserId", "setRenderQuality",
                                       "setRenderResolutionCap", "deviceScore", "isDeviceSupported", "cleanup"])
def test_every_seed_sdk_method_exists_in_snake_case(seed_name):
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", seed_name).lower()
    assert callable(getattr(engine.AvatarSDK, snake))


@pytest.mark.parametrize("prop", ["app_id", "configuration", "session_token", "user_id", "version",
                                  "render_resolution_cap_enabled", "render_resolution_max_height"])
def test_every_seed_sdk_property_exists(prop):
    assert hasattr(engine.AvatarSDK, prop)
