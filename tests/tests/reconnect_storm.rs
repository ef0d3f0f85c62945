//! Issue 13.4: a server that closes every connection right after the handshake got
//! 5,900–8,100 reconnects a second from one client (0.55 cores): the retry count
//! was reset as soon as a handshake succeeded, and the first retry had no delay.
//! Alone in its test binary, so the process's CPU time is the client's.

use respec::connection::Backoff;
use respec::Client;
use respec_tests::fake::{ends_handshake, handshake_answer, read_command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// CPU time (user + system) this process has used.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // Linux reports clock ticks of 1/100 s (USER_HZ).
    Duration::from_millis(ticks * 10)
}

/// A fake server that completes the handshake and then hangs up, every time.
async fn hangs_up_after_the_handshake() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(words) = read_command(&mut s, &mut buf).await {
                    let answer = handshake_answer(&words).unwrap_or(b"+OK\r\n");
                    if s.write_all(answer).await.is_err() || ends_handshake(&words) {
                        return;
                    }
                }
            });
        }
    });
    (format!("redis://{addr}"), connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_up_after_every_handshake_gets_backoff_not_a_storm() {
    let (url, connections) = hangs_up_after_the_handshake().await;
    let backoff = Backoff::default();
    let client = Client::connect(&url).await.unwrap();
    let start = Instant::now();
    // Warm-up: the delays double from 10 ms to the 2 s cap in about 2.5 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (warm, cpu_before) = (connections.load(Ordering::SeqCst), cpu_time());
    let window = Duration::from_secs(4);
    tokio::time::sleep(window).await;
    let (total, cpu) = (connections.load(Ordering::SeqCst), cpu_time() - cpu_before);
    let steady = total - warm;
    println!(
        "{warm} connections in the first {:?}, then {steady} in {window:?} ({:.2}/s), CPU {cpu:?} ({:.1} % of a core)",
        Duration::from_secs(3),
        steady as f64 / window.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / window.as_secs_f64(),
    );
    // Documented worst case (`Backoff`): attempts k = 0, 1, ... wait at least half
    // of min(max, initial * 2^k), so at the cap at most one per max / 2.
    let most = (window.as_secs_f64() / (backoff.max.as_secs_f64() / 2.0)).ceil() as usize + 1;
    assert!(
        steady <= most,
        "{steady} reconnects in {window:?} (at most {most})"
    );
    assert!(
        warm <= 12,
        "{warm} connections in the first 3 s: the backoff did not grow"
    );
    assert!(steady >= 1, "the client stopped trying");
    assert!(
        cpu < window / 20,
        "the client used {cpu:?} of CPU in {window:?}"
    );
    assert!(start.elapsed() >= window);
    drop(client);
}
