"""Checks the executed notebooks that notebooks/run.sh wrote (the folder is the argument).

Every code cell after the set-up ones (`:dep`, `use`) must show something: a cell that draws
(`.plot(`) an SVG picture, any other an HTML table (frames, lazy plans and model summaries are
all tables). A few cells must show the values the notebooks are about. No cell may hold an
error. Prints, per notebook, how long the `:dep` cell took and how long until the first table
showed (from the first cell's start; nbclient records each cell's times), so the set-up cost is
in the CI log.
"""

import json
import os
import sys
from datetime import datetime

# (notebook, a cell source fragment, text that cell's HTML must contain)
EXPECTED = [
    ("numpy_tour.ipynb", 'scan_csv("../datasets/wine.csv").collect()', "shape: (178, 14)"),
    ("numpy_tour.ipynb", '"b" => [0.5, f64::NAN, 2.5]', ">NaN<"),
    ("numpy_tour.ipynb", ".head(5);\ncentred", "LazyFrame"),
    ("numpy_tour.ipynb", "let kmeans", "inertia"),
    ("numpy_tour.ipynb", "let pca", "explained variance"),
    ("cars.ipynb", 'col("horsepower").null_count()', ">6<"),
    ("cars.ipynb", 'col("miles_per_gallon").null_count()', ">8<"),
    ("cars.ipynb", "let cars", "shape: (406, 9)"),
    ("cars.ipynb", ".linear_regression(", "R²"),
    ("seattle_weather.ipynb", "let weather", "shape: (1461, 6)"),
    ("seattle_weather.ipynb", "let wettest", "shape: (10, 3)"),
]


def when(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def shown(cell):
    """The MIME bundle the cell displayed (its last execute_result or display_data)."""
    data = {}
    for out in cell.get("outputs", []):
        if out["output_type"] in ("execute_result", "display_data"):
            data = out["data"]
    return {k: "".join(v) if isinstance(v, list) else v for k, v in data.items()}


def check(path):
    name = os.path.basename(path)
    cells = [c for c in json.load(open(path))["cells"] if c["cell_type"] == "code"]
    problems = []
    first_table = None
    for i, cell in enumerate(cells):
        src = "".join(cell["source"])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                problems.append(f"cell {i}: error {out.get('ename')}: {out.get('evalue')}")
        if src.startswith(":dep") or src.startswith("use "):
            continue
        data = shown(cell)
        if ".plot(" in src:
            if "<svg" not in data.get("image/svg+xml", ""):
                problems.append(f"cell {i} draws, but shows no SVG: {sorted(data)}")
        elif "<table" not in data.get("text/html", ""):
            problems.append(f"cell {i} shows no HTML table: {sorted(data)}")
        elif first_table is None:
            first_table = cell
        if "text/plain" not in data:
            problems.append(f"cell {i} has no text/plain fallback")
    for nb, fragment, text in EXPECTED:
        if nb != name:
            continue
        matching = [c for c in cells if fragment in "".join(c["source"])]
        if not matching:
            problems.append(f"no cell holds {fragment!r}")
        elif not any(text in shown(c).get("text/html", "") for c in matching):
            problems.append(f"the cell with {fragment!r} does not show {text!r}")

    timing = lambda c, key: when(c["metadata"]["execution"][key])
    start = timing(cells[0], "iopub.execute_input")
    dep = (timing(cells[0], "shell.execute_reply") - start).total_seconds()
    first = (
        f"{(timing(first_table, 'shell.execute_reply') - start).total_seconds():.1f} s"
        if first_table
        else "none"
    )
    total = (timing(cells[-1], "shell.execute_reply") - start).total_seconds()
    print(f"{name}: :dep cell {dep:.1f} s, first table after {first}, "
          f"all {len(cells)} code cells {total:.1f} s")
    return [f"{name}: {p}" for p in problems]


def main():
    folder = sys.argv[1]
    paths = sorted(
        os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".ipynb")
    )
    if not paths:
        sys.exit(f"no executed notebook in {folder}")
    problems = [p for path in paths for p in check(path)]
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(paths)} notebooks checked")


if __name__ == "__main__":
    main()
