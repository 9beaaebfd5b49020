"""Where the JupyterLab file browser sees the data folder.

The file browser only shows what lies under the server's root directory. On a shared server the
data folder usually lies elsewhere (``/srv/fusionpipe``) while each user's root is their home,
so "Open folder" and "Open notebook" would have nowhere to go. A symbolic link in the root,
pointing at the data folder, makes it reachable: Jupyter follows links out of its root.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def link_data_folder(root: Path, data_path: Path, link_name: str) -> str | None:
    """The data folder's path relative to ``root`` as the file browser sees it, making the
    link ``root/link_name`` when the folder lies outside the root. None when it cannot be
    seen: linking is turned off (empty ``link_name``) or the name is taken by something else,
    which is never replaced."""
    root, data_path = root.resolve(), data_path.resolve()
    if data_path.is_relative_to(root):
        return data_path.relative_to(root).as_posix()
    if not link_name:
        return None
    link = root / link_name
    if link.is_symlink() and link.resolve() == data_path:
        return link_name
    if link.exists() or link.is_symlink():
        log.warning(
            "fusionpipe: %s exists and is not a link to the data folder %s: Open folder and "
            "Open notebook cannot reach node folders (set FusionpipeApp.data_link to another "
            "name, or remove it)",
            link,
            data_path,
        )
        return None
    try:
        os.symlink(data_path, link, target_is_directory=True)
    except OSError as err:
        log.warning("fusionpipe: cannot link the data folder into %s: %s", root, err)
        return None
    return link_name


def lab_path(data_prefix: str | None, folder: str) -> str | None:
    """A node folder (relative to the data folder) as a file-browser path."""
    if data_prefix is None:
        return None
    return f"{data_prefix}/{folder}" if data_prefix not in ("", ".") else folder
