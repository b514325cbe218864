//! Where originals and variants are kept: a directory (the default), or an
//! S3-compatible object store (`LAMINA_ASSET_STORE=s3://bucket/prefix`) that
//! several nodes share. Both keep the same layout:
//!
//! - `originals/<sha256>`: an upload's bytes, named by their SHA-256 (the
//!   same bytes are stored once);
//! - `variants/<sha256>/<variant>`: a resized or re-encoded copy, named by
//!   [`super::Variant::file_name`].
//!
//! A location is a path: below the directory, or the object's key below the
//! prefix. Every method blocks (file or network I/O): call them from the
//! blocking pool.
//!
//! Nothing is ever half written under its name: a file is written to a
//! temporary file beside it, fsynced and renamed (the directory fsynced); an
//! object is written by one `PUT`, which S3 stores whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

pub use super::listed::Listed;
use super::s3::S3;

/// The asset store of a server.
#[derive(Debug, Clone)]
pub enum Store {
    /// Files below a directory.
    Disk(PathBuf),
    /// Objects in a bucket, below a prefix.
    S3(Arc<S3>),
    /// `LAMINA_ASSET_STORE` names a store that cannot be used (the reason):
    /// every use fails, and `lamina serve` refuses to start.
    Unusable(Arc<str>),
}

/// An upload's bytes, ready to be placed under their name by [`Store::place`].
#[derive(Debug, Clone)]
pub enum Staged {
    /// Written and fsynced to this temporary file beside their place.
    File(PathBuf),
    /// Held in memory, to be written by one `PUT`.
    Bytes(Arc<Vec<u8>>),
}

/// How the names of temporary files start.
const TEMPORARY: &str = ".tmp-";

/// Whether `listed` is a temporary file (a write that has not been placed).
fn is_temporary(listed: &Listed) -> bool {
    listed.name().starts_with(TEMPORARY)
}

/// `Ok(())` for what is already gone.
fn gone(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl Store {
    /// The store `config` names: `LAMINA_ASSET_STORE` if set, else the
    /// directory of [`super::asset_dir`].
    pub fn from_config(config: &crate::config::Config) -> Store {
        match &config.asset_store {
            Some(url) => match S3::from_env(url, config.asset_store_endpoint.as_deref()) {
                Ok(s3) => Store::S3(Arc::new(s3)),
                Err(reason) => Store::Unusable(reason.into()),
            },
            None => Store::Disk(super::asset_dir(config)),
        }
    }

    /// Runs `work` with this store on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(std::io::Error::other)?
    }

    /// What it is, for logs: the directory, or the bucket, prefix and endpoint.
    pub fn describe(&self) -> String {
        match self {
            Store::Disk(root) => format!("directory {}", root.display()),
            Store::S3(s3) => s3.describe(),
            Store::Unusable(reason) => format!("unusable ({reason})"),
        }
    }

    /// Checks that it can be used: the bucket answers a listing with these
    /// credentials, made first if it does not exist (a directory is created
    /// when first written). `Ok(true)` if a bucket was created.
    pub fn check(&self) -> std::io::Result<bool> {
        match self {
            Store::Disk(_) => Ok(false),
            Store::S3(s3) => s3.check(),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    fn root(&self) -> &Path {
        match self {
            Store::Disk(root) => root,
            Store::S3(_) | Store::Unusable(_) => Path::new(""),
        }
    }

    /// The location of the original stored under `key`.
    pub fn original(&self, key: &str) -> PathBuf {
        self.root().join("originals").join(key)
    }

    /// The location of `variant` of the original `key`.
    pub fn variant(&self, key: &str, variant: &super::Variant) -> PathBuf {
        self.variants_of(key).join(variant.file_name())
    }

    fn variants_of(&self, key: &str) -> PathBuf {
        self.root().join("variants").join(key)
    }

    /// Gets `bytes` ready to be placed at `path`: on disk, written and
    /// fsynced to a new temporary file beside it.
    pub fn stage(&self, path: &Path, bytes: Vec<u8>) -> std::io::Result<Staged> {
        match self {
            Store::Disk(_) => stage_file(path, &bytes).map(Staged::File),
            Store::S3(_) => Ok(Staged::Bytes(Arc::new(bytes))),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// Puts `staged` at `path` (or drops it if `path` already holds the same
    /// bytes).
    pub fn place(&self, staged: &Staged, path: &Path) -> std::io::Result<()> {
        match (self, staged) {
            (Store::Disk(_), Staged::File(temporary)) => place_file(temporary, path),
            (Store::S3(s3), Staged::Bytes(bytes)) => {
                if s3.exists(path)? {
                    return Ok(());
                }
                s3.put(path, bytes)
            }
            (Store::Unusable(reason), _) => Err(unusable(reason)),
            _ => Err(std::io::Error::other("staged for another store")),
        }
    }

    /// Writes `bytes` to `path` whole or not at all.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Store::Disk(_) => place_file(&stage_file(path, bytes)?, path),
            Store::S3(s3) => s3.put(path, bytes),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// The bytes at `path` (an error of kind `NotFound` if there are none).
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self {
            Store::Disk(_) => std::fs::read(path),
            Store::S3(s3) => s3.get(path),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// Whether something is stored at `path`.
    pub fn exists(&self, path: &Path) -> std::io::Result<bool> {
        match self {
            Store::Disk(_) => path.try_exists(),
            Store::S3(s3) => s3.exists(path),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// Records that the variant at `path` was served, for
    /// [`Store::evict_variants`]: on disk, its modification time is renewed.
    /// An object cannot be touched without being written again, so in an
    /// object store a variant's use is its last write, or when this server
    /// last served it from memory.
    pub fn touch(&self, path: &Path) -> std::io::Result<()> {
        match self {
            Store::Disk(_) => std::fs::File::options()
                .write(true)
                .open(path)?
                .set_modified(SystemTime::now()),
            Store::S3(_) | Store::Unusable(_) => Ok(()),
        }
    }

    /// Everything stored below `dir` (`originals` or `variants`, or a
    /// location below them), temporary files included.
    pub fn list(&self, dir: &str) -> std::io::Result<Vec<Listed>> {
        match self {
            Store::Disk(root) => list_files(&root.join(dir)),
            Store::S3(s3) => s3.list(&format!("{}/", dir.trim_end_matches('/')), None),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// Removes the file at `path` (what is already gone is no error).
    pub fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        match self {
            Store::Disk(_) => gone(std::fs::remove_file(path)),
            Store::S3(s3) => s3.delete(path),
            Store::Unusable(reason) => Err(unusable(reason)),
        }
    }

    /// Removes the least recently used variants (see [`Store::touch`]; or
    /// `served`, when this server last served one from memory, if later)
    /// until they take at most `max_bytes`, never `keep`. Returns the
    /// locations removed.
    pub fn evict_variants(
        &self,
        max_bytes: u64,
        keep: &Path,
        served: impl Fn(&Path) -> Option<SystemTime>,
    ) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<(SystemTime, Listed)> = self
            .list("variants")?
            .into_iter()
            .filter(|listed| !is_temporary(listed))
            .map(|listed| {
                let used = served(&listed.path).map_or(listed.modified, |served| served.max(listed.modified));
                (used, listed)
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, listed)| listed.bytes).sum();
        files.sort_by(|(a, a_listed), (b, b_listed)| (a, &a_listed.path).cmp(&(b, &b_listed.path)));
        let mut removed = Vec::new();
        for (_, listed) in files {
            if total <= max_bytes {
                break;
            }
            if listed.path == keep {
                continue;
            }
            self.remove_file(&listed.path)?;
            total = total.saturating_sub(listed.bytes);
            removed.push(listed.path);
        }
        Ok(removed)
    }

    /// What may be left over: the keys of the originals stored, and the
    /// temporary files (of originals and variants) older than `stale`.
    pub fn leftovers(&self, stale: std::time::Duration) -> std::io::Result<(Vec<String>, Vec<PathBuf>)> {
        let is_stale = |listed: &Listed| listed.modified.elapsed().is_ok_and(|age| age > stale);
        let mut keys = Vec::new();
        let mut temporaries = Vec::new();
        for listed in self.list("originals")? {
            if !is_temporary(&listed) {
                keys.push(listed.name());
            } else if is_stale(&listed) {
                temporaries.push(listed.path);
            }
        }
        for listed in self.list("variants")? {
            if is_temporary(&listed) && is_stale(&listed) {
                temporaries.push(listed.path);
            }
        }
        Ok((keys, temporaries))
    }

    /// Removes the original `key` and its variants (what is already gone is no error).
    pub fn remove(&self, key: &str) -> std::io::Result<()> {
        match self {
            Store::Disk(_) => gone(std::fs::remove_dir_all(self.variants_of(key)))?,
            Store::S3(_) | Store::Unusable(_) => {
                for listed in self.list(&format!("variants/{key}"))? {
                    self.remove_file(&listed.path)?;
                }
            }
        }
        self.remove_file(&self.original(key))
    }
}

/// The error of every use of an unusable store.
fn unusable(reason: &str) -> std::io::Error {
    std::io::Error::other(format!("the asset store cannot be used: {reason}"))
}

/// Writes `bytes` to a new temporary file beside `path`, fsynced.
fn stage_file(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a stored file needs a directory"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!("{TEMPORARY}{}", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match written {
        Ok(()) => Ok(temporary),
        Err(err) => {
            let _ = std::fs::remove_file(&temporary);
            Err(err)
        }
    }
}

/// Renames the staged `temporary` to `path` (or drops it if `path` already
/// holds the same bytes) and fsyncs the directory.
fn place_file(temporary: &Path, path: &Path) -> std::io::Result<()> {
    if path.is_file() {
        return std::fs::remove_file(temporary);
    }
    if let Err(err) = std::fs::rename(temporary, path) {
        let _ = std::fs::remove_file(temporary);
        return Err(err);
    }
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// The files below `dir`, at any depth (none if it does not exist).
fn list_files(dir: &Path) -> std::io::Result<Vec<Listed>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                dirs.push(entry.path());
            } else if metadata.is_file() {
                files.push(Listed {
                    path: entry.path(),
                    bytes: metadata.len(),
                    modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    Ok(files)
}
