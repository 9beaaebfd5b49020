"""What the undo log knows without I/O: the objects an edit touches, how each is named in a
message, in which order an edit's changes are applied, and how a later change is worded.

An edit is a list of *changes*, one per object it touched, each a dict::

    {"key": "node:ID" | "member:PIPELINE:NODE" | "edge:ID" | "group:ID",
     "name": "node 'fit'",           # how messages and labels name it
     "before": {...} | None,         # its fields before the edit (None: it did not exist)
     "after": {...} | None,          # and after
     "trash": "trash id"}            # a node that is absent: the trash item holding it

Undoing writes every ``before`` where every ``after`` still is; redoing the reverse. The
fields of each kind of object are those a graph edit changes (never a status or a run's
outcome), so that a run between an edit and its undo never stands in the way.
"""

from __future__ import annotations

from typing import Any

Change = dict[str, Any]
State = dict[str, Any] | None


def node_key(node_id: str) -> str:
    return f"node:{node_id}"


def member_key(pipeline_id: str, node_id: str) -> str:
    return f"member:{pipeline_id}:{node_id}"


def edge_key(edge_id: str) -> str:
    return f"edge:{edge_id}"


def group_key(group_id: str) -> str:
    return f"group:{group_id}"


def kind_of(change: Change) -> str:
    return str(change["key"].split(":", 1)[0])


def node_name(tag: str) -> str:
    return f"node {tag!r}"


def edge_name(parent_tag: str, child_tag: str) -> str:
    return f"edge {parent_tag!r} → {child_tag!r}"


def group_name(tag: str) -> str:
    return f"group {tag!r}" if tag else "a group"


def change(key: str, name: str, before: State, after: State) -> Change:
    return {"key": key, "name": name, "before": before, "after": after}


def changed(changes: list[Change]) -> list[Change]:
    """Only the changes that changed something: an edit that changed nothing is not recorded."""
    return [c for c in changes if c["before"] != c["after"]]


def count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


# The order an edit's changes are written in, so that what a row refers to exists first: a
# group before the nodes put in it, a node before its edges, edges gone before their node.
def _rank(c: Change, target: str) -> int:
    source = "after" if target == "before" else "before"
    appears, goes = c[source] is None, c[target] is None
    kind = kind_of(c)
    if kind == "group":
        return 0 if appears else (8 if goes else 7)
    if kind == "node":
        return 1 if appears else (6 if goes else 2)
    if kind == "edge":
        return 3 if goes else 4
    return 5


def in_order(changes: list[Change], target: str) -> list[Change]:
    """The changes in the order that writes their ``target`` ("before" or "after")."""
    return sorted(changes, key=lambda c: _rank(c, target))


_VERBS = {
    "tag": "renamed",
    "notes": "given other notes",
    "x": "moved",
    "y": "moved",
    "group": "put in another group",
    "collapsed": "collapsed or expanded",
    "width": "resized",
    "height": "resized",
}


def difference(name: str, expected: State, current: State) -> str | None:
    """How ``name`` differs from what the undo expects, as the start of a sentence ("node 'fit'
    was renamed"), or None when it is as expected."""
    if expected == current:
        return None
    if current is None:
        return f"{name} was deleted"
    if expected is None:
        return f"{name} was put back"
    verbs: dict[str, None] = {}
    for field, value in expected.items():
        if current.get(field) != value:
            if field == "locked":
                verbs["locked" if current[field] else "unlocked"] = None
            else:
                verbs[_VERBS.get(field, f"changed ({field})")] = None
    return f"{name} was {' and '.join(verbs)}"
