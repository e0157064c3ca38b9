//! Retrying after a failure that the deployment's state can fix: a push
//! refused for a missing environment variable waits for the deployment's
//! environment variables to change; a schema that existing documents violate
//! waits for that table to change (besides a file change, always).
//!
//! The official CLI subscribes to the system queries
//! `_system/cli/queryEnvironmentVariables` / `_system/cli/queryTable` over
//! the sync WebSocket. We poll the same queries over HTTP (`POST
//! /api/query`) every few seconds instead: no WebSocket client is needed and
//! it only happens after such a failure.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{DeploymentClient, DeploymentRequest};

/// How often the deployment is asked again.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// What could make a failed push worth retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteTrigger {
    /// Nothing on the deployment's side.
    None,
    /// The deployment's environment variables.
    EnvVars,
    /// A table's documents.
    Table {
        table_name: String,
        component_path: Option<String>,
    },
}

/// Watches the deployment for a [`RemoteTrigger`].
pub struct RemoteWatch {
    client: Option<DeploymentClient>,
}

impl RemoteWatch {
    pub fn new(client: DeploymentClient) -> RemoteWatch {
        RemoteWatch {
            client: Some(client),
        }
    }

    /// Never fires.
    #[cfg(test)]
    pub fn disabled() -> RemoteWatch {
        RemoteWatch { client: None }
    }

    /// Returns when the watched state changes (never for
    /// [`RemoteTrigger::None`]). The first answer is the baseline; failed
    /// requests are skipped.
    pub async fn wait_for(&self, trigger: &RemoteTrigger) {
        let (Some(client), Some(body)) = (&self.client, query_body(trigger)) else {
            return std::future::pending().await;
        };
        let request = DeploymentRequest::new(Method::POST, "/api/query").json(&body);
        let mut baseline: Option<Value> = None;
        loop {
            if let Ok(Some(answer)) = client.send_json(&request).await
                && answer.get("status").and_then(Value::as_str) == Some("success")
            {
                let value = answer.get("value").cloned().unwrap_or(Value::Null);
                match &baseline {
                    None => baseline = Some(value),
                    Some(before) if *before != value => return,
                    Some(_) => {}
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

fn query_body(trigger: &RemoteTrigger) -> Option<Value> {
    let (path, args, component) = match trigger {
        RemoteTrigger::None => return None,
        RemoteTrigger::EnvVars => ("_system/cli/queryEnvironmentVariables", json!({}), None),
        RemoteTrigger::Table {
            table_name,
            component_path,
        } => (
            "_system/cli/queryTable",
            json!({ "tableName": table_name }),
            component_path.clone(),
        ),
    };
    let mut body = serde_json::Map::new();
    if let Some(component) = component {
        body.insert("componentPath".into(), json!(component));
    }
    body.insert("path".into(), json!(path));
    body.insert("format".into(), json!("convex_encoded_json"));
    body.insert("args".into(), args);
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bodies() {
        assert_eq!(query_body(&RemoteTrigger::None), None);
        assert_eq!(
            query_body(&RemoteTrigger::EnvVars).unwrap().to_string(),
            r#"{"path":"_system/cli/queryEnvironmentVariables","format":"convex_encoded_json","args":{}}"#
        );
        assert_eq!(
            query_body(&RemoteTrigger::Table {
                table_name: "notes".into(),
                component_path: Some("waitlist".into())
            })
            .unwrap()
            .to_string(),
            r#"{"componentPath":"waitlist","path":"_system/cli/queryTable","format":"convex_encoded_json","args":{"tableName":"notes"}}"#
        );
    }
}
