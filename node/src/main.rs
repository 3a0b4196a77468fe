//! The `eddy-node` binary: parses flags and runs the reference node.

use clap::Parser;

/// The reference node for eddy's workloads: JSON lines on stdin and stdout, logs on stderr.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    options: eddy_node::Options,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match eddy_node::run(&args.options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eddy-node: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
