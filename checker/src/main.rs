//! The `eddy` binary: parse, install the Ctrl-C handler, run, and exit with the outcome or
//! the error's status. This is the only place eddy exits.

use eddy::error::Error;
use eddy::exit::Outcome;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match eddy::cli::parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are "errors" printed on stdout; they exit 0.
            let _ = error.print();
            return if error.use_stderr() {
                Outcome::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Nodes run in their own process groups, so a terminal's Ctrl-C does not reach them:
    // kill them ourselves before leaving. The handler runs on its own thread, so it exits
    // from there rather than returning through `main`.
    let _ = ctrlc::set_handler(|| {
        if !eddy::process::on_interrupt() {
            let interrupted = Error::Interrupted;
            eprintln!("eddy: {interrupted}");
            std::process::exit(interrupted.outcome().code().into());
        }
    });
    let name = cli.command.name();
    match eddy::cli::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(error) => {
            eprintln!("eddy {name}: {error}");
            error.outcome().into()
        }
    }
}
