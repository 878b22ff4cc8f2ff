"""Renderers: a numpy rasterizer written from the contract alone (``numpy_gsplat``, which must pass),
the same with one of gsplat's rules dropped, and the ``cpu`` renderer with one defect added."""

from __future__ import annotations

import numpy as np

from engine.kit import ProbeResult, hookimpl


class NumpyRenderer:
    """gsplat's rules, one splat at a time over its radius box, in float64 scratch buffers that
    are allocated once per size (so it allocates nothing per frame either)."""

    name = "numpy_gsplat"
    clamp, skip, stop, radius_scale = True, True, True, 1.0

    def open(self, width, height, window=None):
        self.resize(width, height)

    def resize(self, width, height):
        self._img = np.zeros((height, width, 4), np.float32)
        self._rgba = np.zeros((height, width, 4), np.uint8)
        self._color = np.zeros((3, height, width))
        self._T = np.ones((height, width))
        self._done = np.zeros((height, width), bool)
        self._s, self._a, self._n, self._full = (np.zeros((height, width)) for _ in range(4))
        self._use, self._v = np.zeros((height, width), bool), np.zeros((height, width), bool)
        self._xs, self._ys = np.arange(width) + 0.5, np.arange(height) + 0.5
        self._dx, self._dx2 = np.zeros(width), np.zeros(width)
        self._dy, self._dy2 = np.zeros(height), np.zeros(height)

    def draw(self, frame, background=(0.0, 0.0, 0.0)):
        h, w = frame.height, frame.width
        if self._img.shape[:2] != (h, w):
            self.resize(w, h)
        color, T, done = self._color, self._T, self._done
        color.fill(0.0)
        T.fill(1.0)
        done.fill(False)
        for i in frame.order[:frame.count]:
            mx, my = float(frame.means2d[i, 0]), float(frame.means2d[i, 1])
            r = float(frame.radii[i]) * self.radius_scale
            x0, x1 = max(int(np.ceil(mx - r - 0.5)), 0), min(int(np.floor(mx + r - 0.5)), w - 1)
            y0, y1 = max(int(np.ceil(my - r - 0.5)), 0), min(int(np.floor(my + r - 0.5)), h - 1)
            if x1 < x0 or y1 < y0:
                continue
            nx, ny = x1 - x0 + 1, y1 - y0 + 1
            box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
            s, al, nt = self._s[:ny, :nx], self._a[:ny, :nx], self._n[:ny, :nx]
            use, v = self._use[:ny, :nx], self._v[:ny, :nx]
            dx, dx2, dy, dy2 = self._dx[:nx], self._dx2[:nx], self._dy[:ny], self._dy2[:ny]
            np.subtract(mx, self._xs[x0:x1 + 1], out=dx)
            np.subtract(my, self._ys[y0:y1 + 1], out=dy)
            a, b, c = float(frame.conics[i, 0]), float(frame.conics[i, 1]), float(frame.conics[i, 2])
            np.multiply(dy[:, None], dx[None, :], out=s)
            s *= b
            np.multiply(dx, dx, out=dx2)
            dx2 *= 0.5 * a
            np.multiply(dy, dy, out=dy2)
            dy2 *= 0.5 * c
            s += dx2[None, :]
            s += dy2[:, None]
            np.negative(s, out=al)
            np.exp(al, out=al)
            al *= float(frame.opacities[i])
            if self.clamp:
                np.minimum(al, 0.999, out=al)
            np.greater_equal(s, 0.0, out=use)
            np.logical_not(done[box], out=v)
            use &= v
            if self.skip:
                np.greater_equal(al, 1 / 255, out=v)
                use &= v
            np.subtract(1.0, al, out=nt)
            nt *= T[box]
            if self.stop:
                np.less_equal(nt, 1e-4, out=v)
                v &= use
                done[box] |= v
                np.logical_not(v, out=v)
                use &= v
            np.multiply(al, T[box], out=al)
            np.multiply(al, use, out=al)
            for ch in range(3):
                np.multiply(al, float(frame.colors[i, ch]), out=s)
                color[ch][box] += s
            np.copyto(T[box], nt, where=use)
        full = self._full
        for ch in range(3):
            np.multiply(T, float(background[ch]), out=full)
            full += color[ch]
            self._img[..., ch] = full
        np.subtract(1.0, T, out=full)
        self._img[..., 3] = full

    def read_float(self):
        return self._img

    def read_rgba(self):
        np.copyto(self._rgba, np.clip(np.rint(self._img * 255), 0, 255).astype(np.uint8))
        return self._rgba

    def close(self):
        pass


class NoClamp(NumpyRenderer):
    name, clamp = "no_alpha_clamp", False


class NoSkip(NumpyRenderer):
    name, skip = "no_alpha_skip", False


class NoStop(NumpyRenderer):
    name, stop = "no_transmittance_stop", False


class RadiusSmall(NumpyRenderer):
    name, radius_scale = "radii_times_0_8", 0.8


class RadiusLarge(NumpyRenderer):
    name, radius_scale = "radii_times_2", 2.0


def _cpu():
    from engine.kit import get_plugin_manager

    return get_plugin_manager().get("renderers", "cpu").factory()


class CpuWrapper:
    """The real ``cpu`` renderer with one defect added by a subclass."""

    def __init__(self):
        self.inner = _cpu()

    def open(self, width, height, window=None):
        self.inner.open(width, height)

    def resize(self, width, height):
        self.inner.resize(width, height)

    def draw(self, frame, background=(0.0, 0.0, 0.0)):
        self.inner.draw(frame, background)

    def read_float(self):
        return self.inner.read_float()

    def read_rgba(self):
        return self.inner.read_rgba()

    def close(self):
        self.inner.close()


class UpsideDown(CpuWrapper):
    name = "rgba_upside_down"

    def read_rgba(self):
        return self.inner.read_rgba()[::-1]


class Bgra(CpuWrapper):
    name = "rgba_is_bgra"

    def read_rgba(self):
        return self.inner.read_rgba()[..., [2, 1, 0, 3]]


class AllocatesEachFrame(CpuWrapper):
    name = "allocates_per_frame"

    def draw(self, frame, background=(0.0, 0.0, 0.0)):
        self.scratch = np.zeros((frame.height, frame.width, 4), np.float32)  # a new image every frame
        self.inner.draw(frame, background)


def _available():
    return ProbeResult(available=True, gpu=False, reason="numpy")


def _unavailable():
    return ProbeResult(available=False, gpu=False, reason="no such device here")


BROKEN = {cls.name: cls for cls in (NoClamp, NoSkip, NoStop, RadiusSmall, RadiusLarge, UpsideDown, Bgra,
                                    AllocatesEachFrame)}


@hookimpl
def register_renderers(register):
    register("numpy_gsplat", NumpyRenderer, _available)
    for name, cls in BROKEN.items():
        register(name, cls, _available)
    register("never_available", NumpyRenderer, _unavailable)
