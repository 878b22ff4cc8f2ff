"""Every mismatch between a run, its FLAME model and the expected format is invalidAvatarMetadata naming the
file and the field."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.avatar.gaussian_avatars import import_gaussian_avatars
from engine.avatar.gaussian_avatars.ply import read_ply_vertices

from .synthetic import flame_arrays


def _expect(run, flame, file, pattern):
    with pytest.raises(AvatarError) as info:
        import_gaussian_avatars(run, flame)
    assert info.value.code == ErrorCode.invalidAvatarMetadata
    assert file in str(info.value) and re.search(pattern, str(info.value)), str(info.value)


def _column_defect(name):
    def apply(cols, face_count):
        if name == "missing":
            del cols["f_rest_44"]
        elif name == "range":
            cols["binding_0"][3] = face_count + 5
        elif name == "fraction":
            cols["binding_0"] = cols["binding_0"] + 0.5
        elif name == "nan":
            cols["opacity"][10] = np.nan
        elif name == "zero_rotation":
            for k in range(4):
                cols[f"rot_{k}"][2] = 0.0
    return apply


@pytest.mark.parametrize("defect, pattern", [
    ("missing", r"missing attribute f_rest_44"),
    ("range", r"binding_0 values must lie in 0\.\.\d+"),
    ("fraction", r"binding_0 must hold whole triangle indices"),
    ("nan", r"opacity holds NaN or infinite values \(first at row 10\)"),
    ("zero_rotation", r"rot_0\.\.3 of Gaussian 2 is a zero quaternion"),
])
def test_point_cloud_defects(make_run, flame_npz, face_count, defect, pattern):
    cols = make_run.columns()
    _column_defect(defect)(cols, face_count)
    _expect(make_run(columns=cols), flame_npz, "point_cloud.ply", pattern)


@pytest.mark.parametrize("key, value, pattern", [
    ("static_offset", np.zeros((1, 5000, 3)), r"static_offset must have shape \(1, 5143, 3\)"),
    ("rotation", np.zeros((3, 3)), r"rotation must have shape \(4, 3\)"),
    ("expr", np.full((4, 100), np.inf), r"expr holds NaN or infinite values"),
    ("eyes_pose", None, r"missing eyes_pose"),
    ("dynamic_offset", np.zeros((4, 10, 3)), r"dynamic_offset must have shape \(4, 5143, 3\)"),
])
def test_flame_param_defects(make_run, flame_npz, key, value, pattern):
    params = make_run.params()
    if value is None:
        del params[key]
    else:
        params[key] = value
    _expect(make_run(params=params), flame_npz, "flame_param.npz", pattern)


def test_flame_only_offsets_are_padded_for_the_teeth(make_run, flame_npz):
    params = make_run.params()
    params["static_offset"] = params["static_offset"][:, :5023]
    avatar = import_gaussian_avatars(make_run(params=params), flame_npz)
    assert avatar.head.vertex_count == 5143


def test_flame_model_with_other_topology(make_run, tmp_path):
    small = flame_arrays()
    small = {k: (v[:4000] if k in ("v_template", "shapedirs", "posedirs", "weights") else v) for k, v in small.items()}
    small["J_regressor"] = np.eye(5, 4000)
    small["f"] = small["f"][(small["f"] < 4000).all(axis=1)]
    path = tmp_path / "flame_small.npz"
    np.savez(path, **{k: v for k, v in small.items() if isinstance(v, np.ndarray)})
    _expect(make_run(), path, "flame_small.npz", r"has 4000 vertices; GaussianAvatars' teeth are built on FLAME's 5023")


def test_ply_reader_refuses_truncated_and_foreign_files():
    header = b"ply\nformat binary_little_endian 1.0\nelement vertex 10\nproperty float x\nend_header\n"
    with pytest.raises(AvatarError, match="truncated"):
        read_ply_vertices(header + b"\0" * 12, "p.ply")
    with pytest.raises(AvatarError, match="not a PLY file"):
        read_ply_vertices(b"solid cube\n", "p.ply")
    ascii_ply = (b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty uchar k\nend_header\n"
                 b"1.5 3\n-2 4\n")
    cols = read_ply_vertices(ascii_ply, "p.ply")
    assert cols["x"].tolist() == [1.5, -2.0] and cols["k"].tolist() == [3, 4]
    big = b"ply\nformat binary_big_endian 1.0\nelement vertex 1\nproperty double x\nend_header\n" + \
        np.array([2.25], ">f8").tobytes()
    assert read_ply_vertices(big, "p.ply")["x"].tolist() == [2.25]


@pytest.mark.parametrize("degree", [0, 1])
def test_runs_trained_with_a_lower_sh_degree(make_run, flame_npz, degree):
    cols = make_run.columns()
    for k in range(3 * ((degree + 1) ** 2 - 1), 45):
        del cols[f"f_rest_{k}"]
    avatar = import_gaussian_avatars(make_run(columns=cols), flame_npz)
    assert avatar.gaussians.sh_degree == degree
    if degree:  # f_rest is channel-major: coefficient j+1 of channel c is f_rest[c·3 + j] at degree 1
        np.testing.assert_array_equal(avatar.gaussians.sh[:, 2, 1], cols["f_rest_4"].astype(np.float32))
