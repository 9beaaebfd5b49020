"""Plot: the points of each slope and the lines fitted through them, saved as one PNG.

This node needs matplotlib, which fusionpipe itself does not: code/requirements.txt declares
it, so the node runs in its own environment (code/.venv), built by uv on its first run. It
gathers the items of the mapped node make data: fusionpipe.parent("make data").items().
"""

import csv
import json

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt

import fusionpipe

fits = json.loads((fusionpipe.parent("fit").data_dir / "fit.json").read_text())

figure, axes = plt.subplots(figsize=(6, 4))
plotted = 0
for item in fusionpipe.parent("make data").items():
    with (item.data_dir / "points.csv").open() as points:
        rows = [(float(row["x"]), float(row["y"])) for row in csv.DictReader(points)]
    fit = fits[item.id]
    xs = [x for x, _ in rows]
    dots = axes.scatter(xs, [y for _, y in rows], s=10, label=f"slope {item.values['slope']}")
    ends = [min(xs), max(xs)]
    axes.plot(
        ends,
        [fit["slope"] * x + fit["intercept"] for x in ends],
        color=dots.get_facecolor()[0],
        label=f"fit: y = {fit['slope']:.2f} x + {fit['intercept']:.2f}",
    )
    plotted += len(rows)
axes.set_xlabel("x")
axes.set_ylabel("y")
axes.legend(fontsize="small")
figure.tight_layout()
figure.savefig(fusionpipe.data_dir() / "fit.png", dpi=100)
print(f"plotted {plotted} points with matplotlib {matplotlib.__version__}")
