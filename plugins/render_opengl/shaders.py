"""GLSL 330 core for the OpenGL backend (same maths as the wgpu shaders)."""

SPLAT_VS = """#version 330 core
layout(location = 0) in vec4 mean_radius_opacity;  // per instance: x, y (pixels, y down), radius, opacity
layout(location = 1) in vec4 conic;
layout(location = 2) in vec4 color;
uniform vec2 size;
flat out vec4 v_mean_radius_opacity;
flat out vec3 v_conic;
flat out vec3 v_color;
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1)) * 2.0 - 1.0;
    vec2 p = mean_radius_opacity.xy + corner * (mean_radius_opacity.z + 0.5);
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
