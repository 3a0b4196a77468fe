//! Exit statuses of every verdict-giving command (SPEC section 4).

/// What a run says, as an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything checked holds.
    Valid = 0,
    /// Something checked does not hold.
    Invalid = 1,
    /// The checks could not decide.
    Unknown = 2,
    /// The node could not be run: not found, crashed before init, never answered init.
    NodeError = 3,
    /// The command line, or a file it names, is wrong.
    Usage = 64,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        std::process::ExitCode::from(outcome.code())
    }
}
