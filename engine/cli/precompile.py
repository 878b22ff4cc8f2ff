"""Compile the numba kernels into their on-disk cache now, so that the first demo, render or video session
does not stop for them.

numba compiles a kernel the first time it runs and keeps the machine code next to the source (in
``__pycache__``); until then the first ``facecast demo`` spends most of a minute compiling the
decoder, the motion generator, deformation, projection, sorting and the CPU rasteriser. This plays a
short piece of the demo speech through the same path as ``facecast demo --output`` (embedded server,
direct mode, offline video) at 64×64, on the backend a view would choose here and on the ``cpu``
backend. ``scripts/setup`` runs it; with a warm cache it takes a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

CLIP_S = 0.6
SIZE = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", action="append", default=None,
                        help="compile for this render backend (repeatable; default: the automatic choice and cpu)")


async def _precompile(backends: list[str | None]) -> list[str]:
    from ..demo import SPEECH_CLIP
    from ..demo.audio import load_speech
    from ..demo.offline import render_to_file
    from ..demo.stack import DemoStack

    pcm, rate = load_speech(SPEECH_CLIP)
    pcm = pcm[: int(CLIP_S * rate)]
    done: list[str] = []
    with tempfile.TemporaryDirectory(prefix="facecast-precompile-") as folder:
        async with DemoStack(rate) as stack:  # its server runs the motion generator once before listening
            for backend in backends:
                if backend is not None and backend in done:
                    continue
                made = await render_to_file(stack.avatar, pcm, rate, Path(folder) / f"{len(done)}.mp4", size=SIZE,
                                            fps=25, backend=backend)
                done.append(made.backend)
    return done


def run(args: argparse.Namespace) -> int:
    from .demo import quiet_runtime_dir

    quiet_runtime_dir()
    backends: list[str | None] = args.backend or [None, "cpu"]
    started = time.perf_counter()
    print("facecast precompile: compiling the numba kernels into their cache "
          "(about a minute the first time, seconds after that)", flush=True)
    done = asyncio.run(_precompile(backends))
    print(f"facecast precompile: kernels ready for the {', '.join(done)} backend(s) "
          f"in {time.perf_counter() - started:.1f} s")
    return 0
