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

/// How a figure varied over the reps of a cell: its median and extremes, and whether
/// the reps look like two populations rather than noise around one value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median over the reps.
    pub median: f64,
    /// The smallest rep.
    pub min: f64,
    /// The largest rep.
    pub max: f64,
    /// The range over the median exceeds [`WIDE_SPREAD`].
    pub wide: bool,
    /// The reps split in two groups of at least two each, separated by a gap wider
    /// than [`BIMODAL_GAP`] of the median and than half of the range (see
    /// [`Spread::of`]).
    pub bimodal: bool,
}

/// A spread counts as wide when `(max - min) / median` exceeds this.
pub const WIDE_SPREAD: f64 = 0.25;
/// The smallest gap between two groups of reps, relative to the median, for
/// [`Spread::bimodal`].
pub const BIMODAL_GAP: f64 = 0.15;

impl Spread {
    /// The spread of `values` (one per rep), or `None` when there are none. Bimodality
    /// is judged on the widest gap between consecutive sorted values: with at least two
    /// values on each side, a gap above both [`BIMODAL_GAP`] × median and half of the
    /// whole range means the reps cluster at two levels (noise spreads them evenly).
    pub fn of(values: &[f64]) -> Option<Spread> {
        let median = median(values)?;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        let range = max - min;
        let bimodal = sorted.len() >= 4
            && (2..=sorted.len() - 2).any(|split| {
                let gap = sorted[split] - sorted[split - 1];
                gap > BIMODAL_GAP * median.abs() && gap > range / 2.0
            });
        Some(Spread {
            median,
            min,
            max,
            wide: median != 0.0 && range / median.abs() > WIDE_SPREAD,
            bimodal,
        })
    }
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

    /// Noise is neither wide nor bimodal; two clusters are both.
    #[test]
    fn spreads() {
        let noise = Spread::of(&[100.0, 98.0, 103.0, 101.0, 99.0, 102.0]).unwrap();
        assert_eq!((noise.median, noise.min, noise.max), (100.5, 98.0, 103.0));
        assert!(!noise.wide && !noise.bimodal);
        let two = Spread::of(&[450.0, 780.0, 420.0, 800.0, 760.0, 480.0, 790.0]).unwrap();
        assert!(two.wide && two.bimodal);
        // One outlier is a wide spread, not two populations.
        let outlier = Spread::of(&[100.0, 101.0, 99.0, 100.0, 60.0]).unwrap();
        assert!(outlier.wide && !outlier.bimodal);
        assert_eq!(Spread::of(&[]), None);
    }
}
