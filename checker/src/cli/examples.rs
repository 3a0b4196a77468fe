//! What every help screen ends with: examples and the docs to read next. The long help
//! (`--help`) shows them; the short one (`-h`) only points there, so that it stays short.
//! Every line fits in 100 columns (the help tests hold it to that).

/// The end of `eddy -h` and of every subcommand's `-h`.
pub const SHORT: &str = "Examples and the docs to read: --help";

/// The end of `eddy --help`.
pub const EDDY: &str = "\
Examples:
  eddy cases --bin ./my-node                     # a node through the bundled conformance cases
  eddy test -w raft --bin ./my-node              # a cluster of it under the workload's faults
  eddy check store/latest                        # the last run's checks again
  eddy report store/latest                       # its report page (report.html) again
  eddy node --workload raft                      # the reference node, on stdin/stdout

Each command's --help has its own examples. Docs (the repository's docs/ folder): README.md
to start; docs/cases.md, docs/simulation.md, docs/workloads.md, docs/protocol.md (what a node
must do, exit statuses), docs/maelstrom.md (coming from Maelstrom).";

/// The end of `eddy test --help`.
pub const TEST: &str = "\
Examples:
  eddy test -w pn-counter                                   # the bundled reference node
  eddy test -w raft --bin ./my-node                         # yours, under raft's own faults
  eddy test -w raft --bin \"python3 main.py\" --seed 7        # one schedule again, by its seed
  eddy test -w pn-counter --bin ./my-node --node-count 5 --nemesis partition-ring,kill-majority
  eddy test -w broadcast --bin ./my-node --latency 100 --loss 0.05 --nemesis none
  eddy test -w raft --bin ./my-node --test-count 20 --fail-fast --junit runs.xml
  eddy test -w raft --bin ./their-node --sandbox --memory-limit 512M  # someone else's node

Each run leaves a folder under --store (store/latest is the last): report.html (open it in
a browser), history.jsonl, net.jsonl, node-logs/, results.json; the summary ends with a
`reproduce:` command that runs the same schedule again when pasted into a shell.
Exit status: 0 valid, 1 invalid, 2 unknown, 3 the node could not be run, 64 bad usage,
74 I/O failure, 130 interrupted. Docs: docs/simulation.md (runs, faults, the store),
docs/report.md (the page), docs/workloads.md (each workload's checks and flags),
docs/protocol.md (what a node must do), docs/sandbox.md (--sandbox), docs/maelstrom.md.";

/// The end of `eddy cases --help`.
pub const CASES: &str = "\
Examples:
  eddy cases                                            # the reference node, every bundled case
  eddy cases --bin \"python3 main.py\"                    # yours: ./cases, else the built-in ones
  eddy cases --bin ./my-node -w pn-counter              # one workload's, seed samples included
  eddy cases --bin ./my-node cases/seed                 # one folder of cases
  eddy cases --bin ./my-node --generate 50 -w heartbeat # 50 random cases of one workload
  eddy cases --bin ./my-node --junit report.xml --json report.json
  eddy cases --bin ./my-node --html cases.html          # a page to open in a browser
  eddy cases --bin ./their-node --sandbox               # someone else's node, confined

Docs: docs/cases.md (the .case format, generated cases), docs/protocol.md (what a node
must do, exit statuses), docs/sandbox.md (--sandbox and its limits).";

/// The end of `eddy check --help`.
pub const CHECK: &str = "\
Examples:
  eddy check store/latest                                   # the last run of `eddy test`
  eddy check store/raft-20260101T120000Z-7                  # any run folder
  eddy check --model kv history.jsonl                       # a key/value history from elsewhere

Docs: docs/simulation.md (the run folder), docs/linearizability.md (--model kv).";

/// The end of `eddy node --help`.
pub const NODE: &str = "\
Examples:
  eddy node --workload raft                                 # serve raft on stdin/stdout
  eddy test -w raft --bin \"eddy node --workload raft --bug local-reads\" # a broken mode, tested

Docs: docs/workloads.md (what each workload's node does), docs/protocol.md.";

/// The end of `eddy report --help`.
pub const REPORT: &str = "\
Examples:
  eddy report store/latest                                  # rewrite the last run's report.html
  eddy report store/latest --from 4.5 --to 6                # the message diagram of 4.5 s to 6 s
  eddy report store/raft-20260101T120000Z-7 --out page.html # anywhere else

Docs: docs/report.md (what the page shows and how to read it).";
