//! The bundled cases, built into the binary (by `checker/build.rs`, from every `.case` file
//! under the repository's `cases/`), so that `eddy cases` runs them from any folder once
//! installed. Each keeps the source its file would have (`cases/seed/000-lease-1.case`,
//! `cases/lease/lease.case#4`).

use super::format::{parse_cases, FormatError};
use super::Case;

/// Every bundled `.case` file: (source, text), in path order.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/bundled_cases.rs"));

/// Every bundled case, in the order and with the sources that [`super::format::load`]
/// gives them when it reads the repository's `cases/` folder.
pub fn load() -> Result<Vec<Case>, FormatError> {
    let mut cases = Vec::new();
    for (source, text) in FILES {
        cases.extend(parse_cases(source, text)?);
    }
    Ok(cases)
}
