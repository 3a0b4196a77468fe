//! The threads that serve a node's pipes: the writer that feeds stdin from a queue, the
//! reader that splits stdout into lines capped at [`MAX_LINE_BYTES`], and the one that
//! keeps the tail of stderr (and, when asked, a full log).

use super::{MAX_LINE_BYTES, STDERR_TAIL_LINES};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One line of a node's stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    /// A UTF-8 line without its newline.
    Text(String),
    /// A line that is not UTF-8, with its length in bytes.
    NotUtf8(usize),
    /// A line longer than [`MAX_LINE_BYTES`], with its length in bytes.
    TooLong(usize),
}

/// What the stdout reader reports.
#[derive(Debug)]
pub enum OutputEvent {
    /// A line, with the moment it was read.
    Line(Instant, RawLine),
    /// Stdout closed (the node exited or closed it).
    Closed,
}

/// Writes the queued `lines` to stdin, counting each off `queued`, until the queue or the
/// pipe closes.
pub(super) fn write_input(
    mut stdin: File,
    lines: Receiver<Vec<u8>>,
    queued: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    while let Ok(line) = lines.recv() {
        queued.fetch_sub(1, Ordering::Relaxed);
        if stdin.write_all(&line).is_err() {
            return;
        }
        while let Ok(more) = lines.try_recv() {
            queued.fetch_sub(1, Ordering::Relaxed);
            if stdin.write_all(&more).is_err() {
                return;
            }
        }
        if stdin.flush().is_err() {
            return;
        }
    }
}

/// Reads stdout line by line into `emit` until the pipe closes or `emit` refuses.
pub(super) fn read_output(stdout: impl Read, emit: impl Fn(OutputEvent) -> bool) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    while let Ok(Some(raw)) = read_capped_line(&mut reader, &mut line, MAX_LINE_BYTES) {
        if !emit(OutputEvent::Line(Instant::now(), raw)) {
            return;
        }
    }
    emit(OutputEvent::Closed);
}

/// Reads one line, keeping at most `max` bytes of it; `None` at end of input.
pub fn read_capped_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<RawLine>> {
    line.clear();
    let mut total = 0usize;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            if total == 0 {
                return Ok(None);
            }
            break;
        }
        let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len();
        let used = chunk.len() + usize::from(found_newline);
        reader.consume(used);
        if found_newline {
            break;
        }
    }
    if total > max {
        return Ok(Some(RawLine::TooLong(total)));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(match String::from_utf8(std::mem::take(line)) {
        Ok(text) => RawLine::Text(text),
        Err(e) => RawLine::NotUtf8(e.as_bytes().len()),
    }))
}

/// Keeps the last [`STDERR_TAIL_LINES`] lines of stderr in `tail` (each cut to 500
/// characters), writes them all to `log` while it accepts them and stays within `log_cap`
/// bytes (then one line says the rest is not kept), and, with an `echo` prefix, to eddy's
/// own stderr after it.
pub(super) fn read_stderr(
    stderr: impl Read,
    tail: Arc<Mutex<VecDeque<String>>>,
    mut log: Option<File>,
    log_cap: u64,
    echo: Option<String>,
) {
    const MAX_KEPT_CHARS: usize = 500;
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    // The log is appended to across restarts: what earlier starts wrote counts.
    let mut logged = log
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map_or(0, |m| m.len());
    while let Ok(Some(raw)) = read_capped_line(&mut reader, &mut line, MAX_LINE_BYTES) {
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::NotUtf8(len) => format!("<{len} bytes that are not UTF-8>"),
            RawLine::TooLong(len) => format!("<a line of {len} bytes>"),
        };
        if let Some(file) = &mut log {
            logged += text.len() as u64 + 1;
            if logged > log_cap {
                let _ = writeln!(
                    file,
                    "--- eddy: the rest of this node's stderr is not kept: its log reached {log_cap} bytes, the sandbox's disk limit"
                );
                log = None;
            } else if writeln!(file, "{text}").is_err() {
                log = None;
            }
        }
        // What reaches a terminal (the echo, the summary's stderr lines) shows control
        // characters as escapes: a node's escape sequences could clear the screen, forge a
        // verdict or set the clipboard. The log keeps them as written.
        let text = printable(&text);
        if let Some(prefix) = &echo {
            let _ = writeln!(std::io::stderr().lock(), "{prefix} {text}");
        }
        let kept: String = text.chars().take(MAX_KEPT_CHARS).collect();
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(kept);
    }
}

/// `text` with every control character but tab written as an escape (`\x1b`, `\u{9b}`).
fn printable(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return text.to_owned();
    }
    text.chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control() && (c as u32) < 0x80 => format!("\\x{:02x}", c as u32),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stderr_log_is_held_to_its_cap() {
        let logged = |cap: u64| {
            let path =
                std::env::temp_dir().join(format!("eddy-stderr-cap-{}-{cap}", std::process::id()));
            let log = File::create(&path).unwrap();
            let tail = Arc::new(Mutex::new(VecDeque::new()));
            read_stderr(
                &b"aaaa\nbbbb\ncccc\n"[..],
                Arc::clone(&tail),
                Some(log),
                cap,
                None,
            );
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            // The tail keeps every line, whatever the log kept.
            assert_eq!(tail.lock().unwrap().len(), 3);
            text
        };
        assert_eq!(logged(u64::MAX), "aaaa\nbbbb\ncccc\n");
        let cut = logged(11);
        assert!(cut.starts_with("aaaa\nbbbb\n--- eddy: the rest"), "{cut}");
        assert!(!cut.contains("cccc"), "{cut}");
    }

    #[test]
    fn control_characters_reach_no_terminal() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(
            printable("\x1b[2J\x1b]52;c;eA==\x07ok\u{9b}"),
            "\\x1b[2J\\x1b]52;c;eA==\\x07ok\\u{9b}"
        );
    }

    #[test]
    fn capped_lines_report_long_and_binary_lines() {
        let data = b"short\r\nxxxxxxxxxx\n\xff\xfe\nlast".to_vec();
        let mut reader = BufReader::with_capacity(3, &data[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_capped_line(&mut reader, &mut buf, 8).unwrap() {
            lines.push(line);
        }
        assert_eq!(
            lines,
            vec![
                RawLine::Text("short".into()),
                RawLine::TooLong(10),
                RawLine::NotUtf8(2),
                RawLine::Text("last".into())
            ]
        );
    }
}
