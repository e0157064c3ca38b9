//! Environment variables: a deployment's (`_system/cli/queryEnvironmentVariables`
//! over the sync protocol, `POST /api/update_environment_variables`) or a
//! project's defaults for one deployment type (`/v1/projects/<id>/
//! list_default_environment_variables`, `update_default_environment_variables`).

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

use crate::http::{DeploymentClient, DeploymentRequest, ManagementClient};
use crate::sync::{Query, SyncClient};

/// One variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// One change: `value: None` removes the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVarChange {
    pub name: String,
    pub value: Option<String>,
}

/// Where variables are read and written.
// One exists per command run: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum EnvBackend {
    /// A deployment's own variables.
    Deployment {
        client: DeploymentClient,
        sync: SyncClient,
        /// ` (on dev deployment happy-otter-123)`, or empty.
        notice: String,
    },
    /// A project's default variables for one deployment type.
    ProjectDefaults {
        management: ManagementClient,
        project_id: u64,
        /// `dev`, `preview` or `prod`.
        deployment_type: String,
    },
}

impl EnvBackend {
    /// The deployment's variables, through `client` (and its URL and admin
    /// key for the sync protocol).
    pub fn deployment(
        client: DeploymentClient,
        http: crate::http::HttpClient,
        notice: String,
    ) -> EnvBackend {
        let sync = SyncClient::new(http, client.url()).with_admin_auth(client.admin_key(), None);
        EnvBackend::Deployment {
            client,
            sync,
            notice,
        }
    }

    /// What messages append to name where the change happened.
    pub fn notice(&self) -> String {
        match self {
            EnvBackend::Deployment { notice, .. } => notice.clone(),
            EnvBackend::ProjectDefaults {
                deployment_type, ..
            } => format!(" (in default env vars for {deployment_type} deployments)"),
        }
    }

    /// One variable, `None` when it is not set.
    pub async fn get(&self, name: &str) -> Result<Option<EnvVar>> {
        match self {
            EnvBackend::Deployment { sync, .. } => {
                let value = sync
                    .query(&Query::new(
                        "_system/cli/queryEnvironmentVariables:get",
                        json!({"name": name}),
                    ))
                    .await
                    .context("Could not read the environment variable")?;
                if value.is_null() {
                    return Ok(None);
                }
                Ok(Some(env_var(&value).with_context(|| {
                    format!("The deployment answered with an unexpected variable: {value}")
                })?))
            }
            EnvBackend::ProjectDefaults { .. } => {
                let items = self.default_items(Some(name)).await?;
                Ok(items.into_iter().next())
            }
        }
    }

    /// Every variable, in the server's order.
    pub async fn list(&self) -> Result<Vec<EnvVar>> {
        match self {
            EnvBackend::Deployment { sync, .. } => {
                let value = sync
                    .query(&Query::new(
                        "_system/cli/queryEnvironmentVariables",
                        json!({}),
                    ))
                    .await
                    .context("Could not list the environment variables")?;
                let items = value.as_array().with_context(|| {
                    format!("The deployment answered with an unexpected variable list: {value}")
                })?;
                items
                    .iter()
                    .map(|item| {
                        env_var(item).with_context(|| {
                            format!("The deployment answered with an unexpected variable: {item}")
                        })
                    })
                    .collect()
            }
            EnvBackend::ProjectDefaults { .. } => self.default_items(None).await,
        }
    }

    /// Apply `changes` in one request.
    pub async fn update(&self, changes: &[EnvVarChange]) -> Result<()> {
        match self {
            EnvBackend::Deployment { client, .. } => {
                let changes: Vec<Value> = changes
                    .iter()
                    .map(|c| json!({"name": c.name, "value": c.value}))
                    .collect();
                let request = DeploymentRequest::new(
                    reqwest::Method::POST,
                    "/api/update_environment_variables",
                )
                .json(&json!({"changes": changes}));
                client
                    .send_json(&request)
                    .await
                    .context("Could not update the deployment's environment variables")?;
                Ok(())
            }
            EnvBackend::ProjectDefaults {
                management,
                project_id,
                deployment_type,
            } => {
                let changes: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        json!({"name": c.name, "deploymentType": deployment_type, "value": c.value})
                    })
                    .collect();
                management
                    .platform_post(
                        &format!("/projects/{project_id}/update_default_environment_variables"),
                        &json!({"changes": changes}),
                    )
                    .await
                    .context("Could not update the project's default environment variables")?;
                Ok(())
            }
        }
    }

    async fn default_items(&self, name: Option<&str>) -> Result<Vec<EnvVar>> {
        let EnvBackend::ProjectDefaults {
            management,
            project_id,
            deployment_type,
        } = self
        else {
            return Ok(Vec::new());
        };
        let mut query = Vec::new();
        if let Some(name) = name {
            query.push(("name", name));
        }
        query.push(("deploymentType", deployment_type.as_str()));
        let answer = management
            .platform_get(
                &format!("/projects/{project_id}/list_default_environment_variables"),
                &query,
            )
            .await
            .context("Could not read the project's default environment variables")?
            .unwrap_or(Value::Null);
        let items = answer
            .get("items")
            .and_then(Value::as_array)
            .with_context(|| {
                format!("Unexpected answer listing default environment variables: {answer}")
            })?;
        items
            .iter()
            .map(|item| {
                env_var(item)
                    .with_context(|| format!("Unexpected default environment variable: {item}"))
            })
            .collect()
    }
}

fn env_var(value: &Value) -> Option<EnvVar> {
    Some(EnvVar {
        name: value.get("name")?.as_str()?.to_string(),
        value: value.get("value")?.as_str()?.to_string(),
    })
}

/// A value written for a `.env` file, and a warning when it will not read
/// back the same (the official `formatEnvValueForDotfile`).
pub fn format_env_value_for_dotfile(value: &str) -> (String, Option<String>) {
    let mut formatted = value.to_string();
    let mut warning: Option<String> = None;
    let has_newline = value.contains('\n');
    let has_single = value.contains('\'');
    let has_double = value.contains('"');
    let has_slash_n = value.contains("\\n");
    let comment_warning = value.contains('#').then_some(
        "includes a '#' which may be interpreted as a comment if you save this value to a .env file, resulting in only reading a partial value.",
    );
    if has_newline {
        if !has_single {
            formatted = format!("'{value}'");
        } else if !has_slash_n {
            if has_double && let Some(w) = comment_warning {
                warning = Some(w.to_string());
            }
            formatted = format!("\"{}\"", value.replace('\n', "\\n"));
        } else {
            formatted = format!("'{value}'");
            warning = Some(
                "includes single quotes, newlines and \"\\n\" in the value. If you save this value to a .env file, it may not round-trip."
                    .to_string(),
            );
        }
    } else if (value.starts_with('"') && value.ends_with('"'))
        || (value.starts_with('\'') && value.ends_with('\''))
        || value.starts_with('`')
        || value.ends_with('`')
        || value.contains('\u{c}')
        || value.contains('\u{b}')
        || comment_warning.is_some()
    {
        if has_single && !has_double && !has_slash_n {
            formatted = format!("\"{value}\"");
        } else {
            formatted = format!("'{value}'");
            if has_single && let Some(w) = comment_warning {
                warning = Some(w.to_string());
            }
        }
    }
    if value.contains('\r') {
        let mut w = match warning {
            Some(w) => format!("{w} It also "),
            None => String::new(),
        };
        w.push_str(
            "includes carriage return (\\r) which cannot be preserved in .env files (dotenv limitation)",
        );
        warning = Some(w);
    }
    (formatted, warning)
}

/// Variables the CLI manages itself; `env set --from-file` skips them.
pub const CLI_MANAGED_VARS: &[&str] = &[
    "CONVEX_DEPLOY_KEY",
    "CONVEX_DEPLOYMENT_TOKEN",
    "CONVEX_DEPLOYMENT",
    "CONVEX_SELF_HOSTED_URL",
    "CONVEX_SELF_HOSTED_ADMIN_KEY",
    "CONVEX_URL",
    "PUBLIC_CONVEX_URL",
    "NEXT_PUBLIC_CONVEX_URL",
    "VITE_CONVEX_URL",
    "REACT_APP_CONVEX_URL",
    "EXPO_PUBLIC_CONVEX_URL",
    "CONVEX_SITE_URL",
    "PUBLIC_CONVEX_SITE_URL",
    "NEXT_PUBLIC_CONVEX_SITE_URL",
    "VITE_CONVEX_SITE_URL",
    "REACT_APP_CONVEX_SITE_URL",
    "EXPO_PUBLIC_CONVEX_SITE_URL",
];

/// The variables of a `.env` text as npm `dotenv.parse` returns them: the
/// last assignment of a name wins, in the place of the first.
pub fn parse_env_content(content: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in crate::dotenv::parse(content) {
        if let Some(slot) = out.iter_mut().find(|(name, _)| *name == k) {
            slot.1 = v;
        } else {
            out.push((k, v));
        }
    }
    out
}

/// What `env set --from-file` (or piped `.env` text) will do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetPlan {
    /// Every variable in the text.
    pub total_in_source: usize,
    /// CLI-managed names that are skipped.
    pub skipped: Vec<String>,
    pub new: Vec<(String, String)>,
    pub updated: Vec<(String, String)>,
    pub unchanged: Vec<(String, String)>,
    /// Names that exist with a different value (without `--force`): the
    /// whole change is refused.
    pub conflicts: Vec<String>,
}

impl SetPlan {
    /// The variables to send (empty when there are conflicts).
    pub fn changes(&self) -> Vec<EnvVarChange> {
        if !self.conflicts.is_empty() {
            return Vec::new();
        }
        self.new
            .iter()
            .chain(self.updated.iter())
            .map(|(name, value)| EnvVarChange {
                name: name.clone(),
                value: Some(value.clone()),
            })
            .collect()
    }

    /// The variables to set, before looking at what exists.
    pub fn wanted(content: &str) -> (usize, Vec<String>, Vec<(String, String)>) {
        let parsed = parse_env_content(content);
        let total = parsed.len();
        let mut skipped = Vec::new();
        let mut wanted = Vec::new();
        for (name, value) in parsed {
            if CLI_MANAGED_VARS.contains(&name.as_str()) {
                skipped.push(name);
            } else {
                wanted.push((name, value));
            }
        }
        (total, skipped, wanted)
    }

    /// Compare what the text sets with what exists.
    pub fn new(content: &str, existing: &[EnvVar], force: bool) -> SetPlan {
        let (total_in_source, skipped, wanted) = SetPlan::wanted(content);
        let mut plan = SetPlan {
            total_in_source,
            skipped,
            ..SetPlan::default()
        };
        for (name, value) in wanted {
            match existing.iter().rev().find(|e| e.name == name) {
                None => plan.new.push((name, value)),
                Some(e) if e.value == value => plan.unchanged.push((name, value)),
                Some(_) if force => plan.updated.push((name, value)),
                Some(_) => plan.conflicts.push(name),
            }
        }
        plan
    }
}

/// `a`, `a and b`, `a, b, and c`.
pub fn format_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotfile_formatting_matches_the_official_rules() {
        let f = |v: &str| format_env_value_for_dotfile(v);
        assert_eq!(f("plain"), ("plain".into(), None));
        assert_eq!(f("a\nb"), ("'a\nb'".into(), None));
        assert_eq!(f("\"q\""), ("'\"q\"'".into(), None));
        assert_eq!(f("abc#def").0, "'abc#def'");
        assert!(f("abc#def").1.is_none());
        let (s, w) = f("say \"hi\" it's #1");
        assert_eq!(s, "'say \"hi\" it's #1'");
        assert!(w.unwrap().starts_with("includes a '#'"));
        assert_eq!(f("it's #1"), ("\"it's #1\"".into(), None));
        assert_eq!(f("it's\nx"), ("\"it's\\nx\"".into(), None));
        let (s, w) = f("it's\\n\nx");
        assert_eq!(s, "'it's\\n\nx'");
        assert!(w.unwrap().contains("may not round-trip"));
        let (_, w) = f("a\rb");
        assert!(w.unwrap().starts_with("includes carriage return"));
    }

    #[test]
    fn set_plans_are_all_or_nothing() {
        let content = "# c\nCONVEX_DEPLOYMENT=dev:x\nA=1\nB=2\nC=3\nA=4\n";
        let existing = vec![
            EnvVar {
                name: "B".into(),
                value: "2".into(),
            },
            EnvVar {
                name: "C".into(),
                value: "old".into(),
            },
        ];
        let plan = SetPlan::new(content, &existing, false);
        assert_eq!(plan.skipped, vec!["CONVEX_DEPLOYMENT"]);
        assert_eq!(plan.new, vec![("A".into(), "4".into())]);
        assert_eq!(plan.unchanged.len(), 1);
        assert_eq!(plan.conflicts, vec!["C"]);
        assert!(plan.changes().is_empty());
        let forced = SetPlan::new(content, &existing, true);
        assert_eq!(
            forced.changes(),
            vec![
                EnvVarChange {
                    name: "A".into(),
                    value: Some("4".into())
                },
                EnvVarChange {
                    name: "C".into(),
                    value: Some("3".into())
                },
            ]
        );
    }

    #[test]
    fn lists() {
        let s = |v: &[&str]| format_list(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a and b");
        assert_eq!(s(&["a", "b", "c"]), "a, b, and c");
    }
}
