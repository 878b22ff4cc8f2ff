"""Reading untrusted zip archives (avatar packages, and the ``.npz`` files inside them) safely.

Refused: archives that are not zips or are corrupt, member names that are absolute, contain ``..``,
backslashes or drive letters, duplicate names, encrypted members, members whose declared sizes
exceed the limits or whose compression ratio no real deflate stream reaches (a zip bomb).
"""

from __future__ import annotations

import io
import zipfile

from ..errors import AvatarError, ErrorCode

MAX_MEMBER_BYTES = 1 << 30  # 1 GiB uncompressed per member
MAX_TOTAL_BYTES = 2 << 30
MAX_RATIO = 1100  # deflate cannot compress better than ~1032:1
MAX_MEMBERS = 256


def _archive_error(what: str, problem: str) -> AvatarError:
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {problem}")


def check_member_name(name: str, what: str) -> None:
    """Raise unless ``name`` is a plain relative path inside the archive."""
    parts = name.split("/")
    if (not name or name.startswith("/") or "\\" in name or ":" in name or "\x00" in name
            or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", "..")):
        raise _archive_error(what, f"unsafe member name {name!r} (absolute paths, '..', backslashes and drive "
                                   "letters are not allowed); rebuild the archive with relative names")


class SafeZip:
    """A validated, read-only view of a zip archive held in memory or on disk."""

    def __init__(self, source: bytes | str, what: str) -> None:
        self.what = what
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise _archive_error(what, f"not a readable zip archive ({exc}); re-download or rebuild it") from None
        if len(infos) > MAX_MEMBERS:
            raise _archive_error(what, f"{len(infos)} members; at most {MAX_MEMBERS} are allowed")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            check_member_name(info.filename, what)
            if info.filename in self._infos:
                raise _archive_error(what, f"duplicate member {info.filename!r}")
            if info.flag_bits & 0x1:
                raise _archive_error(what, f"member {info.filename!r} is encrypted; packages must not be")
            if info.file_size > MAX_MEMBER_BYTES:
                raise _archive_error(what, f"member {info.filename!r} declares {info.file_size} bytes, over the "
                                           f"{MAX_MEMBER_BYTES}-byte limit")
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) + 1024:
                raise _archive_error(what, f"member {info.filename!r} claims a {info.file_size}:{info.compress_size} "
                                           "compression ratio (a zip bomb?)")
            total += info.file_size
            self._infos[info.filename] = info
        if total > MAX_TOTAL_BYTES:
            raise _archive_error(what, f"{total} bytes uncompressed in all, over the {MAX_TOTAL_BYTES}-byte limit")

    def names(self) -> list[str]:
        return [n for n in self._infos if not n.endswith("/")]

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(name)
        if info is None:
            raise _archive_error(self.what, f"missing member {name!r}")
        return info

    def size(self, name: str) -> int:
        """The member's declared uncompressed size."""
        return self._info(name).file_size

    def open(self, name: str):
        """A binary stream of the member (decompressed as it is read; the caller maps read errors)."""
        return self._zip.open(self._info(name))

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The member's bytes; ``max_bytes`` refuses a larger member before it is inflated."""
        info = self._info(name)
        if max_bytes is not None and info.file_size > max_bytes:
            raise _archive_error(self.what,
                                 f"member {name!r} declares {info.file_size} bytes, over the {max_bytes} expected")
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise _archive_error(self.what,
                                 f"member {name!r} is corrupt ({exc}); re-download or rebuild the package") from None
        except Exception as exc:  # zlib.error and friends from a damaged stream
            raise _archive_error(self.what, f"member {name!r} is corrupt ({type(exc).__name__}: {exc})") from None
        if len(data) != info.file_size:
            raise _archive_error(self.what, f"member {name!r} holds {len(data)} bytes, not the declared {info.file_size}")
        return data

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "SafeZip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
