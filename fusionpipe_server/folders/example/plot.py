"""Plot: the points and the fitted line, saved as a PNG.

This node needs matplotlib, which fusionpipe itself does not: code/requirements.txt declares
it, so the node runs in its own environment (code/.venv), built by uv on its first run.
"""

import csv
import json

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt

import fusionpipe

with (fusionpipe.parent("make data").data_dir / "points.csv").open() as points:
    rows = [(float(row["x"]), float(row["y"])) for row in csv.DictReader(points)]
fit = json.loads((fusionpipe.parent("fit").data_dir / "fit.json").read_text())

xs = [x for x, _ in rows]
figure, axes = plt.subplots(figsize=(6, 4))
axes.scatter(xs, [y for _, y in rows], s=12, label="data")
ends = [min(xs), max(xs)]
axes.plot(
    ends,
    [fit["slope"] * x + fit["intercept"] for x in ends],
    color="tab:red",
    label=f"fit: y = {fit['slope']:.2f} x + {fit['intercept']:.2f}",
)
axes.set_xlabel("x")
axes.set_ylabel("y")
axes.legend()
figure.tight_layout()
figure.savefig(fusionpipe.data_dir() / "fit.png", dpi=100)
print(f"plotted {len(rows)} points with matplotlib {matplotlib.__version__}")
