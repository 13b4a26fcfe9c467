"""Geometry shared by the metrics and the selectors: embeddings as L2-normalised rows (cosine geometry).

- :func:`unit_rows`: rows scaled to unit length; every zero row (an item the embedder could not embed)
  is one shared point orthogonal to all content.
- :func:`has_zero_row`: whether an array holds such a row.
"""
from quadiv.geometry._unit import has_zero_row, unit_rows

__all__ = ["has_zero_row", "unit_rows"]
