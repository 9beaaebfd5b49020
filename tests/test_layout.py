"""Nodes created without a position get a free place, never stacked at (0, 0)."""

from __future__ import annotations

from test_nodes_api import add_node, setup_pipeline

from fusionpipe_server.core.layout import NODE_HEIGHT, NODE_WIDTH, ROW_WIDTH, STEP_X, STEP_Y, place


def overlapping(a, b):
    return abs(a[0] - b[0]) < NODE_WIDTH and abs(a[1] - b[1]) < NODE_HEIGHT


def test_new_nodes_fill_rows_to_the_right_then_start_a_new_row():
    taken: list[tuple[float, float]] = []
    for _ in range(20):
        spot = place(taken)
        assert not any(overlapping(spot, other) for other in taken)
        taken.append(spot)
    assert taken[:2] == [(0.0, 0.0), (STEP_X, 0.0)]
    assert max(x for x, _ in taken) < ROW_WIDTH
    assert {y for _, y in taken} == {0.0, STEP_Y, 2 * STEP_Y}


def test_a_new_node_goes_right_of_a_drawn_graph_and_below_its_parents():
    chain = [(100.0, 50.0), (100.0, 50.0 + STEP_Y), (100.0, 50.0 + 2 * STEP_Y)]
    assert place(chain) == (100.0 + STEP_X, 50.0)
    assert place(chain, parents=[chain[-1]]) == (100.0, 50.0 + 3 * STEP_Y)
    # Below two parents, between them; moved right when that place is taken.
    parents = [(0.0, 0.0), (2 * STEP_X, 0.0)]
    assert place(parents, parents=parents) == (STEP_X, STEP_Y)
    assert place([*parents, (STEP_X, STEP_Y)], parents=parents) == (2 * STEP_X, STEP_Y)


async def test_nodes_created_without_a_position_are_placed_apart(api):
    pipeline = await setup_pipeline(api)
    given = await add_node(api, pipeline, "given", position={"x": 40, "y": 40})
    first = await add_node(api, pipeline, "first")
    second = await add_node(api, pipeline, "second")
    spots = [(n["position"]["x"], n["position"]["y"]) for n in (given, first, second)]
    assert spots == [(40.0, 40.0), (40.0 + STEP_X, 40.0), (40.0 + 2 * STEP_X, 40.0)]
