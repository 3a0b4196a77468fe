//! The workload's own pictures (`results.json`'s `pictures`), inlined: each SVG file read
//! from where it was written, or from the run folder by its file name when the folder has
//! moved; one that cannot be read is a note instead.

use super::frame::inline;
use std::path::Path;

/// Pictures larger than this are not inlined (the page stays small); the note says so.
const MAX_BYTES: u64 = 4 << 20;

/// One workload picture on the page.
pub struct Picture {
    /// Its file name, also the link to it.
    pub name: String,
    /// Its SVG, when it could be read.
    pub svg: Option<String>,
    /// Why it is not shown, when it is not.
    pub note: Option<String>,
}

/// The pictures listed in `pictures` (paths), read relative to the run folder `dir` when
/// not found where they were written.
pub fn pictures(dir: &Path, pictures: &serde_json::Value) -> Vec<Picture> {
    let paths = pictures.as_array().map(Vec::as_slice).unwrap_or_default();
    paths
        .iter()
        .filter_map(|p| p.as_str())
        .map(|p| {
            let written = Path::new(p);
            let name = written
                .file_name()
                .map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned());
            let here = dir.join(&name);
            let path = if here.exists() {
                here.as_path()
            } else {
                written
            };
            let read = match std::fs::metadata(path) {
                Ok(meta) if meta.len() > MAX_BYTES => Err(format!(
                    "{} bytes, too large to inline; open the file",
                    meta.len()
                )),
                Ok(_) => std::fs::read_to_string(path).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match read {
                Ok(svg) => Picture {
                    name,
                    svg: Some(inline(&svg).to_owned()),
                    note: None,
                },
                Err(why) => Picture {
                    name,
                    svg: None,
                    note: Some(format!("{}: {why}", path.display())),
                },
            }
        })
        .collect()
}
