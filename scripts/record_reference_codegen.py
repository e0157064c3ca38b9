#!/usr/bin/env python3
"""Record what the official CLI writes into `_generated/` for each codegen fixture.

For every case folder `tests/fixtures/codegen/<case>/` holding a hand-written
`case.json` and an input `project/`, this:

1. copies `project/` into a temporary folder and links the reference install's
   `convex`, `esbuild` and `@esbuild/*` into its `node_modules`;
2. starts the conformance mock (`mock_convex.py`) with a `start_push` route that
   answers the case's `analysis` (completed with the fields the CLI requires);
3. runs `node <reference>/bin/main.js codegen --typecheck disable <args>` with a
   self-hosted deployment pointing at the mock (one run per step);
4. writes `expected/`: `analysis.json` (exactly what the mock served),
   `modules.json` (the entry points of every component directory, as the
   bundler lists them, after the last step), `steps.json` (per step: the
   arguments, exit code, stdout with the project path replaced by
   `<PROJECT>`, and the module lists at that step), `deleted.json`, and `files/` (every
   file created or changed by the runs, byte for byte).

These files are the reference's outputs; the Rust tests only read them.
Usage: record_reference_codegen.py [--only CASE ...] [--reference-dir DIR]
"""
import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "codegen")
CONFORMANCE = os.environ.get("CONVEX_CONFORMANCE_DIR", os.path.join(os.path.dirname(ROOT), "..", "shared", "conformance"))
if not os.path.isdir(CONFORMANCE):
    CONFORMANCE = "/work/shared/conformance"

UDF_CONFIG = {
    "serverVersion": "0.0.0-mock",
    "importPhaseRngSeed": {"$bytes": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    "importPhaseUnixTimestamp": {"$integer": "AAAAAAAAAAA="},
}


def complete_function(f):
    """Fill the fields the CLI validates; validators may be written as objects."""
    f = dict(f)
    f.setdefault("pos", None)
    f.setdefault("visibility", {"kind": "public"})
    for key in ("args", "returns"):
        v = f.get(key)
        if v is not None and not isinstance(v, str):
            f[key] = json.dumps(v, separators=(",", ":"))
        f.setdefault(key, None)
    return f


def complete_analysis(analysis):
    out = {}
    for def_path, entry in analysis.items():
        entry = copy.deepcopy(entry)
        definition = entry.setdefault("definition", {})
        definition.setdefault("path", def_path)
        if def_path == "":
            definition.setdefault("definitionType", {"type": "app"})
        else:
            definition.setdefault("definitionType", {"type": "childComponent", "name": def_path.split("/")[-1]})
        definition.setdefault("childComponents", [])
        definition.setdefault("httpMounts", {})
        definition.setdefault("exports", {"type": "branch", "branch": []})
        if "envVars" in definition:
            env = []
            for name, decl in definition["envVars"]:
                decl = dict(decl)
                decl.setdefault("type", "value")
                if not isinstance(decl["value"], str):
                    decl["value"] = json.dumps(decl["value"], separators=(",", ":"))
                env.append([name, decl])
            definition["envVars"] = env
        functions = {}
        for module, m in entry.get("functions", {}).items():
            m = dict(m)
            m["functions"] = [complete_function(f) for f in m.get("functions", [])]
            m.setdefault("httpRoutes", None)
            m.setdefault("cronSpecs", None)
            m.setdefault("sourceMapped", None)
            functions[module] = m
        entry["functions"] = functions
        entry.setdefault("udfConfig", UDF_CONFIG)
        out[def_path] = entry
    return out


def default_analysis():
    return {"": {"schema": {"tables": [], "schemaValidation": True}}}


def start_push_response(analysis):
    return {
        "environmentVariables": {},
        "externalDepsId": None,
        "componentDefinitionPackages": {},
        "appAuth": [],
        "analysis": analysis,
        "app": {
            "definitionPath": "",
            "componentPath": "",
            "args": {},
            "childComponents": {},
            "httpRoutes": {"httpModuleRoutes": None, "mounts": []},
            "exports": {},
        },
        "schemaChange": {"allocatedComponentIds": {}, "schemaIds": {}},
    }


# ---- entry points (spec §4.2), used to record each component's module list ----
EXTENSIONS = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".jsx")
IMPORT_EXPORT = re.compile(r"^\s{0,100}(import|export)", re.M)


def entry_points(directory):
    found = []

    def walk(d):
        for name in sorted(os.listdir(d), key=lambda s: s.encode("utf-16-be")):
            full = os.path.join(d, name)
            if os.path.isdir(full):
                if os.path.exists(os.path.join(full, "convex.config.ts")):
                    continue
                walk(full)
                continue
            rel = os.path.relpath(full, directory).replace(os.sep, "/")
            if not rel.endswith(EXTENSIONS):
                continue
            if rel.startswith("_generated/"):
                continue
            if name.startswith(".") or name.startswith("#"):
                continue
            if name in ("schema.ts", "schema.js"):
                continue
            if name.count(".") > 1:
                continue
            if " " in rel:
                continue
            if rel.endswith((".ts", ".tsx")):
                with open(full, encoding="utf-8", errors="replace") as f:
                    if not IMPORT_EXPORT.search(f.read()):
                        continue
            found.append(rel)

    if os.path.isdir(directory):
        walk(directory)
    return sorted(found)


def functions_dir(project):
    try:
        with open(os.path.join(project, "convex.json")) as f:
            return json.load(f).get("functions", "convex/")
    except FileNotFoundError:
        return "convex/"


def component_modules(project, analysis):
    """The module list the bundler hands to codegen, per component directory."""
    fdir = os.path.normpath(os.path.join(project, functions_dir(project)))
    modules = {"": entry_points(fdir)}
    for def_path in analysis:
        if def_path:
            modules[def_path] = entry_points(os.path.normpath(os.path.join(fdir, def_path)))
    return modules


def link_node_modules(project, reference_dir):
    src_nm = os.path.join(reference_dir, "node_modules")
    nm = os.path.join(project, "node_modules")
    os.makedirs(nm, exist_ok=True)
    for pkg in ("convex", "esbuild"):
        os.symlink(os.path.join(src_nm, pkg), os.path.join(nm, pkg))
    os.makedirs(os.path.join(nm, "@esbuild"), exist_ok=True)
    for sub in os.listdir(os.path.join(src_nm, "@esbuild")):
        os.symlink(os.path.join(src_nm, "@esbuild", sub), os.path.join(nm, "@esbuild", sub))


def snapshot(project):
    files = {}
    for d, dirs, names in os.walk(project):
        rel_d = os.path.relpath(d, project)
        dirs[:] = [x for x in dirs if not (rel_d == "." and x == "node_modules")]
        for n in names:
            full = os.path.join(d, n)
            if os.path.islink(full):
                continue
            with open(full, "rb") as f:
                files[os.path.relpath(full, project).replace(os.sep, "/")] = f.read()
    return files


def start_mock(tmp, routes):
    routes_path = os.path.join(tmp, "routes.json")
    with open(routes_path, "w") as f:
        json.dump(routes, f)
    port_file = os.path.join(tmp, "port")
    log = os.path.join(tmp, "requests.jsonl")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(CONFORMANCE, "mock_convex.py"), "--log", log,
         "--routes", routes_path, "--port-file", port_file],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, "http://127.0.0.1:" + open(port_file).read().strip(), log
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("mock did not start")


def record_case(case_dir, reference_dir):
    name = os.path.basename(case_dir)
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    analysis = complete_analysis(case.get("analysis", default_analysis()))
    steps = case.get("steps", [{}])
    expected = os.path.join(case_dir, "expected")
    tmp = tempfile.mkdtemp(prefix="cg-rec-")
    try:
        project = os.path.join(tmp, "project")
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        src = os.path.join(case_dir, "project")
        if os.path.isdir(src):
            shutil.copytree(src, project, symlinks=True)
        else:
            os.makedirs(project)
        link_node_modules(project, reference_dir)
        before = snapshot(project)
        proc, url, log = start_mock(tmp, [
            {"name": "case:start_push", "method": "POST", "path": "/api/deploy2/start_push",
             "json": start_push_response(analysis)},
        ])
        step_records = []
        try:
            for step in steps:
                for rel, content in step.get("edit", {}).items():
                    path = os.path.join(project, rel)
                    if content is None:
                        os.remove(path)
                    else:
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        with open(path, "w") as f:
                            f.write(content)
                env = {
                    "PATH": os.environ["PATH"], "HOME": home, "TMPDIR": tmp,
                    "CONVEX_SELF_HOSTED_URL": url, "CONVEX_SELF_HOSTED_ADMIN_KEY": "x",
                    "CONVEX_PROVISION_HOST": url, "CONVEX_VERSION_API_ORIGIN": url,
                    "NO_COLOR": "1", "TERM": "dumb", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                    "TZ": "UTC", "NO_UPDATE_NOTIFIER": "1",
                }
                args = ["codegen", "--typecheck", "disable"] + step.get("args", case.get("args", []))
                step_modules = component_modules(project, analysis)
                run = subprocess.run(
                    ["node", os.path.join(reference_dir, "node_modules", "convex", "bin", "main.js")] + args,
                    cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
                stdout = run.stdout.decode().replace(project, "<PROJECT>")
                step_records.append({"args": args, "exit_code": run.returncode, "stdout": stdout,
                                     "modules": step_modules})
                if run.returncode != 0 and not step.get("expect_failure"):
                    print(run.stderr.decode(), file=sys.stderr)
                    raise SystemExit("%s: reference exited %d" % (name, run.returncode))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        after = snapshot(project)
        modules = component_modules(project, analysis)
        with open(log) as f:
            pushes = [json.loads(line) for line in f if '"/api/deploy2/start_push"' in line]
        for req in pushes:
            body = req.get("body", {})
            if isinstance(body, dict) and "appDefinition" in body:
                pushed = sorted(m["path"] for m in body["appDefinition"]["changedModules"])
                mine = sorted(re.sub(r"\.[a-z]+$", ".js", m) for m in modules[""])
                if pushed != mine:
                    raise SystemExit("%s: module list %s differs from pushed %s" % (name, mine, pushed))
        if os.path.isdir(expected):
            shutil.rmtree(expected)
        os.makedirs(os.path.join(expected, "files"))
        for rel, data in sorted(after.items()):
            if before.get(rel) != data:
                out = os.path.join(expected, "files", rel)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "wb") as f:
                    f.write(data)
        deleted = sorted(rel for rel in before if rel not in after)

        def dump(fname, value):
            with open(os.path.join(expected, fname), "w") as f:
                json.dump(value, f, indent=2, ensure_ascii=False)
                f.write("\n")

        dump("analysis.json", analysis)
        dump("modules.json", modules)
        dump("steps.json", step_records)
        dump("deleted.json", deleted)
        digest = hashlib.sha256(b"".join(after[k] for k in sorted(after) if before.get(k) != after[k])).hexdigest()[:12]
        print("%-28s ok  %d changed/created, %d deleted  [%s]" % (name, sum(1 for k in after if before.get(k) != after[k]), len(deleted), digest))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--reference-dir", default=os.environ.get("CONVEX_REFERENCE_DIR", os.path.expanduser("~/.cache/convex-reference")))
    args = ap.parse_args()
    cases = sorted(d for d in os.listdir(FIXTURES) if os.path.exists(os.path.join(FIXTURES, d, "case.json")))
    if args.only:
        cases = [c for c in cases if c in args.only]
    for c in cases:
        record_case(os.path.join(FIXTURES, c), args.reference_dir)


if __name__ == "__main__":
    main()
