//! Ctrl-C and SIGTERM: every node is killed at once; a simulated run that asked for it
//! then finishes its record before eddy exits.

use super::groups::kill_all;

/// Set when Ctrl-C or SIGTERM arrives while a simulated run wants to stop gracefully.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set while a simulated run is going: an interrupt then lets it write its results.
static GRACEFUL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Handles Ctrl-C or SIGTERM: kills every node; returns true when a simulated run will
/// finish its record and exit, false when the caller should exit at once.
pub fn on_interrupt() -> bool {
    use std::sync::atomic::Ordering;
    INTERRUPTED.store(true, Ordering::SeqCst);
    kill_all();
    GRACEFUL.load(Ordering::SeqCst)
}

/// True once an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Says that a run will stop gracefully on an interrupt (see [`on_interrupt`]).
pub fn stop_gracefully_on_interrupt() {
    GRACEFUL.store(true, std::sync::atomic::Ordering::SeqCst);
}
