#!/usr/bin/env node
// Builds the npm distribution of the native `convex` binary from binaries
// already built: one package per platform holding the binary, and the main
// package that depends on all of them as optional dependencies, each
// restricted to its platform with `os` and `cpu` (as esbuild and Biome ship
// theirs). npm installs the one package that fits the machine; nothing is
// downloaded or run at install time (no install script).
//
// The platform package declares the `convex` bin itself, pointing at the
// binary, so `node_modules/.bin/convex` is the native binary with no Node.js
// launcher in between. How that link coexists with the official `convex`
// package's own `convex` bin is explained in npm/README.md.
//
//   node scripts/npm-packages.mjs --out DIR [--pack TARBALL_DIR]
//        [--version V] [--scope @name] PLATFORM=BINARY...
//
// PLATFORM is one of the keys of PLATFORMS below (Node's
// `${process.platform}-${process.arch}`); --version defaults to the version
// in Cargo.toml. With --pack, `npm pack` writes each package's tarball into
// TARBALL_DIR. Prints one line per package: its name, its folder and (with
// --pack) its tarball, tab-separated.
//
// Used by the release workflow (.github/workflows/release.yml) for every
// platform, and by tests/release_binary.rs for the host, so that what the
// test installs is what a release publishes.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// Node's platform-arch → the package's os/cpu, the binary's file name and a
// human name. Linux binaries are statically linked (musl), so one package
// serves glibc and musl (Alpine) systems alike.
export const PLATFORMS = {
  "linux-x64": { os: "linux", cpu: "x64", exe: "convex", label: "Linux x64 (static, musl)" },
  "linux-arm64": { os: "linux", cpu: "arm64", exe: "convex", label: "Linux arm64 (static, musl)" },
  "darwin-x64": { os: "darwin", cpu: "x64", exe: "convex", label: "macOS x64" },
  "darwin-arm64": { os: "darwin", cpu: "arm64", exe: "convex", label: "macOS arm64 (Apple silicon)" },
  "win32-x64": { os: "win32", cpu: "x64", exe: "convex.exe", label: "Windows x64" },
};

const DEFAULT_SCOPE = "@convex-native";

function fail(message) {
  console.error(`npm-packages: ${message}`);
  process.exit(1);
}

function cargoVersion() {
  const text = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const pkg = text.split(/^\[/m).find((section) => section.startsWith("package]"));
  const match = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) fail("no [package] version in Cargo.toml");
  return match[1];
}

function parseArgs(argv) {
  const options = { binaries: {}, scope: DEFAULT_SCOPE };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--out") options.out = value();
    else if (arg === "--pack") options.pack = value();
    else if (arg === "--version") options.version = value();
    else if (arg === "--scope") options.scope = value();
    else if (arg.startsWith("-")) fail(`unknown option ${arg}`);
    else {
      const eq = arg.indexOf("=");
      const key = eq > 0 ? arg.slice(0, eq) : "";
      if (!PLATFORMS[key]) {
        fail(`expected PLATFORM=BINARY with PLATFORM one of ${Object.keys(PLATFORMS).join(", ")}: ${arg}`);
      }
      if (options.binaries[key]) fail(`${key} given twice`);
      options.binaries[key] = arg.slice(eq + 1);
    }
  }
  if (!options.out) fail("--out DIR is required");
  if (Object.keys(options.binaries).length === 0) fail("no PLATFORM=BINARY given");
  if (!/^@[a-z0-9][a-z0-9._-]*$/.test(options.scope)) fail(`not an npm scope: ${options.scope}`);
  options.version ??= cargoVersion();
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(options.version)) {
    fail(`not a version: ${options.version}`);
  }
  return options;
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

function copyCommonFiles(dir) {
  fs.copyFileSync(path.join(ROOT, "LICENSE"), path.join(dir, "LICENSE"));
}

function platformPackage(options, key, binary) {
  const platform = PLATFORMS[key];
  const name = `${options.scope}/cli-${key}`;
  const dir = path.join(options.out, `cli-${key}`);
  const stat = fs.statSync(binary, { throwIfNoEntry: false });
  if (!stat || !stat.isFile()) fail(`${key}: no binary at ${binary}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  const target = path.join(dir, "bin", platform.exe);
  fs.copyFileSync(binary, target);
  fs.chmodSync(target, 0o755);
  copyCommonFiles(dir);
  fs.writeFileSync(
    path.join(dir, "README.md"),
    `# ${name}\n\nThe native \`convex\` binary of [${options.scope}/cli](https://www.npmjs.com/package/${options.scope}/cli) ` +
      `for ${platform.label}. Install \`${options.scope}/cli\`, which picks this package on this platform.\n`,
  );
  writeJson(path.join(dir, "package.json"), {
    name,
    version: options.version,
    description: `The native convex CLI binary for ${platform.label}. Install ${options.scope}/cli instead.`,
    license: "Apache-2.0",
    os: [platform.os],
    cpu: [platform.cpu],
    // The binary itself is the bin: npm links node_modules/.bin/convex
    // (and on Windows the .cmd/.ps1 shims) straight to it.
    bin: { convex: `bin/${platform.exe}` },
    files: ["bin/"],
    // Yarn PnP: keep it on disk, an executable cannot run from a zip.
    preferUnplugged: true,
  });
  return { name, dir };
}

function mainPackage(options, keys) {
  const name = `${options.scope}/cli`;
  const dir = path.join(options.out, "cli");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  copyCommonFiles(dir);
  fs.copyFileSync(path.join(ROOT, "npm", "README.md"), path.join(dir, "README.md"));
  const optionalDependencies = {};
  for (const key of keys) optionalDependencies[`${options.scope}/cli-${key}`] = options.version;
  writeJson(path.join(dir, "package.json"), {
    name,
    version: options.version,
    description:
      "A fast, native drop-in replacement for the convex CLI (npm convex 1.48.0): `npx convex` runs a prebuilt binary.",
    license: "Apache-2.0",
    keywords: ["convex", "cli", "native"],
    optionalDependencies,
  });
  return { name, dir };
}

function pack(dir, destination) {
  fs.mkdirSync(destination, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // npm.cmd is a batch file: Node runs those only through a shell, which
  // takes the arguments as they are, so the path is quoted here.
  const win = process.platform === "win32";
  const target = win ? `"${path.resolve(destination)}"` : path.resolve(destination);
  const out = execFileSync(npm, ["pack", "--json", "--pack-destination", target], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    shell: win,
  });
  const [info] = JSON.parse(out);
  return path.join(path.resolve(destination), info.filename);
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  fs.mkdirSync(options.out, { recursive: true });
  const keys = Object.keys(options.binaries).sort();
  const packages = keys.map((key) => platformPackage(options, key, options.binaries[key]));
  packages.push(mainPackage(options, keys));
  for (const { name, dir } of packages) {
    const columns = [name, path.resolve(dir)];
    if (options.pack) columns.push(pack(dir, options.pack));
    console.log(columns.join("\t"));
  }
}

main();
