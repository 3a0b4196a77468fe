//! The `eddy` binary: parse, install the Ctrl-C handler, run, exit with the outcome.

fn main() -> std::process::ExitCode {
    let cli = eddy::cli::parse();
    // Nodes run in their own process groups, so a terminal's Ctrl-C does not reach them:
    // kill them ourselves before leaving.
    let _ = ctrlc::set_handler(|| {
        if !eddy::process::on_interrupt() {
            eprintln!("eddy: interrupted; every node was killed");
            std::process::exit(130);
        }
    });
    eddy::cli::run(cli).into()
}
