#!/usr/bin/env bash
# Runs every benchmark of the workspace and rewrites the tables in
# BENCHMARKS.md (the rows are listed in benches/rows.toml).
#
#   benches/run.sh                     everything (about 10-20 minutes on 2 busy cores)
#   benches/run.sh --no-wallclock      skip the criterion benches (the slow, noisy part)
#   benches/run.sh --no-compile-time   skip the compile-time crates
#   benches/run.sh --report-only       only rewrite BENCHMARKS.md from the last results
#
# Needs: valgrind and python3 (3.11+, for tomllib). The compile-time part
# uses `-Z time-passes` on the stable compiler (RUSTC_BOOTSTRAP=1).
# It installs the gungraun runner itself, at the version Cargo.lock pins for
# the `gungraun` library (they must match), into target/bench-tools when the
# one on PATH is missing or another version.
#
# What it runs is discovered from the `[[bench]]` entries of Cargo.toml:
# a bench using `gungraun` gives instruction counts, one using criterion
# gives wall-clock times, any other prints `{"fact": ..}` lines. To add rows,
# add a bench and a `[[row]]` in benches/rows.toml; nothing here changes.
set -euo pipefail
cd "$(dirname "$0")/.."

wallclock=1
compile_time=1
run=1
for arg in "$@"; do
  case "$arg" in
    --no-wallclock) wallclock=0 ;;
    --no-compile-time) compile_time=0 ;;
    --report-only) run=0 ;;
    *) echo "run.sh: unknown option $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
results="$target_dir/bench-results"
step() { printf '\n==> %s\n' "$*" >&2; }

if [ "$run" = 1 ]; then
  mkdir -p "$results"
  rm -f "$results"/*.gungraun.jsonl "$results"/*.facts.jsonl "$results"/machine.json

  step "tools"
  command -v valgrind >/dev/null || { echo "run.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
  command -v python3 >/dev/null || { echo "run.sh: python3 is needed" >&2; exit 1; }
  version=$(awk '/^name = "gungraun"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  [ -n "$version" ] || { echo "run.sh: no gungraun in Cargo.lock (run cargo update first)" >&2; exit 1; }
  tools="$PWD/$target_dir/bench-tools"
  export PATH="$tools/bin:$PATH"
  if [ "$(gungraun-runner --version 2>/dev/null || true)" != "gungraun-runner $version" ]; then
    step "installing gungraun-runner $version into $tools (matches the gungraun library)"
    cargo install gungraun-runner --version "$version" --locked --root "$tools"
  fi
  gungraun-runner --version >&2
  valgrind --version >&2

  # Machine facts first, with the load as the run starts.
  python3 benches/report.py machine > "$results/machine.json"

  benches=$(python3 benches/report.py benches)
  [ "$wallclock" = 1 ] && rm -rf "$target_dir/criterion"
  while read -r name kind; do
    [ -n "$name" ] || continue
    case "$kind" in
      gungraun)
        step "instructions: $name (callgrind)"
        cargo bench -q --bench "$name" -- --output-format=json > "$results/$name.gungraun.jsonl"
        ;;
      criterion)
        if [ "$wallclock" = 1 ]; then
          step "wall-clock: $name (criterion)"
          cargo bench -q --bench "$name" >&2
        fi
        ;;
      *)
        step "facts: $name"
        cargo bench -q --bench "$name" | grep '^{"fact"' > "$results/$name.facts.jsonl" || true
        ;;
    esac
  done <<< "$benches"

  if [ "$compile_time" = 1 ]; then
    step "compile time (generated crates)"
    python3 benches/compile_time.py > "$results/compile.jsonl"
    step "compile time in rustc instructions (200 scopes of 3 managers, callgrind on rustc)"
    python3 benches/compile_instructions.py managed hand hand_unwind > "$results/compile_instructions.jsonl"
  fi
fi

step "rewriting BENCHMARKS.md"
python3 benches/report.py write BENCHMARKS.md
