//! The two contracts a node is judged under (SPEC section 5): Maelstrom's (the default) and
//! the seeds'.

/// Which contract a node is judged under.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Contract {
    /// Maelstrom's contract: the envelope, `init`/`init_ok`, the error codes and each
    /// workload's client operations. Node-to-node messages are the node's own business,
    /// node libraries may exit on a message type they do not know, reply `msg_id`s may
    /// start anywhere and timers may be slow.
    #[default]
    Maelstrom,
    /// The seeds' contract: everything of SPEC sections 1-3, node-to-node message names and
    /// formats, eddy-only requests (`gossip_status`), `init_ok` with `msg_id: 0`, and
    /// errors 10 and 12 for unknown and malformed requests.
    Seed,
}

impl Contract {
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Contract::Maelstrom => "maelstrom",
            Contract::Seed => "seed",
        }
    }
}
