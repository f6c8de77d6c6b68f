//! `ExitStack`: Python's `contextlib.ExitStack`, with Rust borrows.
//!
//! ```
//! let stack = managed::ExitStack::new();
//! stack.callback(|| println!("runs at close"));
//! stack.close()?;
//! # Ok::<(), managed::Error>(())
//! ```

// Layout, and what an async twin (`AsyncExitStack`) reuses:
//
// - `Entries<T: ?Sized>` is the storage: a LIFO list of owned, type-erased
//   entries (`Box<T>`) that never moves an entry once pushed, so a target lent
//   out of an entry stays valid while more entries are added. It is generic
//   over the entry's trait object, so the async stacks store `dyn AsyncExit`
//   entries (sync managers wrapped; `+ Send` for `SendAsyncExitStack`) in
//   the same list. A stack keeps it in an
//   `EntriesCell` (a `RefCell`, or a `Mutex` for the `Sync`
//   `SendAsyncExitStack`) whose shared side can only push.
// - `CloseState` is the close loop's error logic as a state machine: the loop
//   pops an entry, shows it `outcome()`, runs it, and hands the result to
//   `record()`; `finish()` resumes a panic or returns `Closed` (whether the
//   given error was suppressed, and the exit failures in order). The sync loop
//   drives it directly; an async loop drives the same machine between
//   `.await`s (catching panics of each exit future), so both follow one rule
//   for primary, suppressed, suppressing and panicking exits.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::scope_support::{catch, panicked_outcome, resume_panicked, Panicked};
use crate::{Error, Manage, Outcome, ReportKind};

/// How many entries a stack holds without allocating its list. Each entry
/// still lives in its own box (none for a closure that captures nothing), so
/// a stack of up to this many entries costs one allocation per entry and no
/// more.
const INLINE: usize = 4;

/// A LIFO list of owned boxed entries that never moves an entry's memory.
///
/// Entries are kept as raw pointers obtained from `Box::into_raw`, not as
/// `Box`es: moving a `Box` asserts unique access to its contents, which
/// would invalidate the `&mut Target` that `ExitStack::enter` lends out of
/// the entry. A raw pointer is only turned back into a `Box` when the entry
/// is popped, and popping needs `&mut` access to the list, which the stack
/// only has once every lent target is gone (`close` takes `self`,
/// `pop_all` takes `&mut self`).
pub(crate) struct Entries<T: ?Sized> {
    /// The first `INLINE` entries, oldest first.
    inline: [Option<NonNull<T>>; INLINE],
    /// Entries past the first `INLINE`, oldest first.
    spill: Vec<NonNull<T>>,
    len: usize,
    /// The list owns the boxes (for drop check and auto traits).
    _owns: PhantomData<Box<T>>,
}

// SAFETY: the list owns its entries as a `Vec<Box<T>>` would (each pointer
// comes from a `Box` whose ownership passed to the list, and nothing else
// frees it), so it may move to another thread when `Box<T>` may, i.e. when
// `T: Send`. (`SendAsyncExitStack` keeps `dyn AsyncExit + Send` entries.) No
// `Sync` impl: shared access goes through a cell (`EntriesCell`), and the
// `Mutex` one only needs `Send`.
unsafe impl<T: ?Sized + Send> Send for Entries<T> {}

impl<T: ?Sized> Entries<T> {
    pub(crate) const fn new() -> Self {
        Entries { inline: [None; INLINE], spill: Vec::new(), len: 0, _owns: PhantomData }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends an entry. Runs no user code (a failed allocation aborts).
    pub(crate) fn push(&mut self, entry: Box<T>) {
        // SAFETY: the pointer comes from `Box::into_raw`, as `push_raw` requires.
        unsafe { self.push_raw(NonNull::from(Box::leak(entry))) }
    }

    /// Appends an entry given as a raw pointer. Runs no user code.
    ///
    /// # Safety
    /// `entry` must come from `Box::<T>::into_raw` (or `Box::leak`) and its
    /// ownership passes to the list: nothing else may free it.
    pub(crate) unsafe fn push_raw(&mut self, entry: NonNull<T>) {
        if self.len < INLINE {
            self.inline[self.len] = Some(entry);
        } else {
            self.spill.push(entry);
        }
        self.len += 1;
    }

    /// Removes the newest entry and gives back its box. Runs no user code.
    pub(crate) fn pop(&mut self) -> Option<Box<T>> {
        let raw =
            if self.len > INLINE { self.spill.pop() } else { self.inline.get_mut(self.len.checked_sub(1)?)?.take() }?;
        self.len -= 1;
        // SAFETY: every pointer in the list came from `Box::into_raw` (the
        // contract of `push_raw`) and is removed from the list here, so the
        // box is rebuilt exactly once. Popping needs `&mut self`; the owner
        // (a stack, through `EntriesCell::get_mut`) only gets that when no
        // target lent from an entry is alive, so this box is the only way to
        // reach the entry.
        Some(unsafe { Box::from_raw(raw.as_ptr()) })
    }
}

/// An entry being entered (by `ExitStack::enter` or the async stacks'
/// `enter` / `enter_async`): boxed first, so that its address is
/// final before a target is borrowed from it, and owned here until
/// [`Entering::register`] passes it to the list. Dropped before that (the
/// enter failed or panicked, or its future was dropped mid-enter), it frees
/// the box: the entry is not registered and never exited.
pub(crate) struct Entering<W>(NonNull<W>);

impl<W> Entering<W> {
    /// Boxes `entry`.
    pub(crate) fn new(entry: W) -> Self {
        Entering(NonNull::from(Box::leak(Box::new(entry))))
    }

    /// The boxed entry, to be entered in place.
    ///
    /// A unique borrow of it (made through this pointer) is sound while
    /// `self` lives: the box is live, exclusively owned here (not yet shared
    /// with the list), and only freed by `self`'s drop, which the caller
    /// orders after the borrow ends (the enter's future, which holds the
    /// borrow across its awaits, is declared after `self` and so dropped
    /// first).
    pub(crate) fn as_ptr(&self) -> *mut W {
        self.0.as_ptr()
    }

    /// Passes the entry to `entries` (erased by `erase`, which must return
    /// its argument, unsized) and lends `target` for as long as the list is
    /// borrowed (`'s` below). Runs no user code.
    ///
    /// # Safety
    /// `target` must come from the enter of the entry behind
    /// [`Entering::as_ptr`]. Then the target stays valid for `'s`: through
    /// the shared borrow `'s` of the cell, entries can only be added
    /// ([`EntriesCell`] has no shared way to pop or free one), and popping
    /// needs `&mut` access to the cell, which its owner only has once `'s`
    /// is over (`close`/`aclose` take the stack by value, `pop_all` and drop
    /// take `&mut`), so the box is never moved or freed while `'s` lives;
    /// the list holds only the pointer (copying a raw pointer asserts
    /// nothing about the pointee); every entry is its own allocation, so
    /// targets lent by several calls (from one thread or, through a `Mutex`
    /// cell, from several) never alias (a zero-sized entry owns no bytes to
    /// alias).
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the safety contract")]
    #[allow(clippy::needless_lifetimes, reason = "the safety contract names `'s`")]
    pub(crate) unsafe fn register<'s, X: ?Sized, T: ?Sized>(
        self,
        entries: &'s impl EntriesCell<X>,
        erase: fn(NonNull<W>) -> NonNull<X>,
        target: *mut T,
    ) -> &'s mut T {
        let erased = erase(self.0);
        // Ownership passes to the list: the drop that would free it is skipped.
        core::mem::forget(self);
        // SAFETY: `erased` is the box leaked in `new` (`erase` returns its
        // argument), owned by nothing else now.
        unsafe { entries.push_raw(erased) };
        // SAFETY: the caller's contract (see above).
        unsafe { &mut *target }
    }
}

// SAFETY: `Entering` owns its entry as a `Box<W>` would (see `new` and
// `Drop`), so it may move to another thread when `W` may. A future of
// `SendAsyncExitStack::enter_async` holds one across the enter's `.await`.
unsafe impl<W: Send> Send for Entering<W> {}

impl<W> Drop for Entering<W> {
    fn drop(&mut self) {
        // SAFETY: the pointer comes from `Box::leak` in `new` and was not
        // registered (`register` forgets `self`), so this is its only owner;
        // the caller ended every borrow of it before this drop (see
        // `as_ptr`).
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// The cell a stack keeps its [`Entries`] in, so that its `&self` methods
/// can register: `RefCell` for the stacks that stay on one thread, `Mutex`
/// (feature `std`) for `SendAsyncExitStack`, which is `Sync`.
///
/// Shared access can only add an entry or read the length: removing or
/// freeing one takes [`get_mut`](EntriesCell::get_mut), which needs the
/// cell (so the stack) borrowed uniquely. [`Entering::register`] relies on
/// it. Neither shared method runs user code, so the borrow or lock is never
/// held while user code runs (a `RefCell` borrow cannot conflict, a lock
/// cannot deadlock or be poisoned by an exit).
#[cfg_attr(
    not(feature = "async"),
    allow(dead_code, reason = "`ExitStack` only pushes through it; the async stacks use the rest")
)]
pub(crate) trait EntriesCell<T: ?Sized> {
    /// A cell holding `entries`.
    fn from_entries(entries: Entries<T>) -> Self;

    /// [`Entries::push_raw`] through a shared borrow.
    ///
    /// # Safety
    /// As [`Entries::push_raw`].
    unsafe fn push_raw(&self, entry: NonNull<T>);

    /// How many entries there are.
    fn len(&self) -> usize;

    /// The list, for popping (closing, `pop_all`, drop).
    fn get_mut(&mut self) -> &mut Entries<T>;
}

impl<T: ?Sized> EntriesCell<T> for RefCell<Entries<T>> {
    fn from_entries(entries: Entries<T>) -> Self {
        RefCell::new(entries)
    }

    unsafe fn push_raw(&self, entry: NonNull<T>) {
        // SAFETY: the caller's contract. The borrow cannot conflict: no
        // borrow of the cell is held while user code runs.
        unsafe { self.borrow_mut().push_raw(entry) }
    }

    fn len(&self) -> usize {
        self.borrow().len()
    }

    fn get_mut(&mut self) -> &mut Entries<T> {
        RefCell::get_mut(self)
    }
}

#[cfg(all(feature = "std", feature = "async"))]
impl<T: ?Sized> EntriesCell<T> for std::sync::Mutex<Entries<T>> {
    fn from_entries(entries: Entries<T>) -> Self {
        std::sync::Mutex::new(entries)
    }

    unsafe fn push_raw(&self, entry: NonNull<T>) {
        // A poisoned lock (a push that panicked on capacity overflow) still
        // holds a consistent list: `push_raw` counts an entry only once it
        // is stored.
        let mut entries = self.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: the caller's contract.
        unsafe { entries.push_raw(entry) }
    }

    fn len(&self) -> usize {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    fn get_mut(&mut self) -> &mut Entries<T> {
        std::sync::Mutex::get_mut(self).unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<T: ?Sized> Default for Entries<T> {
    fn default() -> Self {
        Entries::new()
    }
}

impl<T: ?Sized> Drop for Entries<T> {
    /// Frees entries that were never run. `ExitStack` runs every entry
    /// before its list is dropped, so this only matters if that was cut
    /// short (an allocation failure); it keeps the list leak-free anyway.
    #[inline]
    fn drop(&mut self) {
        // After a close the list is empty: one test, inlined into the
        // close (BENCHMARKS.md, ExitStack rows).
        if self.len != 0 {
            self.free_unrun();
        }
    }
}

impl<T: ?Sized> Entries<T> {
    /// [`Drop`] of a list with entries left.
    #[cold]
    #[inline(never)]
    fn free_unrun(&mut self) {
        while let Some(entry) = self.pop() {
            drop(entry);
        }
    }
}

/// One registered exit of a sync stack, type-erased.
pub(crate) trait Exit {
    /// Runs the exit: `Ok(true)` suppresses the current failure.
    fn run(self: Box<Self>, outcome: &Outcome<'_>) -> Result<bool, Error>;
}

/// An entered manager; its exit is the manager's.
pub(crate) struct ManagerExit<M>(pub(crate) M);

impl<M: Manage> Exit for ManagerExit<M>
where
    M::Error: Into<Error>,
{
    fn run(self: Box<Self>, outcome: &Outcome<'_>) -> Result<bool, Error> {
        self.0.exit(outcome).map(|()| false).map_err(Into::into)
    }
}

/// A plain callback: runs, never fails, never suppresses.
pub(crate) struct CallbackExit<F>(pub(crate) F);

impl<F: FnOnce()> Exit for CallbackExit<F> {
    fn run(self: Box<Self>, _outcome: &Outcome<'_>) -> Result<bool, Error> {
        (self.0)();
        Ok(false)
    }
}

/// An exit function that sees the outcome and may fail or suppress.
pub(crate) struct PushedExit<F>(pub(crate) F);

impl<F: FnOnce(&Outcome<'_>) -> Result<bool, Error>> Exit for PushedExit<F> {
    fn run(self: Box<Self>, outcome: &Outcome<'_>) -> Result<bool, Error> {
        (self.0)(outcome)
    }
}

/// Whose failure the outcome given to a close is: that decides who sends
/// it to the error hook when an exit's panic replaces it, or when an async
/// close is cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GivenBy {
    /// `run`'s body: only the stack can return it, so the stack reports it
    /// in both cases.
    Body,
    /// The caller of `close_with` / `aclose_with`: reported when a panic
    /// replaces it (the panic unwinds through a caller that learns nothing
    /// of its own error's fate); a close cut short leaves it with the
    /// caller.
    Caller,
    /// A construct exiting the stack as a manager (a scope, a `#[managed]`
    /// struct, another stack): it merges the stack's result as any exit's,
    /// and reports its own failure when the exit's panic replaces it, so the
    /// stack never does.
    Exit,
}

/// The close loop's error logic, shared by the sync and async stacks.
///
/// Rules (DESIGN section 3 and 5):
/// - every exit sees the primary failure so far: the outcome the stack was
///   closed with while it is a failure and not suppressed, else the first
///   exit failure since the last suppression, else `Ok`; a panic of an exit
///   is shown to all later exits;
/// - the first exit failure is primary, later ones are suppressed, in exit
///   order (kept as a list of siblings until the end, so a caller holding
///   its own primary error can attach them one by one);
/// - an exit returning `Ok(true)` suppresses the current *error* (the given
///   one and every exit failure so far), so later exits see `Ok`; a panic is
///   never suppressed;
/// - a panicking exit is caught; if nothing was panicking yet, its panic
///   becomes the outcome of the rest and resumes once all have run (the
///   errors it replaces go to the error hook, the given one unless its
///   owner reports it: [`GivenBy`]); otherwise it goes to the hook.
pub(crate) struct CloseState<'r, 'o> {
    given: &'r Outcome<'o>,
    given_by: GivenBy,
    /// The given outcome is a failure that no exit suppressed.
    given_active: bool,
    /// Some exit suppressed the given error.
    given_suppressed: bool,
    /// The exit failures since the last suppression, in exit order.
    failures: Vec<Error>,
    /// The first exit panic, when nothing was panicking before it.
    panic: Option<Panicked>,
}

/// The block's failure a cut-short close was carrying (see
/// [`CloseState::abandon`]).
#[cfg(feature = "async")]
struct GivenLost<'a>(Outcome<'a>);

#[cfg(feature = "async")]
impl fmt::Debug for GivenLost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stack's close was cancelled while carrying the block's failure: {:?}", self.0)
    }
}

/// What closing did, when no exit panic is left to resume.
pub(crate) struct Closed {
    /// The given outcome was an error and an exit suppressed it.
    pub(crate) given_suppressed: bool,
    /// Exit failures after the last suppression, in exit order.
    pub(crate) failures: Vec<Error>,
}

impl Closed {
    /// `close_with`'s result: the first failure with the rest attached.
    ///
    /// The common case, no failure, is inlined into the close and costs a
    /// length test; building the error is out of line. (As one function,
    /// a close without failures still made and dropped a `vec::IntoIter`:
    /// about 45 instructions of a 1-entry close, BENCHMARKS.md.)
    #[inline]
    pub(crate) fn into_result(self) -> Result<bool, Error> {
        if self.failures.is_empty() {
            return Ok(self.given_suppressed);
        }
        self.into_error()
    }

    /// [`into_result`](Self::into_result) when an exit failed.
    #[cold]
    #[inline(never)]
    fn into_error(self) -> Result<bool, Error> {
        let mut failures = self.failures.into_iter();
        match failures.next() {
            None => Ok(self.given_suppressed),
            Some(mut primary) => {
                for later in failures {
                    primary.push_suppressed(later);
                }
                Err(primary)
            }
        }
    }
}

impl<'r, 'o> CloseState<'r, 'o> {
    pub(crate) fn new(given: &'r Outcome<'o>, given_by: GivenBy) -> Self {
        CloseState {
            given,
            given_by,
            given_active: given.is_failure(),
            given_suppressed: false,
            failures: Vec::new(),
            panic: None,
        }
    }

    /// What the next exit sees.
    #[inline]
    pub(crate) fn outcome(&self) -> Outcome<'_> {
        if let Some(panic) = &self.panic {
            return panicked_outcome(panic);
        }
        if self.given_active {
            return *self.given;
        }
        match self.failures.first() {
            Some(error) => Outcome::err(error),
            None => Outcome::Ok,
        }
    }

    fn unwinding(&self) -> bool {
        self.panic.is_some() || self.given.is_panic()
    }

    /// Merges what one exit did.
    pub(crate) fn record(&mut self, ran: Result<Result<bool, Error>, Panicked>) {
        match ran {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => self.suppress(),
            Ok(Err(error)) if self.panic.is_some() => crate::report(ReportKind::FailedWhileUnwinding, &error),
            Ok(Err(error)) => self.failures.push(error),
            Err(panic) if self.unwinding() => crate::report(ReportKind::FailedWhileUnwinding, &panic),
            Err(panic) => {
                if self.given_active && self.given_by != GivenBy::Exit {
                    if let Outcome::Err(view) = self.given {
                        crate::report(ReportKind::ReplacedByPanic, &view.as_debug());
                    }
                }
                for replaced in self.failures.drain(..) {
                    crate::report(ReportKind::ReplacedByPanic, &replaced);
                }
                self.panic = Some(panic);
            }
        }
    }

    fn suppress(&mut self) {
        if !self.outcome().is_err() {
            // Nothing to suppress (`Ok`), or not an error (a panic or a
            // cancellation): `Ok(true)` has no effect.
            return;
        }
        if self.given_active {
            self.given_active = false;
            self.given_suppressed = true;
        }
        self.failures.clear();
    }

    /// Closing was cut short (an async close whose future was dropped):
    /// nothing will return what was recorded, so the exit failures and a
    /// caught panic go to the error hook instead of being lost. When the
    /// given failure is `run`'s body's ([`GivenBy::Body`], dropped with the
    /// close), it goes there too, unless an exit suppressed it or a panic
    /// replaced it (already reported).
    #[cfg(feature = "async")]
    pub(crate) fn abandon(self) {
        if self.given_by == GivenBy::Body && self.given_active && self.panic.is_none() {
            crate::report(ReportKind::Cancelled, &GivenLost(*self.given));
        }
        for error in &self.failures {
            crate::report(ReportKind::Cancelled, error);
        }
        if let Some(panic) = &self.panic {
            crate::report(ReportKind::Cancelled, panic);
        }
    }

    /// Once every exit ran: resumes an exit's panic, else says what
    /// happened.
    pub(crate) fn finish(self) -> Closed {
        if let Some(panic) = self.panic {
            resume_panicked(panic);
        }
        Closed { given_suppressed: self.given_suppressed, failures: self.failures }
    }
}

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

/// How `run`'s body ended, as its exits see it.
pub(crate) fn run_outcome<T, E>(body: &Result<Result<T, E>, Panicked>) -> Outcome<'_>
where
    E: fmt::Debug + Sync + 'static,
{
    match body {
        Ok(Ok(_)) => Outcome::Ok,
        Ok(Err(error)) => Outcome::err(error),
        Err(panic) => panicked_outcome(panic),
    }
}

/// `run`'s result once the exits ran with [`run_outcome`] (shared by the
/// sync and async stacks): the value, `None` when an exit suppressed the
/// body's error, or the body's error with the exit failures attached (an
/// exit failure alone when the body succeeded or its error was suppressed);
/// a panic resumes after the exit failures went to the error hook.
pub(crate) fn settle_run<T, E>(body: Result<Result<T, E>, Panicked>, closed: Closed) -> Result<Option<T>, E>
where
    E: From<Error> + fmt::Debug + Sync + 'static,
{
    match body {
        Ok(Ok(value)) => match closed.into_result() {
            Ok(_) => Ok(Some(value)),
            Err(error) => Err(E::from(error)),
        },
        Ok(Err(mut error)) => {
            if closed.given_suppressed {
                // The body's error is gone; what failed after is all there is.
                return match closed.into_result() {
                    Ok(_) => Ok(None),
                    Err(later) => Err(E::from(later)),
                };
            }
            for later in closed.failures {
                crate::scope_support::attach_or_report(&mut error, E::from(later));
            }
            Err(error)
        }
        Err(panic) => {
            for later in closed.failures {
                crate::report(ReportKind::FailedWhileUnwinding, &later);
            }
            resume_panicked(panic)
        }
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
    type Target = Entered<'a>;
    type Error = Error;

    fn enter(&mut self) -> Result<&mut Self::Target, Self::Error> {
        Ok(Entered::from_mut(self))
    }

    fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
        self.run_all(outcome, GivenBy::Exit).into_result().map(|_| ())
    }
}

/// An [`ExitStack`] as the target of its own enter: derefs to the stack.
///
/// It exists for method resolution. Were the target `ExitStack` itself, a
/// `&mut ExitStack` would call `Manage::enter(&mut self)` for
/// `stack.enter(manager)` wherever `Manage` is imported (as the prelude
/// does): a method taking `&mut self` is found before one taking `&self`.
/// This type does not implement `Manage`, so `entered.enter(manager)` reaches
/// [`ExitStack::enter`].
///
/// ```
/// use managed::prelude::*;
///
/// let mut stack = ExitStack::new();
/// let entered: &mut managed::exit_stack::Entered<'_> = Manage::enter(&mut stack)?;
/// entered.callback(|| ());
/// assert_eq!(entered.len(), 1);
/// # Ok::<(), managed::Error>(())
/// ```
#[repr(transparent)]
pub struct Entered<'a>(ExitStack<'a>);

impl<'a> Entered<'a> {
    fn from_mut<'s>(stack: &'s mut ExitStack<'a>) -> &'s mut Entered<'a> {
        let raw: *mut ExitStack<'a> = stack;
        // SAFETY: `Entered` is `#[repr(transparent)]` over `ExitStack<'a>`, so
        // both have the same layout and validity, and the cast pointer is the
        // unique borrow `stack`, reborrowed for the same lifetime `'s`.
        unsafe { &mut *raw.cast::<Entered<'a>>() }
    }
}

impl<'a> core::ops::Deref for Entered<'a> {
    type Target = ExitStack<'a>;
    fn deref(&self) -> &ExitStack<'a> {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for Entered<'a> {
    fn deref_mut(&mut self) -> &mut ExitStack<'a> {
        &mut self.0
    }
}

impl fmt::Debug for Entered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use alloc::string::ToString;
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
