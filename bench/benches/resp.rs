//! Criterion micro-benchmarks of respec's sans-IO protocol code: framing with the
//! [`Scanner`], decoding frames into typed replies, and encoding commands.
//!
//! Run with `cargo bench -p respec-bench` (or `cargo xtask bench --criterion`).

use std::collections::HashMap;
use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use respec::resp::{write_array_header, write_bulk, Scanner};
use respec::{cmd, Command as _, FromReply};

/// Elements of the array and pairs of the map benchmarks.
const ITEMS: usize = 100;
/// The big bulk string: 1 MiB.
const BIG: usize = 1 << 20;
/// A socket read in the incremental framing benchmark.
const READ: usize = 64 * 1024;

/// `*100` of bulk strings `item:NNNNN`.
fn array_frame() -> Bytes {
    let mut out = BytesMut::new();
    write_array_header(&mut out, ITEMS);
    for i in 0..ITEMS {
        write_bulk(&mut out, format!("item:{i:05}").as_bytes());
    }
    out.freeze()
}

/// A map of 100 `field:NNNNN` => `value:NNNNN` pairs: RESP3 `%100`, or RESP2's flat
/// `*200`.
fn map_frame(resp3: bool) -> Bytes {
    let mut out = BytesMut::new();
    if resp3 {
        out.extend_from_slice(format!("%{ITEMS}\r\n").as_bytes());
    } else {
        write_array_header(&mut out, 2 * ITEMS);
    }
    for i in 0..ITEMS {
        write_bulk(&mut out, format!("field:{i:05}").as_bytes());
        write_bulk(&mut out, format!("value:{i:05}").as_bytes());
    }
    out.freeze()
}

/// One bulk string of [`BIG`] bytes.
fn big_frame() -> Bytes {
    let mut out = BytesMut::new();
    write_bulk(&mut out, &vec![b'x'; BIG]);
    out.freeze()
}

/// Framing: how long the scanner takes to find where a frame ends.
fn scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan");
    for (name, frame) in [("array100", array_frame()), ("bulk1MiB", big_frame())] {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function(name, |b| {
            let mut scanner = Scanner::default();
            b.iter(|| scanner.scan(black_box(&frame)).unwrap().unwrap());
        });
    }
    // The big bulk string arriving in 64 KiB reads: one scan per read, as the
    // connection driver does. An incremental scanner costs about what one scan does.
    let frame = big_frame();
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("bulk1MiB_in_64KiB_reads", |b| {
        let mut scanner = Scanner::default();
        b.iter(|| {
            let mut end = 0;
            loop {
                end = (end + READ).min(frame.len());
                if let Some(len) = scanner.scan(black_box(&frame[..end])).unwrap() {
                    break len;
                }
            }
        });
    });
    group.finish();
}

/// Decoding complete frames into typed replies.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    let array = array_frame();
    group.bench_function("vec_bytes_100", |b| {
        b.iter(|| Vec::<Bytes>::from_frame(black_box(array.clone())).unwrap());
    });
    for (name, frame) in [
        ("hashmap_100_resp3", map_frame(true)),
        ("hashmap_100_resp2", map_frame(false)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| HashMap::<Bytes, Bytes>::from_frame(black_box(frame.clone())).unwrap());
        });
    }
    let big = big_frame();
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.bench_function("bulk1MiB", |b| {
        b.iter(|| Option::<Bytes>::from_frame(black_box(big.clone())).unwrap());
    });
    group.finish();
}

/// Building commands and encoding them as RESP.
fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let mut out = BytesMut::with_capacity(64 * 1024);
    group.bench_function("set_build_encode", |b| {
        b.iter(|| {
            out.clear();
            cmd::set(black_box("key"), black_box("value"))
                .buf()
                .encode(&mut out);
        });
    });
    let set = cmd::set("key", "value");
    group.bench_function("set_encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&set).buf().encode(&mut out);
        });
    });
    group.bench_function("set_to_bytes", |b| {
        b.iter(|| black_box(&set).buf().to_bytes());
    });
    let pairs: Vec<(f64, String)> = (0..ITEMS)
        .map(|i| (i as f64 * 1.5, format!("member:{i:05}")))
        .collect();
    group.bench_function("zadd_100_build_encode", |b| {
        b.iter(|| {
            out.clear();
            cmd::zadd("board", black_box(&pairs).iter().map(|(s, m)| (*s, m)))
                .buf()
                .encode(&mut out);
        });
    });
    let zadd = cmd::zadd("board", pairs.iter().map(|(s, m)| (*s, m)));
    group.bench_function("zadd_100_encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&zadd).buf().encode(&mut out);
        });
    });
    group.finish();
}

criterion_group!(benches, scan, decode, encode);
criterion_main!(benches);
