# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws: the AWS estate of issue 9 converged by ansible-playbook with the collection's modules, against moto
answering like AWS (20 requests/s with ThrottlingException above it, 50 ms per call, asynchronous requests
taking 1 s), next to the obvious alternative: one task per object with a loop.

Per run (first converge, no-op re-run): wall time, API calls by operation from the server's request log, calls /
the minimum the API allows, and wall time / (minimum calls / 20 per second). bench/README.md says how the
minimum is counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from moto_ext.launcher import MotoServer

from .runner import Report, fmt_kib, fmt_ratio, print_table, target
from .startup import build_tree

RATE = 20.0  # requests/s the Identity Center APIs allow (about 20 TPS): the physical bound on wall time
LATENCY_MS = 50
ASYNC_DELAY = 1.0  # seconds an asynchronous request (assignment, provisioning) stays IN_PROGRESS
ASSIGNMENT_QUOTA = 10  # outstanding CreateAccountAssignment requests
PAGE = 100  # MaxResults of every list call used here
CALLS_TARGET = 1.1
TIME_TARGET = 1.3
# One token bucket over both services: the bound is stated as minimum calls / 20 per second. Throttled calls pay
# the latency too, as they do against AWS.
AWS_LIKE_FAULTS = [{"service": "*", "operation": "*", "latency_ms": LATENCY_MS, "rate": RATE, "burst": RATE}]
FULL = {"users": 2000, "groups": 200, "permission_sets": 20, "accounts": 100}
MEMBERS_PER_GROUP = 10
ASSIGNMENTS_PER_ACCOUNT = 5
MIN_SAMPLE = 10  # items per loop of the alternative's sample, or all of them when there are fewer
MANAGED_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SSO, IDS = "sso-admin", "identitystore"
SYNC, PERMISSION_SET, ASSIGNMENT = "identity_store_sync", "permission_set loop", "account_assignment"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("aws")
    group.add_argument("--scale", type=float, default=1.0,
                       help="estate size, 1.0 = 2,000 users, 200 groups of 10, 20 permission sets, 500 assignments")
    group.add_argument("--alt-sample", type=float, default=0.1,
                       help="share of each per-object loop the alternative runs, extrapolated to the whole (1: all, "
                            "0: skip the alternative)")


# ------------------------------------------------------------------------------------------- estate

@dataclass
class Estate:
    users: list[dict]
    groups: list[dict]  # display_name, description, members (user names)
    permission_sets: list[dict]
    assignments: list[dict]  # principal_type GROUP, principal, permission_set, account_id

    def memberships(self) -> int:
        return sum(len(group["members"]) for group in self.groups)

    def pairs(self) -> set[tuple[str, str]]:
        return {(item["account_id"], item["permission_set"]) for item in self.assignments}

    def principals(self) -> set[str]:
        return {item["principal"] for item in self.assignments}

    def describe(self) -> str:
        return ("{0:,} users, {1:,} groups ({2:,} memberships), {3} permission sets (an inline policy and a managed "
                "policy each), {4:,} assignments to groups over {5} accounts".format(
                    len(self.users), len(self.groups), self.memberships(), len(self.permission_sets),
                    len(self.assignments), len({item["account_id"] for item in self.assignments})))


def make_users(count: int) -> list[dict]:
    return [{"user_name": "user{0:05d}@example.com".format(index), "given_name": "Given{0}".format(index),
             "family_name": "Family{0}".format(index)} for index in range(count)]


def make_groups(count: int, users: list[dict]) -> list[dict]:
    """Group g holds the users g*10 to g*10+9 (wrapping around when there are fewer users)."""
    names = [user["user_name"] for user in users]
    size = min(MEMBERS_PER_GROUP, len(names))
    return [{"display_name": "team-{0:04d}".format(index), "description": "bench team {0}".format(index),
             "members": sorted({names[(index * MEMBERS_PER_GROUP + slot) % len(names)] for slot in range(size)})}
            for index in range(count)]


def make_permission_sets(count: int) -> list[dict]:
    return [{"name": "Bench{0:02d}".format(index), "description": "bench permission set {0}".format(index),
             "session_duration": "PT4H", "managed_policies": [MANAGED_POLICY],
             "inline_policy": {"Version": "2012-10-17", "Statement": [
                 {"Sid": "Bench{0}".format(index), "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}}
            for index in range(count)]


def make_assignments(accounts: int, groups: list[dict], permission_sets: list[dict]) -> list[dict]:
    """Account a, slot j: group (5a+j) mod G through permission set (a+j) mod P; distinct within an account."""
    return [{"principal_type": "GROUP", "principal": groups[(account * ASSIGNMENTS_PER_ACCOUNT + slot) % len(groups)]["display_name"],
             "permission_set": permission_sets[(account + slot) % len(permission_sets)]["name"],
             "account_id": str(210000000000 + account)}
            for account in range(accounts) for slot in range(ASSIGNMENTS_PER_ACCOUNT)]


def scaled_estate(scale: float) -> Estate:
    counts = {key: max(1, round(value * scale)) for key, value in FULL.items()}
    if counts["groups"] < ASSIGNMENTS_PER_ACCOUNT:
        raise SystemExit("--scale {0} is too small: an account's 5 assignments need 5 groups.".format(scale))
    users = make_users(counts["users"])
    groups = make_groups(counts["groups"], users)
    permission_sets = make_permission_sets(counts["permission_sets"])
    return Estate(users, groups, permission_sets, make_assignments(counts["accounts"], groups, permission_sets))


def sample_size(count: int, fraction: float) -> int:
    return min(count, max(MIN_SAMPLE, round(count * fraction)))


def sample_of(estate: Estate, fraction: float) -> tuple[Estate, dict[str, float]]:
    """The first part of each loop (groups with their members, assignments over the sampled groups, every
    permission set) and, per loop, the factor that scales it back to the whole estate."""
    groups = estate.groups[:sample_size(len(estate.groups), fraction)]
    needed = {name for group in groups for name in group["members"]}
    users = [user for user in estate.users if user["user_name"] in needed]
    users += [user for user in estate.users if user["user_name"] not in needed][:max(0, sample_size(len(estate.users), fraction) - len(users))]
    count = sample_size(len(estate.assignments), fraction)
    assignments = make_assignments(math.ceil(count / ASSIGNMENTS_PER_ACCOUNT), groups, estate.permission_sets)[:count]
    sample = replace(estate, users=users, groups=groups, assignments=assignments)
    factors = {"users": len(estate.users) / len(users), "groups": len(estate.groups) / len(groups),
               "permission_sets": 1.0, "assignments": len(estate.assignments) / len(assignments)}
    return sample, factors


# ------------------------------------------------------------------------------------------ minimum

def pages(items: int) -> int:
    """List calls to read `items` items: one page shows an empty list too."""
    return max(1, math.ceil(items / PAGE))


def minimum_first(estate: Estate) -> dict[str, Counter]:
    """Per task of the playbook, the calls a first converge of an empty instance cannot do without (bench/README.md)."""
    count_ps, count_assignments = len(estate.permission_sets), len(estate.assignments)
    return {
        SYNC: Counter({
            SSO + " ListInstances": 1,  # the instance is found once
            IDS + " ListUsers": 1, IDS + " ListGroups": 1,  # one empty page each: nothing to update, all to create
            IDS + " CreateUser": len(estate.users), IDS + " CreateGroup": len(estate.groups),
            IDS + " CreateGroupMembership": estate.memberships()}),
        PERMISSION_SET: Counter({
            SSO + " ListPermissionSets": 1,
            SSO + " CreatePermissionSet": count_ps,  # with description and session duration
            SSO + " PutInlinePolicyToPermissionSet": count_ps,
            SSO + " AttachManagedPolicyToPermissionSet": sum(len(item["managed_policies"]) for item in estate.permission_sets)}),
        # New permission sets hold no assignment, and the group ids came from CreateGroup: nothing to read first.
        ASSIGNMENT: Counter({
            SSO + " CreateAccountAssignment": count_assignments,
            # At most 10 outstanding: one IN_PROGRESS listing sees at most 10 finish; one FAILED listing at the end.
            SSO + " ListAccountAssignmentCreationStatus": math.ceil(count_assignments / ASSIGNMENT_QUOTA) + 1}),
    }


def minimum_rerun(estate: Estate) -> dict[str, Counter]:
    """Per task, the reads a no-op re-run needs to see that nothing differs; no write."""
    count_ps = len(estate.permission_sets)
    per_principal = len(estate.principals()) < len(estate.pairs())
    return {
        SYNC: Counter({
            SSO + " ListInstances": 1,
            IDS + " ListUsers": pages(len(estate.users)), IDS + " ListGroups": pages(len(estate.groups)),
            IDS + " ListGroupMemberships": sum(pages(len(group["members"])) for group in estate.groups)}),
        PERMISSION_SET: Counter({
            SSO + " ListPermissionSets": pages(count_ps),
            SSO + " DescribePermissionSet": count_ps,
            SSO + " GetInlinePolicyForPermissionSet": count_ps,
            SSO + " ListManagedPoliciesInPermissionSet": count_ps}),
        # Existing assignments: one list per principal or per (account, permission set) pair, whichever is fewer.
        ASSIGNMENT: Counter({
            SSO + (" ListAccountAssignmentsForPrincipal" if per_principal else " ListAccountAssignments"):
                min(len(estate.principals()), len(estate.pairs()))}),
    }


def total(parts: dict[str, Counter]) -> Counter:
    return sum(parts.values(), Counter())


def assignment_floor(estate: Estate) -> float:
    """Seconds the 10-outstanding quota alone takes: ceil(A/10) rounds of one asynchronous delay."""
    return math.ceil(len(estate.assignments) / ASSIGNMENT_QUOTA) * ASYNC_DELAY


# ---------------------------------------------------------------------------------------- playbooks

def play(tasks: list[dict], connection: dict[str, str], estate: Estate) -> list[dict]:
    return [{
        "name": "bench aws", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable, "estate_users": estate.users,
                 "estate_groups": estate.groups, "estate_permission_sets": estate.permission_sets,
                 "estate_assignments": estate.assignments},
        "module_defaults": {"group/idfed.aws_sso.aws": connection},
        "tasks": tasks,
    }]


PERMISSION_SET_TASK = {
    "name": "One task per permission set (20 objects: a loop)",
    "idfed.aws_sso.permission_set": {
        "name": "{{ item.name }}", "description": "{{ item.description }}", "session_duration": "{{ item.session_duration }}",
        "inline_policy": "{{ item.inline_policy }}", "managed_policies": "{{ item.managed_policies }}"},
    "loop": "{{ estate_permission_sets }}", "loop_control": {"label": "{{ item.name }}"},
}
BULK_TASKS = [
    {"name": "Users, groups and memberships in one run",
     "idfed.aws_sso.identity_store_sync": {"users": "{{ estate_users }}", "groups": "{{ estate_groups }}"}},
    PERMISSION_SET_TASK,
    {"name": "Every assignment in one run", "idfed.aws_sso.account_assignment": {"assignments": "{{ estate_assignments }}"}},
]
# The alternative: one task per object, one playbook per loop so that each loop is timed (and extrapolated) alone.
PER_OBJECT_TASKS = {
    "users": {"name": "One task per user", "idfed.aws_sso.identity_store_user": {
        "user_name": "{{ item.user_name }}", "given_name": "{{ item.given_name }}", "family_name": "{{ item.family_name }}"},
        "loop": "{{ estate_users }}", "loop_control": {"label": "{{ item.user_name }}"}},
    "groups": {"name": "One task per group, with its members", "idfed.aws_sso.identity_store_group": {
        "display_name": "{{ item.display_name }}", "description": "{{ item.description }}", "members": "{{ item.members }}"},
        "loop": "{{ estate_groups }}", "loop_control": {"label": "{{ item.display_name }}"}},
    "permission_sets": PERMISSION_SET_TASK,
    "assignments": {"name": "One task per assignment", "idfed.aws_sso.account_assignment": {"assignments": "{{ [item] }}"},
                    "loop": "{{ estate_assignments }}",
                    "loop_control": {"label": "{{ item.principal }} {{ item.permission_set }} {{ item.account_id }}"}},
}


def write_playbook(path: Path, tasks: list[dict], connection: dict[str, str], estate: Estate) -> Path:
    path.write_text(json.dumps(play(tasks, connection, estate), indent=1), encoding="utf-8")  # JSON is YAML
    return path


# ------------------------------------------------------------------------------------------- running

@dataclass
class Run:
    """One ansible-playbook process and the API calls it made."""
    wall_s: float
    rc: int
    changed_tasks: int | None
    maxrss_kib: int | None
    tail: str
    entries: list[dict] = field(default_factory=list)  # the server's request log of the run
    calls: Counter = field(default_factory=Counter)  # "service Operation" -> requests, throttled ones included
    throttled: Counter = field(default_factory=Counter)
    writes: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.rc == 0


def playbook_env(tree: Path) -> dict[str, str]:
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tree), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCALHOST_WARNING="false",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="false", AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")


def run_playbook(path: Path, env: dict[str, str]) -> Run:
    """ansible-playbook on localhost, its output kept beside the playbook; maxrss through /usr/bin/time (the
    largest process of the tree: the controller or a module)."""
    argv = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(path)]
    time_binary = shutil.which("time", path="/usr/bin:/bin")
    rss_file = path.with_suffix(".rss")
    if time_binary:
        argv = [time_binary, "-f", "%M", "-o", str(rss_file)] + argv
    started = time.perf_counter()
    with open(path.with_suffix(".log"), "wb") as output:
        completed = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env,
                                   cwd=path.parent, check=False)
    wall = time.perf_counter() - started
    text = path.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    recap = RECAP.findall(text)
    rss = rss_file.read_text(encoding="ascii").split() if rss_file.exists() else []
    return Run(wall_s=wall, rc=completed.returncode, changed_tasks=int(recap[-1][1]) if recap else None,
               maxrss_kib=int(rss[-1]) if rss and rss[-1].isdigit() else None, tail=text[-3000:])


def aws_like(server: MotoServer) -> None:
    """A fresh server answering like AWS."""
    server.reset()
    server.set_config(async_delay=ASYNC_DELAY, assignment_quota=ASSIGNMENT_QUOTA)
    server.set_faults(AWS_LIKE_FAULTS)


def measured(server: MotoServer, path: Path, env: dict[str, str]) -> Run:
    """Run one playbook with the request log cleared first, then count its calls."""
    server.clear_log()
    run = run_playbook(path, env)
    run.entries = sorted(server.log(), key=lambda entry: entry["time"])
    for entry in run.entries:
        key = "{0} {1}".format(entry["service"], entry["operation"])
        run.calls[key] += 1
        if entry.get("error") == "ThrottlingException":
            run.throttled[key] += 1
        if entry.get("write"):
            run.writes[key] += 1
    return run


def holdings(server: MotoServer, estate: Estate) -> dict[str, int]:
    """What the instance holds of the estate, read with boto3 with the fault layer off (then back on)."""
    server.set_faults([])
    try:
        sso, ids = server.client(SSO), server.client(IDS)
        instance = sso.list_instances()["Instances"][0]
        store = {"IdentityStoreId": instance["IdentityStoreId"]}
        groups = {item["DisplayName"]: item["GroupId"] for page in ids.get_paginator("list_groups").paginate(**store)
                  for item in page["Groups"]}
        arns = {}
        for page in sso.get_paginator("list_permission_sets").paginate(InstanceArn=instance["InstanceArn"]):
            for arn in page["PermissionSets"]:
                arns[sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn)["PermissionSet"]["Name"]] = arn
        return {
            "users": sum(len(page["Users"]) for page in ids.get_paginator("list_users").paginate(**store)),
            "groups": len(groups),
            "memberships": sum(len(page["GroupMemberships"]) for group in estate.groups if group["display_name"] in groups
                               for page in ids.get_paginator("list_group_memberships").paginate(GroupId=groups[group["display_name"]], **store)),
            "permission_sets": len(arns),
            "assignments": sum(len(page["AccountAssignments"]) for account, name in sorted(estate.pairs()) if name in arns
                               for page in sso.get_paginator("list_account_assignments").paginate(
                                   InstanceArn=instance["InstanceArn"], AccountId=account, PermissionSetArn=arns[name])),
        }
    finally:
        server.set_faults(AWS_LIKE_FAULTS)


def expected(estate: Estate) -> dict[str, int]:
    return {"users": len(estate.users), "groups": len(estate.groups), "memberships": estate.memberships(),
            "permission_sets": len(estate.permission_sets), "assignments": len(estate.assignments)}


def start_up_s(folder: Path, env: dict[str, str], connection: dict[str, str]) -> float:
    """ansible-playbook's own cost (a play with no task), the median of 3: the part of a loop's playbook that does
    not grow with the loop when the alternative is extrapolated."""
    path = write_playbook(folder / "empty.yml", [], connection, Estate([], [], [], []))
    return sorted(run_playbook(path, env).wall_s for _unused in range(3))[1]


# ------------------------------------------------------------------------------------------ figures

@dataclass
class Figures:
    """One converge as reported: measured (or extrapolated) next to its minimum."""
    label: str
    wall_s: float
    calls: Counter
    throttled: Counter
    writes: Counter
    minimum: Counter
    changed_tasks: int | None
    maxrss_kib: int | None
    ok: bool
    extrapolated: bool = False
    async_floor_s: float = 0.0  # the part of the minimum wall time the assignment quota imposes beyond the rate

    def total(self) -> int:
        return sum(self.calls.values())

    def floor_s(self) -> float:
        return sum(self.minimum.values()) / RATE

    def calls_ratio(self) -> float:
        return self.total() / sum(self.minimum.values())

    def time_ratio(self) -> float:
        return self.wall_s / self.floor_s()

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "wall_s": self.wall_s, "calls": dict(self.calls), "throttled": dict(self.throttled),
                "writes": dict(self.writes), "minimum": dict(self.minimum), "calls_total": self.total(),
                "minimum_total": sum(self.minimum.values()), "calls_ratio": self.calls_ratio(),
                "floor_s": self.floor_s(), "time_ratio": self.time_ratio(), "changed_tasks": self.changed_tasks,
                "maxrss_kib": self.maxrss_kib, "ok": self.ok, "extrapolated": self.extrapolated}


def figures_of(label: str, run: Run, minimum: Counter, async_floor_s: float = 0.0) -> Figures:
    return Figures(label, run.wall_s, run.calls, run.throttled, run.writes, minimum, run.changed_tasks, run.maxrss_kib,
                   run.ok, async_floor_s=async_floor_s)


def scaled_counter(counter: Counter, factor: float) -> Counter:
    return Counter({key: round(value * factor) for key, value in counter.items()})


def extrapolated(label: str, runs: dict[str, Run], factors: dict[str, float], base_s: float, minimum: Counter) -> Figures:
    """The alternative's loops scaled to the whole estate: calls x N/n, time = start-up + (measured - start-up) x N/n."""
    total: dict[str, Counter] = {"calls": Counter(), "throttled": Counter(), "writes": Counter()}
    wall = base_s
    for kind, run in runs.items():
        for name in total:
            total[name].update(scaled_counter(getattr(run, name), factors[kind]))
        wall += max(0.0, run.wall_s - base_s) * factors[kind]
    changed = [run.changed_tasks for run in runs.values()]
    return Figures(label, wall, total["calls"], total["throttled"], total["writes"], minimum,
                   None if None in changed else sum(changed), max((run.maxrss_kib or 0) for run in runs.values()) or None,
                   all(run.ok for run in runs.values()), extrapolated=any(factor != 1 for factor in factors.values()))


# ----------------------------------------------------------------------------------- time by task

def module_runs(entries: list[dict]) -> list[list[dict]]:
    """The log cut into module runs: each of these modules starts by finding the instance (ListInstances), and a
    throttled ListInstances is sent again before anything else."""
    runs: list[list[dict]] = []
    for entry in entries:
        previous = runs[-1][-1] if runs else None
        retried = previous is not None and previous["operation"] == "ListInstances" and previous.get("error")
        if not runs or (entry["operation"] == "ListInstances" and not retried):
            runs.append([])
        runs[-1].append(entry)
    return runs


def time_by_task(run: Run, minimum: dict[str, Counter], permission_sets: int) -> list[dict] | None:
    """Per task of the collection's playbook: module runs, calls, minimum, and the API span (first call to the
    end of the last one). None when the log does not cut into the expected module runs."""
    runs = module_runs(run.entries)
    if len(runs) != permission_sets + 2:
        return None
    tasks = {SYNC: runs[:1], PERMISSION_SET: runs[1:-1], ASSIGNMENT: runs[-1:]}
    rows = []
    for task, parts in tasks.items():
        entries = [entry for part in parts for entry in part]
        span = sum(part[-1]["time"] - part[0]["time"] for part in parts) + len(parts) * LATENCY_MS / 1000
        rows.append({"task": task, "module_runs": len(parts), "calls": len(entries),
                     "throttled": sum(1 for entry in entries if entry.get("error") == "ThrottlingException"),
                     "minimum": sum(minimum[task].values()), "api_s": span})
    return rows


def print_time_by_task(label: str, rows: list[dict] | None, wall_s: float) -> None:
    if rows is None:
        print("\n{0}: the request log does not cut into the playbook's module runs; no breakdown".format(label))
        return
    print("\n{0}: where the wall time goes\n".format(label))
    print_table(["task", "module runs", "calls", "throttled", "minimum", "API s", "floor s", "API/floor", "calls/s"],
                [[row["task"], row["module_runs"], "{0:,}".format(row["calls"]), "{0:,}".format(row["throttled"]),
                  "{0:,}".format(row["minimum"]), "{0:.1f}".format(row["api_s"]), "{0:.1f}".format(row["minimum"] / RATE),
                  fmt_ratio(row["api_s"] / (row["minimum"] / RATE)) if row["minimum"] else "-",
                  "{0:.1f}".format(row["calls"] / row["api_s"]) if row["api_s"] else "-"] for row in rows])
    outside = wall_s - sum(row["api_s"] for row in rows)
    print("API s = from each module run's first call to the end of its last; outside the API: {0:.1f} s of the {1:.1f} s "
          "(ansible-playbook start-up, each module's start-up and its own work before its first call and after its "
          "last).".format(outside, wall_s))


# ------------------------------------------------------------------------------------------- report

def _share(figures: Figures) -> str:
    return "{0:,}".format(figures.total()) + ("~" if figures.extrapolated else "")


def print_runs(rows: list[Figures]) -> None:
    table = []
    for row in rows:
        table.append([row.label + (" (extrapolated)" if row.extrapolated else ""), "yes" if row.ok else "FAILED",
                      "{0:.1f}".format(row.wall_s), _share(row), "{0:,}".format(sum(row.throttled.values())),
                      "{0:,}".format(sum(row.writes.values())), "{0:,}".format(sum(row.minimum.values())),
                      fmt_ratio(row.calls_ratio()), "{0:.1f}".format(row.floor_s()), fmt_ratio(row.time_ratio()),
                      "-" if row.changed_tasks is None else row.changed_tasks, fmt_kib(row.maxrss_kib)])
    print_table(["run", "ok", "wall s", "calls", "throttled", "writes", "minimum", "calls/min", "floor s",
                 "wall/floor", "changed tasks", "peak rss"], table)
    print("calls = every request the server logged (throttled ones included); minimum = the fewest calls the API "
          "allows (bench/README.md); floor = minimum / {0:g} per second; changed tasks from the play recap; peak rss = "
          "the largest process of the run (controller or module), via /usr/bin/time.".format(RATE))


def print_operations(columns: list[Figures]) -> None:
    keys = sorted(set().union(*(set(item.calls) | set(item.minimum) for item in columns)))
    headers = ["operation"]
    for item in columns:
        headers += [item.label, "min"]
    rows = []
    for key in keys:
        row: list[object] = [key]
        for item in columns:
            throttled = item.throttled.get(key, 0)
            row += ["{0:,}{1}".format(item.calls.get(key, 0), " ({0:,} thr.)".format(throttled) if throttled else ""),
                    "{0:,}".format(item.minimum.get(key, 0))]
        rows.append(row)
    print_table(headers, rows)
    print("(N thr.): of which answered ThrottlingException and sent again by the retry layers.")


def excess_lines(figures: Figures) -> list[str]:
    """Where the calls beyond the minimum went, largest first."""
    extra = {key: figures.calls.get(key, 0) - figures.minimum.get(key, 0) for key in set(figures.calls) | set(figures.minimum)}
    return ["{0:+,} {1}{2}".format(value, key, " ({0:,} throttled)".format(figures.throttled[key]) if figures.throttled.get(key) else "")
            for key, value in sorted(extra.items(), key=lambda item: -abs(item[1])) if value]


def summary_lines(bulk: list[Figures], alternative: list[Figures], sample_text: str) -> list[str]:
    lines = []
    for item in bulk:
        rerun = "re-run" in item.label
        writes = sum(item.writes.values())
        calls_met = item.calls_ratio() <= CALLS_TARGET and (writes == 0 if rerun else True)
        lines.append("aws {0}{1}: {2:.1f} s; calls {3:,} / minimum {4:,} = {5}{6} (at most {7}x{8}: {9}); wall / "
                     "(minimum / {10:g} per s) = {11:.1f} s / {12:.1f} s = {13} (at most {14}x: {15}){16}".format(
                         item.label, "" if item.ok else " [the playbook FAILED]", item.wall_s, item.total(),
                         sum(item.minimum.values()), fmt_ratio(item.calls_ratio()),
                         ", {0} writes".format(writes) if rerun else "", CALLS_TARGET,
                         " and zero writes" if rerun else "", target(calls_met), RATE, item.wall_s, item.floor_s(),
                         fmt_ratio(item.time_ratio()), TIME_TARGET, target(item.time_ratio() <= TIME_TARGET),
                         "; with the 10-outstanding quota the floor is {0:.1f} s ({1})".format(
                             item.floor_s() + item.async_floor_s, fmt_ratio(item.wall_s / (item.floor_s() + item.async_floor_s)))
                         if item.async_floor_s else ""))
    for item in alternative:
        lines.append("aws {0}{1}: {2:.1f} s, calls {3:,} / minimum {4:,} = {5}, wall / floor = {6}{7}".format(
            item.label, " (extrapolated)" if item.extrapolated else "", item.wall_s, item.total(),
            sum(item.minimum.values()), fmt_ratio(item.calls_ratio()), fmt_ratio(item.time_ratio()),
            "" if item.ok else " [a playbook FAILED]"))
    if sample_text:
        lines.append("aws per-object alternative: " + sample_text)
    return lines


# --------------------------------------------------------------------------------------------- main

def converge_bulk(server: MotoServer, folder: Path, env: dict[str, str], connection: dict[str, str],
                  estate: Estate, report: Report) -> tuple[list[Figures], dict[str, Any]]:
    path = write_playbook(folder / "bulk.yml", BULK_TASKS, connection, estate)
    aws_like(server)
    print("== the collection's way: identity_store_sync, a loop of permission_set, one account_assignment", flush=True)
    first = measured(server, path, env)
    held = holdings(server, estate)
    print("first converge: {0:.1f} s, rc {1}; the instance holds {2} (expected {3})".format(
        first.wall_s, first.rc, held, expected(estate)), flush=True)
    rerun = measured(server, path, env)
    print("re-run: {0:.1f} s, rc {1}\n".format(rerun.wall_s, rerun.rc), flush=True)
    for label, run in (("first converge", first), ("re-run", rerun)):
        if not run.ok:
            report.crashes.append("aws {0}: the playbook failed (rc {1}): ...{2}".format(label, run.rc, run.tail[-1500:]))
    if held != expected(estate):
        report.crashes.append("aws first converge: the instance holds {0}, expected {1}".format(held, expected(estate)))
    minimums = {"first converge": minimum_first(estate), "re-run": minimum_rerun(estate)}
    quota_floor = max(0.0, assignment_floor(estate) - sum(minimums["first converge"][ASSIGNMENT].values()) / RATE)
    rows = [figures_of("first converge", first, total(minimums["first converge"]), quota_floor),
            figures_of("re-run", rerun, total(minimums["re-run"]))]
    breakdown = {label: time_by_task(run, minimums[label], len(estate.permission_sets))
                 for label, run in (("first converge", first), ("re-run", rerun))}
    return rows, {"holdings": held, "time_by_task": breakdown}


def converge_per_object(server: MotoServer, folder: Path, env: dict[str, str], connection: dict[str, str],
                        estate: Estate, fraction: float, report: Report) -> tuple[list[Figures], str]:
    sample, factors = sample_of(estate, fraction)
    sample_text = ("measured on {0:,} of {1:,} users, {2} of {3} groups, {4} of {5} permission sets and {6} of {7} "
                   "assignments, then scaled up loop by loop".format(
                       len(sample.users), len(estate.users), len(sample.groups), len(estate.groups),
                       len(sample.permission_sets), len(estate.permission_sets), len(sample.assignments), len(estate.assignments)))
    print("== the alternative: one task per object ({0})".format(sample_text), flush=True)
    base = start_up_s(folder, env, connection)
    paths = {kind: write_playbook(folder / "per-{0}.yml".format(kind), [task], connection, sample)
             for kind, task in PER_OBJECT_TASKS.items()}
    aws_like(server)
    firsts = {kind: measured(server, path, env) for kind, path in paths.items()}
    held = holdings(server, sample)
    reruns = {kind: measured(server, path, env) for kind, path in paths.items()}
    for kind in paths:
        print("  {0}: first {1:.1f} s ({2:,} calls), re-run {3:.1f} s ({4:,} calls), x{5:.1f} to the whole".format(
            kind, firsts[kind].wall_s, sum(firsts[kind].calls.values()), reruns[kind].wall_s,
            sum(reruns[kind].calls.values()), factors[kind]), flush=True)
    print("  ansible-playbook start-up (a play with no task): {0:.2f} s; the sample's instance holds {1} (expected "
          "{2})\n".format(base, held, expected(sample)), flush=True)
    for kind, run in list(firsts.items()) + list(reruns.items()):
        if not run.ok:
            report.crashes.append("aws per-object {0}: the playbook failed (rc {1}): ...{2}".format(kind, run.rc, run.tail[-1500:]))
    rows = [extrapolated("per-object first converge", firsts, factors, base, total(minimum_first(estate))),
            extrapolated("per-object re-run", reruns, factors, base, total(minimum_rerun(estate)))]
    return rows, sample_text


def run(args: argparse.Namespace) -> Report:
    report = Report()
    estate = scaled_estate(args.scale)
    print("estate (scale {0:g}): {1}".format(args.scale, estate.describe()))
    print("back end: moto + the idfed plug-in; {0:g} requests/s over sso-admin and identitystore together (token bucket, "
          "burst {0:g}, ThrottlingException above it), {1} ms per call, asynchronous requests {2:g} s, {3} outstanding "
          "assignment creations\n".format(RATE, LATENCY_MS, ASYNC_DELAY, ASSIGNMENT_QUOTA), flush=True)
    with tempfile.TemporaryDirectory(prefix="idfed-bench-aws-") as temporary, MotoServer() as server:
        folder = Path(temporary)
        build_tree(folder)
        env = playbook_env(folder / "tree")
        connection = {"endpoint_url": server.endpoint_url, "region": "us-east-1", "access_key": "testing",
                      "secret_key": "testing"}
        bulk, extra = converge_bulk(server, folder, env, connection, estate, report)
        alternative, sample_text = ([], "")
        if args.alt_sample > 0:
            alternative, sample_text = converge_per_object(server, folder, env, connection, estate,
                                                           min(1.0, args.alt_sample), report)
    rows = [item for pair in zip(bulk, alternative or [None, None]) for item in pair if item is not None]
    print_runs(rows)
    print("\n== API calls by operation (~: extrapolated)\n")
    print_operations(rows)
    for item in bulk:
        print("\nbeyond the minimum, {0}: {1}".format(item.label, "; ".join(excess_lines(item)) or "nothing"))
        print_time_by_task(item.label, extra["time_by_task"][item.label], item.wall_s)
    if sample_text:
        print("\nper-object alternative: {0}.".format(sample_text))
    report.summary = summary_lines(bulk, alternative, sample_text)
    report.data = {"estate": {"scale": args.scale, "description": estate.describe()}, "runs": [item.as_dict() for item in rows],
                   "alternative_sample": sample_text, **extra}
    return report
