"""Which Segments sequence samples the ``segments`` writer writes, and the track numbers in each.

A Segments release has one task type for all its samples. When the dataset holds a video or an image
sequence (``MediaGroup``) and ``--layout`` is ``sequences`` (the default), the release is an
``image-vector-sequence`` (``image-segmentation-sequence`` with masks) release: each video, image sequence,
volume or document is one sample whose frames are its items in frame order, and every other item (an
image, a member of an image group) a sample of one frame (reported: the task type leaves no choice).
A video's frames carry their time (``timestamp`` = frame number / fps) when the frame rate is known.
In a sample, one track of one category is one annotation id on every frame, and ``track_id`` equals that
id (the Segments documentation: https://docs.segments.ai/reference/sample-and-label-types).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from labelspec.convert.model import Annotation, ConversionReport, LabelledDataset, MediaGroup, MediaItem

__all__ = ["SequenceSample", "plan_sequences"]

_SEQUENCE_KINDS = ("video", "image_sequence", "volume", "document")


@dataclass
class SequenceSample:
    """One sample: its group (None for a lone item), its frames in order, and the number of every
    annotation on them (annotation id -> Segments annotation id = track id)."""

    group: MediaGroup | None
    items: list[MediaItem]
    numbers: dict[str, int] = field(default_factory=dict)
    last: int = 0  # the highest number given out

    def new_number(self) -> int:
        self.last += 1
        return self.last


def _ordered(group: MediaGroup, items: list[MediaItem], report: ConversionReport) -> list[MediaItem]:
    """The frames in frame order; frame numbers other than 0..n-1 are reported (Segments frames are
    numbered by their position)."""
    frames = [item.frame_index for item in items]
    if any(f is None for f in frames) or len(set(frames)) != len(frames):
        report.approximate(
            "image sequence", "its frames have no distinct frame numbers: written in order", group.id
        )
        return items
    ordered = sorted(items, key=lambda item: item.frame_index or 0)
    if [item.frame_index for item in ordered] != list(range(len(ordered))):
        kept = (
            "kept as the frames' timestamps (frame / fps)"
            if group.kind == "video" and group.fps
            else "not kept"
        )
        report.approximate(
            "frame number",
            "Segments numbers the frames of a sequence by position: the labelled frames are written one "
            f"after the other, their frame numbers {kept}",
            group.id,
        )
    return ordered


def _number(
    sample: SequenceSample, by_media: Mapping[str, Sequence[Annotation]], report: ConversionReport
) -> None:
    """One number per (track, category) of the sample; an annotation without a track is a track of its own;
    a track twice on one frame gets a second number for its second instance (reported)."""
    tracks: dict[tuple[str, str], int] = {}
    categories: dict[str, str] = {}
    for item in sample.items:
        on_frame: set[int] = set()
        for annotation in by_media.get(item.id, ()):
            track = annotation.track_id if annotation.track_id is not None else f"annotation/{annotation.id}"
            if categories.setdefault(track, annotation.category_id) != annotation.category_id:
                report.approximate(
                    "track", "its category changes: one Segments track per category", annotation.id
                )
            number = tracks.get((track, annotation.category_id))
            if number is None:
                number = tracks[(track, annotation.category_id)] = sample.new_number()
            elif number in on_frame:
                report.approximate(
                    "track",
                    "it is twice on one frame: the second is a Segments track of its own",
                    annotation.id,
                )
                number = sample.new_number()
            on_frame.add(number)
            sample.numbers[annotation.id] = number


def plan_sequences(
    dataset: LabelledDataset, layout: str, report: ConversionReport
) -> list[SequenceSample] | None:
    """The samples of a sequence release, or None when the release is one of images (``--layout images``,
    or no video / image sequence in the dataset)."""
    order, members = dataset.media_by_group()
    groups = {
        key: dataset.group(key)
        or MediaGroup(key, "image_sequence" if any(m.kind == "frame" for m in items) else "image_group", key)
        for key, items in members.items()
    }
    if layout == "images" or not any(g.kind in ("video", "image_sequence") for g in groups.values()):
        return None
    samples: list[SequenceSample] = []
    for entry in order:
        if isinstance(entry, MediaItem):
            samples.append(SequenceSample(None, [entry]))
            continue
        group = groups[entry]
        if group.kind not in _SEQUENCE_KINDS:  # an image group: its images have no order in time
            samples.extend(SequenceSample(None, [item]) for item in members[entry])
            continue
        if group.kind in ("volume", "document"):
            what = "volume's slices" if group.kind == "volume" else "document's pages"
            report.approximate("media group", f"the {what} are written as an image sequence", group.id)
        samples.append(SequenceSample(group, _ordered(group, members[entry], report)))
    by_media: dict[str, list[Annotation]] = {}
    for annotation in dataset.annotations:
        by_media.setdefault(annotation.media_id, []).append(annotation)
    for sample in samples:
        if sample.group is None:
            report.approximate(
                "media item",
                "a Segments release has one task type: an image is written as a sequence of one frame",
                sample.items[0].id,
            )
        _number(sample, by_media, report)
    return samples
