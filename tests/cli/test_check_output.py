"""check_output: the one check of an output path, before any work."""
from pathlib import Path

import pytest

from quadiv.cli._common import check_output
from quadiv.errors import UsageError


def test_folder_input_and_other_outputs(tmp_path: Path):
    pool = tmp_path / "pool.jsonl"
    check_output(pool, (pool, None))  # an input that does not exist is left to the reader
    pool.write_text('{"text": "a"}\n')
    check_output(tmp_path / "out.jsonl", (pool, None))
    with pytest.raises(UsageError, match="the folder of .* does not exist: create it or choose another --removed"):
        check_output(tmp_path / "nowhere" / "out.jsonl", (pool,), "--removed")
    with pytest.raises(UsageError, match="--output .*pool.jsonl is the input file: quadiv never overwrites its input"):
        check_output(pool, (pool,))
    with pytest.raises(UsageError, match="--removed .*out.jsonl is the --output file"):
        check_output(tmp_path / "out.jsonl", (pool,), "--removed", [(tmp_path / "out.jsonl", "the --output file")])
