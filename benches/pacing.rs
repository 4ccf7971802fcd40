//! Rate-limit pacing against the Freshservice sandbox's budget, counted from the very first
//! window: the share of the allowed rate the client reaches and the share of its requests
//! answered `429`, at 1, 4 and 16 requests in flight (issue 15's goal: ≥ 95 % and ≤ 1 % in
//! every cell).
//!
//! The limits are 100 per 60 s and 120 per 10 s. Each window is shortened by
//! `PACING_BENCH_SCALE` (10 by default: 100 per 6 s and 120 per 1 s, about 2 minutes in all),
//! keeping the budget, so the budget-to-in-flight ratio, which decides how pacing behaves, is the
//! issue's; `PACING_BENCH_SCALE=1` runs the real windows (about 21 minutes). Each run lasts
//! `PACING_BENCH_WINDOWS` windows (6 by default) from the sandbox's start, which is where its
//! windows are aligned, so the allowed number of requests is exactly windows × budget, and the
//! client starts with the sandbox: its first window counts.
//!
//! - Full: `cargo bench --bench pacing` (release), or with the real windows
//!   `PACING_BENCH_SCALE=1 cargo bench --bench pacing`.
//! - Smoke (what `cargo test --benches` runs, without `--bench`): windows shortened 100×, two
//!   windows per run, a few seconds in all; it checks the `429` goal only, as a debug build on a
//!   busy machine may not fill a 100 ms window.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use identity_connectors::sandbox::FreshserviceSandbox;
use identity_connectors::{Client, UserId};
use serde_json::json;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One cell: what the sandbox answered while `in_flight` workers sent look-ups for `windows`
/// windows.
struct Cell {
    ok: u64,
    throttled: u64,
    allowed: u64,
}

impl Cell {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.allowed as f64 * 100.0
    }

    fn share_429(&self) -> f64 {
        let answered = self.ok + self.throttled;
        if answered == 0 { 0.0 } else { self.throttled as f64 / answered as f64 * 100.0 }
    }
}

async fn run(budget: u32, window: Duration, in_flight: usize, windows: u32) -> Cell {
    let sandbox = FreshserviceSandbox::builder().rate_limit(budget, window).start().await.expect("the sandbox starts");
    let started = Instant::now();
    let id = sandbox
        .insert_requester(json!({"first_name": "Pace", "primary_email": "pace@example.com"}))
        .expect("a requester");
    let client = Client::builder(sandbox.connector().expect("a connector"))
        .max_in_flight(in_flight)
        .rate_limit_window(window)
        .build()
        .expect("a client");
    let end = started + window * windows;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let (client, stop) = (client.clone(), Arc::clone(&stop));
        let id = UserId::new(id.to_string());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                // Errors (a 429 past the retry policy) are counted by the sandbox.
                let _ = client.get(&id).await;
            }
        }));
    }
    tokio::time::sleep_until(end.into()).await;
    stop.store(true, Ordering::Relaxed);
    // Requests still waiting (for pacing or a retry) at the end are not counted.
    let stats = sandbox.stats();
    for worker in workers {
        worker.abort();
    }
    Cell { ok: stats.status(200), throttled: stats.status(429), allowed: u64::from(budget) * u64::from(windows) }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|arg| arg == "--bench");
    let (scale, windows) = if full {
        (env("PACING_BENCH_SCALE", 10).max(1) as u32, env("PACING_BENCH_WINDOWS", 6).max(1) as u32)
    } else {
        (100, 2)
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    println!(
        "pacing against the Freshservice sandbox{}: windows shortened {scale}×, {windows} windows per run, counted from the first",
        if full { "" } else { " (smoke run; `cargo bench --bench pacing` for the figures)" }
    );
    println!("| budget | in flight | allowed rate reached | 429s | goal (≥ 95 %, ≤ 1 %) |");
    println!("|---|---|---|---|---|");
    let mut missed_429 = Vec::new();
    for (budget, real_window) in [(100u32, Duration::from_secs(60)), (120, Duration::from_secs(10))] {
        let window = real_window / scale;
        for in_flight in [1usize, 4, 16] {
            let cell = runtime.block_on(run(budget, window, in_flight, windows));
            let met = cell.rate() >= 95.0 && cell.share_429() <= 1.0;
            println!(
                "| {budget} per {}s (run as per {window:?}) | {in_flight} | {:.1} % ({} of {}) | {:.2} % ({}) | {} |",
                real_window.as_secs(),
                cell.rate(),
                cell.ok,
                cell.allowed,
                cell.share_429(),
                cell.throttled,
                if met { "met" } else { "MISSED" }
            );
            if cell.share_429() > 1.0 {
                missed_429.push(format!("{budget} per {window:?}, {in_flight} in flight"));
            }
        }
    }
    // The 429 share does not depend on the machine's speed; the rate does (a window may pass
    // before a slow build has sent its budget), so only the former fails the smoke run.
    assert!(missed_429.is_empty(), "more than 1 % of requests were answered 429: {missed_429:?}");
}
