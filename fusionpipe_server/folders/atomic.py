"""Files replaced in one rename, so a reader sees the old content or the new one, never half."""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

# What hidden_sibling names look like: what a killed server may leave behind.
HIDDEN_SIBLING = re.compile(r"^\..+\.(new|trash|tmp)-[0-9a-f]{8}$")


def hidden_sibling(path: Path, purpose: str) -> Path:
    """A hidden, unused name next to ``path``: same file system, so renaming it is atomic."""
    return path.with_name(f".{path.name}.{purpose}-{secrets.token_hex(4)}")


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one rename; on failure the old file is untouched and
    no temporary file is left behind."""
    # Imported here: permissions imports this module back (through identity).
    from .permissions import closed_to_others

    temporary = hidden_sibling(path, "tmp")
    try:
        with open(temporary, "xb", opener=closed_to_others) as stream:
            stream.write(content)
        if path.exists():
            # The new inode would otherwise get the umask's mode and lose, for instance, the
            # group write bit that lets colleagues edit the file in a shared data folder.
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def holds(path: Path, content: bytes) -> bool:
    """Whether ``path`` already holds exactly ``content``: a rewrite can be spared (a run
    refreshes every node's identity file, which rarely changes)."""
    try:
        if path.stat().st_size != len(content):
            return False
        return path.read_bytes() == content
    except OSError:
        return False
