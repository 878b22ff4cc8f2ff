"""The shared "prepare" stage: numba deform → bind → project → cull → radix depth sort."""

from __future__ import annotations

from .frame import PreparedFrame
from .preparer import AvatarPreparer
from .projector import SplatProjector

__all__ = ["AvatarPreparer", "PreparedFrame", "SplatProjector"]
