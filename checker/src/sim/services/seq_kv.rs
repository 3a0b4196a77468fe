//! `seq-kv`: Maelstrom's sequentially consistent key/value store, with the observable
//! behaviour of Maelstrom's `Sequential` wrapper (src/maelstrom/service.clj).
//!
//! Every change makes a new version of the whole store (versions 1, 2, ...; 0 is the empty
//! store); the last [`WINDOW`] versions are kept, as Maelstrom's ring buffer of 32 states.
//! Each client (the request's `src`) has a view: the version it last interacted with,
//! which never goes back. A request is first tried on a version drawn uniformly from the
//! client's view up to, but not including, the latest (the latest itself when the view is
//! already there), as Maelstrom draws:
//!
//! - if it would not change that version (a read, a failed `cas`, a write or `cas` of the
//!   value the key already has there), it is answered from that version, and the view
//!   moves to it: reads, and errors 20 and 22, may be stale;
//! - otherwise it is applied to the latest version, making a new one (unless it changes
//!   nothing there either), and the view moves to the latest.
//!
//! So all operations fit one total order that respects each client's own order (a client
//! sees its own writes, and nothing older than what it saw), but a client that has not
//! changed anything lately may read an old value long after a newer write was
//! acknowledged to another: the store is sequentially consistent, not linearizable. A
//! client's first view is the oldest version kept (Maelstrom starts every client at the
//! empty store; with its ring buffer that is the oldest it keeps too). A client reaches the
//! latest version only through a change: a node that only reads keeps reading the past,
//! and a correct node writes (to a key of its own, say) before a read that must be fresh.

use super::kv::{self, KV_TYPES};
use super::{Model, Streams};
use rand::RngExt;
use serde_json::Value;
use std::collections::HashMap;

/// How many versions of the store are kept: a client's view is never older than the
/// latest's `WINDOW - 1`-th predecessor.
pub const WINDOW: u64 = 32;

/// The versions, the clients' views and their random streams.
pub struct SeqKv {
    /// The latest version.
    latest: u64,
    /// Per key (its JSON text): the values it took and the version that set each, oldest
    /// first (those older than the window pruned, but for the one in force at its start).
    keys: HashMap<String, Vec<(u64, Value)>>,
    /// Per client: the version it last interacted with.
    views: HashMap<String, u64>,
    /// The clients' random streams.
    streams: Streams,
}

impl SeqKv {
    /// An empty store whose draws come from `seed`.
    pub fn new(seed: u64) -> SeqKv {
        SeqKv {
            latest: 0,
            keys: HashMap::new(),
            views: HashMap::new(),
            streams: Streams::new(seed),
        }
    }

    /// The oldest version kept.
    fn oldest(&self) -> u64 {
        self.latest.saturating_sub(WINDOW - 1)
    }

    /// `key`'s value in `version`.
    fn value_at(&self, key: &str, version: u64) -> Option<&Value> {
        let history = self.keys.get(key)?;
        let i = history.partition_point(|(set_at, _)| *set_at <= version);
        i.checked_sub(1).map(|i| &history[i].1)
    }

    /// A new version in which `key` is `value`; what is out of the window is pruned.
    fn set(&mut self, key: String, value: Value) {
        self.latest += 1;
        let oldest = self.oldest();
        let history = self.keys.entry(key).or_default();
        history.push((self.latest, value));
        let in_force = history.partition_point(|(set_at, _)| *set_at <= oldest);
        if in_force > 1 {
            history.drain(..in_force - 1);
        }
    }
}

impl Model for SeqKv {
    fn serves(&self) -> &'static [&'static str] {
        KV_TYPES
    }

    fn handle(&mut self, client: &str, body: &Value) -> Value {
        let request = match kv::parse(body) {
            Ok(request) => request,
            Err(reply) => return reply,
        };
        let view = self
            .views
            .get(client)
            .copied()
            .unwrap_or(0)
            .max(self.oldest());
        let latest = self.latest;
        let tried = if view < latest {
            self.streams.of(client).random_range(view..latest)
        } else {
            latest
        };
        let past = self.value_at(&request.key, tried);
        let step = kv::step(past, &request.op);
        if step.leaves(past) {
            self.views.insert(client.to_owned(), tried);
            return step.reply;
        }
        let now = self.value_at(&request.key, latest);
        let step = kv::step(now, &request.op);
        if !step.leaves(now) {
            let value = step.set.clone().expect("a step that changes sets a value");
            self.set(request.key, value);
        }
        self.views.insert(client.to_owned(), self.latest);
        step.reply
    }
}

#[cfg(test)]
mod tests {
    use super::super::kv::testing::{answers, read, write};
    use super::*;
    use serde_json::json;

    /// Three clients take turns: one writes the next value, the next reads. Returns the
    /// share of stale reads.
    fn take_turns(seed: u64, rounds: u64) -> f64 {
        let mut kv = SeqKv::new(seed);
        let clients = ["n1", "n2", "n3"];
        let mut seen = [0u64; 3];
        let mut stale = 0;
        for value in 1..=rounds {
            let w = (value % 3) as usize;
            write(&mut kv, clients[w], value);
            seen[w] = value;
            let r = (w + 1) % 3;
            let got = read(&mut kv, clients[r]).unwrap_or(0);
            // Never older than what this client wrote or read before.
            assert!(
                got >= seen[r],
                "{} read {got} after seeing {}",
                clients[r],
                seen[r]
            );
            seen[r] = got;
            stale += u64::from(got < value);
        }
        stale as f64 / rounds as f64
    }

    #[test]
    fn stale_reads_are_frequent_but_no_client_goes_back() {
        for seed in 0..5 {
            let share = take_turns(seed, 300);
            assert!(share > 0.2, "seed {seed}: only {share} of reads were stale");
        }
    }

    #[test]
    fn a_client_sees_its_own_writes() {
        let mut kv = SeqKv::new(1);
        for value in 0..100 {
            write(&mut kv, "n1", value);
            write(&mut kv, "n2", value + 1000);
            assert!(read(&mut kv, "n1").unwrap() >= value);
            assert!(read(&mut kv, "n2").unwrap() >= value + 1000);
        }
    }

    #[test]
    fn a_failed_cas_is_answered_from_the_past_and_a_change_brings_the_latest() {
        for seed in 0..20 {
            let mut kv = SeqKv::new(seed);
            write(&mut kv, "n1", 1);
            write(&mut kv, "n2", 1); // n2's view: the latest, 1
            write(&mut kv, "n1", 2);
            // n2 asks to swap 2 for 3: the latest has 2, but n2's view is one behind, the
            // only version it may be answered from.
            let cas = json!({"type": "cas", "key": "k", "from": 2, "to": 3});
            assert_eq!(kv.handle("n2", &cas)["code"], 22, "seed {seed}");
            assert_eq!(read(&mut kv, "n2"), Some(1), "n2 only read: still the past");
            // A change (here to another key) is applied to the latest and brings n2's view
            // there: now the swap succeeds.
            let sync = json!({"type": "write", "key": "n2", "value": 1});
            assert_eq!(kv.handle("n2", &sync)["type"], "write_ok");
            let cas = json!({"type": "cas", "key": "k", "from": 2, "to": 4});
            assert_eq!(kv.handle("n2", &cas)["type"], "cas_ok", "seed {seed}");
            assert_eq!(read(&mut kv, "n2"), Some(4));
            assert_eq!(
                read(&mut kv, "n1"),
                Some(2),
                "n1's view is behind the change"
            );
        }
    }

    #[test]
    fn views_stay_within_the_window_and_history_is_pruned() {
        let mut kv = SeqKv::new(2);
        write(&mut kv, "n1", 0);
        let _ = read(&mut kv, "n2"); // n2's view: version 0 or 1
        for value in 1..=200 {
            write(&mut kv, "n1", value);
        }
        // n2 last saw version 1; it is now served from the last 32 versions.
        let got = read(&mut kv, "n2").unwrap();
        assert!(got > 200 - WINDOW, "{got}");
        assert!(kv.keys["\"k\""].len() <= WINDOW as usize + 1);
    }

    #[test]
    fn a_seed_reproduces_the_answers() {
        let answers = |seed: u64| answers(SeqKv::new(seed));
        assert_eq!(answers(9), answers(9));
        assert_ne!(answers(9), answers(10));
    }
}
