//! The fixed parts of the generated files, already in their formatted form
//! (the exact bytes the official CLI writes after prettier). Only the parts
//! that depend on the project are computed elsewhere.

/// The comment block every generated TypeScript/JavaScript file starts with.
pub fn header(description: &str) -> String {
    format!(
        "/* eslint-disable */\n\
         /**\n \
         * {description}\n \
         *\n \
         * THIS CODE IS AUTOMATICALLY GENERATED.\n \
         *\n \
         * To regenerate, run `npx convex dev`.\n \
         * @module\n \
         */\n"
    )
}

pub const API_DESCRIPTION: &str = "Generated `api` utility.";
pub const DATA_MODEL_DESCRIPTION: &str = "Generated data model types.";
pub const SERVER_DESCRIPTION: &str =
    "Generated utilities for implementing server-side Convex query and mutation functions.";
pub const COMPONENT_API_DESCRIPTION: &str = "Generated `ComponentApi` utility.";

/// The usage comment above `api` / `internal`; `kind` is `public`,
/// `internal` or empty (the legacy files say "your app's API").
pub fn api_comment(name: &str, kind: &str) -> String {
    let scope = if kind.is_empty() {
        String::new()
    } else {
        format!(" {kind}")
    };
    format!(
        "/**\n \
         * A utility for referencing Convex functions in your app's{scope} API.\n \
         *\n \
         * Usage:\n \
         * ```js\n \
         * const myFunctionReference = {name}.myModule.myFunction;\n \
         * ```\n \
         */\n"
    )
}

pub const SERVER_TYPE_IMPORTS: &str = "\
import type {
  ActionBuilder,
  HttpActionBuilder,
  MutationBuilder,
  QueryBuilder,
  GenericActionCtx,
  GenericMutationCtx,
  GenericQueryCtx,
  GenericDatabaseReader,
  GenericDatabaseWriter,
} from \"convex/server\";
";

/// The same names as a value import (the `.d.ts` flavour imports them so).
pub const SERVER_TYPE_IMPORTS_AS_VALUES: &str = "\
import {
  ActionBuilder,
  HttpActionBuilder,
  MutationBuilder,
  QueryBuilder,
  GenericActionCtx,
  GenericMutationCtx,
  GenericQueryCtx,
  GenericDatabaseReader,
  GenericDatabaseWriter,
} from \"convex/server\";
";

pub const SERVER_RUNTIME_IMPORTS: &str = "\
import {
  actionGeneric,
  httpActionGeneric,
  queryGeneric,
  mutationGeneric,
  internalActionGeneric,
  internalMutationGeneric,
  internalQueryGeneric,
} from \"convex/server\";
";

pub const DATA_MODEL_IMPORT: &str = "import type { DataModel } from \"./dataModel.js\";\n";

pub const ENV_DOC: &str = "\
/**
 * Typesafe environment variables.
 *
 * This includes platform-provided env vars and any variables declared in
 * `convex.config.ts`.
 */
";

/// One builder export: its comment and its declaration in each flavour.
pub struct Builder {
    pub doc: &'static str,
    pub dts: &'static str,
    pub js: &'static str,
    pub ts: &'static str,
}

pub const BUILDERS: [Builder; 7] = [
    Builder {
        doc: "\
/**
 * Define a query in this Convex app's public API.
 *
 * This function will be allowed to read your Convex database and will be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const query: QueryBuilder<DataModel, \"public\">;\n",
        js: "export const query = queryGeneric;\n",
        ts: "export const query: QueryBuilder<DataModel, \"public\"> = queryGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define a query that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to read from your Convex database. It will not be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const internalQuery: QueryBuilder<DataModel, \"internal\">;\n",
        js: "export const internalQuery = internalQueryGeneric;\n",
        ts: "export const internalQuery: QueryBuilder<DataModel, \"internal\"> =\n  internalQueryGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define a mutation in this Convex app's public API.
 *
 * This function will be allowed to modify your Convex database and will be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const mutation: MutationBuilder<DataModel, \"public\">;\n",
        js: "export const mutation = mutationGeneric;\n",
        ts: "export const mutation: MutationBuilder<DataModel, \"public\"> = mutationGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define a mutation that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to modify your Convex database. It will not be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const internalMutation: MutationBuilder<DataModel, \"internal\">;\n",
        js: "export const internalMutation = internalMutationGeneric;\n",
        ts: "export const internalMutation: MutationBuilder<DataModel, \"internal\"> =\n  internalMutationGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define an action in this Convex app's public API.
 *
 * An action is a function which can execute any JavaScript code, including non-deterministic
 * code and code with side-effects, like calling third-party services.
 * They can be run in Convex's JavaScript environment or in Node.js using the \"use node\" directive.
 * They can interact with the database indirectly by calling queries and mutations using the {@link ActionCtx}.
 *
 * @param func - The action. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped action. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const action: ActionBuilder<DataModel, \"public\">;\n",
        js: "export const action = actionGeneric;\n",
        ts: "export const action: ActionBuilder<DataModel, \"public\"> = actionGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define an action that is only accessible from other Convex functions (but not from the client).
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped function. Include this as an `export` to name it and make it accessible.
 */
",
        dts: "export declare const internalAction: ActionBuilder<DataModel, \"internal\">;\n",
        js: "export const internalAction = internalActionGeneric;\n",
        ts: "export const internalAction: ActionBuilder<DataModel, \"internal\"> =\n  internalActionGeneric;\n",
    },
    Builder {
        doc: "\
/**
 * Define an HTTP action.
 *
 * The wrapped function will be used to respond to HTTP requests received
 * by a Convex deployment if the requests matches the path and method where
 * this action is routed. Be sure to route your httpAction in `convex/http.js`.
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument
 * and a Fetch API `Request` object as its second.
 * @returns The wrapped function. Import this function from `convex/http.js` and route it to hook it up.
 */
",
        dts: "export declare const httpAction: HttpActionBuilder;\n",
        js: "export const httpAction = httpActionGeneric;\n",
        ts: "export const httpAction: HttpActionBuilder = httpActionGeneric;\n",
    },
];

/// `env` before the server analysis is known (initial stubs).
pub const ENV_UNTYPED_DTS: &str = "export declare const env: Record<string, string | undefined>;\n";
pub const ENV_JS: &str = "export const env = process.env;\n";
pub const ENV_UNTYPED_TS: &str = "\
export const env: Record<string, string | undefined> = (
  globalThis as unknown as {
    process: { env: Record<string, string | undefined> };
  }
).process.env;
";
pub const ENV_TYPED_DTS: &str = "export declare const env: Env;\n";
pub const ENV_TYPED_TS: &str = "\
export const env: Env = (globalThis as unknown as { process: { env: Env } })
  .process.env;
";

pub const QUERY_CTX_APP: &str = "\
/**
 * A set of services for use within Convex query functions.
 *
 * The query context is passed as the first argument to any Convex query
 * function run on the server.
 *
 * This differs from the {@link MutationCtx} because all of the services are
 * read-only.
 */
export type QueryCtx = GenericQueryCtx<DataModel>;
";

pub const MUTATION_CTX_APP: &str = "\
/**
 * A set of services for use within Convex mutation functions.
 *
 * The mutation context is passed as the first argument to any Convex mutation
 * function run on the server.
 */
export type MutationCtx = GenericMutationCtx<DataModel>;
";

pub const QUERY_CTX_COMPONENT: &str = "\
/**
 * A set of services for use within Convex query functions.
 *
 * The query context is passed as the first argument to any Convex query
 * function run on the server.
 *
 * If you're using code generation, use the `QueryCtx` type in `convex/_generated/server.d.ts` instead.
 */
export type QueryCtx = GenericQueryCtx<DataModel>;
";

pub const MUTATION_CTX_COMPONENT: &str = "\
/**
 * A set of services for use within Convex mutation functions.
 *
 * The mutation context is passed as the first argument to any Convex mutation
 * function run on the server.
 *
 * If you're using code generation, use the `MutationCtx` type in `convex/_generated/server.d.ts` instead.
 */
export type MutationCtx = GenericMutationCtx<DataModel>;
";

pub const OTHER_CTX_TYPES: &str = "\
/**
 * A set of services for use within Convex action functions.
 *
 * The action context is passed as the first argument to any Convex action
 * function run on the server.
 */
export type ActionCtx = GenericActionCtx<DataModel>;

/**
 * An interface to read from the database within Convex query functions.
 *
 * The two entry points are {@link DatabaseReader.get}, which fetches a single
 * document by its {@link Id}, or {@link DatabaseReader.query}, which starts
 * building a query.
 */
export type DatabaseReader = GenericDatabaseReader<DataModel>;

/**
 * An interface to read from and write to the database within Convex mutation
 * functions.
 *
 * Convex guarantees that all writes within a single mutation are
 * executed atomically, so you never have to worry about partial writes leaving
 * your data in an inconsistent state. See [the Convex Guide](https://docs.convex.dev/understanding/convex-fundamentals/functions#atomicity-and-optimistic-concurrency-control)
 * for the guarantees Convex provides your functions.
 */
export type DatabaseWriter = GenericDatabaseWriter<DataModel>;
";

pub const API_TYPE_IMPORTS: &str = "\
import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from \"convex/server\";
";

pub const API_RUNTIME_IMPORT: &str =
    "import { anyApi, componentsGeneric } from \"convex/server\";\n";

pub const STATIC_API_IMPORTS: &str = "\
import type { FunctionReference } from \"convex/server\";
import type { GenericId as Id } from \"convex/values\";
";

pub const FILTERED_API_DTS: [&str; 2] = [
    "export declare const api: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, \"public\">\n>;\n",
    "export declare const internal: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, \"internal\">\n>;\n",
];

pub const FILTERED_API_TS: [&str; 2] = [
    "export const api: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, \"public\">\n> = anyApi as any;\n",
    "export const internal: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, \"internal\">\n> = anyApi as any;\n",
];

/// `api.js`: runtime values only; rewritten by every initial codegen.
pub const API_JS_BODY: &str = "\
import { anyApi, componentsGeneric } from \"convex/server\";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export const api = anyApi;
export const internal = anyApi;
export const components = componentsGeneric();
";

/// The legacy (`--system-udfs`) `api.js`, without components.
pub const LEGACY_API_JS_BODY: &str = "\
import { anyApi } from \"convex/server\";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export const api = anyApi;
export const internal = anyApi;
";

pub const API_CJS_BODY: &str = "\
const { anyApi } = require(\"convex/server\");
module.exports = {
  api: anyApi,
  internal: anyApi,
};
";

pub const API_STUB_DTS_BODY: &str = "\
import type { AnyApi, AnyComponents } from \"convex/server\";

export declare const api: AnyApi;
export declare const internal: AnyApi;
export declare const components: AnyComponents;
";

pub const API_STUB_TS_BODY: &str = "\
import type { AnyApi, AnyComponents } from \"convex/server\";
import { anyApi, componentsGeneric } from \"convex/server\";

export const api: AnyApi = anyApi;
export const internal: AnyApi = anyApi;
export const components: AnyComponents = componentsGeneric();
";

pub const DATA_MODEL_MODEL_DOC: &str = "\
/**
 * A type describing your Convex data model.
 *
 * This type includes information about what tables you have, the type of
 * documents stored in those tables, and the indexes defined on them.
 *
 * This type is used to parameterize methods like `queryGeneric` and
 * `mutationGeneric` to make them type-safe.
 */
";

pub const TABLE_NAMES: &str = "\
/**
 * The names of all of your Convex tables.
 */
export type TableNames = TableNamesInDataModel<DataModel>;
";

pub const DOC_TYPE: &str = "\
/**
 * The type of a document stored in Convex.
 *
 * @typeParam TableName - A string literal type of the table name (like \"users\").
 */
export type Doc<TableName extends TableNames> = DocumentByName<
  DataModel,
  TableName
>;
";

const ID_DOC_INTRO: &str = "\
/**
 * An identifier for a document in Convex.
 *
 * Convex documents are uniquely identified by their `Id`, which is accessible
 * on the `_id` field. To learn more, see [Document IDs](https://docs.convex.dev/using/document-ids).
 *
 * Documents can be loaded using `db.get(tableName, id)` in query and mutation functions.
 *
 * IDs are just strings at runtime, but this type can be used to distinguish them from other
 * strings when type checking.
";

pub fn id_type_with_schema() -> String {
    format!(
        "{ID_DOC_INTRO} *\n \
         * @typeParam TableName - A string literal type of the table name (like \"users\").\n \
         */\n\
         export type Id<TableName extends TableNames | SystemTableNames> =\n  \
         GenericId<TableName>;\n"
    )
}

pub fn id_type_without_schema() -> String {
    format!(
        "{ID_DOC_INTRO} */\n\
         export type Id<TableName extends TableNames = TableNames> =\n  \
         GenericId<TableName>;\n"
    )
}

pub const DYNAMIC_DATA_MODEL_IMPORTS: &str = "\
import type {
  DataModelFromSchemaDefinition,
  DocumentByName,
  TableNamesInDataModel,
  SystemTableNames,
} from \"convex/server\";
import type { GenericId } from \"convex/values\";
import schema from \"../schema.js\";
";

pub const DYNAMIC_DATA_MODEL_TYPE: &str =
    "export type DataModel = DataModelFromSchemaDefinition<typeof schema>;\n";

pub const STATIC_DATA_MODEL_IMPORTS: &str = "\
import type {
  DocumentByName,
  TableNamesInDataModel,
  SystemTableNames,
  AnyDataModel,
} from \"convex/server\";
import type { GenericId } from \"convex/values\";
";

pub const NO_SCHEMA_IMPORTS: &str = "\
import { AnyDataModel } from \"convex/server\";
import type { GenericId } from \"convex/values\";
";

pub const NO_SCHEMA_NOTICE: &str = "\
/**
 * No `schema.ts` file found!
 *
 * This generated code has permissive types like `Doc = any` because
 * Convex doesn't know your schema. If you'd like more type safety, see
 * https://docs.convex.dev/using/schemas for instructions on how to add a
 * schema file.
 *
 * After you change a schema, rerun codegen with `npx convex dev`.
 */
";

pub const NO_SCHEMA_TABLE_NAMES: &str = "\
/**
 * The names of all of your Convex tables.
 */
export type TableNames = string;
";

pub const NO_SCHEMA_DOC: &str = "\
/**
 * The type of a document stored in Convex.
 */
export type Doc = any;
";

pub const NO_SCHEMA_DATA_MODEL_TYPE: &str = "export type DataModel = AnyDataModel;\n";

pub const COMPONENT_API_IMPORT: &str =
    "import type { FunctionReference } from \"convex/server\";\n";

pub const COMPONENT_API_DOC: &str = "\
/**
 * A utility for referencing a Convex component's exposed API.
 *
 * Useful when expecting a parameter like `components.myComponent`.
 * Usage:
 * ```ts
 * async function myFunction(ctx: QueryCtx, component: ComponentApi) {
 *   return ctx.runQuery(component.someFile.someQuery, { ...args });
 * }
 * ```
 */
";

/// `<functions dir>/tsconfig.json` written by `codegen --init`.
pub const TSCONFIG_JSON: &str = r#"{
  /* This TypeScript project config describes the environment that
   * Convex functions run in and is used to typecheck them.
   * You can modify it, but some settings are required to use Convex.
   */
  "compilerOptions": {
    /* These settings are not required by Convex and can be modified. */
    "allowJs": true,
    "strict": true,
    "moduleResolution": "Bundler",
    "jsx": "react-jsx",
    "skipLibCheck": true,
    "allowSyntheticDefaultImports": true,

    /* These compiler options are required by Convex */
    "target": "ESNext",
    "lib": ["ES2023", "dom"],
    "forceConsistentCasingInFileNames": true,
    "module": "ESNext",
    "isolatedModules": true,
    "noEmit": true
  },
  "include": ["./**/*"],
  "exclude": ["./_generated"]
}
"#;

/// `<functions dir>/README.md` written by `codegen --init` in a new functions dir.
pub const README_MD: &str = include_str!("readme.md");
