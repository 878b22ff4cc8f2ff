"""Starvation-policy conformance: the rules of ``engine.contracts.StarvationPolicy`` for any policy.

Run on your plugin with ``facecast conformance --starvation-policy NAME``.
"""

from __future__ import annotations

import itertools
import math
import tracemalloc

import pytest

from engine.contracts import StarvationDecision, StarvationPolicy

# A stall, a long stall, a refill one frame at a time, then steady playback.
SCRIPT = ([(False, 0.0, 5)] * 3 + [(True, 0.04 * i, 0) for i in range(1, 40)]
          + [(False, 0.0, 1), (False, 0.0, 2), (False, 0.0, 3)] + [(False, 0.0, 10)] * 5)
GRID = list(itertools.product((False, True), (0.0, 0.01, 0.5, 5.0, 600.0), (0, 1, 2, 3, 100)))


def _run(policy, script):
    return [StarvationDecision(policy.decide(*step)) for step in script]


def test_factory_makes_a_policy_of_the_contract(starvation_policy):
    policy = starvation_policy()
    assert isinstance(policy, StarvationPolicy), "missing decide/reset/holds_audio/ease_seconds"
    assert isinstance(policy.holds_audio, bool)
    assert math.isfinite(policy.ease_seconds) and policy.ease_seconds >= 0


def test_every_answer_is_a_decision_and_nothing_raises(starvation_policy):
    policy = starvation_policy()
    for step in GRID + SCRIPT:
        assert policy.decide(*step) in tuple(StarvationDecision)


def test_plays_when_motion_is_there(starvation_policy):
    """With motion covering the clock and a refill buffered, every policy shows the motion."""
    assert all(d is StarvationDecision.PLAY for d in _run(starvation_policy(), [(False, 0.0, 10)] * 20))
    assert _run(starvation_policy(), SCRIPT)[-1] is StarvationDecision.PLAY


def test_only_audio_holding_policies_pause_audio(starvation_policy):
    policy = starvation_policy()
    decisions = _run(policy, SCRIPT)
    stalled = [d for step, d in zip(SCRIPT, decisions) if step[0]]
    if policy.holds_audio:
        assert all(d is StarvationDecision.PAUSE_AUDIO for d in stalled)
    else:
        assert StarvationDecision.PAUSE_AUDIO not in decisions


def test_deterministic_and_reset_restores_the_initial_state(starvation_policy):
    a, b = starvation_policy(), starvation_policy()
    first = _run(a, SCRIPT)
    assert first == _run(b, SCRIPT)
    a.decide(True, 1.0, 0)  # leave it mid-stall
    a.reset()
    assert _run(a, SCRIPT) == first


def test_decide_does_not_allocate(starvation_policy):
    policy = starvation_policy()
    _run(policy, SCRIPT)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(50):
            for step in SCRIPT:
                policy.decide(*step)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 4096, f"decide() kept {after - before} bytes after {50 * len(SCRIPT)} calls"


@pytest.fixture
def starvation_policy(starvation_policy_name):
    from engine.plugins import get_plugin_manager

    try:
        return get_plugin_manager().get("starvation_policies", starvation_policy_name).factory
    except KeyError as exc:
        pytest.fail(str(exc.args[0]))
