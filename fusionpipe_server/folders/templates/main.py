"""This node's code. fusionpipe runs it with code/ as the working folder, once every input
(parent node) has completed. help(fusionpipe) lists everything the node can ask for."""

import fusionpipe

# node_parameters.yaml, as a dict.
parameters = fusionpipe.parameters()
scale = parameters.get("scale", 1.0)
print(f"node {fusionpipe.node_id()} running with {parameters}")

# Inputs: the outputs of the parent nodes, in slot order ("01", "02", ...).
for parent in fusionpipe.parents():
    files = sorted(path.name for path in parent.data_dir.iterdir())
    print(f"input {parent.slot} ({parent.tag}): {files}")
# One input by slot or by tag: fusionpipe.parent("01").data_dir / "result.txt"

# Outputs go to data_dir(); plots and reports to reports_dir().
(fusionpipe.data_dir() / "result.txt").write_text(f"scale was {scale}\n")
