//! Builds the bundled cases into the binary: every `.case` file under the repository's
//! `cases/` folder becomes one `(source, text)` entry of `$OUT_DIR/bundled_cases.rs`
//! (in path order, as `eddy cases cases` reads them; the source reads like the path:
//! `cases/seed/000-lease-1.case`), included by `src/cases/bundled.rs`. Cargo re-runs this when anything under `cases/` changes, so a
//! file added there is built in without another step. Built outside the repository (a
//! packaged crate without `../cases`), the list is empty.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let repo = manifest.join("..");
    let root = repo.join("cases");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &mut files);
    }
    // By path, component by component, as `eddy cases cases` reads the folder.
    files.sort();
    let entries: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&repo).expect("under the repository");
            let source = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            (source, path)
        })
        .collect();
    let mut out = String::from("&[\n");
    for (source, path) in entries {
        let absolute = path.canonicalize().expect("the file exists");
        out.push_str(&format!(
            "    ({source:?}, include_str!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    out.push_str("]\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("bundled_cases.rs");
    std::fs::write(&target, out).expect("OUT_DIR is writable");
}

/// Every `.case` file under `dir`, recursively.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("the cases folder is readable");
    for entry in entries {
        let path = entry.expect("the cases folder is readable").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "case") {
            files.push(path);
        }
    }
}
