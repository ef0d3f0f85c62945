//! The markdown tables, and the report file `target/bench/report.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::peers::PeerId;
use crate::stats::{median, median_duration, Spread};
use crate::workload::Cell;

/// One peer on one workload: one cell's figures, or the medians of the rounds' figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Commands per second.
    pub ops_per_sec: f64,
    /// Median operation latency.
    pub p50: Duration,
    /// 99th percentile operation latency.
    pub p99: Duration,
}

impl Summary {
    /// One cell's figures.
    pub fn of(cell: &Cell) -> Summary {
        Summary {
            ops_per_sec: cell.ops_per_sec(),
            p50: cell.latencies.percentile(50.0),
            p99: cell.latencies.percentile(99.0),
        }
    }

    /// The medians over `rounds` (one summary per round), or `None` when there are none.
    pub fn median(rounds: &[Summary]) -> Option<Summary> {
        let ops: Vec<f64> = rounds.iter().map(|s| s.ops_per_sec).collect();
        let p50: Vec<Duration> = rounds.iter().map(|s| s.p50).collect();
        let p99: Vec<Duration> = rounds.iter().map(|s| s.p99).collect();
        Some(Summary {
            ops_per_sec: median(&ops)?,
            p50: median_duration(&p50),
            p99: median_duration(&p99),
        })
    }
}

/// One row of the comparison tables: every rep of every client on one workload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The workload's label.
    pub workload: String,
    /// Each peer's reps, in round order: rep `i` of every peer comes from the same
    /// round, so they pair.
    pub reps: BTreeMap<PeerId, Vec<Summary>>,
    /// `redis-benchmark`'s reps of the comparable workload, run in the same rounds
    /// (empty when it has none or was not run).
    pub baseline: Vec<Summary>,
}

impl Row {
    /// The spread of `id`'s ops/s over its reps.
    pub fn ops(&self, id: PeerId) -> Option<Spread> {
        Spread::of(&ops_of(self.reps.get(&id)?))
    }

    /// The spread of `redis-benchmark`'s ops/s over its reps.
    pub fn baseline_ops(&self) -> Option<Spread> {
        Spread::of(&ops_of(&self.baseline))
    }

    /// The median over reps of `id`'s (p50, p99) latencies.
    pub fn latency(&self, id: PeerId) -> Option<(Duration, Duration)> {
        latency_of(self.reps.get(&id)?)
    }

    /// respec's ops/s over `id`'s, rep by rep (paired: both from the same round).
    pub fn paired(&self, id: PeerId) -> Option<Spread> {
        let ours = self.reps.get(&PeerId::Respec)?;
        let theirs = self.reps.get(&id)?;
        paired_ratios(ours, theirs.iter().map(|s| s.ops_per_sec))
    }

    /// respec's ops/s over the best other peer's in the same rep.
    pub fn paired_best(&self) -> Option<Spread> {
        let ours = self.reps.get(&PeerId::Respec)?;
        let others: Vec<&Vec<Summary>> = self
            .reps
            .iter()
            .filter(|(id, reps)| **id != PeerId::Respec && reps.len() == ours.len())
            .map(|(_, reps)| reps)
            .collect();
        if others.is_empty() {
            return None;
        }
        let best = (0..ours.len()).map(|i| {
            others
                .iter()
                .map(|reps| reps[i].ops_per_sec)
                .fold(f64::MIN, f64::max)
        });
        paired_ratios(ours, best)
    }

    /// respec's ops/s over `redis-benchmark`'s, rep by rep.
    pub fn vs_baseline(&self) -> Option<Spread> {
        let ours = self.reps.get(&PeerId::Respec)?;
        paired_ratios(ours, self.baseline.iter().map(|s| s.ops_per_sec))
    }

    /// The clients whose reps spread widely or look bimodal, as `name: kind` phrases.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        let named = self
            .reps
            .iter()
            .map(|(id, reps)| (id.name(), reps))
            .chain(std::iter::once((BASELINE, &self.baseline)));
        for (name, reps) in named {
            match Spread::of(&ops_of(reps)) {
                Some(s) if s.bimodal => flags.push(format!("{name} bimodal")),
                Some(s) if s.wide => flags.push(format!("{name} wide")),
                _ => {}
            }
        }
        flags
    }
}

/// The label of `redis-benchmark`'s columns.
pub const BASELINE: &str = "redis-benchmark";

/// The ops/s of each rep.
fn ops_of(reps: &[Summary]) -> Vec<f64> {
    reps.iter().map(|s| s.ops_per_sec).collect()
}

/// The medians of the reps' p50 and p99.
fn latency_of(reps: &[Summary]) -> Option<(Duration, Duration)> {
    let s = Summary::median(reps)?;
    Some((s.p50, s.p99))
}

/// `ours[i] / theirs[i]` for every rep, when both have the same number of reps.
fn paired_ratios(ours: &[Summary], theirs: impl ExactSizeIterator<Item = f64>) -> Option<Spread> {
    if theirs.len() != ours.len() {
        return None;
    }
    let ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(o, t)| o.ops_per_sec / t)
        .collect();
    Spread::of(&ratios)
}

/// `1.23 (0.98–1.40)`: a median and its range, with `decimals` digits, or `-`.
fn format_spread(spread: Option<Spread>, format: impl Fn(f64) -> String) -> String {
    match spread {
        Some(s) => format!("{} ({}–{})", format(s.median), format(s.min), format(s.max)),
        None => "-".to_owned(),
    }
}

/// A ratio with two decimals.
fn format_ratio(r: f64) -> String {
    format!("{r:.2}")
}

/// Whether any row has `redis-benchmark` reps: its columns are left out otherwise (the
/// cluster rows have none).
fn has_baseline(rows: &[Row]) -> bool {
    rows.iter().any(|row| !row.baseline.is_empty())
}

/// The throughput table: per client the median ops/s over reps and its range, respec's
/// paired ratios to each peer, to the best peer of each rep and to `redis-benchmark`
/// (medians and ranges over reps; its columns only when a row has its reps), and the
/// flags of wide or bimodal reps.
pub fn comparison_table(rows: &[Row]) -> String {
    let baseline = has_baseline(rows);
    let mut out = String::from("| workload | reps |");
    for id in PeerId::ALL {
        let _ = write!(out, " {} ops/s |", id.name());
    }
    if baseline {
        let _ = write!(out, " {BASELINE} ops/s |");
    }
    for id in PeerId::ALL.into_iter().filter(|&id| id != PeerId::Respec) {
        let _ = write!(out, " respec / {} |", id.name());
    }
    out.push_str(" respec / best peer |");
    if baseline {
        let _ = write!(out, " respec / {BASELINE} |");
    }
    out.push_str(" flags |\n|---|---:|");
    out.push_str(&"---:|".repeat(PeerId::ALL.len() * 2 + if baseline { 2 } else { 0 }));
    out.push_str("---|\n");
    for row in rows {
        let reps = row.reps.values().map(Vec::len).max().unwrap_or(0);
        let _ = write!(out, "| {} | {reps} |", row.workload);
        for id in PeerId::ALL {
            let _ = write!(out, " {} |", format_spread(row.ops(id), format_ops));
        }
        if baseline {
            let _ = write!(out, " {} |", format_spread(row.baseline_ops(), format_ops));
        }
        for id in PeerId::ALL.into_iter().filter(|&id| id != PeerId::Respec) {
            let _ = write!(out, " {} |", format_spread(row.paired(id), format_ratio));
        }
        let _ = write!(out, " {} |", format_spread(row.paired_best(), format_ratio));
        if baseline {
            let _ = write!(out, " {} |", format_spread(row.vs_baseline(), format_ratio));
        }
        let _ = writeln!(out, " {} |", row.flags().join(", "));
    }
    out
}

/// The latency table: per client the medians over reps of p50 and p99 (and
/// `redis-benchmark`'s, when a row has its reps).
pub fn latency_table(rows: &[Row]) -> String {
    let baseline = has_baseline(rows);
    let mut out = String::from("| workload |");
    for id in PeerId::ALL {
        let _ = write!(out, " {} p50 / p99 |", id.name());
    }
    if baseline {
        let _ = write!(out, " {BASELINE} p50 / p99 |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(PeerId::ALL.len() + usize::from(baseline)));
    out.push('\n');
    let cell = |latency: Option<(Duration, Duration)>| match latency {
        Some((p50, p99)) => format!(" {} / {} |", format_latency(p50), format_latency(p99)),
        None => " - |".to_owned(),
    };
    for row in rows {
        let _ = write!(out, "| {} |", row.workload);
        for id in PeerId::ALL {
            out.push_str(&cell(row.latency(id)));
        }
        if baseline {
            out.push_str(&cell(latency_of(&row.baseline)));
        }
        out.push('\n');
    }
    out
}

/// Every rep's ops/s, in round order, for the rows where `include` holds (the
/// concurrent rows, and any row with a flag): the raw figures behind a median.
pub fn reps_table(rows: &[Row], include: impl Fn(&Row) -> bool) -> String {
    let mut out =
        String::from("| workload | client | ops/s of each rep, in round order |\n|---|---|---|\n");
    for row in rows.iter().filter(|row| include(row)) {
        let named = row
            .reps
            .iter()
            .map(|(id, reps)| (id.name(), reps))
            .chain(std::iter::once((BASELINE, &row.baseline)));
        for (name, reps) in named.filter(|(_, reps)| !reps.is_empty()) {
            let figures: Vec<String> = reps.iter().map(|s| format_ops(s.ops_per_sec)).collect();
            let _ = writeln!(out, "| {} | {name} | {} |", row.workload, figures.join(" "));
        }
    }
    out
}

/// An operation rate with thousands separators: `1,234,567`, or `12.5` below 100.
pub fn format_ops(ops: f64) -> String {
    if ops < 100.0 {
        return format!("{ops:.1}");
    }
    let digits = format!("{:.0}", ops);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A latency with three significant digits at most: `850 ns`, `42.1 µs`, `3.25 ms`.
pub fn format_latency(d: Duration) -> String {
    let nanos = d.as_nanos() as f64;
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    let decimals = match value {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    format!("{value:.decimals$} {unit}")
}

/// Writes `text` to `path`, replacing it, creating its directory.
pub fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Appends `text` to `path` (creating both it and its directory if needed).
pub fn append(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .with_context(|| format!("appending to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(format_ops(1_234_567.4), "1,234,567");
        assert_eq!(format_ops(123.0), "123");
        assert_eq!(format_ops(1000.0), "1,000");
        assert_eq!(format_ops(12.34), "12.3");
        assert_eq!(format_latency(Duration::from_nanos(850)), "850 ns");
        assert_eq!(format_latency(Duration::from_nanos(42_123)), "42.1 µs");
        assert_eq!(format_latency(Duration::from_micros(3_250)), "3.25 ms");
        assert_eq!(format_latency(Duration::from_millis(1_500)), "1.50 s");
    }

    /// Ratios are paired rep by rep; the table has one line per row.
    #[test]
    fn table_and_ratios() {
        let s = |ops| Summary {
            ops_per_sec: ops,
            p50: Duration::from_micros(20),
            p99: Duration::from_micros(90),
        };
        let row = Row {
            workload: "sequential GET".into(),
            reps: [
                (PeerId::Respec, vec![s(30_000.0), s(15_000.0), s(33_000.0)]),
                (PeerId::RedisRs, vec![s(20_000.0), s(10_000.0), s(30_000.0)]),
                (PeerId::Fred, vec![s(25_000.0), s(15_000.0), s(22_000.0)]),
            ]
            .into(),
            baseline: vec![s(60_000.0), s(30_000.0), s(66_000.0)],
        };
        let vs_redis = row.paired(PeerId::RedisRs).unwrap();
        assert_eq!(
            (vs_redis.median, vs_redis.min, vs_redis.max),
            (1.5, 1.1, 1.5)
        );
        // The best peer is fred, fred, then redis-rs.
        let best = row.paired_best().unwrap();
        assert_eq!((best.min, best.max), (1.0, 1.2));
        assert!((best.median - 1.1).abs() < 1e-9);
        assert_eq!(row.vs_baseline().unwrap().median, 0.5);
        assert_eq!(row.ops(PeerId::Respec).unwrap().median, 30_000.0);
        let table = comparison_table(std::slice::from_ref(&row));
        assert_eq!(table.lines().count(), 3);
        assert!(
            table.contains("| sequential GET | 3 | 30,000 (15,000–33,000) |"),
            "{table}"
        );
        assert!(
            table.contains("| 1.10 (1.00–1.20) | 0.50 (0.50–0.50) |"),
            "{table}"
        );
        // Each client's reps halve once: a wide spread, not two groups of two.
        assert!(
            table
                .trim_end()
                .ends_with("respec wide, redis-rs wide, fred wide, redis-benchmark wide |"),
            "{table}"
        );
        let latency = latency_table(std::slice::from_ref(&row));
        assert!(
            latency.contains("| sequential GET | 20.0 µs / 90.0 µs |"),
            "{latency}"
        );
        let reps = reps_table(std::slice::from_ref(&row), |_| true);
        assert!(
            reps.contains("| sequential GET | redis-benchmark | 60,000 30,000 66,000 |"),
            "{reps}"
        );
    }
}
