"""quadiv: measure and control the quality-diversity trade-off of ML data and model outputs.

    import quadiv as qd
    pool = qd.read("data.jsonl", field="{instruction}\\n\\n{output}")
    X = qd.embed(pool, embedder="static")          # (n, d) float32, L2-normalised, cached
    qd.vendi(X, q=1.0)
    sel = qd.select(X, budget=1000, method="facility-location", quality=pool.floats("quality"))

Heavy backends (torch, transformers, sentence-transformers, faiss) load only when used.
"""
from quadiv._signals import threads_started_here_block_sigint

with threads_started_here_block_sigint():  # numpy's BLAS starts its worker threads on import
    from quadiv.embed import embed, get_embedder
    from quadiv.io import Pool, pool_quality, write
    from quadiv.io import read_pool as read
    from quadiv.measure import measure, qvendi, vendi
    from quadiv.select import Selection, dedup, select

__version__ = "0.1.0"
__all__ = ["Pool", "Selection", "dedup", "embed", "get_embedder", "measure", "pool_quality", "qvendi", "read", "select", "vendi",
           "write"]
