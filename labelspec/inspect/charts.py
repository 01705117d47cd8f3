"""The report's charts: the stats of one document as inline SVG, drawn with matplotlib (Agg, no display).

matplotlib is the ``report`` extra (``pip install 'labelspec[report]'``); without it the report says so
in place of the charts. Text stays text in the SVG (``svg.fonttype: none``) and ids are seeded, so the
same stats give the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["ChartsUnavailable", "charts"]

_MAX_CLASSES = 30


class ChartsUnavailable(Exception):
    """matplotlib is not installed."""


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def charts(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, inline SVG) of the class histogram, labels per media and box sizes (those with data)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ChartsUnavailable("matplotlib is not installed: pip install 'labelspec[report]'") from None
    out: list[tuple[str, str]] = []
    style: Any = {
        "svg.fonttype": "none",
        "svg.hashsalt": "labelspec",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with plt.rc_context(style):
        classes = sorted(stats["classes"].items(), key=lambda kv: (-kv[1]["labels"], kv[0]))[:_MAX_CLASSES]
        classes = [c for c in classes if c[1]["labels"]]
        if classes:
            figure, axes = plt.subplots(figsize=(4.8, 0.9 + 0.22 * len(classes)))
            names = [name for name, _ in classes][::-1]
            axes.barh(names, [c["labels"] for _, c in classes][::-1], color="#3f51b5")
            axes.set_xlabel("labels")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            more = f" (top {_MAX_CLASSES})" if len(stats["classes"]) > _MAX_CLASSES else ""
            axes.set_title(f"Labels per class{more}")
            out.append(("Labels per class", _svg(figure)))
            plt.close(figure)
        histogram = stats["labels_per_media"]["histogram"]
        if histogram:
            figure, axes = plt.subplots(figsize=(4.2, 2.6))
            axes.bar([int(k) for k in histogram], list(histogram.values()), color="#009688", width=0.8)
            axes.set_xlabel("labels on a media item")
            values = sorted(int(k) for k in histogram)
            if values[-1] - values[0] <= 12:  # few values: a tick under every bar
                axes.set_xticks(range(values[0], values[-1] + 1))
                axes.set_xlim(values[0] - 1, values[-1] + 1)
            else:
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_ylabel("media")
            axes.set_title("Labels per media")
            out.append(("Labels per media", _svg(figure)))
            plt.close(figure)
        boxes = stats["box_sizes"]
        if boxes["boxes"] - boxes["unsized"] > 0:
            figure, axes = plt.subplots(figsize=(4.2, 2.6))
            edges = boxes["bins"]
            axes.bar(edges[:-1], boxes["counts"], width=edges[1] - edges[0], align="edge", color="#ff7043",
                     edgecolor="white")  # fmt: skip
            axes.set_xlabel("box size: sqrt(box area / image area)")
            axes.set_ylabel("boxes")
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_xlim(0, 1)
            axes.set_title("Box sizes")
            out.append(("Box sizes", _svg(figure)))
            plt.close(figure)
    return out
