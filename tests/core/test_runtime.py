"""engine.runtime: the SDK's state as lower floors read it, and the cleanups they register."""

from __future__ import annotations

import pytest

from engine import AvatarError, AvatarSDK, ErrorCode
from engine.runtime import add_cleanup, runtime


async def test_lower_floors_read_what_the_sdk_was_told():
    with pytest.raises(AvatarError) as info:
        runtime().require_configuration("the renderer")
    assert info.value.code == ErrorCode.appIDUnrecognized and info.value.message.startswith("the renderer needs")
    AvatarSDK.set_session_token("early")
    await AvatarSDK.initialize("app-r", {"drivingServiceMode": "direct"})
    AvatarSDK.set_user_id("u-1")
    state = runtime()
    assert (state.app_id, state.session_token, state.user_id) == ("app-r", "early", "u-1")
    assert state.require_configuration("x") is AvatarSDK.configuration
    AvatarSDK.set_render_resolution_cap(True, 720)
    assert (state.render_resolution_cap_enabled, state.render_resolution_max_height) == (True, 720)
    with pytest.raises(AttributeError):
        AvatarSDK.app_id = "other"  # only the SDK's methods write its state


async def test_cleanup_runs_every_registered_cleanup_even_after_one_fails():
    ran = []

    def broken():
        ran.append("broken")
        raise RuntimeError("boom")

    add_cleanup(broken)
    add_cleanup(lambda: ran.append("next"))
    await AvatarSDK.initialize("app-c")
    try:
        AvatarSDK.cleanup()
    finally:
        runtime()._cleanups[-2:] = []  # leave the process as the other tests expect it
    assert ran == ["broken", "next"]
    assert AvatarSDK.app_id is None and AvatarSDK.configuration is None
