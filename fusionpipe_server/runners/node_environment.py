"""The environment variables node code gets: what a program needs, never the server's secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Passed on by name: where things are, who and where the user is, language and time zone,
# which GPUs, proxies and certificates to reach the network, and the settings of the tools a
# node uses (uv, Python, Jupyter for notebooks, MATLAB/Octave, Ray, Slurm).
_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "HOSTNAME",
        "LD_LIBRARY_PATH",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "JUPYTER_PATH",
        "JUPYTER_DATA_DIR",
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_RUNTIME_DIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_RUNTIME_DIR",
        "MPLBACKEND",
        "MPLCONFIGDIR",
        "FP_MATLAB_RUNNER_PATH",
        "MATLABPATH",
        "OCTAVE_HOME",
        "RAY_ADDRESS",
        "SLURM_CONF",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
    }
)
_PREFIXES = ("LC_", "PYTHON", "UV_", "CUDA_", "NVIDIA_", "OMP_", "MKL_", "OPENBLAS_", "FUSIONPIPE_")

# Refused even when the name or prefix above would pass it: anything that looks like a
# credential. A JupyterHub token or a database password must not reach code any user wrote,
# nor the shared Ray workers it may run on.
_SECRET = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|COOKIE|_KEY$|^KEY_|_KEY_|AUTH|^AWS_|^AZURE_|"
    r"^GOOGLE_|^JPY_|^JUPYTERHUB_|^DATABASE_URL$|^PG",
    re.IGNORECASE,
)


def is_passed(name: str) -> bool:
    """Whether a variable of the server's environment reaches node code."""
    upper = name.upper()
    if _SECRET.search(upper):
        return False
    return upper in _NAMES or upper.startswith(_PREFIXES)


def node_environment(server: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``server`` (the server's own environment) that node code gets."""
    return {name: value for name, value in server.items() if is_passed(name)}
