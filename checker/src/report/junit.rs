//! JUnit XML (`--junit FILE`). `eddy cases`: one testcase per case, failures with their
//! explanation, node errors as errors, cases not run under the contract as skipped.
//! `eddy test`: one testcase per run, invalid runs as failures with their failed checks and
//! first witnesses, undecided runs and nodes that could not be run as errors, interrupted
//! runs as skipped; system-out holds the run's summary, with its store folder and the
//! command that reproduces it.

use crate::cases::suite::CaseResult;
use crate::cases::verdict::Status;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The XML text of a run's results.
pub fn render(results: &[CaseResult], elapsed: std::time::Duration) -> String {
    let mut suite = TestSuite::new("eddy cases");
    suite.set_time(elapsed);
    for result in results {
        let status = match result.verdict.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(result.verdict.notes.join("; "));
                status
            }
            failed => {
                let kind = if failed == Status::NodeError {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut status = TestCaseStatus::non_success(kind);
                let failures = &result.verdict.failures;
                status.set_message(
                    failures
                        .first()
                        .map(|f| f.summary.clone())
                        .unwrap_or_default(),
                );
                status.set_type(failures.first().map(|f| f.rule.name()).unwrap_or_default());
                status.set_description(super::terminal::describe_failures(&result.verdict));
                status
            }
        };
        let mut case = TestCase::new(result.case.name.clone(), status);
        case.set_classname(result.case.source.clone());
        case.set_time(result.transcript.elapsed);
        if !result.transcript.stderr_tail.is_empty() {
            case.set_system_err(result.transcript.stderr_tail.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("eddy");
    report.set_time(elapsed);
    report.add_test_suite(suite);
    report.to_string().expect("the report serializes")
}

/// The XML text of `eddy test`'s runs of `workload`: one suite, `eddy test`, with a test
/// case per run named `<workload> seed <seed>`.
pub fn render_runs(
    workload: &str,
    runs: &[crate::report::run::RunSummary],
    elapsed: std::time::Duration,
) -> String {
    use crate::exit::Outcome;
    use crate::report::run::FailedCheck;
    use std::fmt::Write;
    let mut suite = TestSuite::new("eddy test");
    suite.set_time(elapsed);
    suite.add_property(("workload", workload));
    for run in runs {
        let first = run.first_witness.clone().unwrap_or_default();
        let status = match run.outcome {
            Outcome::Valid => TestCaseStatus::success(),
            Outcome::Interrupted => {
                let mut status = TestCaseStatus::skipped();
                status.set_message("interrupted");
                status
            }
            outcome => {
                let kind = if outcome == Outcome::Invalid {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut status = TestCaseStatus::non_success(kind);
                status.set_message(first.clone());
                let names = run.failed_names();
                status.set_type(if outcome == Outcome::NodeError {
                    "node-error".to_owned()
                } else if names.is_empty() {
                    super::terminal::outcome_word(outcome).to_owned()
                } else {
                    names.join(",")
                });
                let mut description = String::new();
                if outcome == Outcome::NodeError {
                    let _ = writeln!(description, "the node could not be run: {first}");
                }
                for check in &run.failed {
                    description.push_str(&check.render("", FailedCheck::WITNESSES));
                }
                status.set_description(description);
                status
            }
        };
        let mut case = TestCase::new(format!("{workload} seed {}", run.seed), status);
        case.set_classname(format!("eddy test -w {workload}"));
        case.set_time(run.elapsed);
        case.add_property(("seed", run.seed.to_string().as_str()));
        case.add_property(("store", run.store.display().to_string().as_str()));
        case.set_system_out(format!(
            "store: {}\nreproduce: {}\n\n{}",
            run.store.display(),
            run.reproduce,
            run.text
        ));
        suite.add_test_case(case);
    }
    let mut report = Report::new("eddy");
    report.set_time(elapsed);
    report.add_test_suite(suite);
    report.to_string().expect("the report serializes")
}

#[cfg(test)]
mod tests {
    use crate::check::Validity;
    use crate::exit::Outcome;
    use crate::report::run::{FailedCheck, RunSummary};
    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    fn run(
        seed: u64,
        outcome: Outcome,
        failed: Vec<FailedCheck>,
        first: Option<&str>,
    ) -> RunSummary {
        RunSummary {
            workload: "raft",
            seed,
            outcome,
            failed,
            first_witness: first.map(str::to_owned),
            store: format!("store/raft-{seed}").into(),
            reproduce: format!("eddy test -w raft --seed {seed}"),
            text: "the summary\n".into(),
            elapsed: std::time::Duration::from_millis(1500),
        }
    }

    #[test]
    fn every_outcome_of_a_run_has_its_junit_status() {
        let check = |name: &str, valid| FailedCheck {
            name: name.into(),
            valid,
            summary: format!("{name} broke"),
            witnesses: vec![format!("{name}: the first witness")],
        };
        let runs = [
            run(1, Outcome::Valid, vec![], None),
            run(
                2,
                Outcome::Invalid,
                vec![
                    check("election-safety", Validity::Invalid),
                    check("availability", Validity::Unknown),
                ],
                Some("election-safety: the first witness"),
            ),
            run(
                3,
                Outcome::Unknown,
                vec![check("raft-liveness", Validity::Unknown)],
                None,
            ),
            run(
                4,
                Outcome::NodeError,
                vec![],
                Some("n1 never answered init"),
            ),
            run(5, Outcome::Interrupted, vec![], Some("interrupted")),
        ];
        let xml = super::render_runs("raft", &runs, std::time::Duration::from_secs(8));
        let report = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let suite = &report.test_suites[0];
        assert_eq!(suite.name.as_str(), "eddy test");
        let cases = &suite.test_cases;
        assert_eq!(cases[1].name.as_str(), "raft seed 2");
        assert!(matches!(cases[0].status, TestCaseStatus::Success { .. }));
        let TestCaseStatus::NonSuccess {
            kind,
            ty,
            message,
            description,
            ..
        } = &cases[1].status
        else {
            panic!("run 2 failed");
        };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(ty.as_ref().unwrap().as_str(), "election-safety");
        assert_eq!(
            message.as_ref().unwrap().as_str(),
            "election-safety: the first witness"
        );
        let description = description.as_ref().unwrap().as_str();
        assert!(
            description.starts_with(
                "election-safety   INVALID  election-safety broke\n    witness: election-safety: the first witness\n"
            ),
            "{description:?}"
        );
        assert!(description.contains("\navailability      unknown  availability broke\n"));
        for (case, ty) in [(&cases[2], "raft-liveness"), (&cases[3], "node-error")] {
            let TestCaseStatus::NonSuccess { kind, ty: t, .. } = &case.status else {
                panic!("{} did not pass", case.name.as_str());
            };
            assert_eq!(*kind, NonSuccessKind::Error);
            assert_eq!(t.as_ref().unwrap().as_str(), ty);
        }
        assert!(matches!(cases[4].status, TestCaseStatus::Skipped { .. }));
        let out = cases[3].system_out.as_ref().unwrap().as_str();
        assert!(out.starts_with("store: store/raft-4\nreproduce: eddy test -w raft --seed 4\n"));
    }
}
