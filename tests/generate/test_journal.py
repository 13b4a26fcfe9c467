"""The generation journal: append, resume, torn and garbled lines, settings checks."""
from __future__ import annotations

import json

import pytest

from quadiv.errors import InputError, UsageError
from quadiv.generate import Journal, journal_path

SETTINGS = {"strategy": "sampling", "n": 2, "seed": 0, "params": {"temperature": 1.0}}


def row(prompt_id, sample: int, text: str = "some text") -> dict:
    return {"id": f"{prompt_id}/{sample}", "prompt_id": prompt_id, "sample": sample, "text": text}


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_journal_lives_beside_the_output(tmp_path):
    assert journal_path(tmp_path / "out.jsonl") == tmp_path / "out.jsonl.journal"


def test_rows_are_on_disk_as_soon_as_appended_and_come_back_on_resume(tmp_path):
    path = tmp_path / "j"
    journal = Journal.open(path, SETTINGS, resume=False, sync_rows=1000, sync_seconds=1000)
    journal.append([row(0, 0), row(0, 1)])
    journal.append([row("b", 0, "é ünïcode")])
    assert lines(path)[0]["settings"] == SETTINGS and len(lines(path)) == 4  # flushed, not yet fsynced
    journal.close()
    again = Journal.open(path, SETTINGS, resume=True)
    assert again.done == {(0, 0), (0, 1), ("b", 0)}
    assert again.rows()[("b", 0)]["text"] == "é ünïcode"
    again.remove()
    assert not path.exists()


def test_an_existing_journal_needs_resume(tmp_path):
    path = tmp_path / "j"
    journal = Journal.open(path, SETTINGS, resume=False)
    journal.append([row(0, 0)])
    journal.close()
    with pytest.raises(UsageError, match="pass `resume` to continue it, or delete"):
        Journal.open(path, SETTINGS, resume=False)


@pytest.mark.parametrize("resume", [False, True])
def test_a_journal_without_a_row_is_no_run(tmp_path, resume):
    path = tmp_path / "j"
    Journal.open(path, {**SETTINGS, "n": 3}, resume=False).close()  # a run that failed before its first row
    journal = Journal.open(path, SETTINGS, resume=resume)
    journal.close()
    assert journal.done == set() and lines(path) == [{"journal": "quadiv-generate-journal", "settings": SETTINGS}]


def test_resume_without_a_journal_starts_one(tmp_path):
    journal = Journal.open(tmp_path / "j", SETTINGS, resume=True)
    assert journal.done == set() and lines(tmp_path / "j")[0]["settings"] == SETTINGS


def test_other_settings_are_refused_naming_what_changed(tmp_path):
    path = tmp_path / "j"
    journal = Journal.open(path, SETTINGS, resume=False)
    journal.append([row(0, 0)])
    journal.close()
    with pytest.raises(UsageError, match=r"n: 2 then, 3 now"):
        Journal.open(path, {**SETTINGS, "n": 3}, resume=True)


@pytest.mark.parametrize("tail", [b'{"id": "1/0", "prompt_id": 1, "sa', b'{"garbled\n', b"\x00\x00\x00\x00"])
def test_a_torn_or_garbled_last_line_is_dropped_and_cut_off(tmp_path, tail):
    path = tmp_path / "j"
    journal = Journal.open(path, SETTINGS, resume=False)
    journal.append([row(0, 0)])
    journal.close()
    with open(path, "ab") as fh:
        fh.write(tail)
    journal = Journal.open(path, SETTINGS, resume=True)
    assert journal.done == {(0, 0)}
    journal.append([row(1, 0)])
    journal.close()
    assert [r.get("prompt_id") for r in lines(path)[1:]] == [0, 1]


def test_a_garbled_middle_line_is_an_error_with_its_line_number(tmp_path):
    path = tmp_path / "j"
    journal = Journal.open(path, SETTINGS, resume=False)
    journal.append([row(0, 0)])
    journal.close()
    with open(path, "ab") as fh:
        fh.write(b"{oops\n" + json.dumps(row(1, 0)).encode() + b"\n")
    with pytest.raises(InputError, match="line 3 is not valid JSON"):
        Journal.open(path, SETTINGS, resume=True)


def test_a_row_without_text_is_an_error(tmp_path):
    path = tmp_path / "j"
    Journal.open(path, SETTINGS, resume=False).close()
    with open(path, "ab") as fh:
        fh.write(json.dumps(row(0, 0, "  ")).encode() + b"\n")
    with pytest.raises(InputError, match="line 2 is not a finished row"):
        Journal.open(path, SETTINGS, resume=True)


def test_a_torn_header_starts_afresh(tmp_path):
    path = tmp_path / "j"
    path.write_bytes(b'{"journal": "quadiv-gen')
    journal = Journal.open(path, SETTINGS, resume=True)
    journal.close()
    assert journal.done == set() and lines(path) == [{"journal": "quadiv-generate-journal", "settings": SETTINGS}]


def test_a_foreign_file_is_not_taken_for_a_journal(tmp_path):
    path = tmp_path / "j"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(InputError, match="not a quadiv generate journal"):
        Journal.open(path, SETTINGS, resume=True)


def test_a_row_is_never_recorded_twice(tmp_path):
    journal = Journal.open(tmp_path / "j", SETTINGS, resume=False)
    journal.append([row(0, 0)])
    with pytest.raises(RuntimeError, match="already in the journal"):
        journal.append([row(0, 0, "other")])


def test_numpy_values_are_written_as_numbers(tmp_path):
    np = pytest.importorskip("numpy")
    journal = Journal.open(tmp_path / "j", SETTINGS, resume=False)
    journal.append([{**row(0, 0), "score": np.float32(0.5), "vector": np.arange(2)}])
    assert journal.rows()[(0, 0)]["score"] == 0.5 and journal.rows()[(0, 0)]["vector"] == [0, 1]
