#!/usr/bin/env python3
"""Template mining speed side by side: Vigil's miner (`detector parse`), logparser's
Drain.py (PyPI `logparser3`) and Drain3, on the same lines in the same run.

Inputs: the generated training log and the 16 loghub-2k logs, each cut to its content
field first (so every parser sees the same text and no header parsing is timed). Each
parser runs in one process over all inputs, a fresh miner per input, only its mining
loop timed (Vigil: `core/examples/mine.rs`, built by the test command); the parsers
alternate, `--repeat` rounds, and each input's fastest round counts. Peak memory is the
process's maximum resident set (GNU time's %M). `detector parse` is also timed as users
run it: from disk, a fresh process per input.

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
import sys, time, json
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
for path in sys.argv[1:]:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    lines = open(path, encoding="utf-8").read().split("\n")
    start = time.perf_counter()
    for line in lines:
        miner.add_log_message(line)
    print(json.dumps({"file": path, "seconds": time.perf_counter() - start}))
"""

DRAIN_PY = r"""
import sys, time, os, json
from logparser.Drain import LogParser
out = sys.argv[1]
for path in sys.argv[2:]:
    d = os.path.dirname(path); name = os.path.basename(path)
    parser = LogParser(log_format="<Content>", indir=d, outdir=out, depth=4, st=0.5, rex=[])
    start = time.perf_counter()
    parser.parse(name)
    print(json.dumps({"file": path, "seconds": time.perf_counter() - start}))
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


def per_file(stdout):
    """{file: seconds} from one JSON object per line."""
    return {
        o["file"]: o["seconds"]
        for o in (json.loads(l) for l in stdout.splitlines() if l.startswith("{"))
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--detector", required=True, help="the detector binary")
    ap.add_argument(
        "--miner",
        help="the miner benchmark (core/examples/mine.rs; default: examples/mine beside --detector)",
    )
    ap.add_argument("--generated", default="data/generated/train/logs.log")
    ap.add_argument("--loghub", default="../shared/benchmarks/loghub-2k")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="results/parsers")
    a = ap.parse_args()
    miner = a.miner or os.path.join(os.path.dirname(a.detector), "examples", "mine")
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
    by_path = {p: n for n, p in files.items()}
    paths = list(files.values())

    # In one process per parser, a fresh miner per input, the mining loop timed.
    def vigil():
        stdout, wall, peak = timed([miner, "--json"] + paths)
        return per_file(stdout), peak

    def drain3():
        stdout, wall, peak = timed([sys.executable, "-c", DRAIN3] + paths)
        return per_file(stdout), peak

    def drain_py():
        out = os.path.join(work, "drainpy")
        stdout, wall, peak = timed([sys.executable, "-c", DRAIN_PY, out] + paths)
        return per_file(stdout), peak

    # As users run it: `detector parse` from disk, a fresh process per input.
    def vigil_parse():
        secs, peak = {}, 0
        for name, path in files.items():
            out = os.path.join(work, "vigil", name)
            _, _, p = timed(
                [a.detector, "parse", "-i", path, "--format", "<Content>", "-o", out, "--quiet"]
            )
            secs[path] = json.load(open(os.path.join(out, "parse.json")))["parse_seconds"]
            peak = max(peak, p)
        return secs, peak

    parsers = {"vigil": vigil, "drain_py": drain_py, "drain3": drain3, "vigil_parse": vigil_parse}
    best = {p: {} for p in parsers}
    peaks = {p: 0 for p in parsers}
    for _ in range(a.repeat):
        for p, run in parsers.items():  # alternating, round by round
            secs, peak = run()
            peaks[p] = max(peaks[p], peak)
            for path, s in secs.items():
                n = by_path[path]
                best[p][n] = min(best[p].get(n, s), s)

    groups = [
        ("generated", ["generated"]),
        ("loghub (16)", [n for n in files if n != "generated"]),
        ("all", list(files)),
    ]
    text = "Template mining speed, one core each, fastest of %d alternating rounds\n" % a.repeat
    text += "(one process per parser, a fresh miner per input, the mining loop timed; Vigil learns\n"
    text += " the templates and each line's template, Drain.py and Drain3 make their one online pass;\n"
    text += " peak: the process's max RSS over all inputs)\n"
    text += f"{'input':<12} {'lines':>8} | {'Vigil s':>8} {'lines/s':>10} | {'Drain3 s':>8} {'lines/s':>9} | {'Drain.py s':>10} {'lines/s':>9}\n"
    for group, names in groups:
        n = sum(counts[x] for x in names)
        row = f"{group:<12} {n:>8} |"
        for p, width in [("vigil", 10), ("drain3", 9), ("drain_py", 9)]:
            secs = sum(best[p][x] for x in names)
            row += f" {secs:>{8 if p != 'drain_py' else 10}.3f} {n / secs:>{width}.0f} |"
        text += row.rstrip("|").rstrip() + "\n"
    text += "peak MiB: Vigil %.1f, Drain3 %.1f, Drain.py %.1f\n" % (
        peaks["vigil"] / 1024,
        peaks["drain3"] / 1024,
        peaks["drain_py"] / 1024,
    )
    text += "`detector parse` from disk, a fresh process per input (format, reading, process start included):\n"
    for group, names in groups:
        n = sum(counts[x] for x in names)
        secs = sum(best["vigil_parse"][x] for x in names)
        text += f"  {group:<12} {n:>8} lines {secs:>7.3f} s {n / secs:>10.0f} lines/s\n"
    text += "  peak %.1f MiB\n" % (peaks["vigil_parse"] / 1024)
    print(text, end="")
    with open(os.path.join(a.out, "parsers.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "parsers.json"), "w") as f:
        json.dump({"lines": counts, "best": best, "peak_kib": peaks}, f, indent=1)


if __name__ == "__main__":
    main()
