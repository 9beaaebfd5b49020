"""Speed measurements of SPEC §6, each printed next to a floor measured in the same run."""
