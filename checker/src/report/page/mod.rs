//! `report.html`: one self-contained page per run (inline CSS and SVG, no script, no
//! network), built from the run folder with askama (`checker/templates/report.html`) and
//! charts drawn with plotters' SVG backend: the header (verdict, how to reproduce, the
//! run's files), every check by kind with its witnesses, the timeline of client
//! operations, latency and throughput, the workload's own pictures, the messages between
//! nodes ([`crate::report::messages`]) and the operations of each witness
//! ([`crate::report::witness_ops`]). See docs/report.md.

pub mod cases;
pub mod checks;
pub mod frame;
pub mod pictures;
pub mod rates;
pub mod run;
pub mod timeline;

use crate::history::HistoryEvent;
use crate::report::messages::{message_diagram, Diagram, WindowChoice};
use askama::Template;
use run::Run;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The page's file name in a run folder.
pub const FILE: &str = "report.html";

/// The part of the run the message diagram shows, in seconds since the run started; an
/// open end means the start or the end of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// From here (the start when `None`).
    pub from_s: Option<f64>,
    /// To here (the end when `None`).
    pub to_s: Option<f64>,
}

/// A link to one of the run's files, relative to the page.
pub struct Link {
    /// What it shows.
    pub name: String,
    /// Where it points.
    pub href: String,
}

/// The page, as the template reads it.
#[derive(Template)]
#[template(path = "report.html")]
pub struct Page {
    workload: String,
    seed: String,
    nodes: String,
    verdict: String,
    verdict_class: &'static str,
    stopped: Option<String>,
    /// The sandbox's summary line without its `sandbox: ` head, when the run had one.
    sandbox: Option<String>,
    reproduce: String,
    files: Vec<Link>,
    ops: [usize; 3],
    fault_count: usize,
    drift_count: usize,
    end_s: String,
    failed: Vec<(String, &'static str, String)>,
    groups: Vec<checks::Group>,
    timeline: Option<String>,
    latency: Option<String>,
    throughput: Option<String>,
    notes: Vec<String>,
    pictures: Vec<pictures::Picture>,
    messages: Option<Diagram>,
    version: &'static str,
}

/// The verdict of a `results.json` document in one word and its CSS class.
fn verdict(results: &Value) -> (&'static str, &'static str) {
    match &results["valid"] {
        Value::Bool(true) => ("VALID", "valid"),
        Value::Bool(false) => ("INVALID", "invalid"),
        Value::String(s) if s == "not-applicable" => ("N/A", "na"),
        _ => ("UNKNOWN", "unknown"),
    }
}

/// Links to the run's files, relative to a page written into `page_dir`.
fn files(run: &Run, page_dir: &Path) -> Vec<Link> {
    let base = if page_dir == run.dir.as_path() {
        String::new()
    } else {
        format!(
            "{}/",
            std::path::absolute(&run.dir)
                .unwrap_or(run.dir.clone())
                .display()
        )
    };
    let mut names: Vec<String> = ["results.json", "history.jsonl", "net.jsonl"]
        .into_iter()
        .filter(|n| run.dir.join(n).exists())
        .map(str::to_owned)
        .collect();
    if let Ok(logs) = std::fs::read_dir(run.dir.join("node-logs")) {
        let mut logs: Vec<String> = logs
            .filter_map(|e| e.ok())
            .map(|e| format!("node-logs/{}", e.file_name().to_string_lossy()))
            .collect();
        logs.sort();
        names.extend(logs);
    }
    names
        .into_iter()
        .map(|name| Link {
            href: format!("{base}{name}"),
            name,
        })
        .collect()
}

/// Where the message diagram of `run` looks: the window asked for, else around the first
/// failure (from the start of what led to it), else around the first fault.
fn choice(run: &Run, window: Window) -> WindowChoice {
    let requested = (window.from_s.is_some() || window.to_s.is_some()).then(|| {
        (
            window.from_s.unwrap_or(0.0),
            window.to_s.unwrap_or(run.end_s),
        )
    });
    let first_fault = run.faults.spans.iter().map(|f| f.from_s);
    let failure = run.first_failure.as_ref().map(|f| f.from_s);
    let focus_s = failure.or_else(|| first_fault.min_by(f64::total_cmp));
    WindowChoice { requested, focus_s }
}

/// Renders the page of `run`, to be written into `page_dir`, with the message diagram over
/// `window`. A chart that cannot be drawn is a note on the page, never an error.
pub fn render(run: &Run, page_dir: &Path, window: Window) -> Result<String, String> {
    let results = &run.results;
    let (word, class) = verdict(results);
    let mut notes = Vec::new();
    let mut chart = |what: &str, drawn: Result<Option<String>, String>| match drawn {
        Ok(svg) => svg,
        Err(why) => {
            notes.push(format!("the {what} could not be drawn: {why}"));
            None
        }
    };
    let timeline = chart("timeline", timeline::svg(run).map(Some));
    let latency = chart("latency chart", rates::latency_svg(run));
    let throughput = chart("throughput chart", rates::throughput_svg(run));
    use crate::history::EventType;
    let count = |o: EventType| run.ops.iter().filter(|op| op.outcome == o).count();
    let groups = checks::groups(&run.checks);
    // What went wrong, first things first: a crash explains what follows it, and a
    // violation outranks a check that could not decide.
    let mut failed: Vec<(String, &'static str, String)> = groups
        .iter()
        .flat_map(|g| &g.checks)
        .filter(|c| c.open)
        .map(|c| (c.name.clone(), c.class, c.summary.clone()))
        .collect();
    failed.sort_by_key(|(name, class, _)| (*class != "invalid", name != "crashes"));
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let page = Page {
        workload: text(&results["workload"]).unwrap_or_else(|| "?".into()),
        seed: results["seed"].to_string(),
        nodes: run.nodes.join(" "),
        verdict: word.to_owned(),
        verdict_class: class,
        stopped: text(&results["stopped_early"]),
        sandbox: crate::sandbox::summary_line(&results["sandbox"])
            .map(|line| line.trim_start_matches("sandbox: ").to_owned()),
        reproduce: text(&results["reproduce"]).unwrap_or_default(),
        files: files(run, page_dir),
        ops: [
            count(EventType::Ok),
            count(EventType::Fail),
            count(EventType::Info),
        ],
        fault_count: run.faults.spans.len(),
        drift_count: run.faults.marks.len(),
        end_s: format!("{:.1}", run.end_s),
        failed,
        groups,
        timeline,
        latency,
        throughput,
        notes,
        pictures: pictures::pictures(&run.dir, &results["pictures"]),
        messages: message_diagram(
            &run.dir,
            &run.nodes,
            &run.faults,
            run.first_failure.as_ref(),
            choice(run, window),
        ),
        version: env!("CARGO_PKG_VERSION"),
    };
    page.render().map_err(|e| e.to_string())
}

/// Writes the page of `run` to `out` (`report.html` in its run folder when `None`), with
/// the message diagram over `window`; the error names the file that could not be written.
pub fn write(run: &Run, window: Window, out: Option<&Path>) -> Result<PathBuf, String> {
    let path = out.map_or_else(|| run.dir.join(FILE), Path::to_path_buf);
    let page_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let same = |a: &Path, b: &Path| a.canonicalize().ok() == b.canonicalize().ok();
    let page_dir = if same(&page_dir, &run.dir) {
        run.dir.clone()
    } else {
        page_dir
    };
    let html = render(run, &page_dir, window)?;
    std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Writes the page of the run just judged in `dir` (`results` is the `results.json`
/// document of its fresh checks, `history` the history they were computed from, already in
/// memory, so nothing is read back from disk): the page's path, or `None` after saying on
/// stderr in one line why it could not be written (a page never changes a verdict).
pub fn write_or_warn(dir: &Path, results: Value, history: &[HistoryEvent]) -> Option<PathBuf> {
    let written = write(&Run::of(dir, results, history), Window::default(), None);
    match written {
        Ok(path) => Some(path),
        Err(why) => {
            eprintln!("eddy: could not write {}: {why}", dir.join(FILE).display());
            None
        }
    }
}
