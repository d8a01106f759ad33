//! Exponential backoff with jitter, capped.

use std::time::Duration;

/// The wait after the `attempt`-th failed try (1 for the first): `first`
/// doubled for every earlier try, at most `max`, then jittered into its
/// upper half by `jitter` (0.0–1.0) so that many rows that failed together
/// (the library system was down) do not all come back at once.
pub fn delay(attempt: u32, first: Duration, max: Duration, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    let full = first
        .checked_mul(1u32 << doublings.min(31))
        .unwrap_or(max)
        .min(max);
    let jitter = jitter.clamp(0.0, 1.0);
    full.mul_f64(0.5 + 0.5 * jitter)
}

/// A random number in 0.0..1.0.
pub fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_from_the_first_wait_up_to_the_cap() {
        let max = Duration::from_secs(60);
        let waits: Vec<_> = (1..=9).map(|a| delay(a, S, max, 1.0).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay(10_000, S, max, 1.0), max, "no overflow");
    }

    #[test]
    fn jitter_keeps_the_wait_in_its_upper_half() {
        let max = Duration::from_secs(600);
        assert_eq!(delay(3, S, max, 0.0), Duration::from_secs(2));
        assert_eq!(delay(3, S, max, 0.5), Duration::from_secs(3));
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
            let d = delay(4, S, max, j);
            assert!(d >= Duration::from_secs(4) && d <= Duration::from_secs(8));
        }
    }
}
