#!/usr/bin/env bash
# Entry point of this node: run with code/ as the working folder.
# FUSIONPIPE_NODE_FOLDER is this node's folder; write outputs to its data/ folder.
set -euo pipefail
echo "node $FUSIONPIPE_NODE_ID running in $FUSIONPIPE_NODE_FOLDER"
echo done > "$FUSIONPIPE_NODE_FOLDER/data/result.txt"
