//! A node's command line: parsed like a shell's, shown quoted, or the bundled reference;
//! and the sandbox it runs in, if any.

use crate::sandbox::Sandbox;
use std::sync::Arc;

/// A node's command line, split the way a shell splits it, and its sandbox.
#[derive(Debug, Clone)]
pub struct NodeCommand {
    /// The program to run.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The sandbox every process of this command runs in (`--sandbox`), or none.
    pub sandbox: Option<Arc<Sandbox>>,
}

impl PartialEq for NodeCommand {
    /// The same command line in the same sandbox (the very one, or none).
    fn eq(&self, other: &NodeCommand) -> bool {
        self.program == other.program
            && self.args == other.args
            && match (&self.sandbox, &other.sandbox) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for NodeCommand {}

impl NodeCommand {
    /// Splits `line` like a POSIX shell (quotes and backslashes), without running a shell.
    pub fn parse(line: &str) -> Result<NodeCommand, String> {
        let words =
            shell_words::split(line).map_err(|e| format!("cannot split --bin {line:?}: {e}"))?;
        let (program, args) = words.split_first().ok_or("--bin is empty")?;
        Ok(NodeCommand {
            program: program.clone(),
            args: args.to_vec(),
            sandbox: None,
        })
    }

    /// The bundled reference node: this executable's `node` subcommand.
    pub fn reference() -> NodeCommand {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "eddy".into());
        NodeCommand {
            program: exe,
            args: vec!["node".into()],
            sandbox: None,
        }
    }

    /// The bundled reference node serving only `workload` (`node --workload NAME`): every
    /// message type means what that workload says (a `read` is never the other
    /// workload's), and any other workload's request is refused.
    pub fn reference_for(workload: &str) -> NodeCommand {
        let mut command = NodeCommand::reference();
        command.args.extend(["--workload".into(), workload.into()]);
        command
    }

    /// This command pinned to `workload` when it runs eddy's reference node serving every
    /// workload at once (`<path>/eddy node`, no other argument); `None` for any other
    /// command, which is run as given.
    pub fn pinned_reference(&self, workload: &str) -> Option<NodeCommand> {
        let is_eddy = std::path::Path::new(&self.program)
            .file_stem()
            .is_some_and(|stem| stem == "eddy");
        (is_eddy && self.args == ["node"]).then(|| {
            let mut pinned = self.clone();
            pinned.args.extend(["--workload".into(), workload.into()]);
            pinned
        })
    }

    /// This command, run in `sandbox`.
    pub fn sandboxed(mut self, sandbox: Option<Arc<Sandbox>>) -> NodeCommand {
        self.sandbox = sandbox;
        self
    }

    /// The command line, quoted so that it can be pasted into a shell.
    pub fn display(&self) -> String {
        let mut words = vec![self.program.as_str()];
        words.extend(self.args.iter().map(String::as_str));
        shell_words::join(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_like_a_shell() {
        let cmd = NodeCommand::parse(r#"python3 "my node.py" --x 'a b'"#).unwrap();
        assert_eq!(cmd.program, "python3");
        assert_eq!(cmd.args, vec!["my node.py", "--x", "a b"]);
        assert_eq!(cmd.display(), "python3 'my node.py' --x 'a b'");
        assert!(NodeCommand::parse("").is_err());
        assert!(NodeCommand::parse("python3 'unclosed").is_err());
        let eddy = NodeCommand::parse("/bin/eddy node").unwrap();
        assert_eq!(
            eddy.pinned_reference("g-set").unwrap().display(),
            "/bin/eddy node --workload g-set"
        );
        assert_eq!(cmd.pinned_reference("g-set"), None);
    }
}
