//! What a stream item is to the adapters: a chunk of text or bytes, or an
//! error that ends the stream.

/// Marker: the items are chunks themselves (`&str`, `String`, `Vec<u8>`, ...).
///
/// Inferred by the adapters; you never name it unless you name an adapter's
/// type (it is the default there).
///
/// ```
/// use managed::stream::{Accumulate, Accumulator, ChunksExt, Plain};
///
/// let acc: Accumulate<std::vec::IntoIter<&str>, Accumulator, Plain> = vec!["a", "b"].into_iter().accumulate();
/// assert_eq!(acc.into_content(), "");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plain;

/// Marker: the items are `Result<chunk, E>`; the first `Err` is passed on to
/// the consumer and ends the stream (what came before it is kept).
///
/// ```
/// use managed::stream::{Accumulate, Accumulator, ChunksExt, Fallible};
///
/// let items = vec![Ok("a"), Err("broken"), Ok("never seen")];
/// let mut acc: Accumulate<_, Accumulator, Fallible> = items.into_iter().accumulate();
/// assert_eq!(acc.next(), Some(Ok("a")));
/// assert_eq!(acc.next(), Some(Err("broken")));
/// assert_eq!(acc.next(), None);
/// assert_eq!(acc.content(), "a");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fallible;

/// The two kinds of items, [`Plain`] and [`Fallible`] (sealed: the
/// adapters' code differs by kind only through this).
///
/// ```
/// use managed::stream::{Fallible, Kind, Plain};
///
/// fn stops_at_errors<K: Kind>() -> bool { K::FALLIBLE }
/// assert!(stops_at_errors::<Fallible>() && !stops_at_errors::<Plain>());
/// ```
pub trait Kind: sealed::Sealed {
    /// `true` for [`Fallible`]: an item may be an error that ends the stream.
    const FALLIBLE: bool;
}

impl Kind for Plain {
    const FALLIBLE: bool = false;
}

impl Kind for Fallible {
    const FALLIBLE: bool = true;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Plain {}
    impl Sealed for super::Fallible {}
}

/// A stream item the adapters can read as a chunk of `T` (`str` or `[u8]`).
///
/// Implemented for every `C: AsRef<T>` (kind [`Plain`]) and for every
/// `Result<C, E>` with `C: AsRef<T>` (kind [`Fallible`]: `Err` is not a chunk
/// and ends the stream). The kind `K` is inferred: there is exactly one impl
/// for any item type, so you never write it.
///
/// Text adapters (`.accumulate()`) need `AsRef<str>` items; byte adapters
/// (`.accumulate_bytes()`, `.metered()`) need `AsRef<[u8]>` items, which
/// includes `&str` and `String`. A text type that is only `AsRef<str>`
/// (`Box<str>`, `Arc<str>`, `Cow<str>`) is metered after
/// `.map(|s| s.to_string())` or through your own `AsRef<[u8]>` newtype.
///
/// ```
/// use managed::stream::{Chunk, Fallible, Plain};
///
/// assert_eq!(Chunk::<Plain, [u8]>::chunk("hé"), Some("hé".as_bytes()));
/// let failed: Result<String, &str> = Err("reset");
/// assert_eq!(Chunk::<Fallible, str>::chunk(&failed), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chunk of `{T}`",
    label = "the stream adapter cannot read this item as `{T}`",
    note = "`.accumulate()` needs items that are `AsRef<str>` (or `Result<impl AsRef<str>, E>`); \
            `.accumulate_bytes()` and `.metered()` need `AsRef<[u8]>` (or `Result<impl AsRef<[u8]>, E>`)",
    note = "for bytes, use `.accumulate_bytes()` instead of `.accumulate()`"
)]
pub trait Chunk<K, T: ?Sized> {
    /// The chunk, or `None` for an error item.
    fn chunk(&self) -> Option<&T>;
}

// `do_not_recommend` on both impls: an item that is no chunk is reported
// with `Chunk`'s message, not as a missing `AsRef` with a list of std's
// `AsRef` impls (which rustc quotes from std's source when it has it).
#[diagnostic::do_not_recommend]
impl<C: AsRef<T> + ?Sized, T: ?Sized> Chunk<Plain, T> for C {
    #[inline]
    fn chunk(&self) -> Option<&T> {
        Some(self.as_ref())
    }
}

#[diagnostic::do_not_recommend]
impl<C: AsRef<T>, E, T: ?Sized> Chunk<Fallible, T> for Result<C, E> {
    #[inline]
    fn chunk(&self) -> Option<&T> {
        self.as_ref().ok().map(AsRef::as_ref)
    }
}
