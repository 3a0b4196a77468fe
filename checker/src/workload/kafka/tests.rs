//! The kafka checks on hand-made histories: each witness kind, and a correct history.

use super::log::KafkaLog;
use super::{commits, lost, offsets, skips};
use crate::check::Validity;
use crate::history::{EventType, HistoryEvent, Process};
use serde_json::{json, Value};

/// Operations `(client, start ms, end ms, request, reply)`, completed in order of `end`.
fn history(ops: &[(u64, u64, u64, Value, Value)]) -> Vec<HistoryEvent> {
    let mut events = Vec::new();
    for (client, start, end, request, reply) in ops {
        let f = request["type"].as_str().unwrap();
        let kind = EventType::of_reply(reply);
        let process = || Process::Client(*client);
        events.push(HistoryEvent::at_ms(
            *start,
            process(),
            "n0",
            EventType::Invoke,
            f,
            request.clone(),
        ));
        events.push(HistoryEvent::at_ms(
            *end,
            process(),
            "n0",
            kind,
            f,
            reply.clone(),
        ));
    }
    events.sort_by_key(|e| e.time);
    events
}

fn send(key: &str, msg: u64, offset: u64) -> (Value, Value) {
    (
        json!({"type": "send", "key": key, "msg": msg}),
        json!({"type": "send_ok", "offset": offset}),
    )
}

fn poll(key: &str, from: u64, pairs: Value) -> (Value, Value) {
    (
        json!({"type": "poll", "offsets": {key: from}}),
        json!({"type": "poll_ok", "msgs": {key: pairs}}),
    )
}

fn op(client: u64, start: u64, (request, reply): (Value, Value)) -> (u64, u64, u64, Value, Value) {
    (client, start, start + 1, request, reply)
}

#[test]
fn a_correct_history_passes_every_check() {
    let log = KafkaLog::read(&history(&[
        op(1, 0, send("a", 1, 0)),
        op(2, 2, send("a", 2, 1)),
        op(1, 4, poll("a", 0, json!([[0, 1], [1, 2]]))),
        op(
            1,
            6,
            (
                json!({"type": "commit_offsets", "offsets": {"a": 1}}),
                json!({"type": "commit_offsets_ok"}),
            ),
        ),
        op(
            2,
            8,
            (
                json!({"type": "list_committed_offsets", "keys": ["a"]}),
                json!({"type": "list_committed_offsets_ok", "offsets": {"a": 1}}),
            ),
        ),
    ]));
    for result in [
        lost::lost_writes(&log),
        offsets::duplicate_offsets(&log),
        offsets::reordering(&log),
        skips::poll_skips(&log),
        commits::committed_offsets(&log),
    ] {
        assert_eq!(result.valid, Validity::Valid, "{result:?}");
    }
}

#[test]
fn a_write_below_a_polls_reach_never_polled_is_lost_and_the_poll_skipped_it() {
    let log = KafkaLog::read(&history(&[
        op(1, 0, send("a", 1, 0)),
        op(2, 2, send("a", 2, 1)),
        op(1, 4, poll("a", 0, json!([[1, 2]]))),
    ]));
    let lost = lost::lost_writes(&log);
    assert_eq!(lost.valid, Validity::Invalid);
    assert!(
        lost.summary.contains("message 1 sent to key a"),
        "{}",
        lost.summary
    );
    let skips = skips::poll_skips(&log);
    assert_eq!(skips.valid, Validity::Invalid);
    assert!(
        skips.summary.contains("but not offset 0"),
        "{}",
        skips.summary
    );
}

#[test]
fn two_messages_at_one_offset_and_offsets_out_of_order_are_witnesses() {
    let log = KafkaLog::read(&history(&[
        op(1, 0, send("a", 1, 0)),
        op(2, 2, send("a", 2, 0)),
        op(1, 4, poll("a", 0, json!([[1, 3], [0, 1]]))),
    ]));
    let dup = offsets::duplicate_offsets(&log);
    assert_eq!(dup.valid, Validity::Invalid);
    assert!(dup.witnesses.iter().any(|w| w["kind"] == "two-messages"));
    assert!(dup.witnesses.iter().any(|w| w["kind"] == "never-sent"));
    let order = offsets::reordering(&log);
    assert!(order
        .witnesses
        .iter()
        .any(|w| w["kind"] == "not-increasing"));
    assert!(order.witnesses.iter().any(|w| w["kind"] == "send-order"));
}

#[test]
fn a_committed_offset_nobody_committed_is_a_witness() {
    let log = KafkaLog::read(&history(&[
        op(
            1,
            0,
            (
                json!({"type": "commit_offsets", "offsets": {"a": 1}}),
                json!({"type": "commit_offsets_ok"}),
            ),
        ),
        op(
            2,
            2,
            (
                json!({"type": "list_committed_offsets", "keys": ["a"]}),
                json!({"type": "list_committed_offsets_ok", "offsets": {"a": 3}}),
            ),
        ),
    ]));
    let result = commits::committed_offsets(&log);
    assert_eq!(result.valid, Validity::Invalid);
    assert!(
        result
            .summary
            .contains("no client had asked to commit offset 2 or above"),
        "{}",
        result.summary
    );
}

#[test]
fn listings_below_the_commits_are_counted_not_judged() {
    // A node that did not hear of the commit of 3 lists 1, and one that keeps "nothing
    // committed" as -1 lists it for another key: consumers re-read, nothing is skipped.
    let commit = |at, offsets| {
        op(
            1,
            at,
            (
                json!({"type": "commit_offsets", "offsets": offsets}),
                json!({"type": "commit_offsets_ok"}),
            ),
        )
    };
    let log = KafkaLog::read(&history(&[
        commit(0, json!({"a": 1})),
        commit(2, json!({"a": 3})),
        op(
            2,
            4,
            (
                json!({"type": "list_committed_offsets", "keys": ["a", "b"]}),
                json!({"type": "list_committed_offsets_ok", "offsets": {"a": 1, "b": -1}}),
            ),
        ),
    ]));
    let result = commits::committed_offsets(&log);
    assert_eq!(result.valid, Validity::Valid, "{result:?}");
    assert_eq!(result.figures["went_backwards"], 1);
    assert!(
        result.summary.contains("below offset 3"),
        "{}",
        result.summary
    );
}

#[test]
fn an_unreadable_poll_answer_is_a_witness() {
    let log = KafkaLog::read(&history(&[op(
        1,
        0,
        (
            json!({"type": "poll", "offsets": {"a": 0}}),
            json!({"type": "poll_ok", "msgs": {"a": [[0]]}}),
        ),
    )]));
    assert_eq!(log.unreadable.len(), 1);
    assert!(log.unreadable[0]["why"]
        .as_str()
        .unwrap()
        .contains("cannot judge the poll"));
}
