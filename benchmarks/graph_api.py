"""REST measures: node creation, edge connection and graph fetch on large pipelines."""

from __future__ import annotations

import secrets

from .harness import Row, Server, timed


def floors(server: Server) -> dict[str, float]:
    """What a request costs before fusionpipe does anything: an empty authenticated request, and
    one SQL round trip."""
    empty = timed(lambda: server.call("GET", "openapi.json"), 50)
    with server.sql() as conn:
        select = timed(lambda: conn.execute("SELECT 1").fetchone(), 200)
    return {"request": min(empty), "select": sorted(select)[len(select) // 2]}


def bulk_pipeline(
    server: Server, project_id: str, size: int, tag: str | None = None
) -> tuple[str, list[str]]:
    """A pipeline of ``size`` nodes (a chain with a fan of side branches) inserted with SQL:
    building it request by request would take minutes and measure nothing we care about.
    Tagged ``bulk-<size>`` unless told (pipeline tags are unique)."""
    tag = tag or f"bulk-{size}"
    pipeline = server.call("POST", "pipelines", {"project_id": project_id, "tag": tag})
    ids = [f"n_{secrets.token_hex(8)}" for _ in range(size)]
    with server.sql() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO nodes (id, project_id, tag, owner, folder, status) "
            "VALUES (%s, %s, %s, 'bench', %s, 'completed')",
            [(n, project_id, f"node {i}", f"{project_id}/{n}") for i, n in enumerate(ids)],
        )
        cur.executemany(
            "INSERT INTO pipeline_nodes (pipeline_id, node_id, x, y) VALUES (%s, %s, %s, %s)",
            [(pipeline["id"], n, (i % 40) * 200.0, (i // 40) * 100.0) for i, n in enumerate(ids)],
        )
        # node i feeds node i+1 (a long chain) and node i+7 (side links).
        edges = [(ids[i], ids[i + 1], "01") for i in range(size - 1)]
        edges += [(ids[i], ids[i + 7], "02") for i in range(size - 7)]
        cur.executemany(
            "INSERT INTO edges (id, parent_id, child_id, slot) VALUES (%s, %s, %s, %s)",
            [(f"e_{secrets.token_hex(8)}", p, c, s) for p, c, s in edges],
        )
        # Autovacuum would analyze a table that grew this much; without statistics the planner
        # scans instead of using the indexes, which no real database would be left doing.
        cur.execute("ANALYZE")
    return str(pipeline["id"]), ids


def measure(server: Server) -> list[Row]:
    floor = floors(server)
    project = server.call("POST", "projects", {"tag": "bench"})
    rows: list[Row] = []

    small = server.call("POST", "pipelines", {"project_id": project["id"], "tag": "create"})
    create = timed(lambda: server.call("POST", f"pipelines/{small['id']}/nodes", {}), 100)
    rows.append(
        Row(
            "create a node (API)",
            create,
            floor["request"],
            "p50 < 25 ms",
            sorted(create)[50] < 0.025,
        )
    )

    big, ids = bulk_pipeline(server, project["id"], 1000)
    # Forward links along the chain: each one is checked for a cycle over the whole graph.
    pairs = iter([(ids[i], ids[i + 500]) for i in range(0, 400, 2)])

    def connect() -> None:
        source, target = next(pairs)
        server.call("POST", f"pipelines/{big}/edges", {"source": source, "target": target})

    edges = timed(connect, 100)
    rows.append(
        Row(
            "connect an edge, 1,000-node pipeline",
            edges,
            floor["request"],
            "p50 < 20 ms",
            sorted(edges)[50] < 0.020,
        )
    )

    fetch_1k = timed(lambda: server.call("GET", f"pipelines/{big}"), 30)
    rows.append(
        Row(
            "fetch a 1,000-node graph",
            fetch_1k,
            floor["request"],
            "p50 < 60 ms",
            sorted(fetch_1k)[15] < 0.060,
            "1 SQL query",
        )
    )

    huge, _ = bulk_pipeline(server, project["id"], 10_000)
    fetch_10k = timed(lambda: server.call("GET", f"pipelines/{huge}"), 10)
    rows.append(
        Row(
            "fetch a 10,000-node graph",
            fetch_10k,
            floor["request"],
            "p50 < 600 ms",
            sorted(fetch_10k)[5] < 0.600,
            "1 SQL query",
        )
    )

    rows.append(Row("floor: SELECT 1 round trip", [floor["select"]], None, "-", None))
    return rows
