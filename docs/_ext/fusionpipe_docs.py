"""Sphinx directives that build the reference pages from the code, so that they cannot go stale.

- ``fusionpipe-openapi``: the REST reference, rendered by sphinxcontrib-openapi from the document
  the server itself serves (``fusionpipe_server.handlers.openapi.document()``), which the build
  also writes to ``docs/_build/generated/openapi.json`` for download.
- ``fusionpipe-settings``: every setting of every traitlets Configurable in ``fusionpipe_server``
  (found by walking the package, so a new runner's settings appear by themselves), as Sphinx
  ``confval`` entries that the guides link to with ``{confval}``.
- ``screenshot``: a picture the browser tests take (``ui-tests/screenshots/``, not committed).
  Before the specs have run it shows a note saying how to take it; with
  ``FUSIONPIPE_DOCS_SCREENSHOTS=required`` (CI, after the tests) a missing one is an error. A
  name no spec writes is always an error.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.openapi import openapi31, utils
from traitlets import HasTraits, TraitType
from traitlets.config import Configurable

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "ui-tests" / "screenshots"
SPECS = ROOT / "ui-tests" / "tests"


def openapi_document() -> dict[str, Any]:
    from fusionpipe_server.handlers.openapi import document

    return document()


class OpenAPIDirective(SphinxDirective):
    """The REST reference, one entry per route and verb, from the server's own document."""

    def run(self) -> list[nodes.Node]:
        for module in ("api_paths", "api_node_paths", "api_schemas", "openapi"):
            self.env.note_dependency(str(ROOT / "fusionpipe_server" / "handlers" / f"{module}.py"))
        container = nodes.section()
        container.document = self.state.document
        lines = StringList(openapi_rst(openapi_document()), source="fusionpipe-openapi")
        self.state.nested_parse(lines, self.content_offset, container)
        return list(container.children)


def openapi_rst(document: dict[str, Any]) -> list[str]:
    """The document as sphinxcontrib-httpdomain reST, written by sphinxcontrib-openapi."""
    for item in document["paths"].values():
        # A parameter with no description of its own is written as an unfinished field.
        for parameter in item.get("parameters", []):
            parameter.setdefault("description", parameter["schema"].get("description", "an id"))
    # The renderer resolves the document's "#/components/..." references against this URI.
    options = {"uri": "file://openapi.json", "request": True}
    utils.normalize_spec(document, **options)
    lines: list[str] = []
    for line in openapi31.openapihttpdomain(document, **options):
        # It starts a request body's heading right after the parameters' field list, which
        # reST reads as the list ending without a blank line.
        if line.strip() == "**Request body:**" and lines and lines[-1].strip():
            lines.append("")
        lines.append(line)
    return lines


def _configurables() -> list[type[Configurable]]:
    """Every Configurable class defined in fusionpipe_server that has settings of its own."""
    import fusionpipe_server

    found: dict[str, type[Configurable]] = {}
    for module_info in pkgutil.walk_packages(fusionpipe_server.__path__, "fusionpipe_server."):
        if module_info.name.endswith("__main__"):
            continue  # running it prints the OpenAPI document
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Configurable)
                and cls.__module__ == module.__name__
                and cls.class_own_traits(config=True)
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def _default(cls: type[HasTraits], name: str, trait: TraitType[Any, Any]) -> str:
    # A default computed by a method of the class (traitlets' @default) depends on where the
    # server runs: its help text says how it is found.
    if name in cls._trait_default_generators:
        return "computed when the server starts (see the description)"
    return trait.default_value_repr()


def _help(trait: TraitType[Any, Any]) -> list[str]:
    return inspect.cleandoc(trait.help or "(no description)").splitlines()


def settings_rst(cls: type[HasTraits]) -> list[str]:
    """One class's settings as ``confval`` entries, in the order of their names."""
    lines = [f"``{cls.__module__}.{cls.__qualname__}``", ""]
    own = cls.class_own_traits(config=True)
    for name in sorted(own):
        trait = own[name]
        lines += [
            f".. confval:: {cls.__name__}.{name}",
            f"   :type: ``{type(trait).__name__}``",
            f"   :default: ``{_default(cls, name, trait)}``",
            "",
        ]
        # The help texts quote names with single backquotes, which reST reads as references.
        lines += [f"   {line.strip().replace('`', '``')}" for line in _help(trait)]
        lines.append("")
    return lines


class SettingsDirective(SphinxDirective):
    """The settings reference: a section per class, each setting's type, default and help."""

    def run(self) -> list[nodes.Node]:
        sections: list[nodes.Node] = []
        for cls in _configurables():
            self.env.note_dependency(inspect.getfile(cls))
            section = nodes.section(ids=[nodes.make_id(cls.__name__)])
            section += nodes.title(text=cls.__name__)
            lines = StringList(settings_rst(cls), source="fusionpipe-settings")
            self.state.nested_parse(lines, self.content_offset, section)
            sections.append(section)
        return sections


def _taken_by(name: str) -> list[str]:
    """The browser specs that save a screenshot under this name."""
    pattern = re.compile(rf"['\"]screenshots/{re.escape(name)}['\"]")
    return sorted(spec.name for spec in SPECS.glob("*.spec.ts") if pattern.search(spec.read_text()))


class ScreenshotDirective(SphinxDirective):
    """A figure of a screenshot the browser tests take; its content is the caption."""

    required_arguments = 1
    has_content = True

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if not self.content:
            raise self.error(f"screenshot {name}: say what it shows (the directive's content)")
        where = self.get_location()
        specs = _taken_by(name)
        for spec in specs:
            self.env.note_dependency(str(SPECS / spec))
        if not specs:
            logger.warning(
                "screenshot %s: no spec in ui-tests/tests saves it", name, location=where
            )
        shows = " ".join(line.strip() for line in self.content)
        taken = " and ".join(f"``ui-tests/tests/{spec}``" for spec in specs) or "no spec"
        source = SCREENSHOTS / name
        if not source.is_file():
            if os.environ.get("FUSIONPIPE_DOCS_SCREENSHOTS") == "required":
                logger.warning("screenshot %s: not in ui-tests/screenshots", name, location=where)
            note = nodes.note()
            text = (
                f"A screenshot goes here: {shows}. The browser tests take it ({taken}, as "
                f"``{name}``): run ``make test-ui``, then ``make docs`` again."
            )
            note += nodes.paragraph("", "", *self.state.inline_text(text, self.lineno)[0])
            return [note]
        self.env.note_dependency(str(source))
        docdir = Path(self.env.srcdir, self.env.docname).parent
        figure = nodes.figure(classes=["fusionpipe-screenshot"])
        # A width makes Sphinx link the picture to itself at full size (html_scaled_image_link):
        # a whole lab window, shrunk to the page, is worth a click.
        figure += nodes.image(uri=os.path.relpath(source, docdir), alt=shows, width="100%")
        caption = self.state.inline_text(f"{shows} (taken by {taken})", self.lineno)[0]
        figure += nodes.caption("", "", *caption)
        return [figure]


# Where the build writes the document for download (the reference links it with :download:).
GENERATED_OPENAPI = Path("_build") / "generated" / "openapi.json"


def write_openapi(app: Sphinx) -> None:
    """The document the REST reference is rendered from, written afresh by every build."""
    target = Path(app.srcdir) / GENERATED_OPENAPI
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("fusionpipe-openapi", OpenAPIDirective)
    app.add_directive("fusionpipe-settings", SettingsDirective)
    app.add_directive("screenshot", ScreenshotDirective)
    app.connect("builder-inited", write_openapi)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
