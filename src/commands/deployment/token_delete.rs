//! `convex deployment token delete <nameOrToken>`: delete a deploy key of the
//! selected deployment, by name or by value.

use anyhow::Result;
use serde_json::json;

use super::{describe_refusal, resolve_target};
use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::error::fail;
use crate::output;

/// Delete an access token. Currently only deploy keys (deployment-scoped
/// access tokens) are supported.
///
/// The positional `<nameOrToken>` can be the unique name of the deploy key (as
/// passed to `token create`) or the deploy key value itself. The target
/// deployment defaults to the currently-selected one; pass `--deployment` to
/// target a different deployment.
///
/// • Delete by name: `npx convex deployment token delete my-token`
/// • Delete by value: `npx convex deployment token delete 'dev:happy-animal-123|ey...'`
/// • Target prod: `npx convex deployment token delete ci-token --deployment prod`
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// The unique name of the deploy key, or the deploy key value itself.
    #[arg(value_name = "nameOrToken")]
    pub name_or_token: String,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::credentials::ensure_logged_in_with_access_token(&ctx, "Deleting a deploy key")?;
    crate::commands::block_on(delete(&ctx, &args, &flags))
}

/// `dev:name` without `|…`: the shell ate the rest of the key.
pub fn looks_like_partial_key(value: &str) -> bool {
    ["dev:", "prod:", "preview:", "local:"]
        .iter()
        .any(|p| value.starts_with(p))
        && !value.contains('|')
}

/// What the API matches a key by: the part after the first `|`, else the
/// argument itself (a key name).
pub fn key_id(name_or_token: &str) -> &str {
    crate::credentials::deploy_key::secret_part(name_or_token)
}

async fn delete(
    ctx: &Context,
    args: &Args,
    flags: &crate::credentials::SelectionFlags,
) -> Result<()> {
    let target = resolve_target(ctx, flags).await?;
    let deployment = describe_refusal(target, "delete")?;
    let value = &args.name_or_token;
    if looks_like_partial_key(value) {
        return Err(fail(format!(
            "\"{value}\" looks like a partial deploy key: your shell probably treated the `|` and everything after it as a pipe. Wrap the value in single quotes (e.g. npx convex deployment token delete '{value}|...') and try again."
        )));
    }
    output::start_spinner(&format!("Deleting deploy key for {deployment}..."));
    ctx.management()?
        .platform_post(
            &format!("/deployments/{deployment}/delete_deploy_key"),
            &json!({"id": key_id(value)}),
        )
        .await?;
    output::success(&format!("Deleted deploy key for {deployment}."));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_keys_and_ids() {
        assert!(looks_like_partial_key("dev:happy-animal-123"));
        assert!(looks_like_partial_key("local:x"));
        assert!(!looks_like_partial_key("dev:x|s"));
        assert!(!looks_like_partial_key("custom:foo"));
        assert!(!looks_like_partial_key("my-token"));
        assert_eq!(key_id("dev:x|A|B"), "A|B");
        assert_eq!(key_id("custom:foo"), "custom:foo");
        assert_eq!(key_id("ci-token"), "ci-token");
    }
}
