"""Pure graph logic: cycles, ancestry, order, the status rules of SPEC §2, and plans for copies.

No I/O. Edges are ``(parent, child)`` pairs, or ``(parent, child, slot)`` triples where slots
matter. A pipeline's graph is its member nodes plus the edges whose child is a member; every
parent of a member is a member too, so walks over those edges never leave the pipeline.

- ``find_cycle(edges, new_edge)``: the cycle a new edge would close, as a path, or None.
- ``ancestors`` / ``descendants`` / ``topological_order`` / ``next_slot``.
- ``invalidate(statuses, edges, nodes)``: when nodes lose their outputs, every completed
  descendant turns ``staledata`` (ready, running and failed ones keep their status).
- ``manual_status_plan(...)``: the multi-node manual set, independent of request order.
- ``run_scope(...)``: which nodes a run covers.
- ``plan_copy`` / ``check_reference`` / ``plan_branch`` / ``plan_detach``: what duplicate,
  reference, branch and detach must write, for the service to apply in one transaction.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from ..errors import Conflict, Invalid
from ..models import Status

Pair = tuple[str, str]
Triple = tuple[str, str, str]

INVALIDATED = (Status.COMPLETED,)


def _children(edges: Iterable[Pair]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for parent, child in edges:
        children[parent].append(child)
    return children


def _reach(adjacency: Mapping[str, Sequence[str]], starts: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    queue = deque(starts)
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def descendants(edges: Iterable[Pair], nodes: Iterable[str]) -> set[str]:
    """Every node reachable from ``nodes`` (not the nodes themselves)."""
    return _reach(_children(edges), nodes)


def ancestors(edges: Iterable[Pair], nodes: Iterable[str]) -> set[str]:
    """Every node from which ``nodes`` can be reached (not the nodes themselves)."""
    return _reach(_children((child, parent) for parent, child in edges), nodes)


def find_cycle(edges: Iterable[Pair], new_edge: Pair) -> list[str] | None:
    """The cycle adding ``new_edge`` would close, e.g. ``["c", "a", "b", "c"]`` for c -> a when
    a -> b -> c exists (it starts with the new edge), or None when the graph stays acyclic."""
    parent, child = new_edge
    if parent == child:
        return [parent, parent]
    children = _children(edges)
    came_from: dict[str, str] = {}
    queue = deque([child])
    while queue:
        node = queue.popleft()
        if node == parent:
            path = [parent]
            while path[-1] != child:
                path.append(came_from[path[-1]])
            return [parent, *reversed(path)]
        for nxt in children.get(node, ()):
            if nxt not in came_from and nxt != child:
                came_from[nxt] = node
                queue.append(nxt)
    return None


def cycle_in(edges: Iterable[Pair]) -> list[str] | None:
    """A cycle among ``edges``, as a path that starts and ends on one node, or None."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for parent, child in edges:
        sorter.add(child, parent)
    try:
        sorter.prepare()
    except CycleError as err:
        return list(reversed(err.args[1]))
    return None


def topological_order(nodes: Sequence[str], edges: Iterable[Pair]) -> list[str]:
    """Parents before children, in waves: every node free at the same time comes before the
    next wave, and within a wave the given order wins. ``ValueError`` on a cycle."""
    rank = {node: index for index, node in enumerate(nodes)}
    children: dict[str, list[str]] = defaultdict(list)
    waiting = dict.fromkeys(nodes, 0)  # parents not yet placed
    for parent, child in edges:
        if parent in rank and child in rank:
            children[parent].append(child)
            waiting[child] += 1
    wave = [node for node in nodes if not waiting[node]]
    order: list[str] = []
    while wave:
        order += wave
        freed = []
        for node in wave:
            for child in children.get(node, ()):
                waiting[child] -= 1
                if not waiting[child]:
                    freed.append(child)
        wave = sorted(freed, key=rank.__getitem__)
    if len(order) < len(rank):
        raise ValueError(f"a cycle among {sorted(n for n in rank if waiting[n])}")
    return order


def next_slot(existing: Iterable[str]) -> str:
    """The input slot for a child's next parent: one past the highest ("01", "02", ... "100").
    Gaps left by deleted edges are not reused, so a slot always means the same parent."""
    numbers = [int(slot) for slot in existing if slot.isdigit()]
    return f"{max(numbers, default=0) + 1:02d}"


def invalidate(
    statuses: Mapping[str, Status], edges: Iterable[Pair], nodes: Iterable[str]
) -> dict[str, Status]:
    """Status changes when ``nodes`` lose their outputs (they start running again, are cleared,
    set stale, get a new or lose an input, or their parameters change): every completed
    descendant turns ``staledata``, transitively (``INVALIDATED``); ready, running and failed
    ones keep their status. The nodes themselves are left to the caller."""
    return stale_descendants(statuses, descendants(edges, nodes))


def stale_descendants(statuses: Mapping[str, Status], below: Iterable[str]) -> dict[str, Status]:
    """``invalidate`` when the nodes losing their outputs are already known (the database finds
    descendants): the completed ones among ``below`` turn ``staledata``."""
    return {node: Status.STALEDATA for node in below if statuses.get(node) in INVALIDATED}


def manual_status_plan(
    statuses: Mapping[str, Status],
    edges: Sequence[Pair],
    node_ids: Collection[str],
    target: Status,
) -> dict[str, Status]:
    """The changes for setting ``node_ids`` to ``target`` by hand, in one go.

    Nodes are taken in topological order. Setting a node ``staledata`` invalidates its
    descendants; setting it ``completed`` invalidates nothing. A node named in the request always
    ends with the requested status, even when an ancestor in the same request was set stale, so
    the result is the same whatever the order of ``node_ids``.
    """
    if target not in (Status.COMPLETED, Status.STALEDATA):
        raise Invalid("status must be completed or staledata")
    requested = set(node_ids)
    current = dict(statuses)
    changes: dict[str, Status] = {}
    for node in topological_order(list(statuses), edges):
        if node not in requested:
            continue
        if target is Status.STALEDATA:
            for other, status in invalidate(current, edges, [node]).items():
                if other not in requested:
                    current[other] = changes[other] = status
        current[node] = changes[node] = target
    return {node: status for node, status in changes.items() if statuses.get(node) != status}


def run_scope(
    members: Iterable[str],
    edges: Iterable[Pair],
    *,
    until: str | None = None,
    selected: Iterable[str] | None = None,
    items_of: Iterable[str] | None = None,
) -> set[str]:
    """The nodes a run covers: the selected ones, or ``until`` and its ancestors, or the
    nodes some of whose items are asked for and what reads them, or all."""
    if selected is not None:
        return set(selected)
    if items_of is not None:
        return set(items_of) | descendants(edges, items_of)
    if until is not None:
        return {until} | ancestors(edges, [until])
    return set(members)


@dataclass
class CopyPlan:
    """New ids for copied nodes and the input edges the copies get (parent, child, slot)."""

    id_map: dict[str, str]
    edges: list[Triple]


def plan_copy(
    selected: Sequence[str],
    edges: Iterable[Triple],
    *,
    available: Collection[str],
    new_id: Callable[[], str],
) -> CopyPlan:
    """Copies of ``selected``: edges among them are recreated between the copies, edges from
    parents outside the selection are kept (same parent) when that parent is ``available`` in
    the target pipeline. Slots never change, so node code finds its inputs where it did."""
    id_map = {node: new_id() for node in dict.fromkeys(selected)}
    copied_edges: list[Triple] = []
    for parent, child, slot in edges:
        if child not in id_map:
            continue
        if parent in id_map:
            copied_edges.append((id_map[parent], id_map[child], slot))
        elif parent in available:
            copied_edges.append((parent, id_map[child], slot))
        else:
            raise Conflict(
                f"node {child} reads from {parent} (slot {slot}), which is neither copied nor in "
                f"the target pipeline: copy it too, or copy into its pipeline"
            )
    return CopyPlan(id_map, copied_edges)


def check_reference(
    node_ids: Collection[str], edges: Iterable[Pair], *, available: Collection[str]
) -> None:
    """A node can be shared with another pipeline only with its inputs: every parent must be
    shared along with it or already be in the target pipeline."""
    for parent, child in edges:
        if child in node_ids and parent not in node_ids and parent not in available:
            raise Conflict(
                f"node {child} reads from {parent}, which the target pipeline does not hold: "
                f"reference {parent} too"
            )


@dataclass
class BranchPlan:
    copy: CopyPlan
    shared: list[str]


def plan_branch(
    members: Sequence[str], edges: Sequence[Triple], start: str, *, new_id: Callable[[], str]
) -> BranchPlan:
    """Branch from ``start``: it and its descendants are copied, every other member shared."""
    below = {start} | descendants([(p, c) for p, c, _ in edges], [start])
    copied = [node for node in members if node in below]
    shared = [node for node in members if node not in below]
    return BranchPlan(plan_copy(copied, edges, available=shared, new_id=new_id), shared)


@dataclass
class DetachPlan:
    copy: CopyPlan
    removed_edges: list[Pair]


def plan_detach(
    members: Sequence[str],
    edges: Sequence[Triple],
    referenced: Collection[str],
    start: str,
    *,
    new_id: Callable[[], str],
) -> DetachPlan:
    """Private copies of the shared (referenced) nodes among ``start`` and its descendants.

    Copies keep their inputs (copied parents where those are copied too); the pipeline's own
    children of a shared node are rewired to its copy with the same slot. The originals leave
    this pipeline only (the caller removes their memberships).
    """
    below = {start} | descendants([(p, c) for p, c, _ in edges], [start])
    targets = [node for node in members if node in below and node in referenced]
    if not targets:
        raise Conflict(f"nothing from node {start} down is shared with another pipeline")
    id_map = {node: new_id() for node in targets}
    copied_edges: list[Triple] = []
    removed: list[Pair] = []
    for parent, child, slot in edges:
        if child in id_map:
            copied_edges.append((id_map.get(parent, parent), id_map[child], slot))
        elif parent in id_map:
            copied_edges.append((id_map[parent], child, slot))
            removed.append((parent, child))
    return DetachPlan(CopyPlan(id_map, copied_edges), removed)
