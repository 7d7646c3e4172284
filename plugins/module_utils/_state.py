# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The one before/desired/after comparison of every resource module, so that `changed`, `diff`, check mode
and `state: absent` behave the same everywhere and no secret leaves through them.

A module reads `before` (None when the object is absent), builds `desired` from its options (None means
"leave as is"), declares how its resource compares in a `Spec`, and calls `ensure()` with one writer per
outcome. `plan()` is the pure comparison, for a module that writes in its own way; `report()` turns a plan
into the return values then. Field paths are dotted keys ("saml.acs_urls"); a list on the way is crossed
transparently, so "attributes.id" names the `id` of every element of the `attributes` list.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # what Ansible itself shows for a no_log value
MASK_CHANGED = MASK + " (changed)"  # else a secret the task rewrites would look unchanged in the diff

CREATED, UPDATED, DELETED, UNCHANGED = "created", "updated", "deleted", "unchanged"
ON_CREATE, ALWAYS = "on_create", "always"  # the choices of update_secrets, as ansible.builtin.user's update_password

# IAM fills in the oldest grammar when a document has no Version (what amazon.aws's compare_policies assumes too).
_IAM_DEFAULT_VERSION = "2008-10-17"
_ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")


class StateError(Exception):
    """The task asks for something the comparison refuses (an immutable field, a malformed policy)."""


@dataclass(frozen=True)
class Spec:
    """How one resource type compares; declared once per module. Every entry is a field path."""

    sets: Collection[str] = frozenset()  # unordered, duplicates meaningless (acs_urls, managed_policies, members)
    multisets: Collection[str] = frozenset()  # unordered, duplicates count
    policies: Collection[str] = frozenset()  # IAM policy documents (dict or JSON string), compared by meaning
    read_only: Collection[str] = frozenset()  # vendor-computed (ids, timestamps, etags): shown, never compared
    secrets: Collection[str] = frozenset()  # masked everywhere; see update_secrets
    immutable: Mapping[str, str] = field(default_factory=dict)  # path (outside lists) -> what the user should do


@dataclass(frozen=True)
class Plan:
    """What the task leads to. before/after hold the real values (secrets too): for writers, never to return."""

    outcome: str  # CREATED, UPDATED, DELETED or UNCHANGED
    before: Optional[dict]
    after: Optional[dict]  # the predicted object: before with the specified options merged in
    changed_keys: tuple[str, ...]  # top-level keys that differ, for an API that patches only those

    @property
    def changed(self) -> bool:
        return self.outcome != UNCHANGED


@dataclass(frozen=True)
class Result:
    """The same return keys for every resource module; secrets masked, {} for an absent side."""

    changed: bool
    outcome: str
    before: dict
    after: dict
    diff: Optional[dict] = None  # only in diff mode

    def as_dict(self) -> dict:
        values = {"changed": self.changed, "outcome": self.outcome, "before": self.before, "after": self.after}
        if self.diff is not None:
            values["diff"] = self.diff
        return values


Writer = Callable[[Plan], Optional[dict]]  # returns the object as the API now has it, or None for the prediction


def plan(spec: Spec, before: Optional[dict], desired: Optional[dict], *, state: str = "present",
         update_secrets: str = ON_CREATE) -> Plan:
    """Compare without writing. Raises StateError for an immutable field the task would change."""
    if state not in ("present", "absent"):
        raise ValueError("state must be present or absent, not {0!r}".format(state))
    rules = _Rules(spec, update_secrets)
    if state == "absent":
        return Plan(UNCHANGED if before is None else DELETED, before, None, rules.changed_keys(before, None))
    if desired is None:
        raise ValueError("state: present needs the desired object")
    wanted = rules.prune(desired, "")
    if before is None:
        return Plan(CREATED, None, wanted, rules.changed_keys(None, wanted))
    after = rules.merge(before, wanted, "")
    rules.check_immutable(before, after)
    keys = rules.changed_keys(before, after)
    # Unchanged: report the object exactly as the API has it, not an equivalent spelling of it.
    return Plan(UPDATED, before, after, keys) if keys else Plan(UNCHANGED, before, before, ())


def ensure(module: Any, spec: Spec, before: Optional[dict], desired: Optional[dict], *, state: str,
           create: Writer, update: Writer, delete: Writer, update_secrets: str = ON_CREATE) -> Result:
    """Plan, call the one writer the outcome needs (none when unchanged or in check mode), report.

    module: an AnsibleModule (check_mode, _diff, no_log_values, fail_json). A found object is only ever
    updated in place: `delete` runs for state: absent alone.
    """
    try:
        planned = plan(spec, before, desired, state=state, update_secrets=update_secrets)
    except StateError as err:
        module.fail_json(msg=_scrub(str(err), module.no_log_values))
        raise  # not reached with AnsibleModule, whose fail_json exits
    written = None
    if planned.changed and not module.check_mode:
        writer = {CREATED: create, UPDATED: update, DELETED: delete}[planned.outcome]
        written = writer(planned)
    return report(module, spec, planned, written)


def report(module: Any, spec: Spec, planned: Plan, written: Optional[dict] = None) -> Result:
    """The return values of a plan; `written`, the object a writer returned, replaces the predicted after."""
    rules = _Rules(spec, no_log_values=module.no_log_values)
    after = written if written is not None and planned.outcome != DELETED else planned.after
    shown_before = rules.mask(planned.before, "", None) or {}
    shown_after = rules.mask(after, "", planned.before) or {}
    diff = {"before": shown_before, "after": shown_after} if module._diff else None  # pylint: disable=protected-access
    return Result(planned.changed, planned.outcome, shown_before, shown_after, diff)


class _Rules:
    """The Spec applied: pruning, merging, canonical forms and masking, all by field path."""

    def __init__(self, spec: Spec, update_secrets: str = ON_CREATE, no_log_values: Collection[str] = ()) -> None:
        if update_secrets not in (ON_CREATE, ALWAYS):
            raise ValueError("update_secrets must be {0} or {1}, not {2!r}".format(ON_CREATE, ALWAYS, update_secrets))
        self.spec = spec
        self.always = update_secrets == ALWAYS
        self.no_log_values = no_log_values

    def prune(self, value: Any, path: str) -> Any:
        """Drop unset options (None: leave as is) and read-only fields, which the user cannot set."""
        if path in self.spec.policies:
            return value
        if isinstance(value, dict):
            pruned = {}
            for key, item in value.items():
                sub = _join(path, key)
                if item is not None and sub not in self.spec.read_only:
                    pruned[key] = self.prune(item, sub)
            return pruned
        if isinstance(value, list):
            return [self.prune(item, path) for item in value]
        return value

    def merge(self, have: Any, want: Any, path: str) -> Any:
        """The predicted value: `want` laid over `have`, keeping `have`'s spelling wherever they mean the same."""
        if isinstance(have, dict) and isinstance(want, dict) and path not in self.spec.policies:
            merged = dict(have)
            for key, item in want.items():
                sub = _join(path, key)
                if sub in self.spec.secrets and have.get(key) is None and not self.always:
                    continue  # the API does not return it, so nothing to compare: set on create only
                merged[key] = self.merge(have.get(key), item, sub)
            return merged
        if isinstance(have, list) and isinstance(want, list) and path not in self.spec.policies:
            return self._merge_list(have, want, path)
        return have if self.canon(have, path) == self.canon(want, path) else want

    def _merge_list(self, have: list, want: list, path: str) -> list:
        if path in self.spec.sets or path in self.spec.multisets:
            pairs = self._match(have, want, path)
            return [have[pairs[index]] if index in pairs else item for index, item in enumerate(want)]
        return [self.merge(have[index] if index < len(have) else None, item, path) for index, item in enumerate(want)]

    def _match(self, have: list, want: list, path: str) -> dict[int, int]:
        """Pair each wanted element with a distinct existing one it already describes (want index -> have index).

        Equal elements pair first, by canonical form: that is all scalars need, and it is linear. A wanted dict
        may name fewer keys than the API returns, so the rest pair by augmenting paths, a maximum matching:
        a greedy pass could report a change where an exact pairing exists.
        """
        free = defaultdict(list)
        for index, item in enumerate(have):
            free[_sort_key(self.canon(item, path))].append(index)
        pairs: dict[int, int] = {}
        for index, item in enumerate(want):
            bucket = free[_sort_key(self.canon(item, path))]
            if bucket:
                pairs[index] = bucket.pop()
        left = [index for index in range(len(want)) if index not in pairs and isinstance(want[index], dict)]
        spare = [index for bucket in free.values() for index in bucket if isinstance(have[index], dict)]
        spare_forms = {h: self.canon(have[h], path) for h in spare}
        fits = {(w, h) for w in left for h in spare
                if self.canon(self.merge(have[h], want[w], path), path) == spare_forms[h]}
        owner: dict[int, int] = {}  # have index -> want index

        def place(w: int, seen: set) -> bool:
            for h in spare:
                if (w, h) in fits and h not in seen:
                    seen.add(h)
                    if h not in owner or place(owner[h], seen):
                        owner[h] = w
                        return True
            return False

        for w in left:
            place(w, set())
        pairs.update((w, h) for h, w in owner.items())
        return pairs

    def canon(self, value: Any, path: str) -> Any:
        """The form two values are compared in: equal forms mean the API holds the same thing."""
        if value is None:
            return None
        if path in self.spec.policies:
            return _canon_policy(value, path)
        if isinstance(value, dict):
            return {key: self.canon(item, _join(path, key)) for key, item in value.items()
                    if item is not None and _join(path, key) not in self.spec.read_only}
        if isinstance(value, (list, tuple)):
            items = [self.canon(item, path) for item in value]
            if path in self.spec.sets:
                items = list({_sort_key(item): item for item in items}.values())
            if path in self.spec.sets or path in self.spec.multisets:
                items.sort(key=_sort_key)
            return items
        return value

    def changed_keys(self, before: Optional[dict], after: Optional[dict]) -> tuple[str, ...]:
        old, new = self.canon(before, "") or {}, self.canon(after, "") or {}
        return tuple(sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key)))

    def check_immutable(self, before: dict, after: dict) -> None:
        for path, advice in self.spec.immutable.items():
            have, want = _get(before, path), _get(after, path)
            if have is not None and self.canon(have, path) != self.canon(want, path):
                shown = [json.dumps(self.mask(value, path, None), sort_keys=True, default=str) for value in (have, want)]
                raise StateError("{0} cannot be changed in place: it is {1} and the task asks for {2}. {3}".format(
                    path, shown[0], shown[1], advice))

    def mask(self, value: Any, path: str, ref: Any) -> Any:
        """A copy safe to return: secrets masked, no_log values scrubbed, keys sorted.

        ref is the same place on the before side, when there is one, to mark a secret the task changes.
        """
        if value is None:
            return None
        if path in self.spec.secrets:
            return MASK_CHANGED if ref is not None and ref != value else MASK
        if isinstance(value, dict):
            refs = ref if isinstance(ref, dict) else {}
            return {key: self.mask(value[key], _join(path, key), refs.get(key)) for key in sorted(value)}
        if isinstance(value, (list, tuple)):
            return [self.mask(item, path, None) for item in value]
        if isinstance(value, str):
            return _scrub(value, self.no_log_values)
        return value


def _canon_policy(document: Any, path: str) -> Any:
    """An IAM policy by meaning: parsed, statements and their values unordered, one-element lists as scalars."""
    if isinstance(document, str):
        if not document.strip():
            return ""  # how some APIs say "no policy"
        try:
            document = json.loads(document)
        except ValueError as err:
            raise StateError("{0} is not a JSON policy document: {1}".format(path, err)) from None
    if not isinstance(document, dict):
        return document
    canonical = dict(document)
    canonical.setdefault("Version", _IAM_DEFAULT_VERSION)
    statements = canonical.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    canonical["Statement"] = sorted({_sort_key(s): s for s in map(_canon_statement, statements)}.values(), key=_sort_key)
    return canonical


def _canon_statement(statement: Any) -> Any:
    if not isinstance(statement, dict):
        return statement
    canonical = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction"):
            canonical[key] = _strings(value, str.lower)  # IAM matches action names case-insensitively
        elif key in ("Resource", "NotResource"):
            canonical[key] = _strings(value)
        elif key in ("Principal", "NotPrincipal"):
            value = {"AWS": value} if value == "*" else value  # two spellings of "anyone"
            canonical[key] = ({kind: _strings(ids, _account_of_root) for kind, ids in value.items()}
                              if isinstance(value, dict) else value)
        elif key == "Condition" and isinstance(value, dict):
            canonical[key] = {operator: ({name: _strings(item) for name, item in block.items()}
                                         if isinstance(block, dict) else block)
                              for operator, block in value.items()}
        else:
            canonical[key] = value
    return canonical


def _strings(value: Any, fold: Callable[[str], str] = str) -> list[str]:
    """A value list as IAM reads it: a set, where a scalar is a one-element list and true is "true"."""
    items = value if isinstance(value, list) else [value]
    return sorted({fold(str(item).lower() if isinstance(item, bool) else str(item)) for item in items})


def _account_of_root(principal: str) -> str:
    """IAM stores an account principal as its root ARN: compare both spellings as the account id."""
    found = _ROOT_ARN.match(principal)
    return found.group(1) if found else principal


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _join(path: str, key: str) -> str:
    return "{0}.{1}".format(path, key) if path else key


def _get(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _scrub(text: str, no_log_values: Collection[str]) -> str:
    for secret in sorted(no_log_values, key=len, reverse=True):  # longest first: one may contain another
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text
