"""Report: one HTML page with the fitted numbers of each slope and the plot, in
reports/report.html.

Open it from this node's folder (inspector: Open folder, then reports/).
"""

import base64
import html
import json

import fusionpipe

fits = json.loads((fusionpipe.parent("fit").data_dir / "fit.json").read_text())
image = base64.b64encode((fusionpipe.parent("plot").data_dir / "fit.png").read_bytes()).decode()
names = ["true_slope", "slope", "intercept", "r_squared", "residual_stdev", "points"]
header = "".join(f"<th>{html.escape(name)}</th>" for name in ["item", *names])
rows = "".join(
    f"<tr><th>{html.escape(item_id)}</th>"
    + "".join(f"<td>{fit[name]:.4g}</td>" for name in names)
    + "</tr>"
    for item_id, fit in fits.items()
)
page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Linear fit report</title></head>
<body style="font-family: sans-serif">
<h1>Linear fit, one line per slope</h1>
<table><tr>{header}</tr>{rows}</table>
<img alt="the points and the fitted lines" src="data:image/png;base64,{image}">
</body></html>
"""
(fusionpipe.reports_dir() / "report.html").write_text(page)
(fusionpipe.data_dir() / "summary.json").write_text(json.dumps(fits, indent=1))
for item_id, fit in fits.items():
    print(f"report written: slope {fit['slope']:.3f} for {item_id}, r^2 {fit['r_squared']:.3f}")
