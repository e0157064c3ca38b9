//! `convex login` and `convex login status`.
//!
//! `login`: if the current management credential is valid (`HEAD
//! /api/authorize`) and `--force` is not given, say so and stop. Otherwise get
//! an identity token (`--override-access-token`, the password grant, a pasted
//! token, or the OAuth 2.0 device authorization grant against
//! `--override-auth-url`, default `https://auth.convex.dev`), exchange it for
//! a personal access token (`POST /v1/create_personal_access_token`), save it
//! in `config.json`, then accept the terms opt-ins (`check_opt_ins` /
//! `accept_opt_ins`).
//!
//! Non-interactive recipes: `login --device-name NAME --override-access-token
//! TOKEN [--accept-opt-ins]`, or `login --device-name NAME --no-open` (device
//! flow completed elsewhere).

use anyhow::Result;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::context::{Context, ContextOptions};
use crate::credentials::local_state::{self, LocalDeploymentKind};
use crate::credentials::{ManagementAuth, deploy_key};
use crate::env::EnvSource;
use crate::env_vars;
use crate::error::{Failure, fail};
use crate::output;

/// Default OIDC issuer.
pub const DEFAULT_AUTH_URL: &str = "https://auth.convex.dev";
/// Default OIDC client id.
pub const DEFAULT_AUTH_CLIENT: &str = "HFtA247jp9iNs08NTLIB7JsNPMmRIyfi";
/// Where users get a token to paste.
pub const PASTE_TOKEN_PAGE: &str = "https://dashboard.convex.dev/auth";

/// `--login-flow <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LoginFlow {
    Paste,
    #[default]
    Auto,
    Poll,
}

/// The hidden login test hooks (`--override-auth-*`), shared by `login`
/// and `dev` (which logs in when it has no valid credential).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthOverrides {
    /// The OIDC issuer instead of Convex's.
    #[arg(
        id = "override_auth_url",
        long = "override-auth-url",
        value_name = "url",
        hide = true
    )]
    pub url: Option<String>,
    /// The OIDC client id instead of Convex's.
    #[arg(
        id = "override_auth_client",
        long = "override-auth-client",
        value_name = "id",
        hide = true
    )]
    pub client: Option<String>,
    /// With `password`: a password grant instead of the device flow.
    #[arg(
        id = "override_auth_username",
        long = "override-auth-username",
        value_name = "username",
        hide = true
    )]
    pub username: Option<String>,
    #[arg(
        id = "override_auth_password",
        long = "override-auth-password",
        value_name = "password",
        hide = true
    )]
    pub password: Option<String>,
}

/// Login to Convex
#[derive(Debug, Clone, Default, clap::Args)]
#[command(args_override_self = true, disable_help_subcommand = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Provide a name for the device being authorized
    #[arg(long = "device-name", value_name = "name")]
    pub device_name: Option<String>,
    /// Proceed with login even if a valid access token already exists for this device
    #[arg(short, long)]
    pub force: bool,
    /// Don't automatically open the login link in the default browser
    #[arg(long = "no-open")]
    pub no_open: bool,
    /// How to log in; defaults to guessing based on the environment.
    #[arg(long = "login-flow", value_enum, value_name = "mode", default_value_t = LoginFlow::Auto)]
    pub login_flow: LoginFlow,
    #[arg(long = "link-deployments", hide = true)]
    pub link_deployments: bool,
    #[command(flatten)]
    pub auth_overrides: AuthOverrides,
    #[arg(long = "override-access-token", value_name = "token", hide = true)]
    pub override_access_token: Option<String>,
    #[arg(long = "accept-opt-ins", hide = true)]
    pub accept_opt_ins: bool,
    #[arg(long = "dump-access-token", hide = true)]
    pub dump_access_token: bool,
    #[arg(long = "check-login", hide = true)]
    pub check_login: bool,
    /// Redirect to Vercel SSO integration for login
    #[arg(long, hide = true)]
    pub vercel: bool,
    #[arg(long = "vercel-override", value_name = "slug", hide = true)]
    pub vercel_override: Option<String>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Check login status and list accessible teams
    Status(StatusArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        Some(Sub::Status(_)) => status(),
        None => login(args),
    }
}

fn login(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    if args.auth_overrides.username.is_some() != args.auth_overrides.password.is_some() {
        return Err(fail(
            "If overriding credentials, both --override-auth-username and --override-auth-password must be provided.",
        ));
    }
    crate::commands::block_on(async {
        if !args.force && check_authorization(&ctx, args.accept_opt_ins).await? {
            output::success(
                "This device has previously been authorized and is ready for use with Convex.",
            );
            return handle_linking_deployments(&ctx, args.link_deployments).await;
        }
        if !args.force
            && args.check_login
            && !check_authorization(&ctx, args.accept_opt_ins).await?
        {
            return Err(fail("You are not logged in."));
        }
        perform_login(&ctx, &args).await?;
        handle_linking_deployments(&ctx, args.link_deployments).await
    })
}

/// Whether the current credential is valid; for an account token also
/// accepts the terms opt-ins. Network failures end the command.
pub async fn check_authorization(ctx: &Context, accept_opt_ins: bool) -> Result<bool> {
    let Some(auth) = ctx.auth() else {
        return Ok(false);
    };
    if !is_authorized(ctx, &auth.header()).await? {
        return Ok(false);
    }
    if !opt_ins(ctx, accept_opt_ins).await? {
        return Err(Failure::silent(1).into());
    }
    Ok(true)
}

async fn is_authorized(ctx: &Context, header: &str) -> Result<bool> {
    match ctx.management()?.authorize(header).await {
        Ok(valid) => Ok(valid),
        Err(e) => {
            output::error_line(
                "Unexpected error when checking your credentials - are you connected to the internet?",
            );
            Err(e.into())
        }
    }
}

fn default_device_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The login flow itself (also run by `dev` when it needs an account).
pub(crate) async fn perform_login(ctx: &Context, args: &Args) -> Result<()> {
    let device_name = match &args.device_name {
        Some(name) if !name.is_empty() => name.clone(),
        _ => {
            output::message(&output::style::bold(
                "Welcome to developing with Convex, let's get you logged in.",
            ));
            output::prompt_string("Device name:", Some(&default_device_name()))?
        }
    };
    let issuer = args
        .auth_overrides
        .url
        .as_deref()
        .unwrap_or(DEFAULT_AUTH_URL);
    let client_id = args
        .auth_overrides
        .client
        .as_deref()
        .unwrap_or(DEFAULT_AUTH_CLIENT);

    let identity_token = if let Some(token) = args
        .override_access_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        token.to_string()
    } else if let (Some(user), Some(password)) =
        (&args.auth_overrides.username, &args.auth_overrides.password)
    {
        password_grant(ctx, client_id, user, password).await?
    } else if args.login_flow == LoginFlow::Paste {
        paste_token()?
    } else {
        device_flow(ctx, issuer, client_id, args).await?
    };

    if args.dump_access_token {
        output::data(&identity_token);
        return Err(Failure::silent(0).into());
    }

    // Exchange the identity token for a Convex personal access token.
    let anonymous_id = local_state::load_anonymous_uuid(&ctx.dirs);
    let exchange = ctx
        .management()?
        .with_auth_header(Some(format!("Bearer {identity_token}")));
    let response = exchange
        .platform_post(
            "/create_personal_access_token",
            &json!({"name": device_name, "anonymousId": anonymous_id}),
        )
        .await?;
    let Some(access_token) = response
        .as_ref()
        .and_then(|v| v.get("accessToken"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Err(fail(
            "The Convex API did not return an access token; try logging in again.",
        ));
    };
    let path = crate::global_config::save_access_token(&ctx.dirs, &access_token)?;
    output::success(&format!(
        "Saved credentials to {}",
        display_path(ctx, &path)
    ));

    ctx.update_auth_after_login(&access_token);
    if !opt_ins(ctx, args.accept_opt_ins).await? {
        return Err(Failure::silent(1).into());
    }
    if args.vercel {
        join_vercel_teams(ctx).await?;
    }
    Ok(())
}

fn display_path(ctx: &Context, path: &std::path::Path) -> String {
    if cfg!(target_os = "macos")
        && let Ok(rest) = path.strip_prefix(&ctx.home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

fn paste_token() -> Result<String> {
    output::prompt_string(
        &format!("Open {PASTE_TOKEN_PAGE}, log in and paste the token here:"),
        None,
    )
}

/// Timeout of each identity-provider request (`OPENID_CLIENT_TIMEOUT` ms).
fn oidc_timeout(ctx: &Context) -> Duration {
    let ms = ctx
        .env
        .non_empty(env_vars::OPENID_CLIENT_TIMEOUT)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10_000);
    Duration::from_millis(ms)
}

async fn oidc_json(response: reqwest::Response) -> Result<(u16, Value)> {
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((status, value))
}

/// OAuth 2.0 device authorization grant (RFC 8628).
async fn device_flow(ctx: &Context, issuer: &str, client_id: &str, args: &Args) -> Result<String> {
    let http = ctx.http()?;
    let timeout = oidc_timeout(ctx);
    let discovery_url = if issuer.contains("/.well-known/") {
        issuer.to_string()
    } else {
        format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        )
    };
    let discovery = async {
        let resp = http
            .reqwest()
            .get(&discovery_url)
            .header("Accept", "application/json")
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json::<Value>().await.ok()
    }
    .await;
    let Some(metadata) = discovery else {
        output::warning(&format!(
            "Could not reach the login service at {issuer}; log in by pasting a token instead."
        ));
        return paste_token();
    };
    let (Some(device_endpoint), Some(token_endpoint)) = (
        metadata
            .get("device_authorization_endpoint")
            .and_then(|v| v.as_str()),
        metadata.get("token_endpoint").and_then(|v| v.as_str()),
    ) else {
        return paste_token();
    };
    let device = async {
        let resp = http
            .reqwest()
            .post(device_endpoint)
            .header("Accept", "application/json")
            .form(&[("client_id", client_id), ("scope", "openid")])
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json::<Value>().await.ok()
    }
    .await;
    let Some(device) = device else {
        return paste_token();
    };
    let str_of = |name: &str| {
        device
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let device_code = str_of("device_code");
    let user_code = str_of("user_code");
    let verification = {
        let complete = str_of("verification_uri_complete");
        if complete.is_empty() {
            str_of("verification_uri")
        } else {
            complete
        }
    };
    let expires_in = device
        .get("expires_in")
        .and_then(|v| v.as_u64())
        .unwrap_or(900);
    let mut interval = device.get("interval").and_then(|v| v.as_u64()).unwrap_or(5);
    let url_to_open = if args.vercel {
        format!(
            "https://vercel.com/sso/integrations/{}?url={verification}",
            args.vercel_override.as_deref().unwrap_or("convex")
        )
    } else {
        verification.clone()
    };
    let expiry = if expires_in % 60 == 0 {
        format!("{} minutes", expires_in / 60)
    } else {
        format!("{expires_in} seconds")
    };
    output::message(&format!(
        "Visit {url_to_open} to finish logging in.\nYou should see the following code which expires in {expiry}: {user_code}"
    ));
    let open_browser = !args.no_open && output::prompt_yes_no("Open the browser?", Some(true))?;
    if open_browser {
        output::start_spinner(&format!(
            "Opening {url_to_open} in your browser to log in..."
        ));
        match open::that_detached(&url_to_open) {
            Ok(()) => output::change_spinner("Waiting for the confirmation..."),
            Err(_) => {
                output::error_line("Unable to open browser.");
                output::change_spinner(&format!(
                    "Manually open {url_to_open} in your browser to log in."
                ));
            }
        }
    } else {
        output::start_spinner(&format!("Open {url_to_open} in your browser to log in."));
    }

    let deadline = Instant::now() + Duration::from_secs(expires_in);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if Instant::now() > deadline {
            return Err(fail(
                "Device flow expired: the login code was not confirmed in time. Run `npx convex login` again.",
            ));
        }
        let resp = http
            .reqwest()
            .post(token_endpoint)
            .header("Accept", "application/json")
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code.as_str()),
                ("client_id", client_id),
            ])
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| fail(format!("Login failed with error: {e}")))?;
        let (status, body) = oidc_json(resp).await?;
        if (200..300).contains(&status) {
            return match body.get("access_token").and_then(|v| v.as_str()) {
                Some(token) => Ok(token.to_string()),
                None => Err(fail("Login failed with error: the access token is missing")),
            };
        }
        let error = body.get("error").and_then(|v| v.as_str()).unwrap_or("");
        match error {
            "authorization_pending" => continue,
            "slow_down" => {
                interval += 5;
                continue;
            }
            "access_denied" => return Err(fail("Access denied.")),
            "expired_token" => return Err(fail("Device flow expired.")),
            "" => {
                return Err(fail(format!(
                    "Login failed with error: the login service answered {status}"
                )));
            }
            other => {
                let description = body
                    .get("error_description")
                    .and_then(|v| v.as_str())
                    .unwrap_or("undefined");
                return Err(fail(format!(
                    "Error = {other}; error_description = {description}"
                )));
            }
        }
    }
}

/// The hidden username/password login (test accounts only).
async fn password_grant(
    ctx: &Context,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String> {
    let Some(secret) = ctx.env.non_empty(env_vars::WORKOS_API_SECRET) else {
        return Err(fail("WORKOS_API_SECRET environment variable is not set"));
    };
    let resp = ctx
        .http()?
        .reqwest()
        .post("https://apiauth.convex.dev/user_management/authenticate")
        .json(&json!({
            "grant_type": "password",
            "email": username,
            "password": password,
            "client_id": client_id,
            "client_secret": secret,
        }))
        .send()
        .await
        .map_err(|e| fail(format!("Password flow failed: {e}")))?;
    let (status, body) = oidc_json(resp).await?;
    match body.get("access_token").and_then(|v| v.as_str()) {
        Some(token) if (200..300).contains(&status) => Ok(token.to_string()),
        _ => Err(fail(format!("Password flow failed with status {status}"))),
    }
}

/// Accept pending terms opt-ins. `false`: the user declined (already told).
async fn opt_ins(ctx: &Context, accept: bool) -> Result<bool> {
    match ctx.auth() {
        None => return Ok(false),
        Some(ManagementAuth::AccessToken(_)) => {}
        Some(_) => return Ok(true),
    }
    let management = ctx.management()?;
    let data = management
        .big_brain_post("check_opt_ins", None)
        .await?
        .unwrap_or(Value::Null);
    let pending: Vec<Value> = data
        .get("optInsToAccept")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    if pending.is_empty() {
        return Ok(true);
    }
    for item in &pending {
        let message = item
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("Accept the Convex Terms of Service?");
        if !accept && !output::prompt_yes_no(message, None)? {
            output::failure("Please accept the Terms of Service to use Convex.");
            return Ok(false);
        }
    }
    let accepted: Vec<Value> = pending
        .iter()
        .map(|p| p.get("optIn").cloned().unwrap_or(Value::Null))
        .collect();
    management
        .big_brain_post("accept_opt_ins", Some(&json!({"optInsAccepted": accepted})))
        .await?;
    Ok(true)
}

async fn join_vercel_teams(ctx: &Context) -> Result<()> {
    let management = ctx.management()?;
    let base = format!("{}/vercel/potential_teams", ctx.provision_host);
    let http = ctx.http()?;
    let mut request = http
        .reqwest()
        .get(&base)
        .header("Convex-Client", http.convex_client());
    if let Some(auth) = ctx.auth() {
        request = request.header("Authorization", auth.header());
    }
    let teams: Vec<Value> = match request.send().await {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        _ => return Ok(()),
    };
    drop(management);
    let count = teams.len();
    for (index, team) in teams.iter().enumerate() {
        let name = team.get("teamName").and_then(|v| v.as_str()).unwrap_or("");
        let name = name.strip_suffix(" (Vercel)").unwrap_or(name);
        let plan = team.get("planName").and_then(|v| v.as_str()).unwrap_or("");
        let counter = if count > 1 {
            format!("[{}/{count}] ", index + 1)
        } else {
            String::new()
        };
        let mut question = format!(
            "{counter}You've been invited to join {name} ({plan}) through the Vercel marketplace."
        );
        if let Some(notice) = team.get("pricingNotice").and_then(|v| v.as_str()) {
            question.push_str(&format!("\n{notice}"));
        }
        question.push_str(&format!("\nJoin \"{name}\"?"));
        if !output::prompt_yes_no(&question, Some(true))? {
            continue;
        }
        let id = team
            .get("teamId")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut join = http
            .reqwest()
            .post(format!("{base}/{id}/join"))
            .header("Convex-Client", http.convex_client());
        if let Some(auth) = ctx.auth() {
            join = join.header("Authorization", auth.header());
        }
        match join.send().await {
            Ok(r) if r.status().is_success() => output::success(&format!("Joined {name}")),
            Ok(r) => output::failure(&format!(
                "Failed to join {name}: status {}",
                r.status().as_u16()
            )),
            Err(e) => output::failure(&format!("Failed to join {name}: {e}")),
        }
    }
    Ok(())
}

/// After login: offer to link anonymous (account-less) deployments to the
/// account (the official `handleLinkingDeployments`). This directory's own
/// anonymous deployment comes first; otherwise the legacy ones kept in the
/// home folder, all at once after one question, or one by one with
/// `--link-deployments`. Every path asks, so it needs a terminal.
async fn handle_linking_deployments(ctx: &Context, interactive: bool) -> Result<()> {
    if !crate::credentials::anonymous_allowed(&ctx.env) {
        return Ok(());
    }
    let not_now = |what: &str| {
        output::message(&format!(
            "Not linking your existing {what}. If you want to link it later, run `npx convex login --link-deployments`."
        ));
        output::message(&format!(
            "Visit {} or run `npx convex dev` to get started with your new account.",
            ctx.dashboard_host()
        ));
    };
    if let Some((name, _)) = local_state::load_project_local_config(&ctx.cwd)
        && name.starts_with("anonymous-")
    {
        if !output::prompt_yes_no(
            &format!(
                "Would you like to link your existing deployment to your account? (\"{name}\")"
            ),
            Some(true),
        )? {
            not_now("deployment");
            return Ok(());
        }
        let dashboard_url = link_single_deployment(ctx, &name, Some(&name), None).await?;
        output::success(&format!("Visit {dashboard_url} to get started."));
        return Ok(());
    }
    let legacy = legacy_anonymous_deployments(ctx);
    if legacy.is_empty() {
        if interactive {
            output::message(
                "It doesn't look like you have any deployments to link. You can run `npx convex dev` to set up a new project or select an existing one.",
            );
        }
        return Ok(());
    }
    let selection = crate::credentials::get_deployment_selection(
        ctx,
        &crate::credentials::SelectionFlags::default(),
    )
    .await?;
    let configured = match &selection {
        crate::credentials::DeploymentSelection::Anonymous {
            deployment_name, ..
        } => deployment_name.clone(),
        _ => None,
    };
    if !interactive {
        let question = if legacy.len() == 1 {
            format!(
                "Would you like to link your existing deployment to your account? (\"{}\")",
                legacy[0]
            )
        } else {
            let mut q = format!(
                "You have {} existing deployments. Would you like to link them to your account?\n\nDeployments:",
                legacy.len()
            );
            for name in &legacy {
                q.push_str(&format!("\n- {name}"));
            }
            q.push_str("\n\nYou can alternatively run `npx convex login --link-deployments` to interactively choose which deployments to add.");
            q
        };
        if !output::prompt_yes_no(&question, Some(true))? {
            not_now("deployments");
            return Ok(());
        }
        let (team, _) = crate::commands::dev::configure::choose_team(
            ctx,
            None,
            "Choose a team for your deployments:",
        )
        .await?;
        let mut dashboard_url = format!("{}/t/{}", ctx.dashboard_host(), team.slug);
        for name in &legacy {
            let url =
                link_single_deployment(ctx, name, configured.as_deref(), Some(&team.slug)).await?;
            if Some(name.as_str()) == configured.as_deref() {
                dashboard_url = url;
            }
        }
        output::success(&format!(
            "Successfully linked your deployments! Visit {dashboard_url} to get started."
        ));
        return Ok(());
    }
    loop {
        let remaining = legacy_anonymous_deployments(ctx);
        if remaining.is_empty() {
            output::message("All deployments have been linked.");
            return Ok(());
        }
        let mut list = format!(
            "You have {} existing deployments.\n\nDeployments:",
            remaining.len()
        );
        for name in &remaining {
            list.push_str(&format!("\n- {name}"));
        }
        output::message(&list);
        let picked = output::prompt_select(
            "Which deployment would you like to link to your account?",
            &remaining,
            0,
        )?;
        link_single_deployment(ctx, &remaining[picked], configured.as_deref(), None).await?;
        if !output::prompt_yes_no("Would you like to link another deployment?", Some(true))? {
            return Ok(());
        }
    }
}

/// The anonymous deployments kept in the home folder, by name.
fn legacy_anonymous_deployments(ctx: &Context) -> Vec<String> {
    crate::local_backend::list_legacy_deployments(&ctx.dirs, LocalDeploymentKind::Anonymous)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Link one anonymous deployment: pick the team (unless given) and a new or
/// existing project, move the deployment into it, and when it is the one
/// `CONVEX_DEPLOYMENT` names, point `.env.local` at its new name. Returns
/// its dashboard URL.
async fn link_single_deployment(
    ctx: &Context,
    name: &str,
    configured: Option<&str>,
    team_slug: Option<&str>,
) -> Result<String> {
    use crate::commands::dev::{DevDeploymentMode, configure, env_setup};
    let (team, _) =
        configure::choose_team(ctx, team_slug, "Choose a team for your deployment:").await?;
    let project = configure::select_project(
        ctx,
        &configure::ConfigureOptions {
            chosen: Some(crate::local_backend::ChosenConfiguration::Ask),
            team: Some(team.slug.clone()),
            dev_deployment: Some(DevDeploymentMode::Local),
            default_project_name: Some(name.strip_prefix("anonymous-").unwrap_or(name).to_string()),
            ..Default::default()
        },
    )
    .await?;
    let backends = crate::local_backend::LocalBackends::from_context(ctx)?;
    let control_plane = crate::local_backend::ManagementControlPlane::new(ctx.management()?);
    let linked = backends
        .link_anonymous_deployment(name, &team.slug, &project.project_slug, &control_plane)
        .await?;
    if Some(name) == configured {
        env_setup::save_deployment_selection(
            ctx,
            &crate::credentials::DeploymentFields {
                deployment_name: linked.deployment_name.clone(),
                deployment_type: crate::credentials::DeploymentType::Local,
                team_slug: Some(team.slug.clone()),
                project_slug: Some(linked.project_slug.clone()),
                reference: None,
                is_default: false,
            },
            &linked.url,
            None,
            configured,
        )?;
    }
    Ok(format!(
        "{}/d/{}",
        ctx.dashboard_host(),
        linked.deployment_name
    ))
}

fn status() -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    let auth = ctx.auth();
    let path = ctx.dirs.config_path();
    crate::commands::block_on(async {
        let Some(token) = crate::global_config::read_access_token(&ctx.dirs) else {
            output::message(&format!(
                "No Convex account token found in: {}",
                path.display()
            ));
            output::message("Status: Not logged in");
            return report_deploy_key(&ctx, auth.as_ref()).await;
        };
        output::message(&format!(
            "Convex account token found in: {}",
            path.display()
        ));
        if !is_authorized(&ctx, &format!("Bearer {token}")).await? {
            output::message("Status: Not logged in");
            return report_deploy_key(&ctx, auth.as_ref()).await;
        }
        output::message("Status: Logged in");
        let teams = ctx
            .management()?
            .with_auth_header(Some(format!("Bearer {token}")))
            .big_brain_get("teams")
            .await?
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        output::message(&format!(
            "Teams: {} team{} accessible",
            teams.len(),
            if teams.len() == 1 { "" } else { "s" }
        ));
        for team in &teams {
            let name = team.get("name").and_then(|v| v.as_str()).unwrap_or("");
            let slug = team.get("slug").and_then(|v| v.as_str()).unwrap_or("");
            output::message(&format!("  - {name} ({slug})"));
        }
        report_deploy_key(&ctx, auth.as_ref()).await
    })
}

/// A project or deployment key in the environment outranks the account for
/// commands run here: say whether it is valid and where it comes from.
async fn report_deploy_key(ctx: &Context, auth: Option<&ManagementAuth>) -> Result<()> {
    let key = match auth {
        Some(ManagementAuth::ProjectKey(k)) | Some(ManagementAuth::DeploymentKey(k)) => k,
        _ => return Ok(()),
    };
    let var = deploy_key::deploy_key_var_name(&ctx.env);
    let source = match ctx.env.source(var) {
        Some(EnvSource::File(file)) => file.display().to_string(),
        _ => "shell environment".to_string(),
    };
    let header = format!("Bearer {}", deploy_key::secret_part(key));
    if is_authorized(ctx, &header).await? {
        output::message(&format!("Working Directory: Valid {var} in {source}"));
    } else {
        output::warning(&format!("Working Directory: Invalid {var} in {source}"));
    }
    Ok(())
}
