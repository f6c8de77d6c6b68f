#!/usr/bin/env python3
"""Helpers of benches/run.sh (not run by CI).

  report.py machine          print the machine facts (JSON) for the table header
  report.py benches          list the [[bench]] targets of Cargo.toml with their kind
  report.py write FILE       rewrite the generated parts of FILE (BENCHMARKS.md)
                             from target/bench-results and target/criterion

The generated parts sit between `<!-- NAME:start -->` and `<!-- NAME:end -->`
markers; everything else in BENCHMARKS.md is written by hand and kept.
"""

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RESULTS = TARGET / "bench-results"


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "rustc": run(["rustc", "--version"]),
        "valgrind": run(["valgrind", "--version"]),
        "gungraun": run(["gungraun-runner", "--version"]),
    }


def benches():
    """`name kind` per [[bench]]: kind is gungraun, criterion or facts."""
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    out = []
    for bench in manifest.get("bench", []):
        name = bench["name"]
        path = ROOT / bench.get("path", f"benches/{name}.rs")
        if not path.exists():
            path = ROOT / f"benches/{name}/main.rs"
        text = path.read_text() if path.exists() else ""
        if "gungraun::" in text or "use gungraun" in text:
            kind = "gungraun"
        elif "criterion_main" in text or "criterion::" in text:
            kind = "criterion"
        else:
            kind = "facts"
        out.append(f"{name} {kind}")
    return "\n".join(out)


# ------------------------------------------------------------------ sources


def load_sources():
    """Every measured figure, keyed by its source string (see rows.toml)."""
    values = {}
    for f in sorted(RESULTS.glob("*.gungraun.jsonl")):
        for line in f.read_text().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            s = json.loads(line)
            key = "callgrind:" + s["module_path"] + (f".{s['id']}" if s.get("id") else "")
            try:
                ir = s["profiles"][0]["data"]["total"]["metrics"]["Ir"]["values"]["new"]
            except (KeyError, IndexError, TypeError):
                continue
            values[key] = float(ir)
    for f in sorted(RESULTS.glob("*.facts.jsonl")):
        for line in f.read_text().splitlines():
            if line.startswith("{"):
                s = json.loads(line)
                values["fact:" + s["fact"]] = float(s["value"])
    crit = TARGET / "criterion"
    if crit.is_dir():
        for est in crit.rglob("new/estimates.json"):
            # Directory names are sanitised ids; benchmark.json has the real ones.
            meta = est.parent / "benchmark.json"
            key = "/".join(est.relative_to(crit).parts[:-2])
            if meta.exists():
                m = json.loads(meta.read_text())
                parts = [m.get("group_id"), m.get("function_id"), m.get("value_str")]
                key = "/".join(p for p in parts if p)
            mean = json.loads(est.read_text())["mean"]["point_estimate"]
            values[f"criterion:{key}"] = float(mean)
    return values


def fmt_num(x):
    if x is None:
        return "–"
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def fmt_ratio(r):
    return "–" if r is None else f"{r:.3f}"


def row_cells(row, values):
    per = float(row.get("per", 1))
    unit = row.get("unit", "Ir/call" if per != 1 else "Ir")

    def get(key):
        if not key:
            return None
        v = values.get(key)
        if v is None:
            return None
        return v / per if key.startswith("callgrind:") else v

    m, b, sg = get(row.get("managed")), get(row.get("baseline")), get(row.get("scopeguard"))
    ratio = m / b if m is not None and b else None
    sg_ratio = m / sg if m is not None and sg else None
    if m is None or b is None:
        status = "not measured"
    elif "max_allocs" in row and "max_ratio" not in row:
        allocs_now = values.get(row.get("allocs", ""))
        status = "not measured" if allocs_now is None else ("met" if allocs_now <= row["max_allocs"] else "**missed**")
    elif "max_diff" in row:
        status = "met" if m - b <= row["max_diff"] else "**missed**"
    else:
        ok = ratio <= row.get("max_ratio", 1.0)
        if sg is not None:
            ok = ok and m <= sg
        status = "met" if ok else "**missed**"
    wall = row.get("wallclock")
    wall_ratio = None
    if wall:
        wm, wb = values.get(wall[0]), values.get(wall[1])
        if wm is not None and wb:
            wall_ratio = f"{wm / wb:.2f} ({wm:.1f} / {wb:.1f} ns)"
    allocs = values.get(row["allocs"]) if row.get("allocs") else None
    # Instructions per call, the common unit, go without one.
    managed_cell = "–" if m is None else (fmt_num(m) if unit == "Ir/call" else f"{fmt_num(m)} {unit}")
    return [
        row["name"],
        managed_cell,
        fmt_num(b),
        fmt_num(sg) if row.get("scopeguard") else "n/a",
        fmt_ratio(ratio) if "max_diff" not in row else ("–" if m is None or b is None else f"{m - b:+,.0f} {unit}"),
        fmt_ratio(sg_ratio) if row.get("scopeguard") else "n/a",
        row.get("goal", ""),
        status,
        wall_ratio or "–",
        "–" if allocs is None else fmt_num(allocs),
    ]


def results_table(values, mach):
    rows = tomllib.loads((ROOT / "benches" / "rows.toml").read_text())["row"]
    intro = [
        f"Measured by `benches/run.sh` on {mach.get('date', '?')}: {mach.get('cpu', '?')}, "
        f"{mach.get('cores', '?')} cores, {mach.get('os', '?')}, load average {mach.get('load', '?')} at the start; "
        f"{mach.get('rustc', '?')}; {mach.get('valgrind', '?')}; {mach.get('gungraun', '?')}.",
        "",
        "Counts without a unit: instructions per call; ratio: managed / baseline; allocs: per "
        "call (`ExitStack`: per entry). Rows are grouped by their goal (DESIGN §10).",
    ]
    return "\n".join(intro + render_groups([row_cells(row, values) for row in rows]))


# The cells of `row_cells`, in its order.
CELL_NAMES = ["row", "managed", "baseline", "scopeguard", "ratio",
              "to scopeguard", "goal", "status", "wall-clock ratio", "allocs"]


def render_groups(cell_rows):
    """One table per run of rows sharing a goal, under the goal; the
    scopeguard, wall-clock and allocation columns only where a row of the
    table has a value for them, so the tables stay narrow."""
    lines = []
    i = 0
    while i < len(cell_rows):
        goal = cell_rows[i][6]
        group = [cell_rows[i]]
        i += 1
        while i < len(cell_rows) and cell_rows[i][6] == goal:
            group.append(cell_rows[i])
            i += 1
        cols = [0, 1, 2]
        if any(r[3] != "n/a" for r in group):
            cols.append(3)
        cols.append(4)
        if any(r[5] != "n/a" for r in group):
            cols.append(5)
        cols.append(7)
        if any(r[8] != "–" for r in group):
            cols.append(8)
        if any(r[9] != "–" for r in group):
            cols.append(9)
        head = [CELL_NAMES[c] for c in cols]
        lines += ["", f"Goal: {goal}.", ""]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("| " + " | ".join("---" for _ in head) + " |")
        for r in group:
            lines.append("| " + " | ".join(r[c] for c in cols) + " |")
    return lines


def compile_table():
    f = RESULTS / "compile.jsonl"
    if not f.exists():
        return "Not measured yet: run `benches/run.sh` without `--no-compile-time`."
    facts = [json.loads(line) for line in f.read_text().splitlines() if line.startswith("{")]
    by = {}
    meta = {}
    for x in facts:
        if "variant" in x:
            by[x["variant"]] = x
        else:
            meta.update(x)
    head = [
        "variant",
        "clean build: wall (s)",
        "clean build: CPU (s)",
        "proc-macro units (s)",
        "their share of all units",
        "crate alone: wall (s)",
        "crate alone: CPU (s)",
        "macro expansion (s)",
        "expansion share of the crate",
        "codegen, LLVM included (s)",
    ]
    lines = []
    if meta:
        lines.append(meta.get("what", ""))
        lines.append("")
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]

    def s(v):
        return "–" if v is None else f"{v:.2f}"

    def pct(a, b):
        return "–" if a is None or not b else f"{100 * a / b:.1f} %"

    for name in ["managed", "scopeguard", "hand"]:
        x = by.get(name)
        if not x:
            continue
        cells = [
            x.get("label", name),
            s(x.get("clean_s")),
            s(x.get("clean_cpu_s")),
            s(x.get("proc_macro_units_s")),
            pct(x.get("proc_macro_units_s"), x.get("clean_units_s")),
            s(x.get("crate_s")),
            s(x.get("crate_cpu_s")),
            s(x.get("expand_s")),
            pct(x.get("expand_s"), x.get("crate_rustc_s")),
            s(x.get("codegen_s")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    split_head = [
        "variant",
        "1,000 deferred cleanups only: CPU (s)",
        "their expansion (s)",
        "their codegen (s)",
        "200 scopes only: CPU (s)",
        "their expansion (s)",
        "their codegen (s)",
        "100 managers only: CPU (s)",
        "their expansion (s)",
        "their codegen (s)",
    ]
    lines += [
        "",
        "The same crates split in three, each part alone (best of three rebuilds; every part includes the "
        "manager type and, for `managed`, loading the proc-macro library):",
        "",
        "| " + " | ".join(split_head) + " |",
        "| " + " | ".join("---" for _ in split_head) + " |",
    ]
    for name in ["managed", "scopeguard", "hand"]:
        x = by.get(name)
        if not x:
            continue
        cells = [x.get("label", name)] + [
            s(x.get(f"{part}_{k}")) for part in ["defers", "scopes", "items"] for k in ["crate_cpu_s", "expand_s", "codegen_s"]
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compile_instructions_table():
    f = RESULTS / "compile_instructions.jsonl"
    if not f.exists():
        return "Not measured yet: run `benches/run.sh` without `--no-compile-time`."
    facts = [json.loads(line) for line in f.read_text().splitlines() if line.startswith("{")]
    meta = next((x["what"] for x in facts if "what" in x), "")
    by = {(x["variant"], x["profile"]): x for x in facts if "variant" in x}
    passes = [
        ("total", "total"),
        ("expand", "macro expansion"),
        ("typeck", "type checking (`typeck`)"),
        ("borrowck", "borrow checking (`mir_borrowck`)"),
        ("codegen", "MIR to LLVM IR (`codegen_crate`)"),
        ("llvm", "LLVM (optimise + emit)"),
    ]
    others = [v for v in ["hand_unwind"] if (v, "debug") in by or (v, "release") in by]
    head = ["pass"]
    for profile in ["debug", "release"]:
        head += [f"{profile}: `scope!`", f"{profile}: by hand", f"{profile}: ratio"]
        head += [f"{profile}: to panic-safe" for v in others]  # hand_unwind: the nest with catch_unwind
    lines = [meta, "", "| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]

    def g(v):
        return "–" if v is None else f"{v / 1e6:,.0f} M"

    for key, label in passes:
        cells = [label]
        for profile in ["debug", "release"]:
            m = by.get(("managed", profile), {}).get(key)
            h = by.get(("hand", profile), {}).get(key)
            cells += [g(m), g(h), "–" if not m or not h else f"{m / h:.2f}x"]
            for v in others:
                o = by.get((v, profile), {}).get(key)
                cells.append("–" if not m or not o else f"{m / o:.2f}x")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(text, name, body):
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"report.py: markers {start} / {end} not found")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def write(path):
    path = Path(path)
    mach_file = RESULTS / "machine.json"
    mach = json.loads(mach_file.read_text()) if mach_file.exists() else {}
    text = path.read_text()
    text = replace_block(text, "results", results_table(load_sources(), mach))
    text = replace_block(text, "compile-time", compile_table())
    if "<!-- compile-instructions:start -->" in text:
        text = replace_block(text, "compile-instructions", compile_instructions_table())
    path.write_text(text)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "machine":
        print(json.dumps(machine()))
    elif cmd == "benches":
        print(benches())
    elif cmd == "write" and len(sys.argv) == 3:
        write(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
