//! Simulated clusters (`eddy test`): node processes behind a network the harness controls,
//! clients driven by a workload, a nemesis injecting faults, and a complete record.

pub mod cluster;
pub mod driver;
pub mod lag;
pub mod nemesis;
pub mod network;
pub mod probe;
pub mod router;
pub mod services;

use crate::contract::Contract;
use crate::process::NodeCommand;
use nemesis::{FaultKind, NemesisConfig};
use network::NetworkConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything that defines a simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    /// The workload's name.
    pub workload: &'static str,
    /// The workload's settings.
    pub workload_options: WorkloadOptions,
    /// The node's command line.
    #[serde(serialize_with = "serialize_command")]
    pub command: NodeCommand,
    /// Nodes in the cluster.
    pub node_count: usize,
    /// The number of the first node's id: 1 for the seed workloads (`n1`, `n2`, ...), 0 for
    /// Maelstrom's own workloads (`n0`, `n1`, ...), as each one's origin numbers them.
    pub first_node: usize,
    /// How long clients run operations, after every node answered `init`.
    pub time_limit: Duration,
    /// Operations per second, over all clients.
    pub rate: f64,
    /// Clients, each with at most one request in flight.
    pub concurrency: usize,
    /// Latency, loss.
    pub network: NetworkConfig,
    /// Faults.
    pub nemesis: NemesisConfig,
    /// The seed of every random choice.
    pub seed: u64,
    /// Where run folders go.
    pub store_root: PathBuf,
    /// How long a client waits for a reply before the operation completes as `info`.
    pub request_timeout: Duration,
    /// How long every node has to answer `init`.
    pub init_timeout: Duration,
    /// Echo every node's stderr to eddy's own (`--log-stderr`).
    pub log_stderr: bool,
}

fn serialize_command<S: serde::Serializer>(command: &NodeCommand, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&command.display())
}

impl SimConfig {
    /// The run's node ids, in order (`n1`.. or `n0`.., see [`SimConfig::first_node`]).
    pub fn node_ids(&self) -> Vec<String> {
        (self.first_node..self.first_node + self.node_count)
            .map(|i| format!("n{i}"))
            .collect()
    }

    /// The `eddy test` command line that runs the same schedule again, to be pasted into a
    /// shell; `own` are the workload's own flags. It names `--store` when the run's is not
    /// the default, and is `(cd 'DIR' && eddy test ...)` (eddy's working directory, in a
    /// subshell so that pasting it leaves the shell where it was) when a word of `--bin` or
    /// the store is a relative path, which would mean something else elsewhere (see
    /// [`relative_paths`]).
    pub fn reproduce(&self, bin: Option<&str>, own: Vec<String>) -> String {
        let mut words = vec![
            "eddy".to_owned(),
            "test".into(),
            "-w".into(),
            self.workload.into(),
        ];
        if let Some(bin) = bin {
            words.extend(["--bin".into(), bin.to_owned()]);
        }
        if self.store_root != Path::new(DEFAULT_STORE) {
            words.extend(["--store".into(), self.store_root.display().to_string()]);
        }
        let nemesis: Vec<&str> = self.nemesis.kinds.iter().map(|k| k.name()).collect();
        words.extend([
            "--node-count".into(),
            self.node_count.to_string(),
            "--time-limit".into(),
            self.time_limit.as_secs_f64().to_string(),
            "--rate".into(),
            self.rate.to_string(),
            "--concurrency".into(),
            self.concurrency.to_string(),
            "--latency".into(),
            self.network.latency_ms.to_string(),
            "--latency-dist".into(),
            format!("{:?}", self.network.dist).to_lowercase(),
            "--loss".into(),
            self.network.loss.to_string(),
            "--timeout".into(),
            self.request_timeout.as_secs_f64().to_string(),
            "--contract".into(),
            self.workload_options.contract.name().into(),
        ]);
        if nemesis.is_empty() {
            words.extend(["--nemesis".into(), "none".into()]);
        } else {
            words.extend([
                "--nemesis".into(),
                nemesis.join(","),
                "--nemesis-interval".into(),
                self.nemesis.interval.as_secs_f64().to_string(),
                "--max-drift-ms".into(),
                self.nemesis.max_drift_ms.to_string(),
            ]);
        }
        if self.workload_options.availability > 0.0 {
            words.extend([
                "--availability".into(),
                self.workload_options.availability.to_string(),
            ]);
        }
        words.extend(own);
        if let Some(sandbox) = &self.command.sandbox {
            words.extend(sandbox.flags());
        }
        words.extend(["--seed".into(), self.seed.to_string()]);
        let command = shell_words::join(words);
        match std::env::current_dir() {
            Ok(dir) if relative_paths(bin, &self.store_root, &dir) => {
                format!(
                    "(cd {} && {command})",
                    shell_words::quote(&dir.display().to_string())
                )
            }
            _ => command,
        }
    }
}

/// The store folder `eddy test` writes into when `--store` is not given.
pub const DEFAULT_STORE: &str = "store";

/// Endings of the files a node's command line names for an interpreter to run
/// (`python3 main.py`, `node index.js`, `java -jar node.jar`).
const SCRIPT_ENDINGS: [&str; 12] = [
    ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".sh", ".pl", ".php", ".lua", ".jar", ".exs",
];

/// True when the run's meaning depends on the working directory `dir`: the store is a
/// relative path other than the default (a reproduced run with the default store goes to
/// `store/` wherever it runs, which changes nothing of its schedule), or a word of the
/// node's command line is a relative path. Only words that look like paths count: one
/// with a `/` that does not start with one (`./node`, `build/node`), or the program word
/// or a script (`main.py`, see [`SCRIPT_ENDINGS`]) that names a file in `dir` (`python3
/// main.py`). Any other word is an argument, even when a file of its name happens to be in
/// `dir` (`/usr/bin/eddy node` run where a `node` folder is).
pub fn relative_paths(bin: Option<&str>, store: &Path, dir: &Path) -> bool {
    let store_relative = store.is_relative() && store != Path::new(DEFAULT_STORE);
    let words = bin
        .and_then(|line| shell_words::split(line).ok())
        .unwrap_or_default();
    let bin_relative = words.iter().enumerate().any(|(i, word)| {
        let looks_like_a_file = i == 0 || SCRIPT_ENDINGS.iter().any(|e| word.ends_with(e));
        !word.starts_with('/')
            && (word.contains('/')
                || (looks_like_a_file && !word.starts_with('-') && dir.join(word).exists()))
    });
    store_relative || bin_relative
}

/// The settings of a run's workload, stored with the run so `eddy check` judges it the
/// same way: those every workload has, and the workload's own (its folder's `Options`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadOptions {
    /// The workload's own options, as an object its folder reads.
    #[serde(flatten)]
    pub own: serde_json::Map<String, serde_json::Value>,
    /// The share of client operations that must succeed (`--availability`; 0 asks only
    /// that every kind succeed at least once).
    #[serde(default)]
    pub availability: f64,
    /// The contract the node is judged under (which requests eddy sends and which checks
    /// demand the seeds' formats).
    #[serde(default)]
    pub contract: Contract,
}

/// What `eddy test` does when a flag is not given: a workload's run shape and fault mix
/// under one contract (each workload's `defaults`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunDefaults {
    /// Nodes in the cluster (`--node-count`).
    pub node_count: usize,
    /// Seconds of client operations (`--time-limit`).
    pub time_limit: f64,
    /// Operations per second over all clients (`--rate`).
    pub rate: f64,
    /// Mean one-way latency between nodes, in ms (`--latency`).
    pub latency_ms: f64,
    /// Faults (`--nemesis`).
    pub faults: Vec<FaultKind>,
    /// Seconds between nemesis actions (`--nemesis-interval`).
    pub nemesis_interval: f64,
    /// Seconds a client waits for a reply (`--timeout`).
    pub timeout: f64,
    /// The number of the first node's id ([`SimConfig::first_node`]); no flag changes it.
    pub first_node: usize,
}

impl Default for RunDefaults {
    /// 3 nodes from `n1`, 10 s at 50 operations a second, no latency, no faults, a nemesis
    /// action every 2 s, 5 s client timeouts.
    fn default() -> Self {
        RunDefaults {
            node_count: 3,
            time_limit: 10.0,
            rate: 50.0,
            latency_ms: 0.0,
            faults: Vec::new(),
            nemesis_interval: 2.0,
            timeout: 5.0,
            first_node: 1,
        }
    }
}

/// Derives independent seeds for the workload, the network and the nemesis from one seed
/// (splitmix64), so that changing one concern's settings never shifts another's choices.
pub fn sub_seed(seed: u64, concern: u64) -> u64 {
    let mut z = seed.wrapping_add(concern.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::{relative_paths, DEFAULT_STORE};
    use std::path::Path;

    #[test]
    fn only_words_that_look_like_paths_tie_a_run_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["node", "main.py", "my-node"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let store = Path::new(DEFAULT_STORE);
        let tied = |bin: &str| relative_paths(Some(bin), store, dir.path());
        assert!(tied("./my-node"));
        assert!(tied("build/my-node --flag"));
        assert!(tied("python3 main.py"), "a script in the folder");
        assert!(tied("my-node"), "the program word, a file in the folder");
        assert!(
            !tied("/abs/eddy node --workload raft"),
            "`node` is an argument"
        );
        assert!(!tied("python3 other.py"), "no such script here");
        assert!(!tied("/abs/node"));
        assert!(!tied("eddy node"));
        assert!(relative_paths(None, Path::new("runs"), dir.path()));
        assert!(!relative_paths(None, Path::new("/tmp/runs"), dir.path()));
        assert!(!relative_paths(None, store, dir.path()));
    }
}
