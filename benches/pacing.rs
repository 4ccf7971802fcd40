//! Rate-limit pacing against the Freshservice sandbox's budget, counted from the very first
//! window: the share of the allowed rate the client reaches and the share of its requests
//! answered `429`, at 1, 4 and 16 requests in flight (issue 15's goal: ≥ 95 % and ≤ 1 %).
//!
//! The limits are 100 per 60 s and 120 per 10 s. To run in seconds, each window is
//! shortened by `PACING_BENCH_SCALE` (10 by default: 100 per 6 s and 120 per 1 s), keeping the
//! budget, so the budget-to-in-flight ratio, which decides how pacing behaves, is the issue's.
//! `PACING_BENCH_SCALE=1` runs the real windows (about 10 minutes). Each run lasts
//! `PACING_BENCH_WINDOWS` windows (6 by default) from the sandbox's start, which is where its
//! windows are aligned, so the allowed number of requests is exactly windows × budget.
//!
//! Run with `cargo bench --bench pacing` (release).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use identity_connectors::sandbox::FreshserviceSandbox;
use identity_connectors::{Client, UserId};
use serde_json::json;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(budget: u32, window: Duration, in_flight: usize, windows: u32) -> (f64, f64, u64) {
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
    let ok = stats.status(200);
    let throttled = stats.status(429);
    let allowed = u64::from(budget) * u64::from(windows);
    let rate = ok as f64 / allowed as f64 * 100.0;
    let share_429 = if ok + throttled == 0 { 0.0 } else { throttled as f64 / (ok + throttled) as f64 * 100.0 };
    (rate, share_429, throttled)
}

fn main() {
    let scale = env("PACING_BENCH_SCALE", 10).max(1) as u32;
    let windows = env("PACING_BENCH_WINDOWS", 6).max(1) as u32;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    println!("pacing against the Freshservice sandbox; windows shortened {scale}×, {windows} windows per run");
    for (budget, real_window) in [(100u32, Duration::from_secs(60)), (120, Duration::from_secs(10))] {
        let window = real_window / scale;
        for in_flight in [1usize, 4, 16] {
            let (rate, share_429, throttled) = runtime.block_on(run(budget, window, in_flight, windows));
            let met = rate >= 95.0 && share_429 <= 1.0;
            println!(
                "{budget} per {real_window:?} (run as per {window:?}), {in_flight:>2} in flight: {rate:5.1} % of the allowed rate, {share_429:4.2} % 429s ({throttled})  [goal ≥ 95 %, ≤ 1 %: {}]",
                if met { "MET" } else { "MISSED" }
            );
        }
    }
}
