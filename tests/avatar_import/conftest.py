"""A synthetic FLAME model and trained run (session-wide: building them takes a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.avatar.gaussian_avatars import gaussian_avatars_flame, import_gaussian_avatars

from .synthetic import flame_params, ply_columns, write_flame_pickle, write_run

TEETH_FACES = 168


@pytest.fixture(scope="session")
def flame_pkl(tmp_path_factory):
    path = tmp_path_factory.mktemp("flame") / "flame2023.pkl"
    arrays = write_flame_pickle(path)
    return path, arrays


@pytest.fixture(scope="session")
def flame_npz(flame_pkl):
    """The same model as a plain .npz (the converted form `facecast convert-flame` writes, uncompressed here)."""
    path = flame_pkl[0].with_suffix(".npz")
    arrays = dict(flame_pkl[1], J_regressor=flame_pkl[1]["J_regressor"].toarray())
    np.savez(path, **{k: v for k, v in arrays.items() if isinstance(v, np.ndarray)})
    return path


@pytest.fixture(scope="session")
def ga_rig(flame_npz):
    """FLAME with GaussianAvatars' teeth (the arrays the importer builds the head from)."""
    return gaussian_avatars_flame(flame_npz)


@pytest.fixture(scope="session")
def face_count(flame_pkl):
    return len(flame_pkl[1]["f"]) + TEETH_FACES


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory, face_count):
    root = tmp_path_factory.mktemp("run") / "subject-074"
    write_run(root, face_count)
    return root


@pytest.fixture(scope="session")
def imported(tmp_path_factory, run_dir, flame_pkl):
    out = tmp_path_factory.mktemp("imported") / "subject.zip"
    return import_gaussian_avatars(run_dir, flame_pkl[0], out), out


@pytest.fixture
def make_run(tmp_path, face_count):
    """A run with some attribute changed: ``make_run(columns=..., params=...)`` → its directory."""
    def make(columns=None, params=None):
        root = tmp_path / "run"
        write_run(root, face_count, gaussians=500, frames=4,
                  columns=columns, params=params)
        return root
    make.columns = lambda: ply_columns(500, face_count)
    make.params = lambda: flame_params(4)
    return make


def sh_reference(coeffs: np.ndarray, dirs: np.ndarray, degree: int) -> np.ndarray:
    """clamp(Σ c·Y(d) + 0.5, 0, 1) with the real SH basis built from scipy's complex harmonics.

    3D Gaussian Splatting keeps the Condon–Shortley phase: Y_lm = √2·Im Y_l^|m| (m < 0), Y_l^0, √2·Re Y_l^m
    (m > 0), in the order l² + l + m.
    """
    from scipy.special import sph_harm_y

    d = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    polar, azimuth = np.arccos(np.clip(d[:, 2], -1, 1)), np.arctan2(d[:, 1], d[:, 0])
    basis = []
    for l in range(degree + 1):
        for m in range(-l, l + 1):
            y = sph_harm_y(l, abs(m), polar, azimuth)
            basis.append(np.sqrt(2) * y.imag if m < 0 else (y.real if m == 0 else np.sqrt(2) * y.real))
    basis = np.stack(basis, axis=1)  # (N, K)
    return np.clip(np.einsum("nk,nkc->nc", basis, coeffs[:, :len(basis[0])]) + 0.5, 0.0, 1.0)
