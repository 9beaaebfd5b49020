"""The original fusionpipe's node API (``fp_user_utils``), answered from this fusionpipe's
identity file so that imported node code runs unchanged. New code should use ``fusionpipe``.

``matlab_path()`` is the folder of the MATLAB/Octave helpers with the original's names; node
runs export it as ``USER_UTILS_FOLDER_PATH``, as the original's nodes expect.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["matlab_path"]


def matlab_path() -> Path:
    """The folder of the original's MATLAB helpers (``get_current_node_id.m``...)."""
    return Path(__file__).parent / "matlab_user_utils"
