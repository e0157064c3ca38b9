//! One module per command; each has an `Args` struct and a `run` function.
//!
//! Shared flag groups live here: [`SelectionArgs`] (the deployment-selection
//! flags of `deployment token create/delete`, `env`, `run`, ...) and the
//! `--typecheck` / `--codegen` modes of `dev`, `deploy` and `codegen`.

pub mod ai_files;
pub mod auth;
pub mod codegen;
pub mod completion;
pub mod dashboard;
pub mod data;
pub mod deploy;
pub mod deployment;
pub mod deployments;
pub mod dev;
pub mod docs;
pub mod env;
pub mod export;
pub mod function_spec;
pub mod import;
pub mod init;
pub mod insights;
pub mod integration;
pub mod login;
pub mod logout;
pub mod logs;
pub mod mcp;
pub mod network_test;
pub mod one_off;
pub mod project;
pub mod reinit;
pub mod run;
pub mod typecheck;
pub mod update;

use clap::ValueEnum;

use crate::credentials::SelectionFlags;

/// The deployment-selection flags (`addDeploymentSelectionOptions` in the
/// official CLI). Their combinations are not rejected, as in the official CLI:
/// `--deployment` > `--preview-name` > `--deployment-name` > `--prod`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectionArgs {
    /// Act on the deployment at the given URL (needs --admin-key).
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    /// Admin key for --url.
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    /// Act on this project's default production deployment.
    #[arg(long)]
    pub prod: bool,
    /// Act on the preview deployment with the given name.
    #[arg(long = "preview-name", value_name = "previewName", hide = true)]
    pub preview_name: Option<String>,
    /// Act on the specified deployment.
    #[arg(long = "deployment-name", value_name = "deploymentName", hide = true)]
    pub deployment_name: Option<String>,
    /// Act on a specific deployment. Accepts:
    /// • a deployment name (e.g. joyful-capybara-123)
    /// • a deployment reference (e.g. dev/james, staging)
    /// • `dev` (for your personal dev deployment)
    /// • `prod` (for your project's default production deployment)
    /// • `local` (for your local dev deployment).
    /// You can also select deployments in other projects with
    /// `project-slug:reference` or `team-slug:project-slug:reference`.
    #[arg(long, value_name = "deployment", verbatim_doc_comment)]
    pub deployment: Option<String>,
    /// Path to a custom file of environment variables, for choosing the
    /// deployment, e.g. CONVEX_DEPLOYMENT or CONVEX_SELF_HOSTED_URL.
    #[arg(long = "env-file", value_name = "envFile", hide = true)]
    pub env_file: Option<String>,
}

impl SelectionArgs {
    /// The flags as the credential resolver takes them.
    pub fn to_flags(&self) -> SelectionFlags {
        SelectionFlags {
            url: self.url.clone(),
            admin_key: self.admin_key.clone(),
            env_file: self.env_file.clone(),
            prod: self.prod,
            preview_name: self.preview_name.clone(),
            deployment_name: self.deployment_name.clone(),
            deployment: self.deployment.clone(),
            implicit_prod: false,
        }
    }
}

/// [`SelectionArgs`] accepted before or after a subcommand, for commands
/// whose subcommands share them (`env`, `deployment usage-limits`: the
/// parent's options in the official CLI). Each such command words the
/// help of `--prod` and `--deployment` for itself (`mut_arg`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalSelectionArgs {
    #[arg(long, value_name = "url", hide = true, global = true)]
    pub url: Option<String>,
    #[arg(
        long = "admin-key",
        value_name = "adminKey",
        hide = true,
        global = true
    )]
    pub admin_key: Option<String>,
    /// Act on this project's default production deployment.
    #[arg(long, global = true)]
    pub prod: bool,
    #[arg(
        long = "preview-name",
        value_name = "previewName",
        hide = true,
        global = true
    )]
    pub preview_name: Option<String>,
    #[arg(
        long = "deployment-name",
        value_name = "deploymentName",
        hide = true,
        global = true
    )]
    pub deployment_name: Option<String>,
    /// Act on a specific deployment.
    #[arg(long, value_name = "deployment", global = true)]
    pub deployment: Option<String>,
    #[arg(long = "env-file", value_name = "envFile", hide = true, global = true)]
    pub env_file: Option<String>,
}

impl GlobalSelectionArgs {
    /// The flags as the credential resolver takes them.
    pub fn to_flags(&self) -> SelectionFlags {
        SelectionArgs {
            url: self.url.clone(),
            admin_key: self.admin_key.clone(),
            prod: self.prod,
            preview_name: self.preview_name.clone(),
            deployment_name: self.deployment_name.clone(),
            deployment: self.deployment.clone(),
            env_file: self.env_file.clone(),
        }
        .to_flags()
    }
}

/// `--typecheck <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TypecheckMode {
    Enable,
    #[default]
    Try,
    Disable,
}

/// `--codegen <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CodegenMode {
    #[default]
    Enable,
    Disable,
}

/// Build a current-thread tokio runtime for a command that needs one. Commands
/// that do not talk to the network never build it.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Run an async command body on a fresh current-thread runtime, turning
/// Ctrl-C into [`crate::error::Interrupted`] (exit 130) — unless the body
/// holds a [`CtrlCClaim`] at that moment: then the body handles Ctrl-C itself
/// (to end a wait with its own message) and runs to its end.
pub fn block_on<F>(future: F) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<()>>,
{
    let rt = runtime()?;
    rt.block_on(async {
        tokio::pin!(future);
        loop {
            tokio::select! {
                biased;
                result = &mut future => return result,
                _ = tokio::signal::ctrl_c() => {
                    if CTRL_C_CLAIMS.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                        return Err(crate::error::Interrupted.into());
                    }
                }
            }
        }
    })
}

static CTRL_C_CLAIMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// While alive, Ctrl-C does not end [`block_on`]'s body: the holder listens
/// for it (`tokio::signal::ctrl_c`) and ends its work itself.
pub struct CtrlCClaim(());

impl CtrlCClaim {
    pub fn new() -> CtrlCClaim {
        CTRL_C_CLAIMS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        CtrlCClaim(())
    }
}

impl Default for CtrlCClaim {
    fn default() -> Self {
        CtrlCClaim::new()
    }
}

impl Drop for CtrlCClaim {
    fn drop(&mut self) {
        CTRL_C_CLAIMS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}
