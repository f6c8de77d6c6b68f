//! The `Manage` trait (a value with an enter and an exit) and manual management.

use core::fmt;

use crate::Outcome;

/// A resource with an enter and an exit: Python's context manager, with an
/// exit that returns errors, consumes the manager and sees *why* the block
/// ended.
///
/// - [`enter`](Manage::enter) acquires and lends the target to the block. If
///   it fails, `exit` is never called and the manager is dropped.
/// - [`exit`](Manage::exit) releases. It sees the [`Outcome`] of the block,
///   takes `self` by value, and returns its own error (which `scope!` returns
///   or attaches as suppressed, never drops).
///
/// Use one with `scope!` + `with!`, an `ExitStack`, or by hand with
/// [`Guard`]. `#[managed]` writes impls for you.
///
/// # Example
///
/// ```
/// use managed::{Manage, Outcome};
///
/// struct Transaction { log: Vec<&'static str> }
///
/// impl Manage for Transaction {
///     type Target = Vec<&'static str>;
///     type Error = std::convert::Infallible;
///     fn enter(&mut self) -> Result<&mut Self::Target, Self::Error> {
///         self.log.push("BEGIN");
///         Ok(&mut self.log)
///     }
///     fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
///         self.log.push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
///         println!("{:?}", self.log);
///         Ok(())
///     }
/// }
///
/// let mut tx = managed::Guard::new(Transaction { log: vec![] });
/// tx.enter()?.push("INSERT");
/// tx.exit(&Outcome::Ok)?;
/// # Ok::<(), std::convert::Infallible>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a manager: it does not implement `managed::Manage`",
    label = "not a manager: `with!`, `Guard` and `ExitStack` need a value with an enter and an exit",
    note = "a manager implements `managed::Manage` (`enter(&mut self)` and `exit(self, &Outcome)`); \
            write `#[managed]` on its `impl` block with `#[enter]`/`#[exit]` methods, or implement the trait",
    note = "for a value that only needs cleanup, use `defer!` instead of `with!`",
    note = "an async manager (`managed::AsyncManage`) is entered only in an async scope: `scope!(async {{ .. }}).await`"
)]
pub trait Manage {
    /// What the block borrows while entered (often `Self`).
    type Target: ?Sized;
    /// Error of enter and exit. `Debug` so that a failure on a path that
    /// cannot return it (a dropped guard, a panic in flight) is still reported.
    type Error: fmt::Debug;
    /// Acquire. On `Err`, `exit` is never called.
    ///
    /// `with!`, [`Guard`] and `ExitStack` call it for you; by hand, pair it
    /// with exactly one `exit` (what `Guard` enforces):
    ///
    /// ```
    /// use managed::{Manage, Outcome};
    /// use std::io::{BufWriter, Write};
    ///
    /// let mut sink = Vec::new();
    /// let mut out = BufWriter::new(&mut sink);
    /// out.enter()?.write_all(b"kept")?; // the target of a `BufWriter` is itself
    /// out.exit(&Outcome::Ok)?;          // flushed, or the flush error
    /// assert_eq!(sink, b"kept");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// When the resource cannot be acquired.
    fn enter(&mut self) -> Result<&mut Self::Target, Self::Error>;
    /// Release. Sees how the block ended; consumes the manager.
    ///
    /// The error it returns is the caller's to handle (`scope!` returns it
    /// or attaches it as suppressed):
    ///
    /// ```
    /// use managed::{Manage, Outcome};
    /// use std::io::{BufWriter, Write};
    ///
    /// /// A writer whose device is full.
    /// struct Full;
    /// impl Write for Full {
    ///     fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
    ///         Err(std::io::ErrorKind::StorageFull.into())
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    ///
    /// let mut out = BufWriter::new(Full);
    /// out.enter()?.write_all(b"buffered, not yet written")?;
    /// let flushed = out.exit(&Outcome::Ok);        // `Drop` would have lost this
    /// assert_eq!(flushed.unwrap_err().kind(), std::io::ErrorKind::StorageFull);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// When the release fails (a flush, a commit, a close).
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Self::Error>;
}

/// Manual management: a manager entered by hand, exited by hand.
///
/// `Guard::new(m)` holds the manager; [`enter`](Guard::enter) enters it and
/// lends the target (for as long as the guard is borrowed);
/// [`exit`](Guard::exit) exits it with the outcome you give and returns the
/// exit's error.
///
/// A guard dropped after entering without `exit` (a `?` left before it)
/// was not told how the block ended, so it does not pass for a success: it
/// runs the exit with [`Outcome::Cancelled`] ([`Outcome::Panic`] while
/// unwinding, the payload not available), so a transaction rolls back, and
/// sends a failure of that exit to the [error hook](crate::set_error_hook)
/// ([`ReportKind::GuardDropped`](crate::ReportKind::GuardDropped)): never
/// silently. `guard.exit(&Outcome::Ok)` is how a block says it succeeded.
///
/// ```
/// use std::io::Write;
///
/// let mut guard = managed::Guard::new(std::io::BufWriter::new(Vec::new()));
/// let out = guard.enter()?;
/// writeln!(out, "hello")?;
/// guard.exit(&managed::Outcome::Ok)?; // the flush error, if any, comes back here
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Dropped after a `?`, the exit sees the cancellation:
///
/// ```
/// use managed::{Guard, Manage, Outcome};
///
/// struct Tx<'l>(&'l std::cell::Cell<&'static str>);
/// impl Manage for Tx<'_> {
///     type Target = Self;
///     type Error = std::convert::Infallible;
///     fn enter(&mut self) -> Result<&mut Self, Self::Error> { Ok(self) }
///     fn exit(self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
///         self.0.set(match outcome {
///             Outcome::Ok => "COMMIT",
///             Outcome::Cancelled => "ROLLBACK (not told how the block ended)",
///             _ => "ROLLBACK",
///         });
///         Ok(())
///     }
/// }
///
/// fn pay(last: &std::cell::Cell<&'static str>, amount: &str) -> Result<(), Box<dyn std::error::Error>> {
///     let mut tx = Guard::new(Tx(last));
///     tx.enter()?;
///     let _cents: u32 = amount.parse()?; // `?` drops the guard unexited
///     tx.exit(&Outcome::Ok)?;
///     Ok(())
/// }
///
/// let last = std::cell::Cell::new("");
/// assert!(pay(&last, "ten").is_err());
/// assert_eq!(last.get(), "ROLLBACK (not told how the block ended)");
/// pay(&last, "10")?;
/// assert_eq!(last.get(), "COMMIT");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a guard exits its manager when dropped; bind it to a variable"]
pub struct Guard<M: Manage> {
    manager: Option<M>,
    entered: bool,
}

impl<M: Manage> Guard<M> {
    /// Holds `manager`, not yet entered.
    ///
    /// ```
    /// let guard = managed::Guard::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// assert!(!guard.is_entered());
    /// ```
    pub fn new(manager: M) -> Self {
        Guard { manager: Some(manager), entered: false }
    }

    /// Enters the manager and lends its target.
    ///
    /// Entering twice is an error of the caller, not of the manager: the
    /// second call enters again (some managers allow it, as re-entrant
    /// Python managers do); the exit still runs once.
    ///
    /// # Errors
    /// The manager's enter error; the guard then holds a manager that will
    /// not be exited.
    ///
    /// ```
    /// let mut guard = managed::Guard::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// guard.enter()?;
    /// assert!(guard.is_entered());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&mut self) -> Result<&mut M::Target, M::Error> {
        match &mut self.manager {
            Some(m) => {
                let target = m.enter();
                self.entered = self.entered || target.is_ok();
                target
            }
            // `exit` consumes the guard, so the manager is always present.
            None => unreachable!("Guard without manager"),
        }
    }

    /// `true` once [`enter`](Guard::enter) succeeded.
    ///
    /// ```
    /// let guard = managed::Guard::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// assert!(!guard.is_entered());
    /// ```
    pub fn is_entered(&self) -> bool {
        self.entered
    }

    /// Exits the manager with `outcome` (only if it was entered) and returns
    /// the exit's result.
    ///
    /// # Errors
    /// The manager's exit error.
    ///
    /// ```
    /// let mut guard = managed::Guard::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// guard.enter()?;
    /// guard.exit(&managed::Outcome::err(&"the block failed"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), M::Error> {
        match (self.manager.take(), self.entered) {
            (Some(m), true) => m.exit(outcome),
            _ => Ok(()),
        }
    }

    /// Gives the manager back without exiting it (entered or not): the
    /// caller takes over its cleanup.
    ///
    /// ```
    /// let guard = managed::Guard::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// let writer = guard.into_inner();
    /// assert!(writer.buffer().is_empty());
    /// ```
    pub fn into_inner(mut self) -> M {
        match self.manager.take() {
            Some(m) => m,
            None => unreachable!("Guard without manager"),
        }
    }
}

impl<M: Manage> Drop for Guard<M> {
    fn drop(&mut self) {
        let Some(m) = self.manager.take() else { return };
        if !self.entered {
            return;
        }
        // Nobody said the block succeeded (a `?` may have skipped `exit`):
        // `Ok` here would commit on an error path.
        let outcome = crate::outcome::in_drop(Outcome::Cancelled);
        crate::scope::rules::run_exit_reporting(m, &outcome, crate::ReportKind::GuardDropped);
    }
}

impl<M: Manage + fmt::Debug> fmt::Debug for Guard<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("manager", &self.manager).field("entered", &self.entered).finish()
    }
}
