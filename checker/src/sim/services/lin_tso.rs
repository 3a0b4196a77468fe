//! `lin-tso`: Maelstrom's linearizable timestamp oracle. `ts` is answered with `ts_ok
//! {ts}`, the next integer of one counter starting at 0 (as Maelstrom's): every timestamp
//! is greater than every one handed out before, to any node.

use super::Model;
use serde_json::{json, Value};

/// The next timestamp.
#[derive(Debug, Default)]
pub struct LinTso {
    next: u64,
}

impl Model for LinTso {
    fn serves(&self) -> &'static [&'static str] {
        &["ts"]
    }

    fn handle(&mut self, _client: &str, _body: &Value) -> Value {
        let ts = self.next;
        self.next += 1;
        json!({"type": "ts_ok", "ts": ts})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_increase_strictly_across_clients() {
        let mut tso = LinTso::default();
        let stamps: Vec<u64> = (0..50)
            .map(|i| {
                tso.handle(&format!("n{}", i % 4), &json!({"type": "ts"}))["ts"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(stamps[0], 0);
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    }
}
