"""Label statuses: the vendors' workflow states, the model's status, and the mapping between them.

Each vendor reader turns its own status into the model's :data:`LabelStatus` (``MediaItem.status``) and
each vendor writer writes the faithful equivalent of it, the nearest one when the target has none
(the writer reports that). The vendor vocabularies are the SDKs' enums:

- Encord: ``encord.orm.label_row.LabelStatus`` (encord 0.1.211: NOT_LABELLED, LABEL_IN_PROGRESS, LABELLED,
  REVIEW_IN_PROGRESS, REVIEWED, REVIEWED_TWICE) for ``label_status``, and
  ``encord.orm.label_row.AnnotationTaskStatus`` (QUEUED, ASSIGNED, IN_REVIEW, RETURNED, COMPLETED) for the
  workflow's ``annotation_task_status``, of which RETURNED ("the reviewer has returned the task to the
  annotator for changes") is the only state ``label_status`` cannot tell;
- Segments: ``segments.typing.LabelStatus`` (segments-ai 1.33.0: REVIEWED, REVIEWING_IN_PROGRESS, LABELED,
  LABELING_IN_PROGRESS, REJECTED, PRELABELED, SKIPPED, VERIFIED, UNLABELED);
- DataGym: the task ``status`` (``LabelTaskState`` in lower case): exports hold completed, skipped and
  reviewed tasks only; the other states (backlog, waiting, waiting_changed, in_progress, reviewed_skip)
  are read too.

| model          | Encord label_status (+ task status) | Segments label_status | DataGym status |
|----------------|-------------------------------------|-----------------------|----------------|
| unlabelled     | NOT_LABELLED                        | UNLABELED             | *skipped*      |
| prelabelled    | *LABEL_IN_PROGRESS*                 | PRELABELED            | *completed*    |
| labelling      | LABEL_IN_PROGRESS                   | LABELING_IN_PROGRESS  | *completed*    |
| labelled       | LABELLED                            | LABELED               | completed      |
| reviewing      | REVIEW_IN_PROGRESS                  | REVIEWING_IN_PROGRESS | *completed*    |
| reviewed       | REVIEWED                            | REVIEWED              | reviewed       |
| reviewed_twice | REVIEWED_TWICE                      | *VERIFIED*            | *reviewed*     |
| verified       | *REVIEWED_TWICE*                    | VERIFIED              | *reviewed*     |
| rejected       | LABEL_IN_PROGRESS + RETURNED        | REJECTED              | *completed*    |
| skipped        | *NOT_LABELLED*                      | SKIPPED               | skipped        |

Italics: no equivalent; the writer writes the nearest status and reports it. The nearest keeps what a
reader's default ``--status`` filter does with the item: skipped and unlabelled items stay out of the
training data (Encord NOT_LABELLED, DataGym skipped), items with labels stay in. An item without a status
(COCO, YOLO sources) is written as labelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, get_args

from labelspec.convert.model import ConversionReport, LabelStatus, MediaItem

__all__ = [
    "STATUSES",
    "STATUS_TARGETS",
    "UNFINISHED",
    "LabelStatus",
    "TargetStatus",
    "from_datagym",
    "from_encord",
    "from_segments",
    "status_of",
    "to_datagym",
    "to_encord",
    "to_segments",
    "unfinished",
]

STATUSES: tuple[LabelStatus, ...] = get_args(LabelStatus)

_FROM_ENCORD: dict[str, LabelStatus] = {
    "NOT_LABELLED": "unlabelled",
    "LABEL_IN_PROGRESS": "labelling",
    "LABELLED": "labelled",
    "REVIEW_IN_PROGRESS": "reviewing",
    "REVIEWED": "reviewed",
    "REVIEWED_TWICE": "reviewed_twice",
}
_FROM_SEGMENTS: dict[str, LabelStatus] = {
    "UNLABELED": "unlabelled",
    "PRELABELED": "prelabelled",
    "LABELING_IN_PROGRESS": "labelling",
    "LABELED": "labelled",
    "REVIEWING_IN_PROGRESS": "reviewing",
    "REVIEWED": "reviewed",
    "VERIFIED": "verified",
    "REJECTED": "rejected",
    "SKIPPED": "skipped",
}
_FROM_DATAGYM: dict[str, LabelStatus] = {
    "backlog": "unlabelled",
    "waiting": "unlabelled",
    "waiting_changed": "unlabelled",
    "in_progress": "labelling",
    "completed": "labelled",
    "reviewed": "reviewed",
    "skipped": "skipped",
    "reviewed_skip": "skipped",  # a reviewer confirmed the skip
}


class TargetStatus(NamedTuple):
    """What a writer writes for a model status: the status, a second field (Encord's
    ``annotation_task_status``; None: not written) and whether it is the status's equivalent."""

    value: str
    extra: str | None = None
    exact: bool = True


def _target(value: str, exact: bool = True, extra: str | None = None) -> TargetStatus:
    return TargetStatus(value, extra, exact)


_TO_ENCORD: dict[LabelStatus, TargetStatus] = {
    "unlabelled": _target("NOT_LABELLED"),
    "prelabelled": _target("LABEL_IN_PROGRESS", exact=False),
    "labelling": _target("LABEL_IN_PROGRESS"),
    "labelled": _target("LABELLED"),
    "reviewing": _target("REVIEW_IN_PROGRESS"),
    "reviewed": _target("REVIEWED"),
    "reviewed_twice": _target("REVIEWED_TWICE"),
    "verified": _target("REVIEWED_TWICE", exact=False),
    "rejected": _target("LABEL_IN_PROGRESS", extra="RETURNED"),
    "skipped": _target("NOT_LABELLED", exact=False),
}
_TO_SEGMENTS: dict[LabelStatus, TargetStatus] = {
    "unlabelled": _target("UNLABELED"),
    "prelabelled": _target("PRELABELED"),
    "labelling": _target("LABELING_IN_PROGRESS"),
    "labelled": _target("LABELED"),
    "reviewing": _target("REVIEWING_IN_PROGRESS"),
    "reviewed": _target("REVIEWED"),
    "reviewed_twice": _target("VERIFIED", exact=False),
    "verified": _target("VERIFIED"),
    "rejected": _target("REJECTED"),
    "skipped": _target("SKIPPED"),
}
_TO_DATAGYM: dict[LabelStatus, TargetStatus] = {
    "unlabelled": _target("skipped", exact=False),
    "prelabelled": _target("completed", exact=False),
    "labelling": _target("completed", exact=False),
    "labelled": _target("completed"),
    "reviewing": _target("completed", exact=False),
    "reviewed": _target("reviewed"),
    "reviewed_twice": _target("reviewed", exact=False),
    "verified": _target("reviewed", exact=False),
    "rejected": _target("completed", exact=False),
    "skipped": _target("skipped"),
}


def from_encord(label_status: object, annotation_task_status: object = None) -> LabelStatus | None:
    """The model status of an Encord row: RETURNED (the workflow's rejection) wins over label_status."""
    if annotation_task_status == "RETURNED":
        return "rejected"
    return _FROM_ENCORD.get(str(label_status))


def from_segments(label_status: object) -> LabelStatus | None:
    return _FROM_SEGMENTS.get(str(label_status).upper())


def from_datagym(status: object) -> LabelStatus | None:
    return _FROM_DATAGYM.get(str(status).lower())


def to_encord(status: LabelStatus | None) -> TargetStatus:
    """``label_status``, ``annotation_task_status`` (None: not written) and whether it is exact."""
    return _TO_ENCORD[status] if status is not None else _target("LABELLED")


def to_segments(status: LabelStatus | None) -> TargetStatus:
    return _TO_SEGMENTS[status] if status is not None else _target("LABELED")


def to_datagym(status: LabelStatus | None) -> TargetStatus:
    return _TO_DATAGYM[status] if status is not None else _target("completed")


# the targets that write a label status (the others report the statuses they lose: ``unfinished``)
STATUS_TARGETS = frozenset({"encord", "segments", "datagym"})

# statuses of items whose labels are not (yet) finished or accepted: a target without statuses (COCO,
# YOLO) makes them ordinary training images, so their loss is reported
UNFINISHED: frozenset[LabelStatus] = frozenset(
    {"unlabelled", "prelabelled", "labelling", "reviewing", "rejected", "skipped"}
)


def unfinished(item: MediaItem, target: str, report: ConversionReport) -> None:
    """Report the status of an item a target without statuses writes as an ordinary (finished) one."""
    if item.status in UNFINISHED:
        report.drop(
            "label status", f"{target} has no label status: a {item.status} item reads as labelled", item.id
        )


def status_of(
    items: Sequence[MediaItem],
    to_target: Callable[[LabelStatus | None], TargetStatus],
    target: str,
    report: ConversionReport,
    where: str,
) -> TargetStatus:
    """The target status of a row / sample / task holding ``items`` (the first item's when they differ,
    reported), with the approximation reported when the target has no equivalent."""
    status = items[0].status if items else None
    if any(item.status != status for item in items):
        report.approximate(
            "label status",
            f"the items of one {target} row have different statuses: {status} is written",
            where,
        )
    written = to_target(status)
    if not written.exact:
        report.approximate(
            "label status", f"{target} has no {status!r} status: written as {written.value}", where
        )
    return written
