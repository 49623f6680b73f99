#!/usr/bin/env python3
"""Template mining speed side by side: Vigil's miner (`detector parse`), logparser's
Drain.py (PyPI `logparser3`) and Drain3, on the same lines in the same run.

Inputs: the generated training log and the 16 loghub-2k logs, each cut to its content
field first (so every parser sees the same text and no header parsing is timed). Each
parser runs in a fresh process per input, the three alternating, `--repeat` rounds; the
fastest round counts. Peak memory is the child's maximum resident set (GNU time's %M).

    pip install drain3 logparser3
    python3 bench/scripts/parsers.py --detector <target>/release/detector

Prints a table and writes it (and the raw figures) to --out.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

LOGHUB_FORMATS = {
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Thunderbird": r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>",
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "HealthApp": r"<Time>\|<Component>\|<Pid>\|<Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "OpenSSH": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
    "Mac": r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
}
GENERATED_FORMAT = "<Timestamp> <Host> <Level> <Component>: <Content>"


def format_regex(fmt):
    """logparser's generate_logformat_regex."""
    parts = re.split(r"(<[^<>]+>)", fmt)
    out = ""
    for k, p in enumerate(parts):
        if k % 2 == 0:
            out += re.sub(" +", r"\\s+", p)
        else:
            out += "(?P<%s>.*?)" % p.strip("<>")
    return re.compile("^" + out + "$")


def contents(path, fmt):
    rx = format_regex(fmt)
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = rx.match(line.rstrip("\n").strip())
            if m:
                lines.append(m.group("Content"))
    return lines


DRAIN3 = r"""
import sys, time
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
config = TemplateMinerConfig()
config.profiling_enabled = False
miner = TemplateMiner(config=config)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = time.perf_counter()
for line in lines:
    miner.add_log_message(line)
print(time.perf_counter() - start)
"""

DRAIN_PY = r"""
import sys, time, os
from logparser.Drain import LogParser
d = os.path.dirname(sys.argv[1]); name = os.path.basename(sys.argv[1])
parser = LogParser(log_format="<Content>", indir=d, outdir=sys.argv[2], depth=4, st=0.5, rex=[])
start = time.perf_counter()
parser.parse(name)
print(time.perf_counter() - start)
"""


def timed(cmd):
    """Runs `cmd` under GNU time: (its own stdout, wall seconds, peak KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        start = time.perf_counter()
        r = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stderr[-2000:]}")
        peak = int(t.read().strip().splitlines()[-1])
    return r.stdout, wall, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--detector", required=True)
    ap.add_argument("--generated", default="data/generated/train/logs.log")
    ap.add_argument("--loghub", default="../shared/benchmarks/loghub-2k")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="results/parsers")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vigil-parsers-")
    inputs = [("generated", a.generated, GENERATED_FORMAT)]
    for s, fmt in LOGHUB_FORMATS.items():
        inputs.append((s, os.path.join(a.loghub, s, f"{s}_2k.log"), fmt))
    files = {}
    for name, path, fmt in inputs:
        p = os.path.join(work, f"{name}.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write("\n".join(contents(path, fmt)))
        files[name] = p
    counts = {n: sum(1 for _ in open(p, encoding="utf-8")) for n, p in files.items()}

    def vigil(name):
        out = os.path.join(work, "vigil", name)
        _, wall, peak = timed(
            [a.detector, "parse", "-i", files[name], "--format", "<Content>", "-o", out, "--quiet"]
        )
        s = json.load(open(os.path.join(out, "parse.json")))
        return {"seconds": s["parse_seconds"], "match_seconds": s["match_seconds"], "wall": wall, "peak_kib": peak}

    def drain3(name):
        stdout, wall, peak = timed([sys.executable, "-c", DRAIN3, files[name]])
        return {"seconds": float(stdout.strip().splitlines()[-1]), "wall": wall, "peak_kib": peak}

    def drain_py(name):
        out = os.path.join(work, "drainpy", name)
        stdout, wall, peak = timed([sys.executable, "-c", DRAIN_PY, files[name], out])
        return {"seconds": float(stdout.strip().splitlines()[-1]), "wall": wall, "peak_kib": peak}

    parsers = {"vigil": vigil, "drain_py": drain_py, "drain3": drain3}
    best = {p: {} for p in parsers}
    for _ in range(a.repeat):
        for name in files:
            for p, run in parsers.items():  # alternating, input by input
                r = run(name)
                if name not in best[p] or r["seconds"] < best[p][name]["seconds"]:
                    best[p][name] = r

    def total(p, key="seconds", names=None):
        return sum(best[p][n][key] for n in (names or files))

    lines = sum(counts.values())
    rows = []
    for group, names in [("generated", ["generated"]), ("loghub (16)", [n for n in files if n != "generated"]), ("all", list(files))]:
        n = sum(counts[x] for x in names)
        row = [group, n]
        for p in parsers:
            secs = total(p, names=names)
            peak = max(best[p][x]["peak_kib"] for x in names)
            row += [secs, n / secs, peak / 1024]
        rows.append(row)
    text = "Template mining speed, one core each, fastest of %d alternating rounds\n" % a.repeat
    text += "(Vigil: learning (2 passes) and matching every line; Drain.py and Drain3: their one online pass; peak = max RSS)\n"
    text += f"{'input':<12} {'lines':>8} | {'Vigil s':>8} {'lines/s':>10} {'MiB':>6} | {'Drain.py s':>10} {'lines/s':>9} {'MiB':>6} | {'Drain3 s':>8} {'lines/s':>9} {'MiB':>6}\n"
    for r in rows:
        text += f"{r[0]:<12} {r[1]:>8} | {r[2]:>8.3f} {r[3]:>10.0f} {r[4]:>6.1f} | {r[5]:>10.3f} {r[6]:>9.0f} {r[7]:>6.1f} | {r[8]:>8.3f} {r[9]:>9.0f} {r[10]:>6.1f}\n"
    m = total("vigil", "match_seconds")
    text += f"Vigil matching alone (as detection does): {lines / m:.0f} lines/s over all inputs\n"
    print(text, end="")
    with open(os.path.join(a.out, "parsers.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "parsers.json"), "w") as f:
        json.dump({"lines": counts, "best": best}, f, indent=1)


if __name__ == "__main__":
    main()
