"""Motion pipeline benchmarks: animation decode, the prepare stage, and the depth sort — ours vs baselines.

``python -m benchmarks motion [--quick] [--no-cold-compile] [--only decode|prepare|sort ...]``

- decode: keyframes/s of the numba ``AnimationDecoder`` vs protobuf + numpy on the same envelopes
  (25 keyframes per message, E = 100); budget ≥ 20×.
- prepare: ms per frame of ``AvatarPreparer`` (deform → bind → project → sort) on the demo head with
  10k / 30k / 100k Gaussians vs the numpy reference, and at 100k on 1, 2 and all threads; budget ≤ 3 ms
  at 100k on 2 threads.
- sh: the prepare stage at 100k Gaussians with view-dependent colour of SH degree 3 beside the same set with
  SH 0 (base colours), on 2 threads; budget ≤ 8 ms with SH 3.
- sort: 100k depths, numba radix sort vs ``np.argsort``.
- JIT: first-call time with numba's on-disk cache, and (unless ``--no-cold-compile``) a cold compile of
  every kernel in a subprocess with an empty cache directory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

from engine.avatar import load_bundled
from engine.avatar.model import GaussianSet
from engine.prepare import AvatarPreparer
from engine.prepare.reference import prepare_reference
from engine.prepare.sort import RadixSorter
from engine.render.camera import intrinsics, look_at_viewmat
from engine.wire import AnimationDecoder, encode_animation
from engine.wire.reference import decode_animation_reference

from .report import Report, machine_info, time_call

KEYFRAMES_PER_MESSAGE = 25
EXPRESSIONS = 100
SIZE = 512
PREPARE_BUDGET_MS = 3.0  # DESIGN §9: 100k Gaussians on 2 threads
PREPARE_SH3_BUDGET_MS = 8.0  # DESIGN §9: the same with SH degree 3

_COLD_SCRIPT = """
import time, numpy as np
t0 = time.perf_counter()
from engine.wire import AnimationDecoder, encode_animation
AnimationDecoder(100).decode(encode_animation("c", "r", np.zeros((25, 120), np.float32), 0, False))
t1 = time.perf_counter()
from engine.avatar import load_bundled
from engine.prepare import AvatarPreparer
from engine.render.camera import intrinsics, look_at_viewmat
a = load_bundled("demo")
t2 = time.perf_counter()
AvatarPreparer(a.head, a.gaussians)(a.idle[0], look_at_viewmat(a.camera), intrinsics(a.camera, 64, 64), 64, 64)
t3 = time.perf_counter()
print(t1 - t0, t3 - t2)
"""


def payloads(count: int, rng: np.random.Generator) -> list[bytes]:
    dim = 20 + EXPRESSIONS
    return [encode_animation("conn-1", f"req-{i // 10}",
                             rng.normal(0, 0.3, (KEYFRAMES_PER_MESSAGE, dim)).astype(np.float32),
                             (i % 10) * KEYFRAMES_PER_MESSAGE, i % 10 == 9) for i in range(count)]


def bench_decode(report: Report, messages: int, repeat: int) -> None:
    data = payloads(messages, np.random.default_rng(0))
    decoder = AnimationDecoder(EXPRESSIONS)
    t0 = time.perf_counter()
    decoder.decode(data[0])
    report.note(f"decode: first call (numba on-disk cache) {1e3 * (time.perf_counter() - t0):.1f} ms")
    for payload in data[:20]:  # same answers before timing anything
        want = decode_animation_reference(payload, EXPRESSIONS).keyframes
        assert np.array_equal(decoder.decode(payload).keyframes, want)

    def ours():
        for payload in data:
            decoder.decode(payload)

    def baseline():
        for payload in data:
            decode_animation_reference(payload, EXPRESSIONS)

    frames = messages * KEYFRAMES_PER_MESSAGE
    t_ours = time_call(ours, repeat=repeat)["median_ms"]
    t_base = time_call(baseline, repeat=max(3, repeat // 4))["median_ms"]
    ours_rate, base_rate = frames / (t_ours / 1e3), frames / (t_base / 1e3)
    report.add(f"decode {messages}×{KEYFRAMES_PER_MESSAGE} kf", "numba decoder", ours_rate, "protobuf + numpy",
               base_rate, unit="kf/s", higher_is_better=True,
               us_per_message=1e3 * t_ours / messages, baseline_us_per_message=1e3 * t_base / messages,
               speedup_budget=20.0)
    ratio = ours_rate / base_rate
    report.note(f"decode speedup {ratio:.1f}× — budget ≥ 20×: {'ok' if ratio >= 20 else 'MISSED'}; "
                f"{1e3 * t_ours / messages:.1f} µs vs {1e3 * t_base / messages:.1f} µs per message")


def gaussians_of_size(base: GaussianSet, count: int, rng: np.random.Generator) -> GaussianSet:
    """``count`` Gaussians drawn from the demo set (with replacement beyond its size), slightly jittered."""
    pick = rng.choice(base.count, count, replace=count > base.count)
    jitter = rng.normal(0, 0.02, (count, 3)).astype(np.float32)
    return GaussianSet(parent=base.parent[pick], local_xyz=base.local_xyz[pick] + jitter,
                       local_rot=base.local_rot[pick], local_log_scale=base.local_log_scale[pick],
                       opacity=base.opacity[pick], color=base.color[pick])


def bench_prepare(report: Report, sizes: list[int], repeat: int) -> None:
    avatar = load_bundled("demo")
    view, k = look_at_viewmat(avatar.camera), intrinsics(avatar.camera, SIZE, SIZE)
    rng = np.random.default_rng(1)
    pose = avatar.idle[0].copy()
    pose[9] = 0.2  # jaw open: pose correctives and jaw skinning are exercised
    pose[20:] = rng.normal(0, 0.5, avatar.expression_count).astype(np.float32)
    for n in sizes:
        g = gaussians_of_size(avatar.gaussians, n, rng)
        prep = AvatarPreparer(avatar.head, g)
        t0 = time.perf_counter()
        frame = prep(pose, view, k, SIZE, SIZE)
        first = 1e3 * (time.perf_counter() - t0)
        ours = time_call(lambda: prep(pose, view, k, SIZE, SIZE), repeat=repeat, warmup=3)
        base = time_call(lambda: prepare_reference(avatar.head, g, pose, view, k, SIZE, SIZE),
                         repeat=max(2, repeat // 10), warmup=1)
        report.add(f"prepare {n // 1000}k", f"numba, {numba.get_num_threads()} thr", ours["median_ms"],
                   "numpy reference", base["median_ms"], budget=PREPARE_BUDGET_MS if n >= 100_000 else None,
                   p90_ms=ours["p90_ms"], min_ms=min_of(lambda: prep(pose, view, k, SIZE, SIZE)), visible=frame.count,
                   first_call_ms=first, threads=numba.get_num_threads())
        if n >= 100_000:  # how the stage scales with threads (and what they cost on a busy box)
            for threads in sorted({1, 2, numba.config.NUMBA_NUM_THREADS} - {numba.get_num_threads()}):
                if threads > numba.config.NUMBA_NUM_THREADS:
                    continue
                some = AvatarPreparer(avatar.head, g, threads=threads)
                t = time_call(lambda: some(pose, view, k, SIZE, SIZE), repeat=repeat, warmup=2)
                report.add(f"prepare {n // 1000}k", f"numba, {threads} thr", t["median_ms"],
                           f"numba, {numba.get_num_threads()} thr", ours["median_ms"], threads=threads,
                           budget=PREPARE_BUDGET_MS if threads == 2 else None,
                           min_ms=min_of(lambda: some(pose, view, k, SIZE, SIZE)))
    report.note(f"prepare NNk: AvatarPreparer (deform → bind → project → sort) of NN thousand Gaussians on the "
                f"demo head (V={avatar.head.vertex_count}, E={avatar.expression_count}) at {SIZE}×{SIZE}, demo "
                f"camera; budget {PREPARE_BUDGET_MS:g} ms at 100k on 2 threads; first call per size includes "
                "cached-JIT load; min_ms in the JSON is the best run (least disturbed by other processes)")


def bench_prepare_sh(report: Report, repeat: int, n: int = 100_000) -> None:
    import attrs

    avatar = load_bundled("demo")
    view, k = look_at_viewmat(avatar.camera), intrinsics(avatar.camera, SIZE, SIZE)
    rng = np.random.default_rng(3)
    g = gaussians_of_size(avatar.gaussians, n, rng)
    g = attrs.evolve(g, sh=rng.normal(0, 0.3, (n, 16, 3)).astype(np.float32))
    pose = avatar.idle[0]
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    sh3 = AvatarPreparer(avatar.head, g, threads=threads)
    sh0 = AvatarPreparer(avatar.head, g, threads=threads, sh_degree=0)
    t3 = time_call(lambda: sh3(pose, view, k, SIZE, SIZE), repeat=repeat, warmup=3)
    t0 = time_call(lambda: sh0(pose, view, k, SIZE, SIZE), repeat=repeat, warmup=3)
    report.add(f"prepare {n // 1000}k SH", f"SH 3, {threads} thr", t3["median_ms"], f"SH 0, {threads} thr",
               t0["median_ms"], budget=PREPARE_SH3_BUDGET_MS, threads=threads,
               min_ms=min_of(lambda: sh3(pose, view, k, SIZE, SIZE)),
               baseline_min_ms=min_of(lambda: sh0(pose, view, k, SIZE, SIZE)))
    report.note(f"prepare {n // 1000}k SH: the same stage evaluating degree-3 SH colour per Gaussian for the view "
                f"(SH 0 = base colours, no SH pass); budget {PREPARE_SH3_BUDGET_MS:g} ms with SH 3 on 2 threads")


def min_of(fn, runs: int = 20) -> float:
    """Best wall time (ms) of ``runs`` calls: the figure least disturbed by other processes."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def bench_sort(report: Report, repeat: int) -> None:
    depths = np.random.default_rng(2).uniform(0.5, 0.8, 100_000).astype(np.float32)
    sorter, out = RadixSorter(len(depths)), np.zeros(len(depths), np.int32)
    assert np.array_equal(sorter.argsort(depths, out), np.argsort(depths, kind="stable"))
    ours = time_call(lambda: sorter.argsort(depths, out), repeat=repeat)
    base = time_call(lambda: np.argsort(depths), repeat=repeat)
    report.add("sort 100k depths", "numba LSD radix", ours["median_ms"], "np.argsort", base["median_ms"],
               min_ms=min_of(lambda: sorter.argsort(depths, out)), baseline_min_ms=min_of(lambda: np.argsort(depths)))


def bench_cold_compile(report: Report) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", _COLD_SCRIPT], env=env, capture_output=True, text=True, check=True)
    decode_s, prepare_s = map(float, out.stdout.split())
    report.note(f"cold JIT compile (empty cache): decoder {decode_s:.1f} s, prepare stage {prepare_s:.1f} s "
                "(paid once per machine: kernels are cached on disk)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks motion", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (a smoke run)")
    parser.add_argument("--no-cold-compile", action="store_true", help="skip the cold-compile subprocess")
    parser.add_argument("--only", choices=("decode", "prepare", "sh", "sort"), action="append",
                        help="run only this part (repeatable); default: all")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 30
    report = Report("motion", "Motion pipeline: decode, prepare, sort (ours vs baseline, one run)")
    info = machine_info()
    report.note(f"machine: {info.get('cpu', info['machine'])}, {info['cpus']} CPUs, numba {info.get('numba')} "
                f"({info.get('numba_threads')} threads), numpy {info.get('numpy')}, Python {info['python']}")
    report.note(f"load average before the run: {os.getloadavg()[0]:.2f} (other processes skew timings)")
    parts = set(args.only or ("decode", "prepare", "sh", "sort"))
    if "decode" in parts:
        bench_decode(report, 40 if args.quick else 200, repeat)
    if "prepare" in parts:
        bench_prepare(report, [10_000, 100_000] if args.quick else [10_000, 30_000, 100_000], repeat)
    if "sh" in parts:
        bench_prepare_sh(report, repeat)
    if "sort" in parts:
        bench_sort(report, repeat)
    if not args.no_cold_compile and not args.only:
        bench_cold_compile(report)
    report.emit()
    return 0
