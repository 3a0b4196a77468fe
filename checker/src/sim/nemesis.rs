//! The nemesis: a schedule of faults drawn from its own random stream before the run
//! starts, so the same seed always brings the same faults at the same moments.
//!
//! Every `interval` the nemesis either heals the fault in force or starts a new one, so
//! faults and calm alternate. Drift runs on its own schedule, half an interval out of step
//! with the others, because clocks do not wait for the network to heal: a step may land
//! while a node is cut off or stopped. It is a single step and needs no healing; every
//! node's total offset stays within the bound, so a step is at most twice the bound.

use rand::seq::SliceRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A kind of fault (`--nemesis`). Faults named `...-leader` are aimed where the plan
/// fires: at the node eddy last saw leading (sending `append_entries`, or answering a write,
/// a cas or an `acquire_lease` with ok), or at a node drawn in advance while none is known.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Cut the network: one node alone, or a minority from a majority (for workloads with a
    /// leader, the leader on the minority side).
    Partition,
    /// Cut the network into two random halves (Jepsen's random halves).
    PartitionHalves,
    /// Majorities ring: every node sees a majority, no two nodes the same one (Jepsen's
    /// majorities ring); on 3 nodes, a bridge.
    PartitionRing,
    /// Two halves joined by one node that sees both (Jepsen's bridge).
    PartitionBridge,
    /// Cut the leader off from every other node.
    PartitionLeader,
    /// Stop one node (SIGSTOP), later continue it (SIGCONT); the leader, for workloads with
    /// a leader.
    Pause,
    /// Stop the leader, later continue it.
    PauseLeader,
    /// Kill one node, a majority or every node at once (SIGKILL), later start them again
    /// with the same ids.
    Kill,
    /// Kill the leader, later start it again.
    KillLeader,
    /// Kill a majority of the nodes at once, later start them again.
    KillMajority,
    /// Step one node's clock with `simulate_drift`.
    Drift,
    /// Step clocks against the current lease holder (the leader) while it holds: its clock
    /// back to minus the bound, every other node's forward to the bound.
    DriftLeader,
}

impl FaultKind {
    /// The name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::PartitionHalves => "partition-halves",
            FaultKind::PartitionRing => "partition-ring",
            FaultKind::PartitionBridge => "partition-bridge",
            FaultKind::PartitionLeader => "partition-leader",
            FaultKind::Pause => "pause",
            FaultKind::PauseLeader => "pause-leader",
            FaultKind::Kill => "kill",
            FaultKind::KillLeader => "kill-leader",
            FaultKind::KillMajority => "kill-majority",
            FaultKind::Drift => "drift",
            FaultKind::DriftLeader => "drift-leader",
        }
    }

    /// True for clock steps, which run on their own schedule and need no healing.
    fn is_drift(self) -> bool {
        matches!(self, FaultKind::Drift | FaultKind::DriftLeader)
    }
}

/// How a partition divides the nodes, as recorded in the history (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// One node alone, or a minority from a majority.
    Minority,
    /// Two random halves.
    Halves,
    /// A majorities ring.
    Ring,
    /// Two halves joined by one node.
    Bridge,
    /// The leader alone.
    Leader,
}

impl Shape {
    /// The name recorded in the history.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Minority => "minority",
            Shape::Halves => "halves",
            Shape::Ring => "ring",
            Shape::Bridge => "bridge",
            Shape::Leader => "leader",
        }
    }
}

/// One thing the nemesis does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "kebab-case")]
pub enum Action {
    /// Cut every link between these groups of node indexes.
    Partition {
        /// How the groups were drawn.
        shape: Shape,
        /// The sides.
        groups: Vec<Vec<usize>>,
    },
    /// Cut every link except these: node `i` hears only from the nodes in `sees[i]`
    /// (itself included). Rings and bridges, which no split into groups describes.
    Reach {
        /// How the views were drawn.
        shape: Shape,
        /// For every node, the nodes whose messages reach it.
        sees: Vec<Vec<usize>>,
    },
    /// Restore every link.
    Heal,
    /// Stop a node.
    Pause {
        /// Node index.
        node: usize,
    },
    /// Continue a stopped node.
    Resume {
        /// Node index.
        node: usize,
    },
    /// Kill a node.
    Kill {
        /// Node index.
        node: usize,
    },
    /// Start a killed node again.
    Restart {
        /// Node index.
        node: usize,
    },
    /// Set a node's total clock offset to `offset_ms`, with one step from the offset in
    /// force (the router knows it, and may put the offset on another node).
    Drift {
        /// Node index.
        node: usize,
        /// The new total offset, in ms, within the bound.
        offset_ms: i64,
    },
}

impl Action {
    /// The action's name as recorded in the history (`f`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Partition { .. } | Action::Reach { .. } => "partition",
            Action::Heal => "heal",
            Action::Pause { .. } => "pause",
            Action::Resume { .. } => "resume",
            Action::Kill { .. } => "kill",
            Action::Restart { .. } => "restart",
            Action::Drift { .. } => "drift",
        }
    }

    /// The action that undoes this one, if it needs undoing.
    fn undo(&self) -> Option<Action> {
        match *self {
            Action::Partition { .. } | Action::Reach { .. } => Some(Action::Heal),
            Action::Pause { node } => Some(Action::Resume { node }),
            Action::Kill { node } => Some(Action::Restart { node }),
            _ => None,
        }
    }
}

/// Whom a planned action hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aim {
    /// The nodes drawn in advance (for workloads with a leader, partitions, pauses and
    /// drift steps still land on the leader: see the router).
    AsPlanned,
    /// The leader (or lease holder) eddy last saw, when one is known and up; the nodes
    /// drawn in advance otherwise.
    Leader,
}

/// An action at a moment of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// When, from the start of the run.
    pub at: Duration,
    /// What.
    pub action: Action,
    /// Whom it hits.
    pub aim: Aim,
}

/// The nemesis's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NemesisConfig {
    /// Faults to draw from; empty means no nemesis.
    pub kinds: Vec<FaultKind>,
    /// Time between nemesis actions.
    pub interval: Duration,
    /// Bound on every node's total clock offset, in ms.
    pub max_drift_ms: i64,
}

/// Plans the faults of a run of `duration` over `nodes` nodes. The returned plan ends with
/// everything healed; clock offsets are stepped back by the router when the running phase
/// ends (it may end early).
pub fn plan(
    config: &NemesisConfig,
    nodes: usize,
    duration: Duration,
    rng: &mut ChaCha8Rng,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    if config.kinds.is_empty() || config.interval.is_zero() || nodes == 0 {
        return planned;
    }
    let (drifts, others): (Vec<FaultKind>, Vec<FaultKind>) =
        config.kinds.iter().partition(|k| k.is_drift());
    if !drifts.is_empty() {
        let mut at = config.interval / 2;
        while at < duration {
            let kind = pick(&drifts, rng);
            let node = rng.random_range(0..nodes);
            let bound = config.max_drift_ms.max(0);
            let (offset_ms, aim) = if kind == FaultKind::DriftLeader {
                (-bound, Aim::Leader)
            } else {
                (rng.random_range(-bound..=bound), Aim::AsPlanned)
            };
            planned.push(Planned {
                at,
                action: Action::Drift { node, offset_ms },
                aim,
            });
            at += config.interval;
        }
    }
    let mut active: Vec<Action> = Vec::new();
    let mut at = config.interval;
    while at < duration && !others.is_empty() {
        if active.is_empty() {
            let (fault, aim) = draw(&others, nodes, rng);
            active = fault
                .iter()
                .filter(|a| a.undo().is_some())
                .cloned()
                .collect();
            planned.extend(fault.into_iter().map(|action| Planned { at, action, aim }));
        } else {
            planned.extend(
                std::mem::take(&mut active)
                    .iter()
                    .filter_map(Action::undo)
                    .map(|action| Planned {
                        at,
                        action,
                        aim: Aim::AsPlanned,
                    }),
            );
        }
        at += config.interval;
    }
    planned.extend(
        active
            .iter()
            .filter_map(Action::undo)
            .map(|action| Planned {
                at: duration,
                action,
                aim: Aim::AsPlanned,
            }),
    );
    planned.sort_by_key(|p| p.at);
    planned
}

/// One of `kinds`, drawing from the stream only when there is a choice (so that a plan of
/// one kind stays what it was before other kinds existed).
fn pick(kinds: &[FaultKind], rng: &mut ChaCha8Rng) -> FaultKind {
    if kinds.len() == 1 {
        kinds[0]
    } else {
        kinds[rng.random_range(0..kinds.len())]
    }
}

/// Draws one fault: usually one action, but half the kills take down a majority or the
/// whole cluster at once (which is what finds nodes that do not persist what they
/// promised).
fn draw(kinds: &[FaultKind], nodes: usize, rng: &mut ChaCha8Rng) -> (Vec<Action>, Aim) {
    let kind = kinds[rng.random_range(0..kinds.len())];
    let node = rng.random_range(0..nodes);
    let mut order: Vec<usize> = (0..nodes).collect();
    let one = |action: Action, aim: Aim| (vec![action], aim);
    match kind {
        FaultKind::Partition => {
            order.shuffle(rng);
            let minority = if nodes <= 2 || rng.random_bool(0.5) {
                1
            } else {
                (nodes - 1) / 2
            };
            one(split(Shape::Minority, &order, minority), Aim::AsPlanned)
        }
        FaultKind::PartitionHalves => {
            order.shuffle(rng);
            one(split(Shape::Halves, &order, nodes / 2), Aim::AsPlanned)
        }
        FaultKind::PartitionRing => {
            order.shuffle(rng);
            let action = match ring(&order) {
                Some(sees) => Action::Reach {
                    shape: Shape::Ring,
                    sees,
                },
                None => Action::Reach {
                    shape: Shape::Bridge,
                    sees: bridge(&order),
                },
            };
            one(action, Aim::AsPlanned)
        }
        FaultKind::PartitionBridge => {
            order.shuffle(rng);
            let sees = bridge(&order);
            one(
                Action::Reach {
                    shape: Shape::Bridge,
                    sees,
                },
                Aim::AsPlanned,
            )
        }
        FaultKind::PartitionLeader => {
            order.retain(|&n| n != node);
            order.insert(0, node);
            one(split(Shape::Leader, &order, 1), Aim::Leader)
        }
        FaultKind::Pause => one(Action::Pause { node }, Aim::AsPlanned),
        FaultKind::PauseLeader => one(Action::Pause { node }, Aim::Leader),
        FaultKind::Kill if nodes >= 3 && rng.random_bool(0.5) => {
            order.shuffle(rng);
            if rng.random_bool(0.5) {
                order.truncate(nodes / 2 + 1);
            }
            (kills(order), Aim::AsPlanned)
        }
        FaultKind::Kill => one(Action::Kill { node }, Aim::AsPlanned),
        FaultKind::KillLeader => one(Action::Kill { node }, Aim::Leader),
        FaultKind::KillMajority => {
            order.shuffle(rng);
            order.truncate(nodes / 2 + 1);
            (kills(order), Aim::AsPlanned)
        }
        FaultKind::Drift | FaultKind::DriftLeader => unreachable!("drift runs on its own schedule"),
    }
}

/// Kills of these nodes, in index order.
fn kills(mut nodes: Vec<usize>) -> Vec<Action> {
    nodes.sort_unstable();
    nodes
        .into_iter()
        .map(|node| Action::Kill { node })
        .collect()
}

/// A partition of `order` into its first `first` nodes and the rest.
fn split(shape: Shape, order: &[usize], first: usize) -> Action {
    let (a, b) = order.split_at(first.min(order.len()));
    let mut groups = vec![a.to_vec(), b.to_vec()];
    groups.iter_mut().for_each(|g| g.sort_unstable());
    Action::Partition { shape, groups }
}

/// A majorities ring over the nodes in `order` (positions in a circle): every node hears
/// from the nodes within `d` places of it, `2d + 1` of them, at least a majority and fewer
/// than all, so that no two see the same majority. None when no such `d` exists (fewer than
/// 4 nodes).
fn ring(order: &[usize]) -> Option<Vec<Vec<usize>>> {
    let n = order.len();
    let d = (n / 2).div_ceil(2);
    if 2 * d + 1 >= n {
        return None;
    }
    let mut sees = vec![Vec::new(); n];
    for (p, &node) in order.iter().enumerate() {
        let mut view: Vec<usize> = (0..=2 * d).map(|k| order[(p + n + k - d) % n]).collect();
        view.sort_unstable();
        sees[node] = view;
    }
    Some(sees)
}

/// A bridge over the nodes in `order`: the first half and the second half cannot reach
/// each other, and the node between them hears from (and reaches) both.
fn bridge(order: &[usize]) -> Vec<Vec<usize>> {
    let n = order.len();
    let middle = n.saturating_sub(1) / 2;
    let mut sees = vec![Vec::new(); n];
    for (p, &node) in order.iter().enumerate() {
        let mut view: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|&(q, _)| p == middle || q == middle || (p < middle) == (q < middle))
            .map(|(_, &other)| other)
            .collect();
        view.sort_unstable();
        sees[node] = view;
    }
    sees
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn config(kinds: Vec<FaultKind>) -> NemesisConfig {
        NemesisConfig {
            kinds,
            interval: Duration::from_secs(1),
            max_drift_ms: 500,
        }
    }

    #[test]
    fn faults_alternate_with_healing_and_end_healed() {
        let all = vec![
            FaultKind::Partition,
            FaultKind::Pause,
            FaultKind::Kill,
            FaultKind::Drift,
        ];
        let plan = plan(
            &config(all),
            5,
            Duration::from_secs(30),
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        let (drifts, plan): (Vec<Planned>, Vec<Planned>) = plan
            .into_iter()
            .partition(|p| matches!(p.action, Action::Drift { .. }));
        assert!(
            drifts.iter().all(|d| d.at.as_millis() % 1000 == 500),
            "drift keeps its own schedule, between the other faults"
        );
        assert_eq!(drifts.len(), 30);
        let mut open: Vec<&Action> = Vec::new();
        let mut majority_kills = 0;
        for moment in plan.chunk_by(|a, b| a.at == b.at) {
            let undoes: Vec<Action> = open.iter().filter_map(|a| a.undo()).collect();
            if !open.is_empty() {
                let done: Vec<Action> = moment.iter().map(|p| p.action.clone()).collect();
                assert_eq!(done, undoes, "a moment after a fault heals exactly it");
                open.clear();
                continue;
            }
            let kills = moment
                .iter()
                .filter(|p| matches!(p.action, Action::Kill { .. }))
                .count();
            assert!(moment.len() == 1 || kills == moment.len(), "{moment:?}");
            majority_kills += usize::from(kills >= 3);
            open.extend(
                moment
                    .iter()
                    .map(|p| &p.action)
                    .filter(|a| a.undo().is_some()),
            );
        }
        assert!(majority_kills > 0, "some kills take down a majority");
        assert!(open.is_empty(), "the plan ends healed");
        assert!(plan
            .iter()
            .any(|p| matches!(p.action, Action::Partition { .. })));
    }

    #[test]
    fn drift_stays_within_the_bound() {
        let plan = plan(
            &config(vec![FaultKind::Drift]),
            3,
            Duration::from_secs(40),
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        assert!(!plan.is_empty());
        for p in &plan {
            let Action::Drift { offset_ms, .. } = p.action else {
                panic!("only drift")
            };
            assert!(offset_ms.abs() <= 500);
        }
    }

    #[test]
    fn the_same_seed_plans_the_same_faults() {
        let kinds = vec![FaultKind::Partition, FaultKind::Kill];
        let a = plan(
            &config(kinds.clone()),
            5,
            Duration::from_secs(20),
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        let b = plan(
            &config(kinds),
            5,
            Duration::from_secs(20),
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn a_ring_gives_every_node_its_own_majority() {
        for nodes in 4..=9 {
            let mut order: Vec<usize> = (0..nodes).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(nodes as u64));
            let sees = ring(&order).expect("4 nodes or more make a ring");
            let majority = nodes / 2 + 1;
            for (node, view) in sees.iter().enumerate() {
                assert!(view.contains(&node), "{nodes} nodes: {node} hears itself");
                assert!(view.len() >= majority && view.len() < nodes, "{sees:?}");
                for &other in view {
                    assert!(sees[other].contains(&node), "links are cut both ways");
                }
            }
            let distinct: std::collections::BTreeSet<&Vec<usize>> = sees.iter().collect();
            assert_eq!(distinct.len(), nodes, "no two nodes see the same majority");
        }
        assert_eq!(ring(&[0, 1, 2]), None, "3 nodes have no ring");
    }

    #[test]
    fn a_bridge_joins_two_halves_through_one_node() {
        let sees = bridge(&[3, 1, 4, 0, 2]);
        assert_eq!(sees[4], vec![0, 1, 2, 3, 4], "the middle node sees all");
        assert_eq!(sees[3], vec![1, 3, 4]);
        assert_eq!(sees[0], vec![0, 2, 4]);
        assert_eq!(bridge(&[2, 0, 1])[0], vec![0, 1, 2]);
        assert_eq!(bridge(&[2, 0, 1])[2], vec![0, 2]);
    }

    #[test]
    fn leader_faults_are_planned_for_aiming_and_healed() {
        let kinds = vec![
            FaultKind::PartitionLeader,
            FaultKind::PauseLeader,
            FaultKind::KillLeader,
            FaultKind::KillMajority,
            FaultKind::PartitionHalves,
            FaultKind::PartitionRing,
            FaultKind::PartitionBridge,
            FaultKind::DriftLeader,
        ];
        let plan = plan(
            &config(kinds),
            5,
            Duration::from_secs(60),
            &mut ChaCha8Rng::seed_from_u64(5),
        );
        let mut seen = std::collections::BTreeSet::new();
        for p in &plan {
            let what = match &p.action {
                Action::Partition { shape, groups } => {
                    if *shape == Shape::Leader {
                        assert_eq!(groups[0].len(), 1);
                        assert_eq!(p.aim, Aim::Leader);
                    }
                    shape.name()
                }
                Action::Reach { shape, .. } => shape.name(),
                Action::Pause { .. } => {
                    assert_eq!(p.aim, Aim::Leader);
                    "pause"
                }
                Action::Kill { .. } => "kill",
                Action::Drift { offset_ms, .. } => {
                    assert_eq!((p.aim, *offset_ms), (Aim::Leader, -500));
                    "drift"
                }
                _ => continue,
            };
            seen.insert(what);
        }
        for shape in [
            "leader", "halves", "ring", "bridge", "pause", "kill", "drift",
        ] {
            assert!(seen.contains(shape), "{shape} in {seen:?}");
        }
        let majority_kills = plan
            .chunk_by(|a, b| a.at == b.at)
            .filter(|m| {
                m.iter()
                    .filter(|p| matches!(p.action, Action::Kill { .. }))
                    .count()
                    == 3
            })
            .count();
        assert!(majority_kills > 0);
        let opened = plan.iter().filter(|p| p.action.undo().is_some()).count();
        let closed = plan
            .iter()
            .filter(|p| {
                matches!(
                    p.action,
                    Action::Heal | Action::Resume { .. } | Action::Restart { .. }
                )
            })
            .count();
        let partitions_and_heals = plan
            .iter()
            .filter(|p| matches!(p.action, Action::Partition { .. } | Action::Reach { .. }))
            .count();
        assert_eq!(opened, closed, "every fault is undone");
        assert!(partitions_and_heals > 0);
    }
}
