"""The reference path at scale: large exports item by item in bounded memory, many inputs over processes.

- ``split``: the byte ranges of the items of a list-shaped export, found without parsing it.
- ``streaming``: validates those items one batch at a time, with the findings of the whole document.
- ``pool``: process pools (a *mapper* runs tasks here or over several processes).
- ``parallel``: many inputs, and parts of large ones, over a pool or a Dask cluster (a driver: it also
  offers each input to :mod:`labelspec.validator.native` first).
"""
