//! `convex typecheck` (hidden): typecheck the functions folder with the
//! project's own TypeScript compiler, as a push would, and say whether it
//! passed (exit 0) or why not (exit 1).
//!
//! As the official command: the project configuration is read and the
//! functions are bundled first (a bundling error fails the command before
//! the compiler runs), `package.json` must list `convex`, and the compiler
//! runs as `node <tsc> --version`, `node <tsc> --project <functions>
//! --listFiles` and, only when that fails, `node <tsc> --project <functions>
//! --pretty true`, whose report is shown on stderr. Running the compiler is
//! this command's job, so it is the one command that starts Node.
//! The compiler itself is found by the push pipeline's lookup
//! ([`crate::push::typecheck`]).

use anyhow::Result;
use std::path::MAIN_SEPARATOR;

use crate::bundler::{BundleErrorKind, Bundler};
use crate::commands::TypecheckMode;
use crate::context::{Context, ContextOptions};
use crate::error::{Failure, fail};
use crate::output;
use crate::project::{ProjectConfig, TypescriptCompiler};
use crate::push::typecheck::{Invocation, TypecheckOutcome, Typechecker};
use crate::push::{ConsoleOutput, PushError};

/// Run TypeScript typechecking on your Convex functions with `tsc --noEmit`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// TypeScript compiler to use for typechecking (`@typescript/native-preview`
    /// must be installed to use `tsgo`)
    #[arg(long = "typescript-compiler", value_name = "compiler", value_enum)]
    pub typescript_compiler: Option<CompilerChoice>,
}

/// `--typescript-compiler` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompilerChoice {
    Tsc,
    Tsgo,
}

pub fn run(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::commands::block_on(typecheck(&ctx, &args))
}

async fn typecheck(ctx: &Context, args: &Args) -> Result<()> {
    let config = ctx
        .project()
        .config()
        .map_err(|e| fail(format!("Could not read the project configuration: {e:#}")))?;
    let kind = match args.typescript_compiler {
        Some(CompilerChoice::Tsc) => TypescriptCompiler::Tsc,
        Some(CompilerChoice::Tsgo) => TypescriptCompiler::Tsgo,
        None => config
            .typescript_compiler
            .unwrap_or(TypescriptCompiler::Tsc),
    };
    bundle_functions(ctx, &config).await?;
    ctx.project()
        .ensure_has_convex_dependency("typecheck")
        .map_err(|e| fail(format!("{e:#}")))?;

    let functions_dir = config.functions_dir(&ctx.cwd);
    let project_arg = functions_arg(&config.functions);
    if !functions_dir.join("tsconfig.json").is_file() {
        return Err(fail(format!(
            "Cannot typecheck: there is no {} for the Convex functions.\n  Run `npx convex codegen --init` to create one.",
            join_display(&project_arg, "tsconfig.json")
        )));
    }
    let checker = Typechecker::new(TypecheckMode::Enable, &ctx.cwd, Some(kind));
    if checker.compiler.is_none() {
        let package = match kind {
            TypescriptCompiler::Tsc => "typescript",
            TypescriptCompiler::Tsgo => "@typescript/native-preview",
        };
        return Err(fail(format!(
            "Cannot typecheck: no `{}` was found in node_modules of this folder or any folder above it.\n  Install it with `npm install --save-dev {package}`.",
            kind.as_str()
        )));
    }
    let output = ConsoleOutput;
    let outcome = checker
        .check_with(&functions_dir, &project_arg, Invocation::COMMAND, &output)
        .await
        .map_err(Failure::from)?;
    match outcome {
        TypecheckOutcome::Failed { diagnostics, .. } => {
            output::failure(&format!(
                "TypeScript typecheck via `{}` failed.",
                kind.as_str()
            ));
            output::note("Typecheck failed");
            let diagnostics = diagnostics.trim_end();
            if !diagnostics.is_empty() {
                output::message(diagnostics);
            }
            Err(Failure::silent(1).into())
        }
        TypecheckOutcome::Passed { .. } | TypecheckOutcome::Skipped => {
            output::success(&format!(
                "Typecheck passed: `{} --noEmit` completed with exit code 0.",
                kind.as_str()
            ));
            Ok(())
        }
    }
}

/// Bundles the functions as a push would (nothing is written): code that
/// cannot be bundled fails the command, as in the official CLI. Without the
/// project's esbuild there is nothing to bundle with, and the check is
/// skipped.
async fn bundle_functions(ctx: &Context, config: &ProjectConfig) -> Result<()> {
    let esbuild_override = ctx
        .env
        .non_empty(crate::env_vars::ESBUILD_BINARY_PATH)
        .map(std::path::Path::new);
    let bundler = match Bundler::start(&ctx.cwd, esbuild_override) {
        Ok(bundler) => bundler,
        Err(e) if e.kind == BundleErrorKind::Setup => {
            output::verbose(&format!("Not bundling the functions first: {e}"));
            return Ok(());
        }
        Err(e) => return Err(Failure::from(PushError::from(e)).into()),
    };
    let result = bundler.debug_bundle(config).await;
    bundler.stop();
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::from(PushError::from(e)).into()),
    }
}

/// The functions folder as the official CLI passes it to `--project`:
/// `path.join(".", functions)`, i.e. normalised, relative, keeping a
/// trailing separator (`convex/`, `src/convex/`).
fn functions_arg(functions: &str) -> String {
    let trailing = functions.ends_with(['/', '\\']);
    let mut parts: Vec<&str> = Vec::new();
    for segment in functions.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut out = parts.join(std::path::MAIN_SEPARATOR_STR);
    if out.is_empty() {
        out.push('.');
    }
    if trailing {
        out.push(MAIN_SEPARATOR);
    }
    out
}

fn join_display(dir: &str, file: &str) -> String {
    if dir.ends_with(MAIN_SEPARATOR) {
        format!("{dir}{file}")
    } else {
        format!("{dir}{MAIN_SEPARATOR}{file}")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn functions_arg_is_node_path_join() {
        assert_eq!(functions_arg("convex/"), "convex/");
        assert_eq!(functions_arg("./convex"), "convex");
        assert_eq!(functions_arg("src/convex/"), "src/convex/");
        assert_eq!(functions_arg("/abs/convex"), "abs/convex");
        assert_eq!(functions_arg("a/../b/./c"), "b/c");
        assert_eq!(functions_arg("../up"), "../up");
        assert_eq!(functions_arg("./"), "./");
        assert_eq!(
            join_display("convex/", "tsconfig.json"),
            "convex/tsconfig.json"
        );
        assert_eq!(
            join_display("convex", "tsconfig.json"),
            "convex/tsconfig.json"
        );
    }
}
