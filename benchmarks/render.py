"""Render benchmark: ms/frame of every backend side by side, plus the prepare stage on its own.

Cases: synthetic head-sized scenes of 10k, 30k and 100k splats at 512² and 1024² (or the given sizes and
counts), and the demo avatar at 512². Every backend draws the *same* prepared frame and is timed to the
pixels being back on the host (``read_rgba``), which is also what waits for a GPU. The ``cpu`` backend
is compared with a straightforward numba tile rasterizer in the same run: same tile binning, but each
pixel loops over its tile's whole list (gsplat's CUDA structure, run on CPU threads).

    python -m benchmarks render [--quick] [--backends cpu,wgpu,opengl] [--sizes 512,1920x1080,3840x2160]
                                [--splats 100000,1000000] [--repeat N] [--no-baseline] [--no-demo]
"""

from __future__ import annotations

import argparse
import math

import numba as nb
import numpy as np

from .report import Report, time_call

DEMO_BUDGET_MS = 16.7  # DESIGN §9: the demo avatar prepared and drawn at 512², 60 fps
CPU_100K_512_MS = 25.0  # DESIGN §9: 100k splats at 512² on the cpu backend


@nb.njit(cache=True, nogil=True, parallel=True)
def straightforward_raster(packed, tile_starts, tile_lists, tiles_x, tile, width, height, image):
    """Per pixel, walk the tile's front-to-back list with gsplat's rules; no per-splat bounds."""
    n_tiles = tile_starts.shape[0] - 1
    for t in nb.prange(n_tiles):
        tx0 = (t % tiles_x) * tile
        ty0 = (t // tiles_x) * tile
        for py in range(ty0, min(ty0 + tile, height)):
            for px in range(tx0, min(tx0 + tile, width)):
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
        self.tiles_x = -(-width // raster.TILE)  # the cpu backend's tiles (a runtime value: no stale JIT cache)
        n_tiles = self.tiles_x * -(-height // raster.TILE)
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
        cuts = np.zeros(frame.opacities.shape, np.float32)
        r.refresh_cuts(frame.opacities, np.full(frame.opacities.shape, np.nan, np.float32), cuts)
        r.pack_and_bound(n, frame.order, frame.means2d, frame.conics, frame.radii, frame.opacities, cuts,
                         frame.colors, self.width, self.height, self.packed, self.bbox)
        total = int(r.count_tiles(n, self.bbox, self.tiles_x, self.counts, self.offsets, self.starts))
        if getattr(self, "lists", np.zeros(0)).shape[0] < total:
            self.lists = np.zeros(total, np.int32)
        r.fill_tiles(n, self.bbox, self.tiles_x, self.offsets, self.lists)
        straightforward_raster(self.packed, self.starts, self.lists, self.tiles_x, r.TILE, self.width, self.height,
                               self.image)


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


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``512,1920x1080`` → [(512, 512), (1920, 1080)]."""
    out = []
    for part in text.split(","):
        w, _, h = part.strip().lower().partition("x")
        out.append((int(w), int(h or w)))
    return out


def size_name(w: int, h: int) -> str:
    return {(1920, 1080): "1080p", (3840, 2160): "4K"}.get((w, h), f"{w}²" if w == h else f"{w}×{h}")


def count_name(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks render")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip 1024² at 100k")
    parser.add_argument("--backends", default="cpu,wgpu,opengl")
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="e.g. 512,1920x1080,3840x2160 (default 512,1024)")
    parser.add_argument("--splats", type=lambda t: [int(float(x)) for x in t.split(",")], default=None,
                        help="synthetic scene sizes, e.g. 100000,1000000 (default 10k, 30k, 100k)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per case (default 10, 5 with --quick)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the straightforward rasterizer (slow at 4K)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo-avatar cases")
    args = parser.parse_args(argv or [])
    names = [n for n in args.backends.split(",") if n]
    repeat = args.repeat or (5 if args.quick else 10)
    sizes = args.sizes or [(512, 512), (1024, 1024)]
    counts = args.splats or [10_000, 30_000, 100_000]

    from engine.prepare import SplatProjector
    from engine.render.workload import default_view, make_frame_source, synthetic_splats

    report = Report("render", "Render backends: ms per frame (draw + read-back) of one prepared frame")
    cpu_at: dict[tuple[int, int], float] = {}
    for w, h in sizes:
        renderers = _open_backends(names, w, h)
        baseline = None if args.no_baseline else StraightforwardRenderer(w, h)
        for n in counts:
            if args.quick and max(w, h) >= 1024 and n >= 100_000:
                continue
            scene = synthetic_splats(n)
            projector = SplatProjector(n)
            viewmat, K = default_view(w, h)
            frame = projector(**scene, viewmat=viewmat, K=K, width=w, height=h)
            case = f"{count_name(n)} @ {size_name(w, h)}"
            prep = time_call(lambda: projector(**scene, viewmat=viewmat, K=K, width=w, height=h), repeat=repeat)
            report.add(f"prepare {case}", "SplatProjector", prep["median_ms"])
            base = None if baseline is None else time_call(lambda: baseline.draw(frame), repeat=repeat)["median_ms"]
            cpu_ms = None
            for name, r in renderers.items():
                if isinstance(r, str):
                    continue

                def draw(r=r):
                    r.draw(frame)
                    r.read_rgba()

                timed = time_call(draw, repeat=repeat)
                ms, spread = timed["median_ms"], {"p10_ms": timed["p10_ms"], "p90_ms": timed["p90_ms"]}
                if name == "cpu":
                    cpu_ms = ms
                    cpu_at[(n, w * h)] = ms
                    report.add(case, "cpu", ms, "straightforward" if base else None, base,
                               budget=CPU_100K_512_MS if (n, w, h) == (100_000, 512, 512) else None, **spread)
                else:
                    report.add(case, name, ms, "cpu" if cpu_ms else None, cpu_ms, **spread)
        for name, r in renderers.items():
            if isinstance(r, str):
                report.note(f"{name}: not available here ({r})")
            else:
                r.close()
    for n in counts:  # cost per pixel should not grow with resolution
        small, large = cpu_at.get((n, 512 * 512)), cpu_at.get((n, 1024 * 1024))
        if small and large:
            report.add(f"{count_name(n)}: 1024² / 512²", "cpu", large / small, unit="× time", budget=4.0)

    if not args.no_demo:
        source, description = make_frame_source("demo", size=512)
        source()
        report.add("demo prepare @ 512²", "AvatarPreparer", time_call(source, repeat=repeat)["median_ms"])
        renderers = _open_backends(names, 512, 512)
        for name, r in renderers.items():
            if isinstance(r, str):
                continue

            def full(r=r):
                r.draw(source())
                r.read_rgba()

            timed = time_call(full, repeat=repeat)
            report.add("demo prepare+draw @ 512²", name, timed["median_ms"], budget=DEMO_BUDGET_MS,
                       p10_ms=timed["p10_ms"], p90_ms=timed["p90_ms"])
            r.close()
        report.note(f"demo: {description}; budget {DEMO_BUDGET_MS} ms = 60 fps; "
                    f"cpu at 100k @ 512² budget {CPU_100K_512_MS:g} ms")
    report.note("straightforward: the cpu backend's binning, then per pixel the tile's whole list with gsplat's "
                "rules (gsplat's CUDA structure on CPU threads); NNk @ size: synthetic head-sized scene of NN "
                "thousand splats; 1024² / 512²: cpu time ratio at 4× the pixels (≤ 4 = no worse than linear)")
    report.emit()
    return 0
