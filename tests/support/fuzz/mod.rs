//! What the property tests in `tests/fuzz_*.rs` share: how many cases to run, a seeded runner that
//! reports a summary line, and the input strategies (`inputs`) and canned hostile server
//! (`hostile`). Each test binary compiles this module and uses only part of it.
//!
//! Case counts: every binary runs a default total that keeps CI within about a minute on two
//! cores; `FUZZ_CASES=N` makes a binary run `N` cases in all, split over its properties by weight.
//! `FUZZ_SEED=N` picks another (still reproducible) sequence of inputs; without it every run
//! tests the same inputs, so a CI failure reproduces locally.
//!
//! The long run (≥ 1,000,000 cases per binary, each prints `fuzz_…: N cases, 0 panics`):
//!
//! ```text
//! FUZZ_CASES=1000000 cargo test --release --test fuzz_parsers --test fuzz_base_url -- --nocapture
//! FUZZ_CASES=100000 cargo test --release --test fuzz_http -- --nocapture
//! ```
#![allow(dead_code)]

pub mod hostile;
pub mod inputs;
// Its request reader serves the hostile server too; the recorder itself is unused here.
#[allow(dead_code)]
#[path = "../raw_recorder.rs"]
pub mod raw_recorder;

use std::fmt::Debug;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseResult, TestError, TestRng, TestRunner};

/// Cases run so far by the properties of this binary, and how many properties have finished.
static CASES_RUN: AtomicU64 = AtomicU64::new(0);
static PROPERTIES_DONE: AtomicUsize = AtomicUsize::new(0);

/// One test binary: its name (for the summary line), the total number of cases it runs by
/// default, and the sum of its properties' weights.
#[derive(Debug, Clone, Copy)]
pub struct Binary {
    pub name: &'static str,
    pub default_cases: u64,
    pub properties: usize,
    pub total_weight: u64,
}

impl Binary {
    /// This binary's total: `FUZZ_CASES` if set, else the default.
    pub fn total_cases(&self) -> u64 {
        match std::env::var("FUZZ_CASES") {
            Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("FUZZ_CASES must be a number, got {v:?}")),
            Err(_) => self.default_cases,
        }
    }

    /// The share of the total a property of `weight` runs (at least one case; rounded up, so
    /// the shares add up to at least the total).
    pub fn cases(&self, weight: u64) -> u32 {
        let share = self.total_cases().saturating_mul(weight).div_ceil(self.total_weight.max(1));
        u32::try_from(share.max(1)).unwrap_or(u32::MAX)
    }

    /// Runs `test` on `cases(weight)` inputs drawn from `strategy`. A panic or a failed
    /// `prop_assert!` is shrunk to a minimal input and fails the test with it; otherwise a summary
    /// line goes to stderr (not captured by the test harness), and the last property of the
    /// binary to finish prints the binary's total.
    pub fn check<S>(&self, property: &str, weight: u64, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
    where
        S: Strategy,
        S::Value: Debug,
    {
        let cases = self.cases(weight);
        let config = Config {
            cases,
            failure_persistence: None,
            // Big inputs (and calls that hang until the bound) make each shrink step slow; a few
            // hundred steps or a minute find a small enough input.
            max_shrink_iters: 512,
            max_shrink_time: 60_000,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng(property));
        match runner.run(&strategy, test) {
            Ok(()) => {
                let total = CASES_RUN.fetch_add(u64::from(cases), Ordering::SeqCst) + u64::from(cases);
                let done = PROPERTIES_DONE.fetch_add(1, Ordering::SeqCst) + 1;
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}/{property}: {cases} cases, 0 panics", self.name);
                if done == self.properties {
                    let _ = writeln!(err, "{}: {total} cases, 0 panics", self.name);
                }
            }
            Err(TestError::Fail(reason, input)) => {
                let shown = format!("{input:?}");
                let shown: String = shown.chars().take(1000).collect();
                panic!("{}/{property}: FAILED ({reason}); minimal input: {shown}", self.name);
            }
            Err(TestError::Abort(reason)) => panic!("{}/{property}: aborted: {reason}", self.name),
        }
    }
}

/// A deterministic generator per property, varied by `FUZZ_SEED`.
fn rng(property: &str) -> TestRng {
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0x1D_C0_22_26);
    // FNV-1a of the property name, so properties draw different sequences.
    let name =
        property.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed.rotate_left(i as u32 * 16) ^ name.wrapping_mul(i as u64 + 1);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Whether `text` is one line of printable text: no control character at all.
pub fn is_single_line(text: &str) -> bool {
    !text.chars().any(char::is_control)
}
