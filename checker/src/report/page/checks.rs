//! The checks as the page lists them: grouped by kind (safety, liveness, protocol, stats),
//! the failed and unknown ones first in each group and open, each witness's `why` in words
//! with the rest of it (and its picture, when one is drawn) behind a fold.

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
    /// Its witnesses.
    pub witnesses: Vec<WitnessView>,
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
    CheckView {
        name: check.name.clone(),
        word: check.valid.word(),
        class: class(check.valid),
        summary: check.summary.clone(),
        open: matches!(check.valid, Validity::Invalid | Validity::Unknown),
        witnesses: check
            .witnesses
            .iter()
            .enumerate()
            .map(|(i, w)| witness(w, i < PICTURED))
            .collect(),
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
