//! The storage every exit stack shares: a LIFO list of owned, type-erased
//! entries (`Box<T>`) that never moves an entry once pushed, so a target
//! lent out of an entry stays valid while more entries are added. It is
//! generic over the entry's trait object: the sync stack stores `dyn Exit`,
//! the async stacks `dyn AsyncExit` (sync managers wrapped; `+ Send` for
//! `SendAsyncExitStack`). A stack keeps the list in an [`EntriesCell`] (a
//! `RefCell`, or a `Mutex` for the `Sync` `SendAsyncExitStack`) whose
//! shared side can only push.
//!
//! All the raw-pointer `unsafe` of the stacks is here: the list, the entry
//! being entered ([`Entering`]), and the stack as the target of its own
//! enter ([`Entered`]).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::{Error, Manage, Outcome};

/// How many entries a stack holds without allocating its list. Each entry
/// still lives in its own box (none for a closure that captures nothing), so
/// a stack of up to this many entries costs one allocation per entry and no
/// more.
pub(crate) const INLINE: usize = 4;

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

/// A stack as the target of its own enter (`Entered<ExitStack>`,
/// `Entered<AsyncExitStack>`, `Entered<SendAsyncExitStack>`): derefs to the
/// stack.
///
/// It exists for method resolution. Were the target the stack itself, a
/// `&mut ExitStack` would call `Manage::enter(&mut self)` for
/// `stack.enter(manager)` wherever `Manage` is imported (as the prelude
/// does): a method taking `&mut self` is found before one taking `&self`.
/// This type implements neither `Manage` nor `AsyncManage`, so
/// `entered.enter(manager)` reaches the stack's own `enter`.
///
/// ```
/// use managed::prelude::*;
/// use managed::exit_stack::Entered;
///
/// let mut stack = ExitStack::new();
/// let entered: &mut Entered<ExitStack<'_>> = Manage::enter(&mut stack)?;
/// entered.callback(|| ());
/// assert_eq!(entered.len(), 1);
/// # Ok::<(), managed::Error>(())
/// ```
#[repr(transparent)]
pub struct Entered<S>(S);

impl<S> Entered<S> {
    pub(crate) fn from_mut(stack: &mut S) -> &mut Entered<S> {
        let raw: *mut S = stack;
        // SAFETY: `Entered<S>` is `#[repr(transparent)]` over `S`, so both
        // have the same layout and validity, and the cast pointer is the
        // unique borrow `stack`, reborrowed for the same lifetime.
        unsafe { &mut *raw.cast::<Entered<S>>() }
    }
}

impl<S> core::ops::Deref for Entered<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.0
    }
}

impl<S> core::ops::DerefMut for Entered<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.0
    }
}

impl<S: fmt::Debug> fmt::Debug for Entered<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
