"""The complexity scorer on hand-counted instructions."""
import math

import numpy as np
import pytest

from quadiv.quality import Item, get_scorer


def test_measures_by_hand():
    ask = "Write a poem about the sea. It must have exactly four lines, and do not use rhymes!"
    out = get_scorer("complexity").score([Item("some answer", ask), Item("Hello there")])
    cols = out.columns
    assert cols["complexity_words"].tolist() == [17, 2]
    assert cols["complexity_sentences"].tolist() == [2, 1]
    assert cols["complexity_constraints"].tolist() == [3, 0]  # must, exactly, do not
    assert cols["complexity_type_token_ratio"][1] == 1.0
    assert out.values[0] == pytest.approx(math.log(18) + math.log(4))
    assert out.values[1] == pytest.approx(math.log(3))  # no instruction: the text itself
    empty = get_scorer("complexity").score([Item("")])
    assert empty.values[0] == 0 and np.isnan(empty.columns["complexity_type_token_ratio"][0])
