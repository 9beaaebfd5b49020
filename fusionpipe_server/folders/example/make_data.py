"""Make data: noisy points around a straight line, y = slope * x + intercept + noise.

A mapped node: it runs once per slope listed under map: in its parameters, and each run (an
item) writes to its own folder, fusionpipe.data_dir(). The other numbers come from this node's
parameters (code/node_parameters.yaml, editable in the inspector). Change one and the nodes
downstream turn stale: run the pipeline again.
"""

import csv
import random
import statistics

import fusionpipe

parameters = fusionpipe.parameters()  # the node's parameters, with this item's slope
slope = fusionpipe.item()["slope"]
count = max(int(parameters["points"]), 2)
# Seeded, so that a run gives the same points again (and the nodes below need not re-run),
# and by slope too, so that each item draws noise of its own.
seed = f"{parameters['seed']}/{slope}"
random_numbers = random.Random(seed)  # noqa: S311 (simulated data, not secrets)

noise = [random_numbers.gauss(0, parameters["noise"]) for _ in range(count)]
with (fusionpipe.data_dir() / "points.csv").open("w", newline="") as output:
    writer = csv.writer(output)
    writer.writerow(["x", "y"])
    for index in range(count):
        x = 10 * index / (count - 1)
        writer.writerow([round(x, 4), round(slope * x + parameters["intercept"] + noise[index], 4)])

# Scalar results, kept per item: the compare view puts them side by side.
fusionpipe.metrics(points=count, noise_drawn=statistics.stdev(noise))
print(f"wrote {count} points around y = {slope} x + {parameters['intercept']}")
