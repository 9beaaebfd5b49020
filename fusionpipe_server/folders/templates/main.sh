#!/usr/bin/env bash
# This node's code, run by bash from code/ once every input (parent node) has completed.
set -euo pipefail
node="${FUSIONPIPE_NODE_FOLDER:-$(cd "$(dirname "$0")/.." && pwd)}"

# The inputs (parents' folders, relative to the data folder) and a JSON copy of
# node_parameters.yaml are in "$node/.fusionpipe-node.json".
echo "node $(basename "$node") running"
cat "$node/code/node_parameters.yaml"

# Outputs go to data/, plots and reports to reports/.
echo done > "$node/data/result.txt"
