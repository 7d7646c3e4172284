# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""startup: what a task pays for each module before it does any work, and one whole module run next to
xmlsec1 --verify.

Ansible runs every task's module in a fresh Python process: the controller zips the module and the
module_utils it imports into an AnsiballZ payload, with the task's arguments, and the target runs
`python AnsiballZ_<module>.py`. So imports are paid per task. Each module of plugins/modules runs that way
on a small input, alternating with a baseline module that only imports ansible.module_utils.basic and
exits through AnsibleModule.exit_json; python -X importtime shows what the difference is made of.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import ROOT
from .inputs import Item, aggregate_input
from .runner import Report, fmt_kib, fmt_ms, fmt_ratio, measure_together, print_table, process_maxrss_kib, run_quietly, target
from .xmlsec1 import Xmlsec1

TARGET_RATIO = 1.5  # the budget: a module at most 1.5x the baseline, a whole run at most 1.5x xmlsec1
BASELINE = "bench_baseline"  # written into the bench's own copy of the tree only
BASELINE_SOURCE = '''#!/usr/bin/python
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec=dict(path=dict(type="path")), supports_check_mode=True)
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
'''
# The small input each module reads through `path`. A module not listed here runs without arguments: that
# still measures its imports and AnsibleModule's argument checks, and the table shows it failed.
INPUTS = {"saml_metadata_info": "metadata", "saml_certificate_info": "certificate"}
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| *(\S+)$", re.M)

Imports = dict[str, tuple[float, float]]  # module name -> (self ms, cumulative ms), medians over the runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("startup")
    group.add_argument("--startup-runs", type=int, default=15, help="runs of each process, alternating")
    group.add_argument("--import-runs", type=int, default=5, help="runs under python -X importtime")
    group.add_argument("--top-imports", type=int, default=8, help="imports listed per module")


# -------------------------------------------------------------------------------------- the payloads

def build_tree(folder: Path) -> Path:
    """A copy of the working tree at <folder>/tree/ansible_collections/idfed/aws_sso (scripts/build-tree.sh: what
    git would test); modify_module derives a module's name from that layout and finds its module_utils there."""
    env = dict(os.environ, PYTHON=sys.executable)
    completed = subprocess.run([str(ROOT / "scripts" / "build-tree.sh"), str(folder / "tree")], env=env, check=True,
                               stdout=subprocess.PIPE, text=True)
    return Path(completed.stdout.strip().splitlines()[-1])


def discover_modules(collection: Path) -> list[str]:
    return sorted(path.stem for path in (collection / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def start_ansible(tree: Path) -> None:
    """Let the module builder resolve ansible_collections.idfed.aws_sso imports in the bench's tree."""
    from ansible.plugins.loader import init_plugin_loader  # pylint: disable=import-outside-toplevel

    init_plugin_loader([str(tree)])


def build_payload(collection: Path, name: str, args: dict[str, Any], out: Path) -> Path:
    """The AnsiballZ script the controller would send for this task (module_common.modify_module)."""
    from ansible.executor.module_common import modify_module  # pylint: disable=import-outside-toplevel
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.template import Templar  # pylint: disable=import-outside-toplevel

    built = modify_module(module_name=name, module_path=str(collection / "plugins" / "modules" / (name + ".py")),
                          module_args=args, templar=Templar(loader=DataLoader()),
                          task_vars={"ansible_python_interpreter": sys.executable})
    out.write_bytes(built.b_module_data)
    return out


def make_inputs(folder: Path) -> dict[str, Path]:
    """A 3 KB IdP metadata file (one signing certificate, Organization padding) and its certificate in PEM."""
    import saml_factory as factory  # pylint: disable=import-outside-toplevel

    signer = factory.make_certificate(factory.make_key("rsa", 2048, 910), subject_cn="bench startup idp")
    files = {"metadata": folder / "idp-3k.xml", "certificate": folder / "idp.pem"}
    files["metadata"].write_bytes(factory.idp_metadata(signing=[signer], target_size=3 * 1024))
    files["certificate"].write_text(signer.pem, encoding="ascii")
    return files


# ---------------------------------------------------------------------------------------- processes

def command(payload: Path) -> list[str]:
    # As Ansible runs it without pipelining: the task's interpreter (here this venv's) on the payload file.
    return [sys.executable, str(payload)]


def outcome(payload: Path) -> dict[str, Any]:
    """One run's exit status and result: whether the module did its job, not only how fast it ended."""
    completed = subprocess.run(command(payload), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               cwd=payload.parent, check=False)
    lines = completed.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = {"failed": True, "msg": (completed.stderr.strip().splitlines() or ["no output"])[-1]}
    return {"rc": completed.returncode, "failed": bool(result.get("failed")), "msg": result.get("msg"),
            "signature": result.get("signature")}


def import_times(payload: Path, runs: int) -> Imports:
    """python -X importtime of the payload: median self and cumulative time of every import."""
    samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _unused in range(runs):
        stderr = subprocess.run([sys.executable, "-X", "importtime", str(payload)], stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, cwd=payload.parent, check=False).stderr
        for own, cumulative, name in IMPORT_LINE.findall(stderr):
            samples[name].append((int(own), int(cumulative)))
    return {name: (statistics.median(s[0] for s in values) / 1000, statistics.median(s[1] for s in values) / 1000)
            for name, values in samples.items()}


def _package(name: str) -> str:
    """What an import belongs to: a collection, a third-party distribution, or the standard library."""
    parts = name.split(".")
    if parts[0] == "ansible_collections":
        return ".".join(parts[1:3]) or parts[0]
    return "stdlib" if parts[0] in sys.stdlib_module_names else parts[0]


def by_package(imports: Imports) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for name, (own, _cumulative) in imports.items():
        totals[_package(name)] += own
    return dict(totals)


def import_costs(imports: Imports, baseline: Imports, top: int) -> dict[str, Any]:
    """The imports the module adds over the baseline, heaviest (cumulative) first, and self time per package
    (module, baseline), largest difference first: what the ratio is made of."""
    extra = sorted(((name, own, cumulative) for name, (own, cumulative) in imports.items() if name not in baseline),
                   key=lambda entry: -entry[2])
    ours, base = by_package(imports), by_package(baseline)
    packages = sorted(((package, ms, base.get(package, 0.0)) for package, ms in ours.items()),
                      key=lambda entry: entry[2] - entry[1])
    return {"import_ms": sum(own for own, _cumulative in imports.values()), "extra_imports": extra[:top],
            "packages": packages}


# ------------------------------------------------------------------------------------------ modules

def measure_module(name: str, payload: Path, baseline: Path, args: argparse.Namespace, report: Report) -> dict:
    """The module and the baseline alternating, and the memory of each."""
    row: dict[str, Any] = {"module": name, "outcome": outcome(payload)}
    if row["outcome"]["rc"] < 0:
        report.crashes.append("{0} died with signal {1}".format(name, -row["outcome"]["rc"]))
        return row
    timings = measure_together({"module": functools.partial(run_quietly, command(payload), str(payload.parent)),
                                "baseline": functools.partial(run_quietly, command(baseline), str(baseline.parent))},
                               repeat_time=0, min_repeats=args.startup_runs, rounds=args.startup_runs)
    row.update(median_s=timings["module"]["median_s"], baseline_s=timings["baseline"]["median_s"],
               runs=timings["module"]["repeats"])
    row["ratio"] = row["median_s"] / row["baseline_s"]
    row["maxrss_kib"] = process_maxrss_kib(command(payload), str(payload.parent))
    row["baseline_maxrss_kib"] = process_maxrss_kib(command(baseline), str(baseline.parent))
    return row


def _input_label(args: dict[str, Any]) -> str:
    if "path" not in args:
        return "no arguments"
    path = Path(args["path"])
    return "path: {0} ({1:.1f} KB)".format(path.name, path.stat().st_size / 1024)


def _result_label(run: dict[str, Any]) -> str:
    return "ok" if not run["failed"] else "failed: {0}".format(str(run["msg"] or "")[:60])


def print_modules(rows: list[dict], baseline_import_ms: float) -> None:
    table = [[row["module"], row["input"], _result_label(row["outcome"]), fmt_ms(row.get("median_s")),
              fmt_ms(row.get("baseline_s")), fmt_ratio(row.get("ratio")),
              target(None if "ratio" not in row else row["ratio"] <= TARGET_RATIO),
              "{0:.1f}".format(row["import_ms"]) if "import_ms" in row else "-",
              fmt_kib(row.get("maxrss_kib")), fmt_kib(row.get("baseline_maxrss_kib"))] for row in rows]
    print_table(["module", "input", "result", "ms", "baseline ms", "ratio", "at most 1.5x", "imports ms", "rss",
                 "baseline rss"], table)
    print("ms = median wall time of one module process (start to exit), alternating with the baseline module "
          "(imports ansible.module_utils.basic, exit_json); ratio = module / baseline. imports ms = the sum of "
          "-X importtime's self times (baseline: {0:.1f}; importtime itself slows imports down, so it is for "
          "attribution, not for the wall time); rss = maxrss via /usr/bin/time.".format(baseline_import_ms))
    for row in rows:
        if "extra_imports" in row:
            print_imports(row)


def print_imports(row: dict) -> None:
    print("\n{0}: top imports not in the baseline, by cumulative ms (self ms), -X importtime:".format(row["module"]))
    for name, own, cumulative in row["extra_imports"]:
        print("  {0:8.1f} ({1:6.1f})  {2}".format(cumulative, own, name))
    print("  self ms by package, module (baseline): " + ", ".join(
        "{0} {1:.1f} ({2:.1f})".format(*entry) for entry in row["packages"][:6]))


def _module_summary(row: dict) -> str:
    if "ratio" not in row:
        return "start-up of {0}: not measured ({1})".format(row["module"], _result_label(row["outcome"]))
    heaviest = row["extra_imports"][:1]
    return "start-up of {0}: {1} the baseline module ({2} ms vs {3} ms; at most {4}x: {5}){6}{7}".format(
        row["module"], fmt_ratio(row["ratio"]), fmt_ms(row["median_s"]), fmt_ms(row["baseline_s"]), TARGET_RATIO,
        target(row["ratio"] <= TARGET_RATIO),
        "; heaviest import it adds: {0} {2:.1f} ms cumulative".format(*heaviest[0]) if heaviest else "",
        "" if not row["outcome"]["failed"] else "; the run failed: " + _result_label(row["outcome"]))


# ---------------------------------------------------------------------------------------- aggregate

def aggregate_args(item: Item) -> dict[str, Any]:
    """The task: path source, the entity to pick, the federation's signer as the trusted certificate."""
    from plugins.module_utils._saml.constants import DEFAULT_MAX_SIZE  # pylint: disable=import-outside-toplevel

    args = {"path": item["file"], "entity_id": item["entity_id"], "trusted_certificates": [item["signer_pem"]]}
    if len(item["data"]) > DEFAULT_MAX_SIZE:  # a larger --entities: raise the module's cap, as a task would
        args["max_size"] = len(item["data"])
    return args


def measure_aggregate(payload: Path, item: Item, args: argparse.Namespace, report: Report) -> dict | None:
    """The whole module run (process start to exit) next to xmlsec1 --verify of the same file, alternating."""
    xmlsec = Xmlsec1.find()
    if xmlsec is None:
        report.notes.append("xmlsec1 is not installed: whole-run comparison skipped")
        return None
    try:
        argv = xmlsec.prepare(item["data"], item["signer_pem"])
        row: dict[str, Any] = {"input": item["name"], "bytes": len(item["data"]), "outcome": outcome(payload),
                               "xmlsec1_status": Xmlsec1.run(argv)}
        if row["xmlsec1_status"] < 0 or row["outcome"]["rc"] < 0:
            report.crashes.append("a process died from a signal on {0}: {1}".format(item["name"], row))
            return row
        timings = measure_together({"module": functools.partial(run_quietly, command(payload), str(payload.parent)),
                                    "xmlsec1": functools.partial(Xmlsec1.run, argv)},
                                   repeat_time=0, min_repeats=args.startup_runs, rounds=args.startup_runs)
        row.update(module_s=timings["module"]["median_s"], xmlsec1_s=timings["xmlsec1"]["median_s"],
                   maxrss_kib=process_maxrss_kib(command(payload), str(payload.parent)),
                   xmlsec1_maxrss_kib=Xmlsec1.maxrss(argv))
        row["ratio"] = row["module_s"] / row["xmlsec1_s"]
        return row
    finally:
        xmlsec.close()


def _signature_label(run: dict[str, Any]) -> str:
    signature = run["signature"] or {}
    return "valid={0} trusted={1}".format(signature.get("valid"), signature.get("trusted"))


def print_aggregate(row: dict) -> None:
    print_table(["input", "KB", "module result", "signature", "xmlsec1 ok", "module ms", "xmlsec1 ms", "ratio",
                 "at most 1.5x", "module rss", "xmlsec1 rss"],
                [[row["input"], "{0:.1f}".format(row["bytes"] / 1024), _result_label(row["outcome"]),
                  _signature_label(row["outcome"]), "yes" if row["xmlsec1_status"] == 0 else "NO", fmt_ms(row.get("module_s")),
                  fmt_ms(row.get("xmlsec1_s")), fmt_ratio(row.get("ratio")),
                  target(None if "ratio" not in row else row["ratio"] <= TARGET_RATIO),
                  fmt_kib(row.get("maxrss_kib")), fmt_kib(row.get("xmlsec1_maxrss_kib"))]])
    print("module ms = saml_metadata_info as a task runs it (AnsiballZ process: start, imports, read, parse, rules, "
          "signature, JSON out); xmlsec1 ms = one xmlsec1 --verify process; ratio = module / xmlsec1; both alternate.")


def _aggregate_summary(row: dict | None) -> list[str]:
    if not row or "ratio" not in row:
        return ["whole module run next to xmlsec1 --verify: not measured"]
    return ["whole saml_metadata_info run on {0} ({1:,} bytes, path, trusted signer): {2} xmlsec1 --verify "
            "({3} ms vs {4} ms; at most {5}x: {6}; module {7}, signature {8})".format(
                row["input"], row["bytes"], fmt_ratio(row["ratio"]), fmt_ms(row["module_s"]), fmt_ms(row["xmlsec1_s"]),
                TARGET_RATIO, target(row["ratio"] <= TARGET_RATIO), _result_label(row["outcome"]),
                _signature_label(row["outcome"]))]


# --------------------------------------------------------------------------------------------- main

def _modules(collection: Path, folder: Path, args: argparse.Namespace, report: Report) -> list[dict]:
    files = make_inputs(folder)
    names = discover_modules(collection)
    # Beside the real modules, so that its payload is built and imported the same way.
    (collection / "plugins" / "modules" / (BASELINE + ".py")).write_text(BASELINE_SOURCE, encoding="utf-8")
    baseline = build_payload(collection, BASELINE, {"path": str(files["metadata"])}, folder / "AnsiballZ_baseline.py")
    baseline_imports = import_times(baseline, args.import_runs)
    print("== start-up of each module as a task runs it: {0} alternating runs with the baseline module\n".format(
        args.startup_runs))
    rows = []
    for name in names:
        module_args = {"path": str(files[INPUTS[name]])} if name in INPUTS else {}
        payload = build_payload(collection, name, module_args, folder / "AnsiballZ_{0}.py".format(name))
        row = measure_module(name, payload, baseline, args, report)
        row["input"] = _input_label(module_args)
        if "ratio" in row:
            row.update(import_costs(import_times(payload, args.import_runs), baseline_imports, args.top_imports))
        rows.append(row)
    print_modules(rows, sum(own for own, _cumulative in baseline_imports.values()))
    return rows


def _aggregate(collection: Path, folder: Path, args: argparse.Namespace, report: Report) -> dict | None:
    if args.no_aggregate or args.entities <= 0:
        return None
    item = aggregate_input(args.entities)
    print("\n== whole module run on the signed aggregate next to xmlsec1 --verify ({0} alternating runs)\n".format(
        args.startup_runs))
    payload = build_payload(collection, "saml_metadata_info", aggregate_args(item), folder / "AnsiballZ_aggregate.py")
    row = measure_aggregate(payload, item, args, report)
    if row and "ratio" in row:
        print_aggregate(row)
    return row


def run(args: argparse.Namespace) -> Report:
    report = Report()
    with tempfile.TemporaryDirectory(prefix="idfed-bench-startup-") as temporary:
        folder = Path(temporary)
        collection = build_tree(folder)
        start_ansible(folder / "tree")
        rows = _modules(collection, folder, args, report)
        aggregate = _aggregate(collection, folder, args, report)
    report.summary = [_module_summary(row) for row in rows] + _aggregate_summary(aggregate)
    report.data = {"modules": rows, "aggregate": aggregate}
    return report
