"""Where a node created without a position goes on the canvas. Pure geometry, no I/O.

Nodes made through the API, the CLI or an import often come without a position; they are put
below their parents when they have some, else to the right of the nodes already there, in rows
of a bounded width, and never on top of another node.
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]

# About the size the panel draws a node at, and the gaps of its automatic layout.
NODE_WIDTH = 220.0
NODE_HEIGHT = 80.0
STEP_X = NODE_WIDTH + 40.0
STEP_Y = NODE_HEIGHT + 50.0
ROW_WIDTH = 8 * STEP_X


def _free(spot: Point, taken: Sequence[Point]) -> bool:
    x, y = spot
    return not any(abs(x - ox) < NODE_WIDTH and abs(y - oy) < NODE_HEIGHT for ox, oy in taken)


def _right_of(spot: Point, taken: Sequence[Point]) -> Point:
    """``spot``, or the first free place to its right in steps of one node."""
    x, y = spot
    while not _free((x, y), taken):
        x += STEP_X
    return x, y


def place(taken: Sequence[Point], parents: Sequence[Point] = ()) -> Point:
    """The top-left corner for a new node among nodes at ``taken`` (their top-left corners)."""
    if parents:
        below = (sum(x for x, _ in parents) / len(parents), max(y for _, y in parents) + STEP_Y)
        return _right_of(below, taken)
    if not taken:
        return 0.0, 0.0
    left = min(x for x, _ in taken)
    top = min(y for _, y in taken)
    bottom = max(y for _, y in taken)
    row = 0
    while top + row * STEP_Y <= bottom:
        y = top + row * STEP_Y
        band = [x for x, oy in taken if y <= oy < y + STEP_Y]
        spot = _right_of((max(band) + STEP_X if band else left, y), taken)
        if spot[0] < left + ROW_WIDTH:
            return spot
        row += 1
    return _right_of((left, top + row * STEP_Y), taken)
