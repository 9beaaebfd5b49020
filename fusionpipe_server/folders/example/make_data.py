"""Make data: noisy points around a straight line, y = slope * x + intercept + noise.

The numbers come from this node's parameters (code/node_parameters.yaml, editable in the
inspector). Change one and the nodes downstream turn stale: run the pipeline again.
"""

import csv
import random

import fusionpipe

parameters = fusionpipe.parameters()
count = max(int(parameters["points"]), 2)
# Seeded, so that a run gives the same points again (and the nodes below need not re-run).
random_numbers = random.Random(parameters["seed"])  # noqa: S311 (simulated data, not secrets)

with (fusionpipe.data_dir() / "points.csv").open("w", newline="") as output:
    writer = csv.writer(output)
    writer.writerow(["x", "y"])
    for index in range(count):
        x = 10 * index / (count - 1)
        y = parameters["slope"] * x + parameters["intercept"]
        writer.writerow([round(x, 4), round(y + random_numbers.gauss(0, parameters["noise"]), 4)])

print(f"wrote {count} points around y = {parameters['slope']} x + {parameters['intercept']}")
