"""The audit: every error of every format and profile says why it is one (labelspec.audit)."""

from __future__ import annotations

from pathlib import Path

import pytest

import labelspec
from labelspec import audit, docsite
from labelspec.validator.compiler import PROFILES, list_formats, load_format_yaml

# Errors whose audit entry is still being written; none are left, and the list may only shrink.
PENDING = Path(__file__).with_name("audit_pending.txt")


def _pending() -> set[str]:
    if not PENDING.exists():
        return set()
    return {line.strip() for line in PENDING.read_text().splitlines() if line.strip()}


@pytest.mark.parametrize("fmt", list_formats())
def test_every_error_is_audited(fmt: str) -> None:
    missing = [m for m in audit.unaudited(fmt) if m not in _pending()]
    assert not missing, (
        "errors without an audit entry (schemas/<format>/audit.yaml or the rule's `audit:`):\n"
        + "\n".join(missing)
    )


def test_pending_entries_are_really_pending() -> None:
    """A pending line whose error now has an answer (or no longer exists) must be removed from the list."""
    stale = _pending() - set(audit.unaudited())
    assert not stale, f"remove from {PENDING.name}: {sorted(stale)}"


@pytest.mark.parametrize("fmt", list_formats())
def test_every_audit_entry_answers_for_something(fmt: str) -> None:
    ids = {profile: {s.id for s in audit.sites(fmt, profile)} for profile in PROFILES}
    for entry in load_format_yaml(fmt, "audit.yaml") or []:
        assert set(entry) <= {"constraints", *PROFILES}, entry
        assert any(entry.get(p) for p in PROFILES), f"entry with no reason: {entry['constraints']}"
        for pattern in entry["constraints"]:
            glob = audit._glob(pattern)
            profiles = [p for p in PROFILES if entry.get(p)]
            assert any(glob.match(i) for p in profiles for i in ids[p]), f"{fmt}: {pattern!r} matches nothing"


def test_sites_name_what_the_schema_demands() -> None:
    """Computed independently from the schema text: the COCO image needs an integer id and a file name."""
    by_id = {s.id: s for s in audit.sites("coco-instance", "lenient")}
    assert by_id["image.id type"].value == "integer"
    assert by_id["image required"].value == ["id", "file_name"]
    assert "image required" in {s.id for s in audit.sites("coco-instance", "strict")}
    strict_required = next(s for s in audit.sites("coco-instance", "strict") if s.id == "image required")
    assert set(strict_required.value) >= {"width", "height"}


def test_a_removed_reason_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "entries", lambda fmt: ())
    missing = audit.unaudited("coco-instance")
    assert "coco-instance lenient image.id type" in missing
    assert "coco-instance strict image.id type" in missing


def test_the_register_page_shows_the_audit() -> None:
    page = docsite.discrepancy_register("coco-instance")
    assert "## Audit of errors" in page
    lenient = page.split("### Lenient errors", 1)[1].split("### Strict errors", 1)[0]
    for answer in audit.structural("coco-instance", "lenient"):
        assert f"`{answer.subject}`" in lenient
    for answer in audit.semantic("coco-instance", "lenient"):
        assert answer.subject in lenient


def test_warning_nodes_are_not_errors_and_are_shown() -> None:
    """A node marked x-severity: warning (a key the SDK does not read) has no error sites, its failure is
    a warning in both profiles, and the register page lists it."""
    assert any(where == "label_row.video_link" for where, _ in audit.warning_sites("encord"))
    for profile in PROFILES:
        assert not [s for s in audit.sites("encord", profile) if s.where.startswith("label_row.video_link")]
        assert not [s for s in audit.sites("coco-instance", profile) if s.where.startswith("info.")]
    page = docsite.discrepancy_register("coco-instance")
    assert "### Warnings only" in page and "`image.flickr_url`" in page


@pytest.mark.parametrize("profile", PROFILES)
def test_a_warning_node_reports_a_located_warning(profile: str) -> None:
    coco = {
        "info": {"year": ["not", "a", "year"]},
        "licenses": "none",
        "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4, "flickr_url": 5}],
        "annotations": [],
        "categories": [{"id": 1, "name": "a", "supercategory": "a"}],
    }
    report = labelspec.validate(coco, format="coco-instance", profile=profile)
    found = {(f.pointer, f.severity) for f in report.files[0].findings}
    assert report.valid
    assert found == {("/info/year", "warning"), ("/licenses", "warning"), ("/images/0/flickr_url", "warning")}
    assert all("pycocotools 2.0.11" in f.message for f in report.files[0].findings)
