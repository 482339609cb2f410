//! Token bucket that paces the writer's send() and the reader's recv() calls.

use std::time::{Duration, Instant};

use super::units::Rate;

/// How long a paced worker sleeps at most before it checks its controls
/// again; also the pacing granularity at low rates.
pub const TICK: Duration = Duration::from_millis(10);
/// Shorter waits are rounding noise; waiting at least this long also keeps
/// a paced worker from spinning.
const MIN_WAIT: Duration = Duration::from_micros(50);
/// The most a paced worker may save up while it could not run.
const BURST: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct Pacer {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

/// What a paced worker may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Up to this many bytes.
    Bytes(usize),
    /// Nothing yet; ask again after this long.
    Wait(Duration),
    /// Rate 0: nothing until the rate changes.
    Paused,
}

impl Pacer {
    pub fn new(rate: Rate, now: Instant) -> Self {
        Pacer {
            rate,
            tokens: 0.0,
            last: now,
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// A new rate starts from an empty bucket, so a change never releases a
    /// burst saved up under the old rate.
    pub fn set_rate(&mut self, rate: Rate, now: Instant) {
        self.rate = rate;
        self.tokens = 0.0;
        self.last = now;
    }

    /// How many bytes of a call that wants `want` bytes may go now.
    /// `min_batch` is the smallest call worth making (a writer passes its
    /// whole chunk: send(data) sends the data; a reader passes 1).
    pub fn allowance(&mut self, want: usize, min_batch: usize, now: Instant) -> Allowance {
        let per_sec = match self.rate {
            Rate::Unlimited => return Allowance::Bytes(want),
            Rate::Paused => return Allowance::Paused,
            Rate::BytesPerSec(n) => n as f64,
        };
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        // Small calls are batched up to one tick's worth so a fast rate does
        // not mean a syscall per byte.
        let tick_bytes = per_sec * TICK.as_secs_f64();
        let batch = (min_batch as f64).max(tick_bytes.min(want as f64)).max(1.0);
        // The bucket holds two batches or a quarter second, whichever is
        // more: enough to absorb a late wake-up on a busy machine, too little
        // for an idle spell to turn into a long burst.
        let cap = (2.0 * batch).max(per_sec * BURST.as_secs_f64());
        self.tokens = (self.tokens + elapsed * per_sec).min(cap);
        if self.tokens >= batch {
            Allowance::Bytes((self.tokens as usize).min(want).max(1))
        } else {
            let missing = batch - self.tokens;
            Allowance::Wait(Duration::from_secs_f64(missing / per_sec).clamp(MIN_WAIT, TICK))
        }
    }

    /// Spends `bytes` that were actually sent or received.
    pub fn consume(&mut self, bytes: usize) {
        if matches!(self.rate, Rate::BytesPerSec(_)) {
            self.tokens -= bytes as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive the pacer on a virtual clock: it must hand out the configured
    /// rate, whatever the call size.
    fn paced_bytes(rate: u64, want: usize, min_batch: usize, seconds: f64) -> f64 {
        let start = Instant::now();
        let mut now = start;
        let mut pacer = Pacer::new(Rate::BytesPerSec(rate), now);
        let mut total = 0usize;
        let end = start + Duration::from_secs_f64(seconds);
        while now < end {
            match pacer.allowance(want, min_batch, now) {
                Allowance::Bytes(n) => {
                    pacer.consume(n);
                    total += n;
                }
                Allowance::Wait(d) => now += d,
                Allowance::Paused => unreachable!(),
            }
        }
        total as f64
    }

    #[test]
    fn holds_the_rate_for_small_and_large_calls() {
        for (rate, want, min_batch) in [
            (1 << 20, 128 << 10, 1),
            (1 << 20, 4 << 10, 1),
            (1 << 20, 128 << 10, 128 << 10),
            (10_000, 1, 1),
            (100 << 20, 64 << 10, 64 << 10),
        ] {
            let got = paced_bytes(rate, want, min_batch, 5.0) / 5.0;
            let ratio = got / rate as f64;
            assert!(
                (0.97..=1.03).contains(&ratio),
                "rate {rate} want {want}: got {got:.0} B/s ({ratio:.3})"
            );
        }
    }

    #[test]
    fn idle_time_earns_no_burst() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Rate::BytesPerSec(1000), start);
        let later = start + Duration::from_secs(60);
        // 60 s at 1000 B/s would be 60000 bytes; the bucket holds 0.25 s.
        assert_eq!(pacer.allowance(1 << 20, 1, later), Allowance::Bytes(250));
        // A writer's bucket holds two of its chunks.
        let mut writer = Pacer::new(Rate::BytesPerSec(1000), start);
        assert_eq!(writer.allowance(500, 500, later), Allowance::Bytes(500));
    }

    #[test]
    fn paused_and_unlimited() {
        let now = Instant::now();
        assert_eq!(
            Pacer::new(Rate::Paused, now).allowance(10, 1, now),
            Allowance::Paused
        );
        assert_eq!(
            Pacer::new(Rate::Unlimited, now).allowance(10, 1, now),
            Allowance::Bytes(10)
        );
    }
}
