//! Output files that appear whole or not at all.
//!
//! Every file Vigil writes goes to a hidden temporary sibling first and is renamed over
//! the destination only once complete, so a crash never leaves a half-written CSV.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The hidden temporary sibling that `path` is written to before the rename.
///
/// The extension is kept (`.metrics.tmp-42.csv`) so encoders that pick a format from the
/// file name, like the PNG writer, still work.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!(
            ".{stem}.tmp-{}.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.tmp-{}", std::process::id()),
    };
    path.with_file_name(name)
}

/// A buffered file that becomes visible at its path only on [`AtomicFile::commit`].
///
/// Dropped without a commit (an error, a panic), it removes its temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Opens the temporary sibling of `path` for writing; `path`'s folder must exist.
    pub fn create(path: impl AsRef<Path>) -> io::Result<AtomicFile> {
        let path = path.as_ref().to_path_buf();
        let temp = temp_sibling(&path);
        let file = File::create(&temp).map_err(|e| annotate(e, &temp))?;
        Ok(AtomicFile {
            path,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
        }
        fs::rename(&self.temp, &self.path).map_err(|e| annotate(e, &self.path))
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.writer
            .as_mut()
            .ok_or_else(|| io::Error::other("write after commit"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            // Best effort: the temporary file is hidden and named after our pid anyway.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Writes `value` as pretty JSON with a final newline, atomically (summaries, reports).
pub fn write_json<T: serde::Serialize>(path: impl AsRef<Path>, value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Renames a finished temporary file (see [`temp_sibling`]) into place.
pub fn commit_temp(temp: &Path, path: &Path) -> io::Result<()> {
    fs::rename(temp, path).map_err(|e| annotate(e, path))
}

fn annotate(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"a,b\n1,2\n").unwrap();
        assert!(!path.exists(), "visible before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a,b\n1,2\n");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
    }

    #[test]
    fn dropped_file_leaves_nothing_and_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half a ro").unwrap();
        drop(f);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temp_sibling_keeps_the_extension() {
        let t = temp_sibling(Path::new("a/b/chart.png"));
        assert_eq!(t.parent(), Some(Path::new("a/b")));
        assert!(t.to_string_lossy().ends_with(".png"));
        assert!(
            t.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".chart.tmp-")
        );
    }
}
