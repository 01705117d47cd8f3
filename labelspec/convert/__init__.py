"""Conversions between label formats through one canonical model (:mod:`labelspec.convert.model`).

Every conversion validates its input against the source specification first and its output against the
target specification after, and reports everything it dropped or approximated.
"""
