//! The report page (`report.html`) of real runs: written by `eddy test` into every run
//! folder, self-contained (nothing fetched from the network), naming every check, the
//! verdict and the legends, with the timeline and latency drawn; `eddy check` and `eddy
//! report` write it again; a store that is not there is a usage error. Where Chromium is
//! installed, the page is opened in it headless: it renders, and its DOM has every section.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::{eddy, reference_with, sim_run_in, take_turn, text};

/// The runs the tests read: a valid pn-counter run and a lease run with split-brain, each
/// with faults, and a pn-counter run whose nodes exit after init, made once (their stores
/// under the target's test folder).
fn runs() -> &'static [(PathBuf, serde_json::Value)] {
    static RUNS: OnceLock<Vec<(PathBuf, serde_json::Value)>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let _turn = take_turn();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_page");
        let _ = std::fs::remove_dir_all(&root);
        let reference = reference_with("");
        let broken = reference_with("--bug local-grant");
        let exits = format!(
            "python3 {} exit-after-init",
            support::fixture("misbehave.py")
        );
        let runs: [(&str, &str, &str, Vec<&str>); 3] = [
            (
                "pn",
                "pn-counter",
                &reference,
                vec!["--time-limit", "3", "--nemesis", "partition"],
            ),
            (
                "lease",
                "lease",
                &broken,
                // 6 s: the lease changes hands, and each new holder, granting itself,
                // overlaps the last one.
                vec!["--time-limit", "6", "--nemesis", "drift,partition,pause"],
            ),
            (
                "crash",
                "pn-counter",
                &exits,
                vec!["--time-limit", "2", "--node-count", "3"],
            ),
        ];
        runs.iter()
            .map(|(name, workload, bin, faults)| {
                let store = root.join(name);
                let mut args = vec!["--nemesis-interval", "1", "--seed", "1"];
                args.extend(faults);
                let (code, results, _) = sim_run_in(&store, workload, bin, &args);
                let expected = if *name == "pn" { 0 } else { 1 };
                assert_eq!(code, expected, "{workload}: {results}");
                (store, results)
            })
            .collect()
    })
}

/// The `src` and `href` values of an HTML text.
fn links(html: &str) -> Vec<&str> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| {
            html.match_indices(attr)
                .map(move |(at, _)| &html[at + attr.len()..])
        })
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// The text of the section `id` of a page.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let len = html[start..].find("</section>").unwrap();
    &html[start..start + len]
}

fn assert_page(page: &Path, results: &serde_json::Value) {
    let html = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    for link in links(&html) {
        assert!(
            !link.contains("://") && !link.starts_with("//"),
            "the page links outside itself: {link}"
        );
    }
    assert!(!html.contains("<script"), "the page needs no script");
    assert!(!html.contains("<link"), "the page loads no stylesheet");
    assert!(html.contains("<style>"));
    let verdict = match &results["valid"] {
        serde_json::Value::Bool(true) => "VALID",
        serde_json::Value::Bool(false) => "INVALID",
        _ => "UNKNOWN",
    };
    assert!(
        html.contains(&format!(
            "class=\"verdict {}\">{verdict}<",
            verdict.to_lowercase()
        )),
        "verdict {verdict}"
    );
    let checks = section(&html, "checks");
    for check in results["checks"].as_array().unwrap() {
        let name = check["name"].as_str().unwrap();
        assert!(
            checks.contains(&format!("id=\"check-{name}\"")),
            "check {name}"
        );
    }
    for (id, legend) in [
        ("timeline", "ok: the operation succeeded"),
        ("timeline", "a clock step"),
        ("latency", "log scale"),
        ("checks", "by kind"),
    ] {
        assert!(
            section(&html, id).contains(legend),
            "legend of {id}: {legend}"
        );
    }
    assert!(
        section(&html, "timeline").contains("<svg"),
        "the timeline is drawn"
    );
    assert!(
        section(&html, "latency").matches("<svg").count() >= 2,
        "latency and throughput"
    );
    // The whole reproduce command, as the page escapes it, ready to copy.
    let reproduce = results["reproduce"]
        .as_str()
        .unwrap()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(
        html.contains(&format!("<pre id=\"reproduce\">{reproduce}</pre>")),
        "the reproduce command, whole: {reproduce}"
    );
}

#[test]
fn every_run_writes_a_self_contained_page_that_check_and_report_write_again() {
    let runs = runs();
    for (store, results) in runs {
        assert_page(&store.join("latest/report.html"), results);
    }
    // The broken run: its failed check is open, with its witness in words, and the lease
    // picture is inlined.
    let (lease, results) = &runs[1];
    let html = std::fs::read_to_string(lease.join("latest/report.html")).unwrap();
    let split = &results["checks"].as_array().unwrap()[0];
    assert_eq!(split["name"], "split-brain");
    assert!(html.contains("id=\"check-split-brain\" open"));
    let why = split["witnesses"][0]["why"].as_str().unwrap();
    assert!(html.contains(why.split(':').next().unwrap()), "{why}");
    assert!(section(&html, "pictures").contains("leases in real time"));
    assert!(
        section(&html, "pictures").contains("two holders at once (split-brain)"),
        "the overlaps are drawn in red, with their key"
    );
    assert!(
        section(&html, "header").contains("What went wrong")
            && section(&html, "header").contains("href=\"#check-split-brain\""),
        "the header says what went wrong"
    );

    // The valid run's gossip is drawn between its nodes, all of it (a short run).
    let (pn, _) = &runs[0];
    let html = std::fs::read_to_string(pn.join("latest/report.html")).unwrap();
    let messages = section(&html, "messages");
    assert!(
        messages.contains("<svg") && messages.contains("All "),
        "{messages:.600}"
    );
    assert!(
        messages.contains("replicate ("),
        "gossip in the key: {messages:.600}"
    );

    // The charts mark the first failure (the message diagram's line across is tested in
    // report::messages: these lease nodes send one another nothing); the legend names
    // every fault's colour.
    let html = std::fs::read_to_string(lease.join("latest/report.html")).unwrap();
    for id in ["timeline", "latency"] {
        assert!(
            section(&html, id).contains("\nfirst failure: split-brain\n"),
            "{id} marks the first failure"
        );
    }
    assert!(section(&html, "timeline").contains("a pause of the node named"));
    // The first three witnesses are shown, the rest folded.
    let witnesses = split["witnesses"].as_array().unwrap().len();
    let folded = section(&html, "checks")
        .contains(&format!("{} more witnesses", witnesses.saturating_sub(3)));
    assert_eq!(folded, witnesses > 3, "{witnesses} witnesses");

    // A stats check gives figures, never a verdict.
    let (pn, _) = &runs[0];
    let html = std::fs::read_to_string(pn.join("latest/report.html")).unwrap();
    let stats = section(&html, "checks")
        .split("id=\"check-stats\"")
        .nth(1)
        .unwrap();
    assert!(
        stats[..400].contains("class=\"word figures\">figures<"),
        "{:.400}",
        stats
    );
    assert!(
        !html.contains("\nfirst failure: "),
        "a valid run has no failure"
    );

    // A node that exits unasked is marked where it exited, on the charts and the diagram.
    let (crash, crash_results) = &runs[2];
    let html = std::fs::read_to_string(crash.join("latest/report.html")).unwrap();
    assert_page(&crash.join("latest/report.html"), crash_results);
    for id in ["timeline", "latency"] {
        assert!(
            section(&html, id).contains("\nn0 exited\n"),
            "{id} marks the crash"
        );
    }
    assert!(section(&html, "timeline").contains("a node that exited unasked"));
    assert!(
        section(&html, "checks").contains("class=\"word invalid\">INVALID<"),
        "the crash is a failure"
    );
    assert!(
        section(&html, "timeline").contains("\nfirst failure: "),
        "the crash (or what followed it) is the first failure"
    );

    // eddy check writes it again, and says where.
    let page = lease.join("latest/report.html");
    std::fs::remove_file(&page).unwrap();
    let checked = eddy(&["check", lease.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("report: "), "{}", text(&checked));
    assert_page(&page, results);

    // eddy report: from the store root (following latest), and to another file.
    std::fs::remove_file(&page).unwrap();
    let reported = eddy(&["report", lease.to_str().unwrap()]);
    assert_eq!(reported.status.code(), Some(0), "{}", text(&reported));
    let printed = String::from_utf8_lossy(&reported.stdout);
    assert!(printed.trim().ends_with("report.html"), "{printed}");
    assert_page(&page, results);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("page.html");
    let args = [
        "report",
        lease.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--from",
        "1",
        "--to",
        "2",
    ];
    let reported = eddy(&args);
    assert_eq!(reported.status.code(), Some(0), "{}", text(&reported));
    assert_page(&out, results);
    // A window of the gossiping run: the diagram says which part it drew.
    let (pn, pn_results) = &runs[0];
    let args = [
        "report",
        pn.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let reported = eddy(&[&args[..], &["--from", "1", "--to", "1.5"]].concat());
    assert_eq!(reported.status.code(), Some(0), "{}", text(&reported));
    assert_page(&out, pn_results);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        section(&html, "messages").contains("the window asked for"),
        "{:.800}",
        section(&html, "messages")
    );
}

#[test]
fn a_store_that_is_not_there_or_a_bad_window_is_a_usage_error() {
    let missing = eddy(&["report", "/nonexistent/eddy-store"]);
    assert_eq!(missing.status.code(), Some(64), "{}", text(&missing));
    let said = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains("/nonexistent/eddy-store"), "{said}");
    let empty = tempfile::tempdir().unwrap();
    let bare = eddy(&["report", empty.path().to_str().unwrap()]);
    assert_eq!(bare.status.code(), Some(64), "{}", text(&bare));
    let backwards = eddy(&["report", "/tmp", "--from", "3", "--to", "1"]);
    assert_eq!(backwards.status.code(), Some(64), "{}", text(&backwards));
}

/// Runs `command` in its own process group, killing the group after `limit` or once it
/// exits; its stdout, or `None` when it ran out of time.
fn run_for(mut command: Command, limit: Duration) -> Option<String> {
    use std::os::unix::process::CommandExt;
    let out = tempfile::NamedTempFile::new().unwrap();
    command
        .process_group(0)
        .stdout(out.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .stdin(std::process::Stdio::null());
    let mut child = command.spawn().expect("chromium starts");
    let started = Instant::now();
    let finished = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if started.elapsed() > limit {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Chromium leaves helper processes behind: the whole group goes.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    finished.then(|| std::fs::read_to_string(out.path()).unwrap())
}

#[test]
fn the_page_renders_in_a_headless_browser() {
    let browser = std::env::var("EDDY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&browser).exists() {
        println!("skipped: no chromium (install Debian's chromium)");
        return;
    }
    let (lease, results) = &runs()[1];
    let page = std::fs::canonicalize(lease.join("latest/report.html")).unwrap();
    let url = format!("file://{}", page.display());
    let scratch = tempfile::tempdir().unwrap();
    let browse = |extra: &[String]| {
        let mut command = Command::new(&browser);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
            ])
            .args(["--no-first-run", "--disable-background-networking"])
            .args(["--disable-component-update", "--disable-sync"])
            .arg(format!(
                "--user-data-dir={}",
                scratch.path().join("profile").display()
            ))
            .arg("--window-size=1400,3000")
            .args(extra)
            .arg(&url);
        run_for(command, Duration::from_secs(120)).expect("chromium finished within 120 s")
    };
    let png = scratch.path().join("page.png");
    browse(&[format!("--screenshot={}", png.display())]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        bytes.len() > 50_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );
    let dom = browse(&["--dump-dom".to_owned()]);
    for id in ["header", "checks", "timeline", "latency", "pictures"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "the DOM has no {id}");
    }
    assert!(dom.contains("INVALID") && dom.contains("split-brain"));
    for check in results["checks"].as_array().unwrap() {
        assert!(dom.contains(check["name"].as_str().unwrap()));
    }
    assert!(
        dom.matches("<svg").count() >= 4,
        "charts and picture in the DOM"
    );
}

#[test]
fn eddy_cases_writes_a_self_contained_html_summary_failures_first() {
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("cases.html");
    let node = format!(
        "python3 {} exit-after-init",
        support::fixture("misbehave.py")
    );
    let kv = support::repo().join("cases/raft/kv.case");
    let ran = eddy(&[
        "cases",
        "--bin",
        &node,
        "--html",
        page.to_str().unwrap(),
        kv.to_str().unwrap(),
    ]);
    assert_eq!(ran.status.code(), Some(1), "{}", text(&ran));
    let html = std::fs::read_to_string(&page).expect("the summary is written");
    for link in links(&html) {
        assert!(
            !link.contains("://"),
            "the page links outside itself: {link}"
        );
    }
    assert!(!html.contains("<script") && html.contains("<style>"));
    let counts = String::from_utf8_lossy(&ran.stdout)
        .lines()
        .find(|l| l.contains(" passed, "))
        .unwrap()
        .to_owned();
    let passed_failed = counts.split(", ").take(2).collect::<Vec<_>>().join(", ");
    assert!(
        html.contains(&passed_failed),
        "{passed_failed} not in the page"
    );
    assert!(
        html.contains("exited with code 4"),
        "the crash is told in words"
    );
    let first_fail = html.find(">FAIL</span>").expect("a failed case");
    assert!(
        html.find(">PASS</span>")
            .is_none_or(|pass| first_fail < pass),
        "failed cases come first"
    );
}
