//! The store: one folder per run (`<root>/<workload>-<UTC time>-<seed>`) holding
//! `history.jsonl` and `net.jsonl` (written as the run goes and flushed often, so that a
//! crash or Ctrl-C leaves them complete to that moment), `node-logs/`, per-node data
//! folders under `data/`, and `results.json`; plus a `latest` link beside the runs.

use super::event::HistoryEvent;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open run folder. A failed write is remembered and reported by the next
/// [`Store::flush`] (and every one after), so that whoever writes events need not handle
/// errors one by one and none goes unnoticed.
pub struct Store {
    dir: PathBuf,
    history: BufWriter<File>,
    net: BufWriter<File>,
    failed: Option<(std::io::ErrorKind, String)>,
    /// Where `latest` pointed before this run folder took it, put back by [`Store::discard`].
    previous_latest: Option<PathBuf>,
    /// True when this run created the store folder itself, which [`Store::discard`] then
    /// removes too when nothing else is in it.
    created_root: bool,
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
        let created_root = !root.exists();
        fs::create_dir_all(dir.join("node-logs"))?;
        fs::create_dir_all(dir.join("data"))?;
        let latest = root.join("latest");
        let previous_latest = fs::read_link(&latest).ok();
        let _ = fs::remove_file(&latest);
        std::os::unix::fs::symlink(dir.file_name().expect("a run folder has a name"), &latest)?;
        let open = |name: &str| {
            File::create(dir.join(name)).map(|f| BufWriter::with_capacity(256 * 1024, f))
        };
        Ok(Store {
            history: open("history.jsonl")?,
            net: open("net.jsonl")?,
            dir,
            failed: None,
            previous_latest,
            created_root,
        })
    }

    /// Removes the run folder (a run that never started: nothing in it is worth keeping)
    /// and points `latest` back where it pointed before, or removes it when there was none;
    /// a store folder this run created goes too when it is left empty.
    pub fn discard(self) -> std::io::Result<()> {
        let Store {
            dir,
            history,
            net,
            previous_latest,
            created_root,
            ..
        } = self;
        drop((history, net));
        let latest = dir.with_file_name("latest");
        if fs::read_link(&latest).ok().as_deref() == dir.file_name().map(Path::new) {
            fs::remove_file(&latest)?;
            if let Some(previous) = previous_latest {
                std::os::unix::fs::symlink(previous, &latest)?;
            }
        }
        fs::remove_dir_all(&dir)?;
        if created_root {
            // Fails, as it should, when anything else is in it.
            let _ = dir.parent().map(fs::remove_dir);
        }
        Ok(())
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Numbers `event` after what `history` holds, stamps it with `time` (ns since the run
    /// started), writes it and keeps it in `history`.
    pub fn append(&mut self, history: &mut Vec<HistoryEvent>, mut event: HistoryEvent, time: u64) {
        event.index = history.len() as u64;
        event.time = time;
        let written = serde_json::to_writer(&mut self.history, &event)
            .map_err(std::io::Error::from)
            .and_then(|()| self.history.write_all(b"\n"));
        self.remember(written);
        history.push(event);
    }

    /// Appends the `net.jsonl` record of a message a node wrote: the message's own fields
    /// with its send time, its delivery time or drop reason, and the process that wrote it.
    pub fn net_message(
        &mut self,
        writer: &str,
        sent: u64,
        delivered: Option<u64>,
        dropped: Option<&str>,
        line: &str,
    ) {
        let fate = match (delivered, dropped) {
            (Some(at), _) => format!("\"deliver\":{at}"),
            (None, Some(reason)) => format!("\"drop\":{}", serde_json::json!(reason)),
            (None, None) => "\"drop\":\"run ended\"".into(),
        };
        let fields = line.trim().strip_prefix('{').unwrap_or("}");
        self.net(&format!(
            "{{\"send\":{sent},{fate},\"writer\":\"{writer}\",{fields}"
        ));
    }

    /// Appends the `net.jsonl` record of an output line that was not a message: what is
    /// wrong with it and an excerpt.
    pub fn net_invalid(&mut self, writer: &str, sent: u64, problem: &str, excerpt: &str) {
        let record = serde_json::json!({"send": sent, "writer": writer, "invalid": problem, "line": excerpt});
        self.net(&record.to_string());
    }

    /// Appends one `net.jsonl` line (already serialized, without newline).
    fn net(&mut self, line: &str) {
        let written = self
            .net
            .write_all(line.as_bytes())
            .and_then(|()| self.net.write_all(b"\n"));
        self.remember(written);
    }

    /// Pushes everything written so far to the files; fails if this or any earlier write
    /// failed.
    pub fn flush(&mut self) -> std::io::Result<()> {
        let flushed = self.history.flush().and_then(|()| self.net.flush());
        self.remember(flushed);
        match &self.failed {
            Some((kind, text)) => Err(std::io::Error::new(*kind, text.clone())),
            None => Ok(()),
        }
    }

    fn remember(&mut self, written: std::io::Result<()>) {
        if let (Err(e), None) = (written, &self.failed) {
            self.failed = Some((e.kind(), e.to_string()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::event::EventType;
    use crate::history::Process;

    fn store_writing_to(path: &Path) -> Store {
        let open = || BufWriter::new(File::create(path).unwrap());
        Store {
            dir: PathBuf::from("."),
            history: open(),
            net: open(),
            failed: None,
            previous_latest: None,
            created_root: false,
        }
    }

    fn event() -> HistoryEvent {
        HistoryEvent::new(
            Process::Named("harness".into()),
            None,
            EventType::Info,
            "clock",
            serde_json::json!({}),
        )
    }

    #[test]
    fn a_failed_write_is_reported_by_every_later_flush() {
        let dir = tempfile::tempdir().unwrap();
        let mut fine = store_writing_to(&dir.path().join("ok.jsonl"));
        let mut history = Vec::new();
        fine.append(&mut history, event(), 5);
        fine.net("{}");
        assert!(fine.flush().is_ok());
        assert_eq!(history[0].time, 5);

        // /dev/full accepts the open and fails every write with "no space left".
        let mut full = store_writing_to(Path::new("/dev/full"));
        full.append(&mut history, event(), 6);
        assert_eq!(history.len(), 2, "the event is kept in memory all the same");
        let first = full.flush().unwrap_err();
        assert_eq!(first.kind(), std::io::ErrorKind::StorageFull);
        // Even once the files take writes again, the lost event is not forgotten.
        let healthy = store_writing_to(&dir.path().join("later.jsonl"));
        full.history = healthy.history;
        full.net = healthy.net;
        assert!(full.flush().is_err(), "the failure is not forgotten");
    }

    #[test]
    fn a_discarded_run_folder_leaves_latest_where_it_was() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("store");
        let latest = root.join("latest");
        let kept = Store::create(&root, "echo", 1).unwrap();
        let kept_name = kept.dir().file_name().unwrap().to_owned();
        let failed = Store::create(&root, "echo", 2).unwrap();
        let failed_dir = failed.dir().to_owned();
        failed.discard().unwrap();
        assert!(!failed_dir.exists());
        assert_eq!(fs::read_link(&latest).unwrap(), PathBuf::from(&kept_name));
        kept.discard().unwrap();
        assert!(
            fs::symlink_metadata(&latest).is_err(),
            "no latest pointing at nothing"
        );
        assert!(
            !root.exists(),
            "the store folder the first run created goes too"
        );
    }
}
