"""Built-in transport ``direct``: the client talks to the Motion Server itself over a WebSocket."""

from __future__ import annotations

import engine

from .transport import DirectTransport


@engine.hookimpl
def register_transports(register):
    register("direct", DirectTransport)


__all__ = ["DirectTransport", "register_transports"]
