"""WGSL for the wgpu backend: splat quads and the background fill (the window blit is engine.kit.SurfacePresenter)."""

SPLATS = """
struct Params { size: vec4<f32>, background: vec4<f32> };
@group(0) @binding(0) var<uniform> params: Params;

struct Instance {
    @location(0) mean_radius_opacity: vec4<f32>,  // x, y (pixels), radius, opacity
    @location(1) conic: vec4<f32>,                // a, b, c, -
    @location(2) color: vec4<f32>,                // r, g, b, -
};
struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) @interpolate(flat) mean_radius_opacity: vec4<f32>,
    @location(1) @interpolate(flat) conic: vec4<f32>,
    @location(2) @interpolate(flat) color: vec4<f32>,
};

// Quad around the splat: the box of the ellipse sigma <= ln(255 o) (outside it alpha < 1/255, so
// no pixel there can contribute), clipped to nothing more than the radius square, plus half a
// pixel of slack. The fragment test decides coverage exactly, so the shape only saves fragments.
fn quad_corner(vi: u32, inst: Instance) -> vec2<f32> {
    let corner = vec2<f32>(f32(vi & 1u), f32(vi >> 1u)) * 2.0 - 1.0;
    let r = inst.mean_radius_opacity.z;
    let square = corner * (r + 0.5);
    let a = inst.conic.x;
    let b = inst.conic.y;
    let c = inst.conic.z;
    let det = a * c - b * b;
    let o = inst.mean_radius_opacity.w;
    if (det <= 0.0 || o * 255.0 <= 1.0) { return square; }
    let cxx = c / det;
    let cyy = a / det;
    let cxy = -b / det;
    let mid = 0.5 * (cxx + cyy);
    let d = sqrt(max(mid * mid - (cxx * cyy - cxy * cxy), 0.0));
    let l1 = mid + d;
    let l2 = max(mid - d, 0.0);
    var v1 = vec2<f32>(1.0, 0.0);
    if (abs(cxy) > 1e-12 * l1) { v1 = normalize(vec2<f32>(cxy, l1 - cxx)); } else if (cyy > cxx) { v1 = vec2<f32>(0.0, 1.0); }
    let v2 = vec2<f32>(-v1.y, v1.x);
    let s = 2.0 * (log(255.0 * o) + 0.01);
    let e1 = sqrt(s * l1) + 0.5;
    let e2 = sqrt(s * l2) + 0.5;
    if (e1 * e2 >= (r + 0.5) * (r + 0.5)) { return square; }
    return corner.x * e1 * v1 + corner.y * e2 * v2;
}

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, inst: Instance) -> Varyings {
    let p = inst.mean_radius_opacity.xy + quad_corner(vi, inst);
    var out: Varyings;
    out.position = vec4<f32>(p.x / params.size.x * 2.0 - 1.0, 1.0 - p.y / params.size.y * 2.0, 0.0, 1.0);
    out.mean_radius_opacity = inst.mean_radius_opacity;
    out.conic = inst.conic;
    out.color = inst.color;
    return out;
}

@fragment
fn fs_main(v: Varyings) -> @location(0) vec4<f32> {
    // v.position.xy is this pixel's centre (i + 0.5, j + 0.5), y down, as in gsplat.
    let d = v.mean_radius_opacity.xy - v.position.xy;
    let r = v.mean_radius_opacity.z;
    if (abs(d.x) > r || abs(d.y) > r) { discard; }
    let sigma = 0.5 * (v.conic.x * d.x * d.x + v.conic.z * d.y * d.y) + v.conic.y * d.x * d.y;
    if (sigma < 0.0) { discard; }
    let alpha = min(0.999, v.mean_radius_opacity.w * exp(-sigma));
    if (alpha < 1.0 / 255.0) { discard; }
    // premultiplied; the blend state composites front to back: dst += src * (1 - dst.a)
    return vec4<f32>(v.color.rgb * alpha, alpha);
}

@vertex
fn vs_fullscreen(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((vi << 1u) & 2u), f32(vi & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fs_background() -> @location(0) vec4<f32> {
    return vec4<f32>(params.background.rgb, 0.0);
}
"""
