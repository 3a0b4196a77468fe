//! Maelstrom's `echo`: every `echo` request is answered with `echo_ok` carrying the
//! request's body back (its `echo` payload and any other field), as Maelstrom's demos do.

use crate::message::Envelope;
use crate::service::{Answer, Context, Service, Shared};
use serde_json::Value;

/// The echo service: no state.
#[derive(Debug, Default)]
pub struct EchoService;

impl Service for EchoService {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's echo: every request answered with its own payload"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        kind == "echo"
    }

    fn handle(&mut self, req: &Envelope, _ctx: &mut Context) -> Answer {
        req.field("echo")?;
        let mut reply = req.body.clone();
        reply.remove("msg_id");
        reply.insert("type".into(), Value::from("echo_ok"));
        Ok(Some(reply))
    }
}
