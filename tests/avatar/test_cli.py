"""The avatar subcommands run through the real ``facecast`` entry point."""

from __future__ import annotations

import pickle

import numpy as np

from engine.avatar.manifest import parse_manifest
from engine.avatar.package import BUNDLED_DIR, load_package
from engine.cli import main

from .test_flame import flame_dict


def test_make_demo_avatar_writes_the_bundled_content(tmp_path, capsys):
    assert main(["make-demo-avatar", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Gaussians" in out and "vertices" in out
    fresh = parse_manifest((tmp_path / "demo" / "manifest.json").read_bytes())
    bundled = parse_manifest((BUNDLED_DIR / "demo" / "manifest.json").read_bytes())
    assert fresh.content_hash == bundled.content_hash
    assert main(["make-demo-avatar", str(tmp_path / "demo.zip"), "--no-compressed"]) == 0
    assert not load_package(tmp_path / "demo.zip").compressed


def test_convert_flame_cli(tmp_path, capsys):
    src = tmp_path / "generic_model.pkl"
    src.write_bytes(pickle.dumps(flame_dict(np.random.default_rng(1)), protocol=2))
    assert main(["convert-flame", str(src), str(tmp_path / "flame.npz")]) == 0
    assert "100 expressions" in capsys.readouterr().out
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")  # protocol 0: os.system('echo hi')
    assert main(["convert-flame", str(evil), str(tmp_path / "x.npz")]) == 1
    err = capsys.readouterr().err
    assert "invalidAvatarMetadata" in err and "os.system" in err
    assert not (tmp_path / "x.npz").exists()
