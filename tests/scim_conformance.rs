//! The SCIM sandbox against python-scim's conformance checker: `scim2 --url … test` (scim2-cli
//! 0.6.0, which runs scim2-tester 0.5.2) against a sandbox on loopback, as a user of the sandbox
//! would check it. Every check must pass except the few listed in [`NOT_APPLICABLE`], each for
//! a feature the sandbox does not implement and does not advertise.
//!
//! The checker is installed into the same virtualenv as the scim2-server peer (see
//! `common/peer.rs`); `IDENTITY_CONNECTORS_SKIP_PEER=1` skips this test as it skips the peer
//! tests, and without it a missing `python3` fails the test with the reason.

#[path = "support/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};

use common::peer;
use identity_connectors::sandbox::{ScimProfile, ScimSandbox};

/// Checks that do not apply to what the sandbox implements: (check title, why). Empty: every
/// check of the pinned checker applies to the standard sandbox. (scim2-tester 0.5.2 has no checks
/// for bulk, sorting, filtering or ETags, and checks only the resource types `/ResourceTypes`
/// lists, here `User` and `Group`; `tests/sandbox_scim.rs` and `tests/sandbox_profiles.rs` cover the rest.) A
/// check added here must say why.
const NOT_APPLICABLE: &[(&str, &str)] = &[];

/// Checks that must be among those run, so a checker that silently stops early cannot pass.
const MUST_RUN: [&str; 14] = [
    "service_provider_config_endpoint",
    "service_provider_config_endpoint_methods",
    "query_all_resource_types",
    "resource_types_endpoint_methods",
    "query_all_schemas",
    "access_schema_by_id",
    "schemas_endpoint_methods",
    "random_url",
    "object_creation",
    "object_replacement",
    "object_deletion",
    "check_add_attribute",
    "check_replace_attribute",
    "search_with_attributes",
];

/// One line of the checker's report: `STATUS title`, then the indented reason, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    status: String,
    title: String,
    reason: String,
}

/// The statuses scim2-tester reports (its `Status` enum).
const STATUSES: [&str; 7] = ["SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED"];

/// Parses the report; a line that is neither the banner, a check nor an indented reason fails the
/// test (the report format changed, and a silent mis-parse could hide failures).
fn parse_report(report: &str) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for line in report.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("Performing a SCIM compliance")) {
        if let Some(reason) = line.strip_prefix("  ") {
            if let Some(last) = checks.last_mut() {
                if !last.reason.is_empty() {
                    last.reason.push('\n');
                }
                last.reason.push_str(reason);
            }
            continue;
        }
        match line.split_once(' ') {
            Some((status, title)) if STATUSES.contains(&status) => {
                checks.push(Check { status: status.to_string(), title: title.to_string(), reason: String::new() });
            }
            _ => panic!("an unexpected line in the scim2 test report: {line:?}\n{report}"),
        }
    }
    checks
}

/// What one run of the checker produced.
struct Run {
    checks: Vec<Check>,
    /// stdout then stderr, for failure messages.
    output: String,
    /// The command's exit status: whether it found every check passed.
    all_passed: bool,
}

/// Runs `scim2 --url <base> test` against a sandbox; `None` when peer tests are skipped.
async fn run_checker(sandbox: &ScimSandbox, test: &str) -> Option<Run> {
    let python = peer::python(test)?;
    let scim2 = peer::venv_bin(&python).join(if cfg!(windows) { "scim2.exe" } else { "scim2" });
    let base_url = sandbox.base_url().to_string();
    // The token goes through the environment: command lines are visible to other users.
    let headers = format!("Authorization: Bearer {}", sandbox.token());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&scim2)
            .args(["--url", &base_url, "test"])
            .env("SCIM_CLI_HEADERS", headers)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
    })
    .await
    .expect("the checker's thread")
    .expect("the scim2 command runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let checks =
        if stdout.contains("Performing a SCIM compliance check on") { parse_report(&stdout) } else { Vec::new() };
    Some(Run { checks, output: format!("{stdout}\n{stderr}"), all_passed: output.status.success() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_passes_every_applicable_scim2_tester_check() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let Some(Run { checks, output: report, all_passed }) = run_checker(&sandbox, "scim2_tester").await else {
        return;
    };
    let failed: Vec<&Check> = checks
        .iter()
        .filter(|c| c.status != "SUCCESS" && !NOT_APPLICABLE.iter().any(|(title, _)| c.title == *title))
        .collect();
    let passed = checks.iter().filter(|c| c.status == "SUCCESS").count();
    assert!(failed.is_empty(), "{} checks failed ({passed} passed):\n{failed:#?}", failed.len());
    for title in MUST_RUN {
        assert!(checks.iter().any(|c| c.title == title && c.status == "SUCCESS"), "{title} did not pass:\n{report}");
    }
    assert!(passed >= 100, "too few checks ran ({passed}):\n{report}");
    // Groups are served and checked too: the resource checks run once per resource type.
    for title in ["object_creation", "object_replacement", "object_deletion", "check_add_attribute"] {
        let runs = checks.iter().filter(|c| c.title == title && c.status == "SUCCESS").count();
        assert!(runs >= 2, "{title} passed {runs} times, not for User and Group:\n{report}");
    }
    assert_eq!(all_passed, NOT_APPLICABLE.is_empty(), "scim2 test's exit status:\n{report}");
}

#[test]
fn the_report_parser_reads_statuses_titles_and_reasons() {
    let report = "Performing a SCIM compliance check on http://x/ ...\nSUCCESS random_url\n  /abc correctly returned a 404 error\nERROR check_add_attribute\n  Failed\n  twice\nSKIPPED search_with_attributes\n";
    let check = |status: &str, title: &str, reason: &str| Check {
        status: status.into(),
        title: title.into(),
        reason: reason.into(),
    };
    assert_eq!(
        parse_report(report),
        vec![
            check("SUCCESS", "random_url", "/abc correctly returned a 404 error"),
            check("ERROR", "check_add_attribute", "Failed\ntwice"),
            check("SKIPPED", "search_with_attributes", ""),
        ]
    );
    assert!(std::panic::catch_unwind(|| parse_report("Traceback (most recent call last):")).is_err());
}

/// The checks a profile does not pass, by design: (status, check title, why).
fn expected_misses(profile: ScimProfile) -> &'static [(&'static str, &'static str, &'static str)] {
    const NO_PATCH: &str = "PATCH is not offered (patch.supported = false): the checker skips its PATCH checks";
    const IGNORED: &str = "the profile ignores filters and pages at 2: a new user is not on the first page";
    match profile {
        ScimProfile::NoPatch => &[
            ("SKIPPED", "check_add_attribute", NO_PATCH),
            ("SKIPPED", "check_remove_attribute", NO_PATCH),
            ("SKIPPED", "check_replace_attribute", NO_PATCH),
        ],
        ScimProfile::FilterIgnoredPaged => {
            &[("ERROR", "object_list_with_attributes", IGNORED), ("ERROR", "search_with_attributes", IGNORED)]
        }
        _ => &[],
    }
}

/// Every profile under the checker: those that serve discovery pass every check but the ones
/// their restriction rules out ([`expected_misses`]); without discovery, or with garbage in it,
/// the checker cannot describe the server and stops, as it should.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_passes_the_checks_that_apply_to_it() {
    for &profile in ScimProfile::ALL {
        let sandbox = ScimSandbox::builder().profile(profile).start().await.expect("start");
        let Some(run) = run_checker(&sandbox, "scim2_tester_profiles").await else { return };
        if matches!(profile, ScimProfile::NoDiscovery | ScimProfile::GarbageDiscovery) {
            assert!(
                run.checks.is_empty() && !run.all_passed && run.output.contains("Could not discover the server"),
                "{profile}: {}",
                run.output
            );
            continue;
        }
        // Each check runs once per resource type (User, Group): count each miss once, in order.
        let mut missed: Vec<(&str, &str)> = Vec::new();
        for check in run.checks.iter().filter(|c| c.status != "SUCCESS") {
            let miss = (check.status.as_str(), check.title.as_str());
            if !missed.contains(&miss) {
                missed.push(miss);
            }
        }
        let expected: Vec<(&str, &str)> = expected_misses(profile).iter().map(|(s, t, _)| (*s, *t)).collect();
        assert_eq!(missed, expected, "{profile}:\n{}", run.output);
        let passed = run.checks.iter().filter(|c| c.status == "SUCCESS").count();
        assert!(passed >= 30, "{profile}: too few checks ran ({passed}):\n{}", run.output);
    }
}
