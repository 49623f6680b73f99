#!/usr/bin/env python3
"""Runs every command example in README.md, so that none can rot silently (issue 18).

    python3 scripts/readme-examples.py [--bin-dir DIR] [--only REGEX] [--list]

.ci/run calls it after the tests. It reads the README's ```sh blocks as they stand (lines
joined at a trailing backslash) and runs each command from the repository root with the
release binaries on the PATH, as a user who put them there would. Each must exit 0 and
leave the folders it names with --out/--model (or -o/-m). Commands run in README order,
except `./pipeline.sh`, which runs last: it trains with --force, while the README's own
`trainer` examples (no --force) must find their model folders free, as in a fresh clone.
So the script refuses a checkout that already holds the outputs those examples write: run
it in a fresh clone (`git clone . /tmp/vigil && cd /tmp/vigil && python3
scripts/readme-examples.py`), where the outputs land in ignored folders as the README's
commands put them (data/generated/, models/, results/, charts/).

What it changes, and only this (each command is printed as run):
  - optional parts, `[--labels FILE]`, `[--range-tolerance 0.05 | --no-range]`,
    `--score likelihood|raw`: the command runs once without them and once with each
    alternative (each choice of a `a|b` word) of each part on its own;
  - the README's schematic file names get real files: `nab.csv` is a NAB series (from
    ../shared/benchmarks/nab, or one host's cpu as `timestamp,value` when that is absent),
    `metrics.csv` the generated training metrics, `train.toml` the README's ```toml block,
    `my.toml` a scratch file; paths under /tmp/ go to a scratch folder;
  - `vigil serve` runs in the background on a free loopback port (the curl examples follow
    it there), over a scratch store; curl gets `--fail-with-body -sS`, so an error status
    fails; the first `/detect` waits for the training jobs before it, and the server is
    stopped with SIGTERM once every job has succeeded;
What it does not run, and says so in its summary:
  - `cargo test` (the test command itself: .ci/run runs it just before);
  - docker lines: there is no Docker engine in CI. Each is checked instead: every VIGIL_*
    variable it sets must be one docker/compose.yaml reads, every service it names one
    compose.yaml has (docker/check.sh runs the compose pipeline itself, outside Docker);
  - commands on ../shared/benchmarks (every vigil-bench command) when that folder is absent;
  - the PyTorch peer script when `import torch` fails (the README says: not run in CI).
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
# The outputs of the README's examples that refuse to be replaced without --force.
FRESH = ["models/metrics", "models/logs", "models/nab", "models/hdfs"]


class Failure(Exception):
    pass


def blocks(readme):
    """The README's fenced blocks as (language, first line number, lines)."""
    out, current = [], None
    for n, line in enumerate(readme.splitlines(), 1):
        if line.strip().startswith("```"):
            if current is None:
                current = (line.strip()[3:].strip(), n + 1, [])
            else:
                out.append(current)
                current = None
        elif current is not None:
            current[2].append(line)
    return out


def commands(readme):
    """(line number, command) for every command of the README's sh blocks, continuation
    lines joined; and the text of its toml block (the training config train.toml shows)."""
    out, toml, pending, start = [], None, "", 0
    for lang, first, lines in blocks(readme):
        if lang == "toml":
            toml = "\n".join(lines) + "\n"
        if lang != "sh":
            continue
        for n, line in enumerate(lines, first):
            if not line.strip():
                continue
            if not pending:
                start = n
            if line.endswith("\\"):
                pending += line[:-1] + " "
            else:
                out.append((start, " ".join(uncommented(pending + line).split())))
                pending = ""
    return out, toml


def uncommented(text):
    """The line without its shell comment (a `#` starting a word outside quotes)."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text


def group_at(text, start):
    """The end of the `[...]` group opening at `start` and its alternatives (split at a
    ` | ` outside quotes, so a jq program's pipe stays whole)."""
    quote, alts, current = None, [], ""
    for i in range(start + 1, len(text)):
        c = text[i]
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "]":
            alts.append(current.strip())
            return i, alts
        elif c == "|" and text[i - 1] == " " and text[i + 1 : i + 2] == " ":
            alts.append(current.strip())
            current = ""
            continue
        current += c
    raise ValueError(f"no closing ] for the [ at {start}: {text}")


def groups(text):
    """The command without its optional `[...]` parts, and each part as its alternatives,
    each alternative as its variants (one per choice of an `a|b` word)."""
    plain, parts, i = [], [], 0
    quote = None
    while i < len(text):
        c = text[i]
        if quote:
            plain.append(c)
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
            plain.append(c)
        elif c == "[" and (i == 0 or text[i - 1] == " "):
            end, alts = group_at(text, i)
            variants = []
            for alt in alts:
                if "'" in alt or '"' in alt:
                    variants.append(alt)  # a quoted value is taken as it stands
                    continue
                words = alt.split()
                choices = max((len(w.split("|")) for w in words), default=1)
                for k in range(choices):
                    variants.append(
                        " ".join(
                            w.split("|")[min(k, len(w.split("|")) - 1)] for w in words
                        )
                    )
            parts.append(variants)
            i = end + 1
            continue
        else:
            plain.append(c)
        i += 1
    return " ".join("".join(plain).split()), parts


def expand(text):
    """Every variant to run: plain, then each optional part's variants on their own, then
    the words of the plain command with an `a|b` word at each of its choices."""
    plain, parts = groups(text)
    base = [plain]
    # A `a|b` word outside brackets (none today) runs at each choice too.
    if any("|" in w and not w.startswith("'") for w in plain.split() if w != "|"):
        words = plain.split()
        n = max(len(w.split("|")) for w in words)
        base = [" ".join(w.split("|")[min(k, len(w.split("|")) - 1)] for w in words) for k in range(n)]
    out = list(base)
    for variants in parts:
        out.extend(f"{plain} {v}" for v in variants)
    return out


def program(text):
    """The first word that is not a VAR=value assignment."""
    for w in shlex.split(text, comments=True):
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", w):
            return w
    return ""


class Runner:
    def __init__(self, bin_dir, scratch, toml):
        self.bin_dir = bin_dir
        self.scratch = scratch
        self.toml = toml
        self.port = free_port()
        self.server = None
        self.server_line = None
        self.ran, self.skipped, self.failed = [], [], []
        self.env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        (scratch / "tmp").mkdir()

    # -- the README's schematic names ---------------------------------------------------
    def fixture(self, name):
        path = self.scratch / name
        if name == "train.toml" and not path.exists():
            if not self.toml:
                raise Failure("the README has no ```toml block for train.toml")
            path.write_text(self.toml)
        elif name == "metrics.csv":
            source = REPO / "data/generated/train/metrics.csv"
            if not source.exists():
                raise Failure("metrics.csv stands for data/generated/train/metrics.csv, absent")
            shutil.copy(source, path)
        elif name == "nab.csv" and not path.exists():
            files = sorted((BENCHMARKS / "nab/data/realAWSCloudwatch").glob("*.csv"))
            if files:
                shutil.copy(files[0], path)
            else:
                self.nab_from_generated(path)
        return str(path)

    def nab_from_generated(self, path):
        source = REPO / "data/generated/train/metrics.csv"
        with open(source) as f:
            header = f.readline().strip().split(",")
            t, h, cpu = header.index("timestamp"), header.index("host"), header.index("cpu")
            rows = ["timestamp,value"]
            first = None
            for line in f:
                cells = line.rstrip("\n").split(",")
                first = first or cells[h]
                if cells[h] == first:
                    rows.append(f"{cells[t]},{cells[cpu]}")
        path.write_text("\n".join(rows) + "\n")

    def substitute(self, text):
        text = re.sub(r"(?<![\w./-])/tmp/", f"{self.scratch}/tmp/", text)
        for name in ("nab.csv", "metrics.csv", "train.toml", "my.toml"):
            pattern = rf"(?<![\w./-]){re.escape(name)}(?![\w/-])"
            if re.search(pattern, text):
                path = self.fixture(name) if name != "my.toml" else str(self.scratch / name)
                text = re.sub(pattern, path, text)
        text = re.sub(r"\b(localhost|127\.0\.0\.1):8080\b", rf"\g<1>:{self.port}", text)
        text = re.sub(r"--store models\b", f"--store {self.scratch}/store", text)
        text = re.sub(r"^curl ", "curl --fail-with-body -sS ", text)
        return text

    # -- what is not run ----------------------------------------------------------------
    def skip_reason(self, line, text):
        prog = program(text)
        if prog == "cargo" and text.split()[1:2] == ["test"]:
            return "the test command itself (.ci/run runs it just before)"
        if "../shared/benchmarks" in text or prog == "vigil-bench":
            if not BENCHMARKS.is_dir():
                return f"needs {BENCHMARKS}, absent here"
        if prog == "python3" and "pytorch" in text:
            check = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
            if check.returncode != 0:
                return "PyTorch is not installed (the README: not run in CI)"
        return None

    def check_docker(self, line, text):
        compose = (REPO / "docker/compose.yaml").read_text()
        variables = set(re.findall(r"\$\{(VIGIL_[A-Z_]+)", compose))
        services = set(re.findall(r"^  ([a-z][a-z0-9-]*):$", compose, flags=re.M))
        used = set(re.findall(r"\b(VIGIL_[A-Z_]+)=", text))
        if used - variables:
            raise Failure(f"README line {line}: {sorted(used - variables)} not read by docker/compose.yaml")
        named = re.findall(r"docker compose run (?:--?[\w-]+ )*([a-z][a-z0-9-]*)", text)
        if set(named) - services:
            raise Failure(f"README line {line}: no service {sorted(set(named) - services)} in docker/compose.yaml")
        why = "docker: its VIGIL_* settings and services checked against docker/compose.yaml, not run (no Docker engine; docker/check.sh runs the compose pipeline outside Docker)"
        self.skipped.append((line, text, why))
        print(f"\n== README line {line}: {text}\n   checked: {why}")

    # -- running --------------------------------------------------------------------------
    def run(self, line, text):
        shown = self.substitute(text)
        print(f"\n== README line {line}: {text}", flush=True)
        if shown != text:
            print(f"   run as: {shown}", flush=True)
        if program(text) == "vigil" and " serve" in text:
            return self.start_server(line, shown)
        if program(text) == "curl" and "/detect" in text:
            self.wait_for_jobs()
        began = time.monotonic()
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", shown], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=1800)
        took = time.monotonic() - began
        output = (proc.stdout + proc.stderr).strip().splitlines()
        for out_line in output[-6:]:
            print(f"   | {out_line[:200]}")
        if proc.returncode != 0:
            self.failed.append((line, text, f"exit status {proc.returncode}"))
            print(f"   FAILED: exit status {proc.returncode} after {took:.1f} s")
            for out_line in output[-30:-6]:
                print(f"   | {out_line[:300]}")
            return
        missing = [p for p in outputs(shown) if not (REPO / p).exists()]
        if missing:
            self.failed.append((line, text, f"left no {missing}"))
            print(f"   FAILED: left no {missing}")
            return
        self.ran.append((line, text, took))
        print(f"   ok ({took:.1f} s)")

    def start_server(self, line, shown):
        words = shlex.split(shown, comments=True)
        self.server = subprocess.Popen(words, cwd=REPO, env=self.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        self.server_line = (line, shown)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                self.failed.append((line, shown, f"exited with {self.server.returncode}"))
                print(self.server.stdout.read()[-2000:])
                self.server = None
                return
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2):
                    print(f"   ok: ready on port {self.port}")
                    return
            except OSError:
                time.sleep(0.2)
        self.failed.append((line, shown, "never ready within 60 s"))

    def jobs(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/jobs", timeout=10) as r:
            body = json.load(r)
        return body["jobs"] if isinstance(body, dict) else body

    def wait_for_jobs(self):
        if self.server is None:
            return
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            jobs = self.jobs()
            if all(j["state"] not in ("queued", "running") for j in jobs):
                bad = [j for j in jobs if j["state"] != "succeeded"]
                if bad:
                    raise Failure(f"training jobs did not succeed: {bad}")
                print(f"   (waited for {len(jobs)} training job(s): succeeded)")
                return
            time.sleep(0.5)
        raise Failure("training jobs still running after 15 min")

    def stop_server(self):
        if self.server is None:
            return
        line, shown = self.server_line
        try:
            self.wait_for_jobs()
        finally:
            self.server.send_signal(signal.SIGTERM)
            try:
                rc = self.server.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.server.kill()
                rc = "still running 90 s after SIGTERM"
            self.server = None
        if rc != 0:
            self.failed.append((line, shown, f"after SIGTERM: {rc}"))
        else:
            self.ran.append((line, shown, 0.0))
            print(f"\n== README line {line}: the server stopped cleanly on SIGTERM")


def outputs(command):
    """The folders or files a command names with --out/--model/-o/-m (relative ones)."""
    words = shlex.split(command, comments=True)
    found = []
    for flag, value in zip(words, words[1:]):
        if flag in ("--out", "-o", "--model", "-m") and not value.startswith("/"):
            found.append(value)
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    parser.add_argument("--bin-dir", type=Path, default=target / "release")
    parser.add_argument("--only", help="run only the commands matching this regex")
    parser.add_argument("--list", action="store_true", help="print the commands, run none")
    a = parser.parse_args()

    found, toml = commands((REPO / "README.md").read_text())
    todo = []
    for line, text in found:
        if a.only and not re.search(a.only, text):
            continue
        for variant in expand(text):
            todo.append((line, variant))
    # ./pipeline.sh last: it trains with --force; the trainer examples need free folders.
    todo.sort(key=lambda lt: program(lt[1]) == "./pipeline.sh")
    if a.list:
        for line, text in todo:
            print(f"{line:5}  {text}")
        return 0
    for name in ("generator", "trainer", "detector", "vigil-bench", "vigil"):
        if not (a.bin_dir / name).exists():
            print(f"readme-examples: no {a.bin_dir / name}: build first (cargo test --release "
                  "--workspace --no-run, or cargo build --release --workspace --tests)", file=sys.stderr)
            return 2
    taken = [p for p in FRESH if (REPO / p).exists()]
    if taken and not a.only:
        print(f"readme-examples: {taken} exist here, and the README's trainer examples would "
              "refuse to replace them: run this in a fresh clone (git clone . /tmp/vigil)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="vigil-readme-") as scratch:
        runner = Runner(a.bin_dir.resolve(), Path(scratch), toml)
        block = None
        began = time.monotonic()
        try:
            for line, text in todo:
                # The server lives for its block: the examples that follow it in the README.
                if runner.server is not None and program(text) not in ("curl", "vigil"):
                    runner.stop_server()
                prog = program(text)
                if prog in ("docker", "cd", "mkdir") or "docker compose" in text:
                    runner.check_docker(line, text)
                    continue
                reason = runner.skip_reason(line, text)
                if reason:
                    runner.skipped.append((line, text, reason))
                    print(f"\n== README line {line}: {text}\n   skipped: {reason}")
                    continue
                runner.run(line, text)
            runner.stop_server()
        except Failure as e:
            runner.failed.append((0, "", str(e)))
        finally:
            if runner.server is not None:
                runner.server.kill()
        print(f"\n== README examples: {len(runner.ran)} ran, {len(runner.skipped)} not run, "
              f"{len(runner.failed)} failed ({time.monotonic() - began:.0f} s)")
        for line, text, why in runner.skipped:
            print(f"   not run, line {line}: {text[:90]} — {why}")
        for line, text, why in runner.failed:
            print(f"   FAILED, line {line}: {text[:90]} — {why}")
        return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
