//! `Manage` for the std types whose `Drop` loses errors
//! (rust-lang/rust#32677: `BufWriter` swallows the flush error on drop).

use std::fs::File;
use std::io::{self, BufWriter, LineWriter, Write};

use crate::{Manage, Outcome};

/// Exit flushes the buffer and returns the flush error that `Drop` would
/// swallow. The target is the writer itself.
///
/// ```
/// use std::io::Write;
/// let mut g = managed::Guard::new(std::io::BufWriter::new(Vec::new()));
/// write!(g.enter()?, "data")?;
/// g.exit(&managed::Outcome::Ok)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[diagnostic::do_not_recommend]
impl<W: Write> Manage for BufWriter<W> {
    type Target = BufWriter<W>;
    type Error = io::Error;
    fn enter(&mut self) -> io::Result<&mut Self::Target> {
        Ok(self)
    }
    /// Flushes on every outcome: what was written before a failure is
    /// delivered, as `Drop` would try to, but with the error returned.
    fn exit(mut self, _outcome: &Outcome<'_>) -> io::Result<()> {
        self.flush()
    }
}

/// Exit flushes the last partial line and returns the flush error.
///
/// ```
/// use std::io::Write;
/// let mut g = managed::Guard::new(std::io::LineWriter::new(Vec::new()));
/// write!(g.enter()?, "no newline yet")?;
/// g.exit(&managed::Outcome::Ok)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[diagnostic::do_not_recommend]
impl<W: Write> Manage for LineWriter<W> {
    type Target = LineWriter<W>;
    type Error = io::Error;
    fn enter(&mut self) -> io::Result<&mut Self::Target> {
        Ok(self)
    }
    fn exit(mut self, _outcome: &Outcome<'_>) -> io::Result<()> {
        self.flush()
    }
}

/// Exit calls `sync_all`, so data and metadata are on disk (or the error is
/// returned) before the scope ends. A file that cannot be synced because of
/// what it is (opened read-only on platforms that refuse it, a pipe, a
/// character device) has nothing to lose, and exits `Ok`.
///
/// ```
/// let path = std::env::temp_dir().join("managed-doc-file.txt");
/// let mut g = managed::Guard::new(std::fs::File::create(&path)?);
/// std::io::Write::write_all(g.enter()?, b"durable")?;
/// g.exit(&managed::Outcome::Ok)?;
/// assert_eq!(std::fs::read(&path)?, b"durable");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[diagnostic::do_not_recommend]
impl Manage for File {
    type Target = File;
    type Error = io::Error;
    fn enter(&mut self) -> io::Result<&mut Self::Target> {
        Ok(self)
    }
    fn exit(self, _outcome: &Outcome<'_>) -> io::Result<()> {
        match self.sync_all() {
            Err(e) if matches!(e.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied) => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink whose flush fails, as a full disk or a closed pipe does.
    struct FailingSink;
    impl Write for FailingSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn bufwriter_exit_returns_flush_error() {
        let mut w = BufWriter::new(FailingSink);
        w.enter().expect("enter").write_all(b"x").expect("buffered");
        let err = w.exit(&Outcome::Ok).expect_err("flush fails");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn linewriter_exit_returns_flush_error() {
        // A partial line stays buffered; only the exit's flush can report
        // that delivering it failed (a drop would swallow the error).
        let mut w = LineWriter::new(FailingSink);
        w.enter().expect("enter").write_all(b"partial").expect("buffered");
        let err = w.exit(&Outcome::Ok).expect_err("flush fails");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn file_exit_syncs_and_tolerates_read_only() {
        let dir = std::env::temp_dir().join(std::format!("managed-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("f");
        let mut f = File::create(&path).expect("create");
        f.enter().expect("enter").write_all(b"abc").expect("write");
        f.exit(&Outcome::Ok).expect("sync");
        let ro = File::open(&path).expect("open");
        ro.exit(&Outcome::Ok).expect("read-only exit is fine");
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
