//! The command line: argument definitions and the commands they run.

pub mod cases;
pub mod check;
pub mod examples;
pub mod report;
pub mod sandbox;
pub mod test;

use crate::error::Error;
use crate::exit::Outcome;
use clap::{Parser, Subcommand};

/// eddy: a test harness and conformance checker for distributed-systems node programs.
#[derive(Parser, Debug)]
#[command(version, about, propagate_version = true)]
#[command(after_help = examples::SHORT, after_long_help = examples::EDDY)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// eddy's commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scripted single-node cases (files, folders, or generated) against a node.
    #[command(after_help = examples::SHORT, after_long_help = examples::CASES)]
    Cases(Box<cases::CasesArgs>),
    /// Run a simulated cluster of a node program under a workload and faults, and check it.
    #[command(after_help = examples::SHORT, after_long_help = examples::TEST)]
    Test(Box<test::TestArgs>),
    /// Check a stored run again, without running anything.
    #[command(after_help = examples::SHORT, after_long_help = examples::CHECK)]
    Check(check::CheckArgs),
    /// Write a stored run's report page (report.html) again, from its files.
    #[command(after_help = examples::SHORT, after_long_help = examples::REPORT)]
    Report(report::ReportArgs),
    /// Run the bundled reference node on stdin/stdout.
    #[command(after_help = examples::SHORT, after_long_help = examples::NODE)]
    Node(NodeArgs),
}

/// Options of `eddy node`: those of `eddy-node`.
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    #[command(flatten)]
    pub options: eddy_node::Options,
}

impl Command {
    /// The command's name, as `main` prefixes its error: `eddy <name>: ...`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Cases(_) => "cases",
            Command::Test(_) => "test",
            Command::Check(_) => "check",
            Command::Report(_) => "report",
            Command::Node(_) => "node",
        }
    }
}

/// Parses the process arguments. Help and version come back as errors too (clap's way):
/// `main` prints them and exits 0 for them, 64 for real errors.
pub fn parse() -> Result<Cli, clap::Error> {
    Cli::try_parse()
}

/// Runs a parsed command line: its verdict, or why there is none.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Node(args) => match eddy_node::run(&args.options) {
            Ok(()) => Ok(Outcome::Valid),
            Err(error) => Err(Error::Node(error.to_string())),
        },
        Command::Cases(args) => cases::run_cases(*args),
        Command::Test(args) => test::run_test(*args),
        Command::Check(args) => check::run_check(args),
        Command::Report(args) => report::run_report(args),
    }
}

/// `--partition K/N` (cargo-nextest's counted partitions, `count:K/N` or plain `K/N`): of
/// the items numbered 0, 1, 2, ... in an order every shard agrees on, shard K of N takes
/// those whose number i satisfies `i % N == K - 1`. The N shards together take every item
/// exactly once. nextest's `hash:K/N` is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// K, from 1 to `total`.
    pub shard: u64,
    /// N, at least 1.
    pub total: u64,
}

impl Partition {
    /// True when the item numbered `position` (from 0) belongs to this shard.
    pub fn contains(&self, position: u64) -> bool {
        position % self.total == self.shard - 1
    }

    /// The items of this shard, in order.
    pub fn select<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.contains(*i as u64))
            .map(|(_, item)| item)
            .collect()
    }
}

impl std::str::FromStr for Partition {
    type Err = String;

    /// Parses `K/N` or `count:K/N`; the error is one line naming what is wrong.
    fn from_str(text: &str) -> Result<Partition, String> {
        let bad = |why: &str| format!("--partition expects K/N or count:K/N ({why}), got `{text}`");
        let counted = match text.split_once(':') {
            Some(("count", rest)) => rest,
            Some(("hash", _)) => return Err(bad("hash partitions are not supported")),
            Some(_) => return Err(bad("the only kind is `count`")),
            None => text,
        };
        let Some((k, n)) = counted.split_once('/') else {
            return Err(bad("no `/`"));
        };
        let number = |s: &str| s.trim().parse::<u64>().ok();
        match (number(k), number(n)) {
            (Some(shard), Some(total)) if total >= 1 && (1..=total).contains(&shard) => {
                Ok(Partition { shard, total })
            }
            (Some(_), Some(0)) => Err(bad("N must be at least 1")),
            (Some(_), Some(_)) => Err(bad("K must be from 1 to N")),
            _ => Err(bad("K and N must be whole numbers")),
        }
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.shard, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::Partition;

    #[test]
    fn partitions_parse_like_nextest() {
        let p: Partition = "2/3".parse().unwrap();
        assert_eq!(p, Partition { shard: 2, total: 3 });
        assert_eq!("count:2/3".parse::<Partition>().unwrap(), p);
        assert_eq!("1/1".parse::<Partition>().unwrap().to_string(), "1/1");
        for bad in [
            "0/3",
            "4/3",
            "1/0",
            "3",
            "a/b",
            "-1/2",
            "hash:1/2",
            "slice:1/2",
            "",
            "1/2/3",
        ] {
            let error = bad.parse::<Partition>().unwrap_err();
            assert!(
                !error.contains('\n') && error.contains("--partition"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn shards_take_every_item_once() {
        let items: Vec<u32> = (0..10).collect();
        let mut all: Vec<u32> = (1..=3)
            .flat_map(|k| Partition { shard: k, total: 3 }.select(items.iter().copied()))
            .collect();
        assert_eq!(
            Partition { shard: 1, total: 3 }.select(items.iter().copied()),
            [0, 3, 6, 9]
        );
        all.sort_unstable();
        assert_eq!(all, items);
    }
}
