# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""metadata: parse + validate time and peak memory of analyze_metadata() next to pysaml2 and python3-saml,
its signature check next to xmlsec1 --verify and python3-saml doing the same checks, and what refusing
hostile XML costs; on the shared corpus and a generated, signed aggregate (bench/README.md)."""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import re
import statistics
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from corpus_locator import shared_corpus  # tests/support, on sys.path through bench/__init__.py

from .inputs import Item, aggregate_input, corpus_inputs
from .runner import (Call, Report, fmt_mem, fmt_ms, fmt_ratio, geomean, measure, measure_together, peak_memory,
                     print_table, yes_no)
from .xmlsec1 import Xmlsec1

Options = dict[str, Any]  # repeat_time, min_repeats: passed to measure() / measure_together()
HOSTILE_CORPUS = ("billion-laughs", "quadratic-blowup", "xxe-external-file", "xxe-external-url")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metadata")
    group.add_argument("--only", metavar="SUBSTRING", help="only corpus inputs whose name contains this")
    group.add_argument("--profile", metavar="SUBSTRING", help="cProfile ours on the matching inputs instead")


# --------------------------------------------------------------------------------------- the tools

def _error(exc: BaseException) -> str:
    return "{0}: {1}".format(type(exc).__name__, exc)


def load_ours() -> tuple[Callable | None, str | None]:
    """Our analysis, or (None, why it cannot be imported)."""
    try:
        from plugins.module_utils._saml.metadata import analyze_metadata  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, _error(exc)
    return analyze_metadata, None


def load_pysaml2() -> tuple[Callable | None, str | None]:
    try:
        from saml2 import attribute_converter, mdstore  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)
    converters = attribute_converter.ac_factory()

    def run(data: bytes) -> int:
        # What MetadataStore.load("inline", ...) does, minus the validUntil check (the corpus is old) and the
        # signature check (pysaml2 only checks one with a configured xmlsec and a trusted cert file).
        source = mdstore.InMemoryMetaData(converters, data.decode("utf-8"), check_validity=False)
        source.load()
        return len(source.entity)
    return run, None


def load_python3_saml() -> tuple[Callable | None, str | None]:
    try:
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)

    def run(data: bytes, entity_id: str | None = None) -> dict:
        return OneLogin_Saml2_IdPMetadataParser.parse(data.decode("utf-8"), entity_id=entity_id)
    return run, None


def load_python3_saml_signature() -> tuple[Callable | None, str | None]:
    """python3-saml's own metadata signature check (xmlsec bindings), for the like-for-like comparison."""
    try:
        from onelogin.saml2.utils import OneLogin_Saml2_Utils  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)

    def run(data: bytes, cert_pem: str) -> bool:
        return OneLogin_Saml2_Utils.validate_metadata_sign(data, cert=cert_pem)
    return run, None


@dataclass
class Tools:
    analyze: Callable | None = None
    pysaml2: Callable | None = None
    onelogin: Callable | None = None
    onelogin_sign: Callable | None = None
    xmlsec: Xmlsec1 | None = None
    problems: dict[str, str | None] = field(default_factory=dict)  # tool -> why it is unavailable


def load_tools() -> Tools:
    tools = Tools(xmlsec=Xmlsec1.find())
    tools.analyze, tools.problems["ours"] = load_ours()
    tools.pysaml2, tools.problems["pysaml2"] = load_pysaml2()
    tools.onelogin, tools.problems["python3-saml"] = load_python3_saml()
    tools.onelogin_sign, tools.problems["python3-saml signature"] = load_python3_saml_signature()
    return tools


def print_tools(tools: Tools) -> None:
    what = {"ours": (tools.analyze, "plugins.module_utils._saml.metadata.analyze_metadata"),
            "pysaml2": (tools.pysaml2, "saml2.mdstore.InMemoryMetaData.load"),
            "python3-saml": (tools.onelogin, "OneLogin_Saml2_IdPMetadataParser.parse"),
            "python3-saml signature": (tools.onelogin_sign, "OneLogin_Saml2_Utils.validate_metadata_sign")}
    for name, (tool, description) in what.items():
        print("{0}: {1}".format(name, description if tool else "not available ({0})".format(tools.problems[name])))
    print("xmlsec1: {0}".format(tools.xmlsec.binary if tools.xmlsec else "not installed"))


def run_ours(analyze: Callable, item: Item, trusted: str | None = None) -> Call:
    def call():
        kwargs = {"role": item["role"], "target": item["target"], "entity_id": item["entity_id"]}
        if trusted:
            kwargs["trusted_certificates"] = [trusted]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return analyze(item["data"], **kwargs)
    return call


def safe(label: str, func: Call, notes: list[str]) -> bool:
    """Run once to see whether the tool can read this input at all; a note says why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            func()
        return True
    except Exception as exc:  # pylint: disable=broad-except
        notes.append("{0}: {1}: {2}".format(label, type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else ""))
        return False


def _timed_with_memory(calls: dict[str, Call], options: Options, memory_of: tuple[str, ...]) -> dict[str, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timings = measure_together(calls, **options)
        for name in memory_of:
            if name in calls:
                timings[name]["memory"] = peak_memory(calls[name])
    return timings


# ---------------------------------------------------------------------------------- parse + validate

def _peer_calls(item: Item, tools: Tools) -> list[tuple[str, Call]]:
    calls = []
    if tools.pysaml2:
        calls.append(("pysaml2", functools.partial(tools.pysaml2, item["data"])))
    if tools.onelogin and item["role"] == "idp":  # python3-saml has no SP metadata parser
        calls.append(("python3-saml", functools.partial(tools.onelogin, item["data"], item["entity_id"])))
    return calls


def _parse_validate_row(item: Item, tools: Tools, options: Options, report: Report) -> dict:
    label = item["name"]
    row = {"input": label, "bytes": len(item["data"]), "role": item["role"], "target": item["target"],
           "entity_id": item["entity_id"], "entities": item["entities"], "tools": {}}
    calls = {}
    if tools.analyze:
        call = run_ours(tools.analyze, item)
        try:
            result = call()
            row["ours_valid"] = result.valid
            row["ours_codes"] = sorted({finding.code for finding in result.findings})
            calls["ours"] = call
        except Exception as exc:  # pylint: disable=broad-except
            report.crashes.append("ours raised on {0}: {1!r}".format(label, exc))
    for peer, call in _peer_calls(item, tools):
        if safe("{0} on {1}".format(peer, label), call, report.notes):
            calls[peer] = call
        else:
            row["tools"][peer] = {"error": report.notes[-1]}
    row["tools"].update(_timed_with_memory(calls, options, tuple(calls)))
    ours_t = row["tools"].get("ours", {}).get("median_s")
    for peer in ("pysaml2", "python3-saml"):
        peer_t = row["tools"].get(peer, {}).get("median_s")
        if ours_t and peer_t:
            row["tools"][peer]["ratio"] = peer_t / ours_t
    print("  {0:<48} done".format(label), flush=True)
    return row


def _ms_or_error(tool: dict) -> str:
    return "error" if "error" in tool else fmt_ms(tool.get("median_s"))


def _print_parse_validate(rows: list[dict]) -> None:
    table = []
    for row in rows:
        tools = row["tools"]
        ours, pysaml2, onelogin = (tools.get(name, {}) for name in ("ours", "pysaml2", "python3-saml"))
        table.append([row["input"], "{0:.1f}".format(row["bytes"] / 1024), fmt_ms(ours.get("median_s")),
                      _ms_or_error(pysaml2), fmt_ratio(pysaml2.get("ratio")),
                      _ms_or_error(onelogin), fmt_ratio(onelogin.get("ratio")),
                      fmt_mem(ours.get("memory")), fmt_mem(pysaml2.get("memory")), fmt_mem(onelogin.get("memory"))])
    print()
    print_table(["input", "KB", "ours ms", "pysaml2 ms", "ratio", "python3-saml ms", "ratio",
                 "mem ours", "mem pysaml2", "mem py3saml"], table)
    print("mem = peak Python heap (tracemalloc) / peak RSS growth of one run in a forked child (includes libxml2 and "
          "OpenSSL; below ~10M it is mostly allocator noise)")
    print("ours = analyze_metadata(data, role, target, entity_id): parse, rules, certificates, and the integrity "
          "of an embedded signature when there is one; pysaml2 = InMemoryMetaData.load (every entity, no "
          "signature check); python3-saml = IdP parser (one entity, no checks)")


def parse_validate(items: list[Item], tools: Tools, options: Options, report: Report) -> list[dict]:
    print("\n== parse + validate (median ms of N runs; ratio = peer / ours, > 1 means ours is faster)")
    rows = [_parse_validate_row(item, tools, options, report) for item in items]
    _print_parse_validate(rows)
    return rows


# ---------------------------------------------------------------------------------------- signature

def xmlsec1_floor(xmlsec: Xmlsec1, options: Options) -> dict | None:
    """What xmlsec1 costs whatever the input: verifying a 1 KB signed document (start, crypto init).
    Re-measured next to every input (interleaved); the figures here are for the report."""
    import saml_factory as factory  # pylint: disable=import-outside-toplevel  # signxml: only to sign

    issued = factory.make_certificate(factory.make_key("rsa", 2048, 899), subject_cn="bench floor")
    argv = xmlsec.prepare(factory.sign(factory.sp_metadata_identity_center(acs_forms=("ipv4",)), issued), issued.pem)
    if Xmlsec1.run(argv) != 0:
        return None
    floor = measure(functools.partial(Xmlsec1.run, argv), **options)
    floor["argv"] = argv
    floor["maxrss_kib"] = Xmlsec1.maxrss(argv)
    floor["version_s"] = measure(functools.partial(Xmlsec1.run, [xmlsec.binary, "--version"]), **options)["median_s"]
    return floor


def _python3_saml_same_checks(item: Item, tools: Tools, row: dict, report: Report) -> Call | None:
    """python3-saml doing what ours does here: its IdP parser (IdP inputs), then the signature check."""
    if not (tools.onelogin and tools.onelogin_sign):
        return None

    def same_checks(data=item["data"], entity_id=item["entity_id"], pem=item["signer_pem"], idp=item["role"] == "idp"):
        if idp:
            tools.onelogin(data, entity_id)
        return tools.onelogin_sign(data, pem)
    if not safe("python3-saml parse + validate_metadata_sign on " + item["name"], same_checks, report.notes):
        return None
    row["python3_saml_verifies"] = bool(same_checks())
    return same_checks


def _ours_trusted(item: Item, tools: Tools, row: dict, report: Report) -> Call | None:
    if not tools.analyze:
        return None
    call = run_ours(tools.analyze, item, item["signer_pem"])
    try:
        result = call()
    except Exception as exc:  # pylint: disable=broad-except
        report.crashes.append("ours raised on {0} (trusted): {1!r}".format(item["name"], exc))
        return None
    row["ours_signature_valid"] = bool(result.signature.valid)
    row["ours_signature_trusted"] = bool(getattr(result.signature, "trusted", False))
    row["ours_codes"] = sorted({finding.code for finding in result.findings})
    return call


def _signature_ratios(row: dict, floor: dict | None) -> None:
    tools = row["tools"]
    if "ours" not in tools:
        return
    xml_t, ours_t = tools["xmlsec1"]["median_s"], tools["ours"]["median_s"]
    row["ratio"] = xml_t / ours_t
    if "python3-saml+sig" in tools:
        row["python3_saml_ratio"] = tools["python3-saml+sig"]["median_s"] / ours_t
    if floor:
        net = xml_t - tools["floor"]["median_s"]
        row["xmlsec1_minus_floor_s"] = net
        if net > tools["floor"]["median_s"] / 4:  # else within xmlsec1's start-up noise
            row["ratio_minus_floor"] = net / ours_t


def _signature_row(item: Item, tools: Tools, floor: dict | None, options: Options, report: Report) -> dict | None:
    row: dict[str, Any] = {"input": item["name"], "bytes": len(item["data"]), "tools": {}}
    argv = tools.xmlsec.prepare(item["data"], item["signer_pem"])
    status = Xmlsec1.run(argv)
    if status < 0:
        report.crashes.append("xmlsec1 died with signal {0} on {1}".format(-status, item["name"]))
        return None
    row["xmlsec1_verifies"] = status == 0
    calls = {"xmlsec1": functools.partial(Xmlsec1.run, argv)}
    if floor:
        calls["floor"] = functools.partial(Xmlsec1.run, floor["argv"])
    same_checks = _python3_saml_same_checks(item, tools, row, report)
    if same_checks:
        calls["python3-saml+sig"] = same_checks
    ours = _ours_trusted(item, tools, row, report)
    if ours:
        calls["ours"] = ours
    row["tools"] = _timed_with_memory(calls, options, ("ours", "python3-saml+sig"))
    row["tools"]["xmlsec1"]["maxrss_kib"] = Xmlsec1.maxrss(argv)
    _signature_ratios(row, floor)
    return row


def _signature_table_row(row: dict, floor: dict | None) -> list[str]:
    ours, xml = row["tools"].get("ours", {}), row["tools"]["xmlsec1"]
    onelogin = row["tools"].get("python3-saml+sig", {})
    return [row["input"], "{0:.1f}".format(row["bytes"] / 1024),
            "yes" if row.get("ours_signature_valid") else ("-" if not ours else "NO"),
            "yes" if row["xmlsec1_verifies"] else "NO",
            fmt_ms(ours.get("median_s")), fmt_ms(xml["median_s"]),
            fmt_ms(max(row.get("xmlsec1_minus_floor_s", 0), 0)) if floor else "-",
            fmt_ratio(row.get("ratio")), fmt_ratio(row.get("ratio_minus_floor")), fmt_mem(ours.get("memory")),
            "-" if xml["maxrss_kib"] is None else "{0:.1f}M".format(xml["maxrss_kib"] / 1024),
            "-" if "python3_saml_verifies" not in row else yes_no(row["python3_saml_verifies"]),
            fmt_ms(onelogin.get("median_s")), fmt_ratio(row.get("python3_saml_ratio")), fmt_mem(onelogin.get("memory"))]


def _print_signatures(rows: list[dict], floor: dict | None) -> None:
    print()
    print_table(["input", "KB", "ours ok", "xmlsec1 ok", "ours ms", "xmlsec1 ms", "-floor", "ratio", "ratio-floor",
                 "mem ours", "xmlsec1 rss", "py3saml ok", "py3saml+sig ms", "ratio", "mem py3saml"],
                [_signature_table_row(row, floor) for row in rows])
    floor_ms = [row["tools"]["floor"]["median_s"] for row in rows if "floor" in row["tools"]]
    print("ratio = xmlsec1 / ours (> 1: ours faster; >= 0.5: within 2x). xmlsec1 ms = wall time of one process "
          "(start, crypto init, parse, verify). Floor = xmlsec1 verifying a 1 KB signed document, timed next to "
          "each input: median {0} ms, {1} RSS (its bare `--version` start: {2} ms); -floor / ratio-floor subtract "
          "it, leaving the work that grows with the document (ratio-floor only where that work is over a quarter "
          "of the floor). ours ms = the whole analyze_metadata call (parse, rules, certificates, signature) "
          "in a warm interpreter; xmlsec1 rss = its maxrss via /usr/bin/time.".format(
              fmt_ms(statistics.median(floor_ms)) if floor_ms else "-",
              "-" if not floor or floor["maxrss_kib"] is None else "{0:.1f}M".format(floor["maxrss_kib"] / 1024),
              fmt_ms(floor["version_s"]) if floor else "-"))
    print("py3saml+sig = python3-saml doing the same checks as ours here: its IdP parser (IdP inputs) and "
          "OneLogin_Saml2_Utils.validate_metadata_sign with the signer's certificate (xmlsec bindings); "
          "ratio = py3saml+sig / ours (> 1: ours faster).")


def signatures(items: list[Item], tools: Tools, options: Options, report: Report) -> tuple[list[dict], dict | None]:
    """Every input whose signature embeds its certificate, verified by each tool with that certificate."""
    signed = [item for item in items if item.get("signer_pem")]
    if not signed:
        return [], None
    print("\n== signature: ours (analyze_metadata with trusted_certificates = the signer) vs xmlsec1 --verify")
    if tools.xmlsec is None:
        print("xmlsec1 is not installed: signature comparison skipped")
        return [], None
    floor = xmlsec1_floor(tools.xmlsec, options)
    rows = [row for row in (_signature_row(item, tools, floor, options, report) for item in signed) if row]
    _print_signatures(rows, floor)
    return rows, floor


# -------------------------------------------------------------------------------------- hostile XML

def _billion_laughs(levels: int) -> bytes:
    """The classic entity bomb: 10 levels of 10 references expand to 10**levels copies."""
    entities = ['<!ENTITY l0 "lol">']
    entities += ['<!ENTITY l{0} "{1}">'.format(level, "&l{0};".format(level - 1) * 10) for level in range(1, levels + 1)]
    return ('<?xml version="1.0"?><!DOCTYPE m [{0}]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:'
            'metadata" entityID="&l{1};"/>'.format("".join(entities), levels)).encode()


def _quadratic(size: int) -> bytes:
    """One large entity referenced many times: quadratic blow-up without nesting."""
    return ('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "{0}">]><m>{1}</m>'.format(
        "x" * (size // 2), "&a;" * (size // 8))).encode()


def _hostile_inputs(folder: Path | None) -> list[tuple[str, bytes]]:
    hostile = [("generated/billion-laughs-10-levels", _billion_laughs(10)),
               ("generated/quadratic-1MB", _quadratic(1024 * 1024))]
    if folder is not None:
        hostile += [("bad/" + path.name.split("__")[0], path.read_bytes()) for path in sorted((folder / "bad").iterdir())
                    if path.name.split("__")[0] in HOSTILE_CORPUS]
    return hostile


def hostile_xml(analyze: Callable, folder: Path | None, options: Options) -> list[dict]:
    """Refused before parsing, so neither time nor memory may grow with what the entities would expand to."""
    print("\n== hostile XML: ours refuses it (xml_forbidden_construct) without expanding or fetching anything")
    rows, table = [], []
    for name, data in _hostile_inputs(folder):
        call = functools.partial(analyze, data)
        codes = sorted({finding.code for finding in call().findings})
        timing, memory = measure(call, **options), peak_memory(call)
        rows.append({"input": name, "size": len(data), "codes": codes, "time": timing, "memory": memory})
        table.append([name, "{0:.1f}".format(len(data) / 1024), ",".join(codes), fmt_ms(timing["median_s"]),
                      fmt_mem(memory)])
    print_table(["input", "KB", "findings", "ours ms", "mem ours"], table)
    return rows


# ------------------------------------------------------------------------------------------ summary

def _peer_summary(rows: list[dict], peer: str) -> tuple[dict, str]:
    ratios = [row["tools"][peer]["ratio"] for row in rows if "ratio" in row["tools"].get(peer, {})]
    value = geomean(ratios)
    summary = {"geomean_ratio": value, "inputs": len(ratios), "ours_faster_on": sum(1 for r in ratios if r > 1),
               "worst_ratio": min(ratios) if ratios else None, "faster": None if value is None else value > 1}
    return summary, "faster than {0}: {1} (geomean ratio {2}; ours faster on {3}/{4} inputs; worst {5})".format(
        peer, yes_no(summary["faster"]), fmt_ratio(value), summary["ours_faster_on"], len(ratios),
        fmt_ratio(summary["worst_ratio"]))


def _same_checks_summary(signature_rows: list[dict]) -> tuple[dict, str]:
    same = [row["python3_saml_ratio"] for row in signature_rows if row.get("python3_saml_ratio")]
    value = geomean(same)
    summary = {"geomean_ratio": value, "inputs": len(same), "ours_faster_on": sum(1 for r in same if r > 1),
               "worst_ratio": min(same) if same else None, "faster": None if value is None else value > 1}
    return summary, ("faster than python3-saml doing the same checks (parse + validate_metadata_sign, signed inputs): "
                     "{0} (geomean ratio {1}; ours faster on {2}/{3} inputs; worst {4})".format(
                         yes_no(summary["faster"]), fmt_ratio(value), summary["ours_faster_on"], len(same),
                         fmt_ratio(summary["worst_ratio"])))


def _xmlsec1_summary(signature_rows: list[dict], floor: dict | None) -> tuple[dict, list[str]]:
    ratios = {row["input"]: row["ratio"] for row in signature_rows if row.get("ratio")}
    net_ratios = {row["input"]: row["ratio_minus_floor"] for row in signature_rows if row.get("ratio_minus_floor")}
    worst = min(ratios, key=ratios.get) if ratios else None
    net_worst = min(net_ratios, key=net_ratios.get) if net_ratios else None
    summary = {"geomean_ratio": geomean(ratios.values()), "inputs": len(ratios),
               "worst_input": worst, "worst_ratio": ratios.get(worst),
               "within_2x": None if not ratios else ratios[worst] >= 0.5,
               "worst_input_minus_floor": net_worst, "worst_ratio_minus_floor": net_ratios.get(net_worst),
               "within_2x_minus_floor": None if not net_ratios else net_ratios[net_worst] >= 0.5,
               "floor": {key: value for key, value in (floor or {}).items() if key != "argv"}}
    lines = ["signature within 2x of xmlsec1: {0} (per process: geomean ratio {1}, worst {2} on {3}; "
             "{4} inputs; ratio = xmlsec1/ours)".format(yes_no(summary["within_2x"]), fmt_ratio(summary["geomean_ratio"]),
                                                        fmt_ratio(summary["worst_ratio"]), worst, len(ratios)),
             "signature within 2x of xmlsec1 minus its start-up floor (inputs large enough): {0} (worst {1} on {2})".format(
                 yes_no(summary["within_2x_minus_floor"]), fmt_ratio(summary["worst_ratio_minus_floor"]), net_worst)]
    return summary, lines


def summarize(rows: list[dict], signature_rows: list[dict], floor: dict | None) -> tuple[dict, list[str]]:
    """One line per target of the issue: faster than pysaml2 and python3-saml (geometric means), faster than
    python3-saml doing the same checks, signature within 2x of xmlsec1."""
    summary, lines = {}, []
    for peer in ("pysaml2", "python3-saml"):
        summary[peer], line = _peer_summary(rows, peer)
        lines.append(line)
    summary["python3-saml+sig"], line = _same_checks_summary(signature_rows)
    lines.append(line)
    summary["xmlsec1"], xmlsec1_lines = _xmlsec1_summary(signature_rows, floor)
    return summary, lines + xmlsec1_lines


# ------------------------------------------------------------------------------------------ profile

def print_breakdown(stats: pstats.Stats) -> None:
    """Share of the total time spent inside each of our functions (cumulative) and in the libraries."""
    rows = stats.stats  # pylint: disable=no-member  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    total = max((value[3] for key, value in rows.items() if key[2] == "analyze_metadata"), default=0) or 1e-9
    ours = [(value[3], value[2], value[1], "{0}:{1}".format(Path(key[0]).stem, key[2]))
            for key, value in rows.items() if "/plugins/module_utils/" in key[0]]
    libraries: dict[str, float] = {}
    for key, value in rows.items():
        for marker in ("signxml", "cryptography", "lxml"):
            if "/{0}/".format(marker) in key[0]:
                libraries[marker] = libraries.get(marker, 0) + value[2]
    print("  share of analyze_metadata time (cumulative / own), calls:")
    for cumulative, own, calls, name in sorted(ours, reverse=True)[:14]:
        print("    {0:5.1f}% {1:5.1f}%  {2:6d}  {3}".format(100 * cumulative / total, 100 * own / total, calls, name))
    for marker, own in sorted(libraries.items(), key=lambda kv: -kv[1]):
        print("    own time in {0} (Python code): {1:.1f}%".format(marker, 100 * own / total))


def _profile_one(analyze: Callable, item: Item, trusted: str | None) -> None:
    call = run_ours(analyze, item, trusted)
    call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _unused in range(3 if len(item["data"]) > 1_000_000 else 20):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print_breakdown(stats)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    print("== profile of ours on {0}{1}".format(item["name"], " (trusted_certificates)" if trusted else ""))
    print(re.sub(r"^\s*\n", "", out.getvalue(), flags=re.M))


def profile(analyze: Callable, items: list[Item], pattern: str) -> None:
    """cProfile of ours on the inputs whose name contains `pattern`, without and with the trusted signer."""
    for item in items:
        if pattern in item["name"]:
            for trusted in (None, item["signer_pem"]) if item.get("signer_pem") else (None,):
                _profile_one(analyze, item, trusted)


# --------------------------------------------------------------------------------------------- main

def _inputs(args: argparse.Namespace, folder: Path | None) -> list[Item]:
    if folder is None:
        print("corpus: ../shared/corpus/saml not found (set IDFED_SHARED_DIR): corpus inputs skipped")
    else:
        print("corpus: {0}".format(folder))
    items = corpus_inputs(folder, args.only)
    if not args.no_aggregate and args.entities > 0:
        items.append(aggregate_input(args.entities))
    return items


def run(args: argparse.Namespace) -> Report:
    tools = load_tools()
    print_tools(tools)
    folder = shared_corpus()
    items = _inputs(args, folder)
    report = Report()
    if args.profile:
        if tools.analyze is None:
            report.crashes.append("--profile needs ours: {0}".format(tools.problems["ours"]))
        else:
            profile(tools.analyze, items, args.profile)
        return report
    options = {"repeat_time": args.repeat_time, "min_repeats": args.min_repeats}
    try:
        rows = parse_validate(items, tools, options, report)
        signature_rows, floor = signatures(items, tools, options, report)
    finally:
        if tools.xmlsec:
            tools.xmlsec.close()
    hostile_rows = hostile_xml(tools.analyze, folder, options) if tools.analyze else []
    summary, report.summary = summarize(rows, signature_rows, floor)
    report.data = {"ours_available": tools.analyze is not None, "ours_problem": tools.problems["ours"],
                   "corpus": str(folder) if folder else None, "parse_validate": rows, "signature": signature_rows,
                   "xmlsec1_floor": floor, "hostile": hostile_rows, "summary": summary}
    return report
