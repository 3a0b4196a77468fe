//! The network model: per-message latency from a chosen distribution, loss, and partitions
//! as a table of cut links. Owned by the router thread.
//!
//! Every directed link has its own random stream, and every message on it draws the same
//! two numbers (loss, latency) whether or not it is delivered, so the k-th message on a
//! link meets the same fate in every run with the same seed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// How per-message latency is drawn around the mean.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyDist {
    /// Always the mean.
    Constant,
    /// Uniform between 0 and twice the mean.
    Uniform,
    /// Exponential with the given mean (long tail: messages reorder).
    Exponential,
}

/// The network's settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkConfig {
    /// Mean one-way latency in milliseconds.
    pub latency_ms: f64,
    /// Its distribution.
    pub dist: LatencyDist,
    /// Probability that a message is lost.
    pub loss: f64,
}

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fate {
    /// Delivered after this delay.
    Deliver(Duration),
    /// Dropped, for this reason.
    Drop(&'static str),
}

/// Links, their random streams, and which are cut.
#[derive(Debug)]
pub struct Network {
    config: NetworkConfig,
    seed: u64,
    links: HashMap<(usize, usize), ChaCha8Rng>,
    cut: BTreeSet<(usize, usize)>,
}

impl Network {
    /// A fully connected network.
    pub fn new(config: NetworkConfig, seed: u64) -> Network {
        Network {
            config,
            seed,
            links: HashMap::new(),
            cut: BTreeSet::new(),
        }
    }

    /// Decides the fate of the next message from node `from` to node `to`.
    pub fn fate(&mut self, from: usize, to: usize) -> Fate {
        let seed = self.seed;
        let rng = self.links.entry((from, to)).or_insert_with(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(((from as u64) << 32) | to as u64);
            rng
        });
        let lost = rng.random::<f64>() < self.config.loss;
        let u: f64 = rng.random();
        if self.is_cut(from, to) {
            return Fate::Drop("partition");
        }
        if lost {
            return Fate::Drop("loss");
        }
        let mean = self.config.latency_ms.max(0.0);
        let ms = match self.config.dist {
            LatencyDist::Constant => mean,
            LatencyDist::Uniform => 2.0 * mean * u,
            LatencyDist::Exponential => -mean * (1.0 - u).ln(),
        };
        Fate::Deliver(Duration::from_secs_f64(ms / 1000.0))
    }

    /// True when messages from `from` to `to` are dropped by a partition.
    pub fn is_cut(&self, from: usize, to: usize) -> bool {
        self.cut.contains(&(from, to))
    }

    /// Cuts every link between different groups, both ways.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        for (i, a) in groups.iter().enumerate() {
            for b in groups.iter().skip(i + 1) {
                for &x in a {
                    for &y in b {
                        self.cut.insert((x, y));
                        self.cut.insert((y, x));
                    }
                }
            }
        }
    }

    /// Cuts every link into node `to` from a node not in `sees[to]`.
    pub fn reach(&mut self, sees: &[Vec<usize>]) {
        for (to, view) in sees.iter().enumerate() {
            for from in (0..sees.len()).filter(|from| !view.contains(from)) {
                self.cut.insert((from, to));
            }
        }
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.cut.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dist: LatencyDist, loss: f64) -> NetworkConfig {
        NetworkConfig {
            latency_ms: 10.0,
            dist,
            loss,
        }
    }

    #[test]
    fn fates_repeat_per_link_whatever_else_happens() {
        let mut a = Network::new(config(LatencyDist::Exponential, 0.2), 5);
        let mut b = Network::new(config(LatencyDist::Exponential, 0.2), 5);
        let first: Vec<Fate> = (0..50).map(|_| a.fate(0, 1)).collect();
        // Traffic on other links and a partition in between do not shift link 0->1's draws.
        b.fate(2, 1);
        b.partition(&[vec![0], vec![1, 2]]);
        assert_eq!(b.fate(0, 1), Fate::Drop("partition"));
        b.heal();
        let second: Vec<Fate> = (1..50).map(|_| b.fate(0, 1)).collect();
        assert_eq!(first[1..], second[..]);
        assert!(first.contains(&Fate::Drop("loss")));
        assert!(first
            .iter()
            .any(|f| matches!(f, Fate::Deliver(d) if *d > Duration::from_millis(10))));
    }

    #[test]
    fn reach_cuts_only_what_a_node_does_not_see() {
        let mut net = Network::new(config(LatencyDist::Constant, 0.0), 1);
        // n1 hears from n2 only, n2 from everyone, n3 from n2 only: a bridge.
        net.reach(&[vec![0, 1], vec![0, 1, 2], vec![1, 2]]);
        assert!(net.is_cut(2, 0) && net.is_cut(0, 2));
        assert!(!net.is_cut(1, 0) && !net.is_cut(0, 1) && !net.is_cut(2, 1));
        net.heal();
        assert!(!net.is_cut(2, 0));
    }

    #[test]
    fn partitions_cut_only_across_groups() {
        let mut net = Network::new(config(LatencyDist::Constant, 0.0), 1);
        net.partition(&[vec![0, 1], vec![2]]);
        assert_eq!(net.fate(0, 1), Fate::Deliver(Duration::from_millis(10)));
        assert_eq!(net.fate(2, 0), Fate::Drop("partition"));
        assert_eq!(net.fate(1, 2), Fate::Drop("partition"));
        net.heal();
        assert!(matches!(net.fate(1, 2), Fate::Deliver(_)));
    }
}
