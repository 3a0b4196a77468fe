//! The `eddy-node` binary: parses flags and runs the reference node.

use clap::Parser;
use eddy_node::Workload;

/// The reference node for eddy's workloads: JSON lines on stdin and stdout, logs on stderr.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Serve only this workload's messages (others get error 10).
    #[arg(long, value_enum, default_value = "auto")]
    workload: Workload,
    /// Misbehave on purpose, to prove that eddy's checks catch it.
    #[arg(long, value_enum)]
    bug: Option<eddy_node::Bug>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match eddy_node::run(args.workload, args.bug) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eddy-node: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
