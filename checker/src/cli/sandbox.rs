//! The sandbox flags `eddy cases` and `eddy test` share (`--sandbox` and its limits).

use crate::error::Error;
use crate::sandbox::{parse_size, Protection, ResourceLimits, Sandbox};
use std::sync::Arc;

/// Options of the sandbox for untrusted nodes.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct SandboxArgs {
    /// Run every node confined: memory, processes, CPU time, file size and open files
    /// limited; no network; writes only to its data folder and a private temp folder;
    /// nothing it starts outlives it; no capabilities. The summary and results say which
    /// protections this machine allowed (docs/sandbox.md).
    #[arg(help_heading = "Sandbox", long)]
    pub sandbox: bool,
    /// Memory of each node with everything it starts (512M, 2G). Giving it demands the
    /// memory protection. Default: 1G.
    #[arg(help_heading = "Sandbox", long, value_name = "SIZE", value_parser = parse_size, requires = "sandbox")]
    pub memory_limit: Option<u64>,
    /// Processes and threads of each node with everything it starts. Giving it demands the
    /// processes protection. Default: 256.
    #[arg(help_heading = "Sandbox", long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), requires = "sandbox")]
    pub process_limit: Option<u64>,
    /// CPU seconds of each node process. Default: 600, or for a long run every core's time
    /// for the whole run and two minutes more.
    #[arg(help_heading = "Sandbox", long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..), requires = "sandbox")]
    pub cpu_limit: Option<u64>,
    /// The largest file a node process may write (64M, 1G). Default: 1G.
    #[arg(help_heading = "Sandbox", long, value_name = "SIZE", value_parser = parse_size, requires = "sandbox")]
    pub file_size_limit: Option<u64>,
    /// Open files of each node process. Default: 1024.
    #[arg(help_heading = "Sandbox", long, value_name = "N", value_parser = clap::value_parser!(u64).range(16..), requires = "sandbox")]
    pub open_files_limit: Option<u64>,
    /// Disk the files beneath each node's data and temp folders may take together (256M,
    /// 2G), added up four times a second. Giving it demands the disk protection. Default: 1G.
    #[arg(help_heading = "Sandbox", long, value_name = "SIZE", value_parser = parse_size, requires = "sandbox")]
    pub disk_limit: Option<u64>,
    /// Variables of eddy's environment to pass on to the nodes, as a comma list, besides
    /// those every sandboxed node gets (PATH, HOME, the locale, where runtimes are: see
    /// docs/sandbox.md); the rest (a grader's tokens) never reach a node.
    #[arg(
        help_heading = "Sandbox",
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        requires = "sandbox"
    )]
    pub sandbox_env: Vec<String>,
    /// Protections that must be in force in full, as a comma list, or `all`; eddy refuses
    /// to start (exit 64) when this machine cannot give one of them.
    #[arg(help_heading = "Sandbox", long, value_name = "LIST", value_delimiter = ',', value_parser = protection_words(), requires = "sandbox")]
    pub sandbox_require: Vec<Vec<Protection>>,
}

/// `--sandbox-require` words: `all` and every protection.
fn protection_words() -> impl clap::builder::TypedValueParser<Value = Vec<Protection>> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let names = Protection::ALL.iter().map(|p| PossibleValue::new(p.name()));
    PossibleValuesParser::new(
        std::iter::once(PossibleValue::new("all").help("Every protection")).chain(names),
    )
    .map(|word: String| match word.as_str() {
        "all" => Protection::ALL.to_vec(),
        name => Protection::ALL
            .into_iter()
            .filter(|p| p.name() == name)
            .collect(),
    })
}

impl SandboxArgs {
    /// The sandbox these flags ask for, detected and prepared, for runs of `length`
    /// seconds of operations (`None`: cases); `None` without `--sandbox`. A demanded
    /// protection this machine cannot give is a usage error (exit 64), before any node
    /// starts.
    pub fn sandbox(&self, length: Option<f64>) -> Result<Option<Arc<Sandbox>>, Error> {
        if !self.sandbox {
            return Ok(None);
        }
        let defaults = ResourceLimits::for_run(length);
        let limits = ResourceLimits {
            memory_bytes: self.memory_limit.unwrap_or(defaults.memory_bytes),
            processes: self.process_limit.unwrap_or(defaults.processes),
            cpu_seconds: self.cpu_limit.unwrap_or(defaults.cpu_seconds),
            file_size_bytes: self.file_size_limit.unwrap_or(defaults.file_size_bytes),
            open_files: self.open_files_limit.unwrap_or(defaults.open_files),
            disk_bytes: self.disk_limit.unwrap_or(defaults.disk_bytes),
        };
        let mut demanded: Vec<Protection> = self.sandbox_require.concat();
        let explicit = [
            (self.memory_limit.is_some(), Protection::Memory),
            (self.process_limit.is_some(), Protection::Processes),
            (self.cpu_limit.is_some(), Protection::Cpu),
            (self.file_size_limit.is_some(), Protection::FileSize),
            (self.open_files_limit.is_some(), Protection::OpenFiles),
            (self.disk_limit.is_some(), Protection::Disk),
        ];
        demanded.extend(explicit.iter().filter(|(given, _)| *given).map(|(_, p)| *p));
        demanded.sort_unstable();
        demanded.dedup();
        Sandbox::new(limits, defaults, &demanded, &self.sandbox_env)
            .map(|sandbox| Some(Arc::new(sandbox)))
            .map_err(Error::Usage)
    }
}
