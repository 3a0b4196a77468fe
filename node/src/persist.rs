//! Durable state in `NODE_DATA_DIR`, the per-node folder the harness keeps across restarts.
//! Files are replaced atomically (write, sync, rename), so a kill never leaves half a file.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

/// The node's data folder, when the harness gave one.
#[derive(Debug, Clone)]
pub struct DataDir {
    dir: PathBuf,
}

impl DataDir {
    /// `NODE_DATA_DIR`, if set and not empty.
    pub fn from_env() -> Option<DataDir> {
        std::env::var_os("NODE_DATA_DIR")
            .filter(|d| !d.is_empty())
            .map(|d| DataDir {
                dir: PathBuf::from(d),
            })
    }

    /// A data folder at `dir` (tests).
    pub fn at(dir: PathBuf) -> DataDir {
        DataDir { dir }
    }

    /// The JSON saved under `name`, if any.
    pub fn load(&self, name: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Saves `value` under `name`, synced to disk before this returns.
    pub fn save(&self, name: &str, value: &Value) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(value.to_string().as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(name))
    }
}
