//! [`read`]: a `history.jsonl` stream, line by line. A line is first scanned by hand
//! ([`scan`]), with no `Value` built; what the scan does not take (anything unusual) is
//! parsed as eddy always has ([`Line`]), and every refusal comes from the parse.

#[cfg(test)]
mod differential;
mod scanner;

use super::{short, Builder, Event, Fields, Json, KvHistory};
use crate::history::{EventType, Process};
use scanner::{scan, Scanned};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::mpsc::{Receiver, SyncSender};

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
    /// Lines taken so far.
    line: u64,
    torn_line: Option<u64>,
}

/// A line without its line end.
fn content(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

impl Reader {
    /// Takes the next line, as bytes (with its newline, if it has one).
    fn take(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let e = match std::str::from_utf8(bytes) {
            Ok(line) => return self.take_text(line, scan(content(line))),
            Err(e) => e,
        };
        self.line += 1;
        if !bytes.ends_with(b"\n") {
            self.torn_line = Some(self.line);
            return Ok(());
        }
        Err(ReadError {
            line: self.line,
            why: format!("not UTF-8 text: {e}"),
        })
    }

    /// Takes the next line (with its newline, if it has one), and its scan.
    fn take_text(&mut self, line: &str, scanned: Option<Scanned>) -> Result<(), ReadError> {
        self.line += 1;
        let number = self.line;
        let complete = line.ends_with('\n');
        let text = content(line);
        if text.trim().is_empty() {
            return Ok(());
        }
        let builder = &mut self.builder;
        let fed = match scanned {
            Some(scanned) => Ok(builder.event(scanned.event(text, &scanned.fields(text)))),
            None => serde_json::from_str::<Line>(text)
                .map(|line| builder.event(line.event(&Fields::of(&line.body)))),
        };
        match fed {
            Ok(fed) => fed.map_err(|problem| ReadError {
                line: number,
                why: problem.sentence(),
            }),
            // Cut off mid-write: the last line, without its newline, and not even JSON.
            Err(_) if !complete && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() => {
                self.torn_line = Some(number);
                Ok(())
            }
            Err(e) => Err(ReadError {
                line: number,
                why: diagnose(text, &e),
            }),
        }
    }
}

/// Each line's end in a block (past its newline), with its scan.
type Lines = Vec<(usize, Option<Scanned>)>;

/// Whole lines of the input (the last may lack its newline), as the reading thread hands
/// them on.
enum Block {
    /// UTF-8 text, and its lines.
    Text(String, Lines),
    /// Bytes that are not all UTF-8, scanned only when taken.
    Bytes(Vec<u8>),
    /// Reading failed here.
    Failed(std::io::Error),
}

/// Buffers that the taking thread is done with, handed back to be filled again (fresh
/// memory for every block costs the kernel more than scanning it).
type Spent = (Vec<u8>, Lines);

impl Block {
    /// The block of `bytes`, its lines listed in `lines` (emptied first).
    fn of(bytes: Vec<u8>, mut lines: Lines) -> Block {
        match String::from_utf8(bytes) {
            Ok(text) => {
                lines.clear();
                let mut end = 0;
                lines.extend(text.split_inclusive('\n').map(|line| {
                    end += line.len();
                    (end, scan(content(line)))
                }));
                Block::Text(text, lines)
            }
            Err(e) => Block::Bytes(e.into_bytes()),
        }
    }
}

/// The reading thread: hands `input` on to `to` in blocks of whole lines, of at least
/// `size` bytes but for the last, until the input ends or fails or `to` hangs up; reuses
/// the buffers that come back `spent`.
fn hand_on(mut input: impl BufRead, size: usize, to: SyncSender<Block>, spent: Receiver<Spent>) {
    let mut bytes = Vec::with_capacity(size + size / 8);
    // Where `bytes` may hold a newline not yet looked for: before it there is none, so a
    // line of many blocks is searched once, not once per chunk.
    let mut unsearched = 0;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // The whole lines before the failure, then the failure.
                bytes.truncate(memchr::memrchr(b'\n', &bytes).map_or(0, |end| end + 1));
                if !bytes.is_empty() && to.send(Block::of(bytes, Vec::new())).is_err() {
                    return;
                }
                let _ = to.send(Block::Failed(e));
                return;
            }
        };
        if chunk.is_empty() {
            if !bytes.is_empty() {
                let _ = to.send(Block::of(bytes, Vec::new()));
            }
            return;
        }
        bytes.extend_from_slice(chunk);
        let used = chunk.len();
        input.consume(used);
        if bytes.len() < size {
            continue;
        }
        let found = memchr::memrchr(b'\n', &bytes[unsearched..]).map(|at| unsearched + at);
        unsearched = bytes.len();
        if let Some(end) = found {
            let (mut next, lines) = spent
                .try_recv()
                .unwrap_or_else(|_| (Vec::with_capacity(size + size / 8), Vec::new()));
            // The start of a cut line begins the next block.
            next.clear();
            next.extend_from_slice(&bytes[end + 1..]);
            bytes.truncate(end + 1);
            unsearched = next.len();
            if to
                .send(Block::of(std::mem::replace(&mut bytes, next), lines))
                .is_err()
            {
                return;
            }
        }
    }
}

/// [`read`] with blocks of `size` bytes.
fn read_blocks(input: impl BufRead + Send + 'static, size: usize) -> Result<KvHistory, ReadError> {
    let mut reader = Reader {
        builder: Builder::default(),
        line: 0,
        torn_line: None,
    };
    let (to, from) = std::sync::mpsc::sync_channel(2);
    let (give_back, spent) = std::sync::mpsc::channel();
    // Not joined: a refusal returns at once, even while the reading thread waits on a
    // pipe whose writer stays open; hung up on, it stops at its next block.
    std::thread::spawn(move || hand_on(input, size, to, spent));
    (|| {
        for block in from {
            match block {
                Block::Text(text, mut lines) => {
                    let mut start = 0;
                    for (end, scanned) in lines.drain(..) {
                        reader.take_text(&text[start..end], scanned)?;
                        start = end;
                    }
                    let _ = give_back.send((text.into_bytes(), lines));
                }
                Block::Bytes(bytes) => {
                    for line in bytes.split_inclusive(|&b| b == b'\n') {
                        reader.take(line)?;
                    }
                }
                Block::Failed(e) => {
                    return Err(ReadError {
                        line: reader.line + 1,
                        why: e.to_string(),
                    })
                }
            }
        }
        Ok(())
    })()?;
    let mut history = reader.builder.finish();
    history.torn_line = reader.torn_line;
    Ok(history)
}

/// Reads a `history.jsonl` stream line by line: one thread reads and scans blocks of
/// lines while another takes them in order. A line that is not a history event, or a
/// register event that cannot be interpreted, is an error naming its number; a torn last
/// line (no newline at its end, not an event) is skipped and its number kept in
/// [`KvHistory::torn_line`].
pub fn read(input: impl BufRead + Send + 'static) -> Result<KvHistory, ReadError> {
    read_blocks(input, 1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use std::io::BufReader;

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
        let whole = format!("{:?}", read(std::io::Cursor::new(text.clone())).unwrap());
        let ends: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        let mut bad = text.clone().into_bytes();
        bad[ends[48] + 5] = 0xff;
        for capacity in [1, 7, 64, 1000] {
            for size in [1, 100, 5000, 1 << 20] {
                let owned = std::io::Cursor::new(text.clone());
                let cut = read_blocks(BufReader::with_capacity(capacity, owned), size);
                assert_eq!(format!("{:?}", cut.unwrap()), whole, "{capacity}, {size}");
                let owned = std::io::Cursor::new(bad.clone());
                let error =
                    read_blocks(BufReader::with_capacity(capacity, owned), size).unwrap_err();
                assert_eq!(error.line, 50);
                assert!(error.why.starts_with("not UTF-8 text: "), "{error}");
                // Reading fails partway through line 91.
                let read = std::io::Cursor::new(text.as_bytes()[..ends[89] + 10].to_vec());
                let failing = std::io::Read::chain(read, Failing);
                let error = read_blocks(BufReader::with_capacity(capacity, failing), size);
                assert_eq!(
                    error.unwrap_err(),
                    ReadError {
                        line: 91,
                        why: "gone".into()
                    }
                );
            }
        }
    }

    /// A reader that fails.
    struct Failing;

    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("gone"))
        }
    }
}
