"""Entry point of this node: fusionpipe runs it with code/ as the working folder.

Write outputs under fusionpipe.data_dir(); read your inputs from the parents' data folders.
"""

import fusionpipe

parameters = fusionpipe.parameters()
print(f"node {fusionpipe.node_id()} running with parameters {parameters}")

for parent in fusionpipe.parents():
    files = sorted(path.name for path in parent.data_dir.iterdir())
    print(f"input {parent.slot} from {parent.tag!r}: {files}")

# Example: write a result for the nodes downstream.
(fusionpipe.data_dir() / "result.txt").write_text("done\n")
