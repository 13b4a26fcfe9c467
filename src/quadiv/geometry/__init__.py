"""Geometry shared by the metrics and the selectors: embeddings as L2-normalised rows (cosine geometry).

- :func:`unit_rows`: rows scaled to unit length; every zero row (an item the embedder could not embed)
  is one shared point orthogonal to all content.
- :func:`has_zero_row`: whether an array holds such a row.
- :func:`knn_graph`: every row's nearest rows by inner product (exact or IVF);
  :func:`top_inner_products`: the top-k inner products of query rows among base rows.
- :func:`kmeans`: seeded faiss k-means from :func:`kmeans_pp` (k-means++) seeds.
- :func:`farthest_point_greedy`: greedy picks by a score of each item's distance to the picks so far
  (k-center and its weighted variants); :class:`FarthestShard`: the same traversal's state over a shard of rows.
"""
from quadiv.geometry._farthest import FarthestShard, euclidean_to, farthest_point_greedy
from quadiv.geometry._kmeans import kmeans, kmeans_pp
from quadiv.geometry._knn import knn_graph, top_inner_products
from quadiv.geometry._unit import has_zero_row, unit_rows

__all__ = ["FarthestShard", "euclidean_to", "farthest_point_greedy", "has_zero_row", "kmeans", "kmeans_pp",
           "knn_graph", "top_inner_products", "unit_rows"]
