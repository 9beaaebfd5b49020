"""Execute a node's notebook headless: ``python -m fusionpipe_server.runners.notebook IN OUT``.

The node's parameters are injected as a first cell (``parameters = {...}``), outputs are kept in
the executed copy written to OUT (under ``reports/``), and a failing cell fails the node.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

PARAMETERS_TAG = "injected-parameters"


def inject_parameters(notebook: nbformat.NotebookNode, parameters: dict[str, object]) -> None:
    source = (
        "# Injected by fusionpipe: this node's node_parameters.yaml\n"
        f"parameters = {json.dumps(parameters, indent=1)}"
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [PARAMETERS_TAG]})
    notebook.cells.insert(0, cell)


def main(source: str, target: str) -> int:
    # Imported here so that the module can be imported without a node around it.
    import fusionpipe

    notebook = nbformat.read(source, as_version=4)
    inject_parameters(notebook, fusionpipe.parameters())
    kernel = os.environ.get("FUSIONPIPE_KERNEL") or notebook.metadata.get("kernelspec", {}).get(
        "name", "python3"
    )
    client = NotebookClient(
        notebook, kernel_name=kernel, resources={"metadata": {"path": str(Path(source).parent)}}
    )
    try:
        client.execute()
        return 0
    except CellExecutionError as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        print(f"fusionpipe: executed notebook saved to {target}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
