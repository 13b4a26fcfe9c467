"""Field templates, numeric and label columns, and take: values, and errors that name the row and field."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from quadiv.errors import InputError, UsageError
from quadiv.io import float_column, render_texts, string_column, take

POOL = pa.table({
    "id": ["a", "b", "c"],
    "instruction": ["Add", "Sub", "Mul"],
    "output": ["1+1=2", "3-1=2", "2*2=4"],
    "q": [0.5, 0.25, 1.0],
    "n": [1, 2, 3],
})


def message(excinfo: pytest.ExceptionInfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_a_column_is_its_values() -> None:
    assert render_texts(POOL, "output") == ["1+1=2", "3-1=2", "2*2=4"]


def test_template_matches_str_format() -> None:
    template = "{instruction}\n\n{output} [{q:.2f}] #{n}"
    expected = [template.format(**row) for row in POOL.to_pylist()]
    assert render_texts(POOL, template) == expected


def test_typed_backslash_n_becomes_a_newline_and_braces_escape() -> None:
    expected = ["Add\n{1+1=2}", "Sub\n{3-1=2}", "Mul\n{2*2=4}"]
    assert render_texts(POOL, r"{instruction}\n{{{output}}}") == expected


def test_non_strings_use_str() -> None:
    table = pa.table({"x": [1, 2], "b": [True, False], "l": [[1], [2, 3]]})
    assert render_texts(table, "x") == ["1", "2"]
    assert render_texts(table, "{b}|{l}") == ["True|[1]", "False|[2, 3]"]


def test_column_named_like_a_template_wins() -> None:
    table = pa.table({"{x}": ["literal"], "x": ["formatted"]})
    assert render_texts(table, "{x}") == ["literal"]


def test_missing_field_lists_available_fields() -> None:
    for field in ("outptu", "{instruction} {outptu}"):
        with pytest.raises(InputError) as excinfo:
            render_texts(POOL, field, path="pool.jsonl")
        expected = "pool.jsonl: field 'outptu' not found; available fields: id, instruction"
        assert message(excinfo).startswith(expected)


def test_null_value_names_row_id_and_field() -> None:
    table = pa.table({"id": ["a", "b", "c"], "output": ["x", None, None]})
    with pytest.raises(InputError) as excinfo:
        render_texts(table, "<{output}>", path="pool.jsonl")
    assert "pool.jsonl: row 2 (id 'b'): field 'output' is empty (null) in 2 row(s)" in message(excinfo)


@pytest.mark.parametrize("template", ["{}", "{0}", "{output", "x}"])
def test_bad_templates_are_usage_errors(template: str) -> None:
    with pytest.raises(UsageError, match="bad field template"):
        render_texts(POOL, template)


def test_float_column_from_numbers_bools_and_numeric_text() -> None:
    table = pa.table({"q": [1, 2, 3], "b": [True, False, True], "s": ["0.5", "1e-3", "-2"]})
    np.testing.assert_array_equal(float_column(table, "q"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(float_column(table, "b"), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(float_column(table, "s"), [0.5, 1e-3, -2.0])
    assert float_column(table, "q").dtype == np.float64


def test_float_column_missing_values() -> None:
    table = pa.table({"id": [7, 8, 9], "q": [0.1, None, float("nan")]})
    with pytest.raises(InputError) as excinfo:
        float_column(table, "q", path="pool.csv")
    text = message(excinfo)
    assert "pool.csv: row 2 (id 8): field 'q' is missing (null or NaN) in 2 row(s)" in text
    assert "drop those rows" in text
    out = float_column(table, "q", allow_nan=True)
    assert out[0] == 0.1 and np.isnan(out[1:]).all()


def test_float_column_rejects_text_infinities_and_nested_values() -> None:
    table = pa.table({"s": ["1", "high"], "i": [1.0, float("inf")], "l": [[1.0], [2.0]]})
    with pytest.raises(InputError, match=r"row 2: field 's' is 'high', not a number"):
        float_column(table, "s")
    with pytest.raises(InputError, match=r"row 2: field 'i' is inf"):
        float_column(table, "i", allow_nan=True)
    with pytest.raises(InputError, match=r"field 'l' holds list<item: double>, expected numbers"):
        float_column(table, "l")
    with pytest.raises(InputError, match=r"field 'quality' not found; available fields: s, i, l"):
        float_column(table, "quality")


def test_string_column_labels() -> None:
    table = pa.table({"g": ["x", "y"], "k": [3, 4], "bad": ["x", None]})
    out = string_column(table, "g")
    assert out.dtype == object and out.tolist() == ["x", "y"]
    assert string_column(table, "k").tolist() == ["3", "4"]
    with pytest.raises(InputError, match=r"row 2: field 'bad' is empty"):
        string_column(table, "bad")


def test_take_keeps_order_and_schema() -> None:
    out = take(POOL, [2, 0, 2])
    assert out.schema == POOL.schema
    assert out["id"].to_pylist() == ["c", "a", "c"]
    assert take(POOL, np.array([], dtype=np.int64)).num_rows == 0
    assert take(POOL, []).schema == POOL.schema


@pytest.mark.parametrize("indices", [[3], [-1], [[0, 1]], [0.5]])
def test_take_rejects_bad_indices(indices: list) -> None:
    with pytest.raises(UsageError):
        take(POOL, indices)
