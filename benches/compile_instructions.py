#!/usr/bin/env python3
"""Compile time of `scope!` in rustc's own instructions (DESIGN section 10),
run by benches/run.sh; usable as a library by prototypes of the expansion.

Generates crates under target/bench-compile/ of 200 functions, each one
scope with 3 managers (opaque, fallible enter and exit, as `Conn` in
benches/workloads/nest.rs) and a `?` in the middle of the body:

  managed      `scope!` with three `with!(..)?`
  hand         the same written by hand: nested `match`es calling the same
               enter and exit and merging an exit error the same way
  hand_unwind  the same with `catch_unwind` at each level (as panic-safe)

and builds each crate alone (dependencies already built, not incremental),
in the dev and the release profile, with rustc under
`valgrind --tool=callgrind`: the instruction count does not depend on the
machine's load (two runs of one crate differ by well under 0.1 %). The
passes are read from `callgrind_annotate --inclusive=yes`, the inclusive
count of the entry point of each (the outermost call; nested queries are
part of the pass that asked for them):

  expand       macro expansion, proc macros included (`MacroExpander::expand_crate`)
  typeck       type checking (the `typeck` query)
  borrowck     borrow checking (the `mir_borrowck` query)
  codegen      monomorphisation and MIR to LLVM IR (`codegen_crate`, main thread)
  llvm         LLVM's optimisation and machine code (`LLVMRustOptimize` + `LLVMRustWriteOutputFile`)
  total        everything rustc executed for the crate, all threads

Prints one JSON object per line (read by report.py):
  {"variant": .., "profile": "debug" | "release", "total": .., "expand": .., ..}

  compile_instructions.py [VARIANT..]   the variants named (default: managed hand)
"""

import json
import os
import re

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench-compile"
FUNCTIONS = 200

# What every variant's crate starts with: the manager, its opaque enter and
# exit, the body's steps and the merge the hand-written variants use.
COMMON = """#![allow(dead_code, clippy::all)]
use std::cell::Cell;

#[derive(Debug, PartialEq)]
pub struct Failed(pub u64);

#[inline(never)]
pub fn connect(hits: &Cell<u64>, id: u64) -> Result<u64, Failed> {
    if id == u64::MAX { return Err(Failed(id)); }
    hits.set(hits.get() * 31 + id);
    Ok(id)
}

#[inline(never)]
pub fn disconnect(hits: &Cell<u64>, id: u64, ok: bool) -> Result<(), Failed> {
    hits.set(hits.get() * 31 + id + u64::from(ok));
    if id == u64::MAX - 1 { Err(Failed(id)) } else { Ok(()) }
}

#[inline(never)]
pub fn work(x: u64) -> u64 {
    assert!(x != u64::MAX - 2, "out of range");
    x.wrapping_mul(3)
}

#[inline(never)]
pub fn check(v: u64, fail: bool) -> Result<u64, Failed> {
    if fail { Err(Failed(v)) } else { Ok(v + 1) }
}

pub struct Conn<'a> { hits: &'a Cell<u64>, id: u64, handle: u64 }

impl<'a> Conn<'a> {
    pub fn new(hits: &'a Cell<u64>, id: u64) -> Self { Conn { hits, id, handle: 0 } }
}
"""

MANAGED = """
impl managed::Manage for Conn<'_> {
    type Target = u64;
    type Error = Failed;
    fn enter(&mut self) -> Result<&mut u64, Failed> {
        self.handle = connect(self.hits, self.id)?;
        Ok(&mut self.handle)
    }
    fn exit(self, outcome: &managed::Outcome<'_>) -> Result<(), Failed> {
        disconnect(self.hits, self.handle, outcome.is_ok())
    }
}
"""

HAND = """
impl Conn<'_> {
    pub fn enter(&mut self) -> Result<&mut u64, Failed> {
        self.handle = connect(self.hits, self.id)?;
        Ok(&mut self.handle)
    }
    pub fn exit(self, ok: bool) -> Result<(), Failed> {
        disconnect(self.hits, self.handle, ok)
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

HAND_UNWIND = HAND + """
fn exit_unwinding(m: Conn<'_>, panic: Box<dyn std::any::Any + Send>) -> ! {
    if let Err(e) = m.exit(false) { eprintln!("while unwinding: {e:?}"); }
    std::panic::resume_unwind(panic)
}
"""


def managed_fn(i):
    return f"""pub fn s{i}(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {{
    managed::scope! {{
        let a = managed::with!(Conn::new(hits, x + {i}))?;
        let b = managed::with!(Conn::new(hits, x + 1))?;
        let c = managed::with!(Conn::new(hits, x + 2))?;
        let v = work(x) ^ *a ^ *b ^ *c;
        let w = check(v, fail)?;
        Ok(work(w))
    }}
}}"""


def hand_fn(i):
    return f"""pub fn s{i}(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {{
    let mut ma = Conn::new(hits, x + {i});
    match ma.enter() {{
        Ok(a) => {{
            let mut mb = Conn::new(hits, x + 1);
            let rest_a = match mb.enter() {{
                Ok(b) => {{
                    let mut mc = Conn::new(hits, x + 2);
                    let rest_b = match mc.enter() {{
                        Ok(c) => {{
                            let body = (|| {{
                                let v = work(x) ^ *a ^ *b ^ *c;
                                let w = check(v, fail)?;
                                Ok(work(w))
                            }})();
                            let exit = mc.exit(body.is_ok());
                            merge(body, exit)
                        }}
                        Err(e) => Err(e),
                    }};
                    let exit = mb.exit(rest_b.is_ok());
                    merge(rest_b, exit)
                }}
                Err(e) => Err(e),
            }};
            let exit = ma.exit(rest_a.is_ok());
            merge(rest_a, exit)
        }}
        Err(e) => Err(e),
    }}
}}"""


def hand_unwind_fn(i):
    def level(m, new, t, inner):
        return f"""{{
        let mut {m} = {new};
        match {m}.enter() {{
            Ok({t}) => {{
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {inner})) {{
                    Ok(rest) => {{
                        let exit = {m}.exit(rest.is_ok());
                        merge(rest, exit)
                    }}
                    Err(panic) => exit_unwinding({m}, panic),
                }}
            }}
            Err(e) => Err(e),
        }}
    }}"""

    body = """(|| {
            let v = work(x) ^ *a ^ *b ^ *c;
            let w = check(v, fail)?;
            Ok(work(w))
        })()"""
    nest = level("mc", "Conn::new(hits, x + 2)", "c", body)
    nest = level("mb", "Conn::new(hits, x + 1)", "b", nest)
    nest = level("ma", f"Conn::new(hits, x + {i})", "a", nest)
    return f"pub fn s{i}(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {nest}"


# variant: (dependencies, prelude, function). Prototypes add their own.
VARIANTS = {
    "managed": (f'managed = {{ path = "{ROOT}" }}', MANAGED, managed_fn),
    "hand": ("", HAND, hand_fn),
    "hand_unwind": ("", HAND_UNWIND, hand_unwind_fn),
}

PASSES = {
    "expand": [r"<rustc_expand::expand::MacroExpander>::expand_crate"],
    "typeck": [r"rustc_query_impl::query_impl::typeck::execute_query_non_incr::__rust_end_short_backtrace"],
    "borrowck": [r"rustc_query_impl::query_impl::mir_borrowck::execute_query_non_incr::__rust_end_short_backtrace"],
    "codegen": [r"rustc_codegen_ssa::base::codegen_crate::<rustc_codegen_llvm::LlvmCodegenBackend>"],
    "llvm": [r"LLVMRustOptimize", r"LLVMRustWriteOutputFile"],
}


def generate(name, deps, prelude, function, count=FUNCTIONS):
    d = OUT / f"scopes3_{name}"
    (d / "src").mkdir(parents=True, exist_ok=True)
    # `[workspace]`: the crate lives under our target/ and must not be taken
    # for a member of the managed workspace.
    (d / "Cargo.toml").write_text(
        f'[package]\nname = "gen_scopes3_{name}"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f"[dependencies]\n{deps}\n\n[workspace]\n"
    )
    source = "\n\n".join([COMMON, prelude] + [function(i) for i in range(count)]) + "\n"
    (d / "src" / "lib.rs").write_text(source)
    return d


def real_rustc():
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    return str(Path(sysroot) / "bin" / "rustc")


def inclusive(annotated, symbol):
    """The inclusive count of `symbol`'s outermost entry (not its `'2`
    recursion) in `callgrind_annotate --inclusive=yes` output."""
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*?:(.*?) \[", line)
        if m and m.group(2) == symbol:
            return int(m.group(1).replace(",", ""))
    return 0


def measure(d, profile):
    """rustc's instructions for the crate in `d` alone, per pass."""
    target = d / "target"
    rustc = real_rustc()
    env = {**os.environ, "CARGO_INCREMENTAL": "0", "RUSTC": rustc}
    args = ["cargo", "build", "-q", "--lib", "--target-dir", str(target)] + (["--release"] if profile == "release" else [])
    r = subprocess.run(args, cwd=d, env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-4000:])
        raise SystemExit(f"compile_instructions.py: {d.name} does not build")
    out = d / f"callgrind.{profile}.out"
    wrapper = d / "valgrind-wrapper.sh"
    # cargo runs `$RUSTC_WRAPPER $RUSTC args..`: only the generated crate
    # runs under callgrind.
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  *"--crate-name {d.name.replace("scopes3_", "gen_scopes3_")} "*) '
        f'exec valgrind -q --tool=callgrind --callgrind-out-file="{out}" "$@" ;;\n'
        '  *) exec "$@" ;;\n'
        "esac\n"
    )
    wrapper.chmod(0o755)
    (d / "src" / "lib.rs").touch()
    r = subprocess.run(args, cwd=d, env={**env, "RUSTC_WRAPPER": str(wrapper)}, capture_output=True, text=True, check=False)
    if r.returncode != 0 or not out.exists():
        sys.stderr.write(r.stderr[-4000:])
        raise SystemExit(f"compile_instructions.py: {d.name} under callgrind failed")
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"([\d,]+)\s+\([^)]*\)\s+PROGRAM TOTALS", annotated)
    fact = {"total": int(m.group(1).replace(",", "")) if m else None}
    for name, symbols in PASSES.items():
        fact[name] = sum(inclusive(annotated, s) for s in symbols)
    return fact


def main():
    names = sys.argv[1:] or ["managed", "hand"]
    for name in names:
        if name not in VARIANTS:
            raise SystemExit(f"compile_instructions.py: unknown variant {name} (known: {', '.join(VARIANTS)})")
    print(
        json.dumps(
            {
                "what": f"{FUNCTIONS} functions, each one scope with 3 managers (opaque, fallible enter and exit) "
                "and a `?` in the middle of the body; the crate alone, not incremental; rustc's instructions "
                "under callgrind (all threads)."
            }
        ),
        flush=True,
    )
    for name in names:
        d = generate(name, *VARIANTS[name])
        for profile in ["debug", "release"]:
            fact = {"variant": name, "profile": profile, **measure(d, profile)}
            print(json.dumps(fact), flush=True)



if __name__ == "__main__":
    main()
