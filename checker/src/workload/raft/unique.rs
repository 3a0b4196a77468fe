//! Writes and cas with values never written before, on a few keys, shared by the raft and
//! lease-read generators: the linearizability checker can then say which write a read saw.

use serde_json::{json, Value};

/// The values written so far, per key.
pub struct UniqueWrites {
    next_value: u64,
    last_written: Vec<Option<u64>>,
}

impl UniqueWrites {
    /// Nothing written yet to any of `keys` keys.
    pub fn new(keys: usize) -> UniqueWrites {
        UniqueWrites {
            next_value: 0,
            last_written: vec![None; keys],
        }
    }

    /// `write {key, value}` with a new value.
    pub fn write(&mut self, key: u64) -> Value {
        let value = self.next(key);
        json!({"type": "write", "key": key, "value": value})
    }

    /// `cas {key, from, to}` from the last value written to `key` (0 when none) to a new one.
    pub fn cas(&mut self, key: u64) -> Value {
        let from = self.last_written[key as usize].unwrap_or(0);
        let to = self.next(key);
        json!({"type": "cas", "key": key, "from": from, "to": to})
    }

    fn next(&mut self, key: u64) -> u64 {
        self.next_value += 1;
        self.last_written[key as usize] = Some(self.next_value);
        self.next_value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_unique_and_cas_starts_from_the_last_write() {
        let mut writes = UniqueWrites::new(2);
        assert_eq!(
            writes.cas(1),
            json!({"type": "cas", "key": 1, "from": 0, "to": 1})
        );
        assert_eq!(
            writes.write(0),
            json!({"type": "write", "key": 0, "value": 2})
        );
        assert_eq!(
            writes.cas(0),
            json!({"type": "cas", "key": 0, "from": 2, "to": 3})
        );
        assert_eq!(writes.cas(1)["from"], 1);
    }
}
