"""``labelspec report``: one self-contained HTML file to look at exports with.

Per document: the verdict (format, profile), the findings grouped by rule with the rule's rationale, the
stats as figures and charts, and a gallery of media with their labels drawn on them. The gallery shows
media with findings first (in document order), then a seeded random sample of the others (reservoir
sampling, so the export is read once, item by item). Each picture links to its findings.

The page carries stable hooks for tools and tests: ``data-stat`` on the figures of :mod:`stats`,
``data-class`` rows in the class table, ``figure.media`` with ``data-labels`` per picture and one
``.label`` element per drawn label, ``tr.finding`` with an ``id`` per finding shown.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from labelspec.convert.model import Annotation, Category, MediaItem
from labelspec.inspect.source import Chunk, Document, InspectError, Options, item_of_pointer, media_of_pointer
from labelspec.inspect.stats import FileStats

__all__ = ["build_report", "render"]

_SHOWN_PER_RULE = 10


@dataclass
class Shown:
    """A gallery entry: the media item, its labels and the indexes of its findings."""

    item: MediaItem
    annotations: list[Annotation]
    findings: list[int]
    categories: dict[str, Category]


@dataclass
class DocumentReport:
    name: str
    format: str | None
    profile: str
    valid: bool | None
    findings: list[Any] = field(default_factory=list)
    stats: FileStats | None = None
    error: str | None = None
    gallery: list[Shown] = field(default_factory=list)
    categories: dict[str, Category] = field(default_factory=dict)


def _findings_by_place(
    document: Document, findings: list[Any]
) -> tuple[dict[int, list[int]], dict[str, list[int]]]:
    """Finding indexes by item index and by media id (for formats read whole)."""
    by_item: dict[int, list[int]] = {}
    by_media: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        item = item_of_pointer(finding.pointer, document.container) if document.context >= 0 else None
        if item is not None and document.format in ("encord", "datagym", "segments"):
            by_item.setdefault(item, []).append(index)
            continue
        media = media_of_pointer(document.format, document.raw_whole, finding.pointer)
        if media is not None:
            by_media.setdefault(media, []).append(index)
    return by_item, by_media


def _walk(
    document: Document, findings: list[Any], samples: int, seed: int, stats: FileStats
) -> tuple[list[Shown], dict[str, Category]]:
    """Read the document once: stats, the media with findings (first ``samples``) and a reservoir sample."""
    by_item, by_media = _findings_by_place(document, findings)
    flagged: list[Shown] = []
    reservoir: list[Shown] = []
    seen = 0
    rng = random.Random(seed)
    categories: dict[str, Category] = {}
    chunk: Chunk
    for chunk in document.chunks:
        stats.add(chunk, document)
        dataset = chunk.dataset
        for category in dataset.categories:
            categories.setdefault(category.id, category)
        labels: dict[str, list[Annotation]] = {}
        for annotation in dataset.annotations:
            labels.setdefault(annotation.media_id, []).append(annotation)
        for item in dataset.media:
            own = by_media.get(item.id, []) + (by_item.get(chunk.item, []) if chunk.item is not None else [])
            if own:
                if len(flagged) < samples:
                    flagged.append(Shown(item, labels.get(item.id, []), sorted(set(own)), categories))
                continue
            seen += 1
            entry = Shown(item, labels.get(item.id, []), [], categories)
            if len(reservoir) < samples:
                reservoir.append(entry)
            else:
                slot = rng.randrange(seen)
                if slot < samples:
                    reservoir[slot] = entry
    room = max(0, samples - len(flagged))
    return flagged + reservoir[:room], categories


def _validate(path: str, options: Options, profile: str) -> dict[str, Any]:
    """Validation reports of the input, by document name."""
    from labelspec.validator.api import validate

    report = validate(path, format=options.format, profile=profile, ontology=options.ontology)
    return {f.path: f for f in report.files}


def collect(
    paths: list[str], options: Options, samples: int, seed: int, profile: str
) -> list[DocumentReport]:
    reports: list[DocumentReport] = []
    for path in paths:
        validations = _validate(path, options, profile)
        try:
            documents = list(iter_documents_safe(path, options))
        except InspectError as exc:
            reports.append(DocumentReport(str(path), options.format, profile, None, error=str(exc)))
            continue
        for document in documents:
            verdict = validations.get(document.name) or (
                next(iter(validations.values())) if len(validations) == 1 else None
            )
            findings = list(verdict.findings) if verdict is not None else []
            entry = DocumentReport(
                document.name,
                document.format or (verdict.format if verdict is not None else None),
                profile,
                verdict.valid if verdict is not None else None,
                findings,
                error=document.error,
            )
            entry.stats = FileStats(document.name, document.format, document.error)
            if document.error is None:
                entry.gallery, entry.categories = _walk(document, findings, samples, seed, entry.stats)
            reports.append(entry)
    return reports


def iter_documents_safe(path: str, options: Options) -> list[Document]:
    from labelspec.inspect.source import iter_documents

    return list(iter_documents(path, options))


def _rule_info(format_id: str | None) -> dict[str, Any]:
    from labelspec.validator.rules import all_rules

    try:
        return {spec.id: spec for spec in all_rules(format_id)} if format_id else {}
    except Exception:  # an unknown format id: no catalogue to cite
        return {}


def _finding_row(index: int, number: int, finding: Any) -> str:
    esc = html.escape
    return (
        f'<tr class="finding" id="f{index}-{number}"><td><code>{esc(finding.pointer or "/")}</code></td>'
        f'<td class="sev-{finding.severity}">{finding.severity}</td><td>{esc(finding.message)}</td></tr>'
    )


def _findings_html(index: int, entry: DocumentReport, gallery_findings: set[int]) -> str:
    esc = html.escape
    if not entry.findings:
        return "<p>No findings.</p>"
    groups: dict[str, list[int]] = {}
    for number, finding in enumerate(entry.findings):
        groups.setdefault(finding.rule, []).append(number)
    rules = _rule_info(entry.format)
    parts = []
    for rule_id, numbers in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        first = entry.findings[numbers[0]]
        spec = rules.get(rule_id)
        if spec is not None:
            title, rationale = spec.title, spec.rationale
        elif rule_id.startswith("schema."):
            keyword = rule_id.split(".", 1)[1]
            title = f"does not match the {entry.format} JSON Schema ({keyword})"
            rationale = (
                f"The document breaks the '{keyword}' keyword of the {entry.format} specification "
                f"({entry.profile} profile); see the format's reference page."
            )
        else:
            title, rationale = rule_id, ""
        shown = [n for k, n in enumerate(numbers) if k < _SHOWN_PER_RULE or n in gallery_findings]
        rows = "".join(_finding_row(index, n, entry.findings[n]) for n in shown)
        hidden = len(numbers) - len(shown)
        more = f"<p class='muted'>… and {hidden} more</p>" if hidden else ""
        parts.append(
            f'<details open class="rule" id="rule{index}-{esc(rule_id)}" data-rule="{esc(rule_id)}" '
            f'data-count="{len(numbers)}"><summary><b>{esc(rule_id)}</b> '
            f'<span class="sev-{first.severity}">{first.severity}</span> × {len(numbers)}: '
            f"{esc(title)}</summary>"
            f'<p class="rationale">{esc(rationale)}</p>'
            f"<table><tr><th>pointer</th><th>severity</th><th>message</th></tr>{rows}</table>{more}</details>"
        )
    return "".join(parts)


def _stats_html(index: int, stats: dict[str, Any]) -> str:
    esc = html.escape
    per = stats["labels_per_media"]
    cards = [
        ("media", "media", stats["media"]),
        ("labels", "labels", stats["labels"]),
        ("classes", "classes", len(stats["classes"])),
        ("classifications", "classifications", stats["classifications"]),
    ]
    if per["min"] is not None:
        cards += [("median", "labels per media (median)", f"{per['median']:g}")]
    body = "".join(
        f'<div class="card"><b data-stat="{key}">{esc(str(value))}</b>{esc(title)}</div>'
        for key, title, value in cards
    )
    rows = "".join(
        f'<tr data-class="{esc(name)}"><td>{esc(name)}</td>'
        f'<td class="num" data-stat="class-labels">{c["labels"]}</td>'
        f'<td class="num" data-stat="class-media">{c["media"]}</td></tr>'
        for name, c in sorted(stats["classes"].items(), key=lambda kv: (-kv[1]["labels"], kv[0]))
    )
    head = "<tr><th>class</th><th>labels</th><th>media</th></tr>"
    table = f'<table class="classes">{head}{rows}</table>' if rows else ""
    facets = []
    for title, key in (("Geometries", "geometries"), ("Statuses", "statuses"), ("Data types", "data_types"),
                       ("Labelsets", "labelsets"), ("Image sizes", "image_sizes")):  # fmt: skip
        if stats[key]:
            values = ", ".join(f"{esc(k)}: {v}" for k, v in stats[key].items())
            facets.append(f"<tr><th>{title}</th><td>{values}</td></tr>")
    for name, answers in list(stats["attributes"].items())[:40]:
        values = ", ".join(f"{esc(k)}: {v}" for k, v in list(answers.items())[:12])
        facets.append(f"<tr><th>attribute {esc(name)}</th><td>{values}</td></tr>")
    facet_table = f"<table>{''.join(facets)}</table>" if facets else ""
    return f'<div class="cards">{body}</div>{table}{facet_table}'


def _charts_html(stats: dict[str, Any]) -> str:
    from labelspec.inspect.charts import ChartsUnavailable, charts

    try:
        drawn = charts(stats)
    except ChartsUnavailable as exc:
        return f"<p class='muted'>No charts: {html.escape(str(exc))}</p>"
    return (
        '<div class="charts">'
        + "".join(f'<div class="chart" data-chart="{html.escape(title)}">{svg}</div>' for title, svg in drawn)
        + "</div>"
    )


def _gallery_html(index: int, entry: DocumentReport, options: Options) -> str:
    from labelspec.convert.api import default_cache_dir
    from labelspec.inspect.gallery import draw, legend, load_picture

    if not entry.gallery:
        return "<p>No media to show.</p>"
    esc = html.escape
    cache = options.cache_dir or default_cache_dir()
    figures = []
    used: dict[str, int] = {}
    for shown in entry.gallery:
        picture = load_picture(shown.item, options.media_dir, cache, options.offline)
        svg = draw(shown.item, shown.annotations, shown.categories, picture)
        for annotation in shown.annotations:
            category = shown.categories.get(annotation.category_id)
            name = category.name if category is not None else annotation.category_id
            used[name] = used.get(name, 0) + 1
        links = " ".join(
            f'<a href="#f{index}-{n}" class="finding-link">{esc(entry.findings[n].rule)}</a>'
            for n in shown.findings
        )
        flagged = " has-findings" if shown.findings else ""
        caption = (
            f"{esc(shown.item.file_name)} · {len(shown.annotations)} label(s)"
            + (f"<br>findings: {links}" if links else "")
            + (f"<br><span class='missing'>{esc(picture.missing)}</span>" if picture.missing else "")
        )
        figures.append(
            f'<figure class="media{flagged}" data-media-id="{esc(shown.item.id)}" '
            f'data-labels="{len(shown.annotations)}" data-findings="{len(shown.findings)}" '
            f'data-picture="{"yes" if picture.uri else "no"}">{svg}'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return legend(entry.categories, used) + f'<div class="gallery">{"".join(figures)}</div>'


def render(reports: list[DocumentReport], options: Options, *, samples: int, seed: int) -> str:
    from labelspec import __version__
    from labelspec.inspect.page import page

    esc = html.escape
    summary_rows = []
    sections = []
    for index, entry in enumerate(reports):
        if entry.valid is None:
            verdict = "unreadable" if entry.error else "not validated"
        else:
            verdict = "valid" if entry.valid else "invalid"
        errors = sum(1 for f in entry.findings if f.severity == "error")
        warnings = len(entry.findings) - errors
        summary_rows.append(
            f'<tr data-document="{index}"><td><a href="#doc{index}">{esc(entry.name)}</a></td>'
            f"<td>{esc(str(entry.format))}</td><td>{esc(entry.profile)}</td>"
            f'<td class="verdict-{verdict.split()[0]}" data-verdict="{verdict}">{verdict}</td>'
            f'<td class="num" data-stat="errors">{errors}</td>'
            f'<td class="num" data-stat="warnings">{warnings}</td></tr>'
        )
        stats = entry.stats.to_json() if entry.stats is not None else None
        gallery_findings = {n for shown in entry.gallery for n in shown.findings}
        parts = [
            f'<section class="document" id="doc{index}" data-document="{index}"><h2>{esc(entry.name)}</h2>'
        ]
        if entry.error:
            parts.append(f'<p class="verdict-unreadable">Could not be read: {esc(entry.error)}</p>')
        parts.append(
            f'<h3 id="findings{index}">Findings</h3>' + _findings_html(index, entry, gallery_findings)
        )
        if stats is not None and entry.error is None:
            parts.append(
                f'<h3>What is in it</h3><div class="stats" data-document="{index}">'
                f"{_stats_html(index, stats)}</div>"
            )
            parts.append(f"<h3>Charts</h3>{_charts_html(stats)}")
            parts.append(
                f'<h3 id="gallery{index}">Gallery</h3><p class="muted">Media with findings first, then a '
                f"random sample (seed {seed}, up to {samples} pictures).</p>"
                + _gallery_html(index, entry, options)
            )
        parts.append("</section>")
        sections.append("".join(parts))
    body = (
        f'<header id="summary"><h1>labelspec report</h1><p class="muted">labelspec {esc(__version__)}; '
        f"{len(reports)} document(s)</p>"
        '<table class="verdicts"><tr><th>document</th><th>format</th><th>profile</th><th>verdict</th>'
        f"<th>errors</th><th>warnings</th></tr>{''.join(summary_rows)}</table></header>" + "".join(sections)
    )
    return page("labelspec report", body)


def build_report(
    paths: list[str],
    out: Path,
    options: Options,
    *,
    samples: int = 24,
    seed: int = 0,
    profile: str = "lenient",
    force: bool = False,
    log: TextIO,
) -> int:
    """Write the report; exit code 0, or 2 when an input could not be read or the output not written."""
    from labelspec.convert.atomic import OutputExistsError, write_bytes

    if out.exists() and not force:
        log.write(f"labelspec report: error: {out} exists; pass --force to overwrite it\n")
        return 2
    reports = collect(paths, options, samples, seed, profile)
    text = render(reports, options, samples=samples, seed=seed)
    try:
        write_bytes(out, text.encode("utf-8"), force=force)
    except (OutputExistsError, OSError) as exc:
        log.write(f"labelspec report: error: cannot write {out}: {exc}\n")
        return 2
    shown = sum(len(r.gallery) for r in reports)
    log.write(f"labelspec report: {len(reports)} document(s), {shown} picture(s) -> {out}\n")
    return 2 if any(r.error for r in reports) else 0
