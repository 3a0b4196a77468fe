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

/// A kind of fault.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Cut the network: one node alone, or a minority from a majority.
    Partition,
    /// Stop one node (SIGSTOP), later continue it (SIGCONT).
    Pause,
    /// Kill one node, a majority or every node at once (SIGKILL), later start them again
    /// with the same ids.
    Kill,
    /// Step one node's clock with `simulate_drift`.
    Drift,
}

/// One thing the nemesis does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "kebab-case")]
pub enum Action {
    /// Cut every link between these groups of node indexes.
    Partition {
        /// The sides.
        groups: Vec<Vec<usize>>,
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
            Action::Partition { .. } => "partition",
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
            Action::Partition { .. } => Some(Action::Heal),
            Action::Pause { node } => Some(Action::Resume { node }),
            Action::Kill { node } => Some(Action::Restart { node }),
            _ => None,
        }
    }
}

/// An action at a moment of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// When, from the start of the run.
    pub at: Duration,
    /// What.
    pub action: Action,
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
    let others: Vec<FaultKind> = config
        .kinds
        .iter()
        .copied()
        .filter(|k| *k != FaultKind::Drift)
        .collect();
    if others.len() < config.kinds.len() {
        let mut at = config.interval / 2;
        while at < duration {
            let node = rng.random_range(0..nodes);
            let bound = config.max_drift_ms.max(0);
            let offset_ms = rng.random_range(-bound..=bound);
            planned.push(Planned {
                at,
                action: Action::Drift { node, offset_ms },
            });
            at += config.interval;
        }
    }
    let mut active: Vec<Action> = Vec::new();
    let mut at = config.interval;
    while at < duration && !others.is_empty() {
        let actions = if active.is_empty() {
            let fault = draw(&others, nodes, rng);
            active = fault
                .iter()
                .filter(|a| a.undo().is_some())
                .cloned()
                .collect();
            fault
        } else {
            std::mem::take(&mut active)
                .iter()
                .filter_map(Action::undo)
                .collect()
        };
        planned.extend(actions.into_iter().map(|action| Planned { at, action }));
        at += config.interval;
    }
    planned.extend(
        active
            .iter()
            .filter_map(Action::undo)
            .map(|action| Planned {
                at: duration,
                action,
            }),
    );
    planned.sort_by_key(|p| p.at);
    planned
}

/// Draws one fault: usually one action, but half the kills take down a majority or the
/// whole cluster at once (which is what finds nodes that do not persist what they
/// promised).
fn draw(kinds: &[FaultKind], nodes: usize, rng: &mut ChaCha8Rng) -> Vec<Action> {
    let kind = kinds[rng.random_range(0..kinds.len())];
    let node = rng.random_range(0..nodes);
    match kind {
        FaultKind::Partition => {
            let mut order: Vec<usize> = (0..nodes).collect();
            order.shuffle(rng);
            let minority = if nodes <= 2 || rng.random_bool(0.5) {
                1
            } else {
                (nodes - 1) / 2
            };
            let (small, large) = order.split_at(minority);
            let mut groups = vec![small.to_vec(), large.to_vec()];
            groups.iter_mut().for_each(|g| g.sort_unstable());
            vec![Action::Partition { groups }]
        }
        FaultKind::Pause => vec![Action::Pause { node }],
        FaultKind::Kill if nodes >= 3 && rng.random_bool(0.5) => {
            let mut order: Vec<usize> = (0..nodes).collect();
            order.shuffle(rng);
            if rng.random_bool(0.5) {
                order.truncate(nodes / 2 + 1);
            }
            order.sort_unstable();
            order
                .into_iter()
                .map(|node| Action::Kill { node })
                .collect()
        }
        FaultKind::Kill => vec![Action::Kill { node }],
        FaultKind::Drift => unreachable!("drift runs on its own schedule"),
    }
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
}
