//! The record of a simulated run: client and nemesis events (`history.jsonl`), routed
//! messages (`net.jsonl`), and the folder that holds them (the store, SPEC section 4).

pub mod event;
pub mod store;

pub use event::{EventType, HistoryEvent, Process};
pub use store::Store;
