"""``.npz`` files without pickles: a byte-for-byte deterministic writer and a hardened reader."""

from __future__ import annotations

import hashlib
import io
import zipfile

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


def read_npz(data: bytes, what: str) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` (no object arrays, no pickles); ``AvatarError`` if anything is off."""
    arrays: dict[str, np.ndarray] = {}
    with SafeZip(data, what) as zf:
        for name in zf.names():
            if not name.endswith(".npy") or "/" in name:
                raise AvatarError(ErrorCode.invalidAvatarMetadata,
                                  f"{what}: unexpected member {name!r}; an .npz holds only <key>.npy arrays")
            raw = zf.read(name)
            try:
                arr = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise AvatarError(ErrorCode.invalidAvatarMetadata,
                                  f"{what}: array {name[:-4]!r} is unreadable ({exc})") from None
            arrays[name[:-4]] = arr
    return arrays


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays' names, dtypes, shapes and bytes (independent of zip/deflate details)."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()
