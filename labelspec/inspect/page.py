"""The HTML shell of the pages ``report`` and ``diff --output html`` write: one file, inline CSS only.

Nothing is loaded from anywhere (no fonts, scripts or stylesheets from the network), so the page works
from ``file://`` offline; a Content-Security-Policy that forbids every fetch says so to the browser.
"""

from __future__ import annotations

import html

__all__ = ["CSS", "page"]

CSS = """
:root { --fg: #1d2330; --muted: #5b6477; --line: #d9dde6; --bad: #b3261e; --warn: #8a5a00; --ok: #1e6b34; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
code { font: 12px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f7; padding: 0 3px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict-valid { color: var(--ok); font-weight: 600; }
.verdict-invalid { color: var(--bad); font-weight: 600; }
.verdict-unreadable { color: var(--bad); font-weight: 600; }
.sev-error { color: var(--bad); } .sev-warning { color: var(--warn); }
tr.added td { background: #eaf6ec; } tr.removed td { background: #fbeceb; }
tr.changed td { background: #fdf6e3; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 4px; max-width: 100%; }
.chart svg { display: block; max-width: 100%; height: auto; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px;
           align-items: start; }
figure.media { margin: 0; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
figure.media.has-findings { border-color: var(--bad); box-shadow: 0 0 0 1px var(--bad); }
figure.media svg.view { display: block; width: 100%; height: auto; background: #eceef2; }
figure.media figcaption { padding: 6px 8px; font-size: 12px; color: var(--muted); word-break: break-all; }
figure.media figcaption a { color: var(--bad); }
.placeholder-text { font: 600 13px system-ui, sans-serif; fill: #5b6477; }
.legend span { display: inline-block; margin: 0 10px 4px 0; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px;
            vertical-align: -1px; }
details { margin: 4px 0 10px; } summary { cursor: pointer; }
.rationale { color: var(--muted); max-width: 900px; }
.muted { color: var(--muted); }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already escaped HTML)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
