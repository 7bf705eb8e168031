//! The index files of an on-disk store: one folder, files written whole and
//! renamed into place (write to `.NAME.tmp`, `fsync`, rename, `fsync` the
//! folder), so a crash leaves each file whole or absent; read with `pread`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{valid_index_name, IndexFill, StorageError};

pub(crate) struct IndexDir {
    dir: PathBuf,
    /// Open files for `pread`, by name.
    open: Mutex<HashMap<String, Arc<File>>>,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.display().to_string(), source }
}

impl IndexDir {
    /// The folder `dir` (created if absent and `create`); stray temporary files are removed.
    pub(crate) fn open(dir: &Path, create: bool) -> Result<IndexDir, StorageError> {
        if create {
            std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
            if let Ok(items) = std::fs::read_dir(dir) {
                for item in items.flatten() {
                    if item.file_name().to_str().is_some_and(|name| name.starts_with('.') && name.ends_with(".tmp")) {
                        let _ = std::fs::remove_file(item.path());
                    }
                }
            }
        }
        Ok(IndexDir { dir: dir.to_path_buf(), open: Mutex::default() })
    }

    fn open_files(&self) -> MutexGuard<'_, HashMap<String, Arc<File>>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn path(&self, name: &str) -> PathBuf {
        assert!(valid_index_name(name), "index file name {name:?}");
        self.dir.join(name)
    }

    pub(crate) fn write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        let path = self.path(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let file =
            OpenOptions::new().create(true).truncate(true).write(true).open(&tmp).map_err(io("creating", &tmp))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|err| StorageError::Io {
            op: "writing",
            path: tmp.display().to_string(),
            source: err.into_error(),
        })?;
        file.sync_all().map_err(io("syncing", &tmp))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(io("renaming into place", &path))?;
        File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(io("syncing", &self.dir))?;
        self.open_files().remove(name);
        Ok(())
    }

    fn file(&self, name: &str) -> Result<Arc<File>, StorageError> {
        if let Some(file) = self.open_files().get(name) {
            return Ok(Arc::clone(file));
        }
        let path = self.path(name);
        let file = Arc::new(File::open(&path).map_err(io("opening", &path))?);
        self.open_files().insert(name.to_string(), Arc::clone(&file));
        Ok(file)
    }

    pub(crate) fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        let file = self.file(name)?;
        file.read_exact_at(buf, offset).map_err(|source| StorageError::Io {
            op: "reading",
            path: self.path(name).display().to_string(),
            source,
        })
    }

    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io("reading", &path)(err)),
        }
    }

    pub(crate) fn remove(&self, name: &str) -> Result<(), StorageError> {
        let path = self.path(name);
        self.open_files().remove(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io("removing", &path)(err)),
        }
    }

    pub(crate) fn names(&self) -> Result<Vec<String>, StorageError> {
        let items = match std::fs::read_dir(&self.dir) {
            Ok(items) => items,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io("listing", &self.dir)(err)),
        };
        let mut names = Vec::new();
        for item in items {
            let item = item.map_err(io("listing", &self.dir))?;
            if let Some(name) = item.file_name().to_str().filter(|name| valid_index_name(name)) {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }
}
