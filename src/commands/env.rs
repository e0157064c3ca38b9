//! `convex env ...`: set, get, remove and list a deployment's environment
//! variables, and (`env default ...`) the project's default ones. The work
//! is in [`crate::data_plane::env`]; this module reads flags, stdin and files
//! and prints.

use anyhow::Result;
use std::io::Read as _;

use crate::commands::{GlobalSelectionArgs, one_off};
use crate::context::{Context, ContextOptions};
use crate::credentials::SelectionFlags;
use crate::data_plane::env::{
    EnvBackend, EnvVarChange, SetPlan, format_env_value_for_dotfile, format_list,
};
use crate::error::fail;
use crate::output::{self, style};

/// Set and view environment variables on your deployment
///
/// • Set a variable: `npx convex env set NAME 'value'`
/// • Set interactively: `npx convex env set NAME`
/// • Set multiple from file: `npx convex env set --from-file .env`
/// • Unset a variable: `npx convex env remove NAME`
/// • List only variable names (no values): `npx convex env list --names-only`
/// • List all variables and their values: `npx convex env list --include-values`
/// • Print a variable's value: `npx convex env get NAME`
///
/// By default, this sets and views variables on your dev deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(
    subcommand_required = true,
    arg_required_else_help = true,
    verbatim_doc_comment,
    mut_arg("prod", |a| a.help(
        "Set and view environment variables on this project's default production deployment"
    )),
    mut_arg("deployment", |a| a.help(
        "Set and view environment variables on a specific deployment (a name, `dev/james`, `dev`, `prod`, `local`, or `project:reference`)"
    ))
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
    #[command(flatten)]
    pub selection: GlobalSelectionArgs,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Set a variable
    #[command(override_usage = "convex env set [options] <name> <value>")]
    Set(SetArgs),
    /// Print a variable's value
    Get(GetArgs),
    /// Unset a variable
    #[command(visible_alias = "rm", alias = "unset")]
    Remove(GetArgs),
    /// List all environment variables and their values
    List(ListArgs),
    /// Manage project-level default environment variables
    Default(DefaultArgs),
}

/// Set environment variables on your deployment.
///
/// • `npx convex env set NAME 'value'`
/// • `npx convex env set NAME # omit a value to set one interactively`
/// • `npx convex env set NAME --from-file value.txt`
/// • `npx convex env set --from-file .env.defaults`
///
/// When setting multiple values, it will refuse all changes if any variables
/// are already set to different values by default. Pass --force to overwrite
/// the provided values.
///
/// To keep secrets out of your shell history, omit the value to pipe it in
/// via stdin: `pbpaste | npx convex env set API_KEY`.
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SetArgs {
    /// The name of the environment variable to set.
    #[arg(value_name = "name")]
    pub name: Option<String>,
    /// The value to set the variable to. Omit to set it interactively.
    #[arg(value_name = "value", allow_hyphen_values = true)]
    pub value: Option<String>,
    /// Read environment variables from a .env file. Without --force, fails
    /// if any existing variable has a different value.
    #[arg(long = "from-file", value_name = "file")]
    pub from_file: Option<String>,
    /// When setting multiple variables, overwrite existing environment
    /// variable values instead of failing on mismatch.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GetArgs {
    /// The name of the environment variable.
    #[arg(value_name = "name")]
    pub name: String,
}

/// • List only variable names (no values): `npx convex env list --names-only`
/// • List all variables and their values: `npx convex env list --include-values`
///
/// When an AI agent runs this command (detected from environment variables
/// like AI_AGENT or CLAUDECODE), only names are listed unless
/// --include-values is passed.
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// List only the names of environment variables, without their values
    #[arg(long = "names-only")]
    pub names_only: bool,
    /// Print each variable's value alongside its name, in .env format (the
    /// default unless an AI agent is detected).
    #[arg(long = "include-values", conflicts_with = "names_only")]
    pub include_values: bool,
}

/// Manage default environment variables for your project, for the
/// deployment type of the current deployment (dev in most cases) unless
/// --type is given.
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct DefaultArgs {
    #[command(subcommand)]
    pub command: DefaultSub,
}

/// `--type` and `--project` of the `env default` subcommands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DefaultOptions {
    /// Manage default env vars for the given deployment type (dev, preview,
    /// prod) instead of inferring from the current deployment.
    #[arg(long = "type", value_name = "type")]
    pub deployment_type: Option<String>,
    /// Select a project manually: `team-slug:project-slug` or
    /// `project-slug`. Requires --type.
    #[arg(long, value_name = "project")]
    pub project: Option<String>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum DefaultSub {
    /// Set a default variable
    #[command(override_usage = "convex env default set [options] <name> <value>")]
    Set {
        #[command(flatten)]
        args: SetArgs,
        #[command(flatten)]
        options: DefaultOptions,
    },
    /// Print a default variable's value
    Get {
        #[command(flatten)]
        args: GetArgs,
        #[command(flatten)]
        options: DefaultOptions,
    },
    /// Unset a default variable
    #[command(visible_alias = "rm", alias = "unset")]
    Remove {
        #[command(flatten)]
        args: GetArgs,
        #[command(flatten)]
        options: DefaultOptions,
    },
    /// List all default environment variables and their values
    List {
        #[command(flatten)]
        args: ListArgs,
        #[command(flatten)]
        options: DefaultOptions,
    },
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(run_async(&ctx, &flags, args.command))
}

async fn run_async(ctx: &Context, flags: &SelectionFlags, command: Sub) -> Result<()> {
    match command {
        Sub::Default(d) => return run_default(ctx, flags, d.command).await,
        command => {
            let target = one_off::select_deployment(ctx, flags).await?;
            let verb = match &command {
                Sub::Set(_) => "env set",
                Sub::Get(_) => "env get",
                Sub::Remove(_) => "env remove",
                _ => "env list",
            };
            ctx.project().ensure_has_convex_dependency(verb)?;
            // A local deployment whose backend is not running is started for
            // the command, as the official CLI does.
            one_off::with_running_backend(ctx, &target, async {
                let backend =
                    EnvBackend::deployment(target.client(ctx)?, ctx.http()?, target.notice());
                match command {
                    Sub::Set(a) => set(ctx, &backend, &a, "env set").await,
                    Sub::Get(a) => get(&backend, &a.name).await,
                    Sub::Remove(a) => remove(&backend, &a.name).await,
                    Sub::List(a) => list(ctx, &backend, &a).await,
                    Sub::Default(_) => unreachable!(),
                }
            })
            .await
        }
    }
}

async fn run_default(ctx: &Context, flags: &SelectionFlags, command: DefaultSub) -> Result<()> {
    let (options, verb) = match &command {
        DefaultSub::Set { options, .. } => (options, "env default set"),
        DefaultSub::Get { options, .. } => (options, "env default get"),
        DefaultSub::Remove { options, .. } => (options, "env default remove"),
        DefaultSub::List { options, .. } => (options, "env default list"),
    };
    let backend = default_backend(ctx, flags, options).await?;
    ctx.project().ensure_has_convex_dependency(verb)?;
    match command {
        DefaultSub::Set { args, .. } => set(ctx, &backend, &args, "env default set").await,
        DefaultSub::Get { args, .. } => get(&backend, &args.name).await,
        DefaultSub::Remove { args, .. } => remove(&backend, &args.name).await,
        DefaultSub::List { args, .. } => list(ctx, &backend, &args).await,
    }
}

/// `--type`: `development` and `production` are accepted for `dev` and
/// `prod`.
fn normalize_type(t: Option<&str>) -> Option<String> {
    t.map(|t| match t {
        "development" => "dev".to_string(),
        "production" => "prod".to_string(),
        other => other.to_string(),
    })
}

async fn default_backend(
    ctx: &Context,
    flags: &SelectionFlags,
    options: &DefaultOptions,
) -> Result<EnvBackend> {
    let dtype = normalize_type(options.deployment_type.as_deref());
    if let Some(project) = &options.project {
        let parts: Vec<&str> = project.split(':').collect();
        let parsed = match parts.as_slice() {
            [p] if !p.is_empty() => (None, p.to_string()),
            [t, p] if !t.is_empty() && !p.is_empty() => (Some(t.to_string()), p.to_string()),
            _ => {
                return Err(fail(
                    "error: --project must be `team-slug:project-slug` or `project-slug`.",
                ));
            }
        };
        let Some(dtype) = dtype else {
            return Err(fail("error: --project requires --type to also be set."));
        };
        let team = match parsed.0 {
            Some(team) => team,
            None => {
                let deployment = one_off::select_deployment(ctx, flags).await?.credentials;
                let Some(fields) = deployment.fields else {
                    return Err(fail(
                        "error: --project <project-slug> requires a current cloud deployment to infer the team from. Use `team-slug:project-slug` to specify the team explicitly.",
                    ));
                };
                team_and_project(ctx, &fields.deployment_name).await?.team
            }
        };
        let details = ctx
            .management()?
            .platform_get(&format!("/teams/{team}/projects/{}", parsed.1), &[])
            .await
            .map_err(|e| anyhow::anyhow!(e).context("Could not look up the project"))?
            .unwrap_or_default();
        let Some(project_id) = details.get("id").and_then(serde_json::Value::as_u64) else {
            return Err(fail(format!(
                "Could not look up the project {team}:{}: unexpected answer {details}",
                parsed.1
            )));
        };
        return Ok(EnvBackend::ProjectDefaults {
            management: ctx.management()?,
            project_id,
            deployment_type: dtype,
        });
    }
    let deployment = one_off::select_deployment(ctx, flags).await?.credentials;
    let Some(fields) = deployment.fields else {
        return Err(fail(
            "Default environment variables are only available for cloud projects.",
        ));
    };
    let kind = fields.deployment_type.as_str().to_string();
    if kind == "anonymous" {
        return Err(fail(
            "Default environment variables are not available for anonymous deployments.",
        ));
    }
    let dtype = dtype.unwrap_or(if kind == "local" { "dev".into() } else { kind });
    let project_id = team_and_project(ctx, &fields.deployment_name)
        .await?
        .project_id;
    Ok(EnvBackend::ProjectDefaults {
        management: ctx.management()?,
        project_id,
        deployment_type: dtype,
    })
}

/// Team slug and ids of a cloud deployment
/// (`GET /api/deployment/<name>/team_and_project`).
pub(crate) struct TeamAndProject {
    pub team: String,
    pub team_id: u64,
    pub project_id: u64,
}

pub(crate) async fn team_and_project(ctx: &Context, name: &str) -> Result<TeamAndProject> {
    let data = ctx
        .management()?
        .big_brain_get(&format!("deployment/{name}/team_and_project"))
        .await?
        .unwrap_or_default();
    let team = data.get("team").and_then(serde_json::Value::as_str);
    let team_id = data.get("teamId").and_then(serde_json::Value::as_u64);
    let project_id = data.get("projectId").and_then(serde_json::Value::as_u64);
    match (team, team_id, project_id) {
        (Some(team), Some(team_id), Some(project_id)) => Ok(TeamAndProject {
            team: team.to_string(),
            team_id,
            project_id,
        }),
        _ => Err(fail(format!(
            "Unknown error when fetching team and project: {data}"
        ))),
    }
}

/// Read stdin to its end as text (a trailing newline dropped).
fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("error: failed to read from stdin: {e}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(text.strip_suffix('\n').map(str::to_string).unwrap_or(text))
}

fn read_file(ctx: &Context, path: &str) -> Result<String> {
    let full = ctx.cwd.join(path);
    if !full.exists() {
        return Err(fail(format!("error: file not found: {path}")));
    }
    let bytes =
        std::fs::read(&full).map_err(|e| fail(format!("error: could not read {path}: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `NAME=value` as one argument (a letter, then letters, digits, `_`).
pub(crate) fn split_assignment(arg: &str) -> Option<(String, String)> {
    let (name, value) = arg.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_string(), value.to_string()))
}

async fn set(ctx: &Context, backend: &EnvBackend, args: &SetArgs, verb: &str) -> Result<()> {
    let notice = backend.notice();
    if let Some(name_arg) = &args.name {
        let (name, value) = match (split_assignment(name_arg), &args.value) {
            (Some(_), Some(value)) => {
                return Err(fail(format!(
                    "When setting an environment variable, you can either set a value with 'NAME=value', or with NAME value, but not both. Are you missing quotes around the CLI argument? Try: \n  npx convex {verb} '{name_arg} {value}'"
                )));
            }
            (Some((name, value)), None) => (name, value),
            (None, Some(value)) => (name_arg.clone(), value.clone()),
            (None, None) => {
                let value = if let Some(file) = &args.from_file {
                    read_file(ctx, file)?
                } else if !output::stdin_is_terminal() {
                    read_stdin()?
                } else {
                    prompt_secret(&format!("Enter value for {name_arg}:"))?
                };
                (name_arg.clone(), value)
            }
        };
        backend
            .update(&[EnvVarChange {
                name: name.clone(),
                value: Some(value),
            }])
            .await?;
        output::success(&format!("Successfully set {}{notice}", style::bold(&name)));
        return Ok(());
    }
    let (content, source) = if let Some(file) = &args.from_file {
        (read_file(ctx, file)?, file.clone())
    } else if !output::stdin_is_terminal() {
        (read_stdin()?, "stdin".to_string())
    } else {
        use clap::CommandFactory as _;
        let mut command = crate::cli::Cli::command();
        let path: &[&str] = if verb == "env set" {
            &["env", "set"]
        } else {
            &["env", "default", "set"]
        };
        let mut sub = &mut command;
        for name in path {
            sub = sub
                .find_subcommand_mut(name)
                .expect("the env commands exist");
        }
        let _ = sub.write_help(&mut std::io::stderr());
        return Err(fail("error: No environment variables specified to be set."));
    };
    set_from_content(backend, &content, &source, args.force).await
}

/// `env set` of a whole `.env` text: all or nothing.
async fn set_from_content(
    backend: &EnvBackend,
    content: &str,
    source: &str,
    force: bool,
) -> Result<()> {
    let notice = backend.notice();
    let (total, skipped, wanted) = SetPlan::wanted(content);
    if !skipped.is_empty() {
        let names: Vec<String> = skipped.iter().map(|n| style::bold(n)).collect();
        output::message(&format!(
            "Skipping {} CLI-managed environment variable{}: {}",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            format_list(&names)
        ));
    }
    if wanted.is_empty() {
        if total == 0 {
            output::message(&format!("No environment variables found in {source}."));
        }
        return Ok(());
    }
    let existing = backend.list().await?;
    let plan = SetPlan::new(content, &existing, force);
    if !plan.conflicts.is_empty() {
        let n = plan.conflicts.len();
        let names: Vec<String> = plan.conflicts.iter().map(|c| style::bold(c)).collect();
        return Err(fail(format!(
            "error: environment variable{} {} already exist{} with different value{}.\n\nUse {} to overwrite existing values.",
            if n == 1 { "" } else { "s" },
            format_list(&names),
            if n == 1 { "s" } else { "" },
            if n == 1 { "" } else { "s" },
            style::bold("--force")
        )));
    }
    let changes = plan.changes();
    if !changes.is_empty() {
        backend.update(&changes).await?;
    }
    let mut parts = Vec::new();
    if !plan.new.is_empty() {
        parts.push(format!("{} new", plan.new.len()));
    }
    if !plan.updated.is_empty() {
        parts.push(format!("{} updated", plan.updated.len()));
    }
    if !plan.unchanged.is_empty() {
        parts.push(format!("{} unchanged", plan.unchanged.len()));
    }
    let processed = plan.new.len() + plan.updated.len() + plan.unchanged.len();
    if changes.is_empty() {
        output::message(&format!(
            "All {processed} environment variable{} from {} already set{notice}",
            if processed == 1 { "" } else { "s" },
            style::bold(source)
        ));
    } else {
        output::success(&format!(
            "Successfully set {} environment variable{} from {} ({}){notice}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            style::bold(source),
            parts.join(", ")
        ));
    }
    Ok(())
}

/// Ask for a secret on the terminal without echoing it.
fn prompt_secret(question: &str) -> Result<String> {
    output::stop_spinner();
    let theme = dialoguer::theme::SimpleTheme;
    dialoguer::Password::with_theme(&theme)
        .with_prompt(question.trim_end_matches(':'))
        .allow_empty_password(true)
        .interact()
        .map_err(|e| match e {
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                crate::error::Interrupted.into()
            }
            dialoguer::Error::IO(io) => anyhow::anyhow!("Could not read the value: {io}"),
        })
}

async fn get(backend: &EnvBackend, name: &str) -> Result<()> {
    match backend.get(name).await? {
        Some(var) => output::data(&var.value),
        // Not found is reported but, as in the official CLI, not an error.
        None => output::failure(&format!(
            "Environment variable \"{name}\" not found{}",
            backend.notice()
        )),
    }
    Ok(())
}

async fn remove(backend: &EnvBackend, name: &str) -> Result<()> {
    backend
        .update(&[EnvVarChange {
            name: name.to_string(),
            value: None,
        }])
        .await?;
    output::success(&format!(
        "Successfully unset {}{}",
        style::bold(name),
        backend.notice()
    ));
    Ok(())
}

async fn list(ctx: &Context, backend: &EnvBackend, args: &ListArgs) -> Result<()> {
    let vars = backend.list().await?;
    if vars.is_empty() {
        output::message(&format!("No environment variables set{}", backend.notice()));
        return Ok(());
    }
    let agent = if args.names_only || args.include_values {
        None
    } else {
        ai_agent(ctx)
    };
    let names_only = args.names_only || agent.is_some();
    for var in &vars {
        if names_only {
            output::data(&var.name);
            continue;
        }
        let (formatted, warning) = format_env_value_for_dotfile(&var.value);
        if let Some(w) = warning {
            output::message(&format!("Warning ({}): {w}", var.name));
        }
        output::data(&format!("{}={formatted}", var.name));
    }
    if let Some(agent) = agent {
        output::message(&format!(
            "Listed names only because an AI agent ({agent}) appears to be running this command. Pass --include-values to print the values too."
        ));
    }
    Ok(())
}

/// The AI agent running this process, from the variables the official CLI
/// (`@vercel/detect-agent`) looks at.
pub fn ai_agent(ctx: &Context) -> Option<String> {
    use crate::env_vars as v;
    let env = &ctx.process_env;
    if env.is_truthy(v::CONVEX_AGENT_MODE) {
        return Some("CONVEX_AGENT_MODE".into());
    }
    if let Some(name) = env
        .get(v::AI_AGENT)
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return Some(match name {
            "github-copilot" | "github-copilot-cli" => "github-copilot".into(),
            other => other.to_string(),
        });
    }
    let any = |vars: &[&str]| vars.iter().any(|var| env.is_truthy(var));
    if any(&[v::CURSOR_TRACE_ID]) {
        return Some("cursor".into());
    }
    if any(&[v::CURSOR_AGENT]) || env.get(v::CURSOR_EXTENSION_HOST_ROLE) == Some("agent-exec") {
        return Some("cursor-cli".into());
    }
    if any(&[v::GEMINI_CLI]) {
        return Some("gemini".into());
    }
    if any(&[v::CODEX_SANDBOX, v::CODEX_CI, v::CODEX_THREAD_ID]) {
        return Some("codex".into());
    }
    if any(&[v::ANTIGRAVITY_AGENT]) {
        return Some("antigravity".into());
    }
    if any(&[v::AUGMENT_AGENT]) {
        return Some("augment-cli".into());
    }
    if any(&[v::OPENCODE_CLIENT]) {
        return Some("opencode".into());
    }
    if any(&[v::CLAUDECODE, v::CLAUDE_CODE]) {
        return Some(
            if any(&[v::CLAUDE_CODE_IS_COWORK]) {
                "cowork"
            } else {
                "claude"
            }
            .into(),
        );
    }
    if any(&[v::REPL_ID]) {
        return Some("replit".into());
    }
    if any(&[
        v::COPILOT_MODEL,
        v::COPILOT_ALLOW_ALL,
        v::COPILOT_GITHUB_TOKEN,
    ]) {
        return Some("github-copilot".into());
    }
    if std::path::Path::new("/opt/.devin").exists() {
        return Some("devin".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_in_one_argument() {
        assert_eq!(
            split_assignment("API_KEY=a=b"),
            Some(("API_KEY".into(), "a=b".into()))
        );
        assert_eq!(split_assignment("_X=1"), None);
        assert_eq!(split_assignment("1X=1"), None);
        assert_eq!(split_assignment("NOVALUE"), None);
        assert_eq!(split_assignment("A-B=1"), None);
    }
}
