"""Blocking work for the server's event loop, each call in a thread of its own that ends with it.

``asyncio.to_thread`` would run it in the loop's default executor, whose threads outlive the
server (a stopped server must leave no thread behind); these calls are rare (session start,
warm-up, loading an avatar), so a thread per call costs nothing that matters.
"""

from __future__ import annotations

import asyncio
import threading


async def in_own_thread(fn, *args):
    """``fn(*args)`` in a thread of its own that ends with the call (the loop's default executor
    would keep its threads after the server stops)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settle(ok: bool, value) -> None:
        if not done.done():  # the session may have been cancelled meanwhile
            done.set_result(value) if ok else done.set_exception(value)

    def work() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting session, which decides
            loop.call_soon_threadsafe(settle, False, exc)
        else:
            loop.call_soon_threadsafe(settle, True, result)

    threading.Thread(target=work, name=f"facecast-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return await done
