//! Maelstrom's `kafka` (Gossip Glomers 5a-5c): append-only logs named by string keys.
//!
//! Each key has one owner, the node its name hashes to among the cluster's ids (the same
//! list on every node, from `init`). The owner alone gives out the key's offsets (0, 1, 2,
//! ... in the order it appends), keeps its messages and its committed offset (the highest
//! committed: commits only advance it). A `send` to another node is forwarded to the owner
//! unchanged, and the owner answers the client. A `poll`, `commit_offsets` or
//! `list_committed_offsets` names several keys: the node that receives it asks each owner
//! for its keys (`kafka_part`, answered `kafka_part_ok`) and answers the client once every
//! owner has; an owner that does not answer within [`PART_TIMEOUT`] (a partition) leaves
//! its keys out of a poll or a listing, which may leave keys out, and makes a commit's
//! outcome unknown (error 0). Nothing is persisted: a killed node forgets its logs.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How long a node waits for the owners' parts of a request.
pub const PART_TIMEOUT: Duration = Duration::from_millis(1000);

/// Messages a poll answers per key at most.
const POLL_LIMIT: usize = 100;

/// The node a key belongs to: FNV-1a of its name over `ids` sorted.
pub fn owner(key: &str, ids: &[String]) -> String {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    sorted[(hash % sorted.len() as u64) as usize].clone()
}

/// The logs and committed offsets of the keys a node owns.
#[derive(Debug, Default)]
pub struct Logs {
    logs: BTreeMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
    /// Sends appended, for `lose-writes`.
    sends: u64,
}

impl Logs {
    /// Appends `msg` to `key`; its offset.
    fn append(&mut self, key: &str, msg: Value, bugs: Option<Bug>) -> u64 {
        let log = self.logs.entry(key.to_owned()).or_default();
        let offset = log.len() as u64;
        self.sends += 1;
        if bugs == Some(Bug::LoseWrites) && self.sends.is_multiple_of(5) {
            // The offset is taken, the message is not kept: a hole where an acknowledged
            // message should be.
            log.push(Value::Null);
        } else {
            log.push(msg);
        }
        offset
    }

    /// The messages of each key from each asked offset on.
    fn poll(&self, offsets: &Map<String, Value>, bugs: Option<Bug>) -> Map<String, Value> {
        let mut msgs = Map::new();
        for (key, from) in offsets {
            let (Some(log), Some(from)) = (self.logs.get(key), from.as_u64()) else {
                continue;
            };
            let mut pairs: Vec<Value> = log
                .iter()
                .enumerate()
                .skip(from as usize)
                .filter(|(_, m)| !m.is_null())
                .take(POLL_LIMIT)
                .map(|(o, m)| json!([o, m]))
                .collect();
            match bugs {
                Some(Bug::SkipPoll) if pairs.len() > 1 => {
                    pairs.remove(0);
                }
                Some(Bug::NewestFirst) => pairs.reverse(),
                _ => {}
            }
            if !pairs.is_empty() {
                msgs.insert(key.clone(), Value::Array(pairs));
            }
        }
        msgs
    }

    /// Advances each key's committed offset to the asked one if it is higher.
    fn commit(&mut self, offsets: &Map<String, Value>) {
        for (key, offset) in offsets {
            if let Some(offset) = offset.as_u64() {
                let slot = self.committed.entry(key.clone()).or_insert(offset);
                *slot = (*slot).max(offset);
            }
        }
    }

    /// The committed offsets of the keys asked for that have one; under `list-log-end`,
    /// the end of each such key's log instead (the next offset it would give out).
    fn committed(&self, keys: &[Value], bugs: Option<Bug>) -> Map<String, Value> {
        keys.iter()
            .filter_map(|k| {
                let key = k.as_str()?;
                let committed = *self.committed.get(key)?;
                let listed = match bugs {
                    Some(Bug::ListLogEnd) => self.logs.get(key).map_or(0, |l| l.len() as u64),
                    _ => committed,
                };
                Some((key.to_owned(), listed.into()))
            })
            .collect()
    }

    /// Answers one part (`poll`, `commit` or `list`) of a client's request, for keys this
    /// node owns.
    fn part(&mut self, part: &str, args: &Value, bugs: Option<Bug>) -> Result<Value, RpcError> {
        let object = || {
            args.as_object()
                .ok_or_else(|| RpcError::malformed("`offsets` must be an object"))
        };
        Ok(match part {
            "poll" => Value::Object(self.poll(object()?, bugs)),
            "commit" => {
                self.commit(object()?);
                json!({})
            }
            "list" => {
                let keys = args
                    .as_array()
                    .ok_or_else(|| RpcError::malformed("`keys` must be a list"))?;
                Value::Object(self.committed(keys, bugs))
            }
            other => return Err(RpcError::malformed(format!("unknown part `{other}`"))),
        })
    }
}

/// A client's request waiting for the owners' parts.
#[derive(Debug)]
struct Gather {
    client: String,
    msg_id: Value,
    part: &'static str,
    /// What came back so far, merged.
    merged: Map<String, Value>,
    /// Parts still out, by the msg_id of the `kafka_part` asking for them.
    waiting: Vec<u64>,
    deadline: Instant,
}

/// The kafka service.
#[derive(Debug, Default)]
pub struct KafkaService {
    logs: Logs,
    bug: Option<Bug>,
    gathers: Vec<Gather>,
    /// Our `kafka_part` msg_ids, to the gather waiting for them.
    asked: HashMap<u64, usize>,
}

impl KafkaService {
    /// Every node id of the cluster.
    fn ids(ctx: &Context) -> Vec<String> {
        ctx.peers
            .iter()
            .cloned()
            .chain(std::iter::once(ctx.me.to_owned()))
            .collect()
    }

    /// Who owns `key` for a request: the node it hashes to, or the node itself under
    /// `local-offsets`.
    fn owner_of(&self, key: &str, ctx: &Context) -> String {
        if self.bug == Some(Bug::LocalOffsets) {
            ctx.me.to_owned()
        } else {
            owner(key, &Self::ids(ctx))
        }
    }

    /// Splits a multi-key request among the owners, answers the local part at once and
    /// asks the others; replies now when nothing is out.
    fn scatter(&mut self, req: &Envelope, part: &'static str, ctx: &mut Context) -> Answer {
        let (field, reply) = match part {
            "poll" => ("offsets", "poll_ok"),
            "commit" => ("offsets", "commit_offsets_ok"),
            _ => ("keys", "list_committed_offsets_ok"),
        };
        let args = req.field(field)?;
        let mut by_owner: BTreeMap<String, Value> = BTreeMap::new();
        match args {
            Value::Object(map) if field == "offsets" => {
                for (key, offset) in map {
                    let slot = by_owner
                        .entry(self.owner_of(key, ctx))
                        .or_insert_with(|| json!({}));
                    slot[key] = offset.clone();
                }
            }
            Value::Array(keys) if field == "keys" => {
                for key in keys {
                    let name = key
                        .as_str()
                        .ok_or_else(|| RpcError::malformed("`keys` must be strings"))?;
                    let slot = by_owner
                        .entry(self.owner_of(name, ctx))
                        .or_insert_with(|| json!([]));
                    slot.as_array_mut().expect("a list").push(key.clone());
                }
            }
            _ => {
                return Err(RpcError::malformed(format!(
                    "field `{field}` has the wrong type"
                )))
            }
        }
        let mut merged = Map::new();
        let mut waiting = Vec::new();
        for (node, args) in by_owner {
            if node == ctx.me {
                if let Value::Object(got) = self.logs.part(part, &args, self.bug)? {
                    merged.extend(got);
                }
            } else {
                let ask = body("kafka_part", [("part", part.into()), ("args", args)]);
                waiting.push(ctx.out.send(&node, ask));
            }
        }
        let result_field = if part == "poll" { "msgs" } else { "offsets" };
        if waiting.is_empty() {
            return Ok(Some(finish(reply, result_field, part, merged)));
        }
        let index = self.gathers.len();
        for id in &waiting {
            self.asked.insert(*id, index);
        }
        self.gathers.push(Gather {
            client: req.src.clone(),
            msg_id: req.msg_id().cloned().unwrap_or(Value::Null),
            part,
            merged,
            waiting,
            deadline: Instant::now() + PART_TIMEOUT,
        });
        Ok(None)
    }

    /// Answers every gather that is complete or past its deadline, and forgets it.
    fn settle(&mut self, now: Instant, ctx: &mut Context) {
        let mut kept = Vec::new();
        for gather in std::mem::take(&mut self.gathers) {
            let late = now >= gather.deadline;
            if !gather.waiting.is_empty() && !late {
                kept.push(gather);
                continue;
            }
            let answer = match gather.part {
                "commit" if !gather.waiting.is_empty() => RpcError::indefinite(
                    "an owner of some keys did not answer; they may or may not be committed",
                )
                .to_body(),
                "poll" => finish("poll_ok", "msgs", "poll", gather.merged),
                "commit" => finish("commit_offsets_ok", "offsets", "commit", gather.merged),
                _ => finish(
                    "list_committed_offsets_ok",
                    "offsets",
                    "list",
                    gather.merged,
                ),
            };
            ctx.out.reply_to(&gather.client, &gather.msg_id, answer);
        }
        self.gathers = kept;
        self.asked.clear();
        for (index, gather) in self.gathers.iter().enumerate() {
            for id in &gather.waiting {
                self.asked.insert(*id, index);
            }
        }
    }
}

/// A client reply: `poll_ok {msgs}`, `commit_offsets_ok`, `list_committed_offsets_ok
/// {offsets}`.
fn finish(
    reply: &str,
    field: &'static str,
    part: &str,
    merged: Map<String, Value>,
) -> Map<String, Value> {
    if part == "commit" {
        body(reply, [])
    } else {
        body(reply, [(field, Value::Object(merged))])
    }
}

impl Service for KafkaService {
    fn name(&self) -> &'static str {
        "kafka"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's kafka: append-only logs, one owner node per key"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(
            kind,
            "send" | "poll" | "commit_offsets" | "list_committed_offsets" | "kafka_part"
        )
    }

    /// Maelstrom's own workload: served only when pinned (`--workload kafka`).
    fn in_auto(&self) -> bool {
        false
    }

    fn replies(&self) -> &'static [&'static str] {
        &["kafka_part_ok"]
    }

    fn init(&mut self, setup: &Setup, _ctx: &mut Context) {
        *self = KafkaService {
            bug: setup.bug("kafka"),
            ..KafkaService::default()
        };
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        match req.kind() {
            "send" => {
                let key = req.string("key")?;
                let msg = req.field("msg")?.clone();
                let owner = self.owner_of(key, ctx);
                if owner != ctx.me {
                    ctx.out.forward(req, &owner);
                    return Ok(None);
                }
                let offset = self.logs.append(key, msg, self.bug);
                Ok(Some(body("send_ok", [("offset", offset.into())])))
            }
            "poll" => self.scatter(req, "poll", ctx),
            "commit_offsets" => self.scatter(req, "commit", ctx),
            "list_committed_offsets" => self.scatter(req, "list", ctx),
            _ => {
                let part = req.string("part")?.to_owned();
                let got = self.logs.part(&part, req.field("args")?, self.bug)?;
                Ok(Some(body("kafka_part_ok", [("got", got)])))
            }
        }
    }

    fn reply(&mut self, msg: &Envelope, ctx: &mut Context) {
        let Some(id) = msg.body.get("in_reply_to").and_then(Value::as_u64) else {
            return;
        };
        let Some(&index) = self.asked.get(&id) else {
            return;
        };
        let gather = &mut self.gathers[index];
        gather.waiting.retain(|w| *w != id);
        if let Some(Value::Object(got)) = msg.body.get("got") {
            gather.merged.extend(got.clone());
        }
        self.settle(Instant::now(), ctx);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.gathers.iter().map(|g| g.deadline).min()
    }

    fn tick(&mut self, now: Instant, ctx: &mut Context) {
        self.settle(now, ctx);
    }
}
