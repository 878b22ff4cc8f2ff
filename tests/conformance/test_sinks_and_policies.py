"""Run the reusable audio-sink and starvation-policy conformance suites on the built-in plugins."""

import pytest

from conformance.test_audio_sinks import *  # noqa: F401,F403  (pytest collects the imported tests here)
from conformance.test_starvation_policies import *  # noqa: F401,F403


@pytest.fixture(autouse=True)
def _real_device_for_sounddevice(request):
    """The sounddevice sink plays into the private PulseAudio null sink (skipped if it cannot start)."""
    if request.node.callspec.params.get("audio_sink_name") == "sounddevice":
        request.getfixturevalue("pulse_null_sink")
