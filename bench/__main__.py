# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench [SECTION=name]: run every section of the benchmark, or the ones named.

    .venv/bin/python -m bench [SECTION ...] [--repeat-time 0.3] [--min-repeats 3] [--entities 2000] ...

A report, not a test: no timing is asserted. Exit status 0 unless our code raised or a process died from a
signal. Results: bench/results/<section>.json (bench/results/ is git-ignored; it also caches inputs).
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
from types import ModuleType

from . import ROOT
from .runner import Report, write_results

# In the order `make bench` runs them; a new section is a module of this package and its name here.
SECTIONS = ("metadata", "startup", "aws", "idp")


def _parser(sections: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION", help="one of {0}; none: all".format(", ".join(SECTIONS)))
    parser.add_argument("--repeat-time", type=float, default=0.3, help="seconds of repeats per in-process measurement")
    parser.add_argument("--min-repeats", type=int, default=3)
    parser.add_argument("--entities", type=int, default=2000, help="entities in the generated signed aggregate")
    parser.add_argument("--no-aggregate", action="store_true", help="leave the generated aggregate out")
    for module in sections.values():
        module.add_arguments(parser)
    return parser


def _run_section(name: str, module: ModuleType, args: argparse.Namespace) -> Report:
    print("\n######## {0}\n".format(name), flush=True)
    started = time.perf_counter()
    report = module.run(args)
    report.data["elapsed_s"] = time.perf_counter() - started
    out = write_results(name, report, vars(args))
    print("\n{0}: {1:.1f}s, results in {2}".format(name, report.data["elapsed_s"], out.relative_to(ROOT)))
    return report


def _print_summary(reports: dict[str, Report]) -> None:
    print("\n######## summary")
    for name, report in reports.items():
        print("\n== {0}".format(name))
        for line in report.summary:
            print(line)
        for note in report.notes:
            print("note: " + note)
        for crash in report.crashes:
            print("CRASH: " + crash)


def main(argv: list[str] | None = None) -> int:
    modules = {name: importlib.import_module("." + name, __package__) for name in SECTIONS}
    parser = _parser(modules)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error("unknown section {0}; the sections are {1}".format(", ".join(unknown), ", ".join(SECTIONS)))
    started = time.perf_counter()
    reports = {name: _run_section(name, modules[name], args) for name in SECTIONS if name in args.sections or not args.sections}
    _print_summary(reports)
    print("\nbench time {0:.1f}s".format(time.perf_counter() - started))
    return 1 if any(report.crashes for report in reports.values()) else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a peer killed by a signal is reported, not dumped
    sys.exit(main())
