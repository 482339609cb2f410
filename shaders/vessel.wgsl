// One kernel buffer drawn as a glass vessel: the liquid's height is the
// sampled queue against the buffer's effective size. The send buffer has two
// layers: sent-but-unacknowledged bytes at the bottom (they leave first, when
// ACKed) and unsent bytes above. The surface waves as fast as bytes pass
// through; a full buffer glows.
//
// Colours arrive in egui's gamma space and leave premultiplied, like egui's
// own meshes, so the vessel blends exactly as the widgets around it.

struct Vessel {
    size_px: vec2<f32>,    // the vessel's viewport, physical pixels
    time: f32,             // seconds, for the glow's pulse
    phase: f32,            // the surface wave's phase (follows the data rate)
    level_low: f32,        // top of the bottom layer, 0..1 of capacity
    level_high: f32,       // top of both layers, 0..1
    glow: f32,             // 0..1: how strongly to warn
    wave: f32,             // surface wave amplitude, 0..1 of height
    color_low: vec4<f32>,
    color_high: vec4<f32>,
    glass: vec4<f32>,
    edge: vec4<f32>,
    warn: vec4<f32>,
    pixels_per_point: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
};

@group(0) @binding(0) var<uniform> v: Vessel;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

// One triangle that covers the whole viewport (the callback's rect).
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let x = f32((index << 1u) & 2u);
    let y = f32(index & 2u);
    var out: VertexOut;
    out.position = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = vec2<f32>(x, y);
    return out;
}

// Signed distance to a rounded rectangle centred at the origin.
fn rounded_box(p: vec2<f32>, half_size: vec2<f32>, radius: f32) -> f32 {
    let q = abs(p) - half_size + vec2<f32>(radius, radius);
    return length(max(q, vec2<f32>(0.0, 0.0))) + min(max(q.x, q.y), 0.0) - radius;
}

fn over(top: vec4<f32>, bottom: vec4<f32>) -> vec4<f32> {
    // Both premultiplied.
    return top + bottom * (1.0 - top.a);
}

fn premul(c: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(c.rgb * c.a, c.a);
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let ppp = v.pixels_per_point;
    let p = in.uv * v.size_px;
    // Room around the glass for the glow.
    let margin = 10.0 * ppp;
    let stroke = 3.0 * ppp;
    let inner_min = vec2<f32>(margin, margin);
    let inner_size = v.size_px - vec2<f32>(2.0 * margin, 2.0 * margin);
    let centre = inner_min + inner_size * 0.5;
    let d = rounded_box(p - centre, inner_size * 0.5, 14.0 * ppp);
    let aa = 1.0;

    var colour = vec4<f32>(0.0, 0.0, 0.0, 0.0);

    // Warning glow outside the glass, pulsing about twice a second.
    if (v.glow > 0.0 && d > 0.0) {
        let pulse = 0.75 + 0.25 * sin(v.time * 12.0);
        let strength = v.glow * pulse * exp(-d / (4.0 * ppp));
        colour = premul(vec4<f32>(v.warn.rgb, v.warn.a * strength));
    }

    if (d < aa) {
        // Height from the glass's inside bottom, 0..1.
        let height = clamp((inner_min.y + inner_size.y - stroke - p.y) / (inner_size.y - 2.0 * stroke), 0.0, 1.0);
        let x = (p.x - inner_min.x) / max(inner_size.x, 1.0);
        // The wave vanishes at empty and full, where there is no surface.
        let room = min(v.level_high, 1.0 - v.level_high) * 4.0;
        let amplitude = v.wave * clamp(room, 0.0, 1.0);
        let surface = v.level_high + amplitude * sin(x * 9.0 + v.phase) * 0.5;
        let boundary = v.level_low + amplitude * 0.6 * sin(x * 7.0 - v.phase * 0.7) * 0.5;

        var fill = premul(v.glass);
        // Faint marks at a quarter, half and three quarters.
        for (var i = 1; i < 4; i = i + 1) {
            let mark = f32(i) * 0.25;
            let px = abs(height - mark) * (inner_size.y - 2.0 * stroke);
            if (px < 0.75 * ppp && x > 0.78) {
                fill = over(premul(vec4<f32>(v.edge.rgb, 0.35)), fill);
            }
        }
        if (height <= surface && v.level_high > 0.0005) {
            // Slightly lighter towards the surface.
            let shade = 0.85 + 0.15 * clamp(height / max(surface, 0.001), 0.0, 1.0);
            var liquid = v.color_high;
            if (height <= boundary && v.level_low > 0.0005) {
                liquid = v.color_low;
            }
            fill = premul(vec4<f32>(liquid.rgb * shade, liquid.a));
        }
        // The glass's edge.
        let edge_cover = clamp(1.0 - abs(d + stroke * 0.5) / (stroke * 0.5), 0.0, 1.0);
        fill = over(premul(vec4<f32>(v.edge.rgb, v.edge.a * edge_cover)), fill);
        // Anti-aliased outer boundary.
        let inside = clamp(0.5 - d / aa, 0.0, 1.0);
        colour = over(fill * inside, colour);
    }
    return colour;
}
