"""Media files: image sizes from their headers, names resolved under ``--media-dir``, safe output names."""

from __future__ import annotations

import contextlib
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = [
    "IMAGE_EXTENSIONS",
    "MediaError",
    "UnsafeNameError",
    "find_media",
    "image_size",
    "media_basename",
    "safe_member_name",
    "safe_member_path",
    "size_from_media",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class MediaError(ValueError):
    """A media file that cannot be found or read."""


class UnsafeNameError(ValueError):
    """A media or member name that would escape the output folder."""


def safe_member_name(name: str) -> str:
    """A relative ``name`` from an export as a normal POSIX relative path, refusing anything that could
    escape the folder it is joined to (see :func:`safe_member_path`; no file system access)."""
    if not name or "\x00" in name:
        raise UnsafeNameError(f"refusing the empty or binary media name {name!r}")
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise UnsafeNameError(f"refusing the absolute media name {name!r}")
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise UnsafeNameError(f"refusing the media name {name!r}: it would leave the output folder")
    return "/".join(parts)


def safe_member_path(out_dir: Path, name: str, *, resolve: bool = True) -> Path:
    """``out_dir / name`` for a relative ``name`` from an export, refusing anything that could escape.

    Refused: empty names, NUL bytes, absolute paths (``/x``, ``C:\\x``, ``\\\\server``), ``..`` segments
    (also with backslashes, which are treated as separators) and names whose resolved path (following
    links that already exist) lies outside ``out_dir``. ``resolve=False`` skips that last check, for a
    folder the caller just created (it holds no links).
    """
    candidate = out_dir.joinpath(*safe_member_name(name).split("/"))
    if not resolve:
        return candidate
    root = out_dir.resolve()
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise UnsafeNameError(f"refusing the media name {name!r}: it resolves outside {out_dir}")
    return candidate


def media_basename(reference: str) -> str:
    """The file name a media reference points at: a URL's path basename (unquoted), or a path's name."""
    parsed = urlparse(reference)
    path = parsed.path if parsed.scheme in ("http", "https", "file", "s3", "gs") else reference
    return posixpath.basename(unquote(path).replace("\\", "/"))


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image, reading only its header (Pillow opens lazily)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise MediaError(f"cannot read the image header of {path}: {exc}") from None
    return int(width), int(height)


def find_media(media_dir: Path, reference: str, *, by_stem: bool = False) -> Path | None:
    """The file under ``media_dir`` for a media reference (relative name, path or URL), or None.

    Tried in order: the reference as a relative path (safely, never outside ``media_dir``), then its
    basename; with ``by_stem`` the reference is a stem (YOLO label files name only the stem) and
    ``<stem>.<image extension>`` is tried: the whole stem, dots included (``a.b`` is ``a.b.jpg``, Roboflow's
    ``x_jpg.rf.<hash>`` is ``x_jpg.rf.<hash>.jpg``), never a shorter one.
    """
    candidates: list[Path] = []
    parsed = urlparse(reference)
    if parsed.scheme not in ("http", "https", "file", "s3", "gs"):
        with contextlib.suppress(UnsafeNameError):
            candidates.append(safe_member_path(media_dir, reference))
    base = media_basename(reference)
    if base:
        with contextlib.suppress(UnsafeNameError):
            candidates.append(safe_member_path(media_dir, base))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if by_stem:
        stem = base or posixpath.basename(reference)
        for relative in (Path(reference).parent, Path()):
            for extension in IMAGE_EXTENSIONS:
                for ext in (extension, extension.upper()):
                    try:
                        candidate = safe_member_path(media_dir, str(relative / f"{stem}{ext}"))
                    except UnsafeNameError:
                        continue
                    if candidate.is_file():
                        return candidate
    return None


def size_from_media(
    media_dir: Path | None, reference: str, *, by_stem: bool = False
) -> tuple[int, int] | None:
    """The image size of a reference found under ``media_dir`` (header only), or None when not found."""
    if media_dir is None:
        return None
    found = find_media(media_dir, reference, by_stem=by_stem)
    return image_size(found) if found is not None else None
