// The official CLI's final-codegen templates plus prettier, as an oracle for
// tests/codegen_fuzz.rs: reads a JSON list of cases, writes a JSON list of
// `{ files: { name: contents } }` or `{ error: message }`.
//
// The reference's compiled templates (dist/esm/cli/codegen_templates) are
// bundled with its own esbuild, with the two file-system helpers they import
// replaced by stubs, then called the way `doFinalComponentCodegen` calls
// them. Nothing here is shipped; it only runs the reference.
//
// Usage: node scripts/codegen-oracle.mjs cases.json results.json
// Needs the reference install ($CONVEX_REFERENCE_DIR, default
// ~/.cache/convex-reference) with `convex`, `esbuild` and `prettier`.
import { createRequire } from "module";
import fs from "fs";
import os from "os";
import path from "path";

const referenceDir =
  process.env.CONVEX_REFERENCE_DIR ?? path.join(os.homedir(), ".cache/convex-reference");
const convexDir = path.join(referenceDir, "node_modules/convex");
const require = createRequire(path.join(convexDir, "package.json"));
const esbuild = require("esbuild");
const prettier = await import(
  path.join(referenceDir, "node_modules/prettier/index.mjs")
);

async function buildOracle() {
  const templates = path.join(convexDir, "dist/esm/cli/codegen_templates/");
  const outfile = path.join(os.tmpdir(), `convex-codegen-oracle-${process.pid}.mjs`);
  const stubs = {
    name: "stubs",
    setup(build) {
      build.onResolve({ filter: /bundler\/index\.js$|\/config\.js$/ }, (args) => ({
        path: args.path,
        namespace: "stub",
      }));
      build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
        contents:
          "export async function entryPoints(ctx, dir) { return globalThis.__oracleEntryPoints(dir); }\n" +
          "export async function getFunctionsDirectoryPath() { throw new Error('unused'); }\n",
        loader: "js",
      }));
    },
  };
  await esbuild.build({
    stdin: {
      contents: ["component_api.js", "dataModel.js", "server.js", "component_server.js"]
        .map((f) => `export * from ${JSON.stringify(templates + f)};`)
        .join("\n"),
      resolveDir: templates,
      loader: "js",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    plugins: [stubs],
    logLevel: "error",
  });
  const module = await import(outfile);
  fs.unlinkSync(outfile);
  return module;
}

const t = await buildOracle();
const ctx = {
  crash: async (args) => {
    throw new Error(args.printedMessage ?? "crash");
  },
  fs: {},
};

async function format(source) {
  return await prettier.format(source, { parser: "typescript", pluginSearchDirs: false });
}

// Mirrors the file dispatch of the reference's doFinalComponentCodegen.
async function finalFiles(c) {
  const rootPath = "/project/convex";
  const root = { isRoot: true, path: rootPath, definitionPath: rootPath + "/convex.config.ts" };
  const dir = c.definitionPath === "" ? rootPath : path.normalize(path.join(rootPath, c.definitionPath));
  const component = c.definitionPath === ""
    ? root
    : { isRoot: false, path: dir, definitionPath: dir + "/convex.config.ts" };
  const componentsMap = new Map();
  for (const entry of c.components) {
    const abs = path.normalize(path.join(rootPath, entry.path));
    componentsMap.set(abs, { isRoot: false, path: abs, importSpecifier: entry.importSpecifier ?? undefined });
  }
  globalThis.__oracleEntryPoints = (d) => c.modules.map((m) => path.join(d, m));
  const startPush = { analysis: c.analysis };
  const useTypeScript = !component.isRoot || c.fileType === "ts";
  const files = {};
  let dataModel;
  if (c.hasSchema) {
    if (c.staticDataModel) {
      dataModel = useTypeScript
        ? await t.staticDataModelTS(ctx, startPush, root, component)
        : await t.staticDataModelDTS(ctx, startPush, root, component);
    } else {
      dataModel = useTypeScript ? t.dynamicDataModelTS() : t.dynamicDataModelDTS();
    }
  } else {
    dataModel = useTypeScript ? t.noSchemaDataModelTS() : t.noSchemaDataModelDTS();
  }
  files[useTypeScript ? "dataModel.ts" : "dataModel.d.ts"] = await format(dataModel);
  if (!component.isRoot) {
    files["component.ts"] = await format(await t.componentTS(ctx, startPush, root, component));
  }
  const analysis = c.analysis[c.definitionPath];
  const envVars =
    analysis?.definition.envVars && analysis.definition.envVars.length > 0
      ? analysis.definition.envVars
      : [];
  if (component.isRoot) {
    const server = t.serverCodegen({ useTypeScript, envVars });
    if (useTypeScript) {
      files["server.ts"] = await format(server.TS);
    } else {
      files["server.js"] = await format(server.JS);
      files["server.d.ts"] = await format(server.DTS);
    }
  } else {
    files["server.ts"] = await format(t.componentServerTS(false, envVars));
  }
  const opts = { staticApi: c.staticApi, useComponentApiImports: !c.legacyComponentApi };
  if (!useTypeScript) {
    const api = await format(await t.componentApiDTS(ctx, startPush, root, component, componentsMap, opts));
    files["api.d.ts"] = api;
    if (c.commonjs) files["api_cjs.d.cts"] = api;
  } else {
    files["api.ts"] = await format(
      await t.componentApiTSWithTypes(ctx, startPush, root, component, componentsMap, opts),
    );
  }
  return files;
}

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = [];
for (const c of cases) {
  try {
    results.push({ files: await finalFiles(c) });
  } catch (e) {
    results.push({ error: String(e?.message ?? e).split("\n")[0] });
  }
}
fs.writeFileSync(process.argv[3], JSON.stringify(results));
