//! When the first failure of a run happened, read from the witnesses of its invalid
//! checks, so that every picture of the page marks the same instant (the operations
//! timeline, the latency chart, the message diagram) and the message diagram's window
//! starts just before it.
//!
//! A witness's time is found generically: when it names operations
//! ([`witness_ops::operations`]), the completion of its `read` or `cannot_place` (the
//! operation that went wrong); else its numeric field `at_s`, `time_s` or `from_s` (the
//! first present; a list of numbers counts as its earliest). A witness with neither has no
//! time and is passed over.

use super::witness_ops::{self, FOCUS, WRONG};
use crate::check::{CheckResult, Validity};
use serde_json::Value;

/// The first failure of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstFailure {
    /// When it happened, in seconds since the run started.
    pub at_s: f64,
    /// When what led to it began (the earliest invocation of its stale read, the write it
    /// missed, the operation no order can place and those in its way), at most `at_s`; the message diagram
    /// starts its window a little before this.
    pub from_s: f64,
    /// The check whose witness it is.
    pub check: String,
}

/// The earliest of a list of numbers, or the number itself.
fn seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_f64)
            .min_by(f64::total_cmp),
        other => other.as_f64(),
    }
}

/// When the failure `witness` shows happened, and when what led to it began.
pub fn witness_time(witness: &Value) -> Option<(f64, f64)> {
    let ops = witness_ops::operations(witness);
    let focus = ops.iter().filter(|o| FOCUS.contains(&o.part.as_str()));
    let began = focus.clone().map(|o| o.invoked).min_by(f64::total_cmp);
    let failed = focus
        .filter(|o| WRONG.contains(&o.part.as_str()))
        .map(|o| o.completed.unwrap_or(o.invoked))
        .min_by(f64::total_cmp);
    let at = failed.or_else(|| {
        ["at_s", "time_s", "from_s"]
            .iter()
            .find_map(|field| witness.get(field).and_then(seconds))
    })?;
    Some((at, began.map_or(at, |b| b.min(at))))
}

/// The first failure named by a witness of an invalid check: the earliest witness time
/// over every invalid check; `None` when no such witness has a time.
pub fn first_failure(checks: &[CheckResult]) -> Option<FirstFailure> {
    checks
        .iter()
        .filter(|c| c.valid == Validity::Invalid)
        .flat_map(|c| {
            c.witnesses.iter().filter_map(|w| {
                witness_time(w).map(|(at_s, from_s)| FirstFailure {
                    at_s,
                    from_s,
                    check: c.name.clone(),
                })
            })
        })
        .min_by(|a, b| a.at_s.total_cmp(&b.at_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckKind;
    use serde_json::json;

    fn op(index: u64, from: f64, to: Option<f64>) -> Value {
        json!({"index": index, "process": 1, "f": "read", "op": "x", "invoked_s": from, "completed_s": to})
    }

    fn check(name: &str, valid: Validity, witnesses: Vec<Value>) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: CheckKind::Safety,
            valid,
            summary: String::new(),
            witnesses,
            figures: json!({}),
        }
    }

    #[test]
    fn a_stale_read_fails_at_its_completion_and_an_earlier_source_does_not_count() {
        let stale = json!({"why": "stale",
            "read": op(7, 5.0, Some(5.2)),
            "missed": op(5, 4.0, Some(4.5)),
            "source": op(3, 0.5, Some(0.6))});
        assert_eq!(witness_time(&stale), Some((5.2, 4.0)));
        let search = json!({"why": "...",
            "cannot_place": op(4, 2.0, Some(2.5)),
            "piece": [op(6, 1.9, Some(2.1))]});
        assert_eq!(witness_time(&search), Some((2.5, 2.0)));
        let never = json!({"why": "...", "read": op(1, 3.0, None)});
        assert_eq!(witness_time(&never), Some((3.0, 3.0)));
    }

    #[test]
    fn other_witnesses_fail_at_their_time_fields_and_the_earliest_check_wins() {
        assert_eq!(witness_time(&json!({"time_s": 0.2})), Some((0.2, 0.2)));
        assert_eq!(
            witness_time(&json!({"at_s": [0.5, 0.4], "from_s": 0.1})),
            Some((0.4, 0.4)),
            "at_s first, its earliest"
        );
        assert_eq!(witness_time(&json!({"why": "no time"})), None);
        let checks = [
            check("crashes", Validity::Invalid, vec![json!({"time_s": 3.0})]),
            check(
                "split-brain",
                Validity::Invalid,
                vec![json!({"from_s": 2.0})],
            ),
            check("stats", Validity::Valid, vec![json!({"at_s": 1.0})]),
            check("kafka", Validity::Invalid, vec![json!({"why": "no time"})]),
        ];
        let first = first_failure(&checks).expect("a first failure");
        assert_eq!((first.at_s, first.check.as_str()), (2.0, "split-brain"));
        assert_eq!(first_failure(&checks[2..]), None);
    }
}
