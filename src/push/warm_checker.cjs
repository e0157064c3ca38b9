"use strict";
// The warm TypeScript checker of `convex dev` (see src/push/warm_checker.rs).
//
// Runs with the project's own TypeScript and keeps its program between
// checks, so that a check after a save only redoes what the save affects.
//
//   node warm_checker.cjs <mode> <compiler package folder>
//
// mode `watch`: TypeScript 4.x/5.x through its JavaScript API: the watch
//   program of `tsc --watch`, with a system whose file and folder watchers
//   are polled (stat times and sizes, folder listings) at each check instead
//   of being driven by the OS, and whose timers run when the check runs.
//   Diagnostics and their text come from the same functions `tsc` uses.
// mode `api`: TypeScript 7 through its API server (`typescript/unstable/sync`),
//   told which files changed. It answers pass or fail; the CLI then runs a
//   fresh `tsc --pretty` for the messages.
//
// Protocol: one JSON request per line on stdin, one JSON answer per line on
// stdout. The first line out is {"ready": true, "version", "compiler" (the
// file loaded)} or {"unsupported": reason}. A request {"id", "project", "pretty"} is answered
// with {"id", "status": "passed"|"failed"|"fallback", "files", "output",
// "reason"}; "fallback" means "run the real tsc": this checker could not
// promise the same result (a config with errors, emitting, incremental...).
// The checker exits when its stdin closes, so it never outlives the CLI.
//
//   node warm_checker.cjs <mode> <compiler package folder> [--interrupt <file>]
//
// With --interrupt, the CLI creates <file> before it sends a request, and a
// JIT warm-up check under way (see WARM_UP_ROUNDS) stops when it sees it;
// the checker removes it when it takes the request, and the answer then
// says "interruptedWarmUp": true.
//
//   node warm_checker.cjs tsc <compiler package folder> [--code-cache <folder>] -- <compiler script> <arguments>
//
// Runs the compiler's command line as `node <compiler script> <arguments>`
// would, with the compiler from V8's code cache (see compileWithCodeCache):
// the `tsc` runs of pushes on Node.js before 22.1.
//
//   node warm_checker.cjs <mode> <compiler package folder> --serve <address> <pid file> <idle ms> [--interrupt <file>]
//
// The typecheck server of one-shot pushes (`deploy`; see
// src/push/warm_checker.rs): the same protocol on each connection to a Unix
// socket (Windows: a named pipe) at <address>, the ready line first. It
// exits after <idle ms> without a request, when its compiler's package.json
// changes or goes, when its socket file is removed or replaced, and at once
// when another server already answers at <address>.

const fs = require("fs");
const path = require("path");

const [mode, packageDir, ...rest] = process.argv.slice(2);
// The checker's own options, and (mode `tsc`) what follows `--`.
const dashDash = rest.indexOf("--");
const options = dashDash < 0 ? rest : rest.slice(0, dashDash);
const passedOn = dashDash < 0 ? [] : rest.slice(dashDash + 1);
// The `count` values after `--name`, or undefined.
function option(name, count) {
  const at = options.indexOf(name);
  return at < 0 ? undefined : options.slice(at + 1, at + 1 + count);
}
const [serveAddress, servePidFile, serveIdleMs] = option("--serve", 3) || [];
const serving = serveAddress !== undefined;
const [interruptFile] = option("--interrupt", 1) || [];

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

if (!serving && mode !== "tsc") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdout.on("error", () => process.exit(0));
}

// ------------------------------------------------------------ interrupts

// How often a warm-up check looks for the interrupt file, at most.
const INTERRUPT_POLL_MS = 2;

// A TypeScript cancellation token for the warm-up's throwaway checks: a
// request is waiting once the CLI has created the interrupt file. The
// checker asks at each function it checks, so a look is at most every
// INTERRUPT_POLL_MS (a stat).
function warmUpInterrupt(ts) {
  let lastLook = -Infinity;
  const token = {
    isCancellationRequested() {
      if (!interruptFile) return false;
      const now = performance.now();
      if (now - lastLook < INTERRUPT_POLL_MS) return false;
      lastLook = now;
      return fs.existsSync(interruptFile);
    },
    throwIfCancellationRequested() {
      if (token.isCancellationRequested()) {
        const error = ts.OperationCanceledException ? new ts.OperationCanceledException() : new Error("interrupted");
        error.warmUpInterrupted = true;
        throw error;
      }
    },
  };
  return token;
}

// Whether a warm-up check stopped for a request since the last answer
// (reported in the answer as `interruptedWarmUp`, for the CLI's log).
let warmUpGaveWay = false;

// A request is being taken: the next warm-up may run to its end again.
function clearInterrupt() {
  if (!interruptFile) return;
  try {
    fs.unlinkSync(interruptFile);
  } catch {}
}

// --------------------------------------------------------------- polling

function statSignature(file) {
  try {
    const s = fs.statSync(file, { bigint: true });
    if (s.isDirectory()) return "d";
    return `${s.mtimeNs}:${s.ctimeNs}:${s.size}:${s.ino}`;
  } catch {
    return null;
  }
}

function isInNodeModules(dir) {
  return dir.split(/[\\/]/).includes("node_modules");
}

// Names, kinds and link targets of a folder's entries (empty when
// missing); recursive listings skip node_modules and .git. `newest` is the
// latest modification time (ns) of the folders listed: it moves whenever
// an entry is added, removed or renamed.
function listing(dir, recursive) {
  const out = new Map();
  out.newest = 0n;
  const walk = (abs, rel, depth) => {
    let entries;
    try {
      const stat = fs.statSync(abs, { bigint: true });
      if (stat.mtimeNs > out.newest) out.newest = stat.mtimeNs;
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const relName = rel ? rel + "/" + e.name : e.name;
      let kind = e.isDirectory() ? "d" : e.isSymbolicLink() ? "l" : e.isFile() ? "f" : "o";
      if (kind === "l") {
        try {
          kind += fs.readlinkSync(path.join(abs, e.name));
        } catch {}
      }
      out.set(relName, kind);
      if (recursive && e.isDirectory() && e.name !== "node_modules" && e.name !== ".git" && depth < 32) {
        walk(path.join(abs, e.name), relName, depth + 1);
      }
    }
  };
  walk(dir, "", 0);
  return out;
}

const INSTALL_MARKERS = [".package-lock.json", ".modules.yaml", ".yarn-state.yml", ".yarn-integrity"];

// What changes when packages are installed or removed under a
// node_modules folder (it is not listed recursively: too big).
function nodeModulesMarker(dir) {
  let root = dir;
  const parts = dir.split(/[\\/]/);
  const at = parts.lastIndexOf("node_modules");
  if (at >= 0) root = parts.slice(0, at + 1).join(path.sep) || path.sep;
  const top = listing(root, false);
  let text = [...top.entries()].sort().map(([n, k]) => n + "=" + k).join("\n");
  for (const [name] of top) {
    if (name.startsWith("@")) {
      text += "\n" + [...listing(path.join(root, name), false).entries()].sort().join("\n");
    }
  }
  for (const marker of INSTALL_MARKERS) {
    text += "\n" + marker + "=" + statSignature(path.join(root, marker));
  }
  if (dir !== root) text += "\n" + [...listing(dir, false).entries()].sort().join("\n");
  return text;
}

// Modification times at or after this were possibly made while the
// program was read (file system clocks can lag by a tick).
function checkStartNs() {
  return BigInt(Date.now() - 50) * 1000000n;
}

function mtimeNs(file) {
  try {
    return fs.statSync(file, { bigint: true }).mtimeNs;
  } catch {
    return 0n;
  }
}

function diffListings(before, after) {
  const changed = [];
  for (const [name, kind] of after) if (before.get(name) !== kind) changed.push(name);
  for (const [name] of before) if (!after.has(name)) changed.push(name);
  return changed;
}

// -------------------------------------------------- TypeScript 4.x / 5.x

// The compiler as `tsc` loads it. TypeScript 5's `tsc` is one bundle
// (lib/_tsc.js from 5.7, lib/tsc.js before) whose last statement runs the
// command line; compiled without that statement, under its own file name
// (the default library files are found next to it), it hands over the
// functions below. It is the same compiler as lib/typescript.js without the
// language service, and loads in about half the time (~0.13 s against
// ~0.3 s here): most of what a fresh server's first check cost over `tsc`.
// Anything unexpected (TypeScript 4, a renamed function): typescript.js.
const TSC_TAIL = "executeCommandLine(sys, noop, sys.args);";
const TSC_EXPORTS = `module.exports = {
  version,
  sys,
  DiagnosticCategory,
  FileWatcherEventKind: { Created: 0, Changed: 1, Deleted: 2 },
  JSDocParsingMode: typeof defaultJSDocParsingMode === "number" ? { ParseForTypeErrors: defaultJSDocParsingMode } : undefined,
  createWatchCompilerHostOfConfigFile,
  createWatchProgram,
  createEmitAndSemanticDiagnosticsBuilderProgram,
  emitFilesAndReportErrorsAndGetExitStatus,
  createDiagnosticReporter,
  getErrorSummaryText,
  createProgram,
  createCompilerHost,
};`;

// V8's code cache for the compiler bundle, in the folder given by
// `--code-cache <folder>` (the CLI's cache), on Node.js versions without a
// compile cache of their own (before 22.1; later ones get
// `module.enableCompileCache`, which tsc itself turns on). Without it each
// start compiles the ~9 MB bundle again (~75 ms here), then each function
// the check runs when it is first called: ~170 ms of CPU in a ~1.8 s first
// check of the benchmark project. Written once after a first check (so it
// holds those functions too), and again when V8 rejects it. V8 checks the
// source's length, its own version and its flags; the file name also holds
// the bundle's identity (a reinstall gives it a new inode and ctime).
const [codeCacheDir] = option("--code-cache", 1) || [];
const CODE_CACHE_FILES = 8;
let codeCache; // {script, target, status, wanted} once the bundle ran through it

// `edited`: whether `source` is the bundle with TSC_EXPORTS for its last
// statement (the checker) or as it is (mode `tsc`). Runs it and returns
// true, or returns false before running anything.
function compileWithCodeCache(Module, bundle, file, source, edited) {
  if (!codeCacheDir || Module.enableCompileCache) return false;
  let target;
  try {
    const s = fs.statSync(file);
    const edit = edited ? [TSC_TAIL, TSC_EXPORTS] : [];
    const identity = [...edit, file, s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs];
    identity.push(process.version, process.arch, process.execPath, process.execArgv);
    const key = require("crypto").createHash("sha256").update(JSON.stringify(identity)).digest("hex");
    target = path.join(codeCacheDir, `tsc-${key.slice(0, 32)}.v8`);
  } catch {
    return false;
  }
  let cachedData;
  try {
    cachedData = fs.readFileSync(target);
    const now = new Date();
    fs.utimesSync(target, now, now); // recently used: pruned last
  } catch {}
  const vm = require("vm");
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const status = cachedData === undefined ? "missing" : script.cachedDataRejected ? "rejected" : "used";
  // Before the bundle runs: in mode `tsc` it ends the process.
  codeCache = { script, target, status, wanted: status !== "used" };
  const run = script.runInThisContext({ displayErrors: true });
  run.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
  bundle.loaded = true;
  return true;
}

// Writes the code cache if it is missing or was rejected; then keeps the
// CODE_CACHE_FILES most recently used.
function saveCodeCache() {
  if (!codeCache || !codeCache.wanted) return;
  codeCache.wanted = false;
  const { script, target } = codeCache;
  const dir = path.dirname(target);
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(temporary, target);
  } catch {
    try {
      fs.unlinkSync(temporary);
    } catch {}
    return;
  }
  try {
    const now = Date.now();
    const entries = [];
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      const modified = fs.statSync(file).mtimeMs;
      if (name.endsWith(".v8")) entries.push({ file, modified });
      // Left by a process that died while writing.
      else if (name.endsWith(".tmp") && now - modified > 10 * 60 * 1000) fs.unlinkSync(file);
    }
    entries.sort((a, b) => b.modified - a.modified);
    for (const { file } of entries.slice(CODE_CACHE_FILES)) fs.unlinkSync(file);
  } catch {}
}

// A CommonJS module object for `file`, as `require` would make one.
function moduleFor(Module, file) {
  const made = new Module(file, module);
  made.filename = file;
  made.paths = Module._nodeModulePaths(path.dirname(file));
  return made;
}

// TypeScript 5's `tsc` bundle (`lib/_tsc.js` from 5.7, `lib/tsc.js`
// before), or undefined.
function tscBundleFile() {
  return ["_tsc.js", "tsc.js"]
    .map((name) => path.join(packageDir, "lib", name))
    .find((candidate) => {
      try {
        return fs.statSync(candidate).size > 1000000;
      } catch {
        return false;
      }
    });
}

// Mode `tsc`: runs `node <compiler script> <arguments>` (what follows
// `--`), loading the bundle through V8's code cache when the script is the
// package's `bin/tsc` (which only requires the bundle); the cache is
// written as the process exits (tsc ends with `process.exit`).
function runTsc() {
  const [script, ...args] = passedOn;
  const scriptPath = path.resolve(script);
  process.argv = [process.argv[0], scriptPath, ...args];
  const Module = require("module");
  const file = tscBundleFile();
  let isBinTsc = false;
  try {
    isBinTsc = fs.realpathSync(scriptPath) === fs.realpathSync(path.join(packageDir, "bin", "tsc"));
  } catch {}
  if (file && isBinTsc) {
    process.on("exit", saveCodeCache);
    const source = fs.readFileSync(file, "utf8");
    if (compileWithCodeCache(Module, moduleFor(Module, file), file, source, false)) return;
  }
  require(scriptPath);
}

function loadTscBundle() {
  const Module = require("module");
  const file = tscBundleFile();
  if (!file) return undefined;
  const source = fs.readFileSync(file, "utf8");
  const at = source.lastIndexOf(TSC_TAIL);
  if (at < 0) return undefined;
  // As tsc.js does before loading the bundle (Node.js 22+).
  try {
    if (Module.enableCompileCache) Module.enableCompileCache();
  } catch {}
  const bundle = moduleFor(Module, file);
  const edited = source.slice(0, at) + TSC_EXPORTS + source.slice(at + TSC_TAIL.length);
  try {
    if (!compileWithCodeCache(Module, bundle, file, edited, true)) bundle._compile(edited, file);
  } catch {
    return undefined;
  }
  const api = bundle.exports;
  const { createWatchCompilerHostOfConfigFile } = api;
  // The public signatures the checker uses.
  return Object.assign({}, api, {
    loadedFrom: file,
    createSemanticDiagnosticsBuilderProgram: api.createEmitAndSemanticDiagnosticsBuilderProgram,
    createWatchCompilerHost: (configFileName, optionsToExtend, system, createProgram, reportDiagnostic, reportWatchStatus) =>
      createWatchCompilerHostOfConfigFile({ configFileName, optionsToExtend, system, createProgram, reportDiagnostic, reportWatchStatus }),
  });
}

function watchMode() {
  let ts = loadTscBundle();
  if (!ts) {
    const file = path.join(packageDir, "lib", "typescript.js");
    ts = Object.assign({ loadedFrom: file }, require(file));
  }
  const needed = [
    "createWatchCompilerHost",
    "createWatchProgram",
    "createSemanticDiagnosticsBuilderProgram",
    "emitFilesAndReportErrorsAndGetExitStatus",
    "createDiagnosticReporter",
    "getErrorSummaryText",
  ];
  for (const name of needed) {
    if (typeof ts[name] !== "function") {
      return { unsupported: `TypeScript ${ts.version} has no ts.${name}` };
    }
  }
  const states = new Map();
  const interrupt = warmUpInterrupt(ts);

  function createState(project) {
    const files = new Map(); // path -> {signature, callbacks}
    const dirs = new Set(); // {dir, recursive, callback, snapshot}
    const timers = new Map();
    let nextTimer = 1;
    let output = [];
    const state = { restart: false, builder: undefined, configErrors: [] };
    // The stat of each file just before the program read it, so a change
    // made between that read and the watcher's creation is not missed.
    const readSignatures = new Map();
    let started = checkStartNs();
    const system = Object.assign({}, ts.sys, {
      readFile(fileName, encoding) {
        readSignatures.set(path.resolve(fileName), statSignature(fileName));
        return ts.sys.readFile(fileName, encoding);
      },
      write(text) {
        output.push(text);
      },
      writeOutputIsTTY: () => false,
      clearScreen() {},
      watchFile(fileName, callback) {
        const key = path.resolve(fileName);
        let watched = files.get(key);
        if (!watched) {
          const signature = readSignatures.has(key) ? readSignatures.get(key) : statSignature(key);
          watched = { signature, callbacks: new Set(), fileName };
          files.set(key, watched);
        }
        watched.callbacks.add(callback);
        return {
          close() {
            watched.callbacks.delete(callback);
            if (watched.callbacks.size === 0 && files.get(key) === watched) files.delete(key);
          },
        };
      },
      watchDirectory(dir, callback, recursive) {
        const abs = path.resolve(dir);
        const inNodeModules = isInNodeModules(abs);
        const watcher = {
          dir: abs,
          recursive: !!recursive,
          callback,
          inNodeModules,
          snapshot: inNodeModules ? nodeModulesMarker(abs) : listing(abs, !!recursive),
          // Listed after the program looked at it: entries that changed in
          // between would look unchanged, so the first poll reports them all
          // when the folder was modified since this check started.
          registeredAt: started,
        };
        dirs.add(watcher);
        return {
          close() {
            dirs.delete(watcher);
          },
        };
      },
      setTimeout(callback, _ms, ...args) {
        const id = nextTimer++;
        timers.set(id, () => callback(...args));
        return id;
      },
      clearTimeout(id) {
        timers.delete(id);
      },
    });
    const configFileName = path.join(project, "tsconfig.json");
    const host = ts.createWatchCompilerHost(
      configFileName,
      {},
      system,
      ts.createSemanticDiagnosticsBuilderProgram,
      (diagnostic) => state.configErrors.push(diagnostic),
      () => {},
    );
    // As tsc itself sets it (TypeScript 5.3+).
    if (ts.JSDocParsingMode) host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
    host.afterProgramCreate = (builder) => {
      state.builder = builder;
    };
    const watch = ts.createWatchProgram(host);

    function runTimers() {
      for (let rounds = 0; timers.size && rounds < 100; rounds++) {
        const pending = [...timers.entries()];
        timers.clear();
        for (const [, run] of pending) run();
      }
    }

    // Feeds the watch program what changed on disk since the last check.
    function poll() {
      for (const [key, watched] of [...files]) {
        const signature = statSignature(key);
        if (signature === watched.signature) continue;
        const kind =
          watched.signature === null
            ? ts.FileWatcherEventKind.Created
            : signature === null
              ? ts.FileWatcherEventKind.Deleted
              : ts.FileWatcherEventKind.Changed;
        watched.signature = signature;
        for (const callback of [...watched.callbacks]) callback(watched.fileName, kind, undefined);
      }
      for (const watcher of [...dirs]) {
        const registeredAt = watcher.registeredAt;
        watcher.registeredAt = undefined;
        if (watcher.inNodeModules) {
          const marker = nodeModulesMarker(watcher.dir);
          const touched = registeredAt !== undefined && mtimeNs(watcher.dir) >= registeredAt;
          if (marker !== watcher.snapshot || touched) state.restart = true;
          continue;
        }
        const now = listing(watcher.dir, watcher.recursive);
        let changed = diffListings(watcher.snapshot, now);
        if (registeredAt !== undefined && now.newest >= registeredAt) changed = [...now.keys()];
        watcher.snapshot = now;
        for (const name of changed) watcher.callback(path.join(watcher.dir, name));
      }
      runTimers();
    }

    state.check = (pretty) => {
      started = checkStartNs();
      poll();
      if (state.restart) return undefined;
      const builder = watch.getProgram();
      const program = builder.getProgram();
      const options = program.getCompilerOptions();
      const why = fallbackReason(program, options);
      if (why) return { status: "fallback", reason: why, files: [], output: "" };
      output = [];
      const reporter = ts.createDiagnosticReporter(system, pretty);
      let first;
      const exit = ts.emitFilesAndReportErrorsAndGetExitStatus(
        builder,
        (diagnostic) => {
          if (!first) first = diagnostic;
          reporter(diagnostic);
        },
        (text) => system.write(text + system.newLine),
        pretty
          ? (errorCount, filesInError) =>
              system.write(ts.getErrorSummaryText(errorCount, filesInError, system.newLine, system))
          : undefined,
      );
      const passed = exit === 0 || (first && first.code === 18003);
      return {
        status: passed ? "passed" : "failed",
        files: program.getSourceFiles().map((f) => f.fileName),
        output: output.join(""),
      };
    };
    state.close = () => watch.close();

    // JIT warm-up (see WARM_UP_ROUNDS): a throwaway program over the same
    // source files gets a fresh type checker, as the program after a save
    // does, and checks the project's own files one per step. A request
    // interrupts a step (a thrown error marked `warmUpInterrupted`).
    state.warmUp = function* () {
      const program = watch.getProgram().getProgram();
      const own = program
        .getSourceFiles()
        .filter((f) => !f.isDeclarationFile && !program.isSourceFileFromExternalLibrary(f) && !isInNodeModules(f.fileName))
        .slice(0, WARM_UP_FILES);
      if (!own.length) return;
      const known = new Map(program.getSourceFiles().map((f) => [f.fileName, f]));
      const host = ts.createCompilerHost(program.getCompilerOptions());
      const read = host.getSourceFile;
      host.getSourceFile = (fileName, ...rest) => known.get(fileName) || read.call(host, fileName, ...rest);
      yield;
      const fresh = ts.createProgram({
        rootNames: program.getRootFileNames(),
        options: program.getCompilerOptions(),
        projectReferences: program.getProjectReferences(),
        host,
        oldProgram: program,
      });
      for (const file of own) {
        yield;
        const copy = fresh.getSourceFile(file.fileName);
        if (copy) fresh.getSemanticDiagnostics(copy, interrupt);
      }
    };
    return state;
  }

  function fallbackReason(program, options) {
    const configErrors = program
      .getConfigFileParsingDiagnostics()
      .filter((d) => d.code !== 18003 && d.category === ts.DiagnosticCategory.Error);
    if (configErrors.length) return "the tsconfig has errors";
    if (options.noEmit !== true) return "the tsconfig does not set noEmit";
    for (const option of [
      "incremental",
      "composite",
      "tsBuildInfoFile",
      "listFiles",
      "listEmittedFiles",
      "explainFiles",
      "traceResolution",
      "diagnostics",
      "extendedDiagnostics",
      "generateCpuProfile",
      "generateTrace",
    ]) {
      if (options[option]) return `the tsconfig sets ${option}`;
    }
    if ((program.getProjectReferences() || []).length) return "the tsconfig has project references";
    return undefined;
  }

  function check(request) {
    let state = states.get(request.project);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!state) {
        state = createState(request.project);
        states.set(request.project, state);
      }
      const answer = state.check(request.pretty);
      if (answer) return answer;
      // Packages were installed or removed: start over.
      state.close();
      states.delete(request.project);
      state = undefined;
    }
    return { status: "fallback", reason: "node_modules keeps changing", files: [], output: "" };
  }

  // One warm-up round over the most recently checked project.
  let last;
  function warmUp() {
    return last && states.get(last) ? states.get(last).warmUp() : undefined;
  }

  function checkAndRemember(request) {
    last = request.project;
    return check(request);
  }

  const ready = { version: ts.version, compiler: ts.loadedFrom, codeCache: codeCache && codeCache.status };
  return { ready, check: checkAndRemember, warmUp };
}

// ----------------------------------------------------------- TypeScript 7

async function apiMode() {
  const { pathToFileURL } = require("url");
  const { API } = await import(pathToFileURL(path.join(packageDir, "dist", "api", "sync", "api.js")).href);
  const version = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).version;
  let api = new API({ cwd: process.cwd() });
  // Per project folder: {files: file -> stat, listings: folder -> listing,
  // installs: what package installs change}.
  const projects = new Map();
  const DECLARATION_OPTIONS = ["declaration", "composite"];
  const fallback = (reason) => ({ status: "fallback", reason, files: [], output: "" });

  // package.json / tsconfig.json up the tree and the node_modules folders
  // there: when these change the API server starts over.
  function installs(project) {
    let text = "";
    for (let dir = project; ; dir = path.dirname(dir)) {
      text += "\n" + dir + ":" + statSignature(path.join(dir, "package.json"));
      text += "|" + statSignature(path.join(dir, "tsconfig.json"));
      const nm = path.join(dir, "node_modules");
      if (statSignature(nm) === "d") text += "\n" + nodeModulesMarker(nm);
      if (path.dirname(dir) === dir) break;
    }
    return text;
  }

  // Folders whose new and removed files matter: the project folder (its
  // include patterns) and the folders of the program's files outside it.
  function watchedFolders(project, files) {
    const folders = new Map([[project, true]]);
    for (const file of files) {
      const dir = path.dirname(file);
      if (isInNodeModules(dir) || dir.startsWith(project + path.sep) || dir === project) continue;
      folders.set(dir, false);
    }
    return folders;
  }

  function check(request) {
    const project = request.project;
    const config = path.join(project, "tsconfig.json");
    const started = checkStartNs();
    let known = projects.get(project);
    // Everything is looked at before the API reads anything: a change made
    // while it checks shows up at the next check.
    const installState = installs(project);
    if (known && known.installs !== installState) {
      // Packages installed or removed: start over.
      try {
        api.close();
      } catch {}
      api = new API({ cwd: process.cwd() });
      projects.clear();
      known = undefined;
    }
    const before = new Map();
    const listings = new Map();
    let changes;
    if (known) {
      const changed = [];
      const deleted = [];
      const created = [];
      for (const [file, signature] of known.files) {
        const now = statSignature(file);
        before.set(file, now);
        if (now === signature) continue;
        (now === null ? deleted : changed).push(file);
      }
      for (const [dir, previous] of known.listings) {
        const now = listing(dir, previous.recursive);
        now.recursive = previous.recursive;
        listings.set(dir, now);
        for (const name of diffListings(previous, now)) {
          const file = path.join(dir, name);
          const kind = now.get(name);
          if (kind === undefined) {
            if (!known.files.has(file)) deleted.push(file);
          } else if (kind === "f" || kind.startsWith("l")) {
            if (!previous.has(name)) created.push(file);
          }
        }
      }
      changes = { changed, deleted, created };
    }
    const snapshot = api.updateSnapshot(
      changes ? { openProjects: [config], fileChanges: changes } : { openProjects: [config] },
    );
    const found = snapshot.getProject(config);
    if (!found) return fallback("the API did not load the project");
    const program = found.program;
    const options = found.compilerOptions || {};
    if (options.noEmit !== true) return fallback("the tsconfig does not set noEmit");
    for (const option of ["incremental", "composite", "tsBuildInfoFile", "listFiles", "listEmittedFiles", "explainFiles", "traceResolution", "diagnostics", "extendedDiagnostics"]) {
      if (options[option]) return fallback(`the tsconfig sets ${option}`);
    }
    const configDiagnostics = program.getConfigFileParsingDiagnostics();
    const files = program.getSourceFileNames();
    // Remember what the program was made of, stat'ed as before it read.
    const signatures = new Map();
    for (const file of [...files, config]) {
      if (before.has(file)) {
        signatures.set(file, before.get(file));
      } else {
        // First seen now: trust its stat only if it is older than the check.
        signatures.set(file, mtimeNs(file) < started ? statSignature(file) : "unknown");
      }
    }
    for (const [dir, recursive] of watchedFolders(project, files)) {
      if (!listings.has(dir)) {
        const now = listing(dir, recursive);
        now.recursive = recursive;
        // Listed only now: if it changed since the check began, report its
        // entries as new next time.
        if (now.newest >= started) {
          const empty = new Map();
          empty.recursive = recursive;
          listings.set(dir, empty);
        } else {
          listings.set(dir, now);
        }
      }
    }
    projects.set(project, { files: signatures, listings, installs: installState });
    if (configDiagnostics.some((d) => d.code === 18003)) {
      // tsc's "no inputs" error counts as a pass (as for tsc 5).
      return { status: "passed", files: [], output: "" };
    }
    if (configDiagnostics.some((d) => d.category === 1)) return fallback("the tsconfig has errors");
    const all = [
      ...program.getSyntacticDiagnostics(),
      ...program.getProgramDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSemanticDiagnostics(),
    ];
    if (DECLARATION_OPTIONS.some((o) => options[o])) all.push(...program.getDeclarationDiagnostics());
    return {
      status: all.some((d) => d.category === 1) ? "failed" : "passed",
      files,
      output: "",
    };
  }

  process.on("exit", () => {
    try {
      api.close();
    } catch {}
  });
  return { ready: { version, compiler: path.join(packageDir, "dist", "api", "sync", "api.js") }, check };
}

// ------------------------------------------------------------------ main

async function loadChecker() {
  let checker;
  try {
    checker = mode === "api" ? await apiMode() : watchMode();
  } catch (error) {
    return { unsupported: String((error && error.stack) || error) };
  }
  return checker;
}

// Splits `stream`'s text into lines and answers each request on it;
// `answered` runs after each answer.
function serveRequests(stream, checker, reply, answered) {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line.trim()) continue;
      let request;
      try {
        request = JSON.parse(line);
      } catch {
        continue;
      }
      clearInterrupt();
      let answer;
      try {
        answer = checker.check(request);
      } catch (error) {
        answer = { status: "fallback", reason: String((error && error.stack) || error), files: [], output: "" };
      }
      reply(Object.assign({ id: request.id }, answer, warmUpGaveWay ? { interruptedWarmUp: true } : {}));
      warmUpGaveWay = false;
      answered(answer);
      // After the CLI has its answer, and with the functions the check ran.
      if (codeCache && codeCache.wanted && answer.status !== "fallback") setTimeout(saveCodeCache, WARM_UP_DELAY_MS);
    }
  });
}

async function main() {
  if (serving) return serve();
  const checker = await loadChecker();
  if (checker.unsupported) {
    send({ unsupported: checker.unsupported });
    return;
  }
  send(Object.assign({ ready: true }, checker.ready));
  const warming = makeWarming(checker, 0);
  serveRequests(process.stdin, checker, send, (answer) => {
    if (answer.status !== "fallback") warming.restart();
  });
}

// The typecheck server (see the top of this file).
function serve() {
  const net = require("net");
  const isPipe = process.platform === "win32";
  const idleMs = Number(serveIdleMs) > 0 ? Number(serveIdleMs) : 10 * 60 * 1000;
  const manifest = path.join(packageDir, "package.json");
  const manifestSignature = statSignature(manifest);
  let socketIdentity;
  let loaded;

  function identity() {
    try {
      const s = fs.statSync(serveAddress, { bigint: true });
      return `${s.dev}:${s.ino}`;
    } catch {
      return null;
    }
  }
  // Whether the socket file is still the one this server made.
  const stillOurs = () => isPipe || identity() === socketIdentity;
  function stop() {
    if (stillOurs() && !isPipe) {
      try {
        fs.unlinkSync(serveAddress);
      } catch {}
    }
    try {
      if (fs.readFileSync(servePidFile, "utf8") === String(process.pid)) {
        fs.unlinkSync(servePidFile);
        clearInterrupt();
      }
    } catch {}
    process.exit(0);
  }
  // One JIT warm-up for the server, whichever connection asked.
  let warmingOf;
  const warming = (checker) => warmingOf || (warmingOf = makeWarming(checker, WARM_UP_DELAY_MS));
  let idleTimer;
  function touch() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, idleMs);
  }

  const server = net.createServer((socket) => {
    touch();
    socket.on("error", () => {});
    const reply = (message) => {
      if (!socket.destroyed) socket.write(JSON.stringify(message) + "\n");
    };
    loaded.then((checker) => {
      if (checker.unsupported) {
        reply({ unsupported: checker.unsupported });
        socket.end();
        return;
      }
      reply(Object.assign({ ready: true, pid: process.pid }, checker.ready));
      serveRequests(socket, checker, reply, (answer) => {
        touch();
        if (answer.status !== "fallback") warming(checker).restart();
      });
    });
  });

  let attempts = 0;
  server.on("error", (error) => {
    attempts++;
    if (error.code !== "EADDRINUSE" || isPipe || attempts > 2) process.exit(0);
    // A live server there: leave it be. A stale socket file: replace it.
    const probe = net.connect(serveAddress);
    probe.once("connect", () => {
      probe.destroy();
      process.exit(0);
    });
    probe.once("error", () => {
      try {
        fs.unlinkSync(serveAddress);
      } catch {}
      server.listen(serveAddress);
    });
  });
  server.on("listening", () => {
    socketIdentity = identity();
    try {
      fs.writeFileSync(servePidFile, String(process.pid));
    } catch {}
    touch();
    setInterval(() => {
      if (!stillOurs()) process.exit(0);
      if (statSignature(manifest) !== manifestSignature) stop();
      try {
        if (!fs.statSync(process.cwd()).isDirectory()) stop();
      } catch {
        stop();
      }
    }, 1000);
    // Loaded once listening, so that the first client's connection waits
    // in the backlog instead of failing.
    loaded = new Promise((resolve) => setImmediate(resolve)).then(loadChecker);
  });
  loaded = new Promise(() => {});
  server.listen(serveAddress);
}

// JIT warm-up. After a save, TypeScript builds a new program whose new type
// checker re-checks the edited file; that takes several times longer for the
// first saves than once V8 has optimised the checker's code (measured on a
// Convex project: 650, 510, 340, 270 ... 170 ms). So after a check, while
// no request is waiting, the checker does a few throwaway checks of the
// project's own files. A step checks one file, and a request that arrives
// is answered before the next step; with an interrupt file (see the top of
// this file) it also cuts the step short, so it waits a few milliseconds
// rather than for one file's check.
const WARM_UP_ROUNDS = 12;
const WARM_UP_FILES = 8;
const WARM_UP_DELAY_MS = 250;

// `firstDelayMs`: the wait before the rounds after the first check. `dev`'s
// checker starts at once (its first check is the session's first push, and
// the first saves follow within seconds); the server waits as after later
// checks, since the next one-shot push may follow right away.
function makeWarming(checker, firstDelayMs) {
  let roundsLeft = WARM_UP_ROUNDS;
  let delayMs = firstDelayMs;
  let steps;
  let timer; // {immediate} or {timeout}
  function stop() {
    if (timer && timer.immediate) clearImmediate(timer.immediate);
    if (timer && timer.timeout) clearTimeout(timer.timeout);
    timer = undefined;
  }
  function step() {
    timer = undefined;
    if (!steps) {
      if (roundsLeft <= 0) return;
      roundsLeft--;
      steps = checker.warmUp && checker.warmUp();
      if (!steps) return;
    }
    let done;
    try {
      done = steps.next().done;
    } catch (error) {
      steps = undefined;
      // Interrupted: the request's check restarts the warm-up after it.
      if (error && error.warmUpInterrupted) {
        warmUpGaveWay = true;
        return;
      }
      roundsLeft = 0;
      done = true;
    }
    if (done) steps = undefined;
    timer = { immediate: setImmediate(step) };
  }
  return {
    // A check just ran: start the remaining rounds over from its program.
    restart() {
      steps = undefined;
      stop();
      if (roundsLeft > 0 && checker.warmUp) timer = { timeout: setTimeout(step, delayMs) };
      delayMs = WARM_UP_DELAY_MS;
    },
  };
}

// Synchronously, so that the compiler's own errors surface as they would.
if (mode === "tsc") runTsc();
else main();
