//! The registry of the process groups of nodes that are running now, so that every one
//! of them can be killed at once (on an interrupt) as well as one by one.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// Process groups of nodes that are running now.
static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Kills every node process group this process started and has not yet reaped, and
/// every process of a sandboxed node's control group.
pub fn kill_all() {
    let groups = LIVE_GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for &group in groups.iter() {
        kill_group(group);
    }
    crate::sandbox::kill_every_group();
}

/// Records `group` as running (its node was just started).
pub(super) fn register(group: i32) {
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(group);
}

/// Forgets `group` (its node was reaped).
pub(super) fn forget(group: i32) {
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&group);
}

/// Sends `signal` to every process of `group`.
pub(super) fn signal_group(group: i32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names the group.
    unsafe {
        libc::kill(-group, signal);
    }
}

/// Kills every process of `group`.
pub(super) fn kill_group(group: i32) {
    signal_group(group, libc::SIGKILL);
}
