"""The native fast path: C deciders (``labelspec._native``) that certify items clean, or step aside.

- ``schema_program``: compiles a bundled JSON Schema into the IR that ``schema.c`` runs;
  ``regex_dfa``: its ``pattern`` regexes as DFAs; ``shipped``: the compiled programs and rule tables as
  package data (``programs/``, written by ``labelspec codegen``), so that a run compiles nothing.
- ``encord_rows``: the configuration of the Encord row decider (``encord_rules.c``);
  ``encord_ontology``: the tables of the Encord ontology decider (``encord_ontology.c``);
  ``coco``: COCO instance files, streamed element by element (``coco.c``), cross-element rules over columns;
  ``datagym_rules``: the configuration of the DataGym task decider (``datagym_rules.c``);
  ``segments``: Segments.ai releases, samples streamed through the sample decider (``segments_rules.c``),
  the header judged by the reference path.
- ``fastpath``: runs them over a file and hands every item they do not certify to the reference path.

A decider never reports findings: it answers "certainly clean" (no finding of any severity) or "not sure",
so the report is always the reference path's.
"""
