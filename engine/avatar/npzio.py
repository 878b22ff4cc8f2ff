"""``.npz`` files without pickles: a byte-for-byte deterministic writer and a hardened reader."""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
import zlib

import numpy as np

from ..errors import AvatarError, ErrorCode
from .zipsafe import SafeZip

_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same arrays give the same bytes


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Deflate-compressed ``.npz`` of ``arrays`` (in the given key order), with fixed metadata."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buf.getvalue()


_KINDS = "biuf"  # bool, integer and float arrays only: no objects, strings, records or sub-arrays
_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)


def read_npz(data: bytes, what: str, shapes: dict[str, tuple[int, ...]] | None = None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` (no object arrays, no pickles); ``AvatarError`` if anything is off.

    Each member's ``.npy`` header is read first, and its declared dtype and shape must account for
    the member's size exactly (and equal ``shapes[key]`` when the caller knows the shape) before any
    array memory is allocated: a 16-byte member cannot make the reader allocate ``(2**40,)`` floats,
    and a deflate bomb is refused before it is inflated.
    """
    arrays: dict[str, np.ndarray] = {}
    with SafeZip(data, what) as zf:
        for name in zf.names():
            if not name.endswith(".npy") or "/" in name:
                raise AvatarError(ErrorCode.invalidAvatarMetadata,
                                  f"{what}: unexpected member {name!r}; an .npz holds only <key>.npy arrays")
            key = name[:-4]
            if shapes is not None and key not in shapes:
                raise AvatarError(ErrorCode.invalidAvatarMetadata,
                                  f"{what}: arrays must be exactly {', '.join(shapes)}; unexpected {key}")
            try:
                arrays[key] = _read_member(zf, name, what, None if shapes is None else shapes[key])
            except _READ_ERRORS as exc:
                raise AvatarError(ErrorCode.invalidAvatarMetadata,
                                  f"{what}: array {key!r} is unreadable ({type(exc).__name__}: {exc})") from None
    return arrays


def _read_member(zf: SafeZip, name: str, what: str, shape: tuple[int, ...] | None) -> np.ndarray:
    key = name[:-4]
    size = zf.size(name)
    with zf.open(name) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            declared, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            declared, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f".npy format version {version} is not supported (1.0 or 2.0)")
        if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize > 8:
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"{what}: array {key!r} has dtype {dtype}; only bool, integer and float arrays are allowed")
        if shape is not None and tuple(declared) != tuple(shape):
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"{what}: {key} must have shape {tuple(shape)}, not {tuple(declared)}")
        nbytes = math.prod(declared) * dtype.itemsize
        if fh.tell() + nbytes != size:
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"{what}: array {key!r} declares shape {tuple(declared)} of {dtype} ({nbytes} bytes) but its "
                              f"member holds {size - fh.tell()} bytes of data; the file is corrupt")
        arr = np.empty(declared[::-1] if fortran else declared, dtype=dtype)
        flat = memoryview(arr.reshape(-1).view(np.uint8))
        got = 0
        while got < nbytes:
            n = fh.readinto(flat[got:])
            if not n:
                raise EOFError(f"member ends after {got} of {nbytes} data bytes")
            got += n
        flat.release()
    return arr.T if fortran else arr


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays' names, dtypes, shapes and bytes (independent of zip/deflate details)."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()
