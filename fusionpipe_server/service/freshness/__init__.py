"""Whether outputs are current: staleness from content (fingerprints, reasons, early cutoff),
the output cache that keeps replaced outputs to restore them, and provenance (which runs and
inputs made a node's outputs). Imports the core, the store, folders and fingerprint.
"""
