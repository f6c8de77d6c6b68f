#!/usr/bin/env python3
"""Compile time of the macros (DESIGN section 10), run by benches/run.sh.

Generates three crates under target/bench-compile/ with the same items,
1,000 deferred cleanups (200 functions x 5), 200 scopes with two managers
and an error-only cleanup each, and 100 managers (50 impl blocks, 50
`yield_!` functions):

  managed     `defer!`, `scope!` / `with!` / `defer!(err => ..)`, `#[managed]`
  scopeguard  `scopeguard::defer!`; the scopes and managers written by hand
              (scopeguard has no equivalent of `scope!` or `#[managed]`)
  hand        a hand-written drop guard; the scopes and managers by hand

and, for each, measures a clean build (`cargo build --timings`, fresh target
directory): wall and CPU time, and the time of the proc-macro units
(managed-macros, syn, quote, proc-macro2, unicode-ident) next to the sum of
all units; then the generated crate alone, dependencies built: the best of
three non-incremental rebuilds, with `-Z time-passes` (on the stable
compiler through `RUSTC_BOOTSTRAP=1`) for the macro expansion
(`expand_crate`) and code generation (`codegen_crate`, LLVM included).

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
DEFER_FNS, DEFERS_PER_FN, SCOPES, MANAGED_IMPLS, MANAGED_FNS = 200, 5, 200, 50, 50
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


def managed_item(i, style):
    """Half the `#[managed]` items are impl blocks (`#[enter]`/`#[exit]`),
    half `yield_!` functions; the other variants write the same managers by
    hand: a struct with its enter and exit (what code without `managed`
    has in their place)."""
    if i < MANAGED_IMPLS:
        if style == "managed":
            return f"""pub struct Res{i}<'a> {{ hits: &'a Cell<u64>, value: u64 }}

#[managed::managed]
impl Res{i}<'_> {{
    #[enter]
    fn open(&mut self) -> Result<(), Failed> {{
        self.hits.set(self.hits.get() + {i});
        if self.value == u64::MAX {{ return Err(Failed(self.value)); }}
        Ok(())
    }}

    #[exit]
    fn close(self, outcome: &managed::Outcome<'_>) -> Result<(), Failed> {{
        self.hits.set(self.hits.get() + u64::from(outcome.is_ok()));
        Ok(())
    }}
}}"""
        return f"""pub struct Res{i}<'a> {{ hits: &'a Cell<u64>, value: u64 }}

impl Res{i}<'_> {{
    pub fn open(&mut self) -> Result<&mut Self, Failed> {{
        self.hits.set(self.hits.get() + {i});
        if self.value == u64::MAX {{ return Err(Failed(self.value)); }}
        Ok(self)
    }}

    pub fn close(self, ok: bool) -> Result<(), Failed> {{
        self.hits.set(self.hits.get() + u64::from(ok));
        Ok(())
    }}
}}"""
    if style == "managed":
        return f"""#[managed::managed]
pub fn session{i}(hits: &Cell<u64>, value: u64) -> Result<u64, Failed> {{
    hits.set(hits.get() + {i});
    if value == u64::MAX {{ return Err(Failed(value)); }}
    let outcome = yield_!(value);
    hits.set(hits.get() + u64::from(outcome.is_ok()));
}}"""
    return f"""pub struct Session{i}<'a> {{ hits: &'a Cell<u64>, value: u64 }}

pub fn session{i}(hits: &Cell<u64>, value: u64) -> Result<Session{i}<'_>, Failed> {{
    hits.set(hits.get() + {i});
    if value == u64::MAX {{ return Err(Failed(value)); }}
    Ok(Session{i} {{ hits, value }})
}}

impl Session{i}<'_> {{
    pub fn value(&mut self) -> &mut u64 {{ &mut self.value }}
    pub fn close(self, ok: bool) {{ self.hits.set(self.hits.get() + u64::from(ok)); }}
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
    if style == "managed":
        parts.append("use managed::yield_;")
    if style == "hand":
        parts.append(HAND_GUARD)
    parts += [defer_fn(i, style) for i in range(DEFER_FNS)]
    parts += [scope_fn(i, style) for i in range(SCOPES)]
    parts.append(ITEMS_MARK)
    parts += [managed_item(i, style) for i in range(MANAGED_IMPLS + MANAGED_FNS)]
    (d / "src" / "lib.rs").write_text("\n\n".join(parts) + "\n")
    return d


def unit_data(html):
    m = re.search(r"const UNIT_DATA = (\[.*?\]);\s*\n", html, re.S)
    return json.loads(m.group(1)) if m else []


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


ITEMS_MARK = "// ---- the #[managed] items (or their hand-written equivalents)"
SCOPE_FN = re.compile(r"pub fn s\d+\(hits.*?\n\}\n", re.S)
DEFER_FN = re.compile(r"pub fn d\d+\(hits: &Cell<u64>\) -> u64 \{.*?\n\}\n", re.S)


def crate_alone(d, ntarget, prefix):
    """The crate in `d` rebuilt three times (dependencies already built in
    `ntarget`); the figures of the run that used the least CPU. `-Z
    time-passes` on the stable compiler (`RUSTC_BOOTSTRAP=1`), so that every
    figure here comes from one compiler."""
    env = {"CARGO_INCREMENTAL": "0", "RUSTC_BOOTSTRAP": "1"}
    best = None
    for _ in range(3):
        (d / "src" / "lib.rs").touch()
        r, wall, cpu = cargo(["rustc", "-q", "--lib", "--target-dir", str(ntarget), "--", "-Z", "time-passes"], d, env)
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


def measure(style):
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
            "managed": "`managed` (`defer!`, `scope!`, `#[managed]`)",
            "scopeguard": "scopeguard `defer!` + hand-written scopes and managers",
            "hand": "hand-written guards, scopes and managers",
        }[style],
        "clean_s": clean_s,
        "clean_cpu_s": clean_cpu,
        "proc_macro_units_s": macro_s,
        "clean_units_s": all_s,
    }
    # The generated crate alone, dependencies built: the best of three
    # non-incremental rebuilds (the least disturbed by the machine's load);
    # then the same for its deferred cleanups only and its scopes only.
    ntarget = d / "target-passes"
    fact.update(crate_alone(d, ntarget, ""))
    source = (d / "src" / "lib.rs").read_text()
    items = source.index(ITEMS_MARK)
    for part, text in [
        ("defers", SCOPE_FN.sub("", source[:items])),
        ("scopes", DEFER_FN.sub("", source[:items])),
        ("items", DEFER_FN.sub("", SCOPE_FN.sub("", source))),
    ]:
        pd = OUT / f"{style}_{part}"
        (pd / "src").mkdir(parents=True, exist_ok=True)
        (pd / "Cargo.toml").write_text((d / "Cargo.toml").read_text().replace(f"gen_{style}", f"gen_{style}_{part}"))
        (pd / "src" / "lib.rs").write_text(text)
        fact.update(crate_alone(pd, ntarget, f"{part}_"))
    return fact


def main():
    print(
        json.dumps(
            {
                "what": f"Generated crates: {DEFER_FNS * DEFERS_PER_FN:,} deferred cleanups ({DEFER_FNS} functions x "
                f"{DEFERS_PER_FN}), {SCOPES} scopes (two managers and an error-only cleanup each) and "
                f"{MANAGED_IMPLS + MANAGED_FNS} managers ({MANAGED_IMPLS} `#[managed]` impl blocks, {MANAGED_FNS} "
                "`#[managed]` functions with `yield_!`; written by hand in the other variants), "
                "dev profile. CPU seconds are the steadier figures on a shared machine; "
                "the crate-alone columns are the best of three rebuilds. "
            }
        )
    )
    for style in ["managed", "scopeguard", "hand"]:
        print(json.dumps(measure(style)), flush=True)


if __name__ == "__main__":
    main()
