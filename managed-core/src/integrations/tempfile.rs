//! An atomic file write (feature `tempfile`): [`AtomicWrite`] writes to a
//! temporary file next to the target and, only when the block succeeds,
//! flushes it, syncs it and renames it over the target. On an error, a
//! panic or a cancellation the temporary file is removed and the target is
//! untouched: readers see the old content or the new one, never half of it.
//!
//! ```
//! use managed::{scope, with, Error};
//! use managed::tempfile::AtomicWrite;
//! use std::io::Write;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("config.toml");
//! std::fs::write(&path, "old = true\n")?;
//!
//! // The block fails: the target keeps its old content, no temporary file is left.
//! let failed: Result<(), Error> = scope! {
//!     let out = with!(AtomicWrite::new(&path))?;
//!     writeln!(out, "new = true")?;
//!     Err(Error::msg("validation failed"))
//! };
//! assert!(failed.is_err());
//! assert_eq!(std::fs::read_to_string(&path)?, "old = true\n");
//! assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
//!
//! // The block succeeds: the new content replaces the old one in one rename.
//! scope! {
//!     let out = with!(AtomicWrite::new(&path))?;
//!     writeln!(out, "new = true")?;
//!     Ok::<_, Error>(())
//! }?;                                         // a flush, sync or rename error is in here
//! assert_eq!(std::fs::read_to_string(&path)?, "new = true\n");
//! # Ok::<(), Error>(())
//! ```

// The crate is `no_std`; these modules need `std`, and read better with its prelude.
use std::format;
use std::prelude::rust_2021::*;

use std::fmt;
use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use ::tempfile::TempPath;

use crate::{Manage, Outcome};

/// A manager that replaces the file at a path atomically: `rename(2)` of a
/// temporary file written in the same directory.
///
/// - **Enter** creates the temporary file (named `.<file name>.<random>.tmp`)
///   in the target's directory, so the final rename never crosses a file
///   system, and lends a [`BufWriter`] over it.
/// - **Exit after `Ok`**: flushes the buffer, `sync_all`s the file (the data
///   is on disk before it gets the target's name), renames it over the
///   target and, on Unix, syncs the directory (so the rename itself survives
///   a crash). The first of these that fails is the exit's error, the
///   temporary file is removed and, unless the directory sync failed (the
///   rename has happened by then), the target is untouched.
/// - **Exit after an error, a panic or a cancellation**: the buffered data
///   is discarded, the temporary file is removed, the target is untouched.
///   A failure to remove it is the exit's error (attached to the scope's as
///   suppressed, or sent to the error hook).
///
/// The new file takes the permissions of the file it replaces; a new target
/// gets those given with [`permissions`](AtomicWrite::permissions), or else
/// the temporary file's (`0o600` on Unix: readable by its owner only). A
/// target that is a symbolic link is replaced by the new file (the link's
/// target is not written). The exit's file system calls block: in an async
/// scope it runs in place, as every sync manager's exit does.
///
/// ```
/// use managed::{scope, with, Error};
/// use managed::tempfile::AtomicWrite;
/// use std::io::Write;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.csv");
/// let rows = scope! {
///     let out = with!(AtomicWrite::new(&path))?;
///     for n in 1..=3 {
///         writeln!(out, "{n},{}", n * n)?;
///     }
///     Ok::<_, Error>(3)
/// }?;
/// assert_eq!(rows, 3);
/// assert_eq!(std::fs::read_to_string(&path)?, "1,1\n2,4\n3,9\n");
/// # Ok::<(), Error>(())
/// ```
#[must_use = "an AtomicWrite does nothing until it is entered (`with!`)"]
pub struct AtomicWrite {
    target: PathBuf,
    permissions: Option<Permissions>,
    open: Option<Open>,
}

/// The entered state: the writer lent to the block and the temporary file's
/// path (removed when dropped, so even a leaked manager leaves no file).
struct Open {
    writer: BufWriter<File>,
    path: TempPath,
}

impl AtomicWrite {
    /// A write that will replace the file at `target` (created if missing;
    /// its directory must exist).
    ///
    /// ```
    /// let write = managed::tempfile::AtomicWrite::new("settings.json");
    /// assert_eq!(write.target(), std::path::Path::new("settings.json"));
    /// ```
    pub fn new(target: impl Into<PathBuf>) -> Self {
        AtomicWrite { target: target.into(), permissions: None, open: None }
    }

    /// The permissions the file gets when the target does not exist yet (an
    /// existing target's permissions are kept).
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use managed::{scope, with, Error};
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("public.txt");
    /// let write = managed::tempfile::AtomicWrite::new(&path)
    ///     .permissions(std::fs::Permissions::from_mode(0o644));
    /// scope! { with!(write)?; Ok::<_, Error>(()) }?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o644);
    /// # }
    /// # Ok::<(), managed::Error>(())
    /// ```
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// The path that is replaced when the block succeeds.
    ///
    /// ```
    /// let write = managed::tempfile::AtomicWrite::new("/srv/index.html");
    /// assert_eq!(write.target(), std::path::Path::new("/srv/index.html"));
    /// ```
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file's path while entered (`None` before enter).
    ///
    /// ```
    /// use managed::Manage;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut write = managed::tempfile::AtomicWrite::new(dir.path().join("a.txt"));
    /// assert!(write.temporary_path().is_none());
    /// write.enter()?;
    /// let temporary = write.temporary_path().expect("entered").to_owned();
    /// assert_eq!(temporary.parent(), Some(dir.path()));
    /// write.exit(&managed::Outcome::err(&"abandoned"))?;
    /// assert!(!temporary.exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn temporary_path(&self) -> Option<&Path> {
        self.open.as_ref().map(|open| &*open.path)
    }

    fn create(&self) -> io::Result<Open> {
        let dir = directory_of(&self.target);
        let prefix = match self.target.file_name() {
            Some(name) => {
                let mut prefix = std::ffi::OsString::from(".");
                prefix.push(name);
                prefix.push(".");
                prefix
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("cannot write {} atomically: the path has no file name", self.target.display()),
                ))
            }
        };
        let file = ::tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| context(e, format_args!("creating a temporary file in {}", dir.display())))?;
        let (file, path) = file.into_parts();
        let kept = match fs::metadata(&self.target) {
            Ok(meta) if meta.is_file() => Some(meta.permissions()),
            _ => self.permissions.clone(),
        };
        if let Some(permissions) = kept {
            file.set_permissions(permissions)
                .map_err(|e| context(e, format_args!("setting the permissions of {}", path.display())))?;
        }
        Ok(Open { writer: BufWriter::new(file), path })
    }

    fn commit(target: &Path, dir: &Path, open: Open) -> io::Result<()> {
        let Open { writer, path } = open;
        let file = match writer.into_inner() {
            Ok(file) => file,
            Err(e) => {
                let e = context(e.into_error(), format_args!("flushing {}", path.display()));
                return Err(discard(path, e));
            }
        };
        if let Err(e) = file.sync_all() {
            let error = context(e, format_args!("syncing {}", path.display()));
            return Err(discard(path, error));
        }
        drop(file);
        let shown = path.display().to_string();
        if let Err(e) = path.persist(target) {
            let error = context(e.error, format_args!("renaming {shown} over {}", target.display()));
            return Err(discard(e.path, error));
        }
        sync_directory(dir)
    }
}

impl Manage for AtomicWrite {
    type Target = BufWriter<File>;
    type Error = io::Error;

    /// Creates the temporary file and lends a buffered writer over it.
    fn enter(&mut self) -> io::Result<&mut BufWriter<File>> {
        let open = match self.open.take() {
            Some(open) => open,
            None => self.create()?,
        };
        Ok(&mut self.open.insert(open).writer)
    }

    /// Renames the written file over the target after `Ok` (flushed and
    /// synced first); removes it otherwise.
    fn exit(self, outcome: &Outcome<'_>) -> io::Result<()> {
        let Some(open) = self.open else { return Ok(()) };
        if outcome.is_ok() {
            AtomicWrite::commit(&self.target, directory_of(&self.target), open)
        } else {
            // The block failed, panicked or was cancelled: what it wrote is
            // not flushed anywhere.
            let (file, _unwritten) = open.writer.into_parts();
            drop(file);
            remove(open.path)
        }
    }
}

impl fmt::Debug for AtomicWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWrite")
            .field("target", &self.target)
            .field("temporary", &self.temporary_path())
            .finish_non_exhaustive()
    }
}

/// The directory the target is in (`.` for a bare file name).
fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Removes the temporary file after a failed commit; a failure to remove it
/// is attached to the error's message (it is the lesser problem).
fn discard(path: TempPath, error: io::Error) -> io::Error {
    match remove(path) {
        Ok(()) => error,
        Err(also) => io::Error::new(error.kind(), Context { what: format!("{error}; and then {also}"), source: error }),
    }
}

/// Removes the temporary file; already gone (its directory was removed) is
/// fine.
fn remove(path: TempPath) -> io::Result<()> {
    let shown = path.display().to_string();
    match path.close() {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(context(e, format_args!("removing {shown}"))),
        _ => Ok(()),
    }
}

/// Makes the rename durable: on Unix a directory entry is only on disk once
/// the directory itself is synced.
fn sync_directory(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| context(e, format_args!("syncing the directory {} after the rename", dir.display())))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// An `io::Error` that says what was being done and keeps the kind (so
/// callers can still match on it). The message includes the original
/// error's, so `source()` does not repeat it (the API guidelines' rule).
fn context(source: io::Error, what: fmt::Arguments<'_>) -> io::Error {
    io::Error::new(source.kind(), Context { what: format!("{what}: {source}"), source })
}

/// The message, and the original error for `Debug`.
#[derive(Debug)]
struct Context {
    what: String,
    #[allow(dead_code)] // read by the derived `Debug` only
    source: io::Error,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Context {}
