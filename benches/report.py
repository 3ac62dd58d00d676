"""The table benches/run.sh prints: seconds per system, answers compared, ratios, fresh process.

Usage: python benches/report.py OUT_DIR N REPS
Reads what run.sh wrote to OUT_DIR:
  peers.tsv, engine.tsv  `workload<TAB>system<TAB>median<TAB>min<TAB>max` (seconds over REPS
                         runs; engine.tsv may say `unsupported: ..` instead), and the `mem`
                         group's `peak_rss:workload<TAB>system<TAB>peak<TAB>baseline` lines
  cli.tsv                `workload<TAB>fusedframe-cli<TAB>median<TAB>min<TAB>max<TAB>peak_rss`
                         (the CLI in a fresh process per run, bytes) or `failed: ..`
  peers.err, engine.err, cli.err   `# check <workload> <system>: <answer>` lines
Writes table.txt (the text table, also printed), table.md (the same as a markdown table, ready
to paste into README.md) and checks.txt (every answer line and every disagreement).

A peer's time counts only if its answer agrees with fusedframe's (benches/answers.py): the ratio
is fusedframe's median over the fastest agreeing peer's, and a peer whose answer differs shows
`≠answer` instead of its seconds. The CLI's answer is compared with the in-process one.
"""
import os, re, sys

from answers import disagreement

CHECK = re.compile(r"^# check (\S+) (\S+): (.*)$")
CLI = "fusedframe-cli"
NAMES = {"polars": "Polars", "numpy": "NumPy", "duckdb": "DuckDB", "sklearn": "scikit-learn"}


def read_lines(path):
    return open(path, encoding="utf-8").read().splitlines() if os.path.exists(path) else []


def main(out, n, reps):
    times, order, systems, mem = {}, [], [], {}
    for name in ("peers.tsv", "engine.tsv", "cli.tsv"):
        for line in read_lines(os.path.join(out, name)):
            f = line.split("\t")
            if line.startswith("#") or len(f) < 3:
                continue
            if f[0].startswith("peak_rss:"):
                mem[(f[0][len("peak_rss:"):], f[1])] = f[2:4]
                continue
            w, s = f[0], f[1]
            times[(w, s)] = f[2:]
            if w not in order:
                order.append(w)
            if s not in systems and s != CLI:
                systems.append(s)
    answers = {}
    for name in ("peers.err", "engine.err", "cli.err"):
        for line in read_lines(os.path.join(out, name)):
            m = CHECK.match(line)
            if m:
                answers[(m[1], m[2])] = m[3]
    peers = [s for s in systems if s != "fusedframe"]
    cols = peers + (["fusedframe"] if "fusedframe" in systems else [])

    def secs(w, s):
        v = times.get((w, s), ["-"])[0]
        try:
            return float(v)
        except ValueError:
            return None

    notes, check_log, rows, md = [], [], [], []
    for w in order:
        ff = answers.get((w, "fusedframe"))
        cells, agreeing = {}, []
        for s in cols:
            if (w, s) not in times:
                cells[s] = "-"
                continue
            v = times[(w, s)][0]
            t = secs(w, s)
            if t is None:
                cells[s] = "unsupp." if v.startswith("unsupported") else v[:11]
                continue
            cells[s] = f"{t:.3f}"
            a = answers.get((w, s))
            if a is not None:
                check_log.append(f"{w} {s}: {a}")
            if s == "fusedframe":
                continue
            if a is None or ff is None:
                why = f"no answer line from {s if a is None else 'fusedframe'}"
            else:
                why = disagreement(w, ff, a)
            if why is None:
                agreeing.append(s)
            else:
                cells[s] = "≠answer"
                notes.append(f"{w}: {s} ≠ fusedframe ({why})")
        t_ff = secs(w, "fusedframe")
        best = min(agreeing, key=lambda s: secs(w, s)) if agreeing else None
        if t_ff is not None and best is not None and secs(w, best) > 0:
            ratio = f"{t_ff / secs(w, best):.2f}x"
        elif t_ff is not None and any(cells[s] == "≠answer" for s in peers):
            ratio = "≠answer"
        else:
            ratio = "-"
        # The CLI in a fresh process, its answer checked against the in-process one.
        cli, rss = "-", "-"
        if (w, CLI) in times:
            f = times[(w, CLI)]
            try:
                cli = f"{float(f[0]):.3f}"
                rss = f"{int(f[3]) / 2**20:.0f} MiB" if len(f) > 3 and f[3].isdigit() else "-"
            except ValueError:
                cli = "failed"
            a = answers.get((w, CLI))
            if a is not None:
                check_log.append(f"{w} {CLI}: {a}")
            # Without an in-process answer (unsupported there), a peer's answer is the reference.
            ref = ff if ff is not None else next((answers[(w, s)] for s in peers if (w, s) in answers), None)
            why = "no answer line" if a is None or ref is None else disagreement(w, ref, a)
            if cli != "failed" and why is not None:
                cli = "≠answer"
                notes.append(f"{w}: CLI ≠ {'fusedframe in process' if ff is not None else 'peers'} ({why})")
        rows.append([w] + [cells[s] for s in cols] + [ratio, cli, rss])
        peer = f"{NAMES.get(best, best)} {secs(w, best):.3f} s" if best else "-"
        ff_cell = f"{t_ff:.3f} s" if t_ff is not None else cells.get("fusedframe", "-")
        cli_cell = f"{cli} s ({rss})" if cli not in ("-", "failed", "≠answer") else cli
        md.append(f"| {w} | {ff_cell} | {cli_cell} | {peer} | {ratio} |")

    head = ["workload"] + cols + ["ff/best peer", "ff CLI fresh", "CLI peak RSS"]
    width = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    text = ["  ".join(c.rjust(width[i]) if i else c.ljust(width[i]) for i, c in enumerate(r)) for r in [head] + rows]
    text.append("")
    text.append(f"seconds: median of {reps} runs (min and max in the .tsv files); ratio = fusedframe in process /"
                " fastest peer whose answer agrees; CLI = `fusedframe run` in a fresh process, end to end")
    if notes:
        text.append("answers that differ (full lines in checks.txt):")
        text += [f"  {x}" for x in notes]
    else:
        text.append("every answer agrees with fusedframe's")
    for (w, s), (peak, base) in sorted(mem.items()):
        if peak.isdigit():
            text.append(f"peak RSS, {w}, {s}: {int(peak) / 2**20:.1f} MiB (startup {int(base) / 2**20:.1f} MiB)"
                        f" = {int(peak) / (n * 16):.2f}x the bytes of x and z")
        else:
            text.append(f"peak RSS, {w}, {s}: {peak}")
    md_table = [f"| workload | fusedframe, in process (median of {reps}) | fusedframe CLI, fresh process (peak RSS) |"
                " fastest peer with the same answer | ratio |", "|---|---:|---:|---|---:|"] + md
    open(os.path.join(out, "table.txt"), "w", encoding="utf-8").write("\n".join(text) + "\n")
    open(os.path.join(out, "table.md"), "w", encoding="utf-8").write("\n".join(md_table) + "\n")
    open(os.path.join(out, "checks.txt"), "w", encoding="utf-8").write("\n".join(check_log + [""] + notes) + "\n")
    print("\n".join(text))
    print()
    print("\n".join(md_table))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
