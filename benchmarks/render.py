"""Render benchmark: ms/frame of every backend side by side, plus the prepare stage on its own.

Cases: synthetic head-sized scenes of 10k, 30k and 100k splats at 512² and 1024², and the demo
avatar at 512². Every backend draws the *same* prepared frame and is timed to the pixels being
back on the host (``read_rgba``), which is also what waits for a GPU. The ``cpu`` backend is
compared with a straightforward numba tile rasterizer in the same run: same tile binning, but
each pixel loops over its tile's whole list (gsplat's CUDA structure, run on CPU threads).

    python -m benchmarks render [--quick] [--backends cpu,wgpu,opengl]
"""

from __future__ import annotations

import argparse
import math

import numba as nb
import numpy as np

from .report import Report, time_call

TILE = 16


@nb.njit(cache=True, nogil=True, parallel=True)
def straightforward_raster(packed, tile_starts, tile_lists, tiles_x, width, height, image):
    """Per pixel, walk the tile's front-to-back list with gsplat's rules; no per-splat bounds."""
    n_tiles = tile_starts.shape[0] - 1
    for t in nb.prange(n_tiles):
        tx0 = (t % tiles_x) * TILE
        ty0 = (t // tiles_x) * TILE
        for py in range(ty0, min(ty0 + TILE, height)):
            for px in range(tx0, min(tx0 + TILE, width)):
                T = np.float32(1.0)
                r = np.float32(0.0)
                g = np.float32(0.0)
                b = np.float32(0.0)
                fx = np.float32(px) + np.float32(0.5)
                fy = np.float32(py) + np.float32(0.5)
                for j in range(tile_starts[t], tile_starts[t + 1]):
                    k = tile_lists[j]
                    dx = packed[k, 0] - fx
                    dy = packed[k, 1] - fy
                    sigma = np.float32(0.5) * (packed[k, 2] * dx * dx + packed[k, 4] * dy * dy) \
                        + packed[k, 3] * dx * dy
                    if sigma < 0.0:
                        continue
                    alpha = min(np.float32(0.999), packed[k, 5] * np.float32(math.exp(-sigma)))
                    if alpha < np.float32(1.0 / 255.0):
                        continue
                    next_t = T * (np.float32(1.0) - alpha)
                    if next_t <= np.float32(1e-4):
                        break
                    vis = alpha * T
                    r += packed[k, 6] * vis
                    g += packed[k, 7] * vis
                    b += packed[k, 8] * vis
                    T = next_t
                image[py, px, 0] = r
                image[py, px, 1] = g
                image[py, px, 2] = b
                image[py, px, 3] = np.float32(1.0) - T


class StraightforwardRenderer:
    """The baseline: the cpu backend's binning, then :func:`straightforward_raster`."""

    def __init__(self, width: int, height: int) -> None:
        from plugins.render_cpu import raster  # benchmarks may use the built-in plugins directly

        self.raster = raster
        self.width, self.height = width, height
        self.tiles_x = -(-width // TILE)
        n_tiles = self.tiles_x * -(-height // TILE)
        self.starts = np.zeros(n_tiles + 1, np.int64)
        self.counts = np.zeros((raster.CHUNKS, n_tiles), np.int64)
        self.offsets = np.zeros((raster.CHUNKS, n_tiles), np.int64)
        self.image = np.zeros((height, width, 4), np.float32)
        self.packed = np.zeros((0, raster.PACK), np.float32)

    def draw(self, frame) -> None:
        r = self.raster
        n = int(frame.count)
        if self.packed.shape[0] < n:
            self.packed = np.zeros((n, r.PACK), np.float32)
            self.bbox = np.zeros((n, 4), np.int32)
        r.pack_and_bound(n, frame.order, frame.means2d, frame.conics, frame.radii, frame.opacities, frame.colors,
                         self.width, self.height, self.packed, self.bbox)
        total = int(r.count_tiles(n, self.bbox, self.tiles_x, self.counts, self.offsets, self.starts))
        if getattr(self, "lists", np.zeros(0)).shape[0] < total:
            self.lists = np.zeros(total, np.int32)
        r.fill_tiles(n, self.bbox, self.tiles_x, self.offsets, self.lists)
        straightforward_raster(self.packed, self.starts, self.lists, self.tiles_x, self.width, self.height, self.image)


def _open_backends(names, width, height):
    from engine.plugins import get_plugin_manager

    pm = get_plugin_manager()
    out = {}
    for name in names:
        reg = pm.get("renderers", name)
        probe = reg.probe()
        if not probe.available:
            out[name] = probe.reason
            continue
        r = reg.factory()
        r.open(width, height)
        out[name] = r
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks render")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip 1024² at 100k")
    parser.add_argument("--backends", default="cpu,wgpu,opengl")
    args = parser.parse_args(argv or [])
    names = [n for n in args.backends.split(",") if n]
    repeat = 5 if args.quick else 10

    from engine.prepare import SplatProjector
    from engine.render.workload import default_view, make_frame_source, synthetic_splats

    report = Report("render", "Render backends, ms per frame (draw + read-back), same prepared frame")
    for size in (512, 1024):
        renderers = _open_backends(names, size, size)
        baseline = StraightforwardRenderer(size, size)
        for n in (10_000, 30_000, 100_000):
            if args.quick and size == 1024 and n == 100_000:
                continue
            scene = synthetic_splats(n)
            projector = SplatProjector(n)
            viewmat, K = default_view(size, size)
            frame = projector(**scene, viewmat=viewmat, K=K, width=size, height=size)
            case = f"{n // 1000}k splats {size}²"
            prep = time_call(lambda: projector(**scene, viewmat=viewmat, K=K, width=size, height=size), repeat=repeat)
            report.add(f"prepare {n // 1000}k ({size}²)", "SplatProjector", prep["median_ms"])
            base = time_call(lambda: baseline.draw(frame), repeat=repeat)["median_ms"]
            cpu_ms = None
            for name, r in renderers.items():
                if isinstance(r, str):
                    report.note(f"{name}: not available here ({r})")
                    continue

                def draw(r=r):
                    r.draw(frame)
                    r.read_rgba()

                ms = time_call(draw, repeat=repeat)["median_ms"]
                if name == "cpu":
                    cpu_ms = ms
                    report.add(case, "cpu", ms, "straightforward numba tile rasterizer", base)
                else:
                    report.add(case, name, ms, "cpu backend", cpu_ms)
        for r in renderers.values():
            if not isinstance(r, str):
                r.close()

    source, description = make_frame_source("demo", size=512)
    frame = source()
    report.add("demo avatar prepare (512²)", "AvatarPreparer", time_call(source, repeat=repeat)["median_ms"],
               budget=8.0)
    renderers = _open_backends(names, 512, 512)
    for name, r in renderers.items():
        if isinstance(r, str):
            continue

        def full(r=r):
            r.draw(source())
            r.read_rgba()

        report.add("demo avatar prepare+draw (512²)", name, time_call(full, repeat=repeat)["median_ms"],
                   budget=40.0)
        r.close()
    report.note(f"demo workload: {description}; budget 40 ms = 25 fps")
    report.emit()
    return 0
