#!/usr/bin/env python3
"""Compile time of the macros (DESIGN section 10), run by benches/run.sh.

Generates three crates under target/bench-compile/ with the same items,
1,000 deferred cleanups (200 functions x 5) and 200 scopes with two managers
and an error-only cleanup each:

  managed     `defer!` and `scope!` / `with!` / `defer!(err => ..)`
  scopeguard  `scopeguard::defer!`, and the scopes written by hand
              (scopeguard has no equivalent of `scope!`)
  hand        a hand-written drop guard, and the scopes written by hand

and, for each, measures a clean build (`cargo build --timings`, fresh target
directory): wall and CPU time, and the time of the proc-macro units
(managed-macros, syn, quote, proc-macro2, unicode-ident) next to the sum of
all units; then the generated crate alone, dependencies built: the best of
three non-incremental rebuilds, with `cargo +nightly rustc -- -Z time-passes`
when a nightly toolchain is installed for the macro expansion
(`expand_crate`) and code generation (`codegen_crate`, LLVM included).

`#[managed]` items are not generated: `#[managed]` is not on main yet.
Prints one JSON object per line (read by report.py).
"""

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench-compile"
DEFER_FNS, DEFERS_PER_FN, SCOPES = 200, 5, 200
PROC_MACRO_UNITS = {"managed-macros", "syn", "quote", "proc-macro2", "unicode-ident"}

COMMON = """#![allow(dead_code, clippy::all)]
use std::cell::Cell;

#[derive(Debug, PartialEq)]
pub struct Failed(pub u64);

pub struct Counter<'a> { hits: &'a Cell<u64>, target: u64 }

impl<'a> Counter<'a> {
    pub fn new(hits: &'a Cell<u64>, target: u64) -> Self { Counter { hits, target } }
}
"""

MANAGED_IMPL = """
impl managed::Manage for Counter<'_> {
    type Target = u64;
    type Error = Failed;
    fn enter(&mut self) -> Result<&mut u64, Failed> { self.hits.set(self.hits.get() + 1); Ok(&mut self.target) }
    fn exit(self, outcome: &managed::Outcome<'_>) -> Result<(), Failed> {
        self.hits.set(self.hits.get() + u64::from(outcome.is_ok()));
        if self.target == u64::MAX { Err(Failed(self.target)) } else { Ok(()) }
    }
}
"""

HAND_IMPL = """
impl Counter<'_> {
    pub fn enter(&mut self) -> Result<&mut u64, Failed> { self.hits.set(self.hits.get() + 1); Ok(&mut self.target) }
    pub fn exit(self, ok: bool) -> Result<(), Failed> {
        self.hits.set(self.hits.get() + u64::from(ok));
        if self.target == u64::MAX { Err(Failed(self.target)) } else { Ok(()) }
    }
}

fn merge<T>(body: Result<T, Failed>, exit: Result<(), Failed>) -> Result<T, Failed> {
    match (body, exit) {
        (body, Ok(())) => body,
        (Ok(_), Err(later)) => Err(later),
        (Err(primary), Err(later)) => { eprintln!("suppressed: {later:?}"); Err(primary) }
    }
}
"""

HAND_GUARD = """
pub struct OnDrop<F: FnOnce()>(Option<F>);
impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) { if let Some(f) = self.0.take() { f() } }
}
"""


def defer_fn(i, style):
    lines = [f"pub fn d{i}(hits: &Cell<u64>) -> u64 {{"]
    for k in range(DEFERS_PER_FN):
        body = f"hits.set(hits.get() + {k + 1})"
        if style == "managed":
            lines.append(f"    managed::defer!({body});")
        elif style == "scopeguard":
            lines.append(f"    scopeguard::defer!({body});")
        else:
            lines.append(f"    let _g{k} = OnDrop(Some(|| {body}));")
    lines.append(f"    hits.get() + {i}")
    lines.append("}")
    return "\n".join(lines)


def scope_fn(i, style):
    if style == "managed":
        return f"""pub fn s{i}(hits: &Cell<u64>, fail: bool) -> Result<u64, Failed> {{
    managed::scope! {{
        let a = managed::with!(Counter::new(hits, {i}))?;
        let b = managed::with!(Counter::new(hits, 1))?;
        managed::defer!(err => hits.set(hits.get() + 100));
        *a += *b;
        if fail {{ return Err(Failed(*a)); }}
        Ok(*a)
    }}
}}"""
    return f"""pub fn s{i}(hits: &Cell<u64>, fail: bool) -> Result<u64, Failed> {{
    let mut ma = Counter::new(hits, {i});
    let a = ma.enter()?;
    let outer = {{
        let mut mb = Counter::new(hits, 1);
        match mb.enter() {{
            Ok(b) => {{
                let body = (|| {{
                    *a += *b;
                    if fail {{ return Err(Failed(*a)); }}
                    Ok(*a)
                }})();
                if body.is_err() {{ hits.set(hits.get() + 100); }}
                let exit = mb.exit(body.is_ok());
                merge(body, exit)
            }}
            Err(e) => Err(e),
        }}
    }};
    let exit = ma.exit(outer.is_ok());
    merge(outer, exit)
}}"""


def generate(style):
    d = OUT / style
    (d / "src").mkdir(parents=True, exist_ok=True)
    deps = {
        "managed": f'managed = {{ path = "{ROOT}" }}',
        "scopeguard": 'scopeguard = "1.2"',
        "hand": "",
    }[style]
    # `[workspace]`: the crate lives under our target/ and must not be taken
    # for a member of the managed workspace.
    (d / "Cargo.toml").write_text(
        f'[package]\nname = "gen_{style}"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f"[dependencies]\n{deps}\n\n[workspace]\n"
    )
    parts = [COMMON, MANAGED_IMPL if style == "managed" else HAND_IMPL]
    if style == "hand":
        parts.append(HAND_GUARD)
    parts += [defer_fn(i, style) for i in range(DEFER_FNS)]
    parts += [scope_fn(i, style) for i in range(SCOPES)]
    (d / "src" / "lib.rs").write_text("\n\n".join(parts) + "\n")
    return d


def unit_data(html):
    m = re.search(r"const UNIT_DATA = (\[.*?\]);\s*\n", html, re.S)
    return json.loads(m.group(1)) if m else []


def has_nightly():
    r = subprocess.run(["rustup", "toolchain", "list"], capture_output=True, text=True, check=False)
    return r.returncode == 0 and "nightly" in r.stdout


def cpu_seconds():
    """User + system CPU time of the finished child processes so far: far
    less disturbed by other builds on the machine than wall time."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cargo(args, cwd, env=None):
    before_cpu, before = cpu_seconds(), time.monotonic()
    r = subprocess.run(
        ["cargo", *args], cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    return r, time.monotonic() - before, cpu_seconds() - before_cpu


def time_passes(stderr):
    passes = {}
    for line in stderr.splitlines():
        m = re.match(r"time:\s+([\d.]+);.*?\s(\S+)$", line.strip())
        if m:
            passes[m.group(2)] = float(m.group(1))
    return passes


SCOPE_FN = re.compile(r"pub fn s\d+\(hits.*?\n\}\n", re.S)
DEFER_FN = re.compile(r"pub fn d\d+\(hits: &Cell<u64>\) -> u64 \{.*?\n\}\n", re.S)


def crate_alone(d, ntarget, nightly, prefix):
    """The crate in `d` rebuilt three times (dependencies already built in
    `ntarget`); the figures of the run that used the least CPU."""
    toolchain = ["+nightly"] if nightly else []
    flags = ["--", "-Z", "time-passes"] if nightly else []
    best = None
    for _ in range(3):
        (d / "src" / "lib.rs").touch()
        r, wall, cpu = cargo(
            [*toolchain, "rustc", "-q", "--lib", "--target-dir", str(ntarget), *flags], d, {"CARGO_INCREMENTAL": "0"}
        )
        if r.returncode != 0:
            sys.stderr.write(r.stderr[-2000:])
            return {}
        if best is None or cpu < best[1]:
            best = (wall, cpu, time_passes(r.stderr))
    wall, cpu, passes = best
    return {
        f"{prefix}crate_s": wall,
        f"{prefix}crate_cpu_s": cpu,
        f"{prefix}expand_s": passes.get("expand_crate"),
        f"{prefix}crate_rustc_s": passes.get("total"),
        # `codegen_crate` spans the LLVM work done in parallel with it.
        f"{prefix}codegen_s": passes.get("codegen_crate"),
    }


def measure(style, nightly):
    d = generate(style)
    target = d / "target"
    shutil.rmtree(target, ignore_errors=True)
    r, clean_s, clean_cpu = cargo(["build", "-q", "--timings", "--target-dir", str(target)], d)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"compile_time.py: the {style} crate does not build")
    units = unit_data((target / "cargo-timings" / "cargo-timing.html").read_text())
    macro_s = sum(u["duration"] for u in units if u["name"] in PROC_MACRO_UNITS)
    all_s = sum(u["duration"] for u in units)
    fact = {
        "variant": style,
        "label": {
            "managed": "`managed` (`defer!`, `scope!`)",
            "scopeguard": "scopeguard `defer!` + hand-written scopes",
            "hand": "hand-written guards and scopes",
        }[style],
        "clean_s": clean_s,
        "clean_cpu_s": clean_cpu,
        "proc_macro_units_s": macro_s,
        "clean_units_s": all_s,
    }
    # The generated crate alone, dependencies built: the best of three
    # non-incremental rebuilds (the least disturbed by the machine's load);
    # then the same for its deferred cleanups only and its scopes only.
    ntarget = d / ("target-nightly" if nightly else "target")
    fact.update(crate_alone(d, ntarget, nightly, ""))
    source = (d / "src" / "lib.rs").read_text()
    for part, drop in [("defers", SCOPE_FN), ("scopes", DEFER_FN)]:
        pd = OUT / f"{style}_{part}"
        (pd / "src").mkdir(parents=True, exist_ok=True)
        (pd / "Cargo.toml").write_text((d / "Cargo.toml").read_text().replace(f"gen_{style}", f"gen_{style}_{part}"))
        (pd / "src" / "lib.rs").write_text(drop.sub("", source))
        fact.update(crate_alone(pd, ntarget, nightly, f"{part}_"))
    return fact


def main():
    nightly = has_nightly()
    print(
        json.dumps(
            {
                "what": f"Generated crates: {DEFER_FNS * DEFERS_PER_FN:,} deferred cleanups ({DEFER_FNS} functions x "
                f"{DEFERS_PER_FN}) and {SCOPES} scopes (two managers and an error-only cleanup each), "
                "dev profile. CPU seconds are the steadier figures on a shared machine; "
                "the crate-alone columns are the best of three rebuilds. "
                "`#[managed]` items are not included: `#[managed]` is not on main yet."
                + ("" if nightly else " No nightly toolchain: the expansion time is not measured.")
            }
        )
    )
    for style in ["managed", "scopeguard", "hand"]:
        print(json.dumps(measure(style, nightly)), flush=True)


if __name__ == "__main__":
    main()
