"""Data made safe for the page: plain JSON values, and JSON that can sit inside a <script> element."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

# Characters that could end the <script> element, open a comment or an entity, or end a JS line.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_TRANSLATE = str.maketrans(_SCRIPT_ESCAPES)


def plain(obj: object) -> object:
    """`obj` as plain JSON values: numpy scalars and arrays unwrapped, tuples as lists, keys as str,
    NaN and infinities as None (null), anything else that JSON cannot hold as its str()."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        return plain(obj.item())
    if isinstance(obj, Mapping):
        return {str(key): plain(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(value) for value in obj]
    return str(obj)


def script_json(obj: object) -> str:
    """JSON text of `obj` that is inert inside ``<script type="application/json">``.

    ``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\u003c``-style escapes, which JSON.parse reads back
    as the same characters, so no value can close the element (``</script>``), open a comment or be
    read as markup, whatever it holds.
    """
    text = json.dumps(plain(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_TRANSLATE)
