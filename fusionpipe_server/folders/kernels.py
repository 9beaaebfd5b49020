"""A Jupyter kernel per node, registered by writing its kernel spec where every fusionpipe server
looks: ``<data_path>/.fusionpipe/kernels``. Every user of the data folder can pick it, with no
``ipykernel install`` step; it runs on the node's own environment when the node has one, and
knows its node through ``FUSIONPIPE_NODE_FOLDER``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .atomic import holds
from .node_folders import hidden_sibling
from .permissions import closed_to_others, make_folder

PREFIX = "fusionpipe-"


def kernels_dir(data_path: Path) -> Path:
    return Path(data_path) / ".fusionpipe" / "kernels"


def kernel_name(node_id: str) -> str:
    return f"{PREFIX}{node_id}"


def node_python(folder: Path) -> str:
    """The node's own interpreter when it has an environment, else the server's."""
    own = folder / "code" / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def write_kernelspec(data_path: Path, node_id: str, tag: str, folder: Path) -> Path:
    spec = {
        "argv": [node_python(folder), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"fusionpipe: {tag} ({node_id})",
        "language": "python",
        "env": {"FUSIONPIPE_NODE_FOLDER": str(folder), "FUSIONPIPE_NODE_ID": node_id},
        "metadata": {"fusionpipe": {"node_id": node_id}, "debugger": True},
    }
    target = kernels_dir(data_path) / kernel_name(node_id)
    content = json.dumps(spec, indent=1).encode()
    if holds(target / "kernel.json", content):
        return target
    make_folder(target, parents=True, exist_ok=True)
    temporary = hidden_sibling(target / "kernel.json", "tmp")
    with open(temporary, "xb", opener=closed_to_others) as stream:
        stream.write(content)
    temporary.replace(target / "kernel.json")
    return target


def remove_kernelspec(data_path: Path, node_id: str) -> None:
    shutil.rmtree(kernels_dir(data_path) / kernel_name(node_id), ignore_errors=True)
