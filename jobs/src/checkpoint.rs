//! Runner checkpoints: a JSON file replaced atomically (write a temporary, fsync, rename), so a
//! crash leaves either the previous checkpoint or the new one, never half of one.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Read {
        path: path.display().to_string(),
        source: e,
    }
}

/// The checkpoint at `path`, or `None` if there is none yet.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::from(e).context(format!("checkpoint {}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Replace the checkpoint at `path` atomically.
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(path))?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value)?;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io(path))?;
        f.write_all(&bytes).map_err(io(path))?;
        f.sync_all().map_err(io(path))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}
