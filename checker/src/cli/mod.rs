//! The command line: argument definitions and the commands they run.

pub mod cases;
pub mod check;
pub mod test;

use crate::exit::Outcome;
use clap::{Parser, Subcommand};

/// eddy: a test harness and conformance checker for distributed-systems node programs.
#[derive(Parser, Debug)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// eddy's commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scripted single-node cases (files, folders, or generated) against a node.
    Cases(cases::CasesArgs),
    /// Run a simulated cluster of a node program under a workload and faults, and check it.
    Test(Box<test::TestArgs>),
    /// Check a stored run again, without running anything.
    Check(check::CheckArgs),
    /// Run the bundled reference node on stdin/stdout.
    Node(NodeArgs),
}

/// Options of `eddy node`: those of `eddy-node`.
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    #[command(flatten)]
    pub options: eddy_node::Options,
}

/// A usage problem: printed as one line, exit status 64.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the process arguments; help and version print and exit 0, errors exit 64.
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                Outcome::Usage.code() as i32
            } else {
                0
            };
            let _ = error.print();
            std::process::exit(code);
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Node(args) => match eddy_node::run(&args.options) {
            Ok(()) => Outcome::Valid,
            Err(error) => {
                eprintln!("eddy node: {error}");
                Outcome::NodeError
            }
        },
        Command::Cases(args) => {
            cases::run_cases(args).unwrap_or_else(|error| usage("cases", error))
        }
        Command::Test(args) => test::run_test(*args).unwrap_or_else(|error| usage("test", error)),
        Command::Check(args) => {
            check::run_check(args).unwrap_or_else(|error| usage("check", error))
        }
    }
}

fn usage(command: &str, error: UsageError) -> Outcome {
    eprintln!("eddy {command}: {error}");
    Outcome::Usage
}
