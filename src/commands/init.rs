//! `convex init` (hidden): make sure this directory is configured for a
//! Convex deployment — `dev --once --skip-push` without the push: choose or
//! create the project and deployment when none is configured (a local or
//! anonymous backend runs only while the command does), save it in
//! `.env.local`, then the usage and version advisories. Nothing is pushed
//! or typechecked.

use anyhow::Result;

use crate::commands::dev::configure::{self, ConfigureOptions};
use crate::context::{Context, ContextOptions};
use crate::credentials::{self, SelectionFlags};
use crate::local_backend::LocalBackends;

/// Ensures a Convex project is configured and initialized in the current
/// directory. Does nothing if one is already configured. Unlike `npx convex
/// dev`, it will not push code or typecheck.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::commands::block_on(init(&ctx))
}

async fn init(ctx: &Context) -> Result<()> {
    let selection = credentials::get_deployment_selection(ctx, &SelectionFlags::default()).await?;
    let backends = LocalBackends::from_context(ctx)?;
    let target = configure::credentials_or_configure(
        ctx,
        &selection,
        &ConfigureOptions::default(),
        &backends,
    )
    .await?;
    let result = async {
        configure::save_configured_target(
            ctx,
            &selection,
            &target.url,
            &target.admin_key,
            target.fields.as_ref(),
        )
        .await?;
        if let Some(fields) = &target.fields {
            crate::advisories::check_all(ctx, &fields.deployment_name).await;
        }
        Ok(())
    }
    .await;
    if let Some(local) = target.local {
        local.shutdown().await;
    }
    result
}
