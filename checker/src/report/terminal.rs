//! What a person sees: a line per case (failures always, passes and skips when few or
//! asked for), the reasons under each failure, and a closing summary.

use super::Tally;
use crate::cases::suite::CaseResult;
use crate::cases::verdict::{Status, Verdict};
use std::fmt::Write;

/// The line (and explanation) for one finished case.
pub fn case_block(result: &CaseResult) -> String {
    let label = match result.verdict.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::NodeError => "NODE",
        Status::Skipped => "SKIP",
    };
    let v = &result.verdict;
    if v.status == Status::Skipped {
        return format!(
            "{label} {}  {}  ({})\n",
            result.case.source,
            result.case.name,
            v.notes.join("; ")
        );
    }
    let mut out = format!(
        "{label} {}  {}  [{}/{} lines, {} ms]\n",
        result.case.source,
        result.case.name,
        v.matched,
        v.expected,
        result.transcript.elapsed.as_millis()
    );
    if v.status != Status::Pass {
        for line in describe_failures(v).lines() {
            let _ = writeln!(out, "     {line}");
        }
    }
    for note in &v.notes {
        let _ = writeln!(out, "     note: {note}");
    }
    out
}

/// Follow-on failures listed under a crash before the rest are only counted.
const FOLLOW_ONS_SHOWN: usize = 5;

/// Every failure of a verdict: `rule: summary`, then its detail lines indented; the
/// failures that follow from a crash (which comes first) summarised after the others, one
/// line each, the first few of them.
pub fn describe_failures(verdict: &Verdict) -> String {
    let mut out = String::new();
    let (follow_ons, own): (Vec<_>, Vec<_>) = verdict.failures.iter().partition(|f| f.follow_on);
    for failure in own {
        let _ = writeln!(out, "{}: {}", failure.rule.name(), failure.summary);
        for line in &failure.detail {
            let _ = writeln!(out, "    {line}");
        }
    }
    if !follow_ons.is_empty() {
        let _ = writeln!(
            out,
            "and {} failure{} that follow{} from it:",
            follow_ons.len(),
            plural(follow_ons.len()),
            if follow_ons.len() == 1 { "s" } else { "" }
        );
        for failure in follow_ons.iter().take(FOLLOW_ONS_SHOWN) {
            let _ = writeln!(out, "    {}: {}", failure.rule.name(), failure.summary);
        }
        if follow_ons.len() > FOLLOW_ONS_SHOWN {
            let _ = writeln!(out, "    and {} more", follow_ons.len() - FOLLOW_ONS_SHOWN);
        }
    }
    out
}

/// The closing lines: the time, then the one count line, `N passed, N failed, N skipped`
/// (every case in exactly one count), which CI systems read; when cases were skipped, a
/// line saying why and what runs them (a case is skipped only for needing the seed
/// contract).
pub fn summary(tally: &Tally, elapsed: std::time::Duration) -> String {
    let mut out = format!(
        "eddy cases: done in {:.2} s\n{} passed, {} failed, {} skipped\n",
        elapsed.as_secs_f64(),
        tally.passed,
        tally.failed,
        tally.skipped
    );
    let (they, test, them) = match tally.skipped {
        0 => return out,
        1 => ("it", "tests", "it"),
        _ => ("they", "test", "them"),
    };
    let _ = writeln!(
        out,
        "{} skipped: {they} {test} seed-only rules; --contract seed runs {them}",
        tally.skipped
    );
    out
}

/// The verdict of a run of `eddy test` in one word, as the table shows it.
pub fn outcome_word(outcome: crate::exit::Outcome) -> &'static str {
    use crate::exit::Outcome;
    match outcome {
        Outcome::Valid => "valid",
        Outcome::Invalid => "INVALID",
        Outcome::Unknown => "unknown",
        Outcome::NodeError => "node-error",
        Outcome::Usage => "usage",
        Outcome::Io => "io-error",
        Outcome::Interrupted => "interrupted",
    }
}

/// `text` on one line (every run of white space made one space), cut to `max` characters
/// with `...` at the end when longer.
pub fn shorten(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let kept: String = line.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", kept.trim_end())
}

/// The table closing `eddy test --test-count`: a row per run (seed, verdict, failed
/// checks, first witness on one shortened line, run folder), then the counts and the
/// worst verdict, which is the exit status.
pub fn runs_table(runs: &[crate::report::run::RunSummary]) -> String {
    use crate::exit::Outcome;
    let header = ["seed", "verdict", "failed checks", "first witness", "store"];
    let rows: Vec<[String; 5]> = runs
        .iter()
        .map(|run| {
            let names = run.failed_names();
            [
                run.seed.to_string(),
                outcome_word(run.outcome).to_owned(),
                if names.is_empty() {
                    "-".to_owned()
                } else {
                    shorten(&names.join(","), 40)
                },
                run.first_witness
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |w| shorten(w, 70)),
                run.store.display().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut out = String::from(" ");
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                let _ = write!(out, " {cell}");
            } else {
                let _ = write!(out, " {cell:<width$}", width = widths[i]);
            }
        }
        out.push('\n');
        out
    };
    let mut out = String::new();
    out.push_str(&line(header));
    for row in &rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    let count = |o: Outcome| runs.iter().filter(|r| r.outcome == o).count();
    let worst = runs
        .iter()
        .fold(Outcome::Valid, |worst, r| worst.worst(r.outcome));
    let _ = writeln!(
        out,
        "{} run{}: {} valid, {} invalid, {} unknown, {} could not run the node{}; worst: {} (exit {})",
        runs.len(),
        plural(runs.len()),
        count(Outcome::Valid),
        count(Outcome::Invalid),
        count(Outcome::Unknown),
        count(Outcome::NodeError),
        match count(Outcome::Interrupted) {
            0 => String::new(),
            n => format!(", {n} interrupted"),
        },
        outcome_word(worst),
        worst.code()
    );
    out
}

/// The lines `eddy test --test-count` prints when a run ends: its verdict and folder, and
/// for a run that is not valid its failed checks with their first witnesses and the
/// command that reproduces it (the whole summary is in the folder's `results.json`, and
/// `eddy check FOLDER` prints it).
pub fn run_block(run: &crate::report::run::RunSummary, done: usize, total: usize) -> String {
    use crate::exit::Outcome;
    let mut out = format!(
        "[{done}/{total}] seed {}: {}  {}\n",
        run.seed,
        outcome_word(run.outcome),
        run.store.display()
    );
    if run.outcome == Outcome::Valid {
        return out;
    }
    if run.outcome == Outcome::NodeError {
        let why = run.first_witness.as_deref().unwrap_or_default();
        let _ = writeln!(out, "    the node could not be run: {why}");
    }
    for check in &run.failed {
        out.push_str(&check.render("    ", 2));
    }
    let _ = writeln!(out, "    reproduce: {}", run.reproduce);
    out
}

pub use crate::check::plural;

#[cfg(test)]
mod tests {
    use super::{shorten, summary, Tally};
    use std::time::Duration;

    #[test]
    fn skipped_cases_come_with_why_and_what_runs_them() {
        let tally = |skipped| Tally {
            cases: 2 + skipped,
            passed: 2,
            failed: 0,
            skipped,
        };
        let text = summary(&tally(7), Duration::from_millis(10));
        assert_eq!(
            text,
            "eddy cases: done in 0.01 s\n2 passed, 0 failed, 7 skipped\n\
             7 skipped: they test seed-only rules; --contract seed runs them\n"
        );
        let one = summary(&tally(1), Duration::ZERO);
        assert!(one.ends_with("\n1 skipped: it tests seed-only rules; --contract seed runs it\n"));
        let none = summary(&tally(0), Duration::ZERO);
        assert!(
            none.ends_with("\n2 passed, 0 failed, 0 skipped\n"),
            "{none}"
        );
    }

    #[test]
    fn witnesses_shrink_to_one_line() {
        assert_eq!(shorten("a\n  b\tc", 10), "a b c");
        assert_eq!(shorten("0123456789abc", 10), "0123456...");
        assert_eq!(shorten("", 10), "");
    }
}
