//! Generated cases judge nodes by eddy's own models: the reference passes them under both
//! contracts, and a mutated model expectation is caught.

use eddy::cases::runner::Limits;
use eddy::cases::suite::run_one_under;
use eddy::cases::verdict::{Rule, Status};
use eddy::contract::Contract;
use eddy::process::NodeCommand;
use eddy::workload::generated::generate;
use eddy::workload::Workload;
use serde_json::Value;

fn reference() -> NodeCommand {
    NodeCommand {
        program: env!("CARGO_BIN_EXE_eddy").into(),
        args: vec!["node".into()],
        sandbox: None,
    }
}

/// Changes the first value-carrying field of a reply pattern so that the model now
/// expects something the workload's rules forbid; `None` when the line has no such field.
fn mutate(expected: &mut Value) -> Option<String> {
    let body = expected["body"].as_object_mut()?;
    for field in [
        "value",
        "local_value",
        "effective_lease_ms",
        "safe",
        "valid",
        "code",
        "chunks",
    ] {
        match body.get_mut(field) {
            Some(Value::Number(n)) => {
                let changed = n.as_i64()? + 1;
                body.insert(field.into(), changed.into());
                return Some(field.into());
            }
            Some(Value::Bool(b)) => {
                let flipped = !*b;
                body.insert(field.into(), flipped.into());
                return Some(field.into());
            }
            Some(Value::String(s)) => {
                let changed = format!("{s}-mutated");
                body.insert(field.into(), changed.into());
                return Some(field.into());
            }
            _ => {}
        }
    }
    // A master's view of a server: its chunk count, inside `servers: {"$unordered": [...]}`.
    if let Some(Value::Number(n)) = body
        .get_mut("servers")
        .and_then(|s| s.get_mut("$unordered"))
        .and_then(|s| s.get_mut(0))
        .and_then(|s| s.get_mut("chunks"))
    {
        *n = (n.as_u64()? + 1).into();
        return Some("servers[0].chunks".into());
    }
    // `heartbeat_ok` carries `status: "alive"`.
    if let Some(Value::String(status)) = body.get_mut("status") {
        status.push_str("-mutated");
        return Some("status".into());
    }
    // A set the model expects in any order (g-set's `value`, broadcast's `messages`): one
    // more item, which no request added.
    for field in ["value", "messages"] {
        if let Some(Value::Array(items)) = body.get_mut(field).and_then(|m| m.get_mut("$unordered"))
        {
            items.push((-1).into());
            return Some(field.into());
        }
    }
    // A value the model cannot know but every answer has (a unique id): expected null.
    if let Some((field, value)) = body
        .iter_mut()
        .find(|(_, v)| **v == serde_json::json!({"$type": "any"}))
    {
        *value = serde_json::json!({"$type": "null"});
        return Some(field.clone());
    }
    // A value the model knows only the bounds of (a kafka offset): a range nothing is in.
    if let Some((field, value)) = body.iter_mut().find(|(_, v)| v.get("$range").is_some()) {
        *value = serde_json::json!({"$range": [-2, -1]});
        return Some(field.clone());
    }
    // Any other workload: the first field the model fills in itself (a payload echoed).
    let (field, value) = body.iter_mut().find(|(k, v)| {
        !matches!(k.as_str(), "type" | "in_reply_to" | "msg_id") && !is_matcher(v)
    })?;
    *value = serde_json::json!({"mutated": value.clone()});
    Some(field.clone())
}

/// True for a `$` matcher object, which accepts a range of values instead of naming one.
fn is_matcher(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with('$')))
}

#[test]
fn a_mutated_model_expectation_fails_the_case() {
    for contract in [Contract::Seed, Contract::Maelstrom] {
        mutants_are_caught(contract);
    }
}

fn mutants_are_caught(contract: Contract) {
    let mut caught = std::collections::BTreeMap::new();
    for case in generate(&Workload::all().collect::<Vec<_>>(), 12, 99, contract) {
        let workload = case.source.split('/').nth(1).unwrap().to_owned();
        let mut mutant = case.clone();
        let Some(line) = mutant
            .expected
            .iter_mut()
            .rev()
            .find_map(|line| mutate(line).map(|_| line.clone()))
        else {
            continue;
        };
        let result = run_one_under(
            &eddy::workload::rules(contract),
            mutant,
            &reference(),
            Limits::default(),
        );
        assert_eq!(
            result.verdict.status,
            Status::Fail,
            "{} ({contract:?}): mutated line {line} was not caught",
            case.source
        );
        assert!(
            result
                .verdict
                .failures
                .iter()
                .any(|f| f.rule == Rule::ExpectedLine),
            "{:?}",
            result.verdict.failures
        );
        *caught.entry(workload).or_insert(0) += 1;
    }
    for workload in Workload::all() {
        assert!(
            caught.get(workload.name()).copied().unwrap_or(0) >= 3,
            "too few mutants for {workload} ({contract:?}): {caught:?}"
        );
    }
}

#[test]
fn unmutated_generated_cases_pass() {
    for contract in [Contract::Seed, Contract::Maelstrom] {
        for case in generate(&Workload::all().collect::<Vec<_>>(), 10, 99, contract) {
            let result = run_one_under(
                &eddy::workload::rules(contract),
                case,
                &reference(),
                Limits::default(),
            );
            assert_eq!(
                result.verdict.status,
                Status::Pass,
                "{} ({contract:?}): {:?}",
                result.case.source,
                result.verdict.failures
            );
        }
    }
}
