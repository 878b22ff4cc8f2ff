"""A restricted unpickler for FLAME model files (Python-2 pickles of numpy, scipy.sparse and chumpy).

Only numpy array reconstruction, a few harmless builtins and stand-ins for ``scipy.sparse`` matrices
and ``chumpy`` objects are admitted; any other global (``os.system``, ``builtins.eval``, ...) makes
the load fail with ``invalidAvatarMetadata``. The stand-ins never run library code: they keep the
pickled state and turn it into plain arrays, so neither scipy nor chumpy is needed to read a file.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

from ..errors import AvatarError, ErrorCode


class ChumpyStandIn:
    """Takes the place of any ``chumpy`` class: keeps the pickled ``__dict__``; the array is ``x``."""

    def __setstate__(self, state) -> None:
        self.state = state if isinstance(state, dict) else {"x": state}

    def to_array(self) -> np.ndarray | None:
        x = self.state.get("x")
        if isinstance(x, ChumpyStandIn):
            return x.to_array()
        return np.asarray(x) if isinstance(x, np.ndarray) else None


class SparseStandIn:
    """Takes the place of a ``scipy.sparse`` matrix: rebuilds it densely from its pickled fields."""

    kind = "csc"

    def __setstate__(self, state) -> None:
        self.state = state if isinstance(state, dict) else {}

    def to_array(self) -> np.ndarray:
        s = self.state
        shape = tuple(int(n) for n in s.get("_shape", s.get("shape", ())))
        if len(shape) != 2 or min(shape) < 0 or shape[0] * shape[1] > (1 << 28):
            raise ValueError(f"sparse matrix with unusable shape {shape!r}")
        out = np.zeros(shape, dtype=np.float64)
        data = np.asarray(s.get("data"), dtype=np.float64)
        if self.kind == "coo":
            rows, cols = np.asarray(s["row"], np.int64), np.asarray(s["col"], np.int64)
            np.add.at(out, (rows, cols), data)
            return out
        indices = np.asarray(s["indices"], dtype=np.int64)
        indptr = np.asarray(s["indptr"], dtype=np.int64)
        major = shape[1] if self.kind == "csc" else shape[0]
        if indptr.shape != (major + 1,) or indptr[-1] != len(data) or len(indices) != len(data):
            raise ValueError("sparse matrix fields are inconsistent")
        counts = np.diff(indptr)
        if (counts < 0).any():
            raise ValueError("sparse matrix indptr is not monotonic")
        majors = np.repeat(np.arange(major), counts)
        if self.kind == "csc":
            np.add.at(out, (indices, majors), data)
        else:
            np.add.at(out, (majors, indices), data)
        return out


def _sparse(kind: str) -> type:
    return type(f"{kind}_matrix", (SparseStandIn,), {"kind": kind})


_SPARSE = {f"{k}_matrix": _sparse(k) for k in ("csc", "csr", "coo")}
_SPARSE.update({f"{k}_array": _SPARSE[f"{k}_matrix"] for k in ("csc", "csr", "coo")})
_NUMPY = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
          ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
          ("numpy", "ndarray"), ("numpy", "dtype"),
          ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}  # protocol-5 arrays
_BUILTINS = {"object": object, "set": set, "frozenset": frozenset, "slice": slice, "list": list,
             "dict": dict, "tuple": tuple}


def _bytes_from_latin1(text: str, encoding: str = "latin1") -> bytes:
    """What protocol-2 pickles written by Python 3 call (``_codecs.encode``) to rebuild ``bytes``."""
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"refusing a pickle that encodes bytes as {encoding!r}; only latin1 is used by numpy")
    return text.encode("latin1")


class FlameUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module == "_codecs" and name == "encode":
            return _bytes_from_latin1
        if (module, name) in _NUMPY:
            return super().find_class(module, name)
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            import copyreg

            return copyreg._reconstructor
        if module in ("__builtin__", "builtins") and name in _BUILTINS:
            return _BUILTINS[name]
        if module.startswith("scipy.sparse") and name in _SPARSE:
            return _SPARSE[name]
        if module == "chumpy" or module.startswith("chumpy."):
            return ChumpyStandIn
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"refusing to load a FLAME pickle that references {module}.{name}: model files may "
                          "only hold numpy arrays, scipy.sparse matrices and chumpy arrays")


def load_flame_pickle(data: bytes, what: str) -> dict:
    """The top-level dict of a FLAME pickle, with every value turned into a plain ndarray where possible."""
    try:
        obj = FlameUnpickler(io.BytesIO(data), encoding="latin1").load()
    except AvatarError:
        raise
    except Exception as exc:  # a corrupt pickle can fail in many ways; none may escape as-is
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"{what}: not a readable FLAME pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"{what}: a FLAME pickle holds a dict of arrays, not a {type(obj).__name__}")
    out = {}
    for key, value in obj.items():
        key = key.decode("latin1") if isinstance(key, bytes) else key
        try:
            if isinstance(value, (ChumpyStandIn, SparseStandIn)):
                value = value.to_array()
        except (KeyError, ValueError, TypeError) as exc:
            raise AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {key} is malformed ({exc})") from None
        if isinstance(value, np.ndarray):
            out[str(key)] = value
    return out
