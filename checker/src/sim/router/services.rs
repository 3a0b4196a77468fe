//! Maelstrom's services in the run (`sim::services`): the network endpoints they are, and
//! each request that reaches one answered.
//!
//! A service is an endpoint of the network model after the nodes (`node_count + i`), so
//! messages to and from it draw latency and loss on their own links like any node's, and
//! are recorded in `net.jsonl` the same way (the writer of a reply is the service's id).
//! Partitions cut only links between nodes (as Maelstrom's split only its nodes), so a
//! service stays reachable from every side; a paused node's replies wait in its pipe, and
//! a killed node's are dropped as "node down", like any message to it. Replies go to the
//! node named by the request's `src`, carry `in_reply_to` and no `msg_id` (as Maelstrom's),
//! and never reach eddy's clients or the history.

use super::Router;
use crate::protocol::Message;
use serde_json::json;
use std::time::Instant;

impl Router<'_> {
    /// The network endpoint of service `service`: after the nodes.
    pub(super) fn service_endpoint(&self, service: usize) -> usize {
        self.cluster.ids().len() + service
    }

    /// The service network endpoint `endpoint` is, if it is one.
    pub(super) fn service_at(&self, endpoint: usize) -> Option<usize> {
        endpoint.checked_sub(self.cluster.ids().len())
    }

    /// The id of network endpoint `endpoint`: a node's or a service's.
    pub(super) fn endpoint_id(&self, endpoint: usize) -> String {
        match self.service_at(endpoint) {
            Some(service) => self.services.name(service).to_owned(),
            None => self.cluster.ids()[endpoint].clone(),
        }
    }

    /// `line`, written by node endpoint `writer` at `sent`, reaches service `service`: it
    /// is recorded as delivered, and the service's answer, if any, goes back to the
    /// request's `src` through the network model.
    pub(super) fn serve(&mut self, service: usize, writer: usize, sent: u64, line: &str) {
        let now = self.rec.ns(Instant::now());
        let writer_id = self.endpoint_id(writer);
        self.rec.net_line(&writer_id, sent, Some(now), None, line);
        let Some(request) = serde_json::from_str(line)
            .ok()
            .and_then(|value| Message::from_value(value).ok())
        else {
            return;
        };
        let client = request.src();
        let Some(body) = self.services.answer(service, client, request.body()) else {
            return;
        };
        let name = self.services.name(service);
        let reply = json!({"src": name, "dest": client, "body": body}).to_string();
        match self.cluster.ids().iter().position(|id| id == client) {
            Some(to) => self.transmit(self.service_endpoint(service), to, now, reply),
            None => {
                let client = client.to_owned();
                self.rec.unaddressed(name, now, &client, &reply);
            }
        }
    }
}
