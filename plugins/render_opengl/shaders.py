"""GLSL 330 core for the OpenGL backend (same maths as the wgpu shaders)."""

SPLAT_VS = """#version 330 core
layout(location = 0) in vec4 mean_radius_opacity;  // per instance: x, y (pixels, y down), radius, opacity
layout(location = 1) in vec4 conic;
layout(location = 2) in vec4 color;
uniform vec2 size;
flat out vec4 v_mean_radius_opacity;
flat out vec3 v_conic;
flat out vec3 v_color;
// Quad: the box of the ellipse sigma <= ln(255 o) (outside it alpha < 1/255), at most the radius
// square, plus half a pixel; the fragment test decides coverage exactly (same as the WGSL).
vec2 quad_corner(vec2 corner) {
    float r = mean_radius_opacity.z;
    vec2 square = corner * (r + 0.5);
    float a = conic.x, b = conic.y, c = conic.z;
    float det = a * c - b * b;
    float o = mean_radius_opacity.w;
    if (det <= 0.0 || o * 255.0 <= 1.0) return square;
    float cxx = c / det, cyy = a / det, cxy = -b / det;
    float mid = 0.5 * (cxx + cyy);
    float d = sqrt(max(mid * mid - (cxx * cyy - cxy * cxy), 0.0));
    float l1 = mid + d;
    float l2 = max(mid - d, 0.0);
    vec2 v1 = vec2(1.0, 0.0);
    if (abs(cxy) > 1e-12 * l1) v1 = normalize(vec2(cxy, l1 - cxx)); else if (cyy > cxx) v1 = vec2(0.0, 1.0);
    vec2 v2 = vec2(-v1.y, v1.x);
    float s = 2.0 * (log(255.0 * o) + 0.01);
    float e1 = sqrt(s * l1) + 0.5;
    float e2 = sqrt(s * l2) + 0.5;
    if (e1 * e2 >= (r + 0.5) * (r + 0.5)) return square;
    return corner.x * e1 * v1 + corner.y * e2 * v2;
}
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1)) * 2.0 - 1.0;
    vec2 p = mean_radius_opacity.xy + quad_corner(corner);
    gl_Position = vec4(p.x / size.x * 2.0 - 1.0, 1.0 - p.y / size.y * 2.0, 0.0, 1.0);
    v_mean_radius_opacity = mean_radius_opacity;
    v_conic = conic.xyz;
    v_color = color.rgb;
}
"""

SPLAT_FS = """#version 330 core
uniform vec2 size;
flat in vec4 v_mean_radius_opacity;
flat in vec3 v_conic;
flat in vec3 v_color;
out vec4 frag;
void main() {
    // gl_FragCoord is bottom-up; gsplat's pixel centres are top-down at +0.5
    vec2 pixel = vec2(gl_FragCoord.x, size.y - gl_FragCoord.y);
    vec2 d = v_mean_radius_opacity.xy - pixel;
    float r = v_mean_radius_opacity.z;
    if (abs(d.x) > r || abs(d.y) > r) discard;
    float sigma = 0.5 * (v_conic.x * d.x * d.x + v_conic.z * d.y * d.y) + v_conic.y * d.x * d.y;
    if (sigma < 0.0) discard;
    float alpha = min(0.999, v_mean_radius_opacity.w * exp(-sigma));
    if (alpha < 1.0 / 255.0) discard;
    frag = vec4(v_color * alpha, alpha);
}
"""

FULLSCREEN_VS = """#version 330 core
void main() {
    vec2 uv = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(uv * 2.0 - 1.0, 0.0, 1.0);
}
"""

BACKGROUND_FS = """#version 330 core
uniform vec3 background;
out vec4 frag;
void main() { frag = vec4(background, 0.0); }
"""
