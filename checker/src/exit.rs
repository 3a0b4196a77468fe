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
    /// eddy could not write what it must (the store, `results.json`, a report file):
    /// sysexits' `EX_IOERR`.
    Io = 74,
    /// Ctrl-C or SIGTERM stopped the command (every node it started was killed).
    Interrupted = 130,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// How bad the outcome is, for merging the outcomes of many runs (`eddy test
    /// --test-count`): valid < unknown < invalid < node error < usage < I/O failure <
    /// interrupted.
    ///
    /// **Decision**: an invalid run outranks an undecided one (a violation was seen, whatever
    /// the other runs could not decide), and a node that could not be run outranks both, as
    /// in `eddy cases`: the runs that did not start judged nothing, and that must not hide
    /// behind the ones that did. A usage or I/O failure is not a verdict and ends a command
    /// before any merge; they rank above every verdict so that none can hide them. An
    /// interrupted command exits 130 whatever its runs said.
    /// This is not the numeric order of the exit codes (unknown is 2, invalid 1).
    pub fn severity(self) -> u8 {
        match self {
            Outcome::Valid => 0,
            Outcome::Unknown => 1,
            Outcome::Invalid => 2,
            Outcome::NodeError => 3,
            Outcome::Usage => 4,
            Outcome::Io => 5,
            Outcome::Interrupted => 6,
        }
    }

    /// The worse of two outcomes (see [`Outcome::severity`]).
    pub fn worst(self, other: Outcome) -> Outcome {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        std::process::ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome::{self, *};

    #[test]
    fn the_worst_outcome_wins_whatever_the_order() {
        let all = [Valid, Unknown, Invalid, NodeError, Usage, Io, Interrupted];
        for (i, &a) in all.iter().enumerate() {
            for (j, &b) in all.iter().enumerate() {
                assert_eq!(a.worst(b), all[i.max(j)], "{a:?} and {b:?}");
            }
        }
        let runs = [Valid, Unknown, Valid];
        assert_eq!(runs.into_iter().fold(Valid, Outcome::worst), Unknown);
        assert_eq!(Invalid.worst(Unknown).code(), 1);
        assert_eq!(Interrupted.code(), 130);
        assert_eq!(Io.code(), 74);
    }
}
