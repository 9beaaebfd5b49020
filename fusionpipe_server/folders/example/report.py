"""Report: one HTML page with the fitted numbers and the plot, in reports/report.html.

Open it from this node's folder (inspector: Open folder, then reports/).
"""

import base64
import html
import json

import fusionpipe

fit = json.loads((fusionpipe.parent("fit").data_dir / "fit.json").read_text())
image = base64.b64encode((fusionpipe.parent("plot").data_dir / "fit.png").read_bytes()).decode()
rows = "".join(
    f"<tr><th>{html.escape(name)}</th><td>{value:.4g}</td></tr>"
    for name, value in fit.items()
    if isinstance(value, (int, float))
)
page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Linear fit report</title></head>
<body style="font-family: sans-serif">
<h1>Linear fit</h1>
<table>{rows}</table>
<img alt="the points and the fitted line" src="data:image/png;base64,{image}">
</body></html>
"""
(fusionpipe.reports_dir() / "report.html").write_text(page)
(fusionpipe.data_dir() / "summary.json").write_text(json.dumps(fit, indent=1))
print(f"report written: slope {fit['slope']:.3f}, r^2 {fit['r_squared']:.3f}")
