"""A small reader for the ``vertex`` element of a PLY file (binary either endianness, or ASCII).

Trained Gaussian splats are stored as one PLY vertex per Gaussian with one scalar property per
attribute (``x``, ``f_dc_0``, ``opacity``, ...). List properties and other elements before ``vertex``
are refused: 3DGS-style files have neither, and skipping them safely would need their full layout.
"""

from __future__ import annotations

import numpy as np

from ...errors import AvatarError, ErrorCode

_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
          "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
          "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}
MAX_HEADER = 1 << 16
MAX_VERTICES = 16 << 20


def _bad(what: str, message: str) -> AvatarError:
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {message}")


def read_ply_vertices(data: bytes, what: str) -> dict[str, np.ndarray]:
    """Property name → 1-D array (file dtype) of every vertex, in file order."""
    end = data.find(b"end_header", 0, MAX_HEADER)
    if not data.startswith(b"ply") or end < 0:
        raise _bad(what, "not a PLY file (no 'ply' magic or no end_header in the first 64 KiB)")
    body = end + len(b"end_header")
    body += 2 if data[body:body + 2] == b"\r\n" else 1
    lines = [ln.strip() for ln in data[:end].decode("ascii", "replace").splitlines()[1:]]
    fmt, count, props, element = None, None, [], None
    for line in lines:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format" and len(words) >= 2:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3:
            if element == "vertex":
                break  # elements after the vertices do not affect reading them
            element = words[1]
            if element != "vertex":
                raise _bad(what, f"element {element!r} comes before 'vertex'; expected a Gaussian-splat PLY "
                                 "whose first element is 'vertex'")
            if not words[2].isdigit() or not 0 < int(words[2]) <= MAX_VERTICES:
                raise _bad(what, f"vertex count must be 1..{MAX_VERTICES}, not {words[2]!r}")
            count = int(words[2])
        elif words[0] == "property" and element == "vertex":
            if len(words) != 3 or words[1] not in _TYPES:
                raise _bad(what, f"unsupported vertex property {line!r}; expected '<scalar type> <name>'")
            if words[2] in (p for p, _ in props):
                raise _bad(what, f"vertex property {words[2]!r} appears twice")
            props.append((words[2], _TYPES[words[1]]))
    if count is None or not props:
        raise _bad(what, "no 'vertex' element with properties in the header")
    if fmt == "ascii":
        try:
            table = np.loadtxt(data[body:].decode("ascii").splitlines()[:count], dtype=np.float64, ndmin=2)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad(what, f"ASCII vertex data is malformed ({exc})") from None
        if table.shape != (count, len(props)):
            raise _bad(what, f"ASCII vertex data holds {table.shape} values, the header says {count} × {len(props)}")
        return {name: table[:, i].astype(t) for i, (name, t) in enumerate(props)}
    order = {"binary_little_endian": "<", "binary_big_endian": ">"}.get(fmt)
    if order is None:
        raise _bad(what, f"format {fmt!r} is not ascii, binary_little_endian or binary_big_endian")
    dtype = np.dtype([(name, order + t) for name, t in props])
    if len(data) - body < count * dtype.itemsize:
        raise _bad(what, f"file is truncated: {count} vertices of {dtype.itemsize} bytes need "
                         f"{count * dtype.itemsize} bytes after the header, it has {len(data) - body}")
    table = np.frombuffer(data, dtype=dtype, count=count, offset=body)
    return {name: table[name].astype(table[name].dtype.newbyteorder("=")) for name, _ in props}


def ply_bytes(columns: dict[str, np.ndarray]) -> bytes:
    """A binary little-endian PLY of float32 vertex properties (in the given order), as 3DGS trainers write."""
    names = list(columns)
    n = len(next(iter(columns.values())))
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {n}"]
    header += [f"property float {name}" for name in names] + ["end_header"]
    table = np.empty(n, dtype=[(name, "<f4") for name in names])
    for name in names:
        table[name] = columns[name]
    return ("\n".join(header) + "\n").encode("ascii") + table.tobytes()
