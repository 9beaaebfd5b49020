"""``python -m benchmarks`` (or ``make bench``): measure and print one table."""

from __future__ import annotations

import argparse

from . import (
    connections,
    events,
    file_work,
    graph_api,
    items,
    panel,
    runs,
    slurm,
    staleness,
    startup,
)
from .harness import Server, environment, print_table


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--no-ray", action="store_true", help="skip the Ray measure")
    options.add_argument(
        "--no-slurm", action="store_true", help="skip the measure on a single-node Slurm (root)"
    )
    options.add_argument(
        "--no-browser", action="store_true", help="skip the measure in headless Chromium"
    )
    args = options.parse_args()
    print(f"fusionpipe benchmarks on {environment()}")
    server = Server()
    try:
        rows = graph_api.measure(server)
        rows += events.measure(server)
        rows += runs.measure(server, with_ray=not args.no_ray)
        rows += items.measure(server, node_overhead=runs.parallel_overhead(rows))
        rows += staleness.measure(server)
        rows += file_work.measure(server)
    finally:
        server.close()
    rows += startup.measure()
    rows += connections.measure()
    if not args.no_slurm:
        rows += slurm.measure()
    if not args.no_browser:
        rows += panel.measure()
    print_table(rows)


if __name__ == "__main__":
    main()
