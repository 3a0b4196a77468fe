//! Places kept for drawings still to come, so that wiring them in touches only this file:
//! a message diagram of node-to-node traffic over a window of the run (to be drawn by
//! `report/messages.rs`), and pictures of a witness's operations (`report/witness_ops.rs`).
//! Each returns an inline SVG, or `None` when there is nothing to draw; the page leaves
//! its section out on `None`.

use super::run::Run;
use super::Window;
use crate::check::CheckResult;
use serde_json::Value;

/// SLOT: the message diagram of `run`'s `net.jsonl` over `window` (all of a short run).
/// Nothing is drawn yet.
pub fn message_diagram(run: &Run, window: Window) -> Option<String> {
    let _ = (run, window);
    None
}

/// SLOT: a picture of the operations of one witness of `check` (a linearizability
/// violation's stale read and the write it missed). Nothing is drawn yet.
pub fn witness_picture(check: &CheckResult, witness: &Value) -> Option<String> {
    let _ = (check, witness);
    None
}
