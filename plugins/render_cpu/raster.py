"""numba tile rasterizer with gsplat's compositing rules (the reference every backend is compared with).

Rules, per pixel (centre at +0.5), splats taken front to back:
σ = ½(a·dx² + c·dy²) + b·dx·dy;  skip σ < 0;  α = min(0.999, o·e^(−σ));  skip α < 1/255;
if T·(1 − α) ≤ 1e-4 the pixel is done *before* this splat; else C += c·α·T, T ·= 1 − α.
Output RGB = C + T·background, A = 1 − T.

A splat only touches pixels whose centre lies in the square of half-side ``radius`` around its
mean (the same square the GPU backends draw as a quad), so all backends cover the same pixels.

Speed: splat data is packed in sorted order and prefetched a few entries ahead, so a tile walks
memory the cache has ready; each splat visits only its bounding box inside the tile (the box is
clipped to the ellipse where α can reach 1/255); each tile row keeps the span of pixels still live
(and a bit whether it has any), so splats behind an already opaque surface cost almost nothing;
workers take tiles one at a time from a shared counter, and composite a tile in their
own planar scratch (T, R, G, B rows, L1-sized); a splat's rows are done two at a time, 8 pixels
per step, by branch-free float32 code that LLVM turns into AVX2 (σ exactly as gsplat computes it,
e^(−σ) by a polynomial within 4 ulp, see :mod:`.simd`); within a hair of the α or T threshold a
pixel is decided by gsplat's own float32 arithmetic instead. Tiles run in parallel and stop once
every pixel is done.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .atomics import fetch_add
from .simd import EXP_CONSTANTS, K_HALF, K_ONE, exp_neg, lowest_bit, prefetch_row

TILE = 32  # measured against 16 (same images): ~10% less CPU time per frame, fewer (tile, splat) entries
PACK = 9  # x, y, a, b, c, opacity, r, g, b
ALPHA_MIN = np.float32(1.0 / 255.0)
ALPHA_MAX = np.float32(0.999)
T_MIN = np.float32(1e-4)
# The vector path's α differs from gsplat's only by its e^(−σ) (≤ 4 ulp, 2.4e-7 relative; σ is the same
# float32 arithmetic), so T·(1 − α) by < 2.4e-4 relative (α·2.4e-7 next to 1 − α ≥ 0.001). Within these
# bands of a threshold (0.1% for α, 0.2% for T: ≥ 8× wider) the decision is redone with gsplat's float32
# arithmetic, its exp included.
ALPHA_MIN_LO = np.float32(ALPHA_MIN * 0.999)
ALPHA_MIN_HI = np.float32(ALPHA_MIN * 1.001)
T_MIN_LO = np.float32(T_MIN * 0.998)
T_MIN_HI = np.float32(T_MIN * 1.002)
LANES = 8  # pixels a row of a splat takes per step: one AVX2 register of float32
ROW = TILE + LANES  # scratch row length: a step may start at any live pixel and run 7 past the tile
PLANES = 5  # scratch per tile row: T, R, G, B, and the lanes a step left to the exact rules
LINE = PLANES * ROW  # floats per tile row of scratch
SIGMA_CAP = np.float32(6.0)  # 0.999·e^(−6) < ALPHA_MIN_LO: lanes beyond are dropped whatever e^(−σ) says
PREFETCH = 6  # entries ahead whose splat data is requested (~5–20% less time per frame, measured)
F0 = np.float32(0.0)
F1 = np.float32(1.0)
HALF = np.float32(0.5)
LANE_CENTRE = np.arange(LANES, dtype=np.float32) + HALF  # pixel x + ½ is exact: (px0 + lane) + ½ = px0 + (lane + ½)


@nb.njit(cache=True, nogil=True, parallel=True)
def refresh_cuts(opacities, seen, cuts):
    """``cuts[i]`` = 2·(ln(255·o) + 0.01) for opacity o = ``opacities[i]`` (see :func:`pack_and_bound`),
    recomputed only where o differs from ``seen[i]`` (an avatar's opacities rarely change: the log was
    40% of packing a frame)."""
    for i in nb.prange(opacities.shape[0]):
        o = opacities[i]
        if o != seen[i]:
            seen[i] = o
            cuts[i] = np.float32(2.0) * (math.log(np.float32(255.0) * o) + np.float32(0.01)) if o >= ALPHA_MIN else 0


@nb.njit(cache=True, nogil=True, parallel=True)
def pack_and_bound(count, order, means2d, conics, radii, opacities, cuts, colors, width, height, packed, bbox):
    """Gather the first ``count`` sorted splats into ``packed`` and their pixel boxes into ``bbox``.

    ``bbox[k] = (x0, x1, y0, y1)`` inclusive pixel indices, or x0 > x1 when the splat covers nothing;
    ``cuts`` from :func:`refresh_cuts`.
    """
    for k in nb.prange(count):
        i = order[k]
        x = means2d[i, 0]
        y = means2d[i, 1]
        r = radii[i]
        o = opacities[i]
        packed[k, 0] = x
        packed[k, 1] = y
        packed[k, 2] = conics[i, 0]
        packed[k, 3] = conics[i, 1]
        packed[k, 4] = conics[i, 2]
        packed[k, 5] = o
        packed[k, 6] = colors[i, 0]
        packed[k, 7] = colors[i, 1]
        packed[k, 8] = colors[i, 2]
        if not (r > 0.0) or not (o >= ALPHA_MIN) or not (math.isfinite(x) and math.isfinite(y)):
            bbox[k, 0] = 1
            bbox[k, 1] = 0
            bbox[k, 2] = 1
            bbox[k, 3] = 0
            continue
        # pixel i is covered when |i + 0.5 - x| <= r; within that square only the box of the
        # ellipse σ <= ln(255·o) can reach α >= 1/255, so the box is clipped to it (exact)
        rx = r
        ry = r
        a = conics[i, 0]
        b = conics[i, 1]
        c = conics[i, 2]
        det = a * c - b * b
        if det > 0.0:
            s = cuts[i]  # 2·(ln(255·o) + 0.01)
            rx = min(r, math.sqrt(s * c / det) + np.float32(0.01))
            ry = min(r, math.sqrt(s * a / det) + np.float32(0.01))
        x0 = max(int(math.ceil(x - rx - 0.5)), 0)
        x1 = min(int(math.floor(x + rx - 0.5)), width - 1)
        y0 = max(int(math.ceil(y - ry - 0.5)), 0)
        y1 = min(int(math.floor(y + ry - 0.5)), height - 1)
        bbox[k, 0] = x0
        bbox[k, 1] = x1
        bbox[k, 2] = y0
        bbox[k, 3] = y1


CHUNKS = 8  # splat chunks binned in parallel; each keeps its own per-tile counts (no atomics)


@nb.njit(cache=True, nogil=True, parallel=True)
def count_tiles(count, bbox, tiles_x, chunk_counts, chunk_offsets, tile_starts):
    """Bin splats to tiles: per-chunk tile counts, then per-tile offsets for every chunk.

    Chunk c holds sorted splats [count·c/C, count·(c+1)/C); giving each chunk its own slice of
    every tile's list keeps the lists in depth order while chunks fill in parallel.
    Returns the total number of (tile, splat) entries.
    """
    n_chunks = chunk_counts.shape[0]
    n_tiles = chunk_counts.shape[1]
    for c in nb.prange(n_chunks):
        chunk_counts[c, :] = 0
        for k in range(count * c // n_chunks, count * (c + 1) // n_chunks):
            if bbox[k, 0] > bbox[k, 1] or bbox[k, 2] > bbox[k, 3]:
                continue
            for ty in range(bbox[k, 2] // TILE, bbox[k, 3] // TILE + 1):
                for tx in range(bbox[k, 0] // TILE, bbox[k, 1] // TILE + 1):
                    chunk_counts[c, ty * tiles_x + tx] += 1
    running = 0
    for t in range(n_tiles):
        tile_starts[t] = running
        for c in range(n_chunks):
            chunk_offsets[c, t] = running
            running += chunk_counts[c, t]
    tile_starts[n_tiles] = running
    return running


@nb.njit(cache=True, nogil=True, parallel=True)
def fill_tiles(count, bbox, tiles_x, chunk_offsets, tile_lists):
    """Write each chunk's splats into its slices of the tile lists (consumes ``chunk_offsets``)."""
    n_chunks = chunk_offsets.shape[0]
    for c in nb.prange(n_chunks):
        for k in range(count * c // n_chunks, count * (c + 1) // n_chunks):
            if bbox[k, 0] > bbox[k, 1] or bbox[k, 2] > bbox[k, 3]:
                continue
            for ty in range(bbox[k, 2] // TILE, bbox[k, 3] // TILE + 1):
                for tx in range(bbox[k, 0] // TILE, bbox[k, 1] // TILE + 1):
                    t = ty * tiles_x + tx
                    tile_lists[chunk_offsets[c, t]] = k
                    chunk_offsets[c, t] += 1


@nb.njit(cache=True, nogil=True, inline="always")
def _alpha_f32(px, dy, mx, ca, cb, ccdy, o, sigma_max):
    """gsplat's α in float32 at pixel ``px`` of a row (``ccdy`` = c·dy·dy), or 0 where σ rules it out."""
    dx = mx - (np.float32(px) + np.float32(0.5))
    sigma = np.float32(0.5) * (ca * dx * dx + ccdy) + cb * dx * dy
    if sigma < 0.0 or sigma > sigma_max:
        return np.float32(0.0)
    return min(ALPHA_MAX, o * np.float32(math.exp(-sigma)))


# The steps' constants after exp's (see simd.EXP_CONSTANTS), passed to rasterize_tiles as an array and down
# as a tuple of runtime values; ``k[K_...]`` in the kernels.
K_CAP, K_ZERO, K_AMAX, K_AMIN_LO, K_AMIN_HI, K_TMIN, K_TMIN_LO, K_TMIN_HI = range(10, 18)
LANE_CONSTANTS = np.array(EXP_CONSTANTS + (SIGMA_CAP, F0, ALPHA_MAX, ALPHA_MIN_LO, ALPHA_MIN_HI, T_MIN, T_MIN_LO,
                                           T_MIN_HI), np.float32)


@nb.njit(cache=True, nogil=True, inline="always")
def _lane(T, lc, k, px0, mx, dy, ca, cb, ccdy, o, m, n):
    """One splat at the pixel whose centre is ``px0 + lc`` (lc = lane + ½), live when m < px0 + lc < n.

    Returns (new T, α·T to add with the colour, whether the pixel is left to the exact rules).
    Branch-free: the ternaries become selects, so LLVM vectorises the loops over lanes.
    """
    zero = k[K_ZERO]
    centre = px0 + lc
    dx = mx - centre
    sigma = k[K_HALF] * (ca * dx * dx + ccdy) + cb * dx * dy  # gsplat's float32 σ, operation for operation
    s = sigma if sigma < k[K_CAP] else k[K_CAP]
    s = s if s > zero else zero
    alpha = o * exp_neg(s, k)
    alpha = alpha if alpha < k[K_AMAX] else k[K_AMAX]
    next_t = T * (k[K_ONE] - alpha)
    ok = (centre > m) & (centre < n) & (T > zero) & (sigma >= zero) & (alpha >= k[K_AMIN_LO])
    near = ok & ((alpha < k[K_AMIN_HI]) | ((next_t <= k[K_TMIN_HI]) & (next_t > k[K_TMIN_LO])))
    ok = ok & ~near
    done = ok & (next_t <= k[K_TMIN])
    mix = ok & ~done
    t_new = next_t if mix else T
    return (-T if done else t_new), (alpha * T if mix else zero), near  # negative T: the pixel is done


@nb.njit(cache=True, nogil=True, inline="always")
def _step(buf, k, i, px0, mx, dy, ca, cb, ccdy, o, cr, cg, cbl, n):
    """One splat over pixels px0 .. px0 + 7 of a scratch row (``buf[i]`` is px0's T; those left of ``n`` live).

    ``i`` is unsigned, so indexing has no negative-index code, and there is no slice per step (a slice's
    reference count is two atomic operations).

    Lanes within a band of a threshold are left untouched and flagged in plane 4; returns whether
    there are any.
    """
    near_any = False
    for lane in range(LANES):
        t_new, vis, near = _lane(buf[i + np.uint64(lane)], LANE_CENTRE[lane], k, px0, mx, dy, ca, cb, ccdy, o, F0, n)
        buf[i + np.uint64(lane)] = t_new
        buf[i + np.uint64(ROW + lane)] += cr * vis
        buf[i + np.uint64(2 * ROW + lane)] += cg * vis
        buf[i + np.uint64(3 * ROW + lane)] += cbl * vis
        buf[i + np.uint64(4 * ROW + lane)] = F1 if near else F0
        near_any |= near
    return near_any


@nb.njit(cache=True, nogil=True, inline="always")
def _step2(buf, k, i, px0, mx, dy, dy2, ca, cb, ccdy, ccdy2, o, cr, cg, cbl, m, n, m2, n2):
    """:func:`_step` on two rows at once, the second LINE further on (pixels m < x + ½ < n, m2 .. n2 live).

    Two independent streams share the constants and the loop: ~7% less time per frame than a step per row.
    """
    near_any = False
    near_any2 = False
    for lane in range(LANES):
        lc = LANE_CENTRE[lane]
        t_new, vis, near = _lane(buf[i + np.uint64(lane)], lc, k, px0, mx, dy, ca, cb, ccdy, o, m, n)
        t_new2, vis2, near2 = _lane(buf[i + np.uint64(LINE + lane)], lc, k, px0, mx, dy2, ca, cb, ccdy2, o, m2, n2)
        buf[i + np.uint64(lane)] = t_new
        buf[i + np.uint64(ROW + lane)] += cr * vis
        buf[i + np.uint64(2 * ROW + lane)] += cg * vis
        buf[i + np.uint64(3 * ROW + lane)] += cbl * vis
        buf[i + np.uint64(4 * ROW + lane)] = F1 if near else F0
        buf[i + np.uint64(LINE + lane)] = t_new2
        buf[i + np.uint64(LINE + ROW + lane)] += cr * vis2
        buf[i + np.uint64(LINE + 2 * ROW + lane)] += cg * vis2
        buf[i + np.uint64(LINE + 3 * ROW + lane)] += cbl * vis2
        buf[i + np.uint64(LINE + 4 * ROW + lane)] = F1 if near2 else F0
        near_any |= near
        near_any2 |= near2
    return near_any, near_any2


@nb.njit(cache=True, nogil=True, inline="always")
def _exact(buf, i, px, dy, mx, ca, cb, ccdy, o, cr, cg, cbl):
    """The lanes a step flagged (``buf[i]`` at pixel ``px``): decide as gsplat's float32 arithmetic does."""
    for lane in range(LANES):
        if buf[i + np.uint64(4 * ROW + lane)] == F0:
            continue
        T = buf[i + np.uint64(lane)]
        alpha = _alpha_f32(px + lane, dy, mx, ca, cb, ccdy, o, SIGMA_CAP)
        if alpha < ALPHA_MIN:
            continue
        next_t = T * (F1 - alpha)
        if next_t <= T_MIN:
            buf[i + np.uint64(lane)] = -T
            continue
        vis = alpha * T
        buf[i + np.uint64(ROW + lane)] += cr * vis
        buf[i + np.uint64(2 * ROW + lane)] += cg * vis
        buf[i + np.uint64(3 * ROW + lane)] += cbl * vis
        buf[i + np.uint64(lane)] = next_t


@nb.njit(cache=True, nogil=True, inline="always")
def _shrink(buf, row, a, b, live, t):
    """Narrow a row's live span [a, b] past pixels that are done; the row's bit when it has none left."""
    while a <= b and buf[row * LINE + a] <= F0:
        a += 1
    while b >= a and buf[row * LINE + b] <= F0:
        b -= 1
    live[t, 0, row] = a
    live[t, 1, row] = b
    return (1 << row) if a > b else 0


@nb.njit(cache=True, nogil=True, parallel=True)
def rasterize_tiles(packed, bbox, tile_starts, tile_lists, tiles_x, background, image, rgba8, with_float, live,
                    tile_order, next_tile, scratch, constants):
    """Composite every tile's list into ``rgba8`` (the flat view of an (H, W, 4) uint8 image): RGB over
    ``background``, A = 1 − T, rounded while the tile is in cache (a pass of its own cost ~0.5 ms at 512²);
    and into the float32 ``image`` if
    ``with_float`` (4 MB more to write at 512²: ~5% of a frame, so only when asked for).

    ``scratch`` (workers, TILE·LINE) holds the planes of the tile a worker composites (it stays in L1);
    workers take the tiles of ``tile_order`` one at a time from the counter ``next_tile[0]`` (int64), so a
    worker whose vCPU runs slower (a busy SMT sibling, a preempted thread) takes fewer: ~15% less time per
    frame than fixed shares on this 2-vCPU VM.

    ``constants`` is :data:`LANE_CONSTANTS`. ``live`` (n_tiles, 2, TILE) is scratch: per tile row, the first
    and last pixel not yet done.
    Splats are clipped to it, so once the opaque interior of a surface has saturated, later
    splats only visit the pixels that can still change (tile edges, silhouettes).
    """
    height = image.shape[0]
    width = image.shape[1]
    n_tiles = tile_starts.shape[0] - 1
    workers = scratch.shape[0]
    bg0 = background[0]
    bg1 = background[1]
    bg2 = background[2]
    next_tile[0] = 0
    for w in nb.prange(workers):
        buf = scratch[w]
        c = constants
        k = (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15],
             c[16], c[17])
        while True:
            i = fetch_add(next_tile, 0, 1)
            if i >= n_tiles:
                break
            _composite_tile(packed, bbox, tile_starts, tile_lists, tiles_x, tile_order[i], width, height,
                            bg0, bg1, bg2, image, rgba8, with_float, live, buf, k)


@nb.njit(cache=True, nogil=True)
def _composite_tile(packed, bbox, tile_starts, tile_lists, tiles_x, t, width, height, bg0, bg1, bg2, image, rgba8,
                    with_float, live, buf, k):
    """One tile: clear ``buf``, composite the tile's list into it, write the finished pixels to ``rgba8``
    (and ``image`` if ``with_float``).

    A splat's rows go two at a time through :func:`_step2` over the union of their live spans; a bit per
    row says whether it has a live pixel at all, so a splat visits only those rows (in the demo a third of
    the row pairs a splat's box covers are finished: ~7% less time per frame).
    """
    tx0 = (t % tiles_x) * TILE
    ty0 = (t // tiles_x) * TILE
    tw = min(tx0 + TILE, width) - tx0
    th = min(ty0 + TILE, height) - ty0
    for row in range(TILE):
        live[t, 0, row] = 0
        live[t, 1, row] = tw - 1
        for lx in range(ROW):
            buf[row * LINE + lx] = F1  # transmittance while compositing; negative = done
            buf[row * LINE + ROW + lx] = F0
            buf[row * LINE + 2 * ROW + lx] = F0
            buf[row * LINE + 3 * ROW + lx] = F0
    live_rows = (1 << th) - 1  # bit r: tile row r has pixels not yet done
    end = tile_starts[t + 1]
    for j in range(tile_starts[t], end):
        e = tile_lists[j]
        if j + PREFETCH < end:
            ahead = tile_lists[j + PREFETCH]
            prefetch_row(packed, ahead)
            prefetch_row(bbox, ahead)
        x0 = max(bbox[e, 0], tx0) - tx0  # tile-local box
        x1 = min(bbox[e, 1], tx0 + tw - 1) - tx0
        y0 = max(bbox[e, 2], ty0) - ty0
        y1 = min(bbox[e, 3], ty0 + th - 1) - ty0
        rows = live_rows & ((2 << y1) - (1 << y0))  # the box's live rows, taken two at a time
        if rows == 0:
            continue
        mx = packed[e, 0]
        my = packed[e, 1]
        ca = packed[e, 2]
        cb = packed[e, 3]
        cc = packed[e, 4]
        o = packed[e, 5]
        cr = packed[e, 6]
        cg = packed[e, 7]
        cbl = packed[e, 8]
        while rows != 0:
            row = lowest_bit(rows)
            row2 = row + 1
            rows &= ~(3 << row)
            a = live[t, 0, row]
            b = live[t, 1, row]
            lo = max(x0, a)
            hi = min(x1, b)
            a2 = b2 = lo2 = 0
            hi2 = -1
            if row2 <= y1:
                a2 = live[t, 0, row2]
                b2 = live[t, 1, row2]
                lo2 = max(x0, a2)
                hi2 = min(x1, b2)
            if lo > hi and lo2 > hi2:
                continue
            dy = my - (np.float32(ty0 + row) + HALF)
            ccdy = cc * dy * dy
            dy2 = my - (np.float32(ty0 + row2) + HALF)
            ccdy2 = cc * dy2 * dy2
            if lo <= hi and lo2 <= hi2:
                # live pixels x of the rows, as bounds on x + ½ (image x): set once, not per step
                m1, n1 = np.float32(tx0 + lo), np.float32(tx0 + hi + 1)
                m2, n2 = np.float32(tx0 + lo2), np.float32(tx0 + hi2 + 1)
                for g in range(min(lo, lo2), max(hi, hi2) + 1, LANES):
                    i = np.uint64(row * LINE + g)
                    px0 = np.float32(tx0 + g)
                    near, near2 = _step2(buf, k, i, px0, mx, dy, dy2, ca, cb, ccdy, ccdy2, o, cr, cg, cbl,
                                         m1, n1, m2, n2)
                    if near:
                        _exact(buf, i, tx0 + g, dy, mx, ca, cb, ccdy, o, cr, cg, cbl)
                    if near2:
                        _exact(buf, i + np.uint64(LINE), tx0 + g, dy2, mx, ca, cb, ccdy2, o, cr, cg, cbl)
            else:
                if lo2 <= hi2:  # only the second row is live: make it the one to step
                    lo, hi, dy, ccdy, r = lo2, hi2, dy2, ccdy2, row2
                else:
                    r = row
                for g in range(lo, hi + 1, LANES):
                    i = np.uint64(r * LINE + g)
                    if _step(buf, k, i, np.float32(tx0 + g), mx, dy, ca, cb, ccdy, o, cr, cg, cbl,
                             np.float32(tx0 + hi + 1)):
                        _exact(buf, i, tx0 + g, dy, mx, ca, cb, ccdy, o, cr, cg, cbl)
            if a <= b and (buf[row * LINE + a] <= F0 or buf[row * LINE + b] <= F0):
                live_rows &= ~_shrink(buf, row, a, b, live, t)
            if a2 <= b2 and row2 <= y1 and (buf[row2 * LINE + a2] <= F0 or buf[row2 * LINE + b2] <= F0):
                live_rows &= ~_shrink(buf, row2, a2, b2, live, t)
        if live_rows == 0:
            break
    width8 = np.uint64(4 * width)
    for row in range(th):
        # the uint8 image's rows through its flat view with unsigned indices: no negative-index code, and
        # LLVM vectorises the four interleaved channels (the writing took 8 µs a tile, now 5)
        out = np.uint64(ty0 + row) * width8 + np.uint64(4 * tx0)
        for lx in range(tw):
            T = abs(buf[row * LINE + lx])
            px = out + np.uint64(4 * lx)
            rgba8[px] = _to_u8(buf[row * LINE + ROW + lx] + T * bg0)
            rgba8[px + np.uint64(1)] = _to_u8(buf[row * LINE + 2 * ROW + lx] + T * bg1)
            rgba8[px + np.uint64(2)] = _to_u8(buf[row * LINE + 3 * ROW + lx] + T * bg2)
            rgba8[px + np.uint64(3)] = _to_u8(F1 - T)
        if with_float:
            for lx in range(tw):
                T = abs(buf[row * LINE + lx])
                image[ty0 + row, tx0 + lx, 0] = buf[row * LINE + ROW + lx] + T * bg0
                image[ty0 + row, tx0 + lx, 1] = buf[row * LINE + 2 * ROW + lx] + T * bg1
                image[ty0 + row, tx0 + lx, 2] = buf[row * LINE + 3 * ROW + lx] + T * bg2
                image[ty0 + row, tx0 + lx, 3] = F1 - T


@nb.njit(cache=True, nogil=True, inline="always")
def _to_u8(v):
    """A channel in [0, 1] → uint8, rounded and clamped (as engine.render.pixels.to_rgba8)."""
    v = v * np.float32(255.0) + HALF
    return np.uint8(min(max(v, F0), np.float32(255.0)))


def interleaved_tiles(n_tiles: int, threads: int) -> np.ndarray:
    """Tile indices dealt round-robin into ``threads`` runs: the order :func:`rasterize_tiles` hands tiles out in,
    so that workers taking consecutive tiles seldom work on the same region (measured a little faster than
    row-major order, and no slower than largest-list-first)."""
    return np.concatenate([np.arange(r, n_tiles, max(threads, 1)) for r in range(max(threads, 1))]).astype(np.int32)
