//! Everything the node writes: one JSON line per message, numbered by one counter from 0.

use crate::message::{Envelope, RpcError};
use serde_json::{json, Map, Value};
use std::io::Write;

/// Writes messages to an output stream, assigning `msg_id`s from a single counter.
///
/// `W` may be unsized: a node's `Outbox<W>` is handed to its services as an
/// [`Outbox<dyn Write>`](Out), so that services need not be generic over the writer.
pub struct Outbox<W: Write + ?Sized> {
    node_id: String,
    next_msg_id: u64,
    out: W,
}

/// An outbox of any writer, as services see it.
pub type Out<'a> = Outbox<dyn Write + 'a>;

impl<W: Write> Outbox<W> {
    /// An outbox writing to `out`; the node id is learned at `init`.
    pub fn new(out: W) -> Self {
        Outbox {
            node_id: String::new(),
            next_msg_id: 0,
            out,
        }
    }
}

impl<W: Write + ?Sized> Outbox<W> {
    /// Sets the id written as `src` of every message.
    pub fn set_node_id(&mut self, id: &str) {
        self.node_id = id.to_owned();
    }

    /// Sends a numbered message (it gets the next `msg_id`, which is returned).
    pub fn send(&mut self, dest: &str, mut body: Map<String, Value>) -> u64 {
        let id = self.next_msg_id;
        body.insert("msg_id".into(), id.into());
        self.next_msg_id += 1;
        self.write(dest, body);
        id
    }

    /// Sends a fire-and-forget message without `msg_id`, so that no reply is owed.
    pub fn send_unnumbered(&mut self, dest: &str, body: Map<String, Value>) {
        self.write(dest, body);
    }

    /// Replies to `request`; a request without `msg_id` gets no reply.
    pub fn reply(&mut self, request: &Envelope, mut body: Map<String, Value>) {
        let Some(id) = request.msg_id() else { return };
        body.insert("in_reply_to".into(), id.clone());
        if self.node_id.is_empty() {
            // Before init we answer as whoever the request was addressed to.
            let from = request.dest.clone();
            body.insert("msg_id".into(), self.next_msg_id.into());
            self.next_msg_id += 1;
            self.write_from(&from, &request.src, body);
        } else {
            self.send(&request.src, body);
        }
    }

    /// Answers request `msg_id` of `client` (a reply the node owes after it is committed).
    pub fn reply_to(&mut self, client: &str, msg_id: &Value, mut body: Map<String, Value>) {
        if msg_id.is_null() {
            return;
        }
        body.insert("in_reply_to".into(), msg_id.clone());
        self.send(client, body);
    }

    /// Passes a request on to `dest` unchanged, `src` and `msg_id` included, so that
    /// `dest` answers the original sender.
    pub fn forward(&mut self, request: &Envelope, dest: &str) {
        self.write_from(&request.src, dest, request.body.clone());
    }

    /// Replies with an error body.
    pub fn reply_error(&mut self, request: &Envelope, error: &RpcError) {
        self.reply(request, error.to_body());
    }

    /// Flushes buffered lines; called whenever the node has no more input at hand.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    fn write(&mut self, dest: &str, body: Map<String, Value>) {
        let src = self.node_id.clone();
        self.write_from(&src, dest, body);
    }

    fn write_from(&mut self, src: &str, dest: &str, body: Map<String, Value>) {
        let line = json!({"src": src, "dest": dest, "body": body});
        // A closed stdout means the harness is gone; the input loop ends on its own then.
        let _ = writeln!(self.out, "{line}");
    }

    /// The underlying writer (tests read what was written).
    pub fn writer(&self) -> &W {
        &self.out
    }
}
