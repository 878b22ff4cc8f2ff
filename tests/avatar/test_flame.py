"""The FLAME loader: a fake model with FLAME's real keys and structure (chumpy arrays, a scipy.sparse
J_regressor, Python-2-style latin1 pickling), the converted .npz, and hostile pickles."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.sparse

from engine import AvatarError, ErrorCode
from engine.avatar.flame import FLAME_SHAPE_COUNT, convert_flame, load_flame, read_flame_file
from engine.avatar.rig import posed_vertices
from engine.motion import layout

V = 6  # an octahedron stands in for FLAME's 5023 vertices
FACES = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]], np.uint32)


def _fake_chumpy():
    """A throwaway ``chumpy.ch.Ch`` so the pickle names chumpy exactly as real FLAME files do."""
    ch_mod = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x
            self._dirty_vars = set()

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    ch_mod.Ch = Ch
    return types.ModuleType("chumpy"), ch_mod


def flame_dict(rng, expressions=100):
    template = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float) * 0.1
    reg = np.zeros((5, V))
    reg[0, [4, 5]] = 0.5
    reg[1, [2, 3]] = 0.5
    reg[2, [0, 1, 3]] = 1 / 3
    reg[3, 0] = 1.0
    reg[4, 1] = 1.0
    weights = rng.random((V, 5))
    weights /= weights.sum(axis=1, keepdims=True)
    return {
        "v_template": template,
        "f": FACES,
        "shapedirs": rng.normal(0, 1e-3, (V, 3, FLAME_SHAPE_COUNT + expressions)),
        "posedirs": rng.normal(0, 1e-3, (V, 3, 36)),
        "J_regressor": scipy.sparse.csc_matrix(reg),
        "weights": weights,
        "kintree_table": np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.uint32),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


@pytest.fixture
def fake_flame_pkl(tmp_path):
    rng = np.random.default_rng(3)
    d = flame_dict(rng)
    chumpy, ch_mod = _fake_chumpy()
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = chumpy, ch_mod
    try:
        pickled = dict(d, v_template=ch_mod.Ch(d["v_template"]), shapedirs=ch_mod.Ch(d["shapedirs"]))
        path = tmp_path / "generic_model.pkl"
        path.write_bytes(pickle.dumps(pickled, protocol=2))
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]
    return path, d


def test_fake_flame_pickle_loads_with_real_structure(fake_flame_pkl):
    path, d = fake_flame_pkl
    head = load_flame(path)
    assert head.vertex_count == V and head.expression_count == 100
    np.testing.assert_allclose(head.v_template, d["v_template"], atol=1e-7)
    np.testing.assert_allclose(head.expr_dirs[7], d["shapedirs"][:, :, FLAME_SHAPE_COUNT + 7], atol=1e-7)
    np.testing.assert_allclose(head.pose_dirs[5], d["posedirs"][:, :, 5], atol=1e-7)
    np.testing.assert_allclose(head.j_regressor, d["J_regressor"].toarray(), atol=1e-7)
    assert head.parents.tolist() == [-1, 0, 1, 1, 1]
    assert not head.eyelid_dirs.any()  # FLAME has no eyelid blendshapes


def test_shape_coefficients_and_expression_count(fake_flame_pkl):
    path, d = fake_flame_pkl
    betas = np.linspace(-1, 1, 10)
    head = load_flame(path, shape=betas, expression_count=50)
    expected = d["v_template"] + d["shapedirs"][:, :, :10] @ betas
    np.testing.assert_allclose(head.v_template, expected, atol=1e-6)
    assert head.expression_count == 50
    # The loaded head poses: jaw rotation moves the jaw-weighted vertices.
    pose = np.zeros(layout.motion_dim(50), np.float32)
    pose[layout.JAW.start] = 0.3
    assert np.abs(posed_vertices(head, pose) - posed_vertices(head, np.zeros_like(pose))).max() > 1e-3


def test_convert_flame_roundtrip(fake_flame_pkl, tmp_path):
    path, d = fake_flame_pkl
    out = tmp_path / "flame.npz"
    shapes = convert_flame(path, out)
    assert shapes["shapedirs"] == (V, 3, 400) and shapes["J_regressor"] == (5, V)
    with np.load(out, allow_pickle=False) as z:  # plain numpy can read it: no pickles inside
        assert z["kintree_table"][0].tolist() == [-1, 0, 1, 1, 1]
    a, b = load_flame(path), load_flame(out)
    np.testing.assert_array_equal(a.v_template, b.v_template)
    np.testing.assert_array_equal(a.j_regressor, b.j_regressor)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo facecast-pwned",))


@pytest.mark.parametrize("payload", [
    {"v_template": _Evil()},
    {"f": subprocess.Popen},  # a bare reference to a dangerous class
])
def test_hostile_pickles_are_refused(tmp_path, payload):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(AvatarError) as info:
        read_flame_file(path)
    assert info.value.code == ErrorCode.invalidAvatarMetadata
    assert "refusing" in info.value.message or "not a readable" in info.value.message


def test_reduce_to_eval_is_refused(tmp_path):
    class EvalCall:
        def __reduce__(self):
            return (eval, ("1+1",))

    path = tmp_path / "eval.pkl"
    path.write_bytes(pickle.dumps({"weights": EvalCall()}, protocol=0))
    with pytest.raises(AvatarError, match=r"refusing .*\.eval") as info:
        read_flame_file(path)
    assert info.value.code == ErrorCode.invalidAvatarMetadata


def test_wrong_shapes_and_garbage_are_refused(tmp_path):
    d = flame_dict(np.random.default_rng(0))
    d["posedirs"] = d["posedirs"][:, :, :35]
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(AvatarError, match=r"posedirs must have shape \(6, 3, 36\)"):
        read_flame_file(path)
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"\x80\x02not a pickle at all")
    with pytest.raises(AvatarError) as info:
        read_flame_file(junk)
    assert info.value.code == ErrorCode.invalidAvatarMetadata
    with pytest.raises(AvatarError) as info:
        read_flame_file(tmp_path / "missing.pkl")
    assert info.value.code == ErrorCode.avatarIDUnrecognized


def test_protocol_5_pickles_from_modern_numpy_load(tmp_path):
    """A FLAME dict re-saved by Python 3 with protocol 5 (numpy's out-of-band-capable reduce)."""
    d = flame_dict(np.random.default_rng(2))
    path = tmp_path / "flame_p5.pkl"
    path.write_bytes(pickle.dumps(d, protocol=5))
    head = load_flame(path, expression_count=10)
    np.testing.assert_allclose(head.v_template, d["v_template"], atol=1e-7)
