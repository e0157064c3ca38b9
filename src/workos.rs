//! WorkOS AuthKit provisioning through the management API (the
//! `integration workos` commands).
//!
//! [`provision_team_interactive`]: create the WorkOS team of a Convex team,
//! after the user agrees to WorkOS's terms and picks one of their verified
//! emails (the API says which ones can be used).

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
