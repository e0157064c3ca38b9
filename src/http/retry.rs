//! Backoff shared by the management and deployment clients.
//!
//! The schedule is the official CLI's (about 31 s in all). Tests replace it
//! with `CONVEX_TEST_RETRY_DELAY_MS` (read once, from the real process
//! environment, when the HTTP client is built): every delay becomes that many
//! milliseconds, so fault-injection tests can count retries without waiting.
//! The number of retries never changes.

use std::sync::OnceLock;
use std::time::Duration;

static DELAY_OVERRIDE: OnceLock<Duration> = OnceLock::new();

/// Replace every retry delay of this process (test-only knob; the first call
/// wins).
pub fn set_delay_override(delay: Duration) {
    let _ = DELAY_OVERRIDE.set(delay);
}

/// The test-only delay that replaces every retry delay, if set (the sync
/// protocol's reconnect backoff honours it too).
pub fn delay_override() -> Option<Duration> {
    DELAY_OVERRIDE.get().copied()
}

/// Retries after the first attempt (7 attempts in all), as the official CLI.
pub const MAX_RETRIES: u32 = 6;

/// Delay before retry number `attempt` (0-based): 1 ms, then 1 s, 2 s, 4 s,
/// 8 s, 16 s, each plus up to 20 % random jitter.
pub fn retry_delay(attempt: u32) -> Duration {
    if let Some(delay) = DELAY_OVERRIDE.get() {
        return *delay;
    }
    reference_delay(attempt)
}

/// The official CLI's delay before retry number `attempt`.
fn reference_delay(attempt: u32) -> Duration {
    let base_ms: f64 = if attempt == 0 {
        1.0
    } else {
        2f64.powi(attempt as i32 - 1) * 1000.0
    };
    let jitter = base_ms * 0.2 * fastrand::f64();
    Duration::from_micros(((base_ms + jitter) * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        let expect = [1u64, 1000, 2000, 4000, 8000, 16000];
        for (attempt, base) in expect.iter().enumerate() {
            let d = reference_delay(attempt as u32).as_secs_f64() * 1000.0;
            assert!(
                d >= *base as f64 && d <= *base as f64 * 1.2 + 0.001,
                "attempt {attempt}: {d}"
            );
        }
    }
}
