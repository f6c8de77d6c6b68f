//! Child processes as managers (feature `process`): `std::process::Child`
//! is a [`Manage`], and with the `tokio` feature `tokio::process::Child` is
//! a [`SendAsyncManage`](crate::SendAsyncManage). Entering lends the child
//! itself; the exit makes sure no zombie and no orphan is left:
//!
//! | the block ended | the exit |
//! | --- | --- |
//! | `Ok` | closes the child's standard input, output and error pipes (a child that reads its input to the end, or writes more than a pipe holds, would otherwise never finish), then waits for it |
//! | `Err`, panic | kills it (`SIGKILL` on Unix), then waits for it |
//! | cancelled (async scope) | std `Child`: kills and waits in place (waiting for a killed process is quick); tokio `Child`: kills it at once, then awaits it on a spawned task (outside a runtime, tokio's background reaper collects it) |
//!
//! The exit's error is that of the wait or the kill (a child that already
//! exited is not an error). The exit status is not checked: to fail on a
//! non-zero status, wait in the block (the exit's wait then returns at
//! once) and return the error there:
//!
//! ```
//! # #[cfg(unix)] {
//! use managed::{scope, with, Error};
//! use std::io::Read;
//! use std::process::{Command, Stdio};
//!
//! let listing = scope! {
//!     let child = with!(Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?)?;
//!     let mut out = String::new();
//!     child.stdout.take().expect("piped").read_to_string(&mut out)?;
//!     let status = child.wait()?;
//!     if !status.success() {
//!         return Err(Error::msg(format!("echo failed: {status}")));
//!     }
//!     Ok::<_, Error>(out)
//! }?;
//! assert_eq!(listing, "hello\n");
//!
//! // The block fails while the child still runs: it is killed and reaped.
//! let failed: Result<(), Error> = scope! {
//!     let child = with!(Command::new("sleep").arg("30").spawn()?)?;
//!     let _pid = child.id();
//!     Err(Error::msg("gave up"))
//! };
//! assert!(failed.is_err()); // returned at once, not after 30 seconds
//! # }
//! # Ok::<(), managed::Error>(())
//! ```
//!
//! Only the child itself is killed: a process it started (`sh -c` running
//! a pipeline) lives on. To stop a whole tree, start the child as the
//! leader of a new process group (`CommandExt::process_group(0)` on Unix)
//! and signal the group in the block or in a manager of yours.

// The crate is `no_std`; these modules need `std`, and read better with its prelude.
use std::format;
use std::prelude::rust_2021::*;

use std::io;
use std::process::Child;

use crate::{Manage, Outcome};

/// Exit waits for the child after `Ok` (its pipes closed first); after an
/// error, a panic or a cancellation it kills the child, then waits for it.
/// See [the module](self).
///
/// ```
/// # #[cfg(unix)] {
/// use managed::Manage;
///
/// let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
/// child.enter()?;
/// child.exit(&managed::Outcome::err(&"stop"))?; // killed and reaped
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
impl Manage for Child {
    type Target = Child;
    type Error = io::Error;

    fn enter(&mut self) -> io::Result<&mut Child> {
        Ok(self)
    }

    fn exit(mut self, outcome: &Outcome<'_>) -> io::Result<()> {
        close_pipes(&mut self);
        if outcome.is_ok() {
            self.wait().map(drop)
        } else {
            kill_and_wait(&mut self)
        }
    }
}

/// Python's `Popen.__exit__` closes the pipes before it waits, for the same
/// reason: a child blocked writing to a full pipe, or reading an input that
/// never ends, would never exit.
fn close_pipes(child: &mut Child) {
    drop(child.stdin.take());
    drop(child.stdout.take());
    drop(child.stderr.take());
}

fn kill_and_wait(child: &mut Child) -> io::Result<()> {
    if let Ok(Some(_)) = child.try_wait() {
        return Ok(());
    }
    if let Err(e) = child.kill() {
        // Older Rust versions report a child that exited meanwhile this way.
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(());
        }
        // Not killed (e.g. not permitted): waiting could block for ever.
        return Err(io::Error::new(e.kind(), format!("could not kill child process {}: {e}", child.id())));
    }
    child.wait().map(drop)
}

#[cfg(feature = "tokio")]
mod tokio_child {
    use std::format;
    use std::io;
    use std::prelude::rust_2021::*;

    use ::tokio::process::Child;

    use crate::tokio::spawn_cancelled_exit;
    use crate::{Outcome, ReportKind, SendAsyncManage};

    /// The async form of the std impl: exit awaits the child after `Ok` (its
    /// pipes closed first); after an error or a panic it kills the child,
    /// then awaits it. When the scope is cancelled, the child is killed at
    /// once and awaited on a spawned task (without a runtime, tokio's
    /// background reaper collects it); a failure goes to the error hook.
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let status = scope!(async {
    ///     let child = with!(tokio::process::Command::new("true").spawn()?)?;
    ///     Ok::<_, Error>(child.wait().await?)
    /// })
    /// .await?;
    /// assert!(status.success());
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    impl SendAsyncManage for Child {
        type Target = Child;
        type Error = io::Error;

        async fn enter(&mut self) -> io::Result<&mut Child> {
            Ok(self)
        }

        async fn exit(mut self, outcome: &Outcome<'_>) -> io::Result<()> {
            drop(self.stdin.take());
            drop(self.stdout.take());
            drop(self.stderr.take());
            if outcome.is_failure() {
                start_kill(&mut self)?;
            }
            self.wait().await.map(drop)
        }

        fn exit_cancelled(mut self) {
            // The kill cannot wait for a runtime: it is sent now.
            if let Err(e) = start_kill(&mut self) {
                crate::report(ReportKind::Cancelled, &e);
            }
            if matches!(self.try_wait(), Ok(Some(_))) {
                return;
            }
            if ::tokio::runtime::Handle::try_current().is_ok() {
                spawn_cancelled_exit(self);
            }
            // Else the child is dropped: tokio queues a child dropped before
            // it was reaped, and reaps it in the background.
        }
    }

    /// Sends the kill; a child that has already exited is not an error.
    fn start_kill(child: &mut Child) -> io::Result<()> {
        match child.start_kill() {
            Err(e) if child.try_wait().ok().flatten().is_none() => Err(io::Error::new(
                e.kind(),
                format!(
                    "could not kill child process {}: {e}",
                    child.id().map_or_else(|| "?".into(), |id| id.to_string())
                ),
            )),
            _ => Ok(()),
        }
    }
}
