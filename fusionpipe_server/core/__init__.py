"""The pure core: rules with no I/O, so each is tested alone and called from any layer.

The graph's rules (``dag``: cycles, descendants, order, slots, copies), what is up to date
(``planning``), automatic layout (``layout``) and the pipeline file format (``pipeline_file``).
Imports only the vocabulary (``models``, ``errors``) and the standard library.
"""
