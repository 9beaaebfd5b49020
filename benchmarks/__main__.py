"""``python -m benchmarks`` (or ``make bench``): measure and print one table."""

from __future__ import annotations

from . import graph_api
from .harness import Server, environment, print_table


def main() -> None:
    print(f"fusionpipe benchmarks on {environment()}")
    server = Server()
    try:
        rows = graph_api.measure(server)
    finally:
        server.close()
    print_table(rows)


if __name__ == "__main__":
    main()
