//! Faults: the nemesis plan's actions, aimed (at the leader eddy last saw, where the plan
//! or the workload asks) and applied to the network and the node processes; the faults in
//! force, by kind; clock offsets; and the leader hint the aiming uses.

use super::{Router, RunEnd};
use crate::history::{EventType, Process};
use crate::sim::nemesis::{Action, Aim, Planned, Shape};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// A fault in force.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fault {
    /// The network cut between these groups of node ids.
    Partition(Vec<Vec<String>>),
    /// Links cut in a shape no split into groups describes (rings, bridges).
    Reach(Shape),
    /// This node stopped.
    Pause(usize),
    /// This node killed.
    Kill(usize),
}

impl Fault {
    /// The fault in words, with node ids `ids`.
    fn words(&self, ids: &[String]) -> String {
        match self {
            Fault::Partition(groups) => format!("partition {groups:?}"),
            Fault::Reach(shape) => format!("partition ({})", shape.name()),
            Fault::Pause(node) => format!("pause {}", ids[*node]),
            Fault::Kill(node) => format!("kill {}", ids[*node]),
        }
    }

    /// True for a cut network.
    fn is_partition(&self) -> bool {
        matches!(self, Fault::Partition(_) | Fault::Reach(_))
    }
}

/// A fault that stops a node until it is undone, for following an aimed fault with its
/// undoing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stop {
    /// A pause, undone by a resume.
    Pause,
    /// A kill, undone by a restart.
    Kill,
}

/// The nemesis's side of the run.
pub(super) struct Faults {
    /// The planned actions, in time order.
    plan: Vec<Planned>,
    /// The faults in force, in the order they began.
    in_force: Vec<Fault>,
    /// Every node's clock offset in force, in ms.
    offsets: Vec<i64>,
    /// Pauses and kills aimed at the leader: the planned node, and the node actually hit
    /// (its resume or restart goes there too).
    aimed_instead: HashMap<(Stop, usize), usize>,
}

impl Faults {
    /// No fault in force yet, `plan` to come, on `nodes` nodes.
    pub(super) fn new(plan: Vec<Planned>, nodes: usize) -> Faults {
        Faults {
            plan,
            in_force: Vec::new(),
            offsets: vec![0; nodes],
            aimed_instead: HashMap::new(),
        }
    }

    /// When each planned action fires, from the start of the running phase.
    pub(super) fn plan_times(&self) -> impl Iterator<Item = Duration> + '_ {
        self.plan.iter().map(|p| p.at)
    }
}

/// Who eddy last saw leading.
#[derive(Debug, Default)]
pub(super) struct Leader {
    /// The node.
    pub(super) hint: Option<usize>,
    /// True once a node sent a message only a leader sends (the driver's certain sign,
    /// Raft's `append_entries`): the hint then follows the wire alone.
    pub(super) on_wire: bool,
}

impl Router<'_> {
    /// The faults in force in words: the nemesis's, then the played peers' own.
    pub(super) fn faults_in_force(&self) -> Vec<String> {
        let ids = self.cluster.ids();
        let mut words: Vec<String> = self.faults.in_force.iter().map(|f| f.words(ids)).collect();
        words.extend(self.played.faults());
        words
    }

    /// True when the nemesis will start a node again: a node it killed is down (its restart
    /// comes by the plan or when the running phase ends), or, while faults are still to
    /// come, a kill is planned after `now` (and its restart with it, which brings back
    /// even a node that had exited by itself).
    pub(super) fn restart_due(&self, now: std::time::Instant) -> bool {
        let killed = self
            .faults
            .in_force
            .iter()
            .any(|f| matches!(f, Fault::Kill(_)));
        let elapsed = now.saturating_duration_since(self.t0);
        let kill_to_come = matches!(self.phase, super::Phase::Init | super::Phase::Running)
            && self
                .faults
                .plan
                .iter()
                .any(|p| p.at > elapsed && matches!(p.action, Action::Kill { .. }));
        killed || kill_to_come
    }

    /// The planned action `i` is due: aimed, then applied where it lands on a real node.
    pub(super) fn nemesis(&mut self, i: usize) -> Option<RunEnd> {
        for action in self.aim(&self.faults.plan[i].clone()) {
            if !self.lands(&action) {
                continue;
            }
            if let Some(error) = self.apply(action) {
                return Some(error);
            }
        }
        None
    }

    /// False for an action on a node eddy plays: it has no process, and makes its own
    /// faults.
    fn lands(&self, action: &Action) -> bool {
        match action {
            Action::Pause { node }
            | Action::Resume { node }
            | Action::Kill { node }
            | Action::Restart { node }
            | Action::Drift { node, .. } => !self.played.is_node(*node),
            Action::Partition { .. } | Action::Reach { .. } | Action::Heal => true,
        }
    }

    /// What heals the faults in force at the end of the running phase: the network, paused
    /// nodes, killed nodes, and every clock offset back to zero.
    pub(super) fn heals(&self) -> Vec<Action> {
        let mut heals = Vec::new();
        if self.faults.in_force.iter().any(Fault::is_partition) {
            heals.push(Action::Heal);
        }
        heals.extend(
            (0..self.cfg.node_count)
                .filter(|&n| self.cluster.is_paused(n))
                .map(|node| Action::Resume { node }),
        );
        let mut killed: Vec<usize> = self
            .faults
            .in_force
            .iter()
            .filter_map(|f| match f {
                Fault::Kill(node) => Some(*node),
                _ => None,
            })
            .collect();
        killed.sort_unstable();
        killed.dedup();
        heals.extend(killed.into_iter().map(|node| Action::Restart { node }));
        heals.extend(
            self.faults
                .offsets
                .iter()
                .enumerate()
                .filter(|(_, o)| **o != 0)
                .map(|(node, _)| Action::Drift { node, offset_ms: 0 }),
        );
        heals
    }

    /// Applies `action` and records it; an error when a killed node cannot start again.
    pub(super) fn apply(&mut self, action: Action) -> Option<RunEnd> {
        let ids = self.cluster.ids().to_vec();
        let begins_a_fault = matches!(
            action,
            Action::Partition { .. }
                | Action::Reach { .. }
                | Action::Pause { .. }
                | Action::Kill { .. }
        );
        if begins_a_fault {
            self.interrupt_probe(action.name());
        }
        // A node that is killed: the requests waiting on it can have no answer now.
        let mut killed = None;
        let (node, body) = match &action {
            Action::Partition { shape, groups } => {
                self.net.partition(groups);
                let named: Vec<Vec<String>> = groups
                    .iter()
                    .map(|g| g.iter().map(|&i| ids[i].clone()).collect())
                    .collect();
                let body = json!({"kind": shape.name(), "groups": named});
                self.faults.in_force.push(Fault::Partition(named));
                (None, body)
            }
            Action::Reach { shape, sees } => {
                self.net.reach(sees);
                let named: serde_json::Map<String, Value> = sees
                    .iter()
                    .enumerate()
                    .map(|(to, view)| {
                        let from: Vec<&str> = view.iter().map(|&i| ids[i].as_str()).collect();
                        (ids[to].clone(), json!(from))
                    })
                    .collect();
                self.faults.in_force.push(Fault::Reach(*shape));
                (None, json!({"kind": shape.name(), "sees": named}))
            }
            Action::Heal => {
                self.net.heal();
                self.faults.in_force.retain(|f| !f.is_partition());
                (None, json!({}))
            }
            Action::Pause { node } => {
                self.cluster.set_paused(*node, true);
                self.faults.in_force.push(Fault::Pause(*node));
                (Some(*node), json!({}))
            }
            Action::Resume { node } => {
                self.cluster.set_paused(*node, false);
                self.faults.in_force.retain(|f| *f != Fault::Pause(*node));
                (Some(*node), json!({}))
            }
            Action::Kill { node } => {
                self.cluster.kill(*node);
                killed = Some(*node);
                self.faults.in_force.push(Fault::Kill(*node));
                (Some(*node), json!({}))
            }
            Action::Restart { node } => {
                self.faults.in_force.retain(|f| *f != Fault::Kill(*node));
                if let Err(error) = self.start_node(*node) {
                    return Some(RunEnd::NodeError(format!(
                        "restarting {}: {error}",
                        ids[*node]
                    )));
                }
                // A fresh process starts from offset 0: put back the offset in force, so
                // that what the history says of its clock stays true.
                if self.faults.offsets[*node] != 0 {
                    let offset_ms = self.faults.offsets[*node];
                    self.simulate_drift(*node, offset_ms);
                }
                (Some(*node), json!({}))
            }
            Action::Drift { node, offset_ms } => {
                let node = *node;
                let step_ms = offset_ms - self.faults.offsets[node];
                self.simulate_drift(node, step_ms);
                self.faults.offsets[node] = *offset_ms;
                let in_force: serde_json::Map<String, Value> = ids
                    .iter()
                    .cloned()
                    .zip(self.faults.offsets.iter().map(|&o| Value::from(o)))
                    .collect();
                (
                    Some(node),
                    json!({"step_ms": step_ms, "offsets_ms": in_force}),
                )
            }
        };
        self.record(
            Process::Named("nemesis".into()),
            node.map(|i| ids[i].clone()),
            EventType::Info,
            action.name(),
            body,
            false,
        );
        if let Some(node) = killed {
            self.release_clients_on(node, "was killed");
        }
        None
    }

    /// Steps node `node`'s clock by `step_ms` (`simulate_drift` from `c0`).
    fn simulate_drift(&mut self, node: usize, step_ms: i64) {
        let msg_id = self.msg_id();
        let line = json!({"src": "c0", "dest": self.cluster.ids()[node], "body": {"type": "simulate_drift", "msg_id": msg_id, "offset_ms": step_ms}});
        self.cluster.send(node, &line.to_string());
    }

    /// For workloads with a leader, every partition puts the node that last sent
    /// `append_entries` on the minority side (swapping it with a minority member): cutting
    /// the leader off is the fault that matters.
    fn aim_at_leader(&self, groups: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let (true, Some(leader), [a, b]) =
            (self.workload.aim_at_leader(), self.leader.hint, groups)
        else {
            return groups.to_vec();
        };
        let (mut minority, mut majority) = if a.len() <= b.len() {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        if let Some(at) = majority.iter().position(|&n| n == leader) {
            majority[at] = minority[0];
            minority[0] = leader;
        }
        minority.sort_unstable();
        majority.sort_unstable();
        vec![minority, majority]
    }

    /// A planned fault as it lands. Faults aimed at the leader hit the leader eddy last saw
    /// (when it is up and running): a `...-leader` partition cuts it off alone, a pause or a
    /// kill stops it (and its resume or restart follows it), and a clock step against the
    /// leader sets its offset to the planned one (minus the bound) and every other node's
    /// to the opposite. For workloads with a leader, the plain partition also puts the
    /// leader on the minority side, and the plain pause and drift step hit the leader:
    /// cutting off, stopping or skewing the leader is the fault that matters. Healing at the
    /// end of the run is never aimed.
    fn aim(&mut self, planned: &Planned) -> Vec<Action> {
        let leader = match planned.aim {
            Aim::Leader => self.leader_up(),
            Aim::AsPlanned => None,
        };
        let action = match planned.action.clone() {
            Action::Partition {
                shape: Shape::Leader,
                groups,
            } => Action::Partition {
                shape: Shape::Leader,
                groups: match leader {
                    Some(l) => vec![
                        vec![l],
                        (0..self.cfg.node_count).filter(|&n| n != l).collect(),
                    ],
                    None => groups,
                },
            },
            Action::Partition {
                shape: Shape::Minority,
                groups,
            } => Action::Partition {
                shape: Shape::Minority,
                groups: self.aim_at_leader(&groups),
            },
            Action::Pause { node } => {
                let aimed = leader.unwrap_or_else(|| self.fault_target(node));
                self.faults.aimed_instead.insert((Stop::Pause, node), aimed);
                Action::Pause { node: aimed }
            }
            Action::Resume { node } => Action::Resume {
                node: self
                    .faults
                    .aimed_instead
                    .remove(&(Stop::Pause, node))
                    .unwrap_or(node),
            },
            Action::Kill { node } => {
                let aimed = leader.unwrap_or(node);
                self.faults.aimed_instead.insert((Stop::Kill, node), aimed);
                Action::Kill { node: aimed }
            }
            Action::Restart { node } => Action::Restart {
                node: self
                    .faults
                    .aimed_instead
                    .remove(&(Stop::Kill, node))
                    .unwrap_or(node),
            },
            Action::Drift { node, offset_ms } if planned.aim == Aim::Leader => {
                let holder = leader.unwrap_or(node);
                return (0..self.cfg.node_count)
                    .map(|n| Action::Drift {
                        node: n,
                        offset_ms: if n == holder { offset_ms } else { -offset_ms },
                    })
                    .collect();
            }
            Action::Drift { node, offset_ms } => Action::Drift {
                node: self.fault_target(node),
                offset_ms,
            },
            other => other,
        };
        vec![action]
    }

    /// The leader eddy last saw, when it is up and not paused.
    fn leader_up(&self) -> Option<usize> {
        self.leader
            .hint
            .filter(|&l| self.cluster.is_up(l) && !self.cluster.is_paused(l))
    }

    /// The node a fault planned for `planned` hits: the leader eddy last saw when the
    /// workload aims at the leader and that node is up and running, else `planned`.
    fn fault_target(&self, planned: usize) -> usize {
        self.leader_up()
            .filter(|_| self.workload.aim_at_leader())
            .unwrap_or(planned)
    }
}
