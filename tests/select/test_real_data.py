"""The selection criterion of issue 3 on real answers with real quality labels (AlpacaEval, static
embeddings, budget 400): at tradeoff 0.5 each method beats the median of 5 random selections on both
mean quality and Vendi, and from tradeoff 0 to 1 mean quality rises while Vendi falls."""
import numpy as np
import pytest

from quadiv import io
from quadiv.embed import embed
from quadiv.measure import vendi
from quadiv.select import select

BUDGET = 400


@pytest.fixture(scope="module")
def alpaca_embedded(alpaca_path):
    table = io.read(str(alpaca_path))
    X = embed(io.render_texts(table, "output"), embedder="static")
    quality = io.float_column(table, "quality")
    random = [select(X, BUDGET, method="random", seed=s).indices for s in range(5)]
    baseline = (np.median([quality[i].mean() for i in random]), np.median([vendi(X[i]) for i in random]))
    return X, quality, baseline


@pytest.mark.parametrize("method", ["facility-location", "dpp", "mmr", "cluster"])
def test_real_answers_tradeoff_behaves(alpaca_embedded, method):
    X, quality, (random_quality, random_vendi) = alpaca_embedded
    scores = {}
    for t in (0.0, 0.5, 1.0):
        idx = select(X, BUDGET, method=method, quality=quality, tradeoff=t, seed=0).indices
        scores[t] = (quality[idx].mean(), vendi(X[idx]))
    assert scores[0.5][0] > random_quality and scores[0.5][1] > random_vendi
    assert scores[1.0][0] > scores[0.0][0] and scores[1.0][1] < scores[0.0][1]
