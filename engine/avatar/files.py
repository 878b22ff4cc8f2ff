"""Reading one file of an avatar package from disk without trusting what the path points at.

A package directory may come from anywhere (a download, an archive someone unpacked), so a
"file" may be a FIFO (opening it blocks for ever), a symlink to ``/dev/zero`` (reading never ends)
or far larger than the manifest says. :func:`read_regular` opens without blocking, insists on a
regular file no larger than the caller allows, and reads exactly that many bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import AvatarError, ErrorCode


def read_regular(path: str | os.PathLike, max_bytes: int, what: str,
                 code: ErrorCode = ErrorCode.invalidAvatarMetadata) -> bytearray:
    """The bytes of the regular file ``path`` (at most ``max_bytes``); ``AvatarError(code)`` otherwise."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:
        raise AvatarError(code, f"{what}: cannot open {p.name} ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise AvatarError(code, f"{what}: {p.name} is not a regular file (a device, FIFO or directory); "
                                    "packages hold plain files only")
        if info.st_size > max_bytes:
            raise AvatarError(code, f"{what}: {p.name} is {info.st_size} bytes, over the {max_bytes}-byte limit")
        data = bytearray(info.st_size + 1)  # one byte more reveals a file that grows while being read
        view, got = memoryview(data), 0
        while got < len(data):
            n = os.readv(fd, [view[got:]])
            if not n:
                break
            got += n
        view.release()
    except OSError as exc:
        raise AvatarError(code, f"{what}: cannot read {p.name} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if got != info.st_size:
        raise AvatarError(code, f"{what}: {p.name} changed while it was read; try again")
    del data[got:]
    return data
