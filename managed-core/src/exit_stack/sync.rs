//! `ExitStack`: Python's `contextlib.ExitStack`, with Rust borrows.
//!
//! ```
//! let stack = managed::ExitStack::new();
//! stack.callback(|| println!("runs at close"));
//! stack.close()?;
//! # Ok::<(), managed::Error>(())
//! ```

use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt;
use core::ptr::NonNull;

use super::close::{run_outcome, settle_run, CloseState, Closed, GivenBy};
use super::entries::{CallbackExit, Entered, Entering, Entries, Exit, ManagerExit, PushedExit};
use crate::scope::rules::catch;
use crate::{Error, Manage, Outcome, ReportKind};

/// Python's `contextlib.ExitStack`: a dynamic number of managers and cleanup
/// functions, exited last-in first-out, with every failure kept.
///
/// - [`enter`](ExitStack::enter) takes `&self` and lends the entered target,
///   so many targets can be held at once; closing needs the stack by value,
///   so the borrow checker forbids using a target after
///   [`close`](ExitStack::close).
/// - [`callback`](ExitStack::callback) registers a plain cleanup;
///   [`push`](ExitStack::push) an exit function that sees the
///   [`Outcome`] and may suppress the current error by returning `Ok(true)`.
/// - Closing runs every entry, newest first, each exactly once (it is
///   removed before it runs), also when earlier ones fail or panic. The
///   first failure is primary; later ones are attached to it as
///   [suppressed](Error::suppressed), in exit order. A panicking exit is
///   caught, the rest run, and the panic resumes at the end.
/// - A block says how it ended by closing the stack:
///   [`close`](ExitStack::close) (succeeded),
///   [`close_with`](ExitStack::close_with), [`run`](ExitStack::run), or
///   `with!(ExitStack::new())` in a `scope!`. A stack dropped unclosed was
///   not told, so it does not pass for a success: its exits run with
///   [`Outcome::Cancelled`] ([`Outcome::Panic`] while unwinding), a
///   transaction rolls back, and failures go to the
///   [error hook](crate::set_error_hook) (see [Dropped
///   unclosed](ExitStack#dropped-unclosed)).
/// - Closing is a loop, not recursion: 10,000 entries are fine.
/// - `ExitStack<'a>`: exits may borrow anything that lives for `'a`.
///
/// Storage: each entry is one box (none for a closure that captures
/// nothing); the first four entries need no other allocation, later ones
/// share a growing list.
///
/// # Dropped unclosed
///
/// `let stack = ExitStack::new(); ..; f()?; stack.close()?` leaves through
/// `?` before `close`: the stack is dropped, and its exits must not take
/// that for a success. They see [`Outcome::Cancelled`] (or
/// [`Outcome::Panic`], the payload not available, when the drop happens
/// while a panic unwinds), so a transaction rolls back. An exit returning
/// `Ok(true)` does not change that (a cancellation is not an error to
/// suppress). Every exit runs, seeing that outcome, and each failure, an
/// error or a panic, goes to the [error hook](crate::set_error_hook) as
/// [`ReportKind::StackDropped`], once. No panic leaves the drop, which is
/// the cancellation path (as for [`Guard`](crate::Guard) and the async
/// stacks): the error whose `?` skipped `close` is still returned, where a
/// panic resuming from the drop would have dropped it unseen.
/// [`pop_all`](ExitStack::pop_all) hands this duty to the new stack:
/// dropped unclosed, it cancels the moved exits.
///
/// Python differs: a `contextlib.ExitStack` that is never closed runs
/// nothing when it is collected. Rust drops deterministically, so the stack
/// still runs what it holds, with the outcome that says it was not told.
///
/// ```
/// use managed::{ExitStack, Manage, Outcome};
///
/// struct Tx<'l>(&'l std::cell::RefCell<Vec<&'static str>>);
/// impl Manage for Tx<'_> {
///     type Target = Self;
///     type Error = managed::Error;
///     fn enter(&mut self) -> Result<&mut Self, managed::Error> { Ok(self) }
///     fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
///         self.0.borrow_mut().push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
///         Ok(())
///     }
/// }
///
/// fn transfer<'l>(log: &'l std::cell::RefCell<Vec<&'static str>>, amount: &str) -> Result<(), managed::Error> {
///     let stack = ExitStack::new();
///     stack.enter(Tx(log))?;
///     let _cents: u32 = amount.parse()?; // `?` drops the stack unclosed
///     stack.close()                      // the block succeeded
/// }
///
/// let log = std::cell::RefCell::new(Vec::new());
/// assert!(transfer(&log, "not a number").is_err());
/// transfer(&log, "100")?;
/// assert_eq!(*log.borrow(), ["ROLLBACK", "COMMIT"]);
/// # Ok::<(), managed::Error>(())
/// ```
///
/// An exit that panics in the drop is reported; the error is returned:
///
/// ```
/// fn parse(text: &str) -> Result<u32, managed::Error> {
///     let stack = managed::ExitStack::new();
///     stack.callback(|| panic!("a bug in a cleanup"));
///     let n = text.parse()?; // the stack is dropped: the panic goes to the error hook
///     stack.close()?;
///     Ok(n)
/// }
///
/// let err = parse("not a number").unwrap_err();
/// assert_eq!(err.to_string(), "invalid digit found in string");
/// ```
///
/// # Example
///
/// ```
/// use std::io::{BufWriter, Write};
/// use managed::ExitStack;
///
/// let log = std::cell::RefCell::new(Vec::new());
/// let stack = ExitStack::new();
/// stack.callback(|| log.borrow_mut().push("callback"));
/// let a = stack.enter(BufWriter::new(Vec::new()))?;
/// let b = stack.enter(BufWriter::new(Vec::new()))?;
/// writeln!(a, "to a")?; // both targets held at once
/// writeln!(b, "to b")?;
/// stack.close()?;       // flushes b, then a, then runs the callback
/// assert_eq!(*log.borrow(), ["callback"]);
/// # Ok::<(), managed::Error>(())
/// ```
pub struct ExitStack<'a> {
    // `RefCell` makes the stack invariant in `'a` (a shared `&ExitStack<'long>`
    // must not accept exits that borrow for less than `'long`) and `!Sync`.
    entries: RefCell<Entries<dyn Exit + 'a>>,
}

impl<'a> ExitStack<'a> {
    /// An empty stack. Does not allocate.
    ///
    /// ```
    /// let stack = managed::ExitStack::new();
    /// assert!(stack.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ExitStack { entries: RefCell::new(Entries::new()) }
    }

    /// How many exits are registered.
    ///
    /// ```
    /// let stack = managed::ExitStack::new();
    /// stack.callback(|| {});
    /// assert_eq!(stack.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// `true` when no exit is registered.
    ///
    /// ```
    /// assert!(managed::ExitStack::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn register(&self, entry: Box<dyn Exit + 'a>) {
        self.entries.borrow_mut().push(entry);
    }

    /// Enters `manager` and registers its exit; lends its target for as long
    /// as the stack is borrowed, so several targets can be held at once.
    ///
    /// The manager moves into the stack (one allocation, none for a
    /// zero-sized manager) and stays at that address until the stack closes.
    ///
    /// # Errors
    /// The manager's enter error. Then nothing is registered: the manager is
    /// dropped and its exit never runs.
    ///
    /// ```
    /// use std::io::{BufWriter, Write};
    ///
    /// let stack = managed::ExitStack::new();
    /// let first = stack.enter(BufWriter::new(Vec::new()))?;
    /// let second = stack.enter(BufWriter::new(Vec::new()))?;
    /// first.write_all(b"1")?;
    /// second.write_all(b"2")?;
    /// stack.close()?;
    /// # Ok::<(), managed::Error>(())
    /// ```
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
    pub fn enter<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: Manage + 'a,
        M::Error: Into<Error>,
    {
        let entering = Entering::new(ManagerExit(manager));
        // SAFETY: a unique borrow of the boxed manager (see `as_ptr`); a
        // failed or panicking enter drops `entering`, which frees the box
        // once the borrow is over.
        let target: *mut M::Target = unsafe { (*entering.as_ptr()).0.enter() }?;
        // SAFETY: `target` comes from this entry's enter, and `Entries` only
        // frees entries in `pop` (see `Entering::register`).
        Ok(unsafe { entering.register(&self.entries, |raw| -> NonNull<dyn Exit + 'a> { raw }, target) })
    }

    /// Registers a plain cleanup function, run at close on every outcome.
    ///
    /// ```
    /// let ran = std::cell::Cell::new(false);
    /// let stack = managed::ExitStack::new();
    /// stack.callback(|| ran.set(true));
    /// stack.close()?;
    /// assert!(ran.get());
    /// # Ok::<(), managed::Error>(())
    /// ```
    pub fn callback(&self, f: impl FnOnce() + 'a) {
        self.register(Box::new(CallbackExit(f)));
    }

    /// Registers an exit function: it sees the current [`Outcome`], may fail,
    /// and may suppress the current error by returning `Ok(true)` (later
    /// exits then see [`Outcome::Ok`]; a panic cannot be suppressed).
    ///
    /// ```
    /// use managed::{ExitStack, Outcome};
    ///
    /// let stack = ExitStack::new();
    /// stack.push(|outcome: &Outcome<'_>| Ok(outcome.error::<std::num::ParseIntError>().is_some()));
    /// let err = "x".parse::<i32>().unwrap_err();
    /// assert_eq!(stack.close_with(&Outcome::err(&err))?, true); // suppressed
    /// # Ok::<(), managed::Error>(())
    /// ```
    pub fn push(&self, exit: impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + 'a) {
        self.register(Box::new(PushedExit(exit)));
    }

    /// Moves every registered exit to a new stack and leaves this one empty
    /// (Python's `pop_all`): the way to keep resources acquired under a stack
    /// past it once everything succeeded. The new stack's owner closes it;
    /// dropped unclosed, it runs the moved exits with
    /// [`Outcome::Cancelled`] (see [Dropped
    /// unclosed](ExitStack#dropped-unclosed)).
    ///
    /// ```
    /// let order = std::cell::RefCell::new(Vec::new());
    /// let mut stack = managed::ExitStack::new();
    /// stack.callback(|| order.borrow_mut().push("moved exit"));
    /// let kept = stack.pop_all();
    /// stack.close()?; // nothing to run
    /// order.borrow_mut().push("old stack closed");
    /// kept.close()?;
    /// assert_eq!(*order.borrow(), ["old stack closed", "moved exit"]);
    /// # Ok::<(), managed::Error>(())
    /// ```
    #[must_use = "dropping the new stack cancels the moved exits at once"]
    pub fn pop_all(&mut self) -> ExitStack<'a> {
        ExitStack { entries: RefCell::new(core::mem::take(self.entries.get_mut())) }
    }

    /// Runs every exit with [`Outcome::Ok`]; the same as
    /// `close_with(&Outcome::Ok)`. This is how a block says it succeeded: a
    /// stack dropped without it runs its exits with [`Outcome::Cancelled`].
    ///
    /// # Errors
    /// The first exit failure, with the later ones attached as
    /// [suppressed](Error::suppressed), in exit order. (An exit that
    /// suppresses clears the failures before it.)
    ///
    /// # Panics
    /// Resumes the first panic of an exit, after all exits ran.
    ///
    /// ```
    /// let stack = managed::ExitStack::new();
    /// stack.push(|_: &managed::Outcome<'_>| Err(managed::Error::msg("second registered, fails first")));
    /// stack.push(|_: &managed::Outcome<'_>| Err(managed::Error::msg("never mind")));
    /// let err = stack.close().unwrap_err();
    /// assert_eq!(err.to_string(), "never mind");
    /// assert_eq!(err.suppressed()[0].to_string(), "second registered, fails first");
    /// ```
    pub fn close(self) -> Result<(), Error> {
        self.close_with(&Outcome::Ok).map(|_| ())
    }

    /// Runs every exit, newest first, with `outcome` as how the block ended.
    ///
    /// Each exit sees the primary failure so far: `outcome` while it is a
    /// failure no exit suppressed, else the first exit failure since the
    /// last suppression, else [`Outcome::Ok`] (a panicking exit's panic, once
    /// one panicked).
    ///
    /// Returns `Ok(true)` when `outcome` was an error and an exit suppressed
    /// it: the block's error is to be dropped (yield `None`, never a default).
    ///
    /// # Errors
    /// The exit failures: the first one, with later ones attached as
    /// suppressed, in exit order. When `outcome` is a failure no exit
    /// suppressed, that failure stays primary and the caller attaches the
    /// returned error to it (as `scope!` does); when an exit suppressed it
    /// first, the returned error is the only failure.
    ///
    /// # Panics
    /// Resumes the first panic of an exit, after all exits ran, unless
    /// `outcome` is itself a panic: then exit panics go to the error hook
    /// and the caller resumes its own.
    ///
    /// ```
    /// use managed::{ExitStack, Outcome};
    ///
    /// let stack = ExitStack::new();
    /// stack.push(|o: &Outcome<'_>| {
    ///     assert!(o.is_err()); // sees the block's error
    ///     Err(managed::Error::msg("rollback failed"))
    /// });
    /// let block_error = std::io::Error::other("insert failed");
    /// let exit_error = stack.close_with(&Outcome::err(&block_error)).unwrap_err();
    /// assert_eq!(exit_error.to_string(), "rollback failed"); // secondary to the block's
    /// ```
    pub fn close_with(mut self, outcome: &Outcome<'_>) -> Result<bool, Error> {
        self.run_all(outcome, GivenBy::Caller).into_result()
    }

    fn run_all(&mut self, outcome: &Outcome<'_>, given_by: GivenBy) -> Closed {
        let mut state = CloseState::new(outcome, given_by);
        let entries = self.entries.get_mut();
        // One catch around the loop rather than one per entry (catching
        // costs a call through a shim; measured in BENCHMARKS.md): after a
        // panic the loop goes on with the next entry. An entry is removed
        // before it runs, so it never runs twice, also when it panics.
        loop {
            let finished = catch(|| {
                // What exits see only changes when one fails or suppresses.
                let mut seen = state.outcome();
                while let Some(entry) = entries.pop() {
                    match entry.run(&seen) {
                        Ok(false) => {}
                        ran => {
                            state.record(Ok(ran));
                            seen = state.outcome();
                        }
                    }
                }
            });
            match finished {
                Ok(()) => return state.finish(),
                Err(panic) => state.record(Err(panic)),
            }
        }
    }

    /// Runs the body with this stack, then closes it with the body's
    /// outcome: `with ExitStack() as stack:` in one call, with suppression.
    ///
    /// Returns `Ok(Some(value))` when the body succeeded and no exit failed,
    /// `Ok(None)` when the body failed, an exit suppressed its error and no
    /// exit failed after that, `Err` otherwise: the body's error with every
    /// exit failure attached one by one, in exit order (when `E` is
    /// [`managed::Error`](Error); for another `E` they go to the error hook),
    /// or, when the body succeeded or its error was suppressed, the first
    /// exit failure with the later ones attached. A panic of the body is
    /// shown to the exits and resumes after them (exit failures then go to
    /// the error hook).
    ///
    /// # Errors
    /// See above.
    ///
    /// ```
    /// use managed::{ExitStack, Outcome};
    ///
    /// let parsed = ExitStack::new().run(|stack| {
    ///     stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
    ///     Ok::<_, managed::Error>("not a number".parse::<i32>()?)
    /// })?;
    /// assert_eq!(parsed, None); // suppressed: no silent default
    /// # Ok::<(), managed::Error>(())
    /// ```
    pub fn run<T, E>(mut self, body: impl FnOnce(&ExitStack<'a>) -> Result<T, E>) -> Result<Option<T>, E>
    where
        E: From<Error> + fmt::Debug + Sync + 'static,
    {
        let result = catch(|| body(&self));
        let closed = self.run_all(&run_outcome(&result), GivenBy::Body);
        settle_run(result, closed)
    }
}

impl Default for ExitStack<'_> {
    fn default() -> Self {
        ExitStack::new()
    }
}

impl Drop for ExitStack<'_> {
    /// Runs the exits of an unclosed stack, which was not told how its
    /// block ended: with [`Outcome::Cancelled`], or with [`Outcome::Panic`]
    /// (payload not available) while unwinding. Failures, panics included,
    /// go to the error hook ([`ReportKind::StackDropped`]); no panic leaves
    /// the drop. See [Dropped unclosed](ExitStack#dropped-unclosed).
    #[inline]
    fn drop(&mut self) {
        // A closed stack is empty: one test, inlined into the close; the
        // rest is out of line (BENCHMARKS.md, ExitStack rows).
        if self.entries.get_mut().len() != 0 {
            self.close_dropped();
        }
    }
}

impl ExitStack<'_> {
    /// [`Drop`] of a stack with entries left: the cancellation path, as
    /// the async stacks' drop. Each exit runs once, newest first, seeing
    /// the same outcome; each failure, error or panic, goes to the hook as
    /// it happens. No panic leaves the drop: it would drop the value the
    /// function is returning (the error whose `?` skipped `close`) unseen.
    #[cold]
    #[inline(never)]
    fn close_dropped(&mut self) {
        // Nobody said the block succeeded (a `?` may have skipped `close`):
        // `Ok` here would commit on an error path.
        let outcome = crate::outcome::in_drop(Outcome::Cancelled);
        let entries = self.entries.get_mut();
        // One catch around the loop, as in `run_all`; an entry is removed
        // before it runs, so after a panic the loop goes on with the next.
        loop {
            let finished = catch(|| {
                while let Some(entry) = entries.pop() {
                    if let Err(error) = entry.run(&outcome) {
                        crate::report(ReportKind::StackDropped, &error);
                    }
                }
            });
            match finished {
                Ok(()) => return,
                Err(panic) => crate::report(ReportKind::StackDropped, &panic),
            }
        }
    }
}

impl fmt::Debug for ExitStack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entries.try_borrow() {
            Ok(entries) => f.debug_struct("ExitStack").field("len", &entries.len()).finish(),
            Err(_) => f.debug_struct("ExitStack").finish_non_exhaustive(),
        }
    }
}

/// `with!(ExitStack::new())` in a `scope!` (Python's
/// `with ExitStack() as stack:`): the target is the stack itself, seen
/// through [`Entered`], and the scope's outcome closes it.
///
/// `Manage::exit` cannot suppress, so under `scope!` an exit returning
/// `Ok(true)` clears the failure for the exits after it in the stack only;
/// the scope's own error still stands. Use [`ExitStack::run`] or
/// [`ExitStack::close_with`] when suppression must reach the caller.
///
/// ```
/// use managed::{ExitStack, Manage, Outcome};
///
/// let mut guard = managed::Guard::new(ExitStack::new());
/// let stack = guard.enter()?;
/// stack.enter(std::io::BufWriter::new(Vec::new()))?; // the stack's `enter`, not `Manage::enter`
/// stack.callback(|| println!("closed with the guard"));
/// guard.exit(&Outcome::Ok)?;
/// # Ok::<(), managed::Error>(())
/// ```
impl<'a> Manage for ExitStack<'a> {
    type Target = Entered<ExitStack<'a>>;
    type Error = Error;

    fn enter(&mut self) -> Result<&mut Self::Target, Self::Error> {
        Ok(Entered::from_mut(self))
    }

    fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
        self.run_all(outcome, GivenBy::Exit).into_result().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::entries::INLINE;
    use super::*;
    use alloc::rc::Rc;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use core::cell::Cell;

    /// A manager that owns heap data and lends it, to exercise the lent
    /// target's stability while the stack grows (run under Miri).
    struct Owned(Vec<u32>, Rc<RefCell<Vec<u32>>>);

    impl Manage for Owned {
        type Target = Vec<u32>;
        type Error = core::convert::Infallible;
        fn enter(&mut self) -> Result<&mut Vec<u32>, Self::Error> {
            Ok(&mut self.0)
        }
        fn exit(self, _: &Outcome<'_>) -> Result<(), Self::Error> {
            self.1.borrow_mut().extend(self.0);
            Ok(())
        }
    }

    #[test]
    fn targets_stay_valid_while_the_list_grows_and_spills() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let stack = ExitStack::new();
        let mut targets = Vec::new();
        for i in 0..u32::try_from(INLINE * 3).expect("small") {
            let t = stack.enter(Owned(Vec::new(), seen.clone())).expect("infallible");
            t.push(i);
            targets.push(t);
            stack.callback(|| {});
        }
        // Write through every target after the list reallocated several times.
        for (i, t) in targets.iter_mut().enumerate() {
            t.push(u32::try_from(i).expect("small") + 100);
        }
        drop(targets);
        stack.close().expect("no failure");
        let seen = seen.borrow();
        assert_eq!(seen.len(), INLINE * 3 * 2);
        // LIFO: the last entered manager exits first.
        assert_eq!(&seen[..2], &[11, 111]);
        assert_eq!(&seen[seen.len() - 2..], &[0, 100]);
    }

    #[test]
    fn zero_sized_managers_lend_targets() {
        struct Unit;
        impl Manage for Unit {
            type Target = Unit;
            type Error = core::convert::Infallible;
            fn enter(&mut self) -> Result<&mut Unit, Self::Error> {
                Ok(self)
            }
            fn exit(self, _: &Outcome<'_>) -> Result<(), Self::Error> {
                Ok(())
            }
        }
        let stack = ExitStack::new();
        let a: &mut Unit = stack.enter(Unit).expect("enter");
        let b: &mut Unit = stack.enter(Unit).expect("enter");
        let (_, _) = (a, b);
        assert_eq!(stack.len(), 2);
        stack.close().expect("close");
    }

    #[test]
    fn failed_enter_frees_the_manager_and_registers_nothing() {
        struct Fails(Rc<Cell<u32>>);
        impl Drop for Fails {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        impl Manage for Fails {
            type Target = ();
            type Error = Error;
            fn enter(&mut self) -> Result<&mut (), Error> {
                Err(Error::msg("refused"))
            }
            fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
                unreachable!("exit of a failed enter")
            }
        }
        let drops = Rc::new(Cell::new(0));
        let stack = ExitStack::new();
        let err = stack.enter(Fails(drops.clone())).expect_err("refused");
        assert_eq!(err.to_string(), "refused");
        assert_eq!(drops.get(), 1);
        assert!(stack.is_empty());
    }

    #[cfg(feature = "std")]
    #[test]
    fn panicking_enter_frees_the_manager() {
        struct Boom(Rc<Cell<u32>>);
        impl Drop for Boom {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        impl Manage for Boom {
            type Target = ();
            type Error = Error;
            fn enter(&mut self) -> Result<&mut (), Error> {
                panic!("enter panics")
            }
            fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
                unreachable!("exit of a failed enter")
            }
        }
        let drops = Rc::new(Cell::new(0));
        let stack = ExitStack::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = stack.enter(Boom(drops.clone()));
        }));
        assert!(caught.is_err());
        assert_eq!(drops.get(), 1);
        assert!(stack.is_empty());
    }

    #[test]
    fn pop_all_moves_entries_and_targets_die_first() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut stack = ExitStack::new();
        for i in 0..6 {
            stack.enter(Owned(alloc::vec![i], seen.clone())).expect("enter");
        }
        let moved = stack.pop_all();
        assert!(stack.is_empty());
        assert_eq!(moved.len(), 6);
        stack.close().expect("empty");
        assert!(seen.borrow().is_empty());
        moved.close().expect("close");
        assert_eq!(*seen.borrow(), [5, 4, 3, 2, 1, 0]);
    }

    #[test]
    fn entries_dropped_without_running_are_freed() {
        let count = Rc::new(Cell::new(0));
        let mut entries: Entries<dyn Exit> = Entries::new();
        for _ in 0..(INLINE + 2) {
            let c = count.clone();
            entries.push(Box::new(CallbackExit(move || c.set(c.get() + 1))));
        }
        assert_eq!(Rc::strong_count(&count), INLINE + 3);
        drop(entries);
        assert_eq!(Rc::strong_count(&count), 1, "every box freed");
        assert_eq!(count.get(), 0, "and none run");
    }

    #[test]
    fn close_state_rules() {
        // Block error, a failing exit, a suppressing exit, two failing exits.
        let block = Error::msg("block");
        let given = Outcome::err(&block);
        let mut state = CloseState::new(&given, GivenBy::Caller);
        state.record(Ok(Err(Error::msg("v"))));
        assert_eq!(state.outcome().error::<Error>().map(ToString::to_string).as_deref(), Some("block"));
        state.record(Ok(Ok(true)));
        assert!(state.outcome().is_ok());
        state.record(Ok(Err(Error::msg("a"))));
        state.record(Ok(Err(Error::msg("k"))));
        let err = state.finish().into_result().expect_err("a fails");
        assert_eq!(alloc::format!("{err:#}"), "a\n  suppressed: k");
    }
}
