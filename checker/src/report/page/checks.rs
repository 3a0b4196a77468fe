//! The checks as the page lists them: grouped by kind (safety, liveness, protocol, stats),
//! the failed and unknown ones first in each group and open, each witness's `why` in words
//! with the rest of it (and its picture, when one is drawn) behind a fold. The first
//! [`OPEN`] witnesses of a check are shown, the rest folded; a stats check, which gives
//! figures and never a verdict, has a neutral badge.

use crate::check::{CheckKind, CheckResult, Validity};
use crate::report::witness_ops;
use serde_json::Value;

/// The checks of one kind.
pub struct Group {
    /// The kind in one word.
    pub kind: &'static str,
    /// What checks of this kind are about.
    pub about: &'static str,
    /// The checks, failed and unknown ones first.
    pub checks: Vec<CheckView>,
}

/// One check on the page.
pub struct CheckView {
    /// Its name, also its anchor (`check-NAME`).
    pub name: String,
    /// Its verdict in one word.
    pub word: &'static str,
    /// The CSS class of its verdict: `valid`, `invalid`, `unknown` or `na`.
    pub class: &'static str,
    /// Its summary.
    pub summary: String,
    /// Whether it is shown open: it failed or is unknown.
    pub open: bool,
    /// Its first [`OPEN`] witnesses, shown.
    pub witnesses: Vec<WitnessView>,
    /// The rest of its witnesses, folded.
    pub more: Vec<WitnessView>,
    /// When the check kept fewer witnesses than it found: `20 of 87 witnesses kept`.
    pub kept: Option<String>,
    /// Its figures as indented JSON, when it has any.
    pub figures: Option<String>,
}

/// One witness: its sentence, the rest of it, and a picture of its operations if drawn.
pub struct WitnessView {
    /// The `why` sentence (the whole witness when it has none).
    pub why: String,
    /// The other fields as indented JSON, when there are any.
    pub rest: Option<String>,
    /// An inline SVG of the operations the witness names ([`witness_ops::picture`]), for
    /// the first [`PICTURED`] witnesses of a check.
    pub picture: Option<String>,
}

/// The CSS class of a verdict.
pub fn class(valid: Validity) -> &'static str {
    match valid {
        Validity::Valid => "valid",
        Validity::Invalid => "invalid",
        Validity::Unknown => "unknown",
        Validity::NotApplicable => "na",
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// How many of a check's witnesses get a picture of their operations.
pub const PICTURED: usize = 5;

/// How many of a check's witnesses are shown open; the rest are folded.
pub const OPEN: usize = 3;

/// How many violations a check found, when it says more than it kept: the number its
/// summary starts with (`87 violations; first: ...`, `7 stale read(s)`), else its
/// `violations` figure.
fn found(check: &CheckResult) -> Option<usize> {
    let digits: String = check
        .summary
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let leading = digits
        .parse()
        .ok()
        .filter(|_| check.summary[digits.len()..].starts_with(' '));
    leading.or_else(|| check.figures["violations"].as_u64().map(|n| n as usize))
}

/// The badge of a check: its verdict, except that a stats check that passed gives figures,
/// never a verdict.
fn badge(check: &CheckResult) -> (&'static str, &'static str) {
    match (check.kind, check.valid) {
        (CheckKind::Stats, Validity::Valid | Validity::NotApplicable) => ("figures", "figures"),
        (_, valid) => (valid.word(), class(valid)),
    }
}

fn witness(w: &Value, pictured: bool) -> WitnessView {
    let why = w["why"]
        .as_str()
        .map_or_else(|| w.to_string(), str::to_owned);
    let rest = match w.as_object() {
        Some(fields) => {
            let mut fields = fields.clone();
            fields.remove("why");
            (!fields.is_empty()).then(|| pretty(&Value::Object(fields)))
        }
        None => None,
    };
    WitnessView {
        why,
        rest,
        picture: pictured.then(|| witness_ops::picture(w)).flatten(),
    }
}

fn view(check: &CheckResult) -> CheckView {
    let has_figures = match &check.figures {
        Value::Null => false,
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    let mut witnesses: Vec<WitnessView> = check
        .witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| witness(w, i < PICTURED))
        .collect();
    let more = witnesses.split_off(witnesses.len().min(OPEN));
    let stored = check.witnesses.len();
    let kept = found(check)
        .filter(|n| stored > 0 && *n > stored)
        .map(|n| format!("{stored} of {n} witnesses kept"));
    let (word, class) = badge(check);
    CheckView {
        name: check.name.clone(),
        word,
        class,
        summary: check.summary.clone(),
        open: matches!(check.valid, Validity::Invalid | Validity::Unknown),
        witnesses,
        more,
        kept,
        figures: has_figures.then(|| pretty(&check.figures)),
    }
}

/// The checks by kind; kinds without checks are left out.
pub fn groups(checks: &[CheckResult]) -> Vec<Group> {
    let kinds = [
        (
            CheckKind::Safety,
            "nothing bad happened: what the nodes answered",
        ),
        (
            CheckKind::Liveness,
            "something good happened, in time: service, leaders, convergence",
        ),
        (
            CheckKind::Protocol,
            "the protocol was kept: schemas, messages, no crash",
        ),
        (CheckKind::Stats, "figures only, never a verdict"),
    ];
    kinds
        .into_iter()
        .filter_map(|(kind, about)| {
            let mut of_kind: Vec<&CheckResult> = checks.iter().filter(|c| c.kind == kind).collect();
            // Invalid, then unknown, then the rest, each in the order the run listed them.
            of_kind.sort_by_key(|c| match c.valid {
                Validity::Invalid => 0,
                Validity::Unknown => 1,
                _ => 2,
            });
            (!of_kind.is_empty()).then(|| Group {
                kind: kind.word(),
                about,
                checks: of_kind.into_iter().map(view).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(name: &str, valid: Validity, summary: &str, witnesses: usize) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: CheckKind::of(name),
            valid,
            summary: summary.into(),
            witnesses: (0..witnesses)
                .map(|i| json!({"why": format!("w{i}")}))
                .collect(),
            figures: json!({}),
        }
    }

    #[test]
    fn a_long_list_shows_three_folds_the_rest_and_says_how_many_were_kept() {
        let long = view(&check(
            "split-brain",
            Validity::Invalid,
            "87 violations; first: w0",
            20,
        ));
        assert_eq!(long.witnesses.len(), OPEN);
        assert_eq!(long.more.len(), 17);
        assert_eq!(long.more[0].why, "w3");
        assert_eq!(long.kept.as_deref(), Some("20 of 87 witnesses kept"));
        let all = view(&check(
            "split-brain",
            Validity::Invalid,
            "2 violations; first: w0",
            2,
        ));
        assert_eq!(
            (all.witnesses.len(), all.more.len(), all.kept),
            (2, 0, None)
        );
        let words = view(&check(
            "crashes",
            Validity::Invalid,
            "n0 exited at 0.2 s",
            1,
        ));
        assert_eq!(words.kept, None, "no count, nothing said");
    }

    #[test]
    fn a_stats_check_has_a_neutral_badge() {
        let stats = view(&check("stats", Validity::Valid, "243 operations", 0));
        assert_eq!((stats.word, stats.class), ("figures", "figures"));
        let other = view(&check("crashes", Validity::Valid, "no node crashed", 0));
        assert_eq!(other.class, "valid");
    }
}
