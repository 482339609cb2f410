//! A kernel buffer drawn as a vessel by the WGSL shader in
//! `shaders/vessel.wgsl`, through `egui_wgpu::CallbackTrait`. Labels and
//! numbers are ordinary egui text painted over it.
//!
//! Every vessel on screen gets its own 256-byte slot of one uniform buffer
//! (a dynamic offset): all `prepare` calls run before any `paint`, so one
//! shared slot would leave every vessel drawn with the last one's levels.

use std::num::NonZeroU64;

use eframe::egui::{self, Color32, Rect};
use eframe::egui_wgpu::{self, wgpu};

use super::theme::Palette;

/// Uniform slots: two vessels per connection, and room for a grid.
pub const SLOTS: usize = 32;
const SLOT_STRIDE: u64 = 256;

/// What one vessel shows. Levels are fractions of the effective capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VesselLook {
    /// Top of the bottom layer (in flight, for the send buffer).
    pub level_low: f32,
    /// Top of everything queued.
    pub level_high: f32,
    /// Phase of the surface wave, from `anim::Flow`.
    pub phase: f32,
    /// 0..1: how strongly the vessel warns (full buffer, blocked writer).
    pub glow: f32,
    pub color_low: Color32,
    pub color_high: Color32,
    pub glass: Color32,
    pub edge: Color32,
    pub warn: Color32,
}

impl VesselLook {
    /// A send buffer: bytes in flight at the bottom (they leave first),
    /// unsent bytes above; it glows red while send() is blocked.
    pub fn send_buffer(
        in_flight: f32,
        total: f32,
        phase: f32,
        blocked: bool,
        palette: &Palette,
    ) -> Self {
        VesselLook {
            level_low: in_flight,
            level_high: total,
            phase,
            glow: if blocked { 1.0 } else { 0.0 },
            color_low: palette.in_flight,
            color_high: palette.unsent,
            glass: palette.glass,
            edge: palette.edge,
            warn: palette.alarm,
        }
    }

    /// A receive buffer; it glows amber while the window is 0.
    pub fn receive_buffer(level: f32, phase: f32, zero_window: bool, palette: &Palette) -> Self {
        VesselLook {
            level_low: 0.0,
            level_high: level,
            phase,
            glow: if zero_window { 1.0 } else { 0.0 },
            color_low: palette.received,
            color_high: palette.received,
            glass: palette.glass,
            edge: palette.edge,
            warn: palette.caution,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct VesselUniform {
    size_px: [f32; 2],
    time: f32,
    phase: f32,
    level_low: f32,
    level_high: f32,
    glow: f32,
    wave: f32,
    color_low: [f32; 4],
    color_high: [f32; 4],
    glass: [f32; 4],
    edge: [f32; 4],
    warn: [f32; 4],
    pixels_per_point: f32,
    _pad: [f32; 3],
}

fn gamma(color: Color32) -> [f32; 4] {
    // Unmultiplied gamma-space values: the shader premultiplies.
    let [r, g, b, a] = color.to_srgba_unmultiplied();
    [r, g, b, a].map(|c| f32::from(c) / 255.0)
}

/// The pipeline and uniform buffer, kept in egui_wgpu's callback resources
/// so they live as long as the renderer.
struct VesselPipeline {
    pipeline: wgpu::RenderPipeline,
    bind_group: wgpu::BindGroup,
    uniforms: wgpu::Buffer,
}

/// Builds the pipeline once. Returns false when there is no wgpu renderer
/// (then `paint` draws the vessels with egui shapes).
pub fn install(render_state: &egui_wgpu::RenderState) -> bool {
    let device = &render_state.device;
    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("sockscope vessel"),
        source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/vessel.wgsl").into()),
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("sockscope vessel"),
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: NonZeroU64::new(size_of::<VesselUniform>() as u64),
            },
            count: None,
        }],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("sockscope vessel"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("sockscope vessel"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &shader,
            entry_point: Some("vs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: &shader,
            entry_point: Some("fs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: render_state.target_format,
                blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    });
    let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("sockscope vessel"),
        size: SLOT_STRIDE * SLOTS as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("sockscope vessel"),
        layout: &layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &uniforms,
                offset: 0,
                size: NonZeroU64::new(size_of::<VesselUniform>() as u64),
            }),
        }],
    });
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(VesselPipeline {
            pipeline,
            bind_group,
            uniforms,
        });
    true
}

struct VesselCallback {
    slot: usize,
    uniform: VesselUniform,
}

impl egui_wgpu::CallbackTrait for VesselCallback {
    fn prepare(
        &self,
        _device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(pipeline) = resources.get::<VesselPipeline>() {
            queue.write_buffer(
                &pipeline.uniforms,
                self.slot as u64 * SLOT_STRIDE,
                bytemuck::bytes_of(&self.uniform),
            );
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let Some(pipeline) = resources.get::<VesselPipeline>() else {
            return;
        };
        render_pass.set_pipeline(&pipeline.pipeline);
        render_pass.set_bind_group(
            0,
            &pipeline.bind_group,
            &[(self.slot as u64 * SLOT_STRIDE) as u32],
        );
        render_pass.draw(0..3, 0..1);
    }
}

/// Hands out uniform slots for one frame; knows whether the shader
/// pipeline is installed.
#[derive(Debug, Default)]
pub struct Slots {
    next: usize,
    /// False without a wgpu renderer: vessels are drawn with egui shapes.
    gpu: bool,
}

impl Slots {
    pub fn new(gpu: bool) -> Self {
        Slots { next: 0, gpu }
    }

    pub fn begin_frame(&mut self) {
        self.next = 0;
    }

    fn take(&mut self) -> Option<usize> {
        let slot = self.next;
        (self.gpu && slot < SLOTS).then(|| {
            self.next += 1;
            slot
        })
    }
}

/// Paints a vessel into `rect`: with the shader when the pipeline is
/// installed and a slot is free, otherwise with egui shapes.
pub fn paint(ui: &egui::Ui, rect: Rect, look: &VesselLook, slots: &mut Slots) {
    let ppp = ui.ctx().pixels_per_point();
    if let Some(slot) = slots.take() {
        let uniform = VesselUniform {
            size_px: [rect.width() * ppp, rect.height() * ppp],
            time: ui.input(|i| i.time) as f32,
            phase: look.phase,
            level_low: look.level_low.clamp(0.0, 1.0),
            level_high: look.level_high.clamp(0.0, 1.0),
            glow: look.glow.clamp(0.0, 1.0),
            wave: 0.035,
            color_low: gamma(look.color_low),
            color_high: gamma(look.color_high),
            glass: gamma(look.glass),
            edge: gamma(look.edge),
            warn: gamma(look.warn),
            pixels_per_point: ppp,
            _pad: [0.0; 3],
        };
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(
            rect,
            VesselCallback { slot, uniform },
        ));
        return;
    }
    paint_with_shapes(ui.painter(), rect, look);
}

/// The same picture without a GPU pipeline (and without the wave).
fn paint_with_shapes(painter: &egui::Painter, rect: Rect, look: &VesselLook) {
    let glass = rect.shrink(10.0);
    let radius = egui::CornerRadius::same(14);
    if look.glow > 0.0 {
        painter.rect_filled(
            glass.expand(6.0),
            egui::CornerRadius::same(18),
            look.warn.gamma_multiply(0.45 * look.glow),
        );
    }
    painter.rect_filled(glass, radius, look.glass);
    let inner = glass.shrink(3.0);
    let level_y = |level: f32| inner.bottom() - inner.height() * level.clamp(0.0, 1.0);
    let high = Rect::from_min_max(
        egui::pos2(inner.left(), level_y(look.level_high)),
        inner.max,
    );
    let low = Rect::from_min_max(egui::pos2(inner.left(), level_y(look.level_low)), inner.max);
    painter.rect_filled(high, egui::CornerRadius::same(10), look.color_high);
    painter.rect_filled(low, egui::CornerRadius::same(10), look.color_low);
    painter.rect_stroke(
        glass,
        radius,
        egui::Stroke::new(3.0, look.edge),
        egui::StrokeKind::Inside,
    );
}
