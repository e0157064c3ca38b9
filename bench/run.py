#!/usr/bin/env python3
"""Benchmark: this binary against the official CLI, in one run, on a loopback mock.

    python3 bench/run.py [--runs N] [--only NAME ...] [--candidate PATH] [--no-build]
                         [--harness DIR] [--nagle-mock]

Builds `target/release/convex` (unless --candidate/--no-build), installs the
reference CLI (npm `convex` 1.48.0) with the conformance harness's
reference.sh (needs node and npm), starts the harness's mock of the Convex
APIs in-process on 127.0.0.1, and for each scenario runs both CLIs
alternately (one warm-up each, then N measured runs each). It prints, per
scenario, the median wall time and the peak resident memory of each side's
CLI process (its children not counted; see `run_once`) and the ratio.
Nothing leaves the machine.

The conformance harness is looked up in --harness, else $CONVEX_CONFORMANCE_DIR,
else ../shared/conformance next to this repository.

The mock's sockets get TCP_NODELAY, as a real server's would: the mock writes
response headers and body in two send() calls, so with Nagle's algorithm on,
a kept-alive connection waits ~40 ms per response for the client's delayed
ACK, whichever CLI it serves. --nagle-mock leaves the mock as it is.

Scenarios:
  version          `convex --version`
  token_create     `convex deployment token create bench` (logged in, CONVEX_DEPLOYMENT in .env.local)
  deploy_small     `convex deploy` of the conformance `basic` project with a prod deploy key
  deploy_100       the same project with 100 more function modules
  deploy_unchanged a second deploy of `basic` against a server that already has its modules
                   (also checks that our start_push uploads no module source)
  dev_save_ready   `convex dev` running; time from saving a function file to "Convex functions ready"
                   (typecheck disabled)
  env_set          `convex env set BENCH_SECRET <value>` with a prod deploy key (one update request)
  run_query        `convex run notes:list '{author: "alice"}'` with a prod deploy key (prints the result)
  export_small     `convex export --path snapshot.zip` with a dev deploy key: request, three export states
                   over the sync WebSocket, download of a 64 KiB ZIP (checks the file arrived whole)

With TypeScript (5.9.3 or 7.0.2, and @types/node, installed by this script
into ~/.cache/convex-bench/; TypeScript 7's project tsconfig gets
"types": ["node"], which it needs) and default flags (`--typecheck try`):
  dev_save_ts5, dev_save_ts7         `convex dev`: save -> "Convex functions ready"
  deploy_ts5, deploy_ts7             `convex deploy` of a fresh checkout (new HOME: no caches)
  deploy_ts5_second                  a second deploy in the same checkout and HOME (warm
                                     caches) after one function file changed
  deploy_ts5_unchanged_warm          a second deploy, nothing changed, warm caches, the
                                     server already has every module
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_HARNESS = os.path.join(os.path.dirname(ROOT), "shared", "conformance")
SHARED = None  # the conformance harness folder, set by use_harness()
mock_convex = None  # its mock module
NAGLE_MOCK = False


def use_harness(path):
    """Import the conformance harness's mock from `path`, or exit with advice."""
    global SHARED, mock_convex
    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, "mock_convex.py")):
        sys.exit(
            "bench: no conformance harness at %s (mock_convex.py is missing).\n"
            "Point at it with --harness DIR or CONVEX_CONFORMANCE_DIR=DIR." % path
        )
    SHARED = path
    sys.path.insert(0, path)
    sys.dont_write_bytecode = True
    import mock_convex as module
    mock_convex = module

PROD_KEY = "prod:brave-lynx-456|eyJ2MiI6ImJlbmNoLXByb2Qta2V5In0="
DEV_KEY = "dev:happy-otter-123|eyJ2MiI6ImJlbmNoLWRldi1rZXkifQ=="


def reference_prefix():
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            sys.exit("bench: `%s` is not on PATH; the reference CLI needs Node 20+ and npm." % tool)
    out = subprocess.run([os.path.join(SHARED, "reference.sh")], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("bench: installing the reference CLI failed:\n" + out.stderr.strip())
    return out.stdout.strip().split()


def reference_dir():
    return os.environ.get("CONVEX_REFERENCE_DIR", os.path.expanduser("~/.cache/convex-reference"))


def link_node_modules(project):
    src = os.path.join(reference_dir(), "node_modules")
    nm = os.path.join(project, "node_modules")
    os.makedirs(os.path.join(nm, "@esbuild"), exist_ok=True)
    for pkg in ("convex", "esbuild"):
        os.symlink(os.path.join(src, pkg), os.path.join(nm, pkg))
    for sub in os.listdir(os.path.join(src, "@esbuild")):
        os.symlink(os.path.join(src, "@esbuild", sub), os.path.join(nm, "@esbuild", sub))


TYPESCRIPT = {"ts5": "5.9.3", "ts7": "7.0.2"}
TYPES_NODE = "26.6.11"


def typescript_dir(flavour):
    """npm install of TypeScript `flavour` and @types/node, once, in ~/.cache/convex-bench."""
    base = os.path.join(os.path.expanduser("~"), ".cache", "convex-bench", "%s-%s" % (flavour, TYPESCRIPT[flavour]))
    marker = os.path.join(base, ".installed")
    if not os.path.exists(marker):
        os.makedirs(base, exist_ok=True)
        with open(os.path.join(base, "package.json"), "w") as f:
            json.dump({"private": True, "dependencies": {
                "typescript": TYPESCRIPT[flavour], "@types/node": TYPES_NODE}}, f)
        out = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                             cwd=base, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit("bench: installing TypeScript %s failed:\n%s" % (TYPESCRIPT[flavour], out.stderr))
        open(marker, "w").close()
    return os.path.join(base, "node_modules")


def add_typescript(project, flavour):
    """Links TypeScript and @types/node into the project (and, for TypeScript 7,
    names the node types in the tsconfig, which it needs)."""
    src = typescript_dir(flavour)
    nm = os.path.join(project, "node_modules")
    for entry in os.listdir(src):
        if entry.startswith(".") or os.path.lexists(os.path.join(nm, entry)):
            continue
        os.symlink(os.path.join(src, entry), os.path.join(nm, entry))
    if flavour == "ts7":
        path = os.path.join(project, "convex", "tsconfig.json")
        with open(path) as f:
            config = json.load(f)
        config["compilerOptions"]["types"] = ["node"]
        with open(path, "w") as f:
            json.dump(config, f, indent=2)


def make_project(tmp, extra_modules=0, typescript=None):
    project = os.path.join(tmp, "project")
    shutil.copytree(os.path.join(SHARED, "projects", "basic"), project)
    link_node_modules(project)
    if typescript:
        add_typescript(project, typescript)
    gen = os.path.join(project, "convex", "gen")
    if extra_modules:
        os.makedirs(gen)
    for i in range(extra_modules):
        with open(os.path.join(gen, "mod%03d.ts" % i), "w") as f:
            f.write(
                'import { query, mutation } from "../_generated/server";\n'
                'import { v } from "convex/values";\n\n'
                "export const get%d = query({\n"
                "  args: { id: v.id(\"notes\") },\n"
                "  handler: async (ctx, { id }) => await ctx.db.get(id),\n"
                "});\n\n"
                "export const set%d = mutation({\n"
                "  args: { id: v.id(\"notes\"), body: v.string() },\n"
                "  handler: async (ctx, { id, body }) => {\n"
                "    await ctx.db.patch(id, { body: body + \"%d\" });\n"
                "  },\n"
                "});\n" % (i, i, i)
            )
    return project


class Sandbox:
    """A temporary HOME + project + a running mock."""

    def __init__(self, routes=None, extra_modules=0, project=True, typescript=None):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="cvx-bench-"))
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.project = make_project(self.tmp, extra_modules, typescript) if project else self.tmp
        self.log = os.path.join(self.tmp, "requests.jsonl")
        self.server = mock_convex.MockServer(routes or [], self.log)
        if not NAGLE_MOCK:
            accept = self.server.httpd.get_request

            def get_request():
                sock, addr = accept()
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock, addr

            self.server.httpd.get_request = get_request
        self.server.configure(routes or [], {"HOME": self.home, "PROJECT": self.project})
        self.server.start()
        self.convex_dir = os.path.join(self.home, ".convex-test-%d" % self.server.port)

    def env(self, extra=None):
        env = {
            "PATH": os.environ["PATH"],
            "HOME": self.home,
            "TMPDIR": self.tmp,
            "CONVEX_PROVISION_HOST": self.server.url,
            "CONVEX_VERSION_API_ORIGIN": self.server.url,
            "NO_COLOR": "1",
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "NO_UPDATE_NOTIFIER": "1",
        }
        env.update(extra or {})
        return env

    def login(self):
        os.makedirs(self.convex_dir, exist_ok=True)
        with open(os.path.join(self.convex_dir, "config.json"), "w") as f:
            json.dump({"accessToken": "convex-pat-bench-0001"}, f)

    def records(self):
        return self.server.records

    def close(self):
        self.server.stop()
        end_leftovers(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)


def end_leftovers(tmp):
    """Ends what a run left running in its sandbox (our typecheck server
    outlives `deploy` on purpose), so that it takes no CPU from the next
    measured run, whichever side that is. Linux only: other systems skip it."""
    if not os.path.isdir("/proc"):
        return
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % entry)
        except OSError:
            continue
        if cwd == tmp or cwd.startswith(tmp + os.sep):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass


TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def run_once(cmd, cwd, env, timeout=120):
    """Run a command to completion; return (seconds, peak RSS in KiB, exit code, stderr).

    The peak is the CLI process's own. GNU time's %M is the starting point (a
    child forked from this large Python process would otherwise report
    Python's own pages as its peak, because Linux keeps the pre-exec
    high-water mark), but %M is the largest of the process and every child it
    has reaped: whether a CLI's esbuild or compiler child counts would then
    depend on whether the CLI waited for it before exiting, a race. So a
    `TreeSampler` also reads the VmHWM of the CLI and of its children while
    they run; when a child outgrew the CLI, %M is the child's and the CLI's
    own sampled figure is reported instead.
    """
    rss_file = None
    if TIME:
        fd, rss_file = tempfile.mkstemp(prefix="cvx-bench-rss-")
        os.close(fd)
        cmd = [TIME, "-f", "%M", "-o", rss_file] + cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid, wrapped=bool(rss_file))
    sampler.start()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.finish()
    peak = 0
    if rss_file:
        with open(rss_file) as f:
            text = f.read().strip().splitlines()
        os.unlink(rss_file)
        peak = int(text[-1]) if text and text[-1].isdigit() else 0
    if not peak or sampler.child_peak > sampler.own_peak + 1024:
        peak = sampler.own_peak or peak
    return elapsed, peak, proc.returncode, err.decode("utf-8", "replace")


class TreeSampler(threading.Thread):
    """Reads the VmHWM of a CLI process and of its children every 2 ms while
    it runs (Linux; elsewhere it finds nothing and the figures stay 0)."""

    def __init__(self, pid, wrapped):
        super().__init__(daemon=True)
        self.pid = pid  # GNU time's when `wrapped`, else the CLI's
        self.wrapped = wrapped
        self.own_peak = 0
        self.child_peak = 0
        self.done = threading.Event()

    def run(self):
        cli = None if self.wrapped else self.pid
        while not self.done.is_set():
            if cli is None:
                kids = child_pids(self.pid)
                cli = kids[0] if kids else None
            if cli is not None:
                self.own_peak = max(self.own_peak, peak_rss_kib(cli))
                for kid in child_pids(cli):
                    self.child_peak = max(self.child_peak, peak_rss_kib(kid))
            self.done.wait(0.002)

    def finish(self):
        self.done.set()
        self.join()


def child_pids(pid):
    """The children of every thread of `pid` (each thread has its own list)."""
    kids = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            pass
    return kids


# ---------------------------------------------------------------- scenarios

def scenario_version(cli):
    box = Sandbox(project=False)
    return box, cli + ["--version"], box.tmp, box.env(), None


def scenario_token_create(cli):
    box = Sandbox(project=False)
    box.login()
    with open(os.path.join(box.tmp, ".env.local"), "w") as f:
        f.write("CONVEX_DEPLOYMENT=dev:happy-otter-123\n")
    return box, cli + ["deployment", "token", "create", "bench"], box.tmp, box.env(), None


def deploy_scenario(extra_modules):
    def make(cli):
        box = Sandbox(extra_modules=extra_modules)
        return box, cli + ["deploy", "--typecheck", "disable"], box.project, box.env({"CONVEX_DEPLOY_KEY": PROD_KEY}), None
    return make


def start_push_bodies(records):
    # The mock logs a decoded JSON body as {"decoded_from": ..., "json": ...}.
    bodies = []
    for r in records:
        if r.get("path") == "/api/deploy2/start_push":
            body = r.get("body")
            bodies.append(body.get("json", body) if isinstance(body, dict) else body)
    return bodies


def scenario_deploy_unchanged(cli):
    # First learn the module hashes this CLI pushes, then serve them back from
    # get_config_hashes so the measured deploy finds every module unchanged.
    box = Sandbox()
    env = box.env({"CONVEX_DEPLOY_KEY": PROD_KEY})
    cmd = cli + ["deploy", "--typecheck", "disable"]
    run_once(cmd, box.project, env)
    bodies = start_push_bodies(box.records())
    box.close()
    if not bodies or not isinstance(bodies[-1], dict):
        raise RuntimeError("first deploy sent no start_push")
    import hashlib
    hashes = []
    for m in bodies[-1]["appDefinition"]["changedModules"]:
        h = hashlib.sha256((m["source"] + (m.get("sourceMap") or "")).encode()).hexdigest()
        hashes.append({"path": m["path"], "hash": h, "environment": m["environment"]})
    routes = [{
        "method": "POST", "path": "/api/get_config_hashes",
        "json": {"config": {"functions": "convex/", "authInfo": []}, "moduleHashes": hashes,
                 "nodeDependencies": [], "udfServerVersion": "1.0.0"},
    }]
    box = Sandbox(routes=routes)

    def check(records):
        for body in start_push_bodies(records):
            if isinstance(body, dict) and body["appDefinition"]["changedModules"]:
                paths = [m["path"] for m in body["appDefinition"]["changedModules"]]
                return "uploaded module source for %s" % paths
        return None

    return box, cmd, box.project, box.env({"CONVEX_DEPLOY_KEY": PROD_KEY}), check


def deploy_ts_scenario(flavour):
    """A fresh checkout with TypeScript, default flags (typecheck on)."""
    def make(cli):
        box = Sandbox(typescript=flavour)
        return box, cli + ["deploy"], box.project, box.env({"CONVEX_DEPLOY_KEY": PROD_KEY}), None
    return make


def edit_function_file(project, n):
    path = os.path.join(project, "convex", "notes.ts")
    with open(path, "a") as f:
        f.write("\nexport const added%d = query({ args: {}, handler: async () => %d });\n" % (n, n))


def deploy_second_scenario(flavour):
    """A deploy after a first one in the same checkout and HOME (warm caches),
    one function file changed in between."""
    def make(cli):
        box = Sandbox(typescript=flavour)
        env = box.env({"CONVEX_DEPLOY_KEY": PROD_KEY})
        _, _, code, err = run_once(cli + ["deploy"], box.project, env)
        if code != 0:
            box.close()
            raise RuntimeError("first deploy failed: %s" % err.strip().splitlines()[-1:])
        # Let the first deploy's files age: caches keep only settled inputs.
        time.sleep(0.1)
        edit_function_file(box.project, 1)
        return box, cli + ["deploy"], box.project, env, None
    return make


def scenario_deploy_unchanged_warm(cli):
    """Deploy twice in the same checkout and HOME with nothing changed; the
    server answers the second get_config_hashes with the modules of the
    first push, so nothing is uploaded."""
    box = Sandbox(typescript="ts5")
    env = box.env({"CONVEX_DEPLOY_KEY": PROD_KEY})
    # Two deploys before the measured one: the fixture's committed
    # `_generated/` is not what codegen writes, so the first deploy rewrites
    # it and the second bundles different sources; the hashes served back
    # are the second's, as a checkout with up-to-date `_generated/` has.
    for _ in range(2):
        _, _, code, err = run_once(cli + ["deploy"], box.project, env)
        if code != 0:
            box.close()
            raise RuntimeError("setup deploy failed: %s" % err.strip().splitlines()[-1:])
    bodies = start_push_bodies(box.records())
    if not bodies or not isinstance(bodies[-1], dict):
        box.close()
        raise RuntimeError("first deploy sent no start_push")
    import hashlib
    hashes = []
    for m in bodies[-1]["appDefinition"]["changedModules"]:
        h = hashlib.sha256((m["source"] + (m.get("sourceMap") or "")).encode()).hexdigest()
        hashes.append({"path": m["path"], "hash": h, "environment": m["environment"]})
    box.server.configure([{
        "method": "POST", "path": "/api/get_config_hashes",
        "json": {"config": {"functions": "convex/", "authInfo": []}, "moduleHashes": hashes,
                 "nodeDependencies": [], "udfServerVersion": "1.0.0"},
    }], {"HOME": box.home, "PROJECT": box.project})  # also clears the request log
    time.sleep(0.1)

    def check(records):
        for body in start_push_bodies(records):
            if isinstance(body, dict) and body["appDefinition"]["changedModules"]:
                return "uploaded module source for %s" % [m["path"] for m in body["appDefinition"]["changedModules"]]
        return None

    return box, cli + ["deploy"], box.project, env, check


def requests_to(records, path):
    return [r for r in records if r.get("path") == path]


def scenario_env_set(cli):
    routes = [{"method": "POST", "path": "/api/update_environment_variables", "json": {}}]
    box = Sandbox(routes=routes)

    def check(records):
        sent = requests_to(records, "/api/update_environment_variables")
        body = sent[-1].get("body", {}).get("json") if sent else None
        if body != {"changes": [{"name": "BENCH_SECRET", "value": "s3cr3t-bench-value"}]}:
            return "unexpected update_environment_variables body: %r" % (body,)
        return None

    cmd = cli + ["env", "set", "BENCH_SECRET", "s3cr3t-bench-value"]
    return box, cmd, box.project, box.env({"CONVEX_DEPLOY_KEY": PROD_KEY}), check


def scenario_run_query(cli):
    notes = [{"_id": "k57a%04d" % i, "_creationTime": 1700000000000 + i, "author": "alice",
              "body": "note %d" % i, "pinned": i % 2 == 0} for i in range(20)]
    routes = [{"method": "POST", "path": "/api/function",
               "json": {"status": "success", "value": notes, "logLines": []}}]
    box = Sandbox(routes=routes)

    def check(records):
        sent = requests_to(records, "/api/function")
        body = sent[-1].get("body", {}).get("json") if sent else None
        if not body or body.get("path") != "notes:list" or body.get("args") != {"author": "alice"}:
            return "unexpected /api/function body: %r" % (body,)
        return None

    cmd = cli + ["run", "notes:list", "{author: 'alice'}"]
    return box, cmd, box.project, box.env({"CONVEX_DEPLOY_KEY": PROD_KEY}), check


EXPORT_TS = "1700000000123456789"


def scenario_export_small(cli):
    import base64
    import random
    body = b"PK\x03\x04" + random.Random(7).randbytes(64 * 1024)
    start_ts = {"$integer": "Fc2FPf6clxc="}  # EXPORT_TS
    states = [{"_id": "e1", "_creationTime": 1700000000000.0, "state": "requested"},
              {"_id": "e1", "_creationTime": 1700000000000.0, "state": "in_progress", "start_ts": start_ts},
              {"_id": "e1", "_creationTime": 1700000000000.0, "state": "completed", "start_ts": start_ts,
               "complete_ts": start_ts, "zip_object_key": "exports/e1.zip"}]
    routes = [
        {"method": "POST", "path": "/api/export/request/zip", "json": {}},
        {"method": "GET", "path_regex": "/api/[^/]+/sync",
         "sync": {"queries": {"_system/cli/exports:getLatest": states}}},
        {"method": "GET", "path": "/api/export/zip/" + EXPORT_TS,
         "body_base64": base64.b64encode(body).decode()},
    ]
    box = Sandbox(routes=routes)
    target = os.path.join(box.project, "snapshot.zip")

    def check(records):
        try:
            with open(target, "rb") as f:
                got = f.read()
        except OSError as e:
            return "no snapshot.zip: %s" % e
        return None if got == body else "snapshot.zip differs from the served ZIP"

    return box, cli + ["export", "--path", "snapshot.zip"], box.project, box.env({"CONVEX_DEPLOY_KEY": DEV_KEY}), check


SCENARIOS = {
    "version": scenario_version,
    "token_create": scenario_token_create,
    "deploy_small": deploy_scenario(0),
    "deploy_100": deploy_scenario(100),
    "deploy_unchanged": scenario_deploy_unchanged,
    "deploy_ts5": deploy_ts_scenario("ts5"),
    "deploy_ts7": deploy_ts_scenario("ts7"),
    "deploy_ts5_second": deploy_second_scenario("ts5"),
    "deploy_ts5_unchanged_warm": scenario_deploy_unchanged_warm,
    "env_set": scenario_env_set,
    "run_query": scenario_run_query,
    "export_small": scenario_export_small,
}

# `convex dev` scenarios: name -> (TypeScript flavour or None, extra flags).
DEV_SCENARIOS = {
    "dev_save_ready": (None, ["--typecheck", "disable"]),
    "dev_save_ts5": ("ts5", []),
    "dev_save_ts7": ("ts7", []),
}


def measure(make, sides, runs):
    """Run both sides alternately: warm-up, then `runs` measured runs each."""
    samples = {label: ([], [], set()) for label, _ in sides}
    failed = {}
    for i in range(runs + 1):  # the first round is a warm-up
        for label, cli in sides:
            if label in failed:
                continue
            try:
                box, cmd, cwd, env, check = make(cli)
            except Exception as e:
                failed[label] = e
                continue
            try:
                elapsed, peak, code, err = run_once(cmd, cwd, env)
                if code != 0:
                    tail = err.strip().splitlines()[-3:]
                    failed[label] = RuntimeError("exited %s: %s" % (code, " | ".join(tail)))
                    continue
                if check:
                    problem = check(box.records())
                    if problem:
                        samples[label][2].add(problem)
            finally:
                box.close()
            if i > 0:
                samples[label][0].append(elapsed)
                samples[label][1].append(peak)
    result = {}
    for label, _ in sides:
        if label in failed:
            result[label] = failed[label]
        else:
            times, rss, notes = samples[label]
            result[label] = (statistics.median(times), max(rss), sorted(notes))
    return result


# ------------------------------------------------------------ dev latency

def dev_save_to_ready(cli, runs, label, typescript=None, flags=("--typecheck", "disable")):
    box = Sandbox(typescript=typescript)
    box.login()
    with open(os.path.join(box.project, ".env.local"), "w") as f:
        f.write("CONVEX_DEPLOYMENT=dev:happy-otter-123\n")
    cmd = cli + ["dev"] + list(flags) + ["--tail-logs", "disable"]
    # Peak memory is the CLI process's own high-water mark (VmHWM), read
    # while it still runs: GNU time's figure would also count any child the
    # CLI has reaped by then (a replaced esbuild process, say).
    proc = subprocess.Popen(cmd, cwd=box.project, env=box.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    ready = []
    cond = threading.Condition()

    def reader():
        for raw in proc.stderr:
            if b"functions ready" in raw:
                with cond:
                    ready.append(time.perf_counter())
                    cond.notify_all()

    threading.Thread(target=reader, daemon=True).start()

    def wait_ready(count, timeout=60):
        with cond:
            if not cond.wait_for(lambda: len(ready) >= count or proc.poll() is not None, timeout):
                raise RuntimeError("no 'functions ready' line within %ss" % timeout)
            if len(ready) < count:
                raise RuntimeError("exited %s before 'functions ready'" % proc.returncode)
            return ready[count - 1]

    latencies = []
    peak = 0
    try:
        wait_ready(1)
        target = os.path.join(box.project, "convex", "notes.ts")
        for i in range(runs + 1):
            time.sleep(1.0)  # let the watcher settle between saves
            with open(target, "a") as f:
                f.write("// edit %d\n" % i)
            saved = time.perf_counter()
            done = wait_ready(i + 2)
            if i > 0:
                latencies.append(done - saved)
        peak = peak_rss_kib(proc.pid)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        box.close()
    return statistics.median(latencies), peak, []


# ------------------------------------------------------------ MCP server

class McpSession:
    """`<cli> mcp start` with pipes: send JSON-RPC requests, wait for answers."""

    def __init__(self, cli, box):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cli + ["mcp", "start"], cwd=box.tmp, env=box.env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.next_id = 0

    def request(self, method, params=None, timeout=60):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited (code %s)" % self.proc.poll())
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # not a protocol line (the official server logs some to stdout)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s failed: %s" % (method, answer["error"]))
                return answer["result"]
        raise RuntimeError("no answer to %s within %ss" % (method, timeout))

    def notify(self, method):
        self.proc.stdin.write((json.dumps({"jsonrpc": "2.0", "method": method}) + "\n").encode())
        self.proc.stdin.flush()

    def initialize(self):
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.notify("notifications/initialized")

    def call(self, tool, arguments):
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError("%s failed: %s" % (tool, result["content"][0]["text"]))
        return json.loads(result["content"][0]["text"])

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def mcp_box():
    routes = [{"method": "GET", "path_regex": "/api/[^/]+/sync",
               "sync": {"queries": {"_system/cli/queryEnvironmentVariables:default": [
                   [{"name": "API_KEY", "value": "secret"}, {"name": "MODE", "value": "bench"}]]}}}]
    box = Sandbox(routes=routes)
    box.login()
    with open(os.path.join(box.project, ".env.local"), "w") as f:
        f.write("CONVEX_DEPLOYMENT=dev:happy-otter-123\n")
    return box


def mcp_start_to_tools_list(cli, runs, label):
    times, peaks = [], []
    for i in range(runs + 1):
        box = mcp_box()
        session = McpSession(cli, box)
        try:
            session.initialize()
            tools = session.request("tools/list")["tools"]
            elapsed = time.perf_counter() - session.started
            if len(tools) != 12:
                raise RuntimeError("tools/list gave %d tools" % len(tools))
            peak = peak_rss_kib(session.proc.pid)
        finally:
            session.close()
            box.close()
        if i > 0:
            times.append(elapsed)
            peaks.append(peak)
    return statistics.median(times), max(peaks), []


def mcp_100_calls(cli, runs, label):
    box = mcp_box()
    session = McpSession(cli, box)
    latencies = []
    try:
        session.initialize()
        status = session.call("status", {"projectDir": box.project})
        selector = status["availableDeployments"][0]["deploymentSelector"]
        for i in range(100):
            start = time.perf_counter()
            if i % 2 == 0:
                session.call("status", {"projectDir": box.project})
            else:
                names = session.call("envList", {"deploymentSelector": selector})["variables"]
                if [v["name"] for v in names] != ["API_KEY", "MODE"]:
                    raise RuntimeError("envList gave %s" % names)
            latencies.append(time.perf_counter() - start)
        rss = current_rss_kib(session.proc.pid)
    finally:
        session.close()
        box.close()
    return statistics.median(latencies), rss, []


def current_rss_kib(pid):
    """VmRSS of a running process, in KiB (0 where /proc is not available)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


LONG_RUNNING = {
    "mcp_start_to_tools_list": mcp_start_to_tools_list,
    "mcp_100_calls": mcp_100_calls,
}


def peak_rss_kib(pid):
    """VmHWM of a running process, in KiB (0 where /proc is not available)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ------------------------------------------------------------------ main

def fmt_time(s):
    return "%.1f ms" % (s * 1000) if s < 1 else "%.2f s" % s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--candidate", help="path of our binary (default: build target/release/convex)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--harness", default=os.environ.get("CONVEX_CONFORMANCE_DIR", DEFAULT_HARNESS),
                    help="the conformance harness folder (default: $CONVEX_CONFORMANCE_DIR "
                         "or ../shared/conformance)")
    ap.add_argument("--nagle-mock", action="store_true",
                    help="leave Nagle's algorithm on in the mock (see the module docs)")
    args = ap.parse_args()
    global NAGLE_MOCK
    NAGLE_MOCK = args.nagle_mock
    use_harness(args.harness)

    candidate = args.candidate or os.path.join(ROOT, "target", "release", "convex")
    if not args.candidate and not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    sides = [("ours", [os.path.abspath(candidate)]), ("reference", reference_prefix())]

    names = list(SCENARIOS) + list(DEV_SCENARIOS) + list(LONG_RUNNING)
    if args.only:
        names = [n for n in names if n in args.only]

    rows = []
    for name in names:
        if name in DEV_SCENARIOS:
            # One long-running process per side; saves are timed inside it.
            typescript, flags = DEV_SCENARIOS[name]
            result = {}
            for label, cli in sides:
                try:
                    result[label] = dev_save_to_ready(cli, args.runs, label, typescript, flags)
                except Exception as e:  # a failing side is reported, not fatal
                    result[label] = e
        elif name in LONG_RUNNING:
            # Long-running processes, timed from inside the session.
            result = {}
            for label, cli in sides:
                try:
                    result[label] = LONG_RUNNING[name](cli, args.runs, label)
                except Exception as e:  # a failing side is reported, not fatal
                    result[label] = e
        else:
            # Alternate the two sides run by run so background load hits both alike.
            result = measure(SCENARIOS[name], sides, args.runs)
        rows.append((name, result))
        print_row(name, result, flush=True)

    print()
    print("median of %d runs after one warm-up; peak RSS is the largest over the runs" % args.runs)


HEADER_PRINTED = [False]


def print_row(name, result, flush=False):
    if not HEADER_PRINTED[0]:
        print("%-26s %12s %10s %12s %10s %9s" % ("scenario", "ours", "ours RSS", "reference", "ref RSS", "speed-up"))
        HEADER_PRINTED[0] = True
    cells = []
    for label in ("ours", "reference"):
        r = result.get(label)
        if isinstance(r, Exception) or r is None:
            cells += ["failed", "-"]
        else:
            cells += [fmt_time(r[0]), "%.1f MiB" % (r[1] / 1024)]
    ours, ref = result.get("ours"), result.get("reference")
    ratio = "-"
    if isinstance(ours, tuple) and isinstance(ref, tuple) and ours[0] > 0:
        ratio = "%.1fx" % (ref[0] / ours[0])
    print("%-26s %12s %10s %12s %10s %9s" % (name, cells[0], cells[1], cells[2], cells[3], ratio), flush=flush)
    for label in ("ours", "reference"):
        r = result.get(label)
        if isinstance(r, Exception):
            print("    %s: %s" % (label, r))
        elif isinstance(r, tuple) and r[2]:
            for n in r[2]:
                print("    %s: %s" % (label, n))


if __name__ == "__main__":
    main()
