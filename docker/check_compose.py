"""The docker files checked without Docker (called by docker/check.sh, which provides the
virtual environment, the binaries and a temporary folder):

    python docker/check_compose.py resolve FILE.json   # compose.yaml as a bare `up` reads it
    python docker/check_compose.py context --tmp DIR   # the build context suffices
    python docker/check_compose.py run --bin-dir TARGET/release --tmp DIR
    python docker/check_compose.py steps               # the same steps as pipeline.sh

`run` runs compose.yaml's pipeline outside Docker: each service's command, as compose would
build it, run with the workspace's release binaries on a tiny scenario. What it reproduces
of `docker compose up`:
  - interpolation of ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR:+alt}, $$
    (every variable must have a default, so that a bare `docker compose up` works);
  - `command` strings split like a shell (compose's shellwords), lists taken as they are;
  - the scheduling: a service starts once every service it depends on (each condition must
    be service_completed_successfully) has completed successfully, so services that do not
    depend on each other run at the same time, as under compose;
  - bind mounts: every absolute path in a command must lie under a mount's target and is
    rewritten to the mount's source; the working directory is the image's WORKDIR;
    read_only mounts are given as copies, compared with the originals afterwards;
  - the program: the first word of the command must be one of the binaries the
    Dockerfile's last stage copies to /usr/local/bin, and is run from --bin-dir.
A flag or subcommand that does not exist makes the program exit with an error (clap), so
the check fails with the command line and the program's message. Then every output the
pipeline should leave is looked for (the charts as PNGs, the log sessions judged).

Services with a profile (`serve`) are not started by a bare `up`, so `run` leaves them out
of the pipeline; it then starts `serve` over the pipeline's output, runs its healthcheck
until it passes, asks it for the models and stops it with SIGTERM.

`steps` compares compose.yaml (at its defaults) with ./pipeline.sh: a service for each
`run PROGRAM -- ARGS` step, with the same subcommand and flags and its paths the same files
under /data, and no service pipeline.sh lacks; so a step added to one and not the other
fails.

`resolve` writes the interpolated file (default settings) as JSON for check.sh to validate
against the compose specification's schema too, since compose validates after
interpolation.
"""

import argparse
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

DOCKER = Path(__file__).resolve().parent
REPO = DOCKER.parent
COMPOSE = DOCKER / "compose.yaml"
TINY_SCENARIO = REPO / "generator" / "tests" / "data" / "small.toml"


class CheckError(Exception):
    pass


# --- interpolation --------------------------------------------------------------------------

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(text, env, where, used):
    """Compose's variable interpolation of one string."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = closing_brace(text, i + 2, where)
            out.append(substitute(text[i + 2 : end], env, where, used))
            i = end + 1
        else:
            m = NAME.match(text, i + 1)
            if not m:
                raise CheckError(f"{where}: a lone '$' (write $$ for a literal dollar)")
            raise CheckError(
                f"{where}: ${m.group(0)} has no default; write ${{{m.group(0)}:-…}} so that "
                "`docker compose up` works with no settings"
            )
    return "".join(out)


def closing_brace(text, start, where):
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise CheckError(f"{where}: unclosed ${{ in {text!r}")


def substitute(expr, env, where, used):
    m = NAME.match(expr)
    if not m:
        raise CheckError(f"{where}: invalid variable expression ${{{expr}}}")
    name, rest = m.group(0), expr[m.end() :]
    used.add(name)
    value = env.get(name)
    for op in (":-", "-", ":?", "?", ":+", "+"):
        if rest.startswith(op):
            arg = interpolate(rest[len(op) :], env, where, used)
            unset = value is None or (op.startswith(":") and value == "")
            if op in (":-", "-"):
                return arg if unset else value
            if op in (":?", "?"):
                if unset:
                    raise CheckError(f"{where}: {name} is required: {arg}")
                return value
            return "" if unset else arg
    if rest:
        raise CheckError(f"{where}: invalid variable expression ${{{expr}}}")
    raise CheckError(
        f"{where}: ${{{name}}} has no default; write ${{{name}:-…}} so that "
        "`docker compose up` works with no settings"
    )


def interpolate_tree(node, env, used, where="compose.yaml"):
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env, used, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(v, env, used, f"{where}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):
        return interpolate(node, env, where, used)
    return node


def load(env):
    """compose.yaml as compose sees it with these settings; x- extension keys dropped."""
    raw = YAML(typ="safe").load(COMPOSE.read_text())
    used = set()
    doc = interpolate_tree(raw, env, used)
    return {k: v for k, v in doc.items() if not k.startswith("x-")}, used


# --- the image, as far as the Dockerfile says ------------------------------------------------


def image_facts(dockerfile):
    """The programs the final stage installs in /usr/local/bin, and its WORKDIR."""
    lines = []
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + line.strip()
        else:
            lines.append(line.strip())
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    if not stages:
        raise CheckError(f"{dockerfile}: no FROM")
    final = lines[stages[-1] :]
    programs, workdir = set(), "/"
    for line in final:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word in ("ENTRYPOINT",):
            raise CheckError(f"{dockerfile}: the check assumes the image has no ENTRYPOINT")
        if word == "WORKDIR":
            workdir = rest.strip()
        if word == "COPY":
            args = [a for a in rest.split() if not a.startswith("--")]
            if len(args) >= 2 and args[-1].rstrip("/") == "/usr/local/bin":
                programs.update(Path(a).name for a in args[:-1])
    if not programs:
        raise CheckError(f"{dockerfile}: the last stage copies no program to /usr/local/bin")
    return programs, workdir


# --- services ------------------------------------------------------------------------------


def order(services):
    """Services in dependency order (file order among equals)."""
    done, result = set(), []

    def visit(name, path):
        if name in done:
            return
        if name in path:
            raise CheckError(f"depends_on cycle: {' → '.join(path + [name])}")
        deps = services[name].get("depends_on", {})
        if isinstance(deps, list):
            raise CheckError(
                f"services.{name}.depends_on: use the long form with "
                "condition: service_completed_successfully"
            )
        for dep, spec in deps.items():
            if dep not in services:
                raise CheckError(f"services.{name}.depends_on: no service {dep!r}")
            if spec.get("condition") != "service_completed_successfully":
                raise CheckError(
                    f"services.{name}.depends_on.{dep}: condition must be "
                    "service_completed_successfully (each step runs once, to completion)"
                )
            visit(dep, path + [name])
        done.add(name)
        result.append(name)

    for name in services:
        visit(name, [])
    return result


def mounts(name, service):
    """(container target, host source, read_only) of the service's bind mounts."""
    result = []
    for i, v in enumerate(service.get("volumes", [])):
        where = f"services.{name}.volumes[{i}]"
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) < 2:
                raise CheckError(f"{where}: {v!r} is not a bind mount (SOURCE:TARGET)")
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            if v.get("type") != "bind":
                raise CheckError(f"{where}: only bind mounts leave files on the host")
            source, target, read_only = v["source"], v["target"], v.get("read_only", False)
        if not (source.startswith((".", "/", "~"))):
            raise CheckError(f"{where}: {source!r} is a named volume, not a host folder")
        host = (DOCKER / os.path.expanduser(source)).resolve()
        if not host.is_dir():
            raise CheckError(f"{where}: the bind source {host} does not exist")
        result.append((target.rstrip("/") or "/", host, read_only))
    return result


def to_host(path, binds, where):
    for target, host, _ in sorted(binds, key=lambda b: -len(b[0])):
        if path == target or path.startswith(target + "/"):
            return str(host / path[len(target) :].lstrip("/"))
    raise CheckError(
        f"{where}: {path} is on no mount: it would stay inside the container and be lost"
    )


def argv(name, service, binds, programs):
    command = service.get("command")
    if command is None:
        raise CheckError(f"services.{name}: no command")
    if "entrypoint" in service:
        raise CheckError(f"services.{name}: the check assumes no entrypoint")
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    if not words or words[0] not in programs:
        raise CheckError(
            f"services.{name}.command: {words[:1]} is not one of the image's programs "
            f"{sorted(programs)}"
        )
    where = f"services.{name}.command"
    mapped = []
    for w in words[1:]:
        flag, eq, value = w.partition("=")
        if w.startswith("/"):
            w = to_host(w, binds, where)
        elif eq and flag.startswith("--") and value.startswith("/"):
            w = f"{flag}={to_host(value, binds, where)}"
        mapped.append(w)
    return words, mapped


def environment(name, service):
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = {}
        for item in env:
            k, eq, v = item.partition("=")
            if not eq:
                raise CheckError(f"services.{name}.environment: {k} has no value")
            pairs[k] = v
        env = pairs
    return {k: "" if v is None else str(v) for k, v in env.items()}


def snapshot(folder):
    return sorted(
        (str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None)
        for p in folder.rglob("*")
    )


def check_user(name, service):
    user = str(service.get("user", ""))
    if not re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user):
        raise CheckError(
            f"services.{name}.user: {user!r}: expected a non-root numeric UID:GID"
        )


def check_build(name, service):
    build = service.get("build")
    if build is None:
        raise CheckError(f"services.{name}: no build section (the image is built locally)")
    context = (DOCKER / build.get("context", ".")).resolve()
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    if not dockerfile.is_file():
        raise CheckError(f"services.{name}.build: no Dockerfile at {dockerfile}")
    return dockerfile


# --- the run ---------------------------------------------------------------------------------


def prepare(name, service, bin_dir, tmp):
    """The service's command line on this machine: (argv as in the container, argv here,
    working directory, environment, bind mounts as (target, host, original or None))."""
    check_user(name, service)
    dockerfile = check_build(name, service)
    programs, workdir = image_facts(dockerfile)
    binds = []
    for target, host, read_only in mounts(name, service):
        if read_only:
            # A copy, so that a write (a bug the engine would refuse) cannot reach the
            # clone; compared with the original afterwards.
            copy = Path(tempfile.mkdtemp(dir=tmp)) / target.strip("/").replace("/", "_")
            shutil.copytree(host, copy)
            binds.append((target, copy, host))
        else:
            binds.append((target, host, None))
    words, mapped = argv(name, service, binds, programs)
    cwd = to_host(workdir, binds, f"{dockerfile.name}: WORKDIR")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp / "home"),
        **environment(name, service),
    }
    exe = bin_dir / words[0]
    if not os.access(exe, os.X_OK):
        raise CheckError(f"{exe}: no such program (build the workspace first)")
    return words, [str(exe), *mapped], cwd, env, binds


def run_pipeline(settings, bin_dir, tmp, services_to_run=None):
    """Runs the services as `docker compose up` schedules them: each one starts when every
    service it depends on has completed successfully, so services that do not depend on
    each other run at the same time (as they would under compose, sharing the output
    folder). The first failure stops the run."""
    doc, used = load(settings)
    unknown = set(settings) - used
    if unknown:
        raise CheckError(f"settings not used by compose.yaml: {sorted(unknown)}")
    services = doc.get("services", {})
    # A service with a profile is not started by a bare `docker compose up` (serve).
    names = [n for n in order(services) if not services[n].get("profiles")]
    if services_to_run is not None:
        names = [n for n in names if n in services_to_run]
    jobs = {name: prepare(name, services[name], bin_dir, tmp) for name in names}
    waiting, running, done = list(names), {}, set()
    t0 = time.monotonic()
    try:
        while waiting or running:
            for name in list(waiting):
                deps = set(services[name].get("depends_on", {})) & set(names)
                if deps <= done:
                    waiting.remove(name)
                    words, command, cwd, env, _ = jobs[name]
                    log = open(tmp / f"{name}.log", "w+")
                    print(
                        f"  {time.monotonic() - t0:5.1f} s  {name} starts: {shlex.join(words)}",
                        flush=True,
                    )
                    proc = subprocess.Popen(
                        command,
                        cwd=cwd,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                    running[name] = (proc, log, time.monotonic())
            if not running:
                raise CheckError(f"services {waiting} can never start")  # order() forbids
            time.sleep(0.02)
            for name, (proc, log, started) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                log.seek(0)
                output = log.read().strip()
                log.close()
                words, command, _, _, binds = jobs[name]
                if proc.returncode != 0:
                    raise CheckError(
                        f"services.{name}: exit status {proc.returncode}\n"
                        f"    in the container: {shlex.join(words)}\n"
                        f"    run here as:      {shlex.join(command)}\n"
                        + "\n".join("    | " + line for line in output.splitlines()[-20:])
                    )
                print(
                    f"  {time.monotonic() - t0:5.1f} s  {name} done "
                    f"({time.monotonic() - started:.1f} s)",
                    flush=True,
                )
                for target, copy, original in binds:
                    if original is not None and snapshot(copy) != snapshot(original):
                        raise CheckError(
                            f"services.{name}: wrote into {target}, a read-only mount of "
                            f"{original}"
                        )
                done.add(name)
    finally:
        for proc, log, _ in running.values():
            proc.kill()
            proc.wait()
            log.close()
    return doc


PNG = b"\x89PNG\r\n\x1a\n"


def expect_files(out, paths):
    """Every path (a glob pattern matches at least one file) is a non-empty file; the .png
    ones are PNGs."""
    missing, bad = [], []
    for pattern in paths:
        found = sorted(out.glob(pattern))
        if not found:
            missing.append(pattern)
        for f in found:
            if not f.is_file() or f.stat().st_size == 0:
                bad.append(f"{f.relative_to(out)} (empty or not a file)")
            elif f.suffix == ".png" and f.read_bytes()[:8] != PNG:
                bad.append(f"{f.relative_to(out)} (not a PNG)")
    if missing:
        raise CheckError(f"missing in the output folder after `docker compose up`: {missing}")
    if bad:
        raise CheckError(f"bad files in the output folder after `docker compose up`: {bad}")


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_config_defaults(shown_file, used, overridden):
    """The commented values in a docker/config/ file are the trainer's defaults: `used` is
    the config the trainer wrote beside the model, and the keys the run set with flags
    (`overridden`) must have the flags' values."""
    text = shown_file.read_text()
    uncommented = "\n".join(
        line[2:] for line in text.splitlines() if re.match(r"# (\[\w+\]|\w+ = )", line)
    )
    shown = tomllib.loads(uncommented)
    name = f"docker/config/{shown_file.name}"
    for key, value in overridden.items():
        if used.get(key) != value:
            raise CheckError(f"--{key} {value} did not reach the trainer: {used.get(key)!r}")
        shown[key] = value
    for key, value in shown.items():
        if isinstance(value, dict):
            for k, v in value.items():
                if used.get(key, {}).get(k) != v:
                    raise CheckError(
                        f"{name} shows {key}.{k} = {v!r}, "
                        f"but the trainer's default is {used.get(key, {}).get(k)!r}"
                    )
        elif used.get(key) != value:
            raise CheckError(
                f"{name} shows {key} = {value!r}, but the trainer's default is "
                f"{used.get(key)!r}"
            )
    if set(shown) != set(used):
        raise CheckError(
            f"{name} does not show every key of the trainer's config: "
            f"{sorted(set(used) - set(shown))}"
        )


# --- the same steps as pipeline.sh ------------------------------------------------------------


def options(words, where):
    """A command's subcommand and options: {flag: value or None}. A word after a flag is
    its value unless it is a flag itself."""
    sub = words[1] if len(words) > 1 and not words[1].startswith("-") else None
    opts, rest = {}, words[2 if sub else 1 :]
    i = 0
    while i < len(rest):
        w = rest[i]
        if not w.startswith("-"):
            raise CheckError(f"{where}: {w!r} follows no flag")
        flag, eq, value = w.partition("=")
        if eq:
            opts[flag] = value
        elif i + 1 < len(rest) and not rest[i + 1].startswith("-"):
            opts[flag] = rest[i + 1]
            i += 1
        else:
            opts[flag] = None
        i += 1
    return sub, opts


# What may differ between a step of pipeline.sh and its service: the service reads the
# scenario and the training configs from its mounts (--config), pipeline.sh keeps the
# DeepLog trainer's per-epoch progress out of its output (--quiet).
ONLY_IN_COMPOSE = {"--config"}
ONLY_IN_PIPELINE = {"--quiet", "-q"}


def in_container(value):
    """A path of pipeline.sh (relative to the repository root) inside the containers:
    data/generated/… is /data/generated/…, charts/, models/ and results/ are under /data."""
    return "/" + value if value.startswith("data/") else "/data/" + value


def check_pipeline_steps():
    """compose.yaml (at its defaults) runs the steps ./pipeline.sh runs, and no others: for
    each `run PROGRAM -- ARGS` line a service with the same program, subcommand and flags,
    its paths the same files under /data."""
    script = (REPO / "pipeline.sh").read_text().replace("\\\n", " ")
    steps = []
    for line in script.splitlines():
        if not line.startswith("run "):
            continue  # only the steps; other lines are shell that shlex need not follow
        words = shlex.split(line, comments=True)
        if words[:1] == ["run"] and "--" in words:
            args = [w for w in words[words.index("--") + 1 :] if w != "$@"]
            steps.append([words[1], *args])
    if not steps:
        raise CheckError("pipeline.sh: no `run PROGRAM -- ARGS` steps found")
    doc, _ = load({})
    services = {
        name: shlex.split(s["command"]) if isinstance(s["command"], str) else s["command"]
        for name, s in doc["services"].items()
        if not s.get("profiles")  # not a pipeline step (serve)
    }
    unmatched = dict(services)
    problems = []
    for step in steps:
        where = f"pipeline.sh: {shlex.join(step)}"
        sub, want = options(step, where)
        candidates = [
            n for n, w in unmatched.items() if w[0] == step[0] and options(w, n)[0] == sub
        ]
        if not candidates:
            program = " ".join(step[:2] if sub else step[:1])
            problems.append(f"{where}\n    no service of compose.yaml runs `{program}`")
            continue
        name = candidates[0]
        _, have = options(unmatched.pop(name), f"services.{name}.command")
        diffs = []
        for flag in sorted(set(want) | set(have)):
            if flag not in have:
                if flag not in ONLY_IN_PIPELINE:
                    diffs.append(f"{flag} missing")
            elif flag not in want:
                if flag not in ONLY_IN_COMPOSE:
                    diffs.append(f"{flag} not in pipeline.sh")
            elif want[flag] != have[flag] and not (
                want[flag] and have[flag] and have[flag] == in_container(want[flag])
            ):
                diffs.append(f"{flag} {have[flag]} (pipeline.sh: {want[flag]})")
        if diffs:
            problems.append(f"{where}\n    services.{name}: " + "; ".join(diffs))
        else:
            print(f"  {name}: {shlex.join(step)}")
    for name in unmatched:
        problems.append(f"services.{name}: a step pipeline.sh does not run")
    if problems:
        raise CheckError(
            "compose.yaml and pipeline.sh run different steps:\n" + "\n".join(problems)
        )


# --- the build context ----------------------------------------------------------------------


def check_context(tmp):
    """What docker/Dockerfile.dockerignore lets into the build context is enough to build
    the image's programs: copied to a folder of its own, the workspace resolves with the lock
    file as it is, every file a source embeds is there, and the workspace's binaries are
    the programs the Dockerfile installs."""
    from docker.utils.build import exclude_paths  # docker-py: the .dockerignore rules

    ignore = DOCKER / "Dockerfile.dockerignore"
    patterns = [
        line.strip()
        for line in ignore.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    context = tmp / "context"
    size = 0
    for f in exclude_paths(str(REPO), patterns, dockerfile="docker/Dockerfile"):
        source = REPO / f
        if source.is_file():
            (context / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / f)
            size += source.stat().st_size
    for rs in context.rglob("*.rs"):
        for m in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"', rs.read_text()):
            if not (rs.parent / m.group(1)).resolve().is_file():
                raise CheckError(
                    f"{rs.relative_to(context)} embeds {m.group(1)}, which "
                    f"{ignore.name} keeps out of the build context"
                )
    # Only this platform's packages: other platforms' (android_system_properties, …) are
    # never downloaded by a build here, and --offline cannot fetch them.
    host = next(
        line.split(":", 1)[1].strip()
        for line in subprocess.run(
            ["rustc", "-vV"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if line.startswith("host:")
    )
    proc = subprocess.run(
        ["cargo", "metadata", "--locked", "--offline", "--format-version", "1",
         "--filter-platform", host],
        cwd=context,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise CheckError(
            f"the workspace does not resolve from the build context alone "
            f"({ignore.name} leaves something out?):\n{proc.stderr.strip()}"
        )
    metadata = json.loads(proc.stdout)
    members = set(metadata["workspace_members"])
    bins = {
        t["name"]
        for p in metadata["packages"]
        if p["id"] in members
        for t in p["targets"]
        if "bin" in t["kind"]
    }
    programs, _ = image_facts(DOCKER / "Dockerfile")
    if bins != programs:
        raise CheckError(
            f"the workspace builds the programs {sorted(bins)}, but the Dockerfile installs "
            f"{sorted(programs)}"
        )
    print(
        f"build context: {sum(1 for p in context.rglob('*') if p.is_file())} files, "
        f"{size / 1e6:.1f} MB; the workspace resolves from it (--locked) and builds "
        f"{', '.join(sorted(bins))}, the programs the image installs"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    resolve = sub.add_parser("resolve", help="write compose.yaml as a bare `up` resolves it")
    resolve.add_argument("json", type=Path)
    context = sub.add_parser("context", help="check the build context")
    context.add_argument("--tmp", type=Path, required=True)
    sub.add_parser("steps", help="compose.yaml runs the steps of pipeline.sh")
    run = sub.add_parser("run", help="run the services outside Docker")
    run.add_argument("--bin-dir", type=Path, required=True)
    run.add_argument("--tmp", type=Path, required=True)
    a = parser.parse_args()
    try:
        if a.what == "resolve":
            # With no settings at all: what a bare `docker compose up` resolves to.
            doc, _ = load({})
            for name, service in doc.get("services", {}).items():
                mounts(name, service)  # the default bind sources exist in a clone
            a.json.write_text(json.dumps(doc, indent=2))
        elif a.what == "context":
            check_context(a.tmp.resolve())
        elif a.what == "steps":
            check_pipeline_steps()
        else:
            run_checks(a.bin_dir.resolve(), a.tmp.resolve())
    except CheckError as e:
        print(f"docker/check: {e}", file=sys.stderr)
        sys.exit(1)


def run_checks(bin_dir, tmp):
    (tmp / "home").mkdir(parents=True, exist_ok=True)

    # The default scenario as shipped, through the generator service (validation only).
    print("the default scenario, checked through the generator service:")
    (tmp / "unused").mkdir()
    run_pipeline(
        {"VIGIL_OUT": str(tmp / "unused"), "VIGIL_GENERATOR_ARGS": "--check"},
        bin_dir,
        tmp,
        services_to_run={"generator"},
    )

    # The whole pipeline on a tiny scenario (four hosts, four days: about 6,000 request and
    # job sessions in each half of the log, 250 of the test ones in incidents), with a flag
    # passed through each *_ARGS (those of the README's example; three DeepLog epochs keep
    # it to seconds).
    out, scenarios = tmp / "out", tmp / "scenarios"
    out.mkdir()
    scenarios.mkdir()
    shutil.copy(TINY_SCENARIO, scenarios / "tiny.toml")
    print("docker compose up, on a tiny scenario:")
    run_pipeline(
        {
            "VIGIL_OUT": str(out),
            "VIGIL_SCENARIOS": str(scenarios),
            "VIGIL_SCENARIO": "tiny.toml",
            "VIGIL_GENERATOR_ARGS": "--seed 7",
            "VIGIL_TRAINER_ARGS": "--epochs 50",
            "VIGIL_DETECTOR_ARGS": "--value 0.6",
            "VIGIL_TRAINER_LOGS_ARGS": "--epochs 3",
            "VIGIL_DETECTOR_LOGS_ARGS": "--top-g 5",
        },
        bin_dir,
        tmp,
    )
    expect_files(
        out,
        [
            # generator
            "generated/train/metrics.csv",
            "generated/train/logs.log",
            "generated/test/metrics.csv",
            "generated/test/labels.csv",
            "generated/test/logs.log",
            "generated/test/session_labels.csv",
            "charts/generator/distributions.png",
            # trainer
            "models/metrics/manifest.json",
            "models/metrics/loss_curves.png",
            # detector
            "results/scores.csv",
            "results/anomalies.csv",
            "results/evaluation.txt",
            "results/evaluation.json",
            "results/summary.json",
            "results/charts/error_histogram.png",
            "results/charts/scores.png",
            "results/charts/*/[0-9][0-9][0-9][0-9]-[0-9][0-9].png",
            # trainer-logs
            "models/logs/manifest.json",
            "models/logs/config.json",
            "models/logs/transitions.dot",
            # detector-logs
            "results/logs/sessions.csv",
            "results/logs/summary.json",
            "results/logs/evaluation.txt",
            "results/logs/evaluation.json",
        ],
    )
    months = sorted(str(p.relative_to(out)) for p in out.glob("results/charts/*/*.png"))
    print(f"outputs present, among them {len(months)} host/month charts ({months[0]}, …)")

    manifest = json.loads((out / "models/logs/manifest.json").read_text())
    if (manifest.get("task"), manifest.get("model_kind")) != ("logs", "deeplog"):
        raise CheckError(f"models/logs/manifest.json: not a DeepLog model: {manifest}")
    if not (out / "models/logs/transitions.dot").read_text().lstrip().startswith("digraph"):
        raise CheckError("models/logs/transitions.dot: not a Graphviz digraph")
    sessions = csv_rows(out / "results/logs/sessions.csv")
    flagged = sum(r["anomalous"] == "1" for r in sessions)
    summary = json.loads((out / "results/logs/summary.json").read_text())
    if not sessions or not flagged:
        raise CheckError(
            f"results/logs/sessions.csv: {len(sessions)} sessions, {flagged} anomalous; the "
            "tiny scenario's test log should have sessions, some of them in incidents"
        )
    if summary.get("top_g") != 5:
        raise CheckError(f"--top-g 5 did not reach the detector: top_g {summary.get('top_g')}")
    if "evaluation" not in summary:
        raise CheckError("results/logs/summary.json: no evaluation (--labels not read?)")
    print(f"results/logs/sessions.csv: {len(sessions)} sessions, {flagged} anomalous")

    check_config_defaults(
        DOCKER / "config" / "training.toml",
        tomllib.loads((out / "models/metrics/config.toml").read_text()),
        {"epochs": 50},
    )
    check_config_defaults(
        DOCKER / "config" / "deeplog.toml",
        json.loads((out / "models/logs/config.json").read_text()),
        {"epochs": 3},
    )
    print("docker/config/training.toml and deeplog.toml show the trainers' defaults")

    check_serve(bin_dir, tmp, out)


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_serve(bin_dir, tmp, out):
    """The `serve` service over the pipeline's output: its command started as compose
    would (mounts mapped), its healthcheck run until it passes, the pipeline's two models
    listed by the API, then SIGTERM and a clean exit. One departure: the container's port
    8080 becomes a free loopback port here, in the command and in the healthcheck alike."""
    import signal
    import urllib.request

    doc, _ = load({"VIGIL_OUT": str(out)})
    service = doc["services"]["serve"]
    if service.get("profiles") != ["serve"]:
        raise CheckError("services.serve: expected profiles: [serve] (not part of a bare up)")
    test = service.get("healthcheck", {}).get("test", [])
    if test[:2] != ["CMD", "vigil"]:
        raise CheckError(f"services.serve.healthcheck.test: expected [CMD, vigil, …], found {test}")
    port = str(free_port())
    words, cmd, cwd, env, _ = prepare("serve", service, bin_dir, tmp)
    cmd = [w.replace(":8080", f":{port}") for w in cmd]
    check = [str(bin_dir / "vigil"), *(w.replace(":8080", f":{port}") for w in test[2:])]
    print(f"serve: {shlex.join(words)} (port {port} here), healthcheck {shlex.join(test[1:])}")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise CheckError(
                    f"services.serve: exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}"
                )
            if subprocess.run(check, capture_output=True).returncode == 0:
                break
            if time.monotonic() > deadline:
                raise CheckError("services.serve: the healthcheck never passed within 60 s")
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=10) as r:
            listed = sorted(m["name"] for m in json.load(r)["models"])
        if listed != ["logs", "metrics"]:
            raise CheckError(f"services.serve: /v1/models lists {listed}, not the pipeline's logs and metrics")
        print(f"serve: healthy, serving the pipeline's models {listed}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise CheckError("services.serve: still running 30 s after SIGTERM")
    if rc != 0:
        raise CheckError(f"services.serve: exit status {rc} after SIGTERM")
    print("serve: stopped cleanly on SIGTERM")


if __name__ == "__main__":
    main()
