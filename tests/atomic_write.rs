//! Feature `tempfile`: `managed::tempfile::AtomicWrite` against real files.
//! On every path but `Ok` the target keeps its old content and no temporary
//! file is left; on `Ok` the new content replaces it; a rename failure is
//! the scope's error.
#![cfg(feature = "tempfile")]

use managed::tempfile::AtomicWrite;
use managed::{scope, with, Error};
use std::fs;
use std::future::Future;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Waker};

/// A directory holding `target.txt` with the content `old`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("target.txt");
    fs::write(&target, "old").expect("old content");
    (dir, target)
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts the target was not touched and only it is in its directory.
fn assert_untouched(dir: &Path, target: &Path) {
    assert_eq!(fs::read_to_string(target).expect("target"), "old");
    assert_eq!(entries(dir), ["target.txt"]);
}

#[test]
fn ok_replaces_the_target_and_leaves_no_temporary_file() {
    let (dir, target) = setup();
    let written = scope! {
        let out = with!(AtomicWrite::new(&target))?;
        out.write_all(b"new ")?;
        // The new content is in a second file next to the target until the exit.
        assert_eq!(entries(dir.path()).len(), 2);
        assert_eq!(fs::read_to_string(&target)?, "old");
        out.write_all(b"content")?;
        Ok::<_, Error>(11)
    }
    .expect("committed");
    assert_eq!(written, 11);
    assert_eq!(fs::read_to_string(&target).expect("target"), "new content");
    assert_eq!(entries(dir.path()), ["target.txt"]);
}

#[test]
fn ok_creates_a_target_that_did_not_exist() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("fresh.txt");
    scope! {
        let out = with!(AtomicWrite::new(&target))?;
        writeln!(out, "first")?;
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(fs::read_to_string(&target).expect("target"), "first\n");
    assert_eq!(entries(dir.path()), ["fresh.txt"]);
}

#[test]
fn err_through_question_mark_keeps_the_target() {
    let (dir, target) = setup();
    let result = scope! {
        let out = with!(AtomicWrite::new(&target))?;
        out.write_all(b"half")?;
        out.flush()?; // even flushed data never reaches the target
        let n: u32 = "not a number".parse()?;
        Ok::<_, Error>(n)
    };
    assert!(result.expect_err("parse fails").downcast_ref::<std::num::ParseIntError>().is_some());
    assert_untouched(dir.path(), &target);
}

#[test]
fn explicit_return_keeps_the_target() {
    let (dir, target) = setup();
    let result: Result<(), Error> = scope! {
        let out = with!(AtomicWrite::new(&target))?;
        out.write_all(b"half")?;
        if out.buffer().len() == 4 {
            return Err(Error::msg("validation failed"));
        }
        Ok(())
    };
    assert_eq!(result.expect_err("returned").to_string(), "validation failed");
    assert_untouched(dir.path(), &target);
}

#[test]
fn panic_keeps_the_target_and_resumes() {
    let (dir, target) = setup();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let out = with!(AtomicWrite::new(&target))?;
            out.write_all(b"half")?;
            panic!("test: bug while writing");
        };
    }));
    let payload = caught.expect_err("the panic resumes");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"test: bug while writing"));
    assert_untouched(dir.path(), &target);
}

#[test]
fn cancelled_async_scope_removes_the_temporary_file() {
    let (dir, target) = setup();
    {
        let mut scope = pin!(scope!(async {
            let out = with!(AtomicWrite::new(&target))?;
            out.write_all(b"half")?;
            out.flush()?;
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(scope.as_mut().poll(&mut cx).is_pending());
        // Mid-block: the temporary file holds the flushed data.
        assert_eq!(entries(dir.path()).len(), 2);
    } // dropped: cancelled
    assert_untouched(dir.path(), &target);
}

#[test]
fn rename_over_a_directory_is_the_scopes_error_and_removes_the_temporary_file() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("occupied");
    fs::create_dir(&target).expect("a directory where the file should go");
    fs::write(target.join("inside"), "kept").expect("file inside");
    let result = scope! {
        let out = with!(AtomicWrite::new(&target))?;
        out.write_all(b"data")?;
        Ok::<_, Error>(())
    };
    let error = result.expect_err("cannot rename a file over a directory");
    let io = error.downcast_ref::<io::Error>().expect("an io::Error");
    assert!(io.to_string().contains("renaming"), "{io}");
    assert!(
        matches!(
            io.kind(),
            io::ErrorKind::IsADirectory | io::ErrorKind::AlreadyExists | io::ErrorKind::PermissionDenied
        ),
        "{io:?}"
    );
    assert_eq!(entries(dir.path()), ["occupied"]);
    assert_eq!(fs::read_to_string(target.join("inside")).expect("untouched"), "kept");
}

#[test]
fn target_directory_removed_during_the_block_is_the_scopes_error() {
    let dir = tempfile::tempdir().expect("dir");
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).expect("sub");
    let target = sub.join("target.txt");
    let result = scope! {
        let out = with!(AtomicWrite::new(&target))?;
        out.write_all(b"data")?;
        fs::remove_dir_all(&sub)?; // takes the temporary file with it
        Ok::<_, Error>(())
    };
    let error = result.expect_err("the rename has nowhere to go");
    assert_eq!(error.downcast_ref::<io::Error>().map(io::Error::kind), Some(io::ErrorKind::NotFound), "{error:?}");
    assert!(!sub.exists());
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn enter_fails_when_the_directory_does_not_exist() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("missing").join("target.txt");
    let result = scope! {
        with!(AtomicWrite::new(&target))?;
        Ok::<_, Error>(())
    };
    let error = result.expect_err("no directory");
    let io = error.downcast_ref::<io::Error>().expect("io::Error");
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    assert!(io.to_string().contains("creating a temporary file in"), "{io}");
}

#[test]
fn a_path_without_a_file_name_is_refused_at_enter() {
    let result = scope! {
        with!(AtomicWrite::new("/"))?;
        Ok::<_, Error>(())
    };
    let error = result.expect_err("no file name");
    assert_eq!(error.downcast_ref::<io::Error>().map(io::Error::kind), Some(io::ErrorKind::InvalidInput));
}

#[cfg(unix)]
#[test]
fn permissions_of_the_replaced_file_are_kept_and_new_ones_can_be_given() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, target) = setup();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).expect("chmod");
    scope! { with!(AtomicWrite::new(&target))?.write_all(b"new")?; Ok::<_, Error>(()) }.expect("replaced");
    assert_eq!(fs::metadata(&target).expect("meta").permissions().mode() & 0o777, 0o640);

    let fresh = dir.path().join("fresh");
    let write = AtomicWrite::new(&fresh).permissions(fs::Permissions::from_mode(0o604));
    scope! { with!(write)?; Ok::<_, Error>(()) }.expect("created");
    assert_eq!(fs::metadata(&fresh).expect("meta").permissions().mode() & 0o777, 0o604);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_over_an_atomic_write_is_send() {
    let (dir, target) = setup();
    let task_target = target.clone();
    let written = tokio::spawn(async move {
        scope!(async move {
            let out = with!(AtomicWrite::new(&task_target))?;
            tokio::task::yield_now().await;
            out.write_all(b"from a task")?;
            Ok::<_, Error>(())
        })
        .await
    })
    .await
    .expect("task");
    written.expect("committed");
    assert_eq!(fs::read_to_string(&target).expect("target"), "from a task");
    assert_eq!(entries(dir.path()), ["target.txt"]);
}
