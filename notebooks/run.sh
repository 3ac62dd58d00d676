#!/usr/bin/env bash
# Executes every notebook here headlessly with evcxr's Jupyter kernel and checks what the cells
# show (notebooks/check.py); fails on any cell error. CI runs it (.ci/run); run it yourself once
# as the set-up before `jupyter lab notebooks/`: it installs what is missing and leaves the crate
# built in target/evcxr, the build directory that notebooks/evcxr.toml gives every kernel
# started in this folder, so the first `:dep` cell of a new kernel takes seconds, not minutes.
#
# It installs, when missing: evcxr_jupyter (cargo install, pinned), its kernel spec, and
# nbconvert (pip, pinned, in a venv under ~/.cache/fusedframe-notebooks). Each stage prints its
# time. Executed copies go to target/notebooks/; the notebooks themselves stay unexecuted.
# `run.sh install` stops after installing (CI starts that early, beside its other steps).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

EVCXR_VERSION=0.22.0
NBCONVERT_VERSION=7.17.2
NBCLIENT_VERSION=0.11.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/fusedframe-notebooks
venv=$cache/venv-nbconvert-$NBCONVERT_VERSION
out=$root/target/notebooks
# Must match `tmpdir` in notebooks/evcxr.toml (relative to notebooks/).
evcxr_dir=$root/target/evcxr

t_start=$(date +%s)
stage() { echo "-- $1: $(($(date +%s) - t_start)) s"; }

# 1. The kernel. `cargo install` compiles about 380 crates: minutes on a fresh machine.
export PATH=$HOME/.cargo/bin:$PATH
# (evcxr_jupyter has no --version: cargo's list of installed packages says which one is there.)
if ! cargo install --list | grep -q "^evcxr_jupyter v$EVCXR_VERSION:"; then
    echo "installing evcxr_jupyter $EVCXR_VERSION (cargo install --locked)"
    cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION"
fi
evcxr_jupyter --install >/dev/null
stage "kernel installed"

# 2. nbconvert, in its own venv (kept between runs).
if [ ! -x "$venv/bin/jupyter-nbconvert" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "nbconvert==$NBCONVERT_VERSION" "nbclient==$NBCLIENT_VERSION"
fi
stage "nbconvert installed"
# Headless Chromium, to look at one rendered notebook (Debian's package; CI installs it).
if [ "${CI:-}" = true ] && ! command -v chromium >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
        >/dev/null
fi
if [ "${1:-}" = install ]; then
    exit 0
fi

# 3. evcxr's build directory: seeded with the project's lock file, so the notebooks build the
#    same dependency versions as `cargo build` (evcxr would otherwise resolve the newest).
mkdir -p "$evcxr_dir" "$out"
if [ ! -f "$evcxr_dir/Cargo.lock" ]; then
    cp Cargo.lock "$evcxr_dir/Cargo.lock"
fi

# 4. Execute each notebook; any cell error fails nbconvert, and so this script. The first
#    notebook builds the crate in the kernel (cold: minutes); the others reuse the build.
for nb in notebooks/*.ipynb; do
    t0=$(date +%s)
    rm -f "$out/$(basename "$nb")"
    if ! timeout 2400 "$venv/bin/jupyter-nbconvert" \
        --to notebook --execute --ExecutePreprocessor.timeout=1800 \
        --ExecutePreprocessor.kernel_name=rust --log-level=WARN \
        --output-dir "$out" "$nb"; then
        echo "$nb: a cell failed or timed out (above)" >&2
        exit 1
    fi
    echo "-- $nb executed in $(($(date +%s) - t0)) s"
done

# 5. What the cells show: tables as HTML, plots as SVG, the values the notebooks are about;
#    prints each notebook's set-up and first-table times.
"$venv/bin/python" notebooks/check.py "$out"
stage "notebooks executed and checked"

# 6. One executed notebook rendered to HTML and loaded in headless Chromium: the page must hold
#    the tables and the pictures. Its screenshot stays in target/notebooks/ to look at.
if command -v chromium >/dev/null; then
    "$venv/bin/jupyter-nbconvert" --to html --log-level=WARN --output-dir "$out" \
        "$out/numpy_tour.ipynb"
    chrome=(timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars)
    dom=$("${chrome[@]}" --dump-dom "file://$out/numpy_tour.html" 2>/dev/null)
    # nbconvert embeds each SVG picture as an <img> of a data: URL.
    for element in "<table" "<img[^>]*src=\"data:image/svg+xml"; do
        if ! grep -q -- "$element" <<<"$dom"; then
            echo "the rendered numpy_tour.html holds no $element" >&2
            exit 1
        fi
    done
    "${chrome[@]}" --window-size=1100,2400 --screenshot="$out/numpy_tour.png" \
        "file://$out/numpy_tour.html" >/dev/null 2>&1
    echo "rendered page: $(grep -o '<table' <<<"$dom" | wc -l) tables," \
        "$(grep -o 'src="data:image/svg+xml' <<<"$dom" | wc -l) SVG pictures;" \
        "screenshot $out/numpy_tour.png"
    stage "rendered notebook checked in Chromium"
else
    echo "chromium is not installed: the rendered-page check is skipped"
fi
