//! Runtime of a `#[managed]` struct's fields: the [`Slot`] a managed field
//! lives in, entering fields with rollback, exiting them in reverse with
//! every failure kept.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::scope::convert::{Convert, ErrorOf};
use crate::scope::rules::{catch, merge_cleanup, outcome_of, settle, Panicked};
use crate::{Manage, Outcome, ReportKind};

/// Where a `#[managed]` field of a `#[managed]` struct keeps its manager.
///
/// `#[managed]` rewrites a marked field `db: Db` to `db: Slot<Db>`: an exit
/// consumes its manager, and a struct whose enter fails half-way must exit
/// the fields it already entered while the caller still owns the struct, so
/// the field needs a place it can be taken out of. Build one with
/// `Db::open()?.into()` (or [`Slot::new`]); use it as the manager through
/// `Deref` (`self.db.query(..)`).
///
/// ```
/// use managed::{Outcome, Slot};
///
/// #[managed::managed]
/// struct Report {
///     #[managed]
///     out: std::io::BufWriter<Vec<u8>>,
///     title: &'static str,
/// }
///
/// let report = Report { out: std::io::BufWriter::new(Vec::new()).into(), title: "sales" };
/// assert!(report.out.buffer().is_empty()); // the manager, through `Deref`
/// let mut guard = managed::Guard::new(report);
/// let report = guard.enter()?;
/// std::io::Write::write_all(&mut *report.out, report.title.as_bytes())?;
/// guard.exit(&Outcome::Ok)?; // flushes `out`
/// # Ok::<(), managed::Error>(())
/// ```
pub struct Slot<M> {
    pub(crate) manager: Option<M>,
    pub(crate) entered: bool,
}

impl<M> Slot<M> {
    /// Holds `manager`, not yet entered.
    ///
    /// ```
    /// let slot = managed::Slot::new(std::io::BufWriter::new(Vec::<u8>::new()));
    /// assert!(slot.get().is_some());
    /// ```
    pub const fn new(manager: M) -> Self {
        Slot { manager: Some(manager), entered: false }
    }

    /// The manager, or `None` once it was exited (a struct whose enter
    /// failed exits the fields it had entered, and a caller can still reach
    /// the struct through `Guard::into_inner`).
    ///
    /// ```
    /// let slot = managed::Slot::new(7_u8);
    /// assert_eq!(slot.get(), Some(&7));
    /// ```
    pub fn get(&self) -> Option<&M> {
        self.manager.as_ref()
    }

    /// Mutable access to the manager, `None` once it was exited.
    ///
    /// ```
    /// let mut slot = managed::Slot::new(7_u8);
    /// *slot.get_mut().expect("not exited") += 1;
    /// assert_eq!(*slot, 8);
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut M> {
        self.manager.as_mut()
    }

    /// Gives the manager back (entered or not; `None` once exited): the
    /// caller takes over its cleanup.
    ///
    /// ```
    /// let slot = managed::Slot::new(String::from("conn"));
    /// assert_eq!(slot.into_inner().as_deref(), Some("conn"));
    /// ```
    pub fn into_inner(self) -> Option<M> {
        self.manager
    }
}

/// A clone holds a clone of the manager, not entered (so
/// `#[derive(Clone)]` works on a `#[managed]` struct: the clone is a fresh
/// manager).
///
/// ```
/// let slot = managed::Slot::new(String::from("config"));
/// assert_eq!(slot.clone().get().map(String::as_str), Some("config"));
/// ```
impl<M: Clone> Clone for Slot<M> {
    fn clone(&self) -> Self {
        Slot { manager: self.manager.clone(), entered: false }
    }
}

impl<M: Default> Default for Slot<M> {
    fn default() -> Self {
        Slot::new(M::default())
    }
}

impl<M> From<M> for Slot<M> {
    fn from(manager: M) -> Self {
        Slot::new(manager)
    }
}

impl<M> Deref for Slot<M> {
    type Target = M;

    /// # Panics
    /// Only on a slot whose manager was already exited: the struct's enter
    /// failed and it was taken back with `Guard::into_inner`. Use
    /// [`Slot::get`] there.
    fn deref(&self) -> &M {
        match &self.manager {
            Some(m) => m,
            None => panic!("{EXITED}"),
        }
    }
}

impl<M> DerefMut for Slot<M> {
    /// # Panics
    /// As [`Deref`]: only on a slot whose manager was already exited.
    fn deref_mut(&mut self) -> &mut M {
        match &mut self.manager {
            Some(m) => m,
            None => panic!("{EXITED}"),
        }
    }
}

const EXITED: &str = "managed::Slot: this field's manager was already exited (its struct failed to enter); \
                      use `Slot::get` on a struct that did not enter";

impl<M: fmt::Debug> fmt::Debug for Slot<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manager {
            Some(m) => f.debug_tuple("Slot").field(m).finish(),
            None => f.write_str("Slot(<exited>)"),
        }
    }
}

/// Enters the manager in `slot`, converting its error with `conversion`
/// (`From`, or nothing for a manager that cannot fail: `crate::scope::convert`).
///
/// # Errors
/// The manager's enter error, converted.
#[inline]
pub fn enter_slot<E, M, C>(slot: &mut Slot<M>, conversion: C) -> Result<(), E>
where
    M: FieldManager<E>,
    C: Convert<M::Error, E>,
{
    let Some(m) = &mut slot.manager else { return Ok(()) };
    m.enter().map_err(|e| conversion.convert(e))?;
    slot.entered = true;
    Ok(())
}

/// The error type of a `#[managed]` field's (sync) manager `M`, to choose
/// its conversion (see `crate::scope::convert`).
#[inline]
pub fn field_error<E, M: FieldManager<E>>() -> ErrorOf<M::Error> {
    ErrorOf::new()
}

/// The exits of a composed manager, run one after the other: every one runs
/// even when earlier ones fail or panic; the first failure is kept, later
/// ones are attached to it (or reported), a panic resumes at
/// [`finish`](Exits::finish).
///
/// Dropped before `finish` (only possible when the future of an async
/// struct's enter or exit is dropped mid-way: every sync step is caught),
/// it reports the failure it carries with [`ReportKind::Cancelled`]:
/// nothing else would return it.
pub struct Exits<'o, E: fmt::Debug> {
    pub(crate) outer: Outcome<'o>,
    pub(crate) so_far: Result<Result<(), E>, Panicked>,
}

impl<E: fmt::Debug> Drop for Exits<'_, E> {
    fn drop(&mut self) {
        match &self.so_far {
            Ok(Ok(())) => {}
            Ok(Err(error)) => crate::report(ReportKind::Cancelled, &CarriedWhenCancelled(error)),
            Err(panic) => crate::report(ReportKind::Cancelled, &CarriedWhenCancelled(panic)),
        }
    }
}

/// What a dropped [`Exits`] reports.
struct CarriedWhenCancelled<'a, T: fmt::Debug>(&'a T);

impl<T: fmt::Debug> fmt::Debug for CarriedWhenCancelled<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `#[managed]` struct was cancelled mid-enter or mid-exit while carrying this failure: {:?}", self.0)
    }
}

impl<'o, E: fmt::Debug + Sync + 'static> Exits<'o, E> {
    /// Exits run for a block that ended with `outer`.
    #[inline]
    pub fn new(outer: Outcome<'o>) -> Self {
        Exits { outer, so_far: Ok(Ok(())) }
    }

    /// Runs one exit step with the outcome it must see: a panic of an earlier
    /// step, else the block's failure, else an earlier step's error, else Ok.
    pub fn step(&mut self, exit: impl FnOnce(&Outcome<'_>) -> Result<(), E>) {
        // While the block unwinds, its panic stays the outcome every step
        // sees, and a step's panic is reported, not carried: the block's
        // panic is what resumes (DESIGN section 3; found by the fault matrix).
        let unwinding = self.outer.is_panic();
        let ran = {
            let outcome = self.step_outcome();
            catch(|| exit(&outcome))
        };
        self.record(ran, unwinding);
    }

    /// The outcome the next step sees (see [`Exits::step`]).
    pub(crate) fn step_outcome(&self) -> Outcome<'_> {
        if self.outer.is_panic() || (self.so_far.is_ok() && self.outer.is_failure()) {
            self.outer
        } else {
            outcome_of(&self.so_far)
        }
    }

    /// Folds what one step did into the result so far: the first failure
    /// stays primary, later ones are suppressed (or reported).
    pub(crate) fn record(&mut self, ran: Result<Result<(), E>, Panicked>, unwinding: bool) {
        let ran = match ran {
            Err(panic) if unwinding => {
                crate::report(ReportKind::FailedWhileUnwinding, &panic);
                return;
            }
            ran => ran,
        };
        self.so_far = merge_cleanup(core::mem::replace(&mut self.so_far, Ok(Ok(()))), ran);
    }

    /// Exits the manager of `slot` if it was entered (and takes it out),
    /// converting its error with `conversion` (as [`enter_slot`]).
    #[inline]
    pub fn exit_slot<M, C>(&mut self, slot: &mut Slot<M>, conversion: C)
    where
        M: FieldManager<E>,
        C: Convert<M::Error, E>,
    {
        if !core::mem::replace(&mut slot.entered, false) {
            return;
        }
        if let Some(m) = slot.manager.take() {
            self.step(|outcome| m.exit(outcome).map_err(|e| conversion.convert(e)));
        }
    }

    /// The merged result of every step; resumes a panic of a step.
    ///
    /// # Errors
    /// The first step's error, later ones attached.
    #[inline]
    pub fn finish(mut self) -> Result<(), E> {
        // Taken out, so that the drop has nothing to report.
        settle(core::mem::replace(&mut self.so_far, Ok(Ok(()))), Ok(Ok(())))
    }
}

/// Enters a composed manager: `enter` enters its parts in order; if it fails
/// (or panics), `rollback` exits the parts already entered, newest first,
/// seeing the failure, and the failure is returned (a panic resumes).
///
/// # Errors
/// The enter's error, with rollback errors attached.
#[inline]
pub fn enter_all<S: ?Sized, E: fmt::Debug + Sync + 'static>(
    this: &mut S,
    enter: impl FnOnce(&mut S) -> Result<(), E>,
    rollback: impl FnOnce(&mut S, &mut Exits<'_, E>),
) -> Result<(), E> {
    let entered = catch(|| enter(&mut *this));
    if matches!(entered, Ok(Ok(()))) {
        return Ok(());
    }
    // The enter's failure is the primary one from the start: the rollback
    // exits see it, and their failures are attached to it directly.
    let mut exits = Exits { outer: Outcome::Ok, so_far: entered };
    rollback(this, &mut exits);
    exits.finish()
}

/// A `#[managed]` field of a struct whose error type is `E`, when the
/// field's type is a type parameter of the struct (the bound of the
/// generated impl): a manager whose error converts into `E` with `From`,
/// as generic code needs. (A bound on the field type itself, not on its
/// `Error` projection: a where clause on the projection would hide the
/// impls of other fields' error conversions.) A field of any other type
/// only needs to be a manager ([`FieldManager`]): its conversion is chosen
/// on its type (`crate::scope::convert`), so one that cannot fail needs none.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[managed]` field of a struct whose error type is `{E}`",
    label = "a `#[managed]` field is entered and exited with its struct",
    note = "a `#[managed]` field must be a manager: implement `managed::Manage` (`enter(&mut self)` and \
            `exit(self, &Outcome)`), e.g. with `#[managed]` on its `impl` block and `#[enter]`/`#[exit]` methods; \
            a field that is plain data needs no `#[managed]`",
    note = "and its error type must convert into `{E}` (`From`); choose the struct's error type with \
            `#[managed(error = Type)]`"
)]
pub trait ManagedField<E>: Manage {
    /// The field's error as the struct's.
    fn convert(error: Self::Error) -> E;
}

impl<M: Manage, E: From<M::Error>> ManagedField<E> for M {
    #[inline]
    fn convert(error: M::Error) -> E {
        E::from(error)
    }
}

/// The conversion of a `#[managed]` field whose type `M` is a type
/// parameter of the struct: `M::convert`, as its [`ManagedField`] bound
/// allows.
pub struct ViaField<M>(PhantomData<fn(M)>);

impl<M> ViaField<M> {
    /// The tag.
    #[inline]
    pub const fn new() -> Self {
        ViaField(PhantomData)
    }
}

impl<M> Default for ViaField<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for ViaField<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for ViaField<M> {}

impl<M: ManagedField<E>, E> Convert<M::Error, E> for ViaField<M> {
    #[inline]
    fn convert(self, error: M::Error) -> E {
        M::convert(error)
    }
}

/// A `#[managed]` field whose type is not a type parameter: a manager (its
/// error's conversion is checked where it is entered and exited).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[managed]` field of a struct whose error type is `{E}`",
    label = "a `#[managed]` field is entered and exited with its struct",
    note = "a `#[managed]` field must be a manager: implement `managed::Manage` (`enter(&mut self)` and \
            `exit(self, &Outcome)`), e.g. with `#[managed]` on its `impl` block and `#[enter]`/`#[exit]` methods; \
            a field that is plain data needs no `#[managed]`"
)]
pub trait FieldManager<E>: Manage {}

impl<M: Manage, E> FieldManager<E> for M {}

/// Checks that a `#[managed]` field's type is a manager (the error points
/// at the field).
#[inline]
pub fn managed_field<E, M: FieldManager<E>>() {}
