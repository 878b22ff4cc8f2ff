"""Test references written independently of the product code: a numpy EWA projection that builds
PreparedFrame-shaped inputs for renderer tests, and a per-pixel numpy compositor with gsplat's rules.
Slow and obvious on purpose; used only on small scenes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np


def quat_to_rotmat(q: np.ndarray) -> np.ndarray:
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], 1)


def project(means, quats, scales, opacities, colors, viewmat, K, width, height, near=0.01, far=1e10):
    """EWA splatting as gsplat does it (0.3 px² dilation, opacity-aware 3σ radius, depth sort)."""
    means = np.asarray(means, np.float64)
    n = means.shape[0]
    R, t = viewmat[:3, :3].astype(np.float64), viewmat[:3, 3].astype(np.float64)
    pc = means @ R.T + t
    Rq = quat_to_rotmat(np.asarray(quats, np.float64)) if n else np.zeros((0, 3, 3))
    S = np.asarray(scales, np.float64)
    cov = np.einsum("nij,nj,nkj->nik", Rq, S * S, Rq) if n else np.zeros((0, 3, 3))
    covc = np.einsum("ij,njk,lk->nil", R, cov, R)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    z = pc[:, 2]
    safe_z = np.where(np.abs(z) > 1e-9, z, 1e-9)
    lim_x = 1.3 * (0.5 * width / fx)
    lim_y = 1.3 * (0.5 * height / fy)
    tx = safe_z * np.clip(pc[:, 0] / safe_z, -lim_x - (cx - width / 2) / fx, lim_x - (cx - width / 2) / fx)
    ty = safe_z * np.clip(pc[:, 1] / safe_z, -lim_y - (cy - height / 2) / fy, lim_y - (cy - height / 2) / fy)
    J = np.zeros((n, 2, 3))
    J[:, 0, 0] = fx / safe_z
    J[:, 0, 2] = -fx * tx / safe_z ** 2
    J[:, 1, 1] = fy / safe_z
    J[:, 1, 2] = -fy * ty / safe_z ** 2
    cov2 = np.einsum("nij,njk,nlk->nil", J, covc, J) + 0.3 * np.eye(2)
    det = cov2[:, 0, 0] * cov2[:, 1, 1] - cov2[:, 0, 1] ** 2
    ok = (z > near) & (z < far) & (det > 0)
    inv = 1.0 / np.where(det > 0, det, 1.0)
    conics = np.stack([cov2[:, 1, 1] * inv, -cov2[:, 0, 1] * inv, cov2[:, 0, 0] * inv], 1)
    mid = 0.5 * (cov2[:, 0, 0] + cov2[:, 1, 1])
    lam = mid + np.sqrt(np.maximum(0.1, mid * mid - det))
    op = np.asarray(opacities, np.float64)
    extent = np.minimum(3.0, np.sqrt(2.0 * np.log(np.maximum(255.0 * op, 1.0))))
    radii = np.ceil(extent * np.sqrt(lam))
    m2 = np.stack([fx * pc[:, 0] / safe_z + cx, fy * pc[:, 1] / safe_z + cy], 1)
    ok &= (radii > 0) & (op >= 1 / 255)
    ok &= (m2[:, 0] + radii > 0) & (m2[:, 0] - radii < width) & (m2[:, 1] + radii > 0) & (m2[:, 1] - radii < height)
    radii = np.where(ok, radii, 0)
    vis = np.nonzero(ok)[0]
    order = vis[np.argsort(z[vis], kind="stable")].astype(np.int32)
    full_order = np.zeros(n, np.int32)
    full_order[: order.size] = order
    return SimpleNamespace(
        width=width, height=height, count=int(order.size), order=full_order,
        means2d=m2.astype(np.float32), conics=conics.astype(np.float32), radii=radii.astype(np.float32),
        depths=z.astype(np.float32), opacities=op.astype(np.float32),
        colors=np.asarray(colors, np.float32).reshape(n, 3),
    )


def composite(frame, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """gsplat's per-pixel front-to-back loop, vectorised over pixels, one splat at a time."""
    H, W = frame.height, frame.width
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32) + np.float32(0.5)
    C = np.zeros((H, W, 3), np.float32)
    T = np.ones((H, W), np.float32)
    done = np.zeros((H, W), bool)
    for i in frame.order[: frame.count]:
        x, y = frame.means2d[i]
        r = frame.radii[i]
        a, b, c = frame.conics[i]
        dx = x - xs
        dy = y - ys
        inside = (np.abs(dx) <= r) & (np.abs(dy) <= r) & ~done
        sigma = np.float32(0.5) * (a * dx * dx + c * dy * dy) + b * dx * dy
        alpha = np.minimum(np.float32(0.999), frame.opacities[i] * np.exp(-sigma))
        use = inside & (sigma >= 0) & (alpha >= np.float32(1 / 255))
        next_t = T * (1 - alpha)
        finish = use & (next_t <= 1e-4)
        done |= finish
        use &= ~finish
        C += np.where(use[..., None], (alpha * T)[..., None] * frame.colors[i], 0)
        T = np.where(use, next_t, T)
    out = np.empty((H, W, 4), np.float32)
    out[..., :3] = C + T[..., None] * np.asarray(background, np.float32)
    out[..., 3] = 1 - T
    return out


def random_scene(n, seed, *, width=64, height=48, spread=0.6, scale=(0.01, 0.08)):
    """Random splats in front of a camera at the origin looking down +z (OpenCV)."""
    rng = np.random.default_rng(seed)
    means = np.stack([rng.uniform(-spread, spread, n), rng.uniform(-spread, spread, n) * height / width,
                      rng.uniform(1.5, 3.0, n)], 1).astype(np.float32)
    quats = rng.normal(size=(n, 4)).astype(np.float32)
    scales = np.exp(rng.uniform(math.log(scale[0]), math.log(scale[1]), (n, 3))).astype(np.float32)
    opacities = rng.uniform(0.05, 1.0, n).astype(np.float32)
    colors = rng.uniform(0, 1, (n, 3)).astype(np.float32)
    viewmat = np.eye(4, dtype=np.float32)
    f = 0.5 * height / math.tan(math.radians(20))
    K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float32)
    return dict(means=means, quats=quats, scales=scales, opacities=opacities, colors=colors,
                viewmat=viewmat, K=K, width=width, height=height)
