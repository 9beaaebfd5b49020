"""The graph's business rules: projects, pipelines, nodes, edges and groups, copies (duplicate,
reference, branch, merge, detach), the trash, transfer (export/import) and the example.

``edits`` holds what every graph change shares: loading a graph, refusing a read-only node,
invalidating inputs, refreshing identity files. Imports the core, the store, folders and the
freshness services; never the run engine.
"""
