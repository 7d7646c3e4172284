# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every section shares: wall time with the peers interleaved, peak memory, the report's format.

A section is a module of this package with
    add_arguments(parser)      its own options
    run(args) -> Report        print its tables, return its summary lines and results
and its name in SECTIONS (bench/__main__.py). A report, not a test: nothing timed is asserted.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from . import ROOT

RESULTS = ROOT / "bench" / "results"  # git-ignored: results and cached inputs

Call = Callable[[], object]


@dataclass
class Report:
    """What a section hands back: summary lines (printed together at the end), notes (a peer that cannot
    read an input), crashes (ours raised, a process died from a signal: exit status 1) and the results."""
    summary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- time

def _repeats(func: Call, repeat_time: float, min_repeats: int, max_repeats: int = 1000) -> int:
    """Runs that take about repeat_time seconds (at least min_repeats), from one warm-up run (imports, caches)."""
    started = time.perf_counter()
    func()
    first = time.perf_counter() - started
    return max(min_repeats, min(max_repeats, math.ceil(repeat_time / max(first, 1e-6))))


def _stats(times: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": len(times)}


def measure_together(calls: dict[str, Call], *, repeat_time: float = 0.3, min_repeats: int = 3,
                     rounds: int = 5) -> dict[str, dict[str, Any]]:
    """Median wall time of each call, the calls interleaved: every round runs each call its share of its runs,
    the order rotating from round to round, so that load from other processes hits all of them alike and the
    ratios stay meaningful. rounds = min_repeats and repeat_time = 0 alternate single runs (A B, B A, ...)."""
    if not calls:
        return {}
    gc.collect()
    repeats = {name: _repeats(func, repeat_time, min_repeats) for name, func in calls.items()}
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            share = repeats[name] // rounds + (1 if round_index < repeats[name] % rounds else 0)
            for _unused in range(share):
                started = time.perf_counter()
                calls[name]()
                times[name].append(time.perf_counter() - started)
    return {name: _stats(values) for name, values in times.items()}


def measure(func: Call, *, repeat_time: float = 0.3, min_repeats: int = 3) -> dict[str, Any]:
    """Median wall time of one call alone."""
    return measure_together({"only": func}, repeat_time=repeat_time, min_repeats=min_repeats)["only"]


def run_quietly(argv: Sequence[str], cwd: str | None = None) -> int:
    """Exit status of one process (negative: killed by that signal), its output discarded."""
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          cwd=cwd, check=False).returncode


# ------------------------------------------------------------------------------------------- memory

def _rss_kib(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _forked_rss_growth(func: Call) -> int | None:
    """Peak RSS growth of one run in a forked child: counts libxml2's and OpenSSL's C allocations."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: reset the high-water mark, run once, report the growth
        code = 0
        try:
            os.close(read_fd)
            gc.collect()
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")
            before = _rss_kib("VmRSS")
            func()
            os.write(write_fd, str(_rss_kib("VmHWM") - before).encode())
        except BaseException:  # pylint: disable=broad-except
            code = 1
        finally:
            os._exit(code)  # pylint: disable=protected-access
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as handle:
        text = handle.read().decode()
    os.waitpid(pid, 0)
    return max(0, int(text)) if text.strip().lstrip("-").isdigit() else None


def peak_memory(func: Call) -> dict[str, int | None]:
    """Peak Python-heap growth of one run (tracemalloc), and on Linux its peak RSS growth (forked child)."""
    gc.collect()
    tracemalloc.start()
    try:
        func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    linux = sys.platform.startswith("linux") and hasattr(os, "fork") and os.path.exists("/proc/self/clear_refs")
    return {"tracemalloc_peak_kib": peak // 1024, "rss_peak_delta_kib": _forked_rss_growth(func) if linux else None}


def process_maxrss_kib(argv: Sequence[str], cwd: str | None = None) -> int | None:
    """maxrss (KiB) of one process, through /usr/bin/time: the rusage of a child of this (large) Python
    process would count the parent's RSS at fork time."""
    time_binary = shutil.which("time", path="/usr/bin:/bin")
    if not time_binary:
        return None
    with tempfile.NamedTemporaryFile(prefix="idfed-bench-rss-") as out:
        subprocess.run([time_binary, "-f", "%M", "-o", out.name] + list(argv), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, check=False)
        try:
            return int(Path(out.name).read_text(encoding="ascii").split()[-1])
        except (OSError, ValueError, IndexError):
            return None


# ------------------------------------------------------------------------------------------- report

def geomean(values: Iterable[float | None]) -> float | None:
    kept = [value for value in values if value and value > 0]
    return math.exp(sum(math.log(value) for value in kept) / len(kept)) if kept else None


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return "{0:.3f}".format(seconds * 1000) if seconds < 0.01 else "{0:.1f}".format(seconds * 1000)


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else "{0:.2f}x".format(value)


def fmt_kib(kib: int | None) -> str:
    return "-" if kib is None else "{0:.1f}M".format(kib / 1024)


def fmt_mem(mem: dict | None) -> str:
    """tracemalloc peak / RSS growth, as peak_memory() measures them."""
    if not mem:
        return "-"
    traced = mem.get("tracemalloc_peak_kib")
    rss = mem.get("rss_peak_delta_kib")
    if traced is None:
        return fmt_kib(rss)
    traced_text = "{0}K".format(traced) if traced < 1024 else "{0:.1f}M".format(traced / 1024)
    return "{0}/{1}".format(traced_text, fmt_kib(rss))


def yes_no(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "no")


def target(flag: bool | None) -> str:
    return "n/a" if flag is None else ("target met" if flag else "target not met")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    widths = [max([len(str(header))] + [len(str(row[i])) for row in rows]) for i, header in enumerate(headers)]
    line = "  ".join("{{{0}:{1}{2}}}".format(i, "<" if i == 0 else ">", width) for i, width in enumerate(widths))
    print(line.format(*headers))
    print(line.format(*["-" * width for width in widths]))
    for row in rows:
        print(line.format(*row))


def write_results(section: str, report: Report, options: dict[str, Any]) -> Path:
    """bench/results/<section>.json: the section's results with where and how they were measured."""
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": sys.version.split()[0],
        "platform": platform.platform(), "options": options, "summary_lines": report.summary,
        "notes": report.notes, "crashes": report.crashes, **report.data,
    }
    out = RESULTS / "{0}.json".format(section)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return out
