"""Sphinx configuration of the fusionpipe documentation site (``make docs`` builds it)."""

from __future__ import annotations

import sys
from pathlib import Path

from fusionpipe_server import __version__

# The project's own extension (docs/_ext/fusionpipe_docs.py): the generated reference pages.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "fusionpipe"
author = "the fusionpipe developers"
copyright = "the fusionpipe developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinxcontrib.httpdomain",
    "fusionpipe_docs",
]
# The reference pages are reStructuredText: their directives write reST (sphinxcontrib-openapi).
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext", "README.md"]

# MyST: anchors for headings down to ####, so that [text](page.md#a-heading) is checked at build
# time (a link to a missing page or heading is a warning, and `make docs` fails on warnings).
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]
nitpicky = True

html_theme = "pydata_sphinx_theme"
html_title = "fusionpipe"
html_static_path = ["_static"]
html_css_files = ["fusionpipe.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "header_links_before_dropdown": 5,
}
html_sidebars: dict[str, list[str]] = {"index": []}

# The link check (`make docs` runs the linkcheck builder after the HTML build): this machine and
# CI have no network, so every external http(s) link is skipped, by this one explicit rule.
# Links between pages and to headings are checked by the HTML build itself (see above).
linkcheck_ignore = [r"^https?://"]
