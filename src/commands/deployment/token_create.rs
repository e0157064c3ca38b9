//! `convex deployment token create <name> [--save-env [path]]`: create a
//! deploy key for the selected deployment; print it (stdout, alone) or save
//! it as `CONVEX_DEPLOY_KEY` in an env file.

use anyhow::Result;
use serde_json::json;
use std::path::Path;

use super::{describe_refusal, resolve_target};
use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::env_file::{EnvFileChange, EnvFileEdit, check_env_file_editable, update_env_file};
use crate::env_vars;
use crate::error::fail;
use crate::http::FetchError;
use crate::output;

/// Creates a deploy key that, when set as `CONVEX_DEPLOY_KEY`, scopes all
/// commands to the target deployment.
///
/// • Print a new deploy key to stdout: `npx convex deployment token create my-token`
/// • Save a new deploy key in `.env.local`: `npx convex deployment token create my-token --save-env`
/// • Save a new deploy key in a custom env file: `npx convex deployment token create ci-token --save-env .env.production`
/// • Create a key for the project's prod: `npx convex deployment token create ci-token --deployment prod`
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Name for the new deploy key
    #[arg(value_name = "name")]
    pub name: String,
    /// Save the new key as CONVEX_DEPLOY_KEY in an env file instead of
    /// printing it. Defaults to .env.local.
    #[arg(long = "save-env", value_name = "path", num_args = 0..=1)]
    pub save_env: Option<Option<String>>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::credentials::ensure_logged_in_with_access_token(&ctx, "Creating a deploy key")?;
    crate::commands::block_on(create(&ctx, &args, &flags))
}

async fn create(
    ctx: &Context,
    args: &Args,
    flags: &crate::credentials::SelectionFlags,
) -> Result<()> {
    let target = resolve_target(ctx, flags).await?;
    let deployment = describe_refusal(target, "create")?;
    // A key that cannot be saved would be left on the server: check the file
    // first.
    if let Some(save_env) = &args.save_env {
        let file = save_env.as_deref().unwrap_or(".env.local");
        if file.is_empty() {
            return Err(fail(
                "`--save-env` was given an empty path. Name a file (`--save-env .env.production`) or give no value to use .env.local. No key was created.",
            ));
        }
        if let Err(e) = check_env_file_editable(&ctx.cwd.join(file), env_vars::CONVEX_DEPLOY_KEY) {
            return Err(fail(format!(
                "Cannot save a deploy key in {file}: {e}. No key was created."
            )));
        }
    }

    output::start_spinner(&format!("Creating deploy key for {deployment}..."));
    let response = match ctx
        .management()?
        .platform_post(
            &format!("/deployments/{deployment}/create_deploy_key"),
            &json!({"name": args.name}),
        )
        .await
    {
        Ok(response) => response,
        // The server answered 2xx, so the key probably exists.
        Err(e @ FetchError::Decode { .. }) => {
            return Err(fail(format!(
                "{e}\nThe key \"{}\" was probably created anyway: delete it with `npx convex deployment token delete {}` before trying again.",
                args.name, args.name
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(deploy_key) = response
        .as_ref()
        .and_then(|v| v.get("deployKey"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Err(fail(format!(
            "The Convex API created deploy key \"{}\" for {deployment} but did not return it. Delete it with `npx convex deployment token delete {}` and try again.",
            args.name, args.name
        )));
    };

    let Some(save_env) = &args.save_env else {
        output::success(&format!(
            "Created deploy key \"{}\" for {deployment}.",
            args.name
        ));
        output::data(&deploy_key);
        return Ok(());
    };
    let file = save_env.as_deref().unwrap_or(".env.local");
    let edit = EnvFileEdit::new(env_vars::CONVEX_DEPLOY_KEY, &deploy_key);
    match update_env_file(&ctx.cwd.join(file), &edit) {
        Ok(EnvFileChange::Unchanged) => output::success(&format!(
            "Deploy key for {deployment} already present in {file}; no changes made."
        )),
        Ok(EnvFileChange::Written) => output::success(&format!(
            "Saved deploy key \"{}\" for {deployment} as {} in {file}.",
            args.name,
            env_vars::CONVEX_DEPLOY_KEY
        )),
        Err(e) => {
            output::fail_spinner();
            return Err(fail(format!(
                "Created deploy key \"{}\" for {deployment}, but could not write it to {}: {e}\n  The key exists on the server: delete it with `npx convex deployment token delete {}`, or run the command again without --save-env to print a new one.",
                args.name,
                Path::new(file).display(),
                args.name
            )));
        }
    }
    Ok(())
}
