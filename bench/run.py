# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: parse + validate time and peak memory of our metadata analysis next to pysaml2,
python3-saml and xmlsec1, on the shared corpus and a generated signed aggregate of 2,000 entities.

    .venv/bin/python bench/run.py [--repeat-time 0.3] [--min-repeats 3] [--entities 2000]
                                  [--only SUBSTRING] [--no-aggregate] [--profile SUBSTRING]

A report, not a test: no timing is asserted. Exit status 0 unless our analysis raises (its contract
says it never does) or xmlsec1 dies from a signal; a peer that cannot read an input is reported as such.
Results: bench/results/latest.json (bench/results/ is git-ignored; it also caches the aggregate).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import math
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
XMLSEC_ID_ATTRS = ["--id-attr:ID", MD + ":EntityDescriptor", "--id-attr:ID", MD + ":EntitiesDescriptor"]

sys.path.insert(0, str(ROOT))  # plugins.module_utils._saml...
sys.path.insert(0, str(ROOT / "tests" / "support"))  # saml_factory

from lxml import etree  # noqa: E402  pylint: disable=wrong-import-position


# --------------------------------------------------------------------------------------- the tools

def load_ours():
    """Our analysis, or (None, reason) until plugins/module_utils/saml/metadata.py exists."""
    try:
        from plugins.module_utils._saml.metadata import analyze_metadata  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, "{0}: {1}".format(type(exc).__name__, exc)
    return analyze_metadata, None


def load_pysaml2():
    try:
        from saml2 import attribute_converter, mdstore  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)
    converters = attribute_converter.ac_factory()

    def run(data: bytes, _entity_id=None):
        # What MetadataStore.load("inline", ...) does, minus the validUntil check (the corpus is old) and the
        # signature check (pysaml2 only checks one with a configured xmlsec and a trusted cert file).
        source = mdstore.InMemoryMetaData(converters, data.decode("utf-8"), check_validity=False)
        source.load()
        return len(source.entity)
    return run, None


def load_python3_saml():
    try:
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)

    def run(data: bytes, entity_id=None):
        return OneLogin_Saml2_IdPMetadataParser.parse(data.decode("utf-8"), entity_id=entity_id)
    return run, None


def load_python3_saml_signature():
    """python3-saml's own metadata signature check (xmlsec bindings), for the like-for-like comparison."""
    try:
        from onelogin.saml2.utils import OneLogin_Saml2_Utils  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)

    def run(data: bytes, cert_pem: str) -> bool:
        return OneLogin_Saml2_Utils.validate_metadata_sign(data, cert=cert_pem)
    return run, None


class Xmlsec1:
    """`xmlsec1 --verify` as a subprocess: wall time includes process start; memory is the child's maxrss."""

    def __init__(self, binary: str):
        self.binary = binary
        self.folder = tempfile.mkdtemp(prefix="idfed-bench-")

    def prepare(self, name: str, data: bytes, cert_pem: str) -> list[str]:
        digest = hashlib.sha256(data + cert_pem.encode()).hexdigest()[:16]
        doc, cert = os.path.join(self.folder, digest + ".xml"), os.path.join(self.folder, digest + ".pem")
        Path(doc).write_bytes(data)
        Path(cert).write_text(cert_pem, encoding="ascii")
        del name
        return [self.binary, "--verify", "--pubkey-cert-pem", cert] + XMLSEC_ID_ATTRS + [doc]

    @staticmethod
    def run(argv: list[str]) -> int:
        """Exit status of one run (negative: killed by that signal)."""
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode

    def maxrss(self, argv: list[str]) -> int | None:
        """maxrss (KiB) of xmlsec1 alone, through /usr/bin/time: the rusage of a child forked from this
        (large) Python process would count the parent's RSS at fork time."""
        time_binary = shutil.which("time", path="/usr/bin:/bin")
        if not time_binary:
            return None
        out = os.path.join(self.folder, "maxrss")
        subprocess.run([time_binary, "-f", "%M", "-o", out] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        try:
            return int(Path(out).read_text(encoding="ascii").split()[-1])
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------------------------------- measurement

def measure(func, *, repeat_time: float, min_repeats: int, max_repeats: int = 1000) -> dict:
    """Median wall time of N runs, N chosen so that the runs take about `repeat_time` seconds (>= min)."""
    gc.collect()
    started = time.perf_counter()
    func()  # warm-up (imports, caches), also the first estimate
    first = time.perf_counter() - started
    repeats = max(min_repeats, min(max_repeats, int(math.ceil(repeat_time / max(first, 1e-6)))))
    times = []
    for _unused in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats}


def measure_together(calls: dict, *, repeat_time: float, min_repeats: int, rounds: int = 5) -> dict:
    """measure() for several tools on one input, interleaved in `rounds` rounds, so that a burst of load
    from other processes hits every tool alike and the ratios stay meaningful. Median of all runs."""
    gc.collect()
    repeats = {}
    for name, func in calls.items():
        started = time.perf_counter()
        func()  # warm-up and first estimate
        first = time.perf_counter() - started
        repeats[name] = max(min_repeats, min(1000, int(math.ceil(repeat_time / max(first, 1e-6)))))
    times = {name: [] for name in calls}
    for round_index in range(rounds):
        for name, func in calls.items():
            share = repeats[name] // rounds + (1 if round_index < repeats[name] % rounds else 0)
            for _unused in range(share):
                started = time.perf_counter()
                func()
                times[name].append(time.perf_counter() - started)
    return {name: {"median_s": statistics.median(values), "min_s": min(values), "repeats": len(values)}
            for name, values in times.items()}


def _rss_kib(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def peak_memory(func) -> dict:
    """Peak Python-heap growth (tracemalloc) and, on Linux, peak RSS growth of one run in a forked child
    (RSS counts libxml2's C allocations, which tracemalloc cannot see)."""
    gc.collect()
    tracemalloc.start()
    try:
        func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result = {"tracemalloc_peak_kib": peak // 1024, "rss_peak_delta_kib": None}
    if not (sys.platform.startswith("linux") and hasattr(os, "fork") and os.path.exists("/proc/self/clear_refs")):
        return result
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
        text = handle.read().decode() or ""
    os.waitpid(pid, 0)
    if text.strip().lstrip("-").isdigit():
        result["rss_peak_delta_kib"] = max(0, int(text))
    return result


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


def geomean(values) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


# -------------------------------------------------------------------------------------------- inputs

def shared_corpus() -> Path | None:
    candidates = []
    if os.environ.get("IDFED_SHARED_DIR"):
        candidates.append(Path(os.environ["IDFED_SHARED_DIR"]))
    candidates += [ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "corpus" / "saml" / "idp").is_dir():
            return candidate / "corpus" / "saml"
    return None


def _parse(data: bytes):
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def describe(data: bytes, role: str) -> dict:
    """Entity to pick (aggregates), and the signing certificate embedded in a root signature (if any)."""
    root = _parse(data)
    role_tag = "{%s}%s" % (MD, "IDPSSODescriptor" if role == "idp" else "SPSSODescriptor")
    info = {"root": etree.QName(root).localname, "entity_id": None, "entities": 1, "signer_pem": None}
    if info["root"] == "EntitiesDescriptor":
        entities = root.findall(".//{%s}EntityDescriptor" % MD)
        info["entities"] = len(entities)
        with_role = [e for e in entities if e.find(role_tag) is not None]
        info["entity_id"] = (with_role or entities)[-1].get("entityID")
    signature = root.find("{%s}Signature" % DS)
    if signature is not None:
        body = signature.findtext("{%s}KeyInfo/{%s}X509Data/{%s}X509Certificate" % (DS, DS, DS))
        if body:
            body = "".join(body.split())
            info["signer_pem"] = "-----BEGIN CERTIFICATE-----\n{0}\n-----END CERTIFICATE-----\n".format(
                "\n".join(body[i:i + 64] for i in range(0, len(body), 64)))
    return info


def corpus_inputs(corpus: Path | None, only: str | None) -> list[dict]:
    inputs = []
    if corpus is None:
        return inputs
    for role in ("idp", "sp"):
        for path in sorted((corpus / role).iterdir()):
            if not path.is_file() or (only and only not in path.name):
                continue
            data = path.read_bytes()
            identity_center_sp = role == "sp" and b"/platform/saml/" in data
            item = {"name": "{0}/{1}".format(role, path.name.split("__")[0]), "file": str(path), "data": data,
                    "role": role, "target": "identity_center" if role == "idp" or identity_center_sp else "generic"}
            item.update(describe(data, role))
            inputs.append(item)
    return inputs


def aggregate_input(count: int) -> dict:
    """A signed md:EntitiesDescriptor of `count` entities (IdPs and Identity Center SPs), made with the test
    factory and a fresh key, cached in bench/results/ (generation time is not measured)."""
    import saml_factory as factory  # pylint: disable=import-outside-toplevel

    factory_hash = hashlib.sha256((ROOT / "tests" / "support" / "saml_factory.py").read_bytes()).hexdigest()[:12]
    stem = RESULTS / "aggregate-{0}-{1}".format(count, factory_hash)
    doc_path, cert_path = stem.with_suffix(".xml"), stem.with_suffix(".pem")
    made = "cached"
    started = time.perf_counter()
    if not (doc_path.exists() and cert_path.exists()):
        RESULTS.mkdir(parents=True, exist_ok=True)
        for old in RESULTS.glob("aggregate-{0}-*".format(count)):
            old.unlink()
        signer = factory.make_certificate(factory.make_key("rsa", 2048, 900), subject_cn="bench federation signer")
        idp_certs = [factory.make_certificate(factory.make_key("rsa", 2048, 901 + i), subject_cn="idp{0}".format(i))
                     for i in range(4)]
        documents = []
        for index in range(count):
            if index % 4 == 3:
                documents.append(factory.sp_metadata_identity_center(
                    "eu-west-1", "d-{0:010d}".format(index), tenant="ssoins-{0:016x}".format(index))
                    .replace(b"<md:EntityDescriptor ", '<md:EntityDescriptor ID="_e{0}" '.format(index).encode(), 1))
            else:
                documents.append(factory.idp_metadata(
                    "https://idp{0}.example.test/saml".format(index), id="_e{0}".format(index),
                    signing_certs=[idp_certs[index % 4]], encryption_certs=[idp_certs[(index + 1) % 4]],
                    sso_location="https://idp{0}.example.test/saml/sso".format(index)))
        aggregate = factory.entities_aggregate(documents, name="urn:example:bench-federation",
                                               valid_until=factory.utc(30))
        doc_path.write_bytes(factory.sign(aggregate, signer))
        cert_path.write_text(signer.pem, encoding="ascii")
        made = "generated"
    data = doc_path.read_bytes()
    item = {"name": "generated/aggregate-{0}-signed".format(count), "file": str(doc_path), "data": data,
            "role": "idp", "target": "identity_center"}
    item.update(describe(data, "idp"))
    item["signer_pem"] = cert_path.read_text(encoding="ascii")
    print("aggregate: {0} entities, {1:,} bytes, {2} in {3:.1f}s ({4})".format(
        count, len(data), made, time.perf_counter() - started, doc_path.relative_to(ROOT)))
    return item


# -------------------------------------------------------------------------------------------- report

def fmt_ms(seconds) -> str:
    if seconds is None:
        return "-"
    return "{0:.3f}".format(seconds * 1000) if seconds < 0.01 else "{0:.1f}".format(seconds * 1000)


def fmt_ratio(value) -> str:
    return "-" if value is None else "{0:.2f}x".format(value)


def fmt_mem(mem) -> str:
    if not mem:
        return "-"
    traced = mem.get("tracemalloc_peak_kib")
    rss = mem.get("rss_peak_delta_kib")
    if traced is None and rss is not None:
        return "{0:.1f}M".format(rss / 1024)
    traced_text = "{0}K".format(traced) if traced < 1024 else "{0:.1f}M".format(traced / 1024)
    return "{0}/{1}".format(traced_text, "-" if rss is None else "{0:.1f}M".format(rss / 1024))


def print_table(headers, rows) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join("{{{0}:{1}{2}}}".format(i, "<" if i == 0 else ">", w) for i, w in enumerate(widths))
    print(line.format(*headers))
    print(line.format(*["-" * w for w in widths]))
    for row in rows:
        print(line.format(*row))


def yes_no(flag) -> str:
    return "n/a" if flag is None else ("yes" if flag else "no")


# ---------------------------------------------------------------------------------------------- main

def run_ours(analyze, item, trusted=None):
    def call():
        kwargs = {"role": item["role"], "target": item["target"], "entity_id": item["entity_id"]}
        if trusted:
            kwargs["trusted_certificates"] = [trusted]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return analyze(item["data"], **kwargs)
    return call


def safe(label: str, func, problems: list) -> bool:
    """Run once to see whether the tool can read this input at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            func()
        return True
    except Exception as exc:  # pylint: disable=broad-except
        problems.append("{0}: {1}: {2}".format(label, type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else ""))
        return False


def print_breakdown(stats: pstats.Stats) -> None:
    """Share of the total time spent inside each of our functions (cumulative) and in the libraries."""
    rows = stats.stats  # pylint: disable=no-member  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    total = max((value[3] for key, value in rows.items() if key[2] == "analyze_metadata"), default=0) or 1e-9
    ours = [(value[3], value[2], value[1], "{0}:{1}".format(Path(key[0]).stem, key[2]))
            for key, value in rows.items() if "/plugins/module_utils/" in key[0]]
    libraries = {}
    for key, value in rows.items():
        for marker in ("signxml", "cryptography", "lxml"):
            if "/{0}/".format(marker) in key[0]:
                libraries[marker] = libraries.get(marker, 0) + value[2]
    print("  share of analyze_metadata time (cumulative / own), calls:")
    for cumulative, own, calls, name in sorted(ours, reverse=True)[:14]:
        print("    {0:5.1f}% {1:5.1f}%  {2:6d}  {3}".format(100 * cumulative / total, 100 * own / total, calls, name))
    for marker, own in sorted(libraries.items(), key=lambda kv: -kv[1]):
        print("    own time in {0} (Python code): {1:.1f}%".format(marker, 100 * own / total))


def profile(analyze, items, pattern: str) -> None:
    for item in items:
        if pattern not in item["name"]:
            continue
        for trusted in (None, item.get("signer_pem")) if item.get("signer_pem") else (None,):
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


def xmlsec1_floor(xmlsec: "Xmlsec1", options: dict) -> dict | None:
    """What xmlsec1 costs whatever the input: verifying a 1 KB signed document (start, crypto init).
    Re-measured next to every input (interleaved); the figures here are for the report."""
    import saml_factory as factory  # pylint: disable=import-outside-toplevel

    issued = factory.make_certificate(factory.make_key("rsa", 2048, 899), subject_cn="bench floor")
    argv = xmlsec.prepare("floor", factory.sign(factory.sp_metadata_identity_center(acs_forms=("ipv4",)), issued),
                          issued.pem)
    if Xmlsec1.run(argv) != 0:
        return None
    floor = measure(lambda: Xmlsec1.run(argv), **options)
    floor["argv"] = argv
    floor["maxrss_kib"] = xmlsec.maxrss(argv)
    floor["version_s"] = measure(lambda: Xmlsec1.run([xmlsec.binary, "--version"]), **options)["median_s"]
    return floor


def main(argv=None) -> int:  # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat-time", type=float, default=0.3, help="seconds of repeats per measurement")
    parser.add_argument("--min-repeats", type=int, default=3)
    parser.add_argument("--entities", type=int, default=2000, help="entities in the generated aggregate")
    parser.add_argument("--no-aggregate", action="store_true")
    parser.add_argument("--only", help="only inputs whose name contains this")
    parser.add_argument("--profile", metavar="SUBSTRING", help="cProfile ours on matching inputs and stop")
    parser.add_argument("--json", default=str(RESULTS / "latest.json"))
    args = parser.parse_args(argv)
    total_started = time.perf_counter()

    analyze, ours_problem = load_ours()
    pysaml2, pysaml2_problem = load_pysaml2()
    onelogin, onelogin_problem = load_python3_saml()
    onelogin_sign, onelogin_sign_problem = load_python3_saml_signature()
    xmlsec_binary = shutil.which("xmlsec1")
    print("ours: {0}".format("plugins.module_utils._saml.metadata.analyze_metadata" if analyze else
                             "not available ({0})".format(ours_problem)))
    print("pysaml2: {0}".format("saml2.mdstore.InMemoryMetaData.load" if pysaml2 else "not available ({0})".format(pysaml2_problem)))
    print("python3-saml: {0}".format("OneLogin_Saml2_IdPMetadataParser.parse" if onelogin else
                                     "not available ({0})".format(onelogin_problem)))
    print("python3-saml signature: {0}".format("OneLogin_Saml2_Utils.validate_metadata_sign" if onelogin_sign else
                                               "not available ({0})".format(onelogin_sign_problem)))
    print("xmlsec1: {0}".format(xmlsec_binary or "not installed"))

    corpus = shared_corpus()
    if corpus is None:
        print("corpus: ../shared/corpus/saml not found (set IDFED_SHARED_DIR): corpus inputs skipped")
    else:
        print("corpus: {0}".format(corpus))
    items = corpus_inputs(corpus, args.only)
    if not args.no_aggregate and args.entities > 0:
        items.append(aggregate_input(args.entities))

    if args.profile:
        if analyze is None:
            print("--profile needs ours")
            return 1
        profile(analyze, items, args.profile)
        return 0

    crashed = []
    problems = []
    results = []
    options = {"repeat_time": args.repeat_time, "min_repeats": args.min_repeats}

    # ---- parse + validate
    print("\n== parse + validate (median ms of N runs; ratio = peer / ours, > 1 means ours is faster)")
    for item in items:
        label = item["name"]
        row = {"input": label, "bytes": len(item["data"]), "role": item["role"], "target": item["target"],
               "entity_id": item["entity_id"], "entities": item["entities"], "tools": {}}
        tools = []
        if analyze:
            call = run_ours(analyze, item)
            try:
                report = call()
                row["ours_valid"] = report.valid
                row["ours_codes"] = sorted({f.code for f in report.findings})
                tools.append(("ours", call))
            except Exception as exc:  # pylint: disable=broad-except
                crashed.append("ours raised on {0}: {1!r}".format(label, exc))
        if pysaml2:
            def call(d=item["data"]):
                return pysaml2(d)
            if safe("pysaml2 on " + label, call, problems):
                tools.append(("pysaml2", call))
            else:
                row["tools"]["pysaml2"] = {"error": problems[-1]}
        if onelogin and item["role"] == "idp":
            def call(d=item["data"], e=item["entity_id"]):
                return onelogin(d, e)
            if safe("python3-saml on " + label, call, problems):
                tools.append(("python3-saml", call))
            else:
                row["tools"]["python3-saml"] = {"error": problems[-1]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            timings = measure_together(dict(tools), **options)
            for name, call in tools:
                timings[name]["memory"] = peak_memory(call)
                row["tools"][name] = timings[name]
        ours_t = row["tools"].get("ours", {}).get("median_s")
        for peer in ("pysaml2", "python3-saml"):
            peer_t = row["tools"].get(peer, {}).get("median_s")
            if ours_t and peer_t:
                row["tools"][peer]["ratio"] = peer_t / ours_t
        results.append(row)
        print("  {0:<48} done".format(label), flush=True)

    headers = ["input", "KB", "ours ms", "pysaml2 ms", "ratio", "python3-saml ms", "ratio",
               "mem ours", "mem pysaml2", "mem py3saml"]
    table = []
    for row in results:
        tools = row["tools"]
        table.append([
            row["input"], "{0:.1f}".format(row["bytes"] / 1024),
            fmt_ms(tools.get("ours", {}).get("median_s")),
            fmt_ms(tools.get("pysaml2", {}).get("median_s")) if "error" not in tools.get("pysaml2", {}) else "error",
            fmt_ratio(tools.get("pysaml2", {}).get("ratio")),
            fmt_ms(tools.get("python3-saml", {}).get("median_s")) if "error" not in tools.get("python3-saml", {}) else "error",
            fmt_ratio(tools.get("python3-saml", {}).get("ratio")),
            fmt_mem(tools.get("ours", {}).get("memory")), fmt_mem(tools.get("pysaml2", {}).get("memory")),
            fmt_mem(tools.get("python3-saml", {}).get("memory")),
        ])
    print()
    print_table(headers, table)
    print("mem = peak Python heap (tracemalloc) / peak RSS growth of one run in a forked child (includes libxml2 and "
          "OpenSSL; below ~10M it is mostly allocator noise)")
    print("ours = analyze_metadata(data, role, target, entity_id): parse, rules, certificates, and the integrity "
          "of an embedded signature when there is one; pysaml2 = InMemoryMetaData.load (every entity, no "
          "signature check); python3-saml = IdP parser (one entity, no checks)")

    # ---- signatures
    signature_rows = []
    floor = None
    signed = [item for item in items if item.get("signer_pem")]
    if signed:
        print("\n== signature: ours (analyze_metadata with trusted_certificates = the signer) vs xmlsec1 --verify")
    if signed and xmlsec_binary:
        xmlsec = Xmlsec1(xmlsec_binary)
        try:
            floor = xmlsec1_floor(xmlsec, options)
            for item in signed:
                row = {"input": item["name"], "bytes": len(item["data"]), "tools": {}}
                argv = xmlsec.prepare(item["name"], item["data"], item["signer_pem"])
                status = Xmlsec1.run(argv)
                if status < 0:
                    crashed.append("xmlsec1 died with signal {0} on {1}".format(-status, item["name"]))
                    continue
                row["xmlsec1_verifies"] = status == 0
                calls = {"xmlsec1": lambda a=argv: Xmlsec1.run(a)}
                if floor:
                    calls["floor"] = lambda a=floor["argv"]: Xmlsec1.run(a)
                if onelogin and onelogin_sign:
                    def same_checks(d=item["data"], e=item["entity_id"], pem=item["signer_pem"], idp=item["role"] == "idp"):
                        if idp:
                            onelogin(d, e)
                        return onelogin_sign(d, pem)
                    if safe("python3-saml parse + validate_metadata_sign on " + item["name"], same_checks, problems):
                        row["python3_saml_verifies"] = bool(same_checks())
                        calls["python3-saml+sig"] = same_checks
                if analyze:
                    call = run_ours(analyze, item, item["signer_pem"])
                    try:
                        report = call()
                        row["ours_signature_valid"] = bool(report.signature.valid)
                        row["ours_signature_trusted"] = bool(getattr(report.signature, "trusted", False))
                        row["ours_codes"] = sorted({f.code for f in report.findings})
                        calls["ours"] = call
                    except Exception as exc:  # pylint: disable=broad-except
                        crashed.append("ours raised on {0} (trusted): {1!r}".format(item["name"], exc))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row["tools"] = measure_together(calls, **options)
                    for name in ("ours", "python3-saml+sig"):
                        if name in calls:
                            row["tools"][name]["memory"] = peak_memory(calls[name])
                row["tools"]["xmlsec1"]["maxrss_kib"] = xmlsec.maxrss(argv)
                xml_t = row["tools"]["xmlsec1"]["median_s"]
                if "ours" in row["tools"]:
                    row["ratio"] = xml_t / row["tools"]["ours"]["median_s"]
                    if "python3-saml+sig" in row["tools"]:
                        row["python3_saml_ratio"] = (row["tools"]["python3-saml+sig"]["median_s"]
                                                     / row["tools"]["ours"]["median_s"])
                    if floor:
                        net = xml_t - row["tools"]["floor"]["median_s"]
                        row["xmlsec1_minus_floor_s"] = net
                        if net > row["tools"]["floor"]["median_s"] / 4:  # else within xmlsec1's start-up noise
                            row["ratio_minus_floor"] = net / row["tools"]["ours"]["median_s"]
                signature_rows.append(row)
        finally:
            xmlsec.close()
        table = []
        for row in signature_rows:
            ours = row["tools"].get("ours", {})
            xml = row["tools"]["xmlsec1"]
            onelogin_row = row["tools"].get("python3-saml+sig", {})
            table.append([row["input"], "{0:.1f}".format(row["bytes"] / 1024),
                          "yes" if row.get("ours_signature_valid") else ("-" if not ours else "NO"),
                          "yes" if row["xmlsec1_verifies"] else "NO",
                          fmt_ms(ours.get("median_s")), fmt_ms(xml["median_s"]),
                          fmt_ms(max(row.get("xmlsec1_minus_floor_s", 0), 0)) if floor else "-",
                          fmt_ratio(row.get("ratio")), fmt_ratio(row.get("ratio_minus_floor")),
                          fmt_mem(ours.get("memory")),
                          "-" if xml["maxrss_kib"] is None else "{0:.1f}M".format(xml["maxrss_kib"] / 1024),
                          "-" if "python3_saml_verifies" not in row else yes_no(row["python3_saml_verifies"]),
                          fmt_ms(onelogin_row.get("median_s")), fmt_ratio(row.get("python3_saml_ratio")),
                          fmt_mem(onelogin_row.get("memory"))])
        print()
        print_table(["input", "KB", "ours ok", "xmlsec1 ok", "ours ms", "xmlsec1 ms", "-floor", "ratio",
                     "ratio-floor", "mem ours", "xmlsec1 rss", "py3saml ok", "py3saml+sig ms", "ratio",
                     "mem py3saml"], table)
        print("ratio = xmlsec1 / ours (> 1: ours faster; >= 0.5: within 2x). xmlsec1 ms = wall time of one process "
              "(start, crypto init, parse, verify). Floor = xmlsec1 verifying a 1 KB signed document, timed next to "
              "each input: median {0} ms, {1} RSS (its bare `--version` start: {2} ms); -floor / ratio-floor subtract "
              "it, leaving the work that grows with the document (ratio-floor only where that work is over a quarter "
              "of the floor). ours ms = the whole analyze_metadata call (parse, rules, certificates, signature) "
              "in a warm interpreter; xmlsec1 rss = its maxrss via /usr/bin/time.".format(
                  fmt_ms(statistics.median(r["tools"]["floor"]["median_s"] for r in signature_rows if "floor" in r["tools"]))
                  if floor and signature_rows else "-",
                  "-" if not floor or floor["maxrss_kib"] is None else "{0:.1f}M".format(floor["maxrss_kib"] / 1024),
                  fmt_ms(floor["version_s"]) if floor else "-"))
        print("py3saml+sig = python3-saml doing the same checks as ours here: its IdP parser (IdP inputs) and "
              "OneLogin_Saml2_Utils.validate_metadata_sign with the signer's certificate (xmlsec bindings); "
              "ratio = py3saml+sig / ours (> 1: ours faster).")
    elif signed:
        print("xmlsec1 is not installed: signature comparison skipped")

    # ---- hostile XML: refused before parsing, so cost must not grow with what the entities would expand to
    hostile_rows = []
    if analyze is not None:
        hostile = [("generated/billion-laughs-10-levels", _billion_laughs(10)),
                   ("generated/quadratic-1MB", _quadratic(1024 * 1024))]
        if corpus is not None:
            hostile += [("bad/" + path.name.split("__")[0], path.read_bytes())
                        for path in sorted((corpus / "bad").iterdir())
                        if path.name.split("__")[0] in ("billion-laughs", "quadratic-blowup", "xxe-external-file",
                                                        "xxe-external-url")]
        print("\n== hostile XML: ours refuses it (xml_forbidden_construct) without expanding or fetching anything")
        table = []
        for name, data in hostile:
            report = analyze(data)
            codes = sorted({item.code for item in report.findings})
            timing = measure(lambda data=data: analyze(data), **options)
            memory = peak_memory(lambda data=data: analyze(data))
            hostile_rows.append({"input": name, "size": len(data), "codes": codes, "time": timing, "memory": memory})
            table.append([name, "{0:.1f}".format(len(data) / 1024), ",".join(codes), fmt_ms(timing["median_s"]),
                          fmt_mem(memory)])
        print_table(["input", "KB", "findings", "ours ms", "mem ours"], table)

    # ---- summary
    print("\n== summary")
    summary = {}
    for peer in ("pysaml2", "python3-saml"):
        ratios = [row["tools"][peer]["ratio"] for row in results if "ratio" in row["tools"].get(peer, {})]
        value = geomean(ratios)
        summary[peer] = {"geomean_ratio": value, "inputs": len(ratios),
                         "ours_faster_on": sum(1 for r in ratios if r > 1), "worst_ratio": min(ratios) if ratios else None,
                         "faster": None if value is None else value > 1}
        print("faster than {0}: {1} (geomean ratio {2}; ours faster on {3}/{4} inputs; worst {5})".format(
            peer, yes_no(summary[peer]["faster"]), fmt_ratio(value), summary[peer]["ours_faster_on"], len(ratios),
            fmt_ratio(summary[peer]["worst_ratio"])))
    ratios = {row["input"]: row["ratio"] for row in signature_rows if row.get("ratio")}
    net_ratios = {row["input"]: row["ratio_minus_floor"] for row in signature_rows if row.get("ratio_minus_floor")}
    worst = min(ratios, key=ratios.get) if ratios else None
    net_worst = min(net_ratios, key=net_ratios.get) if net_ratios else None
    summary["xmlsec1"] = {"geomean_ratio": geomean(ratios.values()), "inputs": len(ratios),
                          "worst_input": worst, "worst_ratio": ratios.get(worst),
                          "within_2x": None if not ratios else ratios[worst] >= 0.5,
                          "worst_input_minus_floor": net_worst, "worst_ratio_minus_floor": net_ratios.get(net_worst),
                          "within_2x_minus_floor": None if not net_ratios else net_ratios[net_worst] >= 0.5,
                          "floor": {k: v for k, v in (floor or {}).items() if k != "argv"}}
    same = [row["python3_saml_ratio"] for row in signature_rows if row.get("python3_saml_ratio")]
    summary["python3-saml+sig"] = {"geomean_ratio": geomean(same), "inputs": len(same),
                                   "ours_faster_on": sum(1 for r in same if r > 1),
                                   "worst_ratio": min(same) if same else None,
                                   "faster": None if not same else geomean(same) > 1}
    print("faster than python3-saml doing the same checks (parse + validate_metadata_sign, signed inputs): {0} "
          "(geomean ratio {1}; ours faster on {2}/{3} inputs; worst {4})".format(
              yes_no(summary["python3-saml+sig"]["faster"]), fmt_ratio(summary["python3-saml+sig"]["geomean_ratio"]),
              summary["python3-saml+sig"]["ours_faster_on"], len(same),
              fmt_ratio(summary["python3-saml+sig"]["worst_ratio"])))
    print("signature within 2x of xmlsec1: {0} (per process: geomean ratio {1}, worst {2} on {3}; "
          "{4} inputs; ratio = xmlsec1/ours)".format(
              yes_no(summary["xmlsec1"]["within_2x"]), fmt_ratio(summary["xmlsec1"]["geomean_ratio"]),
              fmt_ratio(summary["xmlsec1"]["worst_ratio"]), worst, len(ratios)))
    print("signature within 2x of xmlsec1 minus its start-up floor (inputs large enough): {0} (worst {1} on {2})".format(
        yes_no(summary["xmlsec1"]["within_2x_minus_floor"]), fmt_ratio(summary["xmlsec1"]["worst_ratio_minus_floor"]),
        net_worst))
    for note in problems:
        print("note: " + note)
    for note in crashed:
        print("CRASH: " + note)

    elapsed = time.perf_counter() - total_started
    print("bench time {0:.1f}s".format(elapsed))
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "options": vars(args), "ours_available": analyze is not None, "ours_problem": ours_problem,
        "corpus": str(corpus) if corpus else None, "parse_validate": results, "signature": signature_rows,
        "xmlsec1_floor": floor, "hostile": hostile_rows, "summary": summary, "peer_problems": problems, "crashes": crashed,
        "elapsed_s": elapsed,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print("results: {0}".format(out))
    return 1 if crashed else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
