//! `eddy cases --html FILE`: the summary of a case run as one self-contained page with the
//! report page's look (`checker/templates/cases.html`, the same stylesheet): the counts,
//! then each case with its status, its failures in words and its transcript behind a fold.

use crate::cases::suite::CaseResult;
use crate::cases::verdict::Status;
use crate::cases::Step;
use crate::report::terminal::describe_failures;
use crate::report::Tally;
use askama::Template;

/// One case on the page.
pub struct CaseView {
    /// Its name.
    pub name: String,
    /// Where it came from.
    pub source: String,
    /// PASS, FAIL, NODE or SKIP.
    pub status: &'static str,
    /// The CSS class of the status.
    pub class: &'static str,
    /// Expected lines matched, of all.
    pub matched: String,
    /// Wall time in ms.
    pub ms: u128,
    /// Its failures, one per line, detail indented.
    pub failures: String,
    /// Notes that do not fail it.
    pub notes: Vec<String>,
    /// Lines written to the node (when kept).
    pub sent: Vec<String>,
    /// Lines the node wrote, each with its time (when kept).
    pub received: Vec<String>,
    /// The node's last stderr lines.
    pub stderr: Vec<String>,
}

/// The cases page, as the template reads it.
#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage<'a> {
    command: &'a str,
    /// The sandbox's summary line without its `sandbox: ` head; `None` unconfined.
    sandbox: Option<String>,
    tally: Tally,
    elapsed: String,
    cases: Vec<CaseView>,
    version: &'static str,
}

fn view(result: &CaseResult) -> CaseView {
    let (status, class) = match result.verdict.status {
        Status::Pass => ("PASS", "valid"),
        Status::Fail => ("FAIL", "invalid"),
        Status::NodeError => ("NODE", "unknown"),
        Status::Skipped => ("SKIP", "na"),
    };
    let v = &result.verdict;
    CaseView {
        name: result.case.name.clone(),
        source: result.case.source.clone(),
        status,
        class,
        matched: format!("{}/{}", v.matched, v.expected),
        ms: result.transcript.elapsed.as_millis(),
        failures: describe_failures(v),
        notes: v.notes.clone(),
        sent: result
            .case
            .steps
            .iter()
            .map(|s| match s {
                Step::Send(line) => line.clone(),
                Step::Sleep(d) => format!("(sleep {} ms)", d.as_millis()),
            })
            .collect(),
        received: result
            .transcript
            .outputs
            .iter()
            .map(|o| match &o.line {
                Ok(message) => format!("{:>9.1} ms  {}", o.at_ms, message.value),
                Err(why) => format!("{:>9.1} ms  (not a message: {why})", o.at_ms),
            })
            .collect(),
        stderr: result.transcript.stderr_tail.clone(),
    }
}

/// The HTML page of a case run of `command` in `sandbox` (its `to_json`, if any): failed
/// cases first, then the rest in order.
pub fn render(
    results: &[CaseResult],
    command: &str,
    sandbox: Option<&serde_json::Value>,
    elapsed: std::time::Duration,
) -> String {
    let mut cases: Vec<CaseView> = results.iter().map(view).collect();
    cases.sort_by_key(|c| match c.status {
        "FAIL" | "NODE" => 0,
        _ => 1,
    });
    CasesPage {
        command,
        sandbox: sandbox
            .and_then(crate::sandbox::summary_line)
            .map(|line| line.trim_start_matches("sandbox: ").to_owned()),
        tally: Tally::of(results),
        elapsed: format!("{:.1}", elapsed.as_secs_f64()),
        cases,
        version: env!("CARGO_PKG_VERSION"),
    }
    .render()
    .unwrap_or_else(|e| format!("<!doctype html><title>eddy cases</title><p>{e}</p>"))
}
