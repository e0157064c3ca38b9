//! WorkOS AuthKit provisioning through the management API (the
//! `integration workos` commands).
//!
//! [`provision_team_interactive`]: create the WorkOS team of a Convex team,
//! after the user agrees to WorkOS's terms and picks one of their verified
//! emails (the API says which ones can be used).
//!
//! [`ensure_environment_provisioned`] (`integration workos
//! provision-environment`): the deployment's WorkOS environment and its
//! `WORKOS_*` variables, read and set through the env data plane
//! ([`crate::data_plane::env`]), then `.env.local` and the environment's
//! redirect URIs, homepage and CORS origins (WorkOS API) as `convex.json`'s
//! `authKit` asks.

use anyhow::Result;
use serde_json::{Value, json};

use crate::context::Context;
use crate::error::fail;
use crate::output::{self, style};

/// Asks whether to create a WorkOS team for the Convex team of
/// `deployment_name` and with which email, then creates it
/// (`POST /api/workos/provision_associated_workos_team`). Returns the new
/// team's id and name, or `None` when the user declined. Without a
/// terminal it fails, saying how to proceed instead.
pub async fn provision_team_interactive(
    ctx: &Context,
    deployment_name: &str,
    team_id: &Value,
    deployment_type: &str,
) -> Result<Option<(String, String)>> {
    let management = ctx.management()?;
    let team_slug = match management
        .big_brain_get(&format!("deployment/{deployment_name}/team_and_project"))
        .await
    {
        Ok(v) => v.and_then(|v| v.get("team").and_then(Value::as_str).map(str::to_string)),
        Err(e)
            if matches!(
                e.server_code(),
                Some("DeploymentNotFound") | Some("ProjectNotFound")
            ) =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let Some(team_slug) = team_slug else {
        return Err(fail(format!(
            "Can't find the Convex Cloud team of the deployment {deployment_name}."
        )));
    };
    output::stop_spinner();
    let question = format!(
        "Create a WorkOS team and enable automatic AuthKit environment provisioning for team \"{team_slug}\"?"
    );
    if !output::stdin_is_terminal() {
        output::data(&question);
        return Err(fail(format!(
            "Cannot set up WorkOS AuthKit without a terminal to ask in.\n\n\
             A WorkOS team must be associated with your Convex team before environments can be provisioned automatically. Either:\n\
             1. run this command in an interactive terminal to create it,\n\
             2. remove the authKit.{deployment_type} section from convex.json and set your own WorkOS credentials in the dashboard, or\n\
             3. set WORKOS_CLIENT_ID and WORKOS_API_KEY before deploying."
        )));
    }
    output::message(&format!(
        "AuthKit needs a WorkOS team for your Convex team \"{team_slug}\".\n\n\
         With it, you and the other members of this team can create a WorkOS environment for each Convex dev deployment of the team's projects.\n\n\
         Creating it means agreeing to the WorkOS Terms of Service (https://workos.com/legal/terms-of-service) and Privacy Policy (https://workos.com/legal/privacy).\n\
         Answer no to use an existing WorkOS environment instead (set WORKOS_CLIENT_ID).\n"
    ));
    if !output::prompt_yes_no(&question, None)? {
        output::message("\nUnderstood: no WorkOS account will be created.");
        return Ok(None);
    }
    let mut already_used: Vec<String> = Vec::new();
    loop {
        let emails: Vec<String> = management
            .big_brain_get("workos/available_workos_team_emails")
            .await?
            .and_then(|v| v.get("availableEmails").cloned())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect();
        let mut labels: Vec<String> = emails
            .iter()
            .map(|e| {
                if already_used.contains(e) {
                    format!("{e} (a WorkOS team already exists with this email)")
                } else {
                    e.clone()
                }
            })
            .collect();
        labels.push("refresh (add an email at https://dashboard.convex.dev/profile)".into());
        labels.push("cancel (do not create a WorkOS account)".into());
        if emails.is_empty() {
            output::message(
                "Add a verified email at https://dashboard.convex.dev/profile to create a WorkOS account with, then choose 'refresh'.",
            );
        }
        let question = if emails.len() == 1 {
            "Create a new WorkOS team with this email address?"
        } else {
            "Create a new WorkOS team with which email address?"
        };
        let choice = output::prompt_select(question, &labels, 0)?;
        if choice == emails.len() {
            continue;
        }
        if choice > emails.len() {
            return Ok(None);
        }
        let email = &emails[choice];
        match management
            .big_brain_post(
                "workos/provision_associated_workos_team",
                Some(&json!({"teamId": team_id, "email": email})),
            )
            .await
        {
            Ok(answer) => {
                let answer = answer.unwrap_or(Value::Null);
                let field = |k: &str| {
                    answer
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("undefined")
                        .to_string()
                };
                return Ok(Some((field("workosTeamId"), field("workosTeamName"))));
            }
            Err(e) if e.server_code() == Some("WorkosAccountAlreadyExistsWithThisEmail") => {
                let message = match &e {
                    crate::http::FetchError::Status(s) => s.message.clone(),
                    _ => None,
                }
                .unwrap_or_else(|| "WorkOS account with this email already exists".into());
                output::message(&style::yellow(&message));
                already_used.push(email.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The deployment a provisioning acts on.
#[derive(Debug, Clone)]
pub struct Target {
    pub deployment_name: String,
    /// `dev`, `preview` or `prod`.
    pub deployment_type: &'static str,
    pub url: String,
    pub admin_key: String,
}

/// The WorkOS credentials a deployment has or gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: Option<String>,
    pub api_key: Option<String>,
    pub environment_id: Option<String>,
}

const CLIENT_ID: &str = "WORKOS_CLIENT_ID";
const API_KEY: &str = "WORKOS_API_KEY";
const ENVIRONMENT_ID: &str = "WORKOS_ENVIRONMENT_ID";

/// What [`ensure_environment_provisioned`] ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioned {
    Ready,
    /// Nothing to do (no `authKit.<type>` section), or the user declined
    /// to create a WorkOS team.
    NotDone,
}

/// `integration workos provision-environment`: as
/// [`ensure_environment_provisioned`], with `{"dev": {}}` standing in for
/// a missing `authKit` section (so a dev deployment gets an environment).
pub async fn provision_environment_command(ctx: &Context, target: &Target) -> Result<()> {
    ctx.project()
        .ensure_has_convex_dependency("integration workos provision-environment")
        .map_err(|e| fail(format!("{e:#}")))?;
    let config = ctx
        .project()
        .config()
        .map_err(|e| fail(format!("Could not read the project configuration: {e:#}")))?;
    let auth_kit = match config.auth_kit {
        Some(auth_kit) => auth_kit,
        None => {
            output::warning(
                "Consider using the 'authKit' config in convex.json for automatic provisioning.",
            );
            output::message("Learn more at https://docs.convex.dev/auth/authkit/auto-provision");
            output::message("");
            json!({"dev": {}})
        }
    };
    ensure_environment_provisioned(ctx, target, &auth_kit).await?;
    Ok(())
}

fn env_backend(ctx: &Context, target: &Target) -> Result<crate::data_plane::env::EnvBackend> {
    Ok(crate::data_plane::env::EnvBackend::deployment(
        ctx.deployment_client(&target.url, &target.admin_key)?,
        ctx.http()?,
        String::new(),
    ))
}

/// The deployment's `WORKOS_*` variables (read side by side, as the
/// official CLI does).
async fn deployment_credentials(
    backend: &crate::data_plane::env::EnvBackend,
) -> Result<Credentials> {
    let value = |r: Result<Option<crate::data_plane::env::EnvVar>>| -> Result<Option<String>> {
        Ok(r?.map(|v| v.value).filter(|v| !v.is_empty()))
    };
    let (client_id, api_key, environment_id) = tokio::join!(
        backend.get(CLIENT_ID),
        backend.get(API_KEY),
        backend.get(ENVIRONMENT_ID)
    );
    Ok(Credentials {
        client_id: value(client_id)?,
        api_key: value(api_key)?,
        environment_id: value(environment_id)?,
    })
}

/// Makes sure the deployment has a WorkOS environment and its three
/// `WORKOS_*` variables, as `authKit.<deployment type>` of `convex.json`
/// asks: reuses the variables already there, otherwise has the management
/// API provision an environment (creating the team's WorkOS team first,
/// after asking, when there is none) and sets them. Then writes the
/// configured `localEnvVars` into `.env.local` and applies `configure`
/// (redirect URIs, homepage, CORS origins) through the WorkOS API.
pub async fn ensure_environment_provisioned(
    ctx: &Context,
    target: &Target,
    auth_kit: &Value,
) -> Result<Provisioned> {
    let Some(env_config) = auth_kit
        .get(target.deployment_type)
        .filter(|v| v.is_object())
    else {
        return Ok(Provisioned::NotDone);
    };
    output::start_spinner("Checking for associated AuthKit environment...");
    let backend = env_backend(ctx, target)?;
    let existing = deployment_credentials(&backend).await?;
    if let (Some(client_id), Some(api_key), Some(environment_id)) = (
        &existing.client_id,
        &existing.api_key,
        &existing.environment_id,
    ) {
        output::data(
            "Deployment already has environment variables for a WorkOS environment configured for AuthKit.",
        );
        if let Some(Value::Object(local)) = env_config.get("localEnvVars") {
            update_env_local(ctx, client_id, api_key, environment_id, local)?;
        }
        if let Some(Value::Object(configure)) = env_config.get("configure") {
            configure_environment(ctx, api_key, configure, &existing).await?;
        }
        output::success("WorkOS AuthKit environment ready");
        return Ok(Provisioned::Ready);
    }

    let management = ctx.management()?;
    let answer = management
        .big_brain_post(
            "workos/has_associated_workos_team",
            Some(&json!({"deploymentName": target.deployment_name})),
        )
        .await?
        .unwrap_or(Value::Null);
    if answer.get("disabled").is_some_and(js_truthy) {
        return Ok(Provisioned::NotDone);
    }
    if answer.get("hasAssociatedWorkosTeam") != Some(&Value::Bool(true)) {
        let team_id = answer.get("teamId").cloned().unwrap_or(Value::Null);
        match provision_team_interactive(
            ctx,
            &target.deployment_name,
            &team_id,
            target.deployment_type,
        )
        .await?
        {
            None => {
                output::message(
                    "To use a WorkOS environment of your own instead, set its credentials yourself:\n\n\
                     npx convex env set WORKOS_CLIENT_ID $YOUR_CLIENT_ID_HERE\n\
                     npx convex env set WORKOS_API_KEY $YOUR_API_KEY_HERE",
                );
                return Ok(Provisioned::NotDone);
            }
            Some(_) => output::success("WorkOS team created successfully"),
        }
    }
    let environment_type = match env_config
        .get("environmentType")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        Some("production") => "production",
        Some(_) => "nonproduction",
        None if target.deployment_type == "prod" => "production",
        None => "nonproduction",
    };
    let data = management
        .big_brain_post(
            "workos/get_or_provision_workos_environment",
            Some(&json!({
                "deploymentName": target.deployment_name,
                "environmentType": environment_type,
            })),
        )
        .await?
        .unwrap_or(Value::Null);
    let field = |key: &str| -> Result<String> {
        data.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                fail(format!(
                    "The WorkOS environment was provisioned, but the answer has no `{key}`: {data}"
                ))
            })
    };
    let (client_id, environment_id, api_key) = (
        field("clientId")?,
        field("environmentId")?,
        field("apiKey")?,
    );
    if data.get("newlyProvisioned") == Some(&Value::Bool(true)) {
        output::message("New AuthKit environment provisioned");
    } else {
        output::message(
            "Using credentials from existing AuthKit environment already created for this deployment",
        );
    }
    output::change_spinner("Setting WORKOS_* deployment environment variables...");
    backend
        .update(&[
            change(CLIENT_ID, &client_id),
            change(ENVIRONMENT_ID, &environment_id),
            change(API_KEY, &api_key),
        ])
        .await?;
    if let Some(Value::Object(local)) = env_config.get("localEnvVars") {
        output::start_spinner("Updating .env.local with WorkOS configuration");
        update_env_local(ctx, &client_id, &api_key, &environment_id, local)?;
    }
    if let Some(Value::Object(configure)) = env_config.get("configure") {
        let provisioned = Credentials {
            client_id: Some(client_id.clone()),
            api_key: Some(api_key.clone()),
            environment_id: Some(environment_id.clone()),
        };
        configure_environment(ctx, &api_key, configure, &provisioned).await?;
    }
    output::success("WorkOS AuthKit environment ready");
    Ok(Provisioned::Ready)
}

/// JavaScript's truthiness of a JSON value.
fn js_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn change(name: &str, value: &str) -> crate::data_plane::env::EnvVarChange {
    crate::data_plane::env::EnvVarChange {
        name: name.to_string(),
        value: Some(value.to_string()),
    }
}

/// Expands `${authEnv.WORKOS_CLIENT_ID}` / `WORKOS_API_KEY` /
/// `WORKOS_ENVIRONMENT_ID` (the provisioned values) and `${buildEnv.NAME}`
/// (the environment) in `template`.
pub fn resolve_template(
    ctx: &Context,
    template: &str,
    provisioned: &Credentials,
) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let placeholder = &rest[start..start + 2 + len + 1];
        let expression = &rest[start + 2..start + 2 + len];
        let provisioned_value = |name: &str, value: &Option<String>| {
            value.clone().ok_or_else(|| {
                format!(
                    "Cannot resolve template {placeholder}: {name} not available. Ensure WorkOS environment is provisioned."
                )
            })
        };
        let value = match expression {
            "authEnv.WORKOS_CLIENT_ID" => provisioned_value(CLIENT_ID, &provisioned.client_id)?,
            "authEnv.WORKOS_API_KEY" => provisioned_value(API_KEY, &provisioned.api_key)?,
            "authEnv.WORKOS_ENVIRONMENT_ID" => {
                provisioned_value(ENVIRONMENT_ID, &provisioned.environment_id)?
            }
            e if e.starts_with("buildEnv.") => {
                let name = &e["buildEnv.".len()..];
                ctx.env.non_empty(name).map(str::to_string).ok_or_else(|| {
                    format!(
                        "Cannot resolve template {placeholder}: Environment variable {name} is not set."
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "Unknown template expression: {placeholder}. Use ${{buildEnv.VAR_NAME}} for environment variables or ${{authEnv.WORKOS_CLIENT_ID/WORKOS_API_KEY}} for provisioned values."
                ));
            }
        };
        out.push_str(&value);
        rest = &rest[start + 2 + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Writes `localEnvVars` (templates) into `.env.local`: each variable not
/// already set there or in the environment, the first provisioned one
/// with a comment linking to the WorkOS dashboard; for Next.js and TanStack
/// Start also a random `WORKOS_COOKIE_PASSWORD` when there is none.
fn update_env_local(
    ctx: &Context,
    client_id: &str,
    api_key: &str,
    environment_id: &str,
    local_env_vars: &serde_json::Map<String, Value>,
) -> Result<()> {
    let path = ctx.cwd.join(".env.local");
    let mut content = match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(format!("Could not read .env.local: {e}"))),
    };
    let existing_text = content
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let provisioned = Credentials {
        client_id: Some(client_id.to_string()),
        api_key: Some(api_key.to_string()),
        environment_id: Some(environment_id.to_string()),
    };
    let mut changes: Vec<(String, String, Option<String>)> = Vec::new();
    for (name, template) in local_env_vars {
        let Some(template) = template.as_str() else {
            continue;
        };
        let in_file = existing_text
            .as_deref()
            .and_then(|t| crate::dotenv::lookup(t, name))
            .is_some_and(|v| !v.is_empty());
        if in_file || ctx.env.is_truthy(name) {
            output::verbose(&format!(
                "Not writing {name} to .env.local: it is already set."
            ));
            continue;
        }
        let value = resolve_template(ctx, template, &provisioned).map_err(|e| {
            fail(format!(
                "Could not write {name} to .env.local (authKit localEnvVars in convex.json): {e}"
            ))
        })?;
        let comment = (changes.is_empty() && template.contains("authEnv.WORKOS_CLIENT_ID"))
            .then(|| {
                format!("# See this environment at https://dashboard.workos.com/{environment_id}/authentication")
            });
        changes.push((name.clone(), value, comment));
    }
    let framework =
        crate::push::environment::suggested_url_env_var_names(ctx.project().package_json().ok())
            .framework;
    if matches!(framework, Some("Next.js") | Some("TanStackStart"))
        && !ctx.env.is_truthy(crate::env_vars::WORKOS_COOKIE_PASSWORD)
        && !existing_text
            .as_deref()
            .is_some_and(|t| t.contains(crate::env_vars::WORKOS_COOKIE_PASSWORD))
    {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| fail(format!("Could not make a cookie password: {e}")))?;
        use base64::Engine as _;
        let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        changes.push((
            crate::env_vars::WORKOS_COOKIE_PASSWORD.into(),
            password,
            None,
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    for (name, value, comment) in &changes {
        let edit = crate::env_file::EnvFileEdit {
            name,
            value,
            comment_after_value: None,
            comment_on_previous_line: comment.as_deref(),
        };
        if let Some(updated) = crate::env_file::changed_env_bytes(content.as_deref(), &edit)
            .map_err(|e| fail(format!("Could not update .env.local: {e}")))?
        {
            content = Some(updated);
        }
    }
    if let Some(content) = content {
        crate::fsutil::write_atomic(&path, &content, None)
            .map_err(|e| fail(format!("Could not write .env.local: {e}")))?;
        let names: Vec<&str> = changes.iter().map(|(n, _, _)| n.as_str()).collect();
        output::message(&format!("Updated .env.local with {}", names.join(", ")));
    }
    Ok(())
}

/// The WorkOS API (`https://api.workos.com`; tests point it elsewhere with
/// `CONVEX_TEST_WORKOS_API_ORIGIN`).
fn workos_api(ctx: &Context, path: &str) -> String {
    let origin = ctx
        .process_env
        .non_empty(crate::env_vars::CONVEX_TEST_WORKOS_API_ORIGIN)
        .unwrap_or("https://api.workos.com");
    format!("{}{path}", origin.trim_end_matches('/'))
}

/// One WorkOS API call; `Ok(true)` when it changed something, `Ok(false)`
/// when the setting was already there (`already_there` says which answers
/// mean that).
async fn workos_call(
    ctx: &Context,
    method: reqwest::Method,
    path: &str,
    api_key: &str,
    body: Value,
    already_there: impl Fn(u16, &str) -> bool,
    what: &str,
) -> Result<bool> {
    let url = workos_api(ctx, path);
    let http = ctx.http()?;
    let response = http
        .reqwest_for(&url)
        .request(method, &url)
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {api_key}"))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| fail(format!("Failed to {what}: could not reach {url} ({e})")))?;
    let status = response.status();
    if status.is_success() {
        return Ok(true);
    }
    let text = response.text().await.unwrap_or_default();
    if already_there(status.as_u16(), &text) {
        return Ok(false);
    }
    Err(fail(format!(
        "Failed to {what}: {} {text}",
        status.as_u16()
    )))
}

/// Applies `configure` (redirect URIs, app homepage URL, CORS origins) to
/// the WorkOS environment. A template that cannot be resolved is skipped
/// with a warning on a terminal and fails the command otherwise.
async fn configure_environment(
    ctx: &Context,
    api_key: &str,
    configure: &serde_json::Map<String, Value>,
    provisioned: &Credentials,
) -> Result<()> {
    let interactive = output::stdin_is_terminal();
    let strings = |key: &str| -> Vec<String> {
        configure
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let redirect_uris = strings("redirectUris");
    let cors_origins = strings("corsOrigins");
    let homepage = configure.get("appHomepageUrl").and_then(Value::as_str);
    if redirect_uris.is_empty() && cors_origins.is_empty() && homepage.is_none() {
        output::verbose("No WorkOS AuthKit configuration settings to apply");
        return Ok(());
    }
    let mut skipped: Vec<String> = Vec::new();
    let mut resolve = |label: &str, template: &str, what: &str| -> Result<Option<String>> {
        match resolve_template(ctx, template, provisioned) {
            Ok(v) => Ok(Some(v)),
            Err(e) if interactive && e.contains("Cannot resolve template") => {
                skipped.push(format!("{label}: {template} - {e}"));
                Ok(None)
            }
            Err(e) => Err(fail(format!("Error configuring {what}: {e}"))),
        }
    };
    for uri in &redirect_uris {
        let Some(uri) = resolve("Redirect URI", uri, "redirect URI")? else {
            continue;
        };
        let added = workos_call(
            ctx,
            reqwest::Method::POST,
            "/user_management/redirect_uris",
            api_key,
            json!({"uri": uri}),
            |status, text| status == 422 && text.contains("already exists"),
            "create redirect URI",
        )
        .await?;
        if added {
            output::message(&format!("AuthKit redirect URI added: {uri}"));
        } else {
            output::verbose(&format!("AuthKit redirect URI already configured: {uri}"));
        }
    }
    if let Some(template) = homepage
        && let Some(url) = resolve("App homepage URL", template, "app homepage URL")?
    {
        let updated = workos_call(
            ctx,
            reqwest::Method::PUT,
            "/user_management/app_homepage_url",
            api_key,
            json!({"url": url}),
            |status, _| status == 422,
            "update app homepage URL",
        )
        .await?;
        if updated {
            output::message(&format!("AuthKit app homepage URL updated: {url}"));
        } else {
            output::verbose(
                "AuthKit app homepage URL was not updated (may be invalid for WorkOS or already set)",
            );
        }
    }
    for origin in &cors_origins {
        let Some(origin) = resolve("CORS origin", origin, "CORS origin")? else {
            continue;
        };
        let added = workos_call(
            ctx,
            reqwest::Method::POST,
            "/user_management/cors_origins",
            api_key,
            json!({"origin": origin}),
            |status, text| {
                status == 409
                    && (text.contains("duplicate_cors_origin") || text.contains("already exists"))
            },
            "create CORS origin",
        )
        .await?;
        if added {
            output::message(&format!("AuthKit CORS origin added: {origin}"));
        } else {
            output::verbose(&format!("AuthKit CORS origin already configured: {origin}"));
        }
    }
    if !skipped.is_empty() {
        output::warning(&format!(
            "Skipped some AuthKit configurations due to missing environment variables:\n{}",
            skipped
                .iter()
                .map(|s| format!("  - {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(())
}
