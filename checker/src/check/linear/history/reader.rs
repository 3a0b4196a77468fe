//! [`read`]: a `history.jsonl` stream, line by line, straight from the input's buffer.
//! A line is first scanned by hand ([`scan`]), with no `Value` built; what the scan does
//! not take (anything unusual) is parsed as eddy always has ([`Line`]), and every refusal
//! comes from the parse.

mod scanner;

use super::{short, Builder, Event, Fields, Json, KvHistory};
use crate::history::{EventType, Process};
use scanner::scan;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::BufRead;

/// A history line, parsed.
#[derive(Deserialize)]
struct Line<'a> {
    index: u64,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    body: Value,
}

impl Line<'_> {
    /// The line as the builder takes it, with `body` the fields of its body.
    fn event<'b>(&'b self, body: &'b Fields<'b>) -> Event<'b> {
        Event {
            process: match self.process {
                Process::Client(n) => Some(n),
                Process::Named(_) => None,
            },
            kind: self.kind,
            f: &self.f,
            index: self.index,
            time: self.time,
            node: self.node.as_deref(),
            body,
        }
    }
}

/// Why [`read`] refused a history: the first line it could not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The line's number, from 1.
    pub line: u64,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

/// A serde_json error without "at line 1" (a history line is one line).
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((what, _)) => format!("{what} at column {}", e.column()),
        None => text,
    }
}

/// Why `text` (one line that did not parse as an event) is not a history event.
fn diagnose(text: &str, error: &serde_json::Error) -> String {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return format!("not JSON: {}", json_error(&e)),
    };
    let Some(object) = value.as_object() else {
        return format!(
            "not a history event: {} is not a JSON object",
            short(Json::Parsed(&value))
        );
    };
    for field in ["index", "time", "process", "type", "f", "body"] {
        let Some(v) = object.get(field) else {
            return format!("not a history event: missing field `{field}`");
        };
        let expected = match field {
            "index" | "time" if !v.is_u64() => "a non-negative integer",
            "process" if !(v.is_u64() || v.is_string()) => "a client number or a name",
            "type" if !matches!(v.as_str(), Some("invoke" | "ok" | "fail" | "info")) => {
                "one of \"invoke\", \"ok\", \"fail\", \"info\""
            }
            "f" if !v.is_string() => "a string",
            _ => continue,
        };
        return format!(
            "not a history event: `{field}` is {}, not {expected}",
            short(Json::Parsed(v))
        );
    }
    match object.get("node") {
        Some(node) if !(node.is_string() || node.is_null()) => format!(
            "not a history event: `node` is {}, not a node id",
            short(Json::Parsed(node))
        ),
        _ => format!("not a history event: {}", json_error(error)),
    }
}

/// [`read`] partway through.
struct Reader {
    builder: Builder,
    /// Lines read so far.
    line: u64,
    torn_line: Option<u64>,
}

impl Reader {
    /// Takes the next line (with its newline, if it has one); `false` once a torn last
    /// line ends the history.
    fn take(&mut self, bytes: &[u8]) -> Result<bool, ReadError> {
        self.line += 1;
        let line = self.line;
        let complete = bytes.last() == Some(&b'\n');
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            Err(_) if !complete => {
                self.torn_line = Some(line);
                return Ok(false);
            }
            Err(e) => {
                return Err(ReadError {
                    line,
                    why: format!("not UTF-8 text: {e}"),
                })
            }
        };
        if text.trim().is_empty() {
            return Ok(true);
        }
        let builder = &mut self.builder;
        let fed = match scan(text) {
            Some(line) => Ok(builder.event(line.event())),
            None => serde_json::from_str::<Line>(text)
                .map(|line| builder.event(line.event(&Fields::of(&line.body)))),
        };
        match fed {
            Ok(fed) => fed.map_err(|problem| ReadError {
                line,
                why: problem.sentence(),
            })?,
            // Cut off mid-write: the last line, without its newline, and not even JSON.
            Err(_) if !complete && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() => {
                self.torn_line = Some(line);
            }
            Err(e) => {
                return Err(ReadError {
                    line,
                    why: diagnose(text, &e),
                })
            }
        }
        Ok(true)
    }
}

/// Reads a `history.jsonl` stream line by line. A line that is not a history event, or a
/// register event that cannot be interpreted, is an error naming its number; a torn last
/// line (no newline at its end, not an event) is skipped and its number kept in
/// [`KvHistory::torn_line`].
pub fn read(mut input: impl BufRead) -> Result<KvHistory, ReadError> {
    let mut reader = Reader {
        builder: Builder::default(),
        line: 0,
        torn_line: None,
    };
    // The start of a line that the input's buffer cut.
    let mut cut = Vec::new();
    let mut going = true;
    while going {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ReadError {
                    line: reader.line + 1,
                    why: e.to_string(),
                })
            }
        };
        if chunk.is_empty() {
            if !cut.is_empty() {
                reader.take(&cut)?;
            }
            break;
        }
        let mut start = 0;
        // Lines are taken straight from the buffer, unless cut.
        for end in memchr::memchr_iter(b'\n', chunk) {
            let line = &chunk[start..=end];
            start = end + 1;
            going = if cut.is_empty() {
                reader.take(line)?
            } else {
                cut.extend_from_slice(line);
                let going = reader.take(&cut)?;
                cut.clear();
                going
            };
            if !going {
                break;
            }
        }
        cut.extend_from_slice(&chunk[start..]);
        let used = chunk.len();
        input.consume(used);
    }
    let mut history = reader.builder.finish();
    history.torn_line = reader.torn_line;
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn lines_cut_by_the_buffer_read_as_whole_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let event = |i: u64, kind: &str, f: &str, body: &str| {
            format!(
                r#"{{"index":{i},"time":{},"process":{},"type":"{kind}","f":"{f}","body":{body}}}"#,
                i % 3,
                i * 10 + 5
            )
        };
        let mut text = String::new();
        for i in 0..300 {
            let value = rng.random_range(0..5);
            let line = match i % 6 {
                0..=2 => event(
                    i,
                    "invoke",
                    "write",
                    &format!(r#"{{"type":"write","key":"k{}","value":{value}}}"#, i % 4),
                ),
                _ => event(i - 3, "ok", "write", r#"{"type":"write_ok","text":"é"}"#),
            };
            text += &line;
            text += if i % 7 == 0 { "\r\n" } else { "\n" };
        }
        text += r#"{"index":999,"time":1"#;
        let whole = format!("{:?}", read(std::io::Cursor::new(&text)).unwrap());
        for capacity in [1, 7, 64, 1000] {
            let cut = read(std::io::BufReader::with_capacity(
                capacity,
                std::io::Cursor::new(&text),
            ));
            assert_eq!(format!("{:?}", cut.unwrap()), whole, "buffer of {capacity}");
        }
    }
}
