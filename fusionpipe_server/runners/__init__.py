"""Execution backends: each runs one node's command and can kill its whole process tree."""
