//! Running many cases in parallel, each against its own fresh node process, under a
//! contract: a case that needs the seed contract is skipped, not run, under Maelstrom's.

use super::matcher::short;
use super::runner::{run_case, Ending, Limits, Transcript};
use super::verdict::{judge, skipped, Status, Verdict};
use super::Case;
use super::Rules;
use crate::process::NodeCommand;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A case with what it produced and its verdict.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// What the node did.
    pub transcript: Transcript,
    /// The judgement.
    pub verdict: Verdict,
}

/// Runs and judges one case under `rules`; a case that does not run under their contract
/// is skipped without starting the node. A case made for one workload runs the bundled
/// reference pinned to it ([`Case::workload`]).
pub fn run_one_under(
    rules: &Rules,
    case: Case,
    command: &NodeCommand,
    limits: Limits,
) -> CaseResult {
    if !case.runs_under(rules.contract) {
        return CaseResult {
            verdict: skipped(&case),
            case,
            transcript: Transcript::not_run(),
        };
    }
    let pinned = case
        .workload
        .as_deref()
        .and_then(|workload| command.pinned_reference(workload));
    let transcript = run_case(&case, pinned.as_ref().unwrap_or(command), limits);
    let verdict = judge(&case, &transcript, rules);
    CaseResult {
        case,
        transcript,
        verdict,
    }
}

/// Runs `cases` under `rules` on `jobs` threads; `on_done` sees each result as it
/// completes. Results come back in the order of `cases`, whole (transcripts included).
pub fn run_all_under(
    rules: &Rules,
    cases: Vec<Case>,
    command: &NodeCommand,
    jobs: usize,
    limits: Limits,
    on_done: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let total = cases.len();
    let queue: Vec<Mutex<Option<Case>>> = cases.into_iter().map(|c| Mutex::new(Some(c))).collect();
    let results: Vec<Mutex<Option<CaseResult>>> = (0..total).map(|_| Mutex::new(None)).collect();
    let case_at = |i: usize| {
        queue[i]
            .lock()
            .unwrap()
            .take()
            .expect("each case is taken once")
    };
    let keep = |i: usize, result: CaseResult| {
        on_done(&result);
        *results[i].lock().unwrap() = Some(result);
    };
    run_each(rules, total, &case_at, command, jobs, limits, &keep);
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every case ran"))
        .collect()
}

/// Runs `count` cases under `rules` on `jobs` threads, each made only when a thread is
/// free to run it (`case_at(i)`, called once for each `i` in `0..count`) and handed, with
/// its `i`, to `on_done` as it completes, in any order. Nothing is kept here: how much
/// memory a run holds is the caller's choice (see [`CaseResult::compact`]), so it can stay
/// flat however many cases there are.
pub fn run_each(
    rules: &Rules,
    count: usize,
    case_at: &(dyn Fn(usize) -> Case + Sync),
    command: &NodeCommand,
    jobs: usize,
    limits: Limits,
    on_done: &(dyn Fn(usize, CaseResult) + Sync),
) {
    run_from(0, rules, count, case_at, command, jobs, limits, on_done);
}

/// [`run_each`] for `eddy cases`, which stops at once when the node cannot start: the
/// first case that starts the node (one not skipped) runs alone first. When its verdict is
/// [`Status::NodeError`] (the node was not found, not executable, exited before answering
/// `init` or never answered it), nothing else runs, `on_done` sees nothing, and the error
/// is the one line to print (see [`cannot_start`]). Otherwise every case runs as in
/// [`run_each`], and a later case whose node errs is a case failure ([`Status::Fail`]): the
/// node started once, so it can be run, and that case broke it.
#[allow(clippy::too_many_arguments)] // run_each's, and the first case's outcome
pub fn run_each_unless_unstartable(
    rules: &Rules,
    count: usize,
    case_at: &(dyn Fn(usize) -> Case + Sync),
    command: &NodeCommand,
    jobs: usize,
    limits: Limits,
    on_done: &(dyn Fn(usize, CaseResult) + Sync),
) -> Result<(), String> {
    let mut held = Vec::new();
    while held.len() < count {
        let result = run_one_under(rules, case_at(held.len()), command, limits);
        let status = result.verdict.status;
        if status == Status::NodeError {
            return Err(cannot_start(command, &result));
        }
        held.push(result);
        if status != Status::Skipped {
            break;
        }
    }
    let first = held.len();
    for (i, result) in held.into_iter().enumerate() {
        on_done(i, result);
    }
    let as_failure = |i: usize, mut result: CaseResult| {
        if result.verdict.status == Status::NodeError {
            result.verdict.status = Status::Fail;
        }
        on_done(i, result);
    };
    run_from(
        first,
        rules,
        count,
        case_at,
        command,
        jobs,
        limits,
        &as_failure,
    );
    Ok(())
}

/// The line `eddy cases` stops with when the node cannot start: the command and why, with
/// the last line of its stderr and the first line it wrote, if any; in the words `eddy
/// test` uses (``the node `./my-node` did not start: ...``).
pub fn cannot_start(command: &NodeCommand, result: &CaseResult) -> String {
    let transcript = &result.transcript;
    let did_not_start = format!("the node `{}` did not start", command.display());
    if let Ending::SpawnFailed(why) = &transcript.ending {
        return format!("{did_not_start}: {why}");
    }
    let why = result
        .verdict
        .failures
        .first()
        .map_or("it did not run", |f| f.summary.as_str());
    let why = why.strip_prefix("the node ").unwrap_or(why);
    let mut line = format!("{did_not_start}: it {why}");
    if let Some(last) = transcript.stderr_tail.last() {
        line.push_str(&format!("; its last stderr line: {last}"));
    }
    if let Some(Ok(first)) = transcript.outputs.first().map(|o| &o.line) {
        line.push_str(&format!("; it wrote: {}", short(&first.value)));
    }
    line
}

/// Runs cases `start..count` as [`run_each`] does.
#[allow(clippy::too_many_arguments)] // run_each's, and where to start
fn run_from(
    start: usize,
    rules: &Rules,
    count: usize,
    case_at: &(dyn Fn(usize) -> Case + Sync),
    command: &NodeCommand,
    jobs: usize,
    limits: Limits,
    on_done: &(dyn Fn(usize, CaseResult) + Sync),
) {
    let next = AtomicUsize::new(start);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.saturating_sub(start).max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return;
                }
                let result = run_one_under(rules, case_at(i), command, limits);
                on_done(i, result);
            });
        }
    });
}

impl CaseResult {
    /// The result without what only judging needed: the case's steps and expected lines
    /// and the transcript's output lines. What the reports show stays (names, verdict with
    /// its failures and notes, times, the stderr tail): a few hundred bytes for a passing
    /// case instead of tens of kilobytes.
    pub fn compact(mut self) -> CaseResult {
        self.case.steps = Vec::new();
        self.case.expected = Vec::new();
        self.transcript.outputs = Vec::new();
        self.transcript.waiting_for = Vec::new();
        self
    }
}
