//! The shape of the code, read from the source text: no import loop between the top-level
//! modules of the checker (those `checker/src/lib.rs` declares), no lower module reaching
//! up into `workload`, `judge` or `cli` (the workloads, the judging pipeline over them and
//! the command line sit on top of everything else), and no source file over 800 lines in `checker/src` or `node/src`.
//!
//! A module's dependencies are the `crate::<module>` paths its files name in code (in `use`
//! lines, groups such as `crate::{a, b::c}` included, and inline paths), and the
//! `super::` paths that climb out to the crate's root; comments and string literals do not
//! count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules on top: nothing below them may name them.
const TOP: [&str; 3] = ["workload", "judge", "cli"];

/// The most lines a source file may have.
const MAX_LINES: usize = 800;

/// Where one module first names another: the file and line.
type Edges = BTreeMap<(String, String), (PathBuf, usize)>;

#[test]
fn top_level_modules_form_no_loop_and_only_workload_judge_and_cli_are_on_top() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src.join("lib.rs"));
    assert!(
        TOP.iter().all(|m| modules.contains(*m)),
        "lib.rs declares {modules:?}, without one of {TOP:?}"
    );
    let edges = module_edges(&src, &modules);
    let mut problems = Vec::new();
    for ((from, to), (file, line)) in &edges {
        if !TOP.contains(&from.as_str()) && TOP.contains(&to.as_str()) {
            problems.push(format!(
                "`{from}` is below `workload`, `judge` and `cli` but names `crate::{to}` ({}:{line})",
                file.display()
            ));
        }
    }
    for cycle in cycles(&modules, &edges) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|pair| {
                let (file, line) = &edges[&(pair[0].clone(), pair[1].clone())];
                format!("{} -> {} ({}:{line})", pair[0], pair[1], file.display())
            })
            .collect();
        problems.push(format!(
            "import loop {}: {}",
            cycle.join(" -> "),
            steps.join(", ")
        ));
    }
    assert!(
        problems.is_empty(),
        "the layering of checker/src is broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = rust_files(&root.join("checker/src"));
    files.extend(rust_files(&root.join("node/src")));
    assert!(files.len() > 10, "found only {files:?}");
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = read(file).lines().count();
            let shown = file.strip_prefix(root).unwrap_or(file).display();
            (lines > MAX_LINES).then(|| format!("{shown}: {lines} lines"))
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split them into modules of one job each):\n{}",
        long.join("\n")
    );
}

/// The modules `lib.rs` declares (`mod x;` or `pub mod x;`).
fn top_level_modules(lib: &Path) -> BTreeSet<String> {
    let code = blank_comments_and_literals(&read(lib));
    let tokens = tokens(&code);
    tokens
        .windows(3)
        .filter(|w| w[0].text == "mod" && w[2].text == ";")
        .map(|w| w[1].text.clone())
        .collect()
}

/// Every `(from, to)` between distinct top-level modules, with the first place it shows.
fn module_edges(src: &Path, modules: &BTreeSet<String>) -> Edges {
    let mut edges = Edges::new();
    for module in modules {
        let mut files = rust_files(&src.join(module));
        let single = src.join(format!("{module}.rs"));
        if single.is_file() {
            files.push(single);
        }
        assert!(!files.is_empty(), "no source for module `{module}`");
        for file in files {
            let path = module_path(src, &file);
            for (to, line) in named_modules(&read(&file), &path, modules) {
                if &to != module {
                    edges
                        .entry((module.clone(), to))
                        .or_insert((file.strip_prefix(src).unwrap().to_owned(), line));
                }
            }
        }
    }
    edges
}

/// The module path of `file` below `src`: `check/linear/mod.rs` is `[check, linear]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    path
}

/// One loop through each group of modules that import each other, as the list of modules
/// from one back to itself.
fn cycles(modules: &BTreeSet<String>, edges: &Edges) -> Vec<Vec<String>> {
    let next = |from: &str| -> Vec<String> {
        edges
            .keys()
            .filter(|(f, _)| f == from)
            .map(|(_, to)| to.clone())
            .collect()
    };
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(m) = todo.pop() {
            for to in next(&m) {
                if seen.insert(to.clone()) {
                    todo.push(to);
                }
            }
        }
        seen
    };
    let mut covered = BTreeSet::new();
    let mut found = Vec::new();
    for start in modules {
        if covered.contains(start) || !reach(start).contains(start) {
            continue;
        }
        // The shortest way back to `start` (breadth first), so the loop named is minimal.
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        let mut frontier = vec![start.clone()];
        'search: while !frontier.is_empty() {
            let mut later = Vec::new();
            for m in frontier {
                for to in next(&m) {
                    if to == *start {
                        let mut cycle = vec![start.clone(), m.clone()];
                        let mut at = m;
                        while let Some(before) = back.get(&at) {
                            cycle.push(before.clone());
                            at = before.clone();
                        }
                        cycle.reverse();
                        covered.extend(cycle.iter().cloned());
                        found.push(cycle);
                        break 'search;
                    }
                    if to != *start && !back.contains_key(&to) {
                        back.insert(to.clone(), m.clone());
                        later.push(to);
                    }
                }
            }
            frontier = later;
        }
    }
    found
}

/// A token of code: an identifier, `::`, or one character of punctuation, with its line.
#[derive(Debug)]
struct Token {
    text: String,
    line: usize,
}

/// Splits `code` (already without comments and literals) into tokens.
fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text = chars[start..i].iter().collect();
            out.push(Token { text, line });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The top-level modules that the code of a file at module path `path` names, each with the
/// line it is named on: `crate::m`, `crate::{m, n::x}`, and `super::`/`self::` paths that
/// resolve to the crate's root. Inline modules (`mod tests { ... }`) are followed, so that
/// `super::super` in one climbs from the right place.
fn named_modules(text: &str, path: &[String], modules: &BTreeSet<String>) -> Vec<(String, usize)> {
    let code = blank_comments_and_literals(text);
    let tokens = tokens(&code);
    let is = |i: usize, s: &str| tokens.get(i).is_some_and(|t| t.text == s);
    let mut found = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    for i in 0..tokens.len() {
        match tokens[i].text.as_str() {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "mod" if is(i + 2, "{") => inline.push((tokens[i + 1].text.clone(), depth + 1)),
            _ => {}
        }
        let start = tokens[i].text.as_str();
        let starts_a_path = matches!(start, "crate" | "super" | "self")
            && is(i + 1, "::")
            && !(i > 0 && (is(i - 1, "::") || is(i - 1, "$")));
        if !starts_a_path {
            continue;
        }
        let mut here: Vec<String> = path.to_vec();
        here.extend(inline.iter().map(|(name, _)| name.clone()));
        let mut j = i + 2;
        match start {
            "crate" => here.clear(),
            "super" => {
                here.pop();
                while is(j, "super") && is(j + 1, "::") {
                    here.pop();
                    j += 2;
                }
            }
            _ => {}
        }
        if !here.is_empty() {
            continue;
        }
        let mut named = Vec::new();
        if is(j, "{") {
            // A group: the first name of every item at its own level.
            let mut level = 0;
            let mut item_start = true;
            for token in &tokens[j + 1..] {
                match token.text.as_str() {
                    "{" => level += 1,
                    "}" if level == 0 => break,
                    "}" => level -= 1,
                    "," if level == 0 => {
                        item_start = true;
                        continue;
                    }
                    name if item_start && level == 0 => named.push(name.to_owned()),
                    _ => {}
                }
                item_start = false;
            }
        } else if let Some(token) = tokens.get(j) {
            named.push(token.text.clone());
        }
        for name in named {
            if modules.contains(&name) {
                found.push((name, tokens[i].line));
            }
        }
    }
    found
}

/// `text` with every comment, string and character literal turned into spaces (newlines
/// kept, so lines still count), lifetimes left alone.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(chars.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut j, mut level) = (i + 2, 1);
            while j < chars.len() && level > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    level += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    level -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (c == 'r' || c == 'b')
            && !(i > 0 && ident(chars[i - 1]))
            && raw_string_hashes(&chars[i..]).is_some()
        {
            let (open, hashes) = raw_string_hashes(&chars[i..]).unwrap();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut j = i + open;
            while j < chars.len() && !chars[j..].starts_with(&close) {
                j += 1;
            }
            let end = j + close.len();
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' || (c == '\'' && next == Some('\\')) {
            // A string, or a character literal with an escape: to the closing quote.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            blank(&mut out, i, i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// For `r"`, `r#"`, `br##"` ... at the start of `chars`: how many characters open the
/// literal, and how many `#` close it.
fn raw_string_hashes(chars: &[char]) -> Option<(usize, usize)> {
    let mut i = usize::from(chars.first() == Some(&'b'));
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    (chars.get(i + hashes) == Some(&'"')).then_some((i + hashes + 1, hashes))
}

/// Every `.rs` file below `dir`, in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The text of `file`.
fn read(file: &Path) -> String {
    std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn the_reader_sees_paths_in_code_only_and_climbs_out_of_inline_modules() {
    let modules: BTreeSet<String> = ["check", "cli", "history", "sim", "workload"]
        .map(String::from)
        .into();
    let text = r####"
//! See [`crate::cli`] and crate::workload in prose.
use crate::check::{self, Record};
use crate::{history::event, sim::{a, b}};
/* crate::cli /* nested */ crate::workload */
fn f() -> &'static str { let _c = '"'; let _q = '\''; let _ = r#"crate::cli "quoted" "#; "crate::workload" }
mod tests {
    use super::super::cli::X;
    fn g() { let _ = crate::workload::raft::wire::checks; }
}
"####;
    let path = ["report".to_owned()];
    let named: Vec<(String, usize)> = named_modules(text, &path, &modules);
    assert_eq!(
        named,
        [
            ("check".to_owned(), 3),
            ("history".to_owned(), 4),
            ("sim".to_owned(), 4),
            ("cli".to_owned(), 8),
            ("workload".to_owned(), 9),
        ]
    );
    // One level down, a single `super` stays inside the module.
    let deeper = ["report".to_owned(), "timeline".to_owned()];
    assert!(!named_modules(text, &deeper, &modules)
        .iter()
        .any(|(m, _)| m == "cli"));
}

#[test]
fn a_loop_is_named_from_one_module_back_to_itself() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let mut edges = Edges::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        edges.insert((from.into(), to.into()), (PathBuf::from("x.rs"), 1));
    }
    assert_eq!(cycles(&modules, &edges), [["a", "b", "c", "a"]]);
    edges.remove(&("c".to_owned(), "a".to_owned()));
    assert!(cycles(&modules, &edges).is_empty());
}
