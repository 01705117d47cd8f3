"""Where the structural mutant families can break their keyword: the schema keywords a compiled schema
uses, and the (format, profile, family) triples whose keyword has no site a single edit can break alone."""

from __future__ import annotations

from typing import Any

# (format, profile, family) whose keyword the compiled schema has, but only where no single edit can break
# it alone (with the reason); the list may only shrink: a family that finds a site while listed fails.
_NO_SITE = """
datagym lenient schema.maxProperties: it bounds child classification answers, keyed by class names: an added
    key names an undeclared class, which DG-CLASSIFICATION-CLASS-UNDECLARED reports too
datagym strict schema.maxProperties: it bounds child classification answers, keyed by class names: an added
    key names an undeclared class, which DG-CLASSIFICATION-CLASS-UNDECLARED reports too
datagym lenient schema.propertyNames: export keys are checked only on maps keyed by class names: a new key
    names an undeclared class, which DG-LABEL-CLASS-UNDECLARED / DG-CLASSIFICATION-CLASS-UNDECLARED report too
datagym strict schema.propertyNames: export keys are checked only on maps keyed by class names: a new key
    names an undeclared class, which DG-LABEL-CLASS-UNDECLARED / DG-CLASSIFICATION-CLASS-UNDECLARED report too
datagym strict schema.uniqueItems: the only uniqueItems list is label_classes: a duplicated class duplicates
    a class name, which the class rules read
encord lenient schema.minProperties: outside conditions and alternatives only skeleton payloads have it,
    and ENC-SKELETON-TEMPLATE-MISMATCH reports a skeleton emptied of its template's nodes too
datagym lenient schema.const: every const is the discriminator of an `if` (an edit there switches the
    then/else branch the value is checked against)
datagym strict schema.const: every const is the discriminator of an `if` (an edit there switches the
    then/else branch the value is checked against)
segments lenient schema.const: every const is the discriminator of an `if` (an edit there switches the
    then/else branch the value is checked against)
segments strict schema.const: every const is the discriminator of an `if` (an edit there switches the
    then/else branch the value is checked against)
encord lenient schema.const: every const is the discriminator of an `if` (an edit there switches the
    then/else branch the value is checked against)
encord strict schema.const: besides `if` discriminators, the only const is the shape of point-cloud objects
    (segmentation), which the frame object's `if shape` conditions read: any other shape switches them
encord-ontology lenient schema.const: every const is the attribute `type` discriminator of an `if` (an edit
    there switches the then/else branch the value is checked against)
encord-ontology strict schema.const: every const is the attribute `type` discriminator of an `if` (an edit
    there switches the then/else branch the value is checked against)
encord lenient schema.maxLength: maxLength bounds the digits of data_sequence inside an anyOf alternative (a
    longer string is reported as schema.anyOf) and frame keys inside propertyNames (schema.propertyNames)
encord strict schema.maxLength: maxLength bounds the digits of data_sequence inside an anyOf alternative (a
    longer string is reported as schema.anyOf) and frame keys inside propertyNames (schema.propertyNames)
encord strict schema.minLength: the only minLength value written is the lidar segmentation RLE string,
    which ENC-BITMASK-RLE-INVALID reads too
encord-ontology lenient schema.enum: its enums are attribute `type` discriminators of alternatives (an edit
    switches them) and object shapes, which ENCO-SKELETON-TEMPLATE-UNLINKED reads
encord-ontology lenient schema.minimum: no generated ontology holds a value under it outside oneOf/anyOf
    alternatives (an edit there would switch alternatives)
encord-ontology strict schema.minimum: no generated ontology holds a value under it outside oneOf/anyOf
    alternatives (an edit there would switch alternatives)
encord-ontology strict schema.maxItems: no generated ontology holds a value under it outside oneOf/anyOf
    alternatives (an edit there would switch alternatives)
yolo lenient schema.maximum: the lenient schema only defines normalised_coordinate, whose maximum the
    strict label lines use
yolo lenient schema.pattern: the pattern is the propertyNames of a names mapping, and names is read by
    YOLO-NC-NAMES-MISMATCH and the class-range rules (not edited)
yolo lenient schema.propertyNames: names is read by YOLO-NC-NAMES-MISMATCH and the class-range rules, so
    no key is added to it
yolo lenient schema.required: the parsed form of a dataset folder always has labels: a document without it
    cannot be written as files
yolo strict schema.required: the parsed form of a dataset folder always has labels, and names from its
    names file: without them it cannot be written as files
yolo strict schema.enum: its only enum is the kpt_shape value count, and pose datasets (with kpt_shape) are
    lenient only
yolo strict schema.pattern: the pattern is the propertyNames of a names mapping, and names is read by
    YOLO-NC-NAMES-MISMATCH and the class-range rules (not edited)
yolo strict schema.propertyNames: names is read by YOLO-NC-NAMES-MISMATCH and the class-range rules, so
    no key is added to it
yolo strict schema.minProperties: names is read by YOLO-NC-NAMES-MISMATCH and the class-range rules, so
    no key is removed from it
yolo strict schema.minimum: label-line values are read by YOLO-COORD-OUT-OF-RANGE and
    YOLO-BOX-SIZE-NOT-POSITIVE, and nc by YOLO-NC-NAMES-MISMATCH
yolo strict schema.maximum: label-line values are read by YOLO-COORD-OUT-OF-RANGE and
    YOLO-BOX-OUTSIDE-IMAGE too
yolo strict schema.minItems: the strict line arity is read by YOLO-LINE-ARITY too, and names by
    YOLO-NC-NAMES-MISMATCH
yolo strict schema.maxItems: the strict line arity (five fields) is read by YOLO-LINE-ARITY too
"""


def _no_site(text: str) -> dict[tuple[str, str, str], str]:
    entries: dict[tuple[str, str, str], str] = {}
    key: tuple[str, str, str] | None = None
    for line in text.strip().splitlines():
        if line.startswith(" ") and key is not None:
            entries[key] += " " + line.strip()
        else:
            head, _, reason = line.partition(":")
            format_id, profile, family = head.split()
            key = (format_id, profile, family)
            entries[key] = reason.strip()
    return entries


NO_SITE = _no_site(_NO_SITE)


def schema_keywords(schema: Any) -> set[str]:
    """Every keyword used in a compiled schema (values of enum/const/examples are data, not keywords)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "patternProperties", "definitions", "dependencies") and isinstance(
                value, dict
            ):
                found.add(key)
                for sub in value.values():
                    found |= schema_keywords(sub)
            elif key in ("enum", "const"):
                found.add(key)
            elif key not in ("examples", "default", "x-format"):
                found.add(key if not (key == "additionalProperties" and value is False) else "closed")
                found |= schema_keywords(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= schema_keywords(item)
    return found
