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
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match eddy_node::run(args.workload) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eddy-node: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
