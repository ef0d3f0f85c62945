//! The markdown tables, and the report file `target/bench/report.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::peers::PeerId;
use crate::stats::{median, median_duration};
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

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The workload's label.
    pub workload: String,
    /// Each peer's summary.
    pub peers: BTreeMap<PeerId, Summary>,
}

impl Row {
    /// respec's ops/s over the best other peer's, if both were measured.
    pub fn ratio(&self) -> Option<f64> {
        let ours = self.peers.get(&PeerId::Respec)?.ops_per_sec;
        let best = self
            .peers
            .iter()
            .filter(|(id, _)| **id != PeerId::Respec)
            .map(|(_, s)| s.ops_per_sec)
            .max_by(f64::total_cmp)?;
        Some(ours / best)
    }
}

/// The comparison table: ops/s per peer, p50/p99 per peer, and respec's ratio to the
/// best peer.
pub fn comparison_table(rows: &[Row]) -> String {
    let mut out = String::from("| workload |");
    for id in PeerId::ALL {
        let _ = write!(out, " {} ops/s |", id.name());
    }
    for id in PeerId::ALL {
        let _ = write!(out, " {} p50/p99 |", id.name());
    }
    out.push_str(" ratio |\n|---|");
    out.push_str(&"---:|".repeat(2 * PeerId::ALL.len() + 1));
    out.push('\n');
    for row in rows {
        let _ = write!(out, "| {} |", row.workload);
        for id in PeerId::ALL {
            match row.peers.get(&id) {
                Some(s) => {
                    let _ = write!(out, " {} |", format_ops(s.ops_per_sec));
                }
                None => out.push_str(" - |"),
            }
        }
        for id in PeerId::ALL {
            match row.peers.get(&id) {
                Some(s) => {
                    let _ = write!(
                        out,
                        " {} / {} |",
                        format_latency(s.p50),
                        format_latency(s.p99)
                    );
                }
                None => out.push_str(" - |"),
            }
        }
        match row.ratio() {
            Some(r) => {
                let _ = writeln!(out, " {r:.2} |");
            }
            None => out.push_str(" - |\n"),
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

    /// The ratio is respec over the faster peer; the table has one line per row.
    #[test]
    fn table_and_ratio() {
        let s = |ops| Summary {
            ops_per_sec: ops,
            p50: Duration::from_micros(20),
            p99: Duration::from_micros(90),
        };
        let row = Row {
            workload: "sequential GET".into(),
            peers: [
                (PeerId::Respec, s(30_000.0)),
                (PeerId::RedisRs, s(20_000.0)),
                (PeerId::Fred, s(25_000.0)),
            ]
            .into(),
        };
        assert_eq!(row.ratio(), Some(1.2));
        let table = comparison_table(&[row]);
        assert_eq!(table.lines().count(), 3);
        assert!(table.contains("| sequential GET | 30,000 | 20,000 | 25,000 | 20.0 µs / 90.0 µs |"));
        assert!(table.trim_end().ends_with("| 1.20 |"));
    }
}
