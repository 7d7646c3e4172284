# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The short summary `make test` ends with: each step's time and result, the unit tests passed and skipped
(with the reasons), the integration targets and Molecule scenarios that ran, and how many failures were
expected (tasks named "Expected to fail: ..." whose error the test asserts on)."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from pathlib import Path

IGNORED = re.compile(r"^\.\.\.ignoring$", re.M)
TARGET = re.compile(r"^Running (\S+) integration test (?:role|script)$", re.M)
SCENARIO = re.compile(r"^INFO\s+\[(\S+) > converge\] Executing|^INFO\s+(\S+) ➜ converge: Executing", re.M)
PYTEST_TOTALS = re.compile(r"^=+ (.*(?:passed|failed|skipped).*) in [\d.]+s =+$", re.M)
SKIPPED = re.compile(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def steps(logs: Path) -> list[tuple[str, int, int]]:
    table = logs / "steps.tsv"
    if not table.exists():
        return []
    rows = []
    for line in table.read_text().splitlines():
        name, seconds, status = line.split("\t")
        rows.append((name, int(seconds), int(status)))
    return rows


def unit_results(log: str) -> tuple[Counter, Counter]:
    """Counts from pytest's closing lines (one per ansible-test units group) and the skip reasons of its
    short summary (-r a: "SKIPPED [N] file:line: reason"). The junit files do not outlive the next `make tree`."""
    counts: Counter = Counter()
    for line in PYTEST_TOTALS.findall(log):
        for number, word in re.findall(r"(\d+) (passed|skipped|failed|error)", line):
            counts[word] += int(number)
    reasons: Counter = Counter()
    for number, reason in SKIPPED.findall(log):
        reasons[reason.strip()] += int(number)
    return counts, reasons


def read(path: Path) -> str:
    return ANSI.sub("", path.read_text(errors="replace")) if path.exists() else ""


def main(logs: Path) -> int:
    print("\n==== make test: summary")
    rows = steps(logs)
    for name, seconds, status in rows:
        print("  {0:<15} {1:>5} s  {2}".format(name, seconds, "ok" if status == 0 else "FAILED (exit {0})".format(status)))
    print("  {0:<15} {1:>5} s".format("total", sum(row[1] for row in rows)))
    counts, reasons = unit_results(read(logs / "units.log"))
    if counts:
        print("units: {0} passed, {1} skipped, {2} failed".format(counts["passed"], counts["skipped"], counts["failed"]))
        for reason, number in reasons.most_common():
            print("  skipped x{0}: {1}".format(number, reason))
    integration = read(logs / "integration.log")
    if integration:
        targets = TARGET.findall(integration)
        print("integration: {0} targets ({1}); {2} expected failures asserted on (tasks named 'Expected to fail')".format(
            len(targets), ", ".join(targets), len(IGNORED.findall(integration))))
    molecule = read(logs / "molecule.log")
    if molecule:
        scenarios = sorted({first or second for first, second in SCENARIO.findall(molecule)})
        print("molecule: {0} scenarios ({1}); {2} expected failures".format(
            len(scenarios), ", ".join(scenarios), len(IGNORED.findall(molecule))))
    shared = Path(os.environ.get("IDFED_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "corpus" / "saml"
    if not shared.is_dir():
        print("note: ../shared/corpus/saml is absent: the corpus tests were skipped (the collection and its other "
              "tests do not need it)")
    failed = [row[0] for row in rows if row[2] != 0]
    print("make test: {0}".format("FAILED at " + failed[0] if failed else "all green"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
