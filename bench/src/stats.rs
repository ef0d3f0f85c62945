//! Latency samples, their percentiles, and medians over rounds.

use std::time::Duration;

/// The latencies of every operation of a cell, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latencies {
    nanos: Vec<u64>,
    sorted: bool,
}

impl Latencies {
    /// No samples.
    pub fn new() -> Self {
        Latencies::default()
    }

    /// Adds one operation's latency.
    pub fn record(&mut self, latency: Duration) {
        self.nanos
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: Latencies) {
        self.nanos.extend(other.nanos);
        self.sorted = false;
    }

    /// How many operations were recorded.
    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.nanos.is_empty()
    }

    /// Sorts the samples; [`Latencies::percentile`] needs it.
    pub fn sort(&mut self) {
        self.nanos.sort_unstable();
        self.sorted = true;
    }

    /// The nearest-rank percentile `p` (0 to 100), or zero without samples. Panics
    /// unless sorted.
    pub fn percentile(&self, p: f64) -> Duration {
        assert!(self.sorted || self.nanos.len() <= 1, "sort() first");
        if self.nanos.is_empty() {
            return Duration::ZERO;
        }
        let rank = (p / 100.0 * self.nanos.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.nanos.len()) - 1;
        Duration::from_nanos(self.nanos[index])
    }
}

/// The median of `values` (the mean of the middle two for an even count), or `None`
/// when empty.
pub fn median<T: Into<f64> + Copy>(values: &[T]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().map(|&v| v.into()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The median of durations (see [`median`]), or zero when empty.
pub fn median_duration(values: &[Duration]) -> Duration {
    let secs: Vec<f64> = values.iter().map(Duration::as_secs_f64).collect();
    median(&secs).map_or(Duration::ZERO, Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank percentiles of 1..=100 ns are the rank itself.
    #[test]
    fn percentiles() {
        let mut l = Latencies::new();
        for n in (1..=100).rev() {
            l.record(Duration::from_nanos(n));
        }
        l.sort();
        assert_eq!(l.percentile(50.0), Duration::from_nanos(50));
        assert_eq!(l.percentile(99.0), Duration::from_nanos(99));
        assert_eq!(l.percentile(100.0), Duration::from_nanos(100));
        assert_eq!(l.percentile(0.0), Duration::from_nanos(1));
        assert_eq!(Latencies::new().percentile(50.0), Duration::ZERO);
    }

    /// Odd and even counts, and no values.
    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median::<f64>(&[]), None);
        assert_eq!(
            median_duration(&[Duration::from_micros(30), Duration::from_micros(10)]),
            Duration::from_micros(20)
        );
    }
}
