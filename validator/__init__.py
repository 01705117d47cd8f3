"""The validator: one reference path, and accelerators that never change what it finds.

Layers, lowest first; a module imports only from its own layer or below (tests/test_layers.py checks it):

1. **Foundation**: findings and reports (``report``), the bundled schemas compiled per profile
   (``compiler``), format detection (``detect``), reading inputs (``paths``: what the user named;
   ``inputs``; ``folders`` and ``yolo_text``, imported only for folders and YOLO through
   ``labelspec.format_ids.load``, the one lazy import of validator modules),
   progress of the file being read (``progress``), and small helpers (``envelope``, ``single_item``,
   ``locate``, ``numbers``).
2. **Checks**: ``structural`` (JSON Schema) and ``rules/`` (the semantic rules catalogued in
   ``schemas/<format>/rules.yaml``, one module per format).
3. **Engine** (``engine``): the reference path. One parsed document in, its findings out. Every layer
   above is measured against it.
4. **Scale** (``scale/``): the reference path over inputs too large for memory: ``split`` finds the items
   of a list-shaped export in its bytes, ``streaming`` validates them item by item with exactly the
   findings of the whole document (``sections``: the item arrays of a root object, COCO), ``pool`` runs
   tasks over processes.
5. **Native** (``native/``): the C deciders of ``labelspec._native`` and their Python bindings. A decider
   answers only "certainly clean" or "not sure"; ``fastpath`` certifies clean items without building
   Python objects and hands every other item to the reference path (through ``scale.streaming``).
6. **Drivers**: ``api`` (``validate``: one input, through native, scale or engine), ``scale.parallel``
   (many inputs over processes or Dask), and the outputs (``reporters``, ``sarif``, ``explain``,
   ``examples``).

The central invariant: for every input, the findings are those of :func:`engine.validate_document` on the
parsed document. ``native`` and ``scale`` only change how long that takes and how much memory it needs
(tests/native and tests/equivalence compare them with the reference path).
"""
