//! Reading cases from disk: eddy's own `.case` files, and the platform's sample layout (a
//! folder of `input.jsonl` / `expected.txt`, or `input-N.jsonl` / `expected-N.txt`, pairs).
//!
//! A `.case` file holds one or more cases:
//!
//! ```text
//! # comment
//! case: Check lease shows valid
//! timeout: 5000
//! input:
//! {"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
//! sleep 100
//! {"src":"c1","dest":"n1","body":{"type":"check_lease","msg_id":2}}
//! expected:
//! {"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}
//! ```

use super::{Case, Step, DEFAULT_TIMEOUT};
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
            let name = match n {
                None => folder.clone(),
                Some(n) => format!("{folder} {n}"),
            };
            Ok(Case {
                name,
                source: input.display().to_string(),
                timeout: DEFAULT_TIMEOUT,
                steps,
                expected,
            })
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
            serde_json::from_str(l).map_err(|e| FormatError {
                path: path.into(),
                line: i + 1,
                message: format!("expected line is not JSON: {e}"),
            })
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
            cases.push(Case {
                name: name.trim().to_owned(),
                source: format!("{path}#{index}"),
                timeout: DEFAULT_TIMEOUT,
                steps: Vec::new(),
                expected: Vec::new(),
            });
            section = Section::Header;
            continue;
        }
        let case = cases
            .last_mut()
            .ok_or_else(|| error(n, "expected `case: NAME` before anything else".into()))?;
        match line {
            "input:" => section = Section::Input,
            "expected:" => section = Section::Expected,
            _ if section == Section::Header => {
                let ms = line
                    .strip_prefix("timeout:")
                    .and_then(|v| v.trim().trim_end_matches("ms").trim().parse::<u64>().ok())
                    .ok_or_else(|| {
                        error(
                            n,
                            format!(
                                "expected `timeout: MS`, `input:` or `expected:`, found {line:?}"
                            ),
                        )
                    })?;
                case.timeout = Duration::from_millis(ms);
            }
            _ if section == Section::Input => {
                if let Some(ms) = line.strip_prefix("sleep ") {
                    let ms = ms
                        .trim()
                        .trim_end_matches("ms")
                        .trim()
                        .parse()
                        .map_err(|_| error(n, format!("bad sleep {ms:?}")))?;
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
    if let Some(empty) = cases.iter().find(|c| c.steps.is_empty()) {
        return Err(error(0, format!("case {:?} has no input", empty.name)));
    }
    if cases.len() == 1 {
        cases[0].source = path.to_owned();
    }
    Ok(cases)
}

/// Writes cases in the `.case` format (used to save generated cases).
pub fn to_case_text(cases: &[Case]) -> String {
    let mut out = String::new();
    for case in cases {
        out.push_str(&format!(
            "case: {}\ntimeout: {}\ninput:\n",
            case.name,
            case.timeout.as_millis()
        ));
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

    #[test]
    fn parses_several_cases_with_sleeps_and_comments() {
        let text = "# two cases\ncase: one\ntimeout: 100\ninput:\n{\"a\":1}\nsleep 5\nnot json\nexpected:\n{\"b\": 2}\n\ncase: two\ninput:\n{}\n";
        let cases = parse_cases("f.case", text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].timeout, Duration::from_millis(100));
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
    }
}
