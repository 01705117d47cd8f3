"""Runtime of the generated format modules: typed views over JSON values, JSON I/O and streaming.

Hand-written; the modules ``labelspec.formats.<format>`` are generated from the schemas by
``labelspec codegen`` (``generators/codegen.py``) and build on what is here.

* A view (:class:`JsonObject`, :class:`ListView`, :class:`MapView`) holds the parsed JSON value it
  wraps (``to_json()`` gives it back, the very same object) and reads and writes through to it. Nested
  objects, arrays and maps are wrapped lazily, on access, and cached per view; scalars are returned as
  they are (numbers of schema type ``number`` as ``float``). Unknown keys, key order and int/float stay
  untouched because nothing is ever copied: reading then writing gives back the input document.
* A :class:`Conv` describes how to wrap a raw value of one schema node (which class for objects, which
  item/value converter for arrays/maps).
* I/O: :func:`load_json` (path, ``.json`` or ``.json.gz``, or bytes) with orjson, which keeps key order and
  int vs float; :func:`write_json` writes atomically (temporary file in the target folder, then
  ``os.replace``) and refuses what JSON cannot hold (NaN, infinities, non-JSON types) with an exception;
  :func:`iter_items` streams the items of a list-shaped export with ijson in bounded memory.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import re
import reprlib
import tempfile
from collections.abc import Iterable, Iterator, MutableMapping, MutableSequence
from pathlib import Path
from typing import IO, Any, ClassVar, Generic, TypeVar, cast, overload

import ijson
import orjson

__all__ = [
    "RAW",
    "Conv",
    "JsonObject",
    "JsonTypeError",
    "JsonView",
    "ListView",
    "MapView",
    "MissingPropertyError",
    "PathLike",
    "Source",
    "child_pointer",
    "dump_json",
    "first_item",
    "iter_items",
    "load_json",
    "open_binary",
    "to_raw",
    "write_bytes_atomic",
    "write_json",
]

T = TypeVar("T")
_O = TypeVar("_O", bound="JsonObject")

PathLike = str | os.PathLike[str]
Source = str | os.PathLike[str] | bytes
_GZIP_MAGIC = b"\x1f\x8b"
# A fast pre-check for integers of 19+ digits: digits -> "0", everything else -> " ", then a substring search.
_DIGITS = bytes(48 if chr(b).isdigit() and b < 128 else 32 for b in range(256))
_DIGIT_RUN = b"0" * 19
_LONG_INTEGER = re.compile(rb"(?<![0-9.eE+-])-?[0-9]{19,}(?![0-9.eE])")
_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40


class MissingPropertyError(KeyError):
    """A required property is absent; ``pointer`` is the JSON Pointer of the missing property."""

    def __init__(self, pointer: str) -> None:
        super().__init__(pointer)
        self.pointer = pointer

    def __str__(self) -> str:
        return f"required property missing at {self.pointer}"


class JsonTypeError(TypeError):
    """A value does not have the JSON type its schema declares (a view never validates; see ``validate``)."""

    def __init__(self, pointer: str, expected: str, value: Any) -> None:
        super().__init__(f"{pointer or '/'}: expected {expected}, found {type(value).__name__}")
        self.pointer = pointer


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def child_pointer(pointer: str, key: str | int) -> str:
    """The RFC 6901 pointer of ``key`` below ``pointer``."""
    return f"{pointer}/{_escape(str(key))}"


def _refuse_float(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as JSON")
    return value


def to_raw(value: Any) -> Any:
    """The plain JSON value of ``value``: views are unwrapped, tuples become lists, NaN/inf are refused.

    Plain lists and dicts that hold no views are returned as they are (not copied).
    """
    kind = type(value)
    if kind is float:
        return _refuse_float(value)
    if isinstance(value, JsonView):
        return value.to_json()
    if kind is list:
        copied: list[Any] | None = None
        for index, item in enumerate(value):
            raw = to_raw(item)
            if raw is not item:
                if copied is None:
                    copied = list(value)
                copied[index] = raw
        return value if copied is None else copied
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            raw = to_raw(item)
            if raw is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = raw
        return value if changed is None else changed
    if isinstance(value, tuple):
        return [to_raw(item) for item in value]
    return value


class Conv(Generic[T]):
    """How to wrap the raw JSON value of one schema node; ``T`` is the Python type of the result.

    ``cls`` wraps objects (with dispatch on the discriminator), ``value`` wraps maps (objects whose
    values share one schema), ``item`` wraps arrays, ``num`` turns ints into floats (schema ``number``).
    Any other value is returned as it is, so a view never fails on data its schema does not expect.
    """

    __slots__ = ("cls", "item", "num", "value", "views")

    def __init__(
        self,
        cls: type[JsonObject] | None = None,
        *,
        item: Conv[Any] | None = None,
        value: Conv[Any] | None = None,
        num: bool = False,
    ) -> None:
        self.cls = cls
        self.item = item
        self.value = value
        self.num = num
        self.views = cls is not None or item is not None or value is not None

    def wrap(self, raw: Any, pointer: str) -> T:
        kind = type(raw)
        if kind is dict:
            if self.cls is not None:
                return cast(T, self.cls.from_json(raw, pointer))
            if self.value is not None:
                return cast(T, MapView(raw, self.value, pointer))
        elif kind is list:
            if self.item is not None:
                return cast(T, ListView(raw, self.item, pointer))
        elif kind is int and self.num:
            return cast(T, float(raw))
        return cast(T, raw)


RAW: Conv[Any] = Conv()


class JsonView:
    """Base of every view: the raw JSON value, its JSON Pointer in the document, a cache of child views."""

    __slots__ = ("_cache", "_pointer", "_raw")

    _raw: Any
    _pointer: str
    _cache: dict[Any, JsonView] | None

    def to_json(self) -> Any:
        """The underlying JSON value (not a copy: changes made through the view are in it)."""
        return self._raw

    @property
    def pointer(self) -> str:
        """The JSON Pointer of this value in the document it was read from (``""`` for the root)."""
        return self._pointer

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JsonView):
            return bool(self.to_json() == other.to_json())
        return bool(self.to_json() == other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_repr.repr(self.to_json())})"

    def _view(self, key: Any, raw: Any, conv: Conv[T]) -> T:
        if not conv.views:
            return conv.wrap(raw, "")
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        hit = cache.get(key)
        if hit is not None and hit._raw is raw:
            return cast(T, hit)
        view = conv.wrap(raw, child_pointer(self._pointer, key))
        if isinstance(view, JsonView):
            cache[key] = view
        return view


class JsonObject(JsonView):
    """A typed view of one JSON object; generated subclasses add one property per schema property.

    Properties not in the schema stay in the underlying dict (``to_json()``) and are written back.
    """

    __slots__ = ()

    SCHEMA_NAME: ClassVar[str] = ""
    """The ``#/definitions`` name (or location) of the schema this class was generated from."""
    _DISCRIMINATOR: ClassVar[str | None] = None
    _VARIANTS: ClassVar[dict[str, type[JsonObject]]] = {}

    def __init__(self, raw: dict[str, Any] | None = None, pointer: str = "") -> None:
        self._raw = {} if raw is None else raw
        self._pointer = pointer
        self._cache = None

    def to_json(self) -> dict[str, Any]:
        """The underlying JSON object (not a copy)."""
        raw: dict[str, Any] = self._raw
        return raw

    @classmethod
    def from_json(cls: type[_O], raw: Any, pointer: str = "") -> _O:
        """Wrap a parsed JSON object; the class of a discriminated union is chosen by its discriminator.

        An unknown discriminator value gives the class itself (never an error: no data is lost).
        """
        if type(raw) is not dict:
            raise JsonTypeError(pointer, f"an object ({cls.__name__})", raw)
        target: type[JsonObject] = cls
        key = cls._DISCRIMINATOR
        if key is not None:
            tag = raw.get(key)
            if isinstance(tag, str):
                variant = cls._VARIANTS.get(tag)
                if variant is not None and issubclass(variant, cls):
                    target = variant
        return cast(_O, target(raw, pointer))

    @classmethod
    def _build(cls: type[_O], *fields: tuple[str, Any, bool]) -> _O:
        """A new object from ``(key, value, required)`` triples; optional ``None`` values are left out."""
        raw: dict[str, Any] = {}
        for key, value, required in fields:
            if value is not None or required:
                raw[key] = to_raw(value)
        return cls.from_json(raw)

    def _req(self, key: str, conv: Conv[T]) -> T:
        raw = self._raw
        if key not in raw:
            raise MissingPropertyError(child_pointer(self._pointer, key))
        return self._view(key, raw[key], conv)

    def _opt(self, key: str, conv: Conv[T]) -> T | None:
        value = self._raw.get(key)
        if value is None:
            return None
        return self._view(key, value, conv)

    def _put(self, key: str, value: Any, nullable: bool) -> None:
        """Set ``key``; ``None`` stores JSON null when the schema allows it, else removes the key."""
        if value is None and not nullable:
            self._raw.pop(key, None)
        else:
            self._raw[key] = to_raw(value)
        if self._cache:
            self._cache.pop(key, None)


class ListView(JsonView, MutableSequence[T]):
    """A typed view of a JSON array; items are wrapped on access. ``offset`` skips leading items."""

    __slots__ = ("_item", "_offset")

    def __init__(self, raw: list[Any], item: Conv[T], pointer: str = "", offset: int = 0) -> None:
        self._raw = raw
        self._item = item
        self._pointer = pointer
        self._offset = offset
        self._cache = None

    def to_json(self) -> list[Any]:
        raw: list[Any] = self._raw
        return raw if not self._offset else raw[self._offset :]

    def __len__(self) -> int:
        return max(0, len(self._raw) - self._offset)

    def _index(self, index: int) -> int:
        size = len(self)
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError(f"{self._pointer or '/'}: index {index} out of range ({size} items)")
        return position + self._offset

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = self._index(index)
        return self._view(position, self._raw[position], self._item)

    def __iter__(self) -> Iterator[T]:
        raw = self._raw
        item = self._item
        for position in range(self._offset, len(raw)):
            yield self._view(position, raw[position], item) if item.views else item.wrap(raw[position], "")

    @overload
    def __setitem__(self, index: int, value: T) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            self._raw[start + self._offset : stop + self._offset : step] = [to_raw(v) for v in value]
        else:
            self._raw[self._index(index)] = to_raw(value)
        self._cache = None

    @overload
    def __delitem__(self, index: int) -> None: ...

    @overload
    def __delitem__(self, index: slice) -> None: ...

    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            del self._raw[start + self._offset : stop + self._offset : step]
        else:
            del self._raw[self._index(index)]
        self._cache = None

    def insert(self, index: int, value: T) -> None:
        size = len(self)
        position = max(0, min(size, index + size if index < 0 else index))
        self._raw.insert(position + self._offset, to_raw(value))
        self._cache = None


class MapView(JsonView, MutableMapping[str, T]):
    """A typed view of a JSON object used as a map (every value has the same schema)."""

    __slots__ = ("_value",)

    def __init__(self, raw: dict[str, Any], value: Conv[T], pointer: str = "") -> None:
        self._raw = raw
        self._value = value
        self._pointer = pointer
        self._cache = None

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = self._raw
        return raw

    def __getitem__(self, key: str) -> T:
        return self._view(key, self._raw[key], self._value)

    def __setitem__(self, key: str, value: T) -> None:
        self._raw[key] = to_raw(value)
        if self._cache:
            self._cache.pop(key, None)

    def __delitem__(self, key: str) -> None:
        del self._raw[key]
        if self._cache:
            self._cache.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


# ---------------------------------------------------------------------------------------------- I/O


def open_binary(source: PathLike | bytes) -> IO[bytes]:
    """A binary stream of a path or of bytes; gzip data (``.json.gz``) is decompressed on the fly."""
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115

    head = stream.read(2)
    stream.seek(0)
    if head == _GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    return stream


def _parse_fallback(data: bytes) -> Any:
    """Python's parser, for what orjson refuses but JSON allows (integers beyond 64 bits)."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(data, parse_constant=refuse)


def load_json(source: Source) -> Any:
    """Parse a JSON document from a path (``.json``, ``.json.gz``) or bytes; key order and int/float kept."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:2] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    if _DIGIT_RUN in data.translate(_DIGITS) and _LONG_INTEGER.search(data):
        # orjson reads integers beyond 64 bits as floats; Python's parser keeps them exact.
        try:
            return _parse_fallback(data)
        except ValueError:
            pass
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:
            return _parse_fallback(data)
        except ValueError:
            raise exc from None


def dump_json(value: Any, *, indent: bool = False) -> bytes:
    """Serialise a JSON value (views are unwrapped).

    Raises ``TypeError``/``ValueError`` for what JSON cannot hold (non-JSON types, NaN, infinities) instead
    of writing something else.
    """
    raw = value.to_json() if isinstance(value, JsonView) else value
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        return orjson.dumps(raw, option=option)
    except orjson.JSONEncodeError as exc:
        if "Integer exceeds 64-bit range" not in str(exc):
            raw = to_raw(raw)  # views placed into the raw data directly: unwrap them (slow path)
            if raw is value:
                raise
            return dump_json(raw, indent=indent)
    separators = (",", ": ") if indent else (",", ":")
    spacing = 2 if indent else None
    text = json.dumps(raw, ensure_ascii=False, allow_nan=False, indent=spacing, separators=separators)
    return text.encode("utf-8")


def write_bytes_atomic(data: bytes, path: PathLike) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then ``os.replace``.

    On any error the temporary file is removed and an existing file at ``path`` is left as it was.
    """
    target = Path(path)
    folder = target.parent
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
        dir=folder, prefix=f".{target.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_json(value: Any, path: PathLike, *, indent: bool = False) -> None:
    """Serialise and write atomically; ``.gz`` paths are gzip-compressed (deterministically, mtime 0)."""
    data = dump_json(value, indent=indent)
    # Refuse non-finite floats that reached the document without going through a view (orjson would
    # silently write them as null).
    if b"null" in data:
        _check_finite(value if type(value) in (dict, list) or isinstance(value, JsonView) else [value])
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    write_bytes_atomic(data, path)


def _check_finite(value: Any) -> None:
    stack = [value.to_json() if isinstance(value, JsonView) else value]
    while stack:
        container = stack.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is float:
                if item - item != 0.0:  # NaN and infinities only
                    _refuse_float(item)
            elif kind is dict or kind is list:
                stack.append(item)


def iter_items(
    source: Source, prefix: str, conv: Conv[T], pointer: str = "", skip: int = 0, single: bool = False
) -> Iterator[T]:
    """Stream the items of the array at ijson ``prefix`` (e.g. ``"item"``, ``"dataset.samples.item"``).

    One item is parsed at a time (ijson, C backend), so memory stays bounded by the largest item. Numbers
    keep their type (``use_float``: ints stay ints, the rest are floats). ``skip`` leading items are
    parsed but not wrapped (DataGym: the label classes before the tasks); ``pointer`` is the array's.
    ``single``: a document that is one object (one Encord label row) is that one item, pointer ``""``.
    """
    if single and _root_is_object(source):
        yield conv.wrap(load_json(source), "")
        return
    with open_binary(source) as stream:
        for index, item in enumerate(ijson.items(stream, prefix, use_float=True)):
            if index >= skip:
                yield conv.wrap(item, child_pointer(pointer, index))


def _root_is_object(source: Source) -> bool:
    """Whether the JSON document starts with ``{`` (after whitespace and a UTF-8 byte order mark)."""
    with open_binary(source) as stream:
        head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        while not head:
            chunk = stream.read(4096)
            if not chunk:
                return False
            head = chunk.lstrip(b" \t\r\n")
    return head[:1] == b"{"


def first_item(source: Source, prefix: str, conv: Conv[T], pointer: str = "") -> T | None:
    """The first item of the array at ijson ``prefix``, parsing no further than that item."""
    for item in iter_items(source, prefix, conv, pointer):
        return item
    return None


# --------------------------------------------------------------------------------------------- YOLO


def read_yolo(source: Source) -> Any:
    """The parsed form of a YOLO dataset (``validator/yolo_text.py``): a folder or label ``.txt`` file, or
    that form as JSON (a ``.json`` / ``.json.gz`` path, or bytes)."""
    from labelspec.validator.yolo_text import parse_yolo

    if isinstance(source, bytes):
        return load_json(source)
    path = Path(source)
    if path.is_file() and path.name.lower().endswith((".json", ".json.gz")):
        return load_json(path)
    return parse_yolo(path).document


def _yolo_token(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"a YOLO label field must be a number or a token, not {value!r}")
    if isinstance(value, float):
        return repr(_refuse_float(value))
    return str(value)


def _inside(root: Path, key: str) -> Path:
    relative = Path(key)
    if relative.is_absolute() or ".." in relative.parts or not key:
        raise ValueError(f"refusing to write {key!r} outside the dataset folder {root}")
    return root / relative


def write_yolo(document: Any, path: PathLike) -> None:
    """Write the parsed form back: one ``.txt`` per ``labels`` key (``class cx cy w h`` lines, numbers as
    Python writes them, so they parse back to the same values) and the names file named by ``names_file``
    (one name per line; ``data.yaml``-style files get ``names``/``nc`` updated, other keys kept).
    A ``.json`` / ``.json.gz`` path gets the parsed form as JSON. Each file is written atomically;
    keys that would leave the folder are refused."""
    import yaml

    target = Path(path)
    raw = to_raw(document)
    if target.name.lower().endswith((".json", ".json.gz")):
        write_json(raw, target)
        return
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), dict):
        raise ValueError("a YOLO document is an object with a 'labels' map")
    for key, lines in raw["labels"].items():
        file = _inside(target, key)
        text = "".join(" ".join(_yolo_token(v) for v in line) + "\n" for line in lines)
        file.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(text.encode("utf-8"), file)
    names, names_file = raw.get("names"), raw.get("names_file")
    if names_file is None:
        if names is not None:
            raise ValueError("the document has names but no names_file to write them to")
        return
    file = _inside(target, names_file)
    file.parent.mkdir(parents=True, exist_ok=True)
    if file.suffix.lower() in (".yaml", ".yml"):
        data: dict[str, Any] = {}
        if file.is_file():
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
            data = loaded if isinstance(loaded, dict) else {}
        data["names"] = names
        if "nc" in raw:
            data["nc"] = raw["nc"]
        payload = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")
    else:
        if not isinstance(names, list):
            raise ValueError(f"{names_file} holds one name per line: names must be a list")
        payload = "".join(f"{name}\n" for name in names).encode("utf-8")
    write_bytes_atomic(payload, file)
