"""Run the suite's coroutine tests on a fresh event loop, with no pytest-asyncio needed.

A plugin author runs the suite from their own folder, where no ``asyncio_mode`` setting applies,
so the async checks are plain test functions that own their loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect


def async_test(timeout: float = 60.0):
    """Make ``async def test_...`` a synchronous test that runs it on its own loop, within ``timeout`` s."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            async def bounded():
                return await asyncio.wait_for(fn(*args, **kwargs), timeout)

            return asyncio.run(bounded())

        run.__signature__ = inspect.signature(fn)
        del run.__wrapped__  # so no asyncio plugin mistakes it for a coroutine function
        return run

    return wrap
