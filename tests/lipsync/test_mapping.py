"""Mouth-shape mappings in avatar manifests, and the server handing them to the session's generator."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.avatar.manifest import parse_manifest
from engine.avatar.package import bundled_package_dir
from engine.motion import layout
from engine.plugins import get_plugin_manager
from engine.server.catalog import AvatarCatalog
from engine.server.ingress import generator_for
from plugins.motion_phoneme.espeak import synthesize

from .conftest import run


def demo_manifest() -> dict:
    return json.loads((bundled_package_dir("demo") / "manifest.json").read_text())


def test_a_manifest_carries_mouth_shapes_and_writes_them_back():
    data = {**demo_manifest(), "mouth_shapes": {"lip_press": {"10": 1.0}, "lip_pucker": {"1": 0.8, "17": 0.2}}}
    m = parse_manifest(data)
    assert m.mouth_shapes == {"lip_press": {10: 1.0}, "lip_pucker": {1: 0.8, 17: 0.2}}
    assert parse_manifest(m.to_dict()).mouth_shapes == m.mouth_shapes
    assert parse_manifest(demo_manifest()).mouth_shapes is None
    assert "mouth_shapes" not in parse_manifest(demo_manifest()).to_dict()


def test_a_bad_mapping_makes_the_manifest_invalid():
    with pytest.raises(AvatarError) as info:
        parse_manifest({**demo_manifest(), "mouth_shapes": {"lip_press": {"99": 1.0}}})
    assert info.value.code == ErrorCode.invalidAvatarMetadata
    assert "manifest.json" in info.value.message and "outside 0..49" in info.value.message


def test_the_server_gives_the_generator_the_avatar_s_mapping(tmp_path):
    package = tmp_path / "mapped"
    package.mkdir()
    mapping = {"mouth_open": {"4": 1.0}}
    (package / "manifest.json").write_text(json.dumps({**demo_manifest(), "id": "mapped", "mouth_shapes": mapping}))
    catalog = AvatarCatalog([tmp_path, bundled_package_dir("demo").parent])
    factory = get_plugin_manager().get("motion_generators", "phoneme").factory
    server = types.SimpleNamespace(catalog=catalog, generator_factory=factory)
    assert generator_for(server, "demo") is factory  # no mapping in the manifest: the generator's default
    utt = synthesize("Hello, how are you?", "en-us+m6")
    out = run(generator_for(server, "mapped")(utt.sample_rate, 50, 0), utt.audio)
    expr = out[:, layout.EXPRESSION_OFFSET:]
    assert np.ptp(expr[:, 4]) > 0.1 and np.all(expr[:, 17] == 0.0)  # mouth_open went to 4; funnel nowhere
    procedural = get_plugin_manager().get("motion_generators", "procedural").factory
    server.generator_factory = procedural  # a generator without the keyword is called as before
    assert generator_for(server, "mapped") is procedural
