//! The resources a sandboxed node may use, their defaults and how they are written on the
//! command line (`512M`, `2G`).

use serde::Serialize;

/// What one node process (with everything it starts) may use under `--sandbox`.
///
/// **Decision**: the defaults are generous, several times what any correct node of the
/// test suite uses (the reference stays under 20 MiB and 10 threads; a JVM or Node.js node
/// under 400 MiB and 60 threads), so that they stop runaway nodes, not slow ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResourceLimits {
    /// Memory of the node and its children together, in bytes.
    pub memory_bytes: u64,
    /// Processes and threads of the node and its children together.
    pub processes: u64,
    /// CPU seconds of each process.
    pub cpu_seconds: u64,
    /// The largest file a process may write, in bytes.
    pub file_size_bytes: u64,
    /// Open file descriptors of each process.
    pub open_files: u64,
    /// Disk the files beneath the node's data and temp folders may take together, in bytes.
    pub disk_bytes: u64,
}

impl Default for ResourceLimits {
    fn default() -> ResourceLimits {
        ResourceLimits {
            memory_bytes: 1 << 30,
            processes: 256,
            cpu_seconds: 600,
            file_size_bytes: 1 << 30,
            open_files: 1024,
            disk_bytes: 1 << 30,
        }
    }
}

impl ResourceLimits {
    /// The defaults for a run of `length` seconds of operations (`eddy test`; `None` for
    /// `eddy cases`): the CPU limit grows with a long run so that it can never stop a
    /// correct node, however busy, before its run ends: every core of the machine for the
    /// whole run and two minutes more (its final phase, its shutdown), at least 600 s.
    pub fn for_run(length: Option<f64>) -> ResourceLimits {
        let defaults = ResourceLimits::default();
        let Some(length) = length else {
            return defaults;
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let busiest = (cores * (length + 120.0)).ceil() as u64;
        ResourceLimits {
            cpu_seconds: defaults.cpu_seconds.max(busiest),
            ..defaults
        }
    }
}

/// A size in bytes from `N`, `NK`, `NM`, `NG` (powers of 1024; `KiB`, `MiB`, `GiB` and a
/// trailing `B` are accepted too), at least 1 MiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let without_b = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match without_b.chars().last() {
        Some('K') => (&without_b[..without_b.len() - 1], 10),
        Some('M') => (&without_b[..without_b.len() - 1], 20),
        Some('G') => (&without_b[..without_b.len() - 1], 30),
        _ => (without_b, 0),
    };
    let bad = || format!("expected a size such as 512M or 2G, got `{text}`");
    let number: u64 = digits.trim().parse().map_err(|_| bad())?;
    let bytes = number.checked_shl(shift).filter(|b| b >> shift == number);
    match bytes {
        Some(bytes) if bytes >= 1 << 20 => Ok(bytes),
        Some(_) => Err(format!("a size of at least 1M, got `{text}`")),
        None => Err(bad()),
    }
}

/// A size in words: `512 MiB`, `1 GiB`, `1536 KiB`, `100 bytes`.
pub fn size_words(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_run_gets_cpu_time_for_every_core_all_along() {
        assert_eq!(ResourceLimits::for_run(None), ResourceLimits::default());
        assert_eq!(ResourceLimits::for_run(Some(10.0)).cpu_seconds, 600);
        let cores = std::thread::available_parallelism().unwrap().get() as u64;
        let hour = ResourceLimits::for_run(Some(3600.0));
        assert_eq!(hour.cpu_seconds, 600.max(cores * 3720));
        assert_eq!(hour.memory_bytes, ResourceLimits::default().memory_bytes);
    }

    #[test]
    fn sizes_read_and_print_in_powers_of_1024() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2048K"), Ok(2 << 20));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("12").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(size_words(512 << 20), "512 MiB");
        assert_eq!(size_words(1 << 30), "1 GiB");
        assert_eq!(size_words(1536 << 10), "1536 KiB");
        assert_eq!(size_words(100), "100 bytes");
    }
}
