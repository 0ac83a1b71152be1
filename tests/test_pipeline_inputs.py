"""Corrupt intermediate files reach the pipeline's aggregates as one line naming the file,
and the aggregate tables are written atomically (issue 14 items 8 and 9)."""

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.io import DataFileError, save_state
from simlib.pipeline.manifest import data_hash
from simlib.pipeline.postprocess import performance_table, summary_table, write_csv
from simlib.pipeline.runs import RunError


@pytest.mark.parametrize("text", ["", "{\"run\": ", "[1, 2, 3]", "\x00\x01garbage"])
def test_corrupt_analysis_json_names_the_file(tmp_path, text):
    path = tmp_path / "analysis.json"
    path.write_text(text)
    with pytest.raises((DataFileError, RunError), match=str(path)) as err:
        summary_table([path])
    assert "\n" not in str(err.value)


def test_garbage_benchmark_names_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bench = tmp_path / "results" / "benchmarks" / "lj" / "p0.0" / "seed1"
    bench.mkdir(parents=True)
    (bench / "T1.0.tsv").write_text("not\ta benchmark\n\x00\x00")
    summary = pd.DataFrame([{"run": "lj/p0.0/seed1/T1.0", "steps": 10, "n": 64}])
    with pytest.raises((DataFileError, RunError), match="T1.0.tsv"):
        performance_table(summary, ["results/benchmarks/lj/p0.0/seed1/T1.0.tsv"])


def test_truncated_state_in_the_manifest_names_the_file(tmp_path):
    state = simlib.initial_state(16, simlib.Box.cube(8.0, 2), seed=1)
    path = tmp_path / "state.nc"
    save_state(path, state)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match=str(path)) as err:
        data_hash(path)
    assert "\n" not in str(err.value)


def test_tables_are_written_atomically(tmp_path, monkeypatch):
    """A failure while writing leaves no partial table (and an older one untouched)."""
    target = tmp_path / "summary.csv"
    target.write_text("old,table\n1,2\n")
    frame = pd.DataFrame({"a": np.arange(3)})

    def fail(self, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("a\n0\n")  # half a table, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError):
        write_csv(target, frame)
    assert target.read_text() == "old,table\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]
