"""File work off the event loop: the graph stays quick to fetch while a 1 GB node is duplicated
with its data."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from pathlib import Path

from .harness import TOKEN, Row, Server, timed

SIZE = 1 << 30
CHUNK = 16 << 20


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def write_data(folder: Path) -> None:
    """1 GB of real (not sparse) bytes: one random 16 MB block written 64 times."""
    block = os.urandom(CHUNK)
    with (folder / "data" / "big.bin").open("wb") as handle:
        for _ in range(SIZE // CHUNK):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())


def measure(server: Server) -> list[Row]:
    project = server.call("POST", "projects", {"tag": "file-work"})
    pipeline = server.call("POST", "pipelines", {"project_id": project["id"], "tag": "big"})
    node = server.call("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "big"})
    write_data(Path(node["folder"]))
    fetch = f"pipelines/{pipeline['id']}"
    floor = timed(lambda: server.call("GET", fetch), 200)

    done = threading.Event()
    outcome: list[int] = []

    def duplicate() -> None:
        # Its own connection: the measuring connection keeps fetching meanwhile.
        connection = http.client.HTTPConnection("127.0.0.1", server.process.port, timeout=600)
        connection.request(
            "POST",
            f"/fusionpipe/api/{fetch}/duplicate-nodes",
            body=json.dumps(
                {"node_ids": [node["id"]], "target_pipeline_id": pipeline["id"], "with_data": True}
            ),
            headers={"Authorization": f"token {TOKEN}"},
        )
        outcome.append(connection.getresponse().status)
        connection.close()
        done.set()

    copier = threading.Thread(target=duplicate)
    copier.start()
    during: list[float] = []
    while not done.is_set():
        started = time.perf_counter()
        server.call("GET", fetch)
        during.append(time.perf_counter() - started)
    copier.join()
    assert outcome == [201], outcome
    worst = p99(during)
    return [
        Row(
            "graph fetch while 1 GB is duplicated",
            during,
            p99(floor),
            "p99 < 100 ms",
            worst < 0.1,
            note=f"p99 {worst * 1e3:.1f} ms over {len(during)} fetches; floor is p99 idle",
        )
    ]
