//! `convex dev`: configure a deployment, push the functions, then watch and
//! push again on every relevant change (spec `dev-and-local.md`).
//!
//! The run, in order:
//! 1. flag checks, the project's `package.json`;
//! 2. deployment selection ([`crate::credentials`]) and what it takes to get
//!    a deployment from it ([`configure`]): login, project choice,
//!    provisioning, a local or anonymous backend ([`crate::local_backend`]);
//! 3. `GET /api/v1/get_canonical_urls`, then `.env.local` and friends
//!    ([`env_setup`]) and the banner ([`crate::push::announce`]);
//! 4. side by side: the watch–push loop ([`watch_loop`]) with the log tail
//!    ([`logs`]), and the advisory checks ([`crate::advisories`]).
//!
//! Ctrl-C and SIGTERM stop the `--start` command and any backend this run
//! started, then end the process (exit 130 for Ctrl-C; for SIGTERM the
//! process ends by that signal, which a shell shows as 143).

pub(crate) mod configure;
pub(crate) mod env_setup;
mod logs;
mod push_step;
mod remote_watch;
mod start;
mod timefmt;
mod watch_loop;

pub use timefmt::locale_string;

use std::time::Duration;

use anyhow::Result;

use super::{CodegenMode, TypecheckMode};
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    self, DeploymentSelection, DeploymentType, SelectionFlags, SelectionWithinProject,
};
use crate::error::{Failure, Interrupted, fail};
use crate::local_backend::{self, ChosenConfiguration, LocalBackendOptions, LocalBackends};
use crate::output::{self, style};
use crate::signals::{Stop, next as stop_signal};
use configure::{ConfigureOptions, Target};
use watch_loop::{AfterPush, LoopOptions, RunAfterPush};

pub use env_setup::write_urls_to_env_file;

/// `--tail-logs [mode]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TailLogs {
    Always,
    PauseOnDeploy,
    Disable,
}

/// `--configure [choice]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigureChoice {
    New,
    Existing,
}

/// `--dev-deployment <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DevDeploymentMode {
    Cloud,
    Local,
}

/// Develop against a dev deployment, watching for changes
///
///   1. Configures a new or existing project (if needed)
///   2. Updates generated types and pushes code to the configured dev deployment
///   3. Runs the provided command (if `--start` or `--run` is used)
///   4. Watches for file changes, and repeats step 2
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Show full listing of changes
    #[arg(short, long)]
    pub verbose: bool,
    /// Check TypeScript files with `tsc --noEmit`.
    #[arg(long, value_enum, value_name = "mode", default_value_t = TypecheckMode::Try)]
    pub typecheck: TypecheckMode,
    /// Check TypeScript files within component implementations with `tsc --noEmit`.
    #[arg(long = "typecheck-components")]
    pub typecheck_components: bool,
    /// Regenerate code in `convex/_generated/`
    #[arg(long, value_enum, value_name = "mode", default_value_t = CodegenMode::Enable)]
    pub codegen: CodegenMode,
    /// Push all modules without checking for unchanged module hashes from the server
    #[arg(long = "push-all-modules", hide = true)]
    pub push_all_modules: bool,
    /// Execute only the first 3 steps, stop on any failure
    #[arg(long)]
    pub once: bool,
    /// Execute only the first 3 steps, on failure watch for local and remote changes and retry steps 2 and 3
    #[arg(long = "until-success")]
    pub until_success: bool,
    /// Start a long-running command alongside `npx convex dev`, like a frontend dev server.
    #[arg(long, value_name = "command")]
    pub start: Option<String>,
    /// Deprecated: use --start instead.
    #[arg(long = "run-sh", value_name = "command", hide = true)]
    pub run_sh: Option<String>,
    /// The identifier of the function to run in step 3, like `api.init.createData` or `myDir/myFile:myFunction`
    #[arg(long, value_name = "functionName")]
    pub run: Option<String>,
    /// If --run is used and the function is in a component, the path to the component.
    #[arg(long = "run-component", value_name = "functionName")]
    pub run_component: Option<String>,
    /// Choose whether to tail Convex function logs in this terminal:
    /// always, pause-on-deploy (the default) or disable.
    #[arg(long = "tail-logs", value_enum, value_name = "mode", num_args = 0..=1)]
    pub tail_logs: Option<Option<TailLogs>>,
    #[arg(long = "trace-events", hide = true)]
    pub trace_events: bool,
    #[arg(long = "debug-bundle-path", value_name = "path", hide = true)]
    pub debug_bundle_path: Option<String>,
    #[arg(long = "debug-node-apis", hide = true)]
    pub debug_node_apis: bool,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    /// Ignore existing configuration and configure new or existing project.
    #[arg(long, value_enum, value_name = "choice", num_args = 0..=1)]
    pub configure: Option<Option<ConfigureChoice>>,
    /// The team you'd like to use for this project
    #[arg(long, value_name = "team_slug", hide = true)]
    pub team: Option<String>,
    /// The name of the project you'd like to configure
    #[arg(long, value_name = "project_slug", hide = true)]
    pub project: Option<String>,
    /// Use a local or cloud deployment for dev for this project
    #[arg(long = "dev-deployment", value_enum, value_name = "mode", hide = true)]
    pub dev_deployment: Option<DevDeploymentMode>,
    /// Develop live against this project's production deployment.
    #[arg(long, hide = true)]
    pub prod: bool,
    #[arg(long = "allow-unstaging-schema", hide = true)]
    pub allow_unstaging_schema: bool,
    /// Path to a custom file of environment variables, for choosing the
    /// deployment, e.g. CONVEX_DEPLOYMENT or CONVEX_SELF_HOSTED_URL.
    #[arg(long = "env-file", value_name = "envFile")]
    pub env_file: Option<String>,
    #[arg(long = "skip-push", hide = true)]
    pub skip_push: bool,
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    #[command(flatten)]
    pub auth_overrides: crate::commands::login::AuthOverrides,
    #[arg(long = "local-cloud-port", value_name = "port", hide = true)]
    pub local_cloud_port: Option<String>,
    #[arg(long = "local-site-port", value_name = "port", hide = true)]
    pub local_site_port: Option<String>,
    #[arg(long = "local-backend-version", value_name = "version", hide = true)]
    pub local_backend_version: Option<String>,
    #[arg(long = "local-force-upgrade", hide = true)]
    pub local_force_upgrade: bool,
    #[arg(long, value_name = "deployment", hide = true)]
    pub deployment: Option<String>,
    #[arg(long, hide = true)]
    pub local: bool,
    #[arg(long, hide = true)]
    pub cloud: bool,
}

/// How long a relevant change must be followed by quiet before the next
/// push. The official CLI waits 500 ms; 30 ms still folds an editor's
/// write-rename-chmod burst into one push (see `docs/compatibility.md`).
pub const DEBOUNCE: Duration = Duration::from_millis(30);

/// The flags after validation (the official `normalizeDevOptions`).
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub verbose: bool,
    pub typecheck: TypecheckMode,
    pub typecheck_components: bool,
    pub codegen: bool,
    pub once: bool,
    pub until_success: bool,
    pub run: Option<RunAfterPush>,
    pub tail_logs: TailLogs,
    pub trace_events: bool,
    pub debug_bundle_path: Option<String>,
    pub debug_node_apis: bool,
    pub live_component_sources: bool,
    pub push_all_modules: bool,
    pub allow_unstaging_schema: bool,
    pub skip_push: bool,
}

impl DevOptions {
    pub fn from_args(args: &Args) -> Result<DevOptions> {
        if args.run_component.is_some() && args.run.is_none() {
            return Err(fail(
                "Can't specify `--run-component` option without `--run`",
            ));
        }
        if args.debug_bundle_path.is_some() && !args.once {
            return Err(fail(
                "`--debug-bundle-path` can only be used with `--once`.",
            ));
        }
        if args.debug_node_apis && !args.once {
            return Err(fail("`--debug-node-apis` can only be used with `--once`."));
        }
        // `--run` beats `--start`, which beats `--run-sh` (the official CLI
        // does not enforce their declared conflicts either).
        let run = match (&args.run, args.start.as_ref().or(args.run_sh.as_ref())) {
            (Some(name), _) => Some(RunAfterPush::Function {
                name: name.clone(),
                component: args.run_component.clone(),
            }),
            (None, Some(command)) => Some(RunAfterPush::Shell(command.clone())),
            (None, None) => None,
        };
        Ok(DevOptions {
            verbose: args.verbose,
            typecheck: args.typecheck,
            typecheck_components: args.typecheck_components,
            codegen: args.codegen == CodegenMode::Enable,
            once: args.once,
            until_success: args.until_success,
            run,
            tail_logs: args.tail_logs.flatten().unwrap_or(TailLogs::PauseOnDeploy),
            trace_events: args.trace_events,
            debug_bundle_path: args.debug_bundle_path.clone(),
            debug_node_apis: args.debug_node_apis,
            live_component_sources: args.live_component_sources,
            push_all_modules: args.push_all_modules,
            allow_unstaging_schema: args.allow_unstaging_schema,
            skip_push: args.skip_push,
        })
    }
}

/// `convex run --push`: one push as `dev --once --until-success` makes it
/// (the same pipeline, output and checks), before the function runs. No
/// logs are tailed and nothing runs after the push.
pub(crate) async fn push_once_for_run(
    ctx: &Context,
    deployment: &crate::credentials::DeploymentCredentials,
    typecheck: TypecheckMode,
    typecheck_components: bool,
    codegen: bool,
    live_component_sources: bool,
) -> Result<()> {
    let options = DevOptions {
        verbose: false,
        typecheck,
        typecheck_components,
        codegen,
        once: true,
        until_success: true,
        run: None,
        tail_logs: TailLogs::Disable,
        trace_events: false,
        debug_bundle_path: None,
        debug_node_apis: false,
        live_component_sources,
        push_all_modules: false,
        allow_unstaging_schema: false,
        skip_push: false,
    };
    let client = ctx.deployment_client(&deployment.url, &deployment.admin_key)?;
    let config = ctx.project().config()?;
    let after = AfterPush {
        run: None,
        deployment: client.clone(),
        http: ctx.http()?,
        functions_dir: config.functions.clone(),
        project_root: ctx.cwd.clone(),
        env: ctx.env.clone(),
    };
    let loop_options = LoopOptions {
        once: true,
        until_success: true,
        trace_events: false,
        debounce: DEBOUNCE,
    };
    let remote = remote_watch::RemoteWatch::new(client);
    let mut pusher = push_step::start(
        ctx,
        &deployment.url,
        &deployment.admin_key,
        deployment.fields.as_ref(),
        &options,
    )?;
    let mut child = None;
    watch_loop::watch_and_push(
        &mut pusher,
        &loop_options,
        None,
        &after,
        &remote,
        &mut child,
    )
    .await
}

fn parse_port(flag: &str, value: &Option<String>) -> Result<Option<u16>> {
    match value {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u16>() {
            Ok(port) if port > 0 => Ok(Some(port)),
            _ => Err(fail(format!(
                "`{flag}` must be a port number from 1 to 65535, not `{v}`."
            ))),
        },
    }
}

fn rejected_flag(flag: &str, select: &str, what: &str) -> anyhow::Error {
    fail(format!(
        "`{flag}` can't be used with `npx convex dev`.\n\n  To select {what} for development, run:\n      {}\n  Then, run `npx convex dev` again.",
        output::style::bold(&format!("npx convex deployment select {select}"))
    ))
}

pub fn run(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions {
        url: args.url.clone(),
        admin_key: args.admin_key.clone(),
        env_file: args.env_file.clone(),
    })?;
    if let Some(deployment) = &args.deployment {
        return Err(rejected_flag("--deployment", deployment, "this deployment"));
    }
    if args.local {
        return Err(rejected_flag("--local", "local", "your local deployment"));
    }
    if args.cloud {
        return Err(rejected_flag(
            "--cloud",
            "dev",
            "your personal cloud dev deployment",
        ));
    }
    let options = DevOptions::from_args(&args)?;
    if options.debug_node_apis {
        // A bundling diagnostic this CLI does not implement: the project's
        // official CLI runs it (see docs/compatibility.md).
        return match crate::forward::forward_current_args() {
            0 => Ok(()),
            code => Err(Failure::silent(code).into()),
        };
    }
    ctx.project()
        .ensure_has_convex_dependency("run `npx convex dev`")?;
    if args.configure.is_none()
        && (args.team.is_some() || args.project.is_some() || args.dev_deployment.is_some())
    {
        return Err(fail(
            "`--team`, `--project`, and `--dev-deployment` can only be used with `--configure`.",
        ));
    }
    let local = LocalBackendOptions {
        cloud_port: parse_port("--local-cloud-port", &args.local_cloud_port)?,
        site_port: parse_port("--local-site-port", &args.local_site_port)?,
        backend_version: args.local_backend_version.clone(),
        force_upgrade: args.local_force_upgrade,
    };
    let configure = ConfigureOptions {
        chosen: args.configure.map(|choice| match choice {
            None => ChosenConfiguration::Ask,
            Some(ConfigureChoice::New) => ChosenConfiguration::New,
            Some(ConfigureChoice::Existing) => ChosenConfiguration::Existing,
        }),
        prod: args.prod,
        local,
        team: args.team.clone(),
        project: args.project.clone(),
        dev_deployment: args.dev_deployment,
        login: args.auth_overrides.clone(),
        default_project_name: None,
    };
    let flags = SelectionFlags {
        url: args.url.clone(),
        admin_key: args.admin_key.clone(),
        env_file: args.env_file.clone(),
        prod: args.prod,
        ..Default::default()
    };
    let runtime = super::runtime()?;
    runtime.block_on(run_with_signals(&ctx, &flags, &configure, &options))
}

/// What a run leaves to clean up: the `--start` command, the local backend,
/// the local dashboard.
#[derive(Default)]
struct Session {
    child: Option<start::ShellChild>,
    local: Option<local_backend::LocalDeploymentHandle>,
    dashboard: Option<local_backend::LocalDashboard>,
}

impl Session {
    /// Stop what this run started: the backend (a linked one is also
    /// paused), the dashboard, then the `--start` command.
    async fn cleanup(&mut self) {
        if let Some(local) = self.local.take() {
            local.shutdown().await;
        }
        self.dashboard.take();
        if let Some(child) = self.child.as_mut() {
            child.stop().await;
        }
    }
}

async fn run_with_signals(
    ctx: &Context,
    flags: &SelectionFlags,
    configure: &ConfigureOptions,
    options: &DevOptions,
) -> Result<()> {
    let mut session = Session::default();
    // Listening starts now, so a signal during set-up is not lost.
    let signal = stop_signal();
    tokio::pin!(signal);
    let ended = {
        let body = dev(ctx, flags, configure, options, &mut session);
        tokio::pin!(body);
        tokio::select! {
            result = &mut body => Ok(result),
            stop = &mut signal => Err(stop),
        }
    };
    match ended {
        Ok(result) => {
            output::stop_spinner();
            session.cleanup().await;
            result
        }
        Err(stop) => {
            output::stop_spinner();
            if stop == Stop::Interrupt
                && let Some(child) = session.child.as_mut()
            {
                child.interrupt();
            }
            // Another signal more than half a second later means "now".
            let started = std::time::Instant::now();
            let impatient = async {
                loop {
                    let again = stop_signal().await;
                    if started.elapsed() > Duration::from_millis(500) {
                        return again;
                    }
                }
            };
            tokio::select! {
                _ = session.cleanup() => {}
                _ = impatient => local_backend::stop_all_backends(),
            }
            match stop {
                Stop::Interrupt => Err(Interrupted.into()),
                Stop::Terminate => {
                    crate::signals::end_as_terminated();
                    Err(Failure::silent(143).into())
                }
            }
        }
    }
}

/// Everything after the flag checks (see the module docs).
async fn dev(
    ctx: &Context,
    flags: &SelectionFlags,
    configure_options: &ConfigureOptions,
    options: &DevOptions,
    session: &mut Session,
) -> Result<()> {
    let selection = match configure_options.chosen {
        Some(_) => DeploymentSelection::ChooseProject {
            within: if configure_options.prod {
                SelectionWithinProject::Prod
            } else {
                SelectionWithinProject::Unspecified
            },
        },
        None => credentials::get_deployment_selection(ctx, flags).await?,
    };
    let backends = LocalBackends::from_context(ctx)?;
    let Target {
        url,
        admin_key,
        fields,
        local,
    } = configure::credentials_or_configure(ctx, &selection, configure_options, &backends).await?;
    session.local = local;

    configure::save_configured_target(ctx, &selection, &url, &admin_key, fields.as_ref()).await?;

    crate::push::announce::announce_deployment_target(
        "Developing against deployment:",
        &url,
        fields.as_ref(),
        ctx.dashboard_host(),
    );
    if fields
        .as_ref()
        .is_some_and(|f| f.deployment_type == DeploymentType::Prod)
    {
        output::warning(&style::bold(&style::yellow(
            "This is a production deployment: every change you save is pushed live to it. Use a dev deployment for development.",
        )));
    }

    let advisories = async {
        if let Some(fields) = &fields {
            crate::advisories::check_all(ctx, &fields.deployment_name).await;
        }
    };
    let develop = async {
        if options.skip_push {
            return Ok(());
        }
        let target = Deployment {
            url: &url,
            admin_key: &admin_key,
            fields: fields.as_ref(),
            pinned_backend_version: configure_options.local.backend_version.as_deref(),
        };
        develop(ctx, &target, options, session, &backends).await
    };
    let (result, ()) = tokio::join!(develop, advisories);
    result
}

/// The deployment `dev` works against.
#[derive(Clone, Copy)]
struct Deployment<'a> {
    url: &'a str,
    admin_key: &'a str,
    fields: Option<&'a credentials::DeploymentFields>,
    /// `--local-backend-version`.
    pinned_backend_version: Option<&'a str>,
}

/// The local dashboard (long-running anonymous `dev`), the log tail and the
/// loop; `--once`/`--until-success` then wait for a `--start` command.
async fn develop(
    ctx: &Context,
    target: &Deployment<'_>,
    options: &DevOptions,
    session: &mut Session,
    backends: &LocalBackends,
) -> Result<()> {
    let Deployment {
        url,
        admin_key,
        fields,
        pinned_backend_version,
    } = *target;
    let long_running = !options.once && !options.until_success;
    if long_running
        && fields.is_some_and(|f| f.deployment_type == DeploymentType::Anonymous)
        && let Some(local) = &session.local
    {
        // The dashboard is a convenience: without it (e.g. its download is
        // blocked) development goes on.
        match backends
            .start_dashboard(local, pinned_backend_version)
            .await
        {
            Ok(dashboard) => session.dashboard = Some(dashboard),
            Err(e) => output::warning(&format!(
                "The local dashboard could not be started, so `npx convex dashboard` will not work in this session: {e:#}"
            )),
        }
    }
    let client = ctx.deployment_client(url, admin_key)?;
    let logs =
        (options.tail_logs != TailLogs::Disable).then(|| logs::LogManager::new(options.tail_logs));
    let tail = async {
        match &logs {
            Some(manager) => logs::tail_logs(client.clone(), manager.clone()).await,
            None => std::future::pending().await,
        }
    };
    let config = ctx.project().config()?;
    let after = AfterPush {
        run: options.run.clone(),
        deployment: client.clone(),
        http: ctx.http()?,
        functions_dir: config.functions.clone(),
        project_root: ctx.cwd.clone(),
        env: ctx.env.clone(),
    };
    let loop_options = LoopOptions {
        once: options.once,
        until_success: options.until_success,
        trace_events: options.trace_events,
        debounce: DEBOUNCE,
    };
    let remote = remote_watch::RemoteWatch::new(client.clone());
    let mut pusher = push_step::start(ctx, url, admin_key, fields, options)?;
    let child = &mut session.child;
    let looped = async {
        watch_loop::watch_and_push(
            &mut pusher,
            &loop_options,
            logs.as_deref(),
            &after,
            &remote,
            child,
        )
        .await?;
        // `--once` / `--until-success` wait for the `--start` command.
        if let Some(child) = child.as_mut() {
            let status = child.wait().await;
            if let Some(message) = child.failure(status) {
                output::error_line(&message);
                return Err(Failure::silent(1).into());
            }
        }
        Ok(())
    };
    tokio::select! {
        result = looped => result,
        result = tail => result,
    }
}
