//! `convex run <function> [args]`: run a function (or, with `--watch`,
//! subscribe to a query) on a deployment and print its result; or evaluate
//! `--inline-query` code. The work is in [`crate::data_plane::functions`].

use anyhow::Result;
use serde_json::Value;

use crate::commands::{CodegenMode, SelectionArgs, TypecheckMode};
use crate::context::{Context, ContextOptions};
use crate::credentials::DeploymentType;
use crate::data_plane::functions::{self, Call, Outcome, Target};
use crate::error::fail;
use crate::output::{self, style};
use crate::values::{self, ArgsError, JsValue};

/// Run a function or evaluate an inline readonly query on your deployment.
///
/// • Run a function with JSON arguments: `npx convex run messages:send '{"body": "hello", "author": "me"}'`
/// • Run a function on prod: `npx convex run messages:list --prod`
/// • Live-update a query's result: `npx convex run messages:list --watch`
/// • Push local code before running: `npx convex run messages:send '{}' --push`
/// • Evaluate an inline readonly query: `npx convex run --inline-query 'await ctx.db.query("messages").take(5)'`
///
/// Arguments are specified as a JSON object. By default, this runs on your
/// dev deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// identifier of the function to run, like `listMessages` or
    /// `dir/file:myFunction`
    #[arg(value_name = "functionName")]
    pub function_name: Option<String>,
    /// JSON-formatted arguments object to pass to the function.
    #[arg(value_name = "args", allow_hyphen_values = true)]
    pub args: Option<String>,
    /// Watch a query, printing its result if the underlying data changes.
    /// Given function must be a query.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// JavaScript to evaluate as a readonly query (one-shot; cannot be
    /// combined with --watch).
    #[arg(long = "inline-query", value_name = "query", conflicts_with = "watch")]
    pub inline_query: Option<String>,
    /// Push code to deployment before running the function.
    #[arg(long, overrides_with = "no_push")]
    pub push: bool,
    #[arg(long = "no-push", hide = true)]
    pub no_push: bool,
    /// JSON-formatted UserIdentity object, e.g. '{ name: "John", address: "0x123" }'
    #[arg(long, value_name = "identity", allow_hyphen_values = true)]
    pub identity: Option<String>,
    /// Whether to check TypeScript files with `tsc --noEmit` (with --push).
    #[arg(long, value_enum, value_name = "mode", default_value = "try")]
    pub typecheck: TypecheckMode,
    /// Check TypeScript files within component implementations with `tsc --noEmit`.
    #[arg(long = "typecheck-components")]
    pub typecheck_components: bool,
    /// Regenerate code in `convex/_generated/` (with --push).
    #[arg(long, value_enum, value_name = "mode", default_value = "enable")]
    pub codegen: CodegenMode,
    /// Path to the component (e.g. "workflow" or "workflow/workpool")
    #[arg(long, value_name = "path")]
    pub component: Option<String>,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

enum RunTarget {
    Function { name: String, args: String },
    InlineQuery(String),
}

fn resolve_target(args: &Args) -> Result<RunTarget> {
    let inline = args.inline_query.as_deref().map(str::trim);
    match (inline, &args.function_name) {
        (Some(_), Some(_)) => Err(fail(
            "`npx convex run` accepts either <functionName> or `--inline-query`, not both.",
        )),
        (None, None) => Err(fail(
            "`npx convex run` requires either <functionName> or `--inline-query`.",
        )),
        (None, Some(name)) => Ok(RunTarget::Function {
            name: name.clone(),
            args: args.args.clone().unwrap_or_else(|| "{}".to_string()),
        }),
        (Some(""), None) => Err(fail("`--inline-query` must not be empty.")),
        (Some(_), None) if args.watch => Err(fail(
            "`--inline-query` can't be combined with `--watch`. Use `convex run <functionName> --watch` for named deployed queries.",
        )),
        (Some(_), None) if args.identity.is_some() => Err(fail(
            "`--inline-query` can't be combined with `--identity`.",
        )),
        (Some(query), None) => Ok(RunTarget::InlineQuery(query.to_string())),
    }
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    let target = resolve_target(&args)?;
    let push = args.push && !args.no_push;
    if matches!(target, RunTarget::Function { .. }) || push {
        ctx.project().ensure_has_convex_dependency("run")?;
    }
    // No Ctrl-C handler around the whole command: `--watch` handles it
    // itself (and exits 0, as the official CLI); otherwise it ends the
    // process as usual.
    crate::commands::runtime()?.block_on(run_async(&ctx, &flags, &args, target, push))
}

async fn run_async(
    ctx: &Context,
    flags: &crate::credentials::SelectionFlags,
    args: &Args,
    target: RunTarget,
    push: bool,
) -> Result<()> {
    let target_deployment = crate::commands::one_off::select_deployment(ctx, flags).await?;
    let deployment = target_deployment.credentials.clone();
    let is_prod = deployment
        .fields
        .as_ref()
        .is_some_and(|f| f.deployment_type == DeploymentType::Prod);
    if is_prod && push {
        return Err(fail(
            "`convex run` doesn't support pushing functions to prod deployments. Remove the --push flag. To push to production use `npx convex deploy`.",
        ));
    }
    // A local deployment whose backend is not running is started for the
    // command, as the official CLI does.
    crate::commands::one_off::with_running_backend(ctx, &target_deployment, async {
        run_on_deployment(ctx, args, target, push, &deployment).await
    })
    .await
}

async fn run_on_deployment(
    ctx: &Context,
    args: &Args,
    target: RunTarget,
    push: bool,
    deployment: &crate::credentials::DeploymentCredentials,
) -> Result<()> {
    if push {
        crate::commands::dev::push_once_for_run(
            ctx,
            deployment,
            args.typecheck,
            args.typecheck_components,
            args.codegen == CodegenMode::Enable,
            args.live_component_sources,
        )
        .await?;
    }
    let http = ctx.http()?;
    let npm_version = crate::push::installed_convex_version(&ctx.cwd)
        .unwrap_or_else(|| crate::REFERENCE_VERSION.to_string());
    let mut run_target = Target {
        http,
        deployment_url: deployment.url.clone(),
        admin_key: deployment.admin_key.clone(),
        identity: None,
        npm_version,
    };
    let (name, args_text) = match target {
        RunTarget::InlineQuery(query) => {
            return inline_query(ctx, &run_target, &query, args.component.as_deref()).await;
        }
        RunTarget::Function { name, args } => (name, args),
    };
    if args.watch {
        return watch(ctx, &mut run_target, &name, &args_text, args).await;
    }
    if let Some(identity) = &args.identity {
        run_target.identity = Some(parse_identity(identity)?);
    }
    let function_args = parse_args(&args_text)?;
    let path = function_path(ctx, &name)?;
    let call = Call {
        path: &path,
        args: &function_args,
        component: args.component.as_deref(),
    };
    let deploy_key_var = deploy_key_var(ctx);
    match functions::run_function(&run_target, &call).await {
        Err(e) => Err(fail(format!(
            "Failed to run function \"{name}\":\n{}",
            style::red(&format!("{e:#}"))
        ))),
        Ok(Outcome::Success { value, log_lines }) => {
            for line in &log_lines {
                output::message(&functions::function_log_line(&path, line));
            }
            match functions::format_result(&value) {
                Ok(Some(text)) => output::data(&text),
                Ok(None) => {}
                Err(e) => {
                    return Err(fail(format!(
                        "Function \"{name}\" returned a value that is not a valid Convex value: {e}"
                    )));
                }
            }
            Ok(())
        }
        Ok(Outcome::Failure {
            message, log_lines, ..
        }) => {
            for line in &log_lines {
                output::message(&functions::function_log_line(&path, line));
            }
            let message = message.trim().to_string();
            if let Some(permission) = functions::permission_denied(&message, deploy_key_var) {
                return Err(fail(style::red(&permission)));
            }
            if message.contains("Could not find function") {
                let listing = match functions::api_spec(
                    &run_target.http,
                    &run_target.deployment_url,
                    &run_target.admin_key,
                    args.component.as_deref(),
                )
                .await
                {
                    Ok(functions) => {
                        crate::push::function_call::format_available_functions(&functions)
                    }
                    Err(e) => format!("(The deployment's functions could not be listed: {e:#})"),
                };
                return Err(fail(format!(
                    "Failed to run function \"{name}\":\n{}\n\n{listing}",
                    style::red(&message)
                )));
            }
            Err(fail(format!(
                "Failed to run function \"{name}\":\n{}",
                style::red(&message)
            )))
        }
    }
}

fn deploy_key_var(ctx: &Context) -> Option<&'static str> {
    crate::credentials::deploy_key::raw_deploy_key(&ctx.process_env)
        .map(|_| crate::credentials::deploy_key::deploy_key_var_name(&ctx.process_env))
}

/// JSON5 arguments, Convex-encoded; a clear message on bad input.
pub fn parse_args(text: &str) -> Result<JsValue> {
    match values::parse_function_args(text) {
        Ok(v) => Ok(v),
        Err(ArgsError::Syntax(e)) => Err(fail(format!(
            "Failed to parse arguments as JSON: \"{text}\"\n{}\nArguments are a JSON5 object, e.g. '{{\"body\": \"hello\", author: \"me\"}}'.",
            style::red(&e)
        ))),
        Err(ArgsError::NotAnObject(what)) => Err(fail(format!(
            "Failed to parse arguments as JSON: \"{text}\"\n{}",
            style::red(&format!(
                "The arguments to a Convex function must be an object. Received: {what}"
            ))
        ))),
    }
}

fn parse_identity(text: &str) -> Result<JsValue> {
    values::fake_identity(text).map_err(|e| {
        fail(format!(
            "Failed to parse identity as JSON: \"{text}\"\n{}",
            style::red(&e)
        ))
    })
}

/// The function's `path:export`, as the official CLI reads the name.
fn function_path(ctx: &Context, name: &str) -> Result<String> {
    let config = ctx.project().config()?;
    crate::push::function_call::parse_function_name(name, &config.functions, &ctx.cwd).map_err(fail)
}

async fn watch(
    ctx: &Context,
    target: &mut Target,
    name: &str,
    args_text: &str,
    args: &Args,
) -> Result<()> {
    let path = function_path(ctx, name)?;
    if let Some(identity) = &args.identity {
        target.identity = Some(parse_identity(identity)?);
    }
    let function_args = parse_args(args_text)?;
    let mut subscription =
        functions::watch_query(target, &path, &function_args, args.component.as_deref())
            .await
            .map_err(|e| fail(format!("Could not watch \"{name}\": {e}")))?;
    output::success(&format!(
        "Watching query {name} on {}...",
        target.deployment_url
    ));
    let deploy_key_var = deploy_key_var(ctx);
    let result = async {
        loop {
            let update = match subscription.next().await {
                Ok(update) => update,
                Err(e) => {
                    let text = e.to_string();
                    if let Some(permission) = functions::permission_denied(&text, deploy_key_var) {
                        return Err(fail(style::red(&permission)));
                    }
                    return Err(fail(format!("Stopped watching \"{name}\": {text}")));
                }
            };
            for line in &update.log_lines {
                output::message(&crate::sync::query_log_line(&path, line));
            }
            match functions::format_result(&update.value) {
                Ok(Some(text)) => output::data(&text),
                Ok(None) => output::data("null"),
                Err(e) => {
                    return Err(fail(format!(
                        "Query \"{name}\" returned a value that is not a valid Convex value: {e}"
                    )));
                }
            }
        }
    };
    let interrupted = tokio::select! {
        r = result => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    match interrupted {
        Some(r) => {
            subscription.close().await;
            r
        }
        None => {
            subscription.close().await;
            output::message(&format!(
                "Closing connection to {}...",
                target.deployment_url
            ));
            Ok(())
        }
    }
}

async fn inline_query(
    _ctx: &Context,
    target: &Target,
    query: &str,
    component: Option<&str>,
) -> Result<()> {
    let outcome = functions::run_inline_query(target, query, component).await?;
    match outcome {
        functions::InlineOutcome::Failure(payload) => Err(fail(style::red(&format!(
            "Query failed: {}",
            values::stringify(&JsValue::from_serde(&payload), 2)
        )))),
        functions::InlineOutcome::Success { value, log_lines } => {
            for line in &log_lines {
                output::message(&match line {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
            }
            match functions::format_result(&value) {
                Ok(Some(text)) => output::data(&text),
                Ok(None) => {}
                Err(e) => {
                    return Err(fail(format!(
                        "The query's result is not a Convex value: {e}"
                    )));
                }
            }
            Ok(())
        }
    }
}
