//! Smooth motion between samples. The sampler delivers a batch every 16 ms
//! and samples every 5 ms; drawing each new value as it lands makes the
//! vessels twitch, so the shown level eases toward the newest sample.

/// A value that follows its target with an exponential ease: after `TAU`
/// it has covered 63% of the way, after 4·TAU 98%. Frame-rate independent:
/// two steps of dt/2 end where one step of dt does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eased {
    shown: f32,
    started: bool,
}

/// Short enough that the level is at most a couple of frames behind the
/// numbers printed over it, long enough to soften the 16 ms batching.
pub const TAU_SECS: f32 = 0.03;

impl Default for Eased {
    fn default() -> Self {
        Eased {
            shown: 0.0,
            started: false,
        }
    }
}

impl Eased {
    /// Moves toward `target` for `dt` seconds and returns the value to show.
    /// The first call jumps straight to the target.
    pub fn step(&mut self, target: f32, dt: f32) -> f32 {
        if !self.started || !self.shown.is_finite() {
            self.shown = target;
            self.started = true;
            return target;
        }
        let keep = (-dt.max(0.0) / TAU_SECS).exp();
        self.shown = target + (self.shown - target) * keep;
        // Close enough to stop asking for repaints.
        if (self.shown - target).abs() < 1e-4 {
            self.shown = target;
        }
        self.shown
    }

    #[cfg(test)]
    pub fn value(&self) -> f32 {
        self.shown
    }

    /// Still moving: the caller should repaint.
    pub fn is_moving(&self, target: f32) -> bool {
        self.shown != target
    }
}

/// The phase of the liquid's surface wave: it travels as fast as bytes move
/// through the buffer, so a stalled buffer's surface stands still.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flow {
    phase: f32,
}

impl Flow {
    /// `fraction_per_sec`: the share of the buffer's capacity that passes
    /// through it per second.
    pub fn step(&mut self, fraction_per_sec: f32, dt: f32) -> f32 {
        let speed = (fraction_per_sec.max(0.0) * 2.0).min(6.0);
        self.phase = (self.phase + speed * dt.max(0.0)).rem_euclid(std::f32::consts::TAU);
        self.phase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_jumps_then_eases_without_overshoot() {
        let mut eased = Eased::default();
        assert_eq!(eased.step(0.5, 0.016), 0.5);
        let mut previous = 0.5;
        for _ in 0..100 {
            let now = eased.step(1.0, 0.016);
            assert!(now >= previous && now <= 1.0, "{now} after {previous}");
            previous = now;
        }
        assert_eq!(eased.value(), 1.0);
        assert!(!eased.is_moving(1.0));
    }

    #[test]
    fn easing_is_frame_rate_independent() {
        let mut one = Eased::default();
        let mut two = Eased::default();
        one.step(0.0, 0.0);
        two.step(0.0, 0.0);
        let a = one.step(1.0, 0.03);
        two.step(1.0, 0.015);
        let b = two.step(1.0, 0.015);
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        // After one time constant, 63% of the way.
        let mut eased = Eased::default();
        eased.step(0.0, 0.0);
        let after_tau = eased.step(1.0, TAU_SECS);
        assert!((after_tau - 0.632).abs() < 0.01, "{after_tau}");
    }

    #[test]
    fn a_stalled_flow_stands_still() {
        let mut flow = Flow::default();
        let moving = flow.step(1.0, 0.1);
        assert!(moving > 0.0);
        assert_eq!(flow.step(0.0, 0.1), moving);
    }
}
