//! What a listing of the asset store finds, on either backend.

use std::path::PathBuf;
use std::time::SystemTime;

/// A stored file, as a listing finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its location.
    pub path: PathBuf,
    /// Its length.
    pub bytes: u64,
    /// When it was last written (or, on disk, served: see `Store::touch`).
    pub modified: SystemTime,
}

impl Listed {
    /// Its file name.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
