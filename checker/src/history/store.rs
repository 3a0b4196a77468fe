//! The store: one folder per run (`<root>/<workload>-<UTC time>-<seed>`) holding
//! `history.jsonl` and `net.jsonl` (written as the run goes and flushed often, so that a
//! crash or Ctrl-C leaves them complete to that moment), `node-logs/`, per-node data
//! folders under `data/`, and `results.json`; plus a `latest` link beside the runs.

use super::event::HistoryEvent;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open run folder.
pub struct Store {
    dir: PathBuf,
    history: BufWriter<File>,
    net: BufWriter<File>,
}

impl Store {
    /// Creates a new run folder under `root` and points `root/latest` at it.
    pub fn create(root: &Path, workload: &str, seed: u64) -> std::io::Result<Store> {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .replace([':', '-'], "");
        let name = format!("{workload}-{stamp}-{seed}");
        let mut dir = root.join(&name);
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = root.join(format!("{name}-{n}"));
        }
        fs::create_dir_all(dir.join("node-logs"))?;
        fs::create_dir_all(dir.join("data"))?;
        let latest = root.join("latest");
        let _ = fs::remove_file(&latest);
        std::os::unix::fs::symlink(dir.file_name().expect("a run folder has a name"), &latest)?;
        let open = |name: &str| {
            File::create(dir.join(name)).map(|f| BufWriter::with_capacity(256 * 1024, f))
        };
        Ok(Store {
            history: open("history.jsonl")?,
            net: open("net.jsonl")?,
            dir,
        })
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Numbers `event` after what `history` holds, stamps it with `time` (ns since the run
    /// started), writes it and keeps it in `history`.
    pub fn append(
        &mut self,
        history: &mut Vec<HistoryEvent>,
        mut event: HistoryEvent,
        time: u64,
    ) -> std::io::Result<()> {
        event.index = history.len() as u64;
        event.time = time;
        let written = self.history(&event);
        history.push(event);
        written
    }

    /// Appends one history event.
    pub fn history(&mut self, event: &HistoryEvent) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.history, event)?;
        self.history.write_all(b"\n")
    }

    /// Appends one `net.jsonl` line (already serialized, without newline).
    pub fn net(&mut self, line: &str) -> std::io::Result<()> {
        self.net.write_all(line.as_bytes())?;
        self.net.write_all(b"\n")
    }

    /// Pushes everything written so far to the files.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.history.flush()?;
        self.net.flush()
    }

    /// Writes `results.json`.
    pub fn write_results(&mut self, results: &serde_json::Value) -> std::io::Result<()> {
        self.flush()?;
        write_results(&self.dir, results)
    }
}

/// Writes `results.json` in a run folder.
pub fn write_results(dir: &Path, results: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    fs::write(dir.join("results.json"), text + "\n")
}

/// Reads a run folder's `history.jsonl`; a torn last line (eddy was killed mid-write) is
/// ignored, any other bad line is an error naming it.
pub fn read_history(dir: &Path) -> Result<Vec<HistoryEvent>, String> {
    let path = dir.join("history.jsonl");
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let last = lines.len();
    let mut events = Vec::with_capacity(last);
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(event) => events.push(event),
            Err(_) if i + 1 == last => break,
            Err(e) => return Err(format!("{}:{}: {e}", path.display(), i + 1)),
        }
    }
    Ok(events)
}
