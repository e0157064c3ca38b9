//! Every environment variable the CLI reads, named once.
//!
//! Commands never spell a variable name themselves: they use these constants
//! with [`crate::env::Env`] (or, for the few settings decided before an `Env`
//! exists, [`process_value`]). [`ALL`] lists them with a one-line meaning;
//! tests check the list has no duplicates, that every constant is in it, and
//! that no other module reads the process environment itself.
//!
//! Test-only knobs (`CONVEX_TEST_*`) are here too and say so.

/// Deploy key of any kind (prod, dev, preview, project, bare admin key).
pub const CONVEX_DEPLOY_KEY: &str = "CONVEX_DEPLOY_KEY";
/// Alias of `CONVEX_DEPLOY_KEY`, used only when that one is unset or empty.
pub const CONVEX_DEPLOYMENT_TOKEN: &str = "CONVEX_DEPLOYMENT_TOKEN";
/// The configured deployment, `<type>:<name>` (written by `convex dev`).
pub const CONVEX_DEPLOYMENT: &str = "CONVEX_DEPLOYMENT";
/// URL of a self-hosted deployment (effective only with the admin key below).
pub const CONVEX_SELF_HOSTED_URL: &str = "CONVEX_SELF_HOSTED_URL";
/// Admin key of a self-hosted deployment.
pub const CONVEX_SELF_HOSTED_ADMIN_KEY: &str = "CONVEX_SELF_HOSTED_ADMIN_KEY";
/// Management API host (default `https://api.convex.dev`); also renames the
/// global config folder to `~/.convex-test-<port>`.
pub const CONVEX_PROVISION_HOST: &str = "CONVEX_PROVISION_HOST";
/// Bearer token that beats every other management-API credential.
pub const CONVEX_OVERRIDE_ACCESS_TOKEN: &str = "CONVEX_OVERRIDE_ACCESS_TOKEN";
/// Exactly `false` turns anonymous (account-less) development off.
pub const CONVEX_ALLOW_ANONYMOUS: &str = "CONVEX_ALLOW_ANONYMOUS";
/// `anonymous` forces the anonymous path; any value is sent to the version API.
pub const CONVEX_AGENT_MODE: &str = "CONVEX_AGENT_MODE";
/// Replaces the version in the `Convex-Client` header.
pub const CONVEX_VERSION_OVERRIDE: &str = "CONVEX_VERSION_OVERRIDE";
/// Origin of the version-check API (default `https://version.convex.dev`).
pub const CONVEX_VERSION_API_ORIGIN: &str = "CONVEX_VERSION_API_ORIGIN";
/// Any non-empty value: extra `[verbose]` lines on stderr.
pub const CONVEX_VERBOSE: &str = "CONVEX_VERBOSE";
/// `0`/`false`/`no`/`off`: pushes start no typecheck server; another
/// value: they do, even in CI.
pub const CONVEX_TYPECHECK_SERVER: &str = "CONVEX_TYPECHECK_SERVER";
/// Seconds an unused typecheck server stays (default 600).
pub const CONVEX_TYPECHECK_SERVER_IDLE_SECONDS: &str = "CONVEX_TYPECHECK_SERVER_IDLE_SECONDS";
/// Seconds to wait for a local backend to answer (default 30).
pub const CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS: &str =
    "CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS";
/// Downgrades the "your shell split a deploy key" check to a warning.
pub const CONVEX_IGNORE_SUSPICIOUS_ENV_VARS: &str = "CONVEX_IGNORE_SUSPICIOUS_ENV_VARS";
/// Milliseconds; timeout of each identity-provider request during `login`.
pub const OPENID_CLIENT_TIMEOUT: &str = "OPENID_CLIENT_TIMEOUT";
/// Secret for the hidden username/password login (test accounts only).
pub const WORKOS_API_SECRET: &str = "WORKOS_API_SECRET";
/// Test-only: every HTTP retry delay becomes this many milliseconds (the
/// number of retries stays the official CLI's). Unset: 1 ms, 1 s, 2 s, 4 s,
/// 8 s, 16 s plus jitter.
pub const CONVEX_TEST_RETRY_DELAY_MS: &str = "CONVEX_TEST_RETRY_DELAY_MS";
/// Test-only: the HTTP read timeout in milliseconds (default 300 000).
pub const CONVEX_TEST_HTTP_TIMEOUT_MS: &str = "CONVEX_TEST_HTTP_TIMEOUT_MS";

/// Test-only: origin of the WorkOS API (default `https://api.workos.com`),
/// for the `integration workos` tests.
pub const CONVEX_TEST_WORKOS_API_ORIGIN: &str = "CONVEX_TEST_WORKOS_API_ORIGIN";
/// Session-cookie secret of WorkOS AuthKit apps; `provision-environment`
/// writes one to `.env.local` (Next.js, TanStack Start) unless it is set.
pub const WORKOS_COOKIE_PASSWORD: &str = "WORKOS_COOKIE_PASSWORD";

/// Proxy for `https://` targets (upper-case form switches proxying on).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Proxy for `http://` targets (upper-case form switches proxying on).
pub const HTTP_PROXY: &str = "HTTP_PROXY";
/// Lower-case twin of `HTTPS_PROXY`; preferred once proxying is on.
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// Lower-case twin of `HTTP_PROXY`; preferred once proxying is on.
pub const HTTP_PROXY_LOWER: &str = "http_proxy";
/// Hosts that bypass the proxy (comma or space separated).
pub const NO_PROXY: &str = "NO_PROXY";
/// Lower-case twin of `NO_PROXY`; preferred when set.
pub const NO_PROXY_LOWER: &str = "no_proxy";
/// Extra trusted CA certificates (PEM bundle), as OpenSSL reads it.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Extra trusted CA certificates (PEM bundle), as Node reads it.
pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";
/// Go's garbage-collector target, read by esbuild (a Go program). When it is
/// unset, pushing commands set it for esbuild (see
/// `bundler::raise_esbuild_gc_target`).
pub const GOGC: &str = "GOGC";
/// Go's soft memory limit; set with `GOGC=off` for TypeScript 7's compiler
/// when neither is set (see `push::typecheck`).
pub const GOMEMLIMIT: &str = "GOMEMLIMIT";
/// How many threads a Go program runs Go code on; when it is unset, a
/// one-shot push on two cores or fewer gives esbuild one while TypeScript 7's
/// compiler checks beside it (see `bundler::BundleOptions`).
pub const GOMAXPROCS: &str = "GOMAXPROCS";

/// Vercel build environment marker.
pub const VERCEL: &str = "VERCEL";
/// Netlify build environment marker.
pub const NETLIFY: &str = "NETLIFY";
/// Cloudflare Pages build environment marker.
pub const CF_PAGES: &str = "CF_PAGES";
/// Cloudflare Workers build environment marker.
pub const WORKERS_CI: &str = "WORKERS_CI";
/// Set by CI systems: no spinners.
pub const CI: &str = "CI";
/// Any value: no colours.
pub const NO_COLOR: &str = "NO_COLOR";
/// `dumb`: no colours and no animated spinner.
pub const TERM: &str = "TERM";
/// X11 display; without it (or `WAYLAND_DISPLAY`) no browser is opened on
/// Linux and the BSDs: `dashboard` and `docs` print the URL instead.
pub const DISPLAY: &str = "DISPLAY";
/// Wayland display (see `DISPLAY`).
pub const WAYLAND_DISPLAY: &str = "WAYLAND_DISPLAY";
/// Set inside WSL, where the Windows browser can be opened without a display.
pub const WSL_DISTRO_NAME: &str = "WSL_DISTRO_NAME";
/// Windows: the cache folder's parent (`%LOCALAPPDATA%\convex`).
pub const LOCALAPPDATA: &str = "LOCALAPPDATA";
/// Windows: the home folder (as Node's `os.homedir()`), and the fallback for
/// the cache folder when `LOCALAPPDATA` is unset.
pub const USERPROFILE: &str = "USERPROFILE";
/// Windows: the command interpreter `dev --start` runs its command with
/// (default `cmd.exe`), as Node's `shell: true` does.
pub const COMSPEC: &str = "ComSpec";

// Push pipeline and `deploy` (build-environment detection).
// `import`.
/// Size in bytes of the parts `import` uploads (default 5 MiB).
pub const CONVEX_IMPORT_CHUNK_SIZE: &str = "CONVEX_IMPORT_CHUNK_SIZE";

/// Overrides the esbuild binary the bundler runs.
pub const ESBUILD_BINARY_PATH: &str = "ESBUILD_BINARY_PATH";
/// Tables with at least this many documents make index deletions ask first.
pub const CONVEX_MIN_DOCUMENTS_FOR_INDEX_DELETE_WARNING: &str =
    "CONVEX_MIN_DOCUMENTS_FOR_INDEX_DELETE_WARNING";
/// Tables with at least this many documents make blocking backfills ask first.
pub const CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING: &str =
    "CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING";
/// Schema walks over at least this many bytes are reported on dry runs.
pub const CONVEX_MIN_BYTES_FOR_SCHEMA_WALK_WARNING: &str =
    "CONVEX_MIN_BYTES_FOR_SCHEMA_WALK_WARNING";
/// Vercel: `production` for production builds.
pub const VERCEL_ENV: &str = "VERCEL_ENV";
/// Vercel: the branch being built.
pub const VERCEL_GIT_COMMIT_REF: &str = "VERCEL_GIT_COMMIT_REF";
/// Vercel: the commit being built.
pub const VERCEL_GIT_COMMIT_SHA: &str = "VERCEL_GIT_COMMIT_SHA";
/// Netlify: `production` for production builds.
pub const CONTEXT: &str = "CONTEXT";
/// Netlify: the branch being built.
pub const HEAD: &str = "HEAD";
/// Netlify: the commit being built.
pub const COMMIT_REF: &str = "COMMIT_REF";
/// Cloudflare Pages: the branch being built.
pub const CF_PAGES_BRANCH: &str = "CF_PAGES_BRANCH";
/// Cloudflare Pages: the commit being built.
pub const CF_PAGES_COMMIT_SHA: &str = "CF_PAGES_COMMIT_SHA";
/// Cloudflare Workers: the branch being built.
pub const WORKERS_CI_BRANCH: &str = "WORKERS_CI_BRANCH";
/// Cloudflare Workers: the commit being built.
pub const WORKERS_CI_COMMIT_SHA: &str = "WORKERS_CI_COMMIT_SHA";
/// GitHub Actions marker.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// GitHub Actions: the commit being built.
pub const GITHUB_SHA: &str = "GITHUB_SHA";
/// GitHub Actions: the pull request's branch.
pub const GITHUB_HEAD_REF: &str = "GITHUB_HEAD_REF";
/// GitLab CI marker.
pub const GITLAB_CI: &str = "GITLAB_CI";
/// GitLab CI: the commit being built.
pub const CI_COMMIT_SHA: &str = "CI_COMMIT_SHA";
/// GitLab CI: the branch being built.
pub const CI_COMMIT_REF_NAME: &str = "CI_COMMIT_REF_NAME";
/// Render marker.
pub const RENDER: &str = "RENDER";
/// Render: the commit being built.
pub const RENDER_GIT_COMMIT: &str = "RENDER_GIT_COMMIT";
/// Railway marker.
pub const RAILWAY_ENVIRONMENT: &str = "RAILWAY_ENVIRONMENT";
/// Railway: the commit being built.
pub const RAILWAY_GIT_COMMIT_SHA: &str = "RAILWAY_GIT_COMMIT_SHA";
/// CircleCI marker.
pub const CIRCLECI: &str = "CIRCLECI";
/// CircleCI: the commit being built.
pub const CIRCLE_SHA1: &str = "CIRCLE_SHA1";
/// Google Cloud Build (with PROJECT_ID, PROJECT_NUMBER, LOCATION).
pub const BUILD_ID: &str = "BUILD_ID";
/// Google Cloud Build marker.
pub const PROJECT_ID: &str = "PROJECT_ID";
/// Google Cloud Build marker.
pub const PROJECT_NUMBER: &str = "PROJECT_NUMBER";
/// Google Cloud Build marker.
pub const LOCATION: &str = "LOCATION";
/// Google Cloud Build: the commit being built.
pub const SHORT_SHA: &str = "SHORT_SHA";
/// Heroku marker.
pub const HEROKU_APP_NAME: &str = "HEROKU_APP_NAME";
/// Heroku marker.
pub const DYNO: &str = "DYNO";
/// Heroku: the commit being built.
pub const HEROKU_BUILD_COMMIT: &str = "HEROKU_BUILD_COMMIT";

/// AI agent detection: the agent's name (`env list` prints names only for agents).
pub const AI_AGENT: &str = "AI_AGENT";
/// AI agent detection: Cursor (`env list` prints names only for agents).
pub const CURSOR_TRACE_ID: &str = "CURSOR_TRACE_ID";
/// AI agent detection: Cursor CLI (`env list` prints names only for agents).
pub const CURSOR_AGENT: &str = "CURSOR_AGENT";
/// AI agent detection: Cursor CLI (`agent-exec`) (`env list` prints names only for agents).
pub const CURSOR_EXTENSION_HOST_ROLE: &str = "CURSOR_EXTENSION_HOST_ROLE";
/// AI agent detection: Gemini CLI (`env list` prints names only for agents).
pub const GEMINI_CLI: &str = "GEMINI_CLI";
/// AI agent detection: Codex (`env list` prints names only for agents).
pub const CODEX_SANDBOX: &str = "CODEX_SANDBOX";
/// AI agent detection: Codex (`env list` prints names only for agents).
pub const CODEX_CI: &str = "CODEX_CI";
/// AI agent detection: Codex (`env list` prints names only for agents).
pub const CODEX_THREAD_ID: &str = "CODEX_THREAD_ID";
/// AI agent detection: Antigravity (`env list` prints names only for agents).
pub const ANTIGRAVITY_AGENT: &str = "ANTIGRAVITY_AGENT";
/// AI agent detection: Augment CLI (`env list` prints names only for agents).
pub const AUGMENT_AGENT: &str = "AUGMENT_AGENT";
/// AI agent detection: OpenCode (`env list` prints names only for agents).
pub const OPENCODE_CLIENT: &str = "OPENCODE_CLIENT";
/// AI agent detection: Claude Code (`env list` prints names only for agents).
pub const CLAUDECODE: &str = "CLAUDECODE";
/// AI agent detection: Claude Code (`env list` prints names only for agents).
pub const CLAUDE_CODE: &str = "CLAUDE_CODE";
/// AI agent detection: Claude Cowork (`env list` prints names only for agents).
pub const CLAUDE_CODE_IS_COWORK: &str = "CLAUDE_CODE_IS_COWORK";
/// AI agent detection: Replit (`env list` prints names only for agents).
pub const REPL_ID: &str = "REPL_ID";
/// AI agent detection: GitHub Copilot (`env list` prints names only for agents).
pub const COPILOT_MODEL: &str = "COPILOT_MODEL";
/// AI agent detection: GitHub Copilot (`env list` prints names only for agents).
pub const COPILOT_ALLOW_ALL: &str = "COPILOT_ALLOW_ALL";
/// AI agent detection: GitHub Copilot (`env list` prints names only for agents).
pub const COPILOT_GITHUB_TOKEN: &str = "COPILOT_GITHUB_TOKEN";

/// Every variable above, with its meaning (for docs and the uniqueness test).
pub const ALL: &[(&str, &str)] = &[
    (AI_AGENT, "AI agent detection: the agent's name"),
    (CURSOR_TRACE_ID, "AI agent detection: Cursor"),
    (CURSOR_AGENT, "AI agent detection: Cursor CLI"),
    (
        CURSOR_EXTENSION_HOST_ROLE,
        "AI agent detection: Cursor CLI (`agent-exec`)",
    ),
    (GEMINI_CLI, "AI agent detection: Gemini CLI"),
    (CODEX_SANDBOX, "AI agent detection: Codex"),
    (CODEX_CI, "AI agent detection: Codex"),
    (CODEX_THREAD_ID, "AI agent detection: Codex"),
    (ANTIGRAVITY_AGENT, "AI agent detection: Antigravity"),
    (AUGMENT_AGENT, "AI agent detection: Augment CLI"),
    (OPENCODE_CLIENT, "AI agent detection: OpenCode"),
    (CLAUDECODE, "AI agent detection: Claude Code"),
    (CLAUDE_CODE, "AI agent detection: Claude Code"),
    (CLAUDE_CODE_IS_COWORK, "AI agent detection: Claude Cowork"),
    (REPL_ID, "AI agent detection: Replit"),
    (COPILOT_MODEL, "AI agent detection: GitHub Copilot"),
    (COPILOT_ALLOW_ALL, "AI agent detection: GitHub Copilot"),
    (COPILOT_GITHUB_TOKEN, "AI agent detection: GitHub Copilot"),
    (CONVEX_DEPLOY_KEY, "deploy key of any kind"),
    (CONVEX_DEPLOYMENT_TOKEN, "alias of CONVEX_DEPLOY_KEY"),
    (CONVEX_DEPLOYMENT, "configured deployment <type>:<name>"),
    (CONVEX_SELF_HOSTED_URL, "self-hosted deployment URL"),
    (
        CONVEX_SELF_HOSTED_ADMIN_KEY,
        "self-hosted deployment admin key",
    ),
    (CONVEX_PROVISION_HOST, "management API host"),
    (
        CONVEX_OVERRIDE_ACCESS_TOKEN,
        "management token that beats all others",
    ),
    (
        CONVEX_ALLOW_ANONYMOUS,
        "`false` disables anonymous development",
    ),
    (
        CONVEX_AGENT_MODE,
        "`anonymous` forces anonymous development",
    ),
    (CONVEX_VERSION_OVERRIDE, "version sent in Convex-Client"),
    (CONVEX_VERSION_API_ORIGIN, "version API origin"),
    (CONVEX_VERBOSE, "verbose stderr lines"),
    (
        CONVEX_TYPECHECK_SERVER,
        "`0` turns the typecheck server off",
    ),
    (
        CONVEX_TYPECHECK_SERVER_IDLE_SECONDS,
        "typecheck server idle timeout (s)",
    ),
    (
        CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS,
        "local backend startup timeout (s)",
    ),
    (
        CONVEX_IGNORE_SUSPICIOUS_ENV_VARS,
        "only warn about shell-split keys",
    ),
    (
        OPENID_CLIENT_TIMEOUT,
        "identity-provider request timeout (ms)",
    ),
    (WORKOS_API_SECRET, "password login secret (tests)"),
    (
        CONVEX_TEST_RETRY_DELAY_MS,
        "test-only: HTTP retry delay (ms)",
    ),
    (
        CONVEX_TEST_HTTP_TIMEOUT_MS,
        "test-only: HTTP read timeout (ms)",
    ),
    (
        CONVEX_TEST_WORKOS_API_ORIGIN,
        "test-only: WorkOS API origin",
    ),
    (WORKOS_COOKIE_PASSWORD, "AuthKit session-cookie secret"),
    (HTTPS_PROXY, "proxy for https targets"),
    (HTTP_PROXY, "proxy for http targets"),
    (HTTPS_PROXY_LOWER, "proxy for https targets (lower case)"),
    (HTTP_PROXY_LOWER, "proxy for http targets (lower case)"),
    (NO_PROXY, "proxy exclusions"),
    (NO_PROXY_LOWER, "proxy exclusions (lower case)"),
    (SSL_CERT_FILE, "extra CA certificates"),
    (NODE_EXTRA_CA_CERTS, "extra CA certificates (Node's name)"),
    (VERCEL, "Vercel build environment"),
    (NETLIFY, "Netlify build environment"),
    (CF_PAGES, "Cloudflare Pages build environment"),
    (WORKERS_CI, "Cloudflare Workers build environment"),
    (CI, "running in CI"),
    (
        ESBUILD_BINARY_PATH,
        "esbuild binary to bundle with (instead of the project's)",
    ),
    (
        CONVEX_MIN_DOCUMENTS_FOR_INDEX_DELETE_WARNING,
        "index-deletion warning threshold (documents)",
    ),
    (
        CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING,
        "index-backfill warning threshold (documents)",
    ),
    (
        CONVEX_MIN_BYTES_FOR_SCHEMA_WALK_WARNING,
        "slow schema validation threshold (bytes)",
    ),
    (
        CONVEX_IMPORT_CHUNK_SIZE,
        "`import`: upload part size in bytes (parseInt)",
    ),
    (VERCEL_ENV, "Vercel environment (`production`, ...)"),
    (VERCEL_GIT_COMMIT_REF, "Vercel branch"),
    (VERCEL_GIT_COMMIT_SHA, "Vercel commit"),
    (CONTEXT, "Netlify build context"),
    (HEAD, "Netlify branch"),
    (COMMIT_REF, "Netlify commit"),
    (CF_PAGES_BRANCH, "Cloudflare Pages branch"),
    (CF_PAGES_COMMIT_SHA, "Cloudflare Pages commit"),
    (WORKERS_CI_BRANCH, "Cloudflare Workers branch"),
    (WORKERS_CI_COMMIT_SHA, "Cloudflare Workers commit"),
    (GITHUB_ACTIONS, "GitHub Actions marker"),
    (GITHUB_SHA, "GitHub Actions commit"),
    (GITHUB_HEAD_REF, "GitHub pull-request branch"),
    (GITLAB_CI, "GitLab CI marker"),
    (CI_COMMIT_SHA, "GitLab CI commit"),
    (CI_COMMIT_REF_NAME, "GitLab CI branch"),
    (RENDER, "Render marker"),
    (RENDER_GIT_COMMIT, "Render commit"),
    (RAILWAY_ENVIRONMENT, "Railway marker"),
    (RAILWAY_GIT_COMMIT_SHA, "Railway commit"),
    (CIRCLECI, "CircleCI marker"),
    (CIRCLE_SHA1, "CircleCI commit"),
    (
        BUILD_ID,
        "Google Cloud Build marker (with PROJECT_ID, PROJECT_NUMBER, LOCATION)",
    ),
    (PROJECT_ID, "Google Cloud Build marker"),
    (PROJECT_NUMBER, "Google Cloud Build marker"),
    (LOCATION, "Google Cloud Build marker"),
    (SHORT_SHA, "Google Cloud Build commit"),
    (HEROKU_APP_NAME, "Heroku marker"),
    (DYNO, "Heroku marker"),
    (HEROKU_BUILD_COMMIT, "Heroku commit"),
    (NO_COLOR, "disable colours"),
    (TERM, "`dumb`: no colours, no animated spinner"),
    (DISPLAY, "X11 display (a browser can be opened)"),
    (WAYLAND_DISPLAY, "Wayland display (a browser can be opened)"),
    (WSL_DISTRO_NAME, "running inside WSL"),
    (LOCALAPPDATA, "Windows cache folder"),
    (USERPROFILE, "Windows home folder; cache folder fallback"),
    (COMSPEC, "Windows shell for `dev --start` (default cmd.exe)"),
    (
        GOGC,
        "Go GC target for esbuild and TypeScript 7 (set for them when unset)",
    ),
    (
        GOMEMLIMIT,
        "Go memory limit for TypeScript 7 (set for it when GOGC is unset)",
    ),
    (
        GOMAXPROCS,
        "Go threads for esbuild (1 beside TypeScript 7 on two cores when unset)",
    ),
];

/// One variable of the real process environment, for settings decided
/// before a command has built its [`crate::env::Env`] (stderr colours and
/// spinners). `name` is one of the constants above.
pub fn process_value(name: &'static str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a variable is listed twice");
    }

    #[test]
    fn every_constant_is_listed() {
        let source = include_str!("env_vars.rs");
        let listed: Vec<&str> = ALL.iter().map(|(name, _)| *name).collect();
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((constant, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let value = value.trim_end_matches("\";");
            assert!(listed.contains(&value), "{constant} is missing from ALL");
        }
    }

    /// The rule this module exists for: only `env` (which snapshots the
    /// process environment) and this module read it.
    #[test]
    fn no_other_module_reads_the_process_environment() {
        fn visit(dir: &std::path::Path, offenders: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, offenders);
                    continue;
                }
                let allowed = path.ends_with("src/env.rs") || path.ends_with("src/env_vars.rs");
                if allowed || path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for needle in ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("] {
                    if text.contains(needle) {
                        offenders.push(format!("{} uses {needle}", path.display()));
                    }
                }
            }
        }
        let mut offenders = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut offenders,
        );
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
