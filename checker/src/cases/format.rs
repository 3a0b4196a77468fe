//! Reading cases from disk: eddy's own `.case` files, and the platform's sample layout (a
//! folder of `input.jsonl` / `expected.txt`, or `input-N.jsonl` / `expected-N.txt`, pairs).
//!
//! A `.case` file holds one or more cases:
//!
//! ```text
//! # comment
//! case: Check lease shows valid
//! timeout: 5000
//! contract: maelstrom
//! ordered: false
//! concurrent: false
//! input:
//! {"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
//! sleep 100
//! {"src":"c1","dest":"n1","body":{"type":"check_lease","msg_id":2}}
//! expected:
//! {"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}
//! ```
//!
//! Headers (between `case:` and `input:`, all optional): `timeout: MS`, `contract: seed`
//! or `maelstrom`, `ordered: true` or `false`, `concurrent: true` or `false`, `workload:
//! NAME` (the workload a generated case was made for: the bundled reference runs it
//! pinned to that workload, see [`super::Case::workload`]). A case file
//! with an unknown header, an expected line that is not a JSON object or holds an unknown
//! or ill-formed `$` matcher, or a case without input or expected lines is malformed: the
//! error names the file and line.

use super::matcher::validate;
use super::{Case, Step};
use crate::contract::Contract;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A problem with a case file, naming the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct FormatError {
    /// The file.
    pub path: String,
    /// The 1-based line (0 when the problem is the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Loads every case under `paths`: `.case` files, and folders searched recursively for
/// `.case` files and platform sample pairs. Cases come sorted by source.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Case>, FormatError> {
    let mut cases = Vec::new();
    for path in paths {
        if path.is_dir() {
            load_dir(path, &mut cases)?;
        } else if path.exists() {
            cases.extend(parse_case_file(path)?);
        } else {
            return Err(FormatError {
                path: path.display().to_string(),
                line: 0,
                message: "no such file or folder".into(),
            });
        }
    }
    Ok(cases)
}

fn load_dir(dir: &Path, cases: &mut Vec<Case>) -> Result<(), FormatError> {
    let io_error = |e: std::io::Error| FormatError {
        path: dir.display().to_string(),
        line: 0,
        message: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    cases.extend(platform_pairs(dir, &entries)?);
    for entry in entries {
        if entry.is_dir() {
            load_dir(&entry, cases)?;
        } else if entry.extension().is_some_and(|ext| ext == "case") {
            cases.extend(parse_case_file(&entry)?);
        }
    }
    Ok(())
}

/// `input.jsonl` + `expected.txt` and `input-N.jsonl` + `expected-N.txt` in one folder.
fn platform_pairs(dir: &Path, entries: &[PathBuf]) -> Result<Vec<Case>, FormatError> {
    let mut pairs: Vec<(Option<u64>, PathBuf)> = entries
        .iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let stem = name.strip_suffix(".jsonl")?.strip_prefix("input")?;
            match stem {
                "" => Some((None, path.clone())),
                _ => stem
                    .strip_prefix('-')?
                    .parse()
                    .ok()
                    .map(|n| (Some(n), path.clone())),
            }
        })
        .collect();
    pairs.sort();
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    pairs
        .into_iter()
        .map(|(n, input)| {
            let expected = dir.join(match n {
                None => "expected.txt".to_owned(),
                Some(n) => format!("expected-{n}.txt"),
            });
            let read = |p: &Path| {
                std::fs::read_to_string(p).map_err(|e| FormatError {
                    path: p.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                })
            };
            let steps = read(&input)?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Step::Send(l.to_owned()))
                .collect();
            let expected_text = read(&expected)?;
            let expected_path = expected.display().to_string();
            let expected = parse_json_lines(&expected_path, expected_text.lines().enumerate())?;
            if expected.is_empty() {
                return Err(FormatError {
                    path: expected_path,
                    line: 0,
                    message: "no expected lines".into(),
                });
            }
            let name = match n {
                None => folder.clone(),
                Some(n) => format!("{folder} {n}"),
            };
            let mut case = Case::new(name, input.display().to_string());
            case.steps = steps;
            case.expected = expected;
            Ok(case)
        })
        .collect()
}

fn parse_json_lines<'a>(
    path: &str,
    lines: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<Value>, FormatError> {
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let error = |message: String| FormatError {
                path: path.into(),
                line: i + 1,
                message,
            };
            let value: Value = serde_json::from_str(l)
                .map_err(|e| error(format!("expected line is not JSON: {e}")))?;
            if !value.is_object() {
                return Err(error("expected line is not a JSON object".into()));
            }
            validate(&value).map_err(|e| error(format!("expected line: {e}")))?;
            Ok(value)
        })
        .collect()
}

/// Parses one `.case` file.
pub fn parse_case_file(path: &Path) -> Result<Vec<Case>, FormatError> {
    let text = std::fs::read_to_string(path).map_err(|e| FormatError {
        path: path.display().to_string(),
        line: 0,
        message: e.to_string(),
    })?;
    parse_cases(&path.display().to_string(), &text)
}

#[derive(PartialEq)]
enum Section {
    Header,
    Input,
    Expected,
}

/// Parses the text of a `.case` file; `path` is used in names and errors.
pub fn parse_cases(path: &str, text: &str) -> Result<Vec<Case>, FormatError> {
    let mut cases: Vec<Case> = Vec::new();
    // The line of each case's `case:`, for errors about the case as a whole.
    let mut starts: Vec<usize> = Vec::new();
    let mut section = Section::Header;
    let error = |line: usize, message: String| FormatError {
        path: path.into(),
        line,
        message,
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("case:") {
            let index = cases.len() + 1;
            cases.push(Case::new(name.trim(), format!("{path}#{index}")));
            starts.push(n);
            section = Section::Header;
            continue;
        }
        let case = cases
            .last_mut()
            .ok_or_else(|| error(n, "expected `case: NAME` before anything else".into()))?;
        match line {
            "input:" => section = Section::Input,
            "expected:" => section = Section::Expected,
            _ if section == Section::Header => header(case, line).map_err(|e| error(n, e))?,
            _ if section == Section::Input => {
                if let Some(ms) = line.strip_prefix("sleep ") {
                    let ms =
                        milliseconds(ms).ok_or_else(|| error(n, format!("bad sleep {ms:?}")))?;
                    case.steps.push(Step::Sleep(Duration::from_millis(ms)));
                } else {
                    // Input lines are fed as written, even when they are not JSON (bad-input cases).
                    case.steps
                        .push(Step::Send(raw.trim_end_matches(['\r', '\n']).to_owned()));
                }
            }
            _ => case
                .expected
                .extend(parse_json_lines(path, std::iter::once((i, line)))?),
        }
    }
    if cases.is_empty() {
        return Err(error(0, "no `case:` in file".into()));
    }
    for (case, &start) in cases.iter().zip(&starts) {
        if case.input_lines().next().is_none() {
            return Err(error(
                start,
                format!("case {:?} has no input lines", case.name),
            ));
        }
        if case.expected.is_empty() {
            return Err(error(
                start,
                format!(
                    "case {:?} has no expected lines (a case must expect something)",
                    case.name
                ),
            ));
        }
    }
    if cases.len() == 1 {
        cases[0].source = path.to_owned();
    }
    Ok(cases)
}

/// The headers a case may name, for error messages.
const HEADERS: &str = "`timeout: MS`, `contract: maelstrom|seed`, `ordered: true|false`, `concurrent: true|false`, `workload: NAME`, `input:` or `expected:`";

/// Applies one header line to `case`.
fn header(case: &mut Case, line: &str) -> Result<(), String> {
    let Some((key, value)) = line.split_once(':') else {
        return Err(format!("expected one of {HEADERS}, found {line:?}"));
    };
    let value = value.trim();
    let flag = |name: &str| match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{name}:` takes true or false, found {value:?}")),
    };
    match key.trim() {
        "timeout" => {
            let ms = milliseconds(value)
                .ok_or_else(|| format!("`timeout:` takes milliseconds, found {value:?}"))?;
            case.timeout = Duration::from_millis(ms);
        }
        "contract" => {
            case.contract = match value {
                "maelstrom" => Contract::Maelstrom,
                "seed" => Contract::Seed,
                _ => {
                    return Err(format!(
                        "`contract:` takes maelstrom or seed, found {value:?}"
                    ))
                }
            }
        }
        "ordered" => case.ordered = flag("ordered")?,
        "concurrent" => case.concurrent = flag("concurrent")?,
        "workload" if !value.is_empty() => case.workload = Some(value.to_owned()),
        other => return Err(format!("unknown header `{other}:` (known: {HEADERS})")),
    }
    Ok(())
}

/// `250` or `250ms` or `250 ms`.
fn milliseconds(text: &str) -> Option<u64> {
    text.trim().trim_end_matches("ms").trim().parse().ok()
}

/// Writes cases in the `.case` format (used to save generated cases).
pub fn to_case_text(cases: &[Case]) -> String {
    let mut out = String::new();
    for case in cases {
        out.push_str(&format!(
            "case: {}\ntimeout: {}\n",
            case.name,
            case.timeout.as_millis()
        ));
        if case.contract == Contract::Seed {
            out.push_str("contract: seed\n");
        }
        if case.ordered {
            out.push_str("ordered: true\n");
        }
        if case.concurrent {
            out.push_str("concurrent: true\n");
        }
        if let Some(workload) = &case.workload {
            out.push_str(&format!("workload: {workload}\n"));
        }
        out.push_str("input:\n");
        for step in &case.steps {
            match step {
                Step::Send(line) => out.push_str(&format!("{line}\n")),
                Step::Sleep(d) => out.push_str(&format!("sleep {}\n", d.as_millis())),
            }
        }
        out.push_str("expected:\n");
        for line in &case.expected {
            out.push_str(&format!("{line}\n"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::DEFAULT_TIMEOUT;

    #[test]
    fn parses_several_cases_with_sleeps_headers_and_comments() {
        let text = "# two cases\ncase: one\ntimeout: 100\ncontract: seed\nordered: true\nconcurrent: true\ninput:\n{\"a\":1}\nsleep 5\nnot json\nexpected:\n{\"b\": 2}\n\ncase: two\ninput:\n{}\nexpected:\n{\"c\": {\"$range\": [1, 2]}}\n";
        let cases = parse_cases("f.case", text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].timeout, Duration::from_millis(100));
        assert_eq!(cases[0].contract, Contract::Seed);
        assert!(cases[0].ordered && cases[0].concurrent);
        assert_eq!(
            cases[0].steps,
            vec![
                Step::Send("{\"a\":1}".into()),
                Step::Sleep(Duration::from_millis(5)),
                Step::Send("not json".into())
            ]
        );
        assert_eq!(cases[0].expected, vec![serde_json::json!({"b": 2})]);
        assert_eq!(cases[1].timeout, DEFAULT_TIMEOUT);
        assert_eq!(cases[1].contract, Contract::Maelstrom);
        assert!(!cases[1].ordered && !cases[1].concurrent);
        assert_eq!(cases[1].source, "f.case#2");
        assert_eq!(parse_cases("f.case", &to_case_text(&cases)).unwrap(), cases);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = parse_cases("f.case", "case: x\ninput:\n{}\nexpected:\n{oops\n").unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err
            .to_string()
            .starts_with("f.case:5: expected line is not JSON"));
        assert!(parse_cases("f.case", "{}\n")
            .unwrap_err()
            .to_string()
            .contains("case: NAME"));
        assert!(parse_cases("f.case", "case: x\nwhat\n").is_err());
    }

    /// Each malformed case, and the error it must give.
    #[test]
    fn malformed_cases_are_refused_with_file_and_line() {
        let ok_input = "input:\n{\"src\":\"c0\"}\n";
        for (text, want) in [
            (
                format!("case: x\n{ok_input}expected:\n{{\"body\": {{\"n\": {{\"$between\": [1, 2]}}}}}}\n"),
                "f.case:5: expected line: `body.n`: unknown matcher `$between`",
            ),
            (
                format!("case: x\n{ok_input}expected:\n{{\"n\": {{\"$range\": [1]}}}}\n"),
                "f.case:5: expected line: `n`: `$range` takes [lo, hi]",
            ),
            (
                format!("case: x\n{ok_input}expected:\n{{\"n\": {{\"$type\": \"float\"}}}}\n"),
                "f.case:5: expected line: `n`: unknown type \"float\"",
            ),
            (
                format!("case: x\n{ok_input}expected:\n{{\"n\": {{\"a\": 1, \"$range\": [1, 2]}}}}\n"),
                "f.case:5: expected line: `n`: `$range` must be the first key of its object",
            ),
            (
                format!("case: x\n{ok_input}expected:\n[1]\n"),
                "f.case:5: expected line is not a JSON object",
            ),
            (
                format!("# first\ncase: x\n{ok_input}expected:\n"),
                "f.case:2: case \"x\" has no expected lines",
            ),
            (
                format!("case: x\n{ok_input}"),
                "f.case:1: case \"x\" has no expected lines",
            ),
            (
                "case: x\ninput:\nexpected:\n{}\n".to_owned(),
                "f.case:1: case \"x\" has no input lines",
            ),
            (
                format!("case: x\nretries: 3\n{ok_input}expected:\n{{}}\n"),
                "f.case:2: unknown header `retries:`",
            ),
            (
                format!("case: x\ncontract: jepsen\n{ok_input}expected:\n{{}}\n"),
                "f.case:2: `contract:` takes maelstrom or seed",
            ),
            (
                format!("case: x\nordered: yes\n{ok_input}expected:\n{{}}\n"),
                "f.case:2: `ordered:` takes true or false",
            ),
            (
                format!("case: x\ntimeout: soon\n{ok_input}expected:\n{{}}\n"),
                "f.case:2: `timeout:` takes milliseconds",
            ),
        ] {
            let err = parse_cases("f.case", &text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn reads_platform_sample_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("input.jsonl"), "{\"x\":1}\n").unwrap();
        std::fs::write(dir.path().join("expected.txt"), "{\"y\":1}\n").unwrap();
        std::fs::write(dir.path().join("input-2.jsonl"), "{\"x\":2}\n").unwrap();
        std::fs::write(dir.path().join("expected-2.txt"), "{\"y\":2}\n").unwrap();
        let cases = load(&[dir.path().to_owned()]).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].expected, vec![serde_json::json!({"y": 2})]);
        std::fs::write(dir.path().join("expected-2.txt"), "\n").unwrap();
        let err = load(&[dir.path().to_owned()]).unwrap_err().to_string();
        assert!(
            err.ends_with("expected-2.txt:0: no expected lines"),
            "{err}"
        );
    }
}
