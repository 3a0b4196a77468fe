//! Snapshots of the reference node's transcripts over every case (seed, hand-written and a
//! fixed set of generated ones), stored in `snapshots/` for review with `cargo insta review`.
//!
//! Fields that depend on time are redacted so the snapshots are stable run after run, and
//! timer-driven node-to-node messages (gossip) are left out because how many are sent
//! depends on timing. With `CI` set, a changed, missing or orphaned snapshot fails.
//! Everything runs under the seed contract, so every case (seed-only ones included) and
//! every generated step is in the snapshots.

use eddy::cases::format::load;
use eddy::cases::runner::Limits;
use eddy::cases::suite::{run_all_under, CaseResult};
use eddy::contract::Contract;
use eddy::process::NodeCommand;
use eddy::workload::generated::generate;
use eddy::workload::Workload;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Generated cases in the snapshot set: this many per workload, from this seed.
const GENERATED_PER_WORKLOAD: usize = 3;
const GENERATED_SEED: u64 = 2026;

fn snapshot_name(source: &str) -> String {
    let rel = source.split("cases/").last().unwrap_or(source);
    rel.trim_end_matches(".case")
        .replace(".case#", "-")
        .replace(['/', '#', '.'], "-")
}

fn transcript(result: &CaseResult) -> Value {
    let input: Vec<Value> = result
        .case
        .input_lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| json!(l)))
        .collect();
    let output: Vec<Value> = result
        .transcript
        .outputs
        .iter()
        .filter_map(|o| match &o.line {
            Ok(m) if m.in_reply_to().is_none() && m.dest().starts_with('n') => None,
            Ok(m) => Some(m.value.clone()),
            Err(problem) => Some(json!({ "invalid": problem })),
        })
        .collect();
    json!({"case": result.case.name, "status": result.verdict.status, "input": input, "output": output})
}

#[test]
fn reference_transcripts_match_their_snapshots() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cases = load(&[repo.join("cases")]).expect("the bundled cases load");
    for case in &mut cases {
        case.source = case.source.replace(&format!("{}/", repo.display()), "");
    }
    cases.extend(generate(
        &Workload::all().collect::<Vec<_>>(),
        GENERATED_PER_WORKLOAD,
        GENERATED_SEED,
        Contract::Seed,
    ));
    let reference = NodeCommand {
        program: env!("CARGO_BIN_EXE_eddy").into(),
        args: vec!["node".into()],
        sandbox: None,
    };
    let results = run_all_under(
        &eddy::workload::rules(Contract::Seed),
        cases,
        &reference,
        2,
        Limits::default(),
        &|_| {},
    );

    let snapshot_dir = repo.join("snapshots");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&snapshot_dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut names = BTreeSet::new();
    settings.bind(|| {
        for result in &results {
            let name = snapshot_name(&result.case.source);
            assert!(
                names.insert(name.clone()),
                "two cases share the snapshot name {name}"
            );
            insta::assert_json_snapshot!(name, transcript(result), {
                ".output[].body.expires_at" => "[time]",
                ".output[].body.remaining_ms" => "[time]",
                ".output[].body.servers[].last_heartbeat_ms_ago" => "[time]",
                ".output[].body.gossip_rounds" => "[timing]",
                ".output[].body.convergence_ms" => "[timing]",
                ".output[].body.peers_synced" => "[timing]",
                // unique-ids: an id holds the node's start time when it has no data folder.
                ".output[].body.id" => "[id]",
            });
        }
    });

    let orphans: Vec<String> = std::fs::read_dir(&snapshot_dir)
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.ends_with(".snap") && !names.contains(f.trim_end_matches(".snap")))
        .collect();
    if !orphans.is_empty() {
        let message =
            format!("orphaned snapshots (no case produces them; delete them): {orphans:?}");
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("warning: {message}");
    }
}
