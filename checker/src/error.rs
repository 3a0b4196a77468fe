//! eddy's one error type: every way a command can end other than with a verdict, each with
//! its documented exit status (SPEC section 4, `docs/protocol.md`). Commands return it;
//! `main` prints it as one line after `eddy <command>: ` and exits with its status.

use crate::exit::Outcome;

/// Why a command could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line, or a file it names, is wrong (a flag out of range, a path that is
    /// not there, a case file or stored run eddy cannot read): exit 64.
    #[error("{0}")]
    Usage(String),
    /// The node could not be run (`eddy node`: the reference node failed): exit 3.
    #[error("{0}")]
    Node(String),
    /// eddy could not write what it must (the store, `results.json`, a report file) through
    /// no fault of the command line: exit 74, sysexits' `EX_IOERR`.
    #[error("{0}")]
    Io(String),
    /// Ctrl-C or SIGTERM stopped the command, after every node it started was killed: exit 130.
    #[error("interrupted; every node was killed")]
    Interrupted,
}

impl Error {
    /// The exit status this error ends the command with.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Usage(_) => Outcome::Usage,
            Error::Node(_) => Outcome::NodeError,
            Error::Io(_) => Outcome::Io,
            Error::Interrupted => Outcome::Interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn every_error_has_its_documented_status() {
        let codes: Vec<u8> = [
            Error::Usage("u".into()),
            Error::Node("n".into()),
            Error::Io("i".into()),
            Error::Interrupted,
        ]
        .iter()
        .map(|e| e.outcome().code())
        .collect();
        assert_eq!(codes, [64, 3, 74, 130]);
        assert_eq!(
            Error::Interrupted.to_string(),
            "interrupted; every node was killed"
        );
    }
}
