//! Maelstrom's services (its doc/services.md): nodes eddy provides in every simulated run,
//! which a node under test may send requests to by id, as it would in Maelstrom. Each is a
//! model of one consistency level, answering one request at a time; this module knows
//! nothing of the router (`sim::router::services` moves the messages).
//!
//! | id | model | module |
//! | --- | --- | --- |
//! | `lin-kv` | a linearizable key/value store: one map | [`lin_kv`] |
//! | `seq-kv` | a sequentially consistent one: past versions, a view per client | [`seq_kv`] |
//! | `lww-kv` | last write wins between replicas that sync now and then | [`lww_kv`] |
//! | `lin-tso` | a linearizable timestamp oracle: 0, 1, 2, ... | [`lin_tso`] |
//!
//! Requests are checked here, alike for every service: a reply or an `error` sent to a
//! service gets no answer (a service sends no requests, so it is no answer to one, and
//! answering it could start an endless exchange); a request without `msg_id` gets error 12
//! (malformed-request), one of a type the service does not serve error 10 (not-supported).
//! Maelstrom's own services log such messages and answer nothing; eddy tells the node.
//!
//! Every random choice a model makes comes from its seed (derived from the run's), drawn
//! from a stream of the client's own ([`Streams`]): the k-th request of a client meets the
//! same draws whatever other clients did in between, so a seed reproduces the answers.

pub mod kv;
pub mod lin_kv;
pub mod lin_tso;
pub mod lww_kv;
pub mod seq_kv;

use crate::protocol::MAELSTROM_SERVICES;
use crate::sim::sub_seed;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One service's model: its answers to well-formed requests.
pub trait Model: Send {
    /// The request types it serves.
    fn serves(&self) -> &'static [&'static str];
    /// The reply body (without `in_reply_to`) to `body`, a request of a type it serves
    /// with a `msg_id`, from `client` (the request's `src`).
    fn handle(&mut self, client: &str, body: &Value) -> Value;
}

/// An `error` reply body with Maelstrom's `code` and a `text` in words.
pub fn error(code: u64, text: impl Into<String>) -> Value {
    json!({"type": "error", "code": code, "text": text.into()})
}

/// The reply `model`, the service `name`, gives to `body` from `client`, with its
/// `in_reply_to`; `None` when `body` is itself a reply or an error, which gets no answer.
pub fn answer(name: &str, model: &mut dyn Model, client: &str, body: &Value) -> Option<Value> {
    let kind = body["type"].as_str().unwrap_or_default();
    let in_reply_to = body.get("in_reply_to").filter(|v| !v.is_null());
    if kind == "error" || in_reply_to.is_some() {
        return None;
    }
    let Some(msg_id) = body.get("msg_id").filter(|v| !v.is_null()) else {
        return Some(error(
            12,
            format!("{kind} has no msg_id, so {name} cannot answer it"),
        ));
    };
    let mut reply = if model.serves().contains(&kind) {
        model.handle(client, body)
    } else {
        error(
            10,
            format!(
                "{name} does not support {kind}; it serves {}",
                model.serves().join(", ")
            ),
        )
    };
    reply["in_reply_to"] = msg_id.clone();
    Some(reply)
}

/// Every service of a run, in the order of [`MAELSTROM_SERVICES`].
pub struct Services {
    models: Vec<Box<dyn Model>>,
}

impl Services {
    /// Maelstrom's four services, each with a seed derived from `seed` (the run's services
    /// seed) and its place in the list.
    pub fn new(seed: u64) -> Services {
        let models = MAELSTROM_SERVICES
            .iter()
            .enumerate()
            .map(|(i, name)| model(name, sub_seed(seed, i as u64)))
            .collect();
        Services { models }
    }

    /// The index of the service `id`, if it is one.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        MAELSTROM_SERVICES.iter().position(|name| *name == id)
    }

    /// The id of service `i`.
    pub fn name(&self, i: usize) -> &'static str {
        MAELSTROM_SERVICES[i]
    }

    /// How many services there are.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.models.len()
    }

    /// Service `i`'s reply to `body` from `client` (see [`answer`]).
    pub fn answer(&mut self, i: usize, client: &str, body: &Value) -> Option<Value> {
        answer(self.name(i), self.models[i].as_mut(), client, body)
    }
}

/// The model of the service `name`, seeded with `seed`.
fn model(name: &str, seed: u64) -> Box<dyn Model> {
    match name {
        "lin-kv" => Box::new(lin_kv::LinKv::default()),
        "seq-kv" => Box::new(seq_kv::SeqKv::new(seed)),
        "lww-kv" => Box::new(lww_kv::LwwKv::new(seed)),
        "lin-tso" => Box::new(lin_tso::LinTso::default()),
        other => unreachable!("no model for service {other}"),
    }
}

/// A random stream per client, all from one seed: the stream of a client is chosen by its
/// name, so its draws do not depend on other clients' requests.
pub struct Streams {
    seed: u64,
    streams: HashMap<String, ChaCha8Rng>,
}

impl Streams {
    /// Streams seeded with `seed`.
    pub fn new(seed: u64) -> Streams {
        Streams {
            seed,
            streams: HashMap::new(),
        }
    }

    /// `client`'s stream.
    pub fn of(&mut self, client: &str) -> &mut ChaCha8Rng {
        let seed = self.seed;
        self.streams.entry(client.to_owned()).or_insert_with(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(fnv1a(client));
            rng
        })
    }
}

/// FNV-1a of `text`: a stable number for a name (std's hashers may change between
/// releases, which would change every run's draws).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_in_reply_to_and_bad_requests_get_maelstrom_errors() {
        let mut services = Services::new(7);
        let kv = services.index_of("lin-kv").unwrap();
        let tso = services.index_of("lin-tso").unwrap();
        let write = json!({"type": "write", "key": 1, "value": 2, "msg_id": 5});
        assert_eq!(
            services.answer(kv, "n1", &write),
            Some(json!({"type": "write_ok", "in_reply_to": 5}))
        );
        let unknown = services.answer(tso, "n1", &json!({"type": "read", "msg_id": 6}));
        assert_eq!(unknown.as_ref().unwrap()["code"], 10);
        assert_eq!(unknown.unwrap()["in_reply_to"], 6);
        let no_id = services.answer(kv, "n1", &json!({"type": "read", "key": 1}));
        assert_eq!(no_id.as_ref().unwrap()["code"], 12);
        assert!(no_id.unwrap().get("in_reply_to").is_none());
        // Replies and errors sent to a service start no exchange.
        let ok = json!({"type": "read_ok", "in_reply_to": 3, "msg_id": 9});
        assert_eq!(services.answer(kv, "n1", &ok), None);
        let err = json!({"type": "error", "code": 10});
        assert_eq!(services.answer(kv, "n1", &err), None);
        assert_eq!(services.index_of("n1"), None);
        assert_eq!(services.len(), MAELSTROM_SERVICES.len());
    }

    #[test]
    fn a_client_stream_does_not_depend_on_other_clients() {
        use rand::RngExt;
        let mut a = Streams::new(3);
        let mut b = Streams::new(3);
        let _: u64 = b.of("n2").random();
        let first: u64 = a.of("n1").random();
        assert_eq!(first, b.of("n1").random::<u64>());
        assert_ne!(first, a.of("n2").random::<u64>());
    }
}
