//! JUnit XML (`--junit FILE`): one testcase per case, failures with their explanation,
//! node errors as errors, cases not run under the contract as skipped.

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
