"""Content fingerprints of nodes: which files count, how they hash, and what a change means."""
