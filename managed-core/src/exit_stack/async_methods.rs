//! The public methods of the two async stacks, written once:
//! [`AsyncExitStack`](crate::AsyncExitStack) (`local.rs`) and
//! `SendAsyncExitStack` (`send.rs`) differ only in their `Core` flavor and
//! the `Send` bounds on what they take, so `async_stack_methods!` writes
//! each stack's methods, `Default` and `Debug` from one definition, with
//! docs and examples that name the stack they are on.

/// Writes the inherent methods, `Default` and `Debug` of an async stack
/// `$Stack<'a> { core: Core<'a, $Flavor> }`.
///
/// - `manage`: the trait of the async managers it enters, in scope where
///   the macro is invoked (so that a compiler note on the bound points there);
/// - `send`: the bound added to everything it takes (`+ Send` or nothing);
/// - `sent`, `async_manager`, `async_fn`: how the docs say what `enter`,
///   `push`, `enter_async` and `push_async` take (`Send` or not);
/// - `callback_example`, `callback_async_example`: those examples, which
///   differ (a `Cell` is not `Sync`, so the `Send` stack's closures cannot
///   borrow one);
/// - `run_notes`, `run_examples`: what `run`'s docs add for the stack.
macro_rules! async_stack_methods {
    (
        stack: $Stack:ident,
        manage: $Manage:ident,
        send: [$($send:tt)*],
        // After the lines rustc quotes from an invocation: the flavour is
        // not the user's word.
        flavor: $Flavor:ident,
        sent: $sent:literal,
        async_manager: $async_manager:literal,
        async_fn: $async_fn:literal,
        callback_example: [$(#[$callback_example:meta])*],
        callback_async_example: [$(#[$callback_async_example:meta])*],
        run_notes: [$(#[$run_notes:meta])*],
        run_examples: [$(#[$run_examples:meta])*] $(,)?
    ) => {
        impl<'a> $Stack<'a> {
            /// An empty stack. Does not allocate.
            ///
            /// ```
            #[doc = concat!("assert!(managed::", stringify!($Stack), "::new().is_empty());")]
            /// ```
            #[must_use]
            pub fn new() -> Self {
                $Stack { core: $crate::exit_stack::async_core::Core::new() }
            }

            /// How many exits are registered.
            ///
            /// ```
            #[doc = concat!("let stack = managed::", stringify!($Stack), "::new();")]
            /// stack.callback(|| {});
            /// assert_eq!(stack.len(), 1);
            /// ```
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// `true` when no exit is registered.
            ///
            /// ```
            #[doc = concat!("assert!(managed::", stringify!($Stack), "::new().is_empty());")]
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            #[doc = concat!("Enters a sync", $sent, " `manager` and registers its exit; lends its")]
            /// target for as long as the stack is borrowed (see
            /// [`ExitStack::enter`](crate::ExitStack::enter)).
            ///
            /// # Errors
            /// The manager's enter error; then nothing is registered.
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = managed::", stringify!($Stack), "::new();")]
            /// let w = stack.enter(std::io::BufWriter::new(Vec::new()))?;
            /// std::io::Write::write_all(w, b"x")?;
            /// stack.aclose().await?;
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
            pub fn enter<M>(&self, manager: M) -> ::core::result::Result<&mut M::Target, M::Error>
            where
                M: $crate::Manage $($send)* + 'a,
                M::Error: ::core::convert::Into<$crate::Error>,
            {
                self.core.enter(
                    manager,
                    |raw| -> ::core::ptr::NonNull<dyn $crate::exit_stack::async_core::AsyncExit<
                        $crate::exit_stack::async_core::$Flavor,
                    > $($send)* + 'a> { raw },
                )
            }

            #[doc = concat!("Enters ", $async_manager, " and registers its exit; lends its")]
            /// target for as long as the stack is borrowed, so several targets can
            /// be held at once.
            ///
            /// If this future is dropped while the enter is awaited, the manager is
            /// dropped and not registered (its enter did not finish, so it is not
            /// exited).
            ///
            /// # Errors
            /// The manager's enter error; then nothing is registered.
            ///
            /// ```
            #[doc = concat!("use managed::{", stringify!($Manage), ", ", stringify!($Stack), ", Outcome};")]
            /// struct Tx(u32);
            #[doc = concat!("impl ", stringify!($Manage), " for Tx {")]
            ///     type Target = u32;
            ///     type Error = managed::Error;
            ///     async fn enter(&mut self) -> Result<&mut u32, managed::Error> { Ok(&mut self.0) }
            ///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
            /// }
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = ", stringify!($Stack), "::new();")]
            /// let (a, b) = (stack.enter_async(Tx(1)).await?, stack.enter_async(Tx(2)).await?);
            /// *a += *b;
            /// assert_eq!(*a, 3);
            /// stack.aclose().await?;
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
            pub async fn enter_async<M>(&self, manager: M) -> ::core::result::Result<&mut M::Target, M::Error>
            where
                M: $Manage + 'a,
                M::Error: ::core::convert::Into<$crate::Error>,
            {
                // Frees the box if the enter fails, panics, or this future is
                // dropped mid-enter. Declared before the enter future, so that
                // future (which borrows the manager) is dropped first. `Send`
                // when the manager is, as the box it owns.
                let entering = $crate::exit_stack::entries::Entering::new(
                    $crate::exit_stack::async_core::AsyncManagerExit(manager),
                );
                // SAFETY: as in `ExitStack::enter` (see `Entering::as_ptr`): the
                // borrow of the manager is alive across the await; the box stays
                // put meanwhile, owned by `entering`, which only frees it when
                // dropped, after the enter future. Moving this future to another
                // thread moves both together.
                let manager: &mut M = unsafe { &mut (*entering.as_ptr()).0 };
                let target: *mut M::Target = $Manage::enter(manager).await?;
                // SAFETY: as in `ExitStack::enter`: `target` comes from this
                // entry's enter, and the cell only frees entries through
                // `get_mut` (a push from another thread meanwhile adds a
                // different box).
                Ok(unsafe {
                    entering.register(
                        &self.core.entries,
                        |raw| -> ::core::ptr::NonNull<dyn $crate::exit_stack::async_core::AsyncExit<
                            $crate::exit_stack::async_core::$Flavor,
                        > $($send)* + 'a> { raw },
                        target,
                    )
                })
            }

            $(#[$callback_example])*
            pub fn callback(&self, f: impl ::core::ops::FnOnce() $($send)* + 'a) {
                self.core.register(::alloc::boxed::Box::new($crate::exit_stack::entries::CallbackExit(f)));
            }

            #[doc = concat!("Registers a sync", $sent, " exit function: sees the current")]
            /// [`Outcome`](crate::Outcome), may fail, may suppress the current
            /// error by returning `Ok(true)`.
            ///
            /// ```
            #[doc = concat!("use managed::{", stringify!($Stack), ", Outcome};")]
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = ", stringify!($Stack), "::new();")]
            /// stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
            /// let err = "x".parse::<i32>().unwrap_err();
            /// assert!(stack.aclose_with(&Outcome::err(&err)).await?); // suppressed
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn push(
                &self,
                exit: impl ::core::ops::FnOnce(&$crate::Outcome<'_>) -> ::core::result::Result<bool, $crate::Error>
                    $($send)* + 'a,
            ) {
                self.core.register(::alloc::boxed::Box::new($crate::exit_stack::entries::PushedExit(exit)));
            }

            #[doc = concat!("Registers an async exit function", $async_fn, ": called with the")]
            /// current [`Outcome`](crate::Outcome) at close, its future is awaited;
            /// `Ok(true)` suppresses the current error.
            ///
            /// The future cannot borrow the outcome (one closure type cannot return
            /// futures of every borrow's lifetime): read what it needs first.
            ///
            /// ```
            #[doc = concat!("use managed::{", stringify!($Stack), ", Outcome};")]
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = ", stringify!($Stack), "::new();")]
            /// stack.push_async(|o: &Outcome<'_>| {
            ///     // Suppress only what this exit handles (here: I/O errors), so a
            ///     // panic or another error still reaches the caller.
            ///     let handled = o.error::<std::io::Error>().is_some();
            ///     async move { Ok(handled) } // e.g. await a rollback first
            /// });
            /// let err = std::io::Error::other("insert failed");
            /// assert!(stack.aclose_with(&Outcome::err(&err)).await?);
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn push_async<F, Fut>(&self, exit: F)
            where
                F: ::core::ops::FnOnce(&$crate::Outcome<'_>) -> Fut $($send)* + 'a,
                Fut: ::core::future::Future<Output = ::core::result::Result<bool, $crate::Error>> $($send)* + 'a,
            {
                self.core.register(::alloc::boxed::Box::new($crate::exit_stack::async_core::PushedAsyncExit(
                    exit,
                    ::core::marker::PhantomData,
                )));
            }

            $(#[$callback_async_example])*
            pub fn callback_async<F, Fut>(&self, f: F)
            where
                F: ::core::ops::FnOnce() -> Fut $($send)* + 'a,
                Fut: ::core::future::Future<Output = ()> $($send)* + 'a,
            {
                self.core.register(::alloc::boxed::Box::new($crate::exit_stack::async_core::CallbackAsyncExit(
                    f,
                    ::core::marker::PhantomData,
                )));
            }

            /// Moves every registered exit to a new stack and leaves this one empty.
            /// The new stack's owner closes it; dropped unclosed, it cancels the
            /// moved exits (see [cancellation](crate::AsyncExitStack#cancellation)).
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let mut stack = managed::", stringify!($Stack), "::new();")]
            /// stack.callback(|| ());
            /// let kept = stack.pop_all();
            /// assert!(stack.is_empty());
            /// assert_eq!(kept.len(), 1);
            /// kept.aclose().await?;
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            #[must_use = "dropping the new stack cancels the moved exits at once"]
            pub fn pop_all(&mut self) -> $Stack<'a> {
                $Stack { core: self.core.pop_all() }
            }

            /// Runs every exit with [`Outcome::Ok`](crate::Outcome::Ok):
            /// `aclose_with(&Outcome::Ok)`. This is how a block says it
            /// succeeded: a stack dropped without it cancels its exits
            /// ([`Outcome::Cancelled`](crate::Outcome::Cancelled)).
            ///
            /// # Errors
            /// The first exit failure, with later ones attached as suppressed.
            ///
            /// # Panics
            /// Resumes the first panic of an exit, after all exits ran.
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = managed::", stringify!($Stack), "::new();")]
            /// stack.push_async(|_: &managed::Outcome<'_>| async { Err(managed::Error::msg("flush failed")) });
            /// assert_eq!(stack.aclose().await.unwrap_err().to_string(), "flush failed");
            /// # });
            /// ```
            pub async fn aclose(self) -> ::core::result::Result<(), $crate::Error> {
                self.aclose_with(&$crate::Outcome::Ok).await.map(|_| ())
            }

            /// Runs every exit, newest first, awaiting async ones, with `outcome` as
            /// how the block ended; the rules of
            /// [`ExitStack::close_with`](crate::ExitStack::close_with).
            ///
            /// Returns `Ok(true)` when `outcome` was an error and an exit suppressed
            /// it.
            ///
            /// # Errors
            /// The exit failures: the first, with later ones attached as suppressed.
            ///
            /// # Panics
            /// Resumes the first panic of an exit after all exits ran, unless
            /// `outcome` is itself a panic.
            ///
            /// ```
            #[doc = concat!("use managed::{", stringify!($Stack), ", Outcome};")]
            /// # futures::executor::block_on(async {
            #[doc = concat!("let stack = ", stringify!($Stack), "::new();")]
            /// stack.push(|o: &Outcome<'_>| {
            ///     assert!(o.is_err());
            ///     Ok(false)
            /// });
            /// let block_error = std::io::Error::other("insert failed");
            /// assert!(!stack.aclose_with(&Outcome::err(&block_error)).await?);
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            pub async fn aclose_with(self, outcome: &$crate::Outcome<'_>) -> ::core::result::Result<bool, $crate::Error> {
                // The caller keeps `outcome`: a cut-short close does not report it.
                self.core.close_all(outcome, $crate::exit_stack::close::GivenBy::Caller).await.into_result()
            }

            /// Runs the body with this stack, then closes it with the body's
            /// outcome (`async with AsyncExitStack() as stack:`); the rules of
            /// [`ExitStack::run`](crate::ExitStack::run): `Ok(None)` when the body's
            /// error was suppressed.
            $(#[$run_notes])*
            ///
            /// # Errors
            /// The body's error with exit failures attached (when `E` is
            /// [`managed::Error`](crate::Error)), or the first exit failure.
            ///
            /// ```
            #[doc = concat!("use managed::{", stringify!($Stack), ", Outcome};")]
            /// # futures::executor::block_on(async {
            #[doc = concat!("let parsed = ", stringify!($Stack), "::new()")]
            ///     .run(async |stack| {
            ///         stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
            ///         Ok::<_, managed::Error>("x".parse::<i32>()?)
            ///     })
            ///     .await?;
            /// assert_eq!(parsed, None);
            /// # Ok::<(), managed::Error>(())
            /// # }).unwrap();
            /// ```
            $(#[$run_examples])*
            pub async fn run<T, E>(
                self,
                body: impl ::core::ops::AsyncFnOnce(&$Stack<'a>) -> ::core::result::Result<T, E>,
            ) -> ::core::result::Result<::core::option::Option<T>, E>
            where
                E: ::core::convert::From<$crate::Error> + ::core::fmt::Debug + Sync + 'static,
            {
                let result = $crate::scope::asynchronous::catch_async(body(&self)).await;
                self.core.settle_run(result).await
            }
        }

        impl ::core::default::Default for $Stack<'_> {
            fn default() -> Self {
                $Stack::new()
            }
        }

        impl ::core::fmt::Debug for $Stack<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                self.core.debug(f)
            }
        }
    };
}

pub(crate) use async_stack_methods;
