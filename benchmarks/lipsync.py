"""Lip sync against phoneme timings: ``python -m benchmarks lipsync [--quick] [--rendered N]``.

Held-out espeak-ng speech (sentences and voices that training never used, listed in the output)
goes through each motion generator — ``procedural`` (the baseline) and ``phoneme`` — in 100 ms
chunks, the way a server session feeds it. For each generator, side by side:

- r: correlation of the mouth opening with the opening the phonemes call for (a table of phoneme →
  opening, smoothed over 40 ms), on a 10 ms grid, after removing the lag;
- lag: the shift of the mouth that maximises r (positive: the mouth is late), searched over ±200 ms;
- bilabial closure: share of p / b / m between other sounds during which the lips meet;
- closed after speech: share of speech stops (pauses of 150 ms or more, and each round's end) where
  the lips meet within 120 ms;
- CPU per keyframe (µs), feeding 40 ms chunks.

Mouth opening is measured twice: on the keyframes through the demo head's geometry (upper/lower
lip distance on the midline, keyframes linearly interpolated), and on frames rendered by the
``cpu`` backend at 50 fps (a 128×96 view of the mouth; opening = dark mouth-interior pixels in the
middle column; ``--rendered`` utterances, since rendering is the slow part).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from engine.avatar import load_bundled
from engine.avatar.demo import mesh as demo_mesh
from engine.motion import layout
from engine.motion.interpolate import blend_pose
from engine.plugins import get_plugin_manager
from engine.prepare import AvatarPreparer
from engine.prepare.deform import Deformer
from engine.render.camera import intrinsics, look_at_viewmat
from plugins.motion_phoneme import speechset
from plugins.motion_phoneme.espeak import synthesize
from plugins.motion_phoneme.phonemes import SILENCE, sound_class

from .report import Report, time_call

GENERATORS = ("procedural", "phoneme")
BASELINE, OURS = GENERATORS
CHUNK_S = 0.1
STEP_S = 0.01
MAX_LAG_S = 0.2
CLOSED_MM = 1.0  # lips this close on the midline count as together...
CLOSED_PX = 1.0  # ...and on the rendered mouth at most this many pixels between them (≈ 1.4 mm)
PAUSE_S = 0.15
CLOSE_WITHIN_S = 0.12
RENDER_FPS = 50
CROP_W, CROP_H, ZOOM = 128, 96, 2.0
# Lip pixels are red and bright (≈ 166/90/85); between the lips show the dark mouth (≈ 72/18/21) or
# the pale teeth (≈ 176/137/128), above and below them skin (≈ 212/163/135).
LIP_LUM, LIP_LUM_RAMP = 62.0, 20.0
LIP_GR, LIP_GR_RAMP = 0.68, 0.08
EXPRESSIONS = 50


def utterances(quick: bool):
    voices = speechset.HELD_OUT_VOICES[:2] if quick else speechset.HELD_OUT_VOICES
    sentences = speechset.HELD_OUT_SENTENCES[:4] if quick else speechset.HELD_OUT_SENTENCES
    return [(v, s, synthesize(s, v, rate=165)) for v in voices for s in sentences]


def run_generator(name: str, utt) -> np.ndarray:
    gen = get_plugin_manager().get("motion_generators", name).factory(utt.sample_rate, EXPRESSIONS, 0)
    step = int(CHUNK_S * utt.sample_rate)
    parts = [gen.feed(utt.audio[i:i + step]) for i in range(0, utt.audio.size, step)]
    return np.concatenate(parts + [gen.finish()])


class LipGap:
    """Midline distance (mm) between the upper and lower lip of the demo ``head``, per keyframe.

    The demo mouth slit has two copies of each vertex, one skinned to the head and one to the jaw; their
    mean vertical distance on the midline after deformation is the gap (negative: the lips press together).
    """

    def __init__(self, head) -> None:
        v = head.v_template
        slit = np.flatnonzero((np.abs(v[:, 0]) < 0.004) & (np.abs(v[:, 1] - demo_mesh.MOUTH_Y) < 1e-4)
                              & (v[:, 2] > v[:, 2].max() - 0.05))
        jaw = head.weights[slit, 2]
        self.upper, self.lower = slit[jaw < 0.5], slit[jaw >= 0.5]
        if not (self.upper.size and self.lower.size):
            raise ValueError("this head has no demo mouth slit on its midline; LipGap reads the demo head only")
        self.deform = Deformer(head)

    def __call__(self, keyframes: np.ndarray) -> np.ndarray:
        out = np.empty(len(keyframes))
        for i, pose in enumerate(keyframes):
            v = self.deform(np.ascontiguousarray(pose, np.float32))
            out[i] = 1000.0 * (v[self.upper, 1].mean() - v[self.lower, 1].mean())
        return out


class MouthPixels:
    """Render poses with the ``cpu`` backend into a close view of the mouth and read the opening (pixels)."""

    def __init__(self, avatar) -> None:
        self.prep = AvatarPreparer(avatar.head, avatar.gaussians)
        self.viewmat = look_at_viewmat(avatar.camera)
        k = intrinsics(avatar.camera, 256, 256).astype(np.float64)
        mouth = self.viewmat @ np.array([0.0, demo_mesh.MOUTH_Y, avatar.head.v_template[:, 2].max(), 1.0])
        k[0, 0] *= ZOOM
        k[1, 1] *= ZOOM
        k[0, 2] = CROP_W / 2 - k[0, 0] * mouth[0] / mouth[2]
        k[1, 2] = CROP_H / 2 - k[1, 1] * mouth[1] / mouth[2]
        self.K = k.astype(np.float32)
        self.renderer = get_plugin_manager().get("renderers", "cpu").factory()
        self.renderer.open(CROP_W, CROP_H)

    def __call__(self, pose: np.ndarray) -> float:
        frame = self.prep(np.ascontiguousarray(pose, np.float32), self.viewmat, self.K, CROP_W, CROP_H)
        self.renderer.draw(frame, (1.0, 1.0, 1.0))
        return mouth_opening_px(self.renderer.read_rgba())


def mouth_opening_px(rgba: np.ndarray) -> float:
    """Pixels between the lips in the middle columns: the non-lip run between the first and last lip pixel."""
    rgb = rgba[:, CROP_W // 2 - 3:CROP_W // 2 + 3, :3].astype(np.float64)
    lum = rgb @ np.array([0.299, 0.587, 0.114])
    ratio = rgb[..., 1] / np.maximum(rgb[..., 0], 1.0)
    lip = np.clip((lum - LIP_LUM) / LIP_LUM_RAMP, 0, 1) * np.clip((LIP_GR - ratio) / LIP_GR_RAMP, 0, 1)
    opening = []
    for c in range(lip.shape[1]):
        rows = np.flatnonzero(lip[:, c] > 0.5)
        opening.append(float((1.0 - lip[rows[0]:rows[-1] + 1, c]).sum()) if rows.size else 0.0)
    return float(np.mean(opening))



def on_grid(values: np.ndarray, rate: float, duration: float) -> np.ndarray:
    """Samples at ``rate`` Hz (sample i at i/rate s) linearly interpolated onto the STEP_S grid."""
    t = np.arange(0.0, duration, STEP_S)
    return np.interp(t, np.arange(len(values)) / rate, values)


def reference(utt) -> tuple[np.ndarray, np.ndarray]:
    times, op, _ = speechset.phoneme_track(utt, STEP_S)
    return times, speechset.smoothed(op, STEP_S)


def speech_stops(utt) -> list[float]:
    """Seconds at which speech stops for at least PAUSE_S (pauses and the end)."""
    spans = speechset.intervals_s(utt)
    stops = []
    for (start, end), name in zip(spans, utt.names):
        if sound_class(name) == SILENCE and end - start >= PAUSE_S and start > 0.05:
            if not stops or start - stops[-1] > PAUSE_S:
                stops.append(float(start))
    return stops


def scores(series: list[np.ndarray], targets: list[np.ndarray], spans: list[np.ndarray], stops: list[list[float]],
           closed: float) -> dict[str, float]:
    mouth, target = np.concatenate(series), np.concatenate(targets)
    lags = np.arange(-int(MAX_LAG_S / STEP_S), int(MAX_LAG_S / STEP_S) + 1)
    rs = []
    for lag in lags:  # mouth shifted back by `lag` steps: r(mouth(t + lag), target(t))
        a, b = (mouth[lag:], target[:target.size - lag]) if lag >= 0 else (mouth[:lag], target[-lag:])
        rs.append(np.corrcoef(a, b)[0, 1] if a.std() > 0 else 0.0)
    best = int(np.nanargmax(rs))
    hits = total = 0
    for m, sp in zip(series, spans):
        for start, end in sp:
            lo, hi = int((start - 0.02) / STEP_S), int(np.ceil((end + 0.02) / STEP_S))
            total += 1
            hits += bool(m[max(lo, 0):hi].min() <= closed) if hi > lo else 0
    shut = n_stops = 0
    for m, st in zip(series, stops):
        for s in st:
            lo, hi = int(round(s / STEP_S)), int(round((s + CLOSE_WITHIN_S) / STEP_S)) + 1
            n_stops += 1
            shut += bool(m[lo:hi].min() <= closed) if hi <= m.size else bool(m[lo:].min() <= closed)
    return {"r": float(rs[best]), "r_at_0": float(rs[len(lags) // 2]), "lag_ms": float(lags[best] * STEP_S * 1e3),
            "closure_pct": 100.0 * hits / max(total, 1), "bilabials": total,
            "closed_after_pct": 100.0 * shut / max(n_stops, 1), "stops": n_stops}


def cpu_cost_us(name: str, utt) -> float:
    w = utt.sample_rate // layout.MOTION_FPS
    chunks = [utt.audio[i:i + w] for i in range(0, utt.audio.size, w)]

    def run():
        gen = get_plugin_manager().get("motion_generators", name).factory(utt.sample_rate, EXPRESSIONS, 0)
        for c in chunks:
            gen.feed(c)
        gen.finish()

    return time_call(run, repeat=5, warmup=1)["median_ms"] * 1e3 / len(chunks)


def interpolate(keyframes: np.ndarray, fps: int) -> np.ndarray:
    n = int(len(keyframes) * fps / layout.MOTION_FPS)
    out = np.empty((n, keyframes.shape[1]), np.float32)
    for j in range(n):
        x = j * layout.MOTION_FPS / fps
        i = min(int(x), len(keyframes) - 1)
        blend_pose(keyframes[i], keyframes[min(i + 1, len(keyframes) - 1)], x - i, out[j])
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks lipsync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 voices x 4 sentences")
    parser.add_argument("--rendered", type=int, default=10, help="utterances also rendered with the cpu backend")
    args = parser.parse_args(argv)
    avatar = load_bundled("demo")
    gap = LipGap(avatar.head)
    utts = utterances(args.quick)
    refs = [reference(u) for _, _, u in utts]
    spans = [speechset.bilabial_spans(u) for _, _, u in utts]
    stops = [speech_stops(u) for _, _, u in utts]
    report = Report("lipsync", "Lip sync against phoneme timings (held-out espeak-ng speech)")
    results: dict[str, dict[str, dict[str, float]]] = {}
    pixels = MouthPixels(avatar)
    render_sel = np.linspace(0, len(utts) - 1, min(args.rendered, len(utts))).round().astype(int)
    render_sel = sorted(set(render_sel.tolist()))
    for name in GENERATORS:
        keyframes = [run_generator(name, u) for _, _, u in utts]
        geo = [on_grid(np.maximum(gap(k), 0.0), layout.MOTION_FPS, u.audio.size / u.sample_rate) for k, (_, _, u) in zip(keyframes, utts)]
        results.setdefault("keyframes", {})[name] = scores(geo, [t for _, t in refs], spans, stops, CLOSED_MM)
        started = time.perf_counter()
        px = []
        for i in render_sel:
            u = utts[i][2]
            frames = interpolate(keyframes[i], RENDER_FPS)
            px.append(on_grid(np.array([pixels(p) for p in frames]), RENDER_FPS, u.audio.size / u.sample_rate))
        results.setdefault("rendered", {})[name] = scores(px, [refs[i][1] for i in render_sel],
                                                         [spans[i] for i in render_sel],
                                                         [stops[i] for i in render_sel], CLOSED_PX)
        results["rendered"][name]["render_s"] = time.perf_counter() - started
        results.setdefault("cpu", {})[name] = {"us": cpu_cost_us(name, utts[0][2])}
    for view in ("keyframes", "rendered"):
        ours, base = results[view][OURS], results[view][BASELINE]
        report.add(f"r ({view})", OURS, ours["r"], BASELINE, base["r"], unit="", higher_is_better=True, budget=0.70,
                   r_at_zero_lag={OURS: ours["r_at_0"], BASELINE: base["r_at_0"]})
        report.add(f"|lag| ({view})", OURS, abs(ours["lag_ms"]), BASELINE, abs(base["lag_ms"]), unit="ms",
                   budget=40.0, lag_ms={OURS: ours["lag_ms"], BASELINE: base["lag_ms"]})
        report.add(f"p/b/m closed ({view})", OURS, ours["closure_pct"], BASELINE, base["closure_pct"], unit="%",
                   higher_is_better=True, budget=70.0, bilabials=ours["bilabials"])
        report.add(f"shut ≤120 ms ({view})", OURS, ours["closed_after_pct"], BASELINE, base["closed_after_pct"],
                   unit="%", higher_is_better=True, stops=ours["stops"])
    report.add("CPU per keyframe", OURS, results["cpu"][OURS]["us"], BASELINE, results["cpu"][BASELINE]["us"],
               unit="µs")
    voices = speechset.HELD_OUT_VOICES[:2] if args.quick else speechset.HELD_OUT_VOICES
    report.note(f"held-out voices (espeak-ng accent+variant; accent {speechset.HELD_OUT_ACCENT} and variants "
                f"{', '.join(speechset.HELD_OUT_VARIANTS)} never used in training): {', '.join(voices)}")
    report.note(f"held-out sentences: {len(set(s for _, s, _ in utts))} of speechset.HELD_OUT_SENTENCES "
                f"({len(utts)} utterances, {sum(u.audio.size / u.sample_rate for _, _, u in utts):.0f} s); "
                f"rendered: {len(render_sel)} utterances at {RENDER_FPS} fps")
    report.note(f"lips together: ≤ {CLOSED_MM} mm on the keyframes, ≤ {CLOSED_PX:g} pixel between them rendered; the "
                f"ratio column is ours/baseline (higher is better for r and shares, lower for lag and CPU)")
    report.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
