"""Avatars: the package format, the FLAME-compatible head model, the demo avatar, and AvatarManager."""
