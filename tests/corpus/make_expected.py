"""Expected values for the conformance corpus, as pyarrow reads it.

Run from the repository root with a venv that has pyarrow:

    python3 -m venv .venv && .venv/bin/pip install pyarrow polars duckdb
    .venv/bin/python tests/corpus/make_expected.py

Writes tests/corpus/expected/parquet-testing.json: for every file of
tests/corpus/parquet-testing/{data,bad_data} (Parquet and encrypted Parquet), either pyarrow's
values in canonical form (see canon.py) or the error pyarrow gives. INT96 timestamps are read as
microseconds (`coerce_int96_timestamp_unit="us"`), the unit fusedframe documents for them.
`tests/real_files.rs` compares fusedframe's reading of each file against this.
"""

import glob
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))
import canon  # noqa: E402

ROOT = "tests/corpus/parquet-testing"

# pyarrow converts INT96 through nanoseconds even when asked for microseconds, so the one value
# of int96_from_spark.parquet past 2262 wraps around (to year -225,830). The file's own
# int96_from_spark.md lists the microseconds Spark wrote; those are the expected values.
INT96_FROM_SPARK_US = [
    1704141296123456, 1704070800000000, 253402225200000000, 1735599600000000, None,
    9089380393200000000,
]


def read(path):
    try:
        return pq.read_table(path, coerce_int96_timestamp_unit="us")
    except Exception as first:
        # pyarrow's read_table cannot return some nested columns in chunks; its batch reader
        # can, and reads the same values.
        try:
            f = pq.ParquetFile(path, coerce_int96_timestamp_unit="us")
            return pa.Table.from_batches(list(f.iter_batches()), schema=f.schema_arrow)
        except Exception:
            raise first


def main():
    out = {}
    files = sorted(
        glob.glob(f"{ROOT}/data/**/*.parquet*", recursive=True)
        + glob.glob(f"{ROOT}/bad_data/*.parquet")
    )
    for path in files:
        if path.endswith(".json"):
            continue
        rel = os.path.relpath(path, ROOT)
        try:
            table = read(path)
            if rel == "data/int96_from_spark.parquet":
                table = pa.table({"a": pa.array(INT96_FROM_SPARK_US, pa.timestamp("us"))})
            out[rel] = canon.table_summary(table)
        except Exception as e:  # pyarrow cannot read it: fusedframe must error too, not panic
            out[rel] = {"error": canon.error_text(e)}
        print(rel, "error" if "error" in out[rel] else out[rel]["rows"], file=sys.stderr)
    os.makedirs("tests/corpus/expected", exist_ok=True)
    with open("tests/corpus/expected/parquet-testing.json", "w") as f:
        json.dump({"reader": f"pyarrow {pa.__version__}", "files": out}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
