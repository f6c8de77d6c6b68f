//! Structured concurrency with child processes:
//! `cargo run --example task_group --features tokio,process`.
//!
//! A `TaskGroup` runs one task per job; each task runs a real child process
//! inside a scope. What it proves:
//! 1. the group's scope ends when every task has ended, with their values;
//! 2. when one job fails, the group aborts the others: their scopes are
//!    cancelled, which kills and reaps their children (no process is left
//!    behind, checked in `/proc` on Linux: the slow jobs `exec` their
//!    command, so the child is the whole job); the scope's error is the
//!    failure.

use std::time::{Duration, Instant};

use managed::tokio::TaskGroup;
use managed::{scope, with, Error};
use tokio::process::Command;

/// Runs `sh -c script` as a child of a scope; returns its pid and its output.
async fn job(script: &'static str, pids: std::sync::Arc<std::sync::Mutex<Vec<u32>>>) -> Result<String, Error> {
    scope!(async move {
        let child = with!(Command::new("sh").arg("-c").arg(script).stdout(std::process::Stdio::piped()).spawn()?)?;
        if let (Some(pid), Ok(mut pids)) = (child.id(), pids.lock()) {
            pids.push(pid);
        }
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(child.stdout.as_mut().expect("piped"), &mut out).await?;
        let status = child.wait().await?;
        if !status.success() {
            return Err(Error::msg(format!("`{script}` failed: {status}")));
        }
        Ok(out.trim().to_owned())
    })
    .await
}

/// Whether a process with this pid still exists (running or a zombie).
fn exists(pid: u32) -> bool {
    cfg!(target_os = "linux") && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let pids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));

    println!("1. three jobs that succeed");
    let tasks = scope!(async {
        let group = with!(TaskGroup::new())?;
        let tasks: Vec<_> = ["echo one", "sleep 0.1; echo two", "echo three"]
            .into_iter()
            .map(|script| group.spawn(job(script, pids.clone())))
            .collect();
        Ok::<_, Error>(tasks)
    })
    .await?;
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap_or_default());
    }
    println!("   outputs: {outputs:?}");
    assert_eq!(outputs, ["one", "two", "three"]);

    println!("\n2. one job fails: the others are aborted and their children killed");
    pids.lock().map_err(|_| Error::msg("poisoned"))?.clear();
    let started = Instant::now();
    let result = scope!(async {
        let group = with!(TaskGroup::new())?;
        group.spawn(job("exec sleep 30", pids.clone())); // `exec`: the child is `sleep` itself
        group.spawn(job("exec sleep 31", pids.clone()));
        group.spawn(job("sleep 0.2; exit 3", pids.clone()));
        Ok::<_, Error>(())
    })
    .await;
    let error = result.expect_err("a job failed");
    println!("   the scope failed after {:?} with: {error}", started.elapsed());
    assert!(error.to_string().contains("exit status: 3"));
    let pids = pids.lock().map_err(|_| Error::msg("poisoned"))?.clone();
    assert_eq!(pids.len(), 3);
    // The cancelled scopes killed their children; a spawned task reaps each.
    for _ in 0..500 {
        if !pids.iter().any(|&pid| exists(pid)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| exists(pid)).collect();
    println!("   child processes left: {left:?}");
    assert!(left.is_empty());

    println!("\nall checks passed");
    Ok(())
}
