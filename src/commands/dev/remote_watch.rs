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

use crate::http::{DeploymentClient, DeploymentRequest, RetryPolicy};

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
    interval: Duration,
}

impl RemoteWatch {
    pub fn new(client: DeploymentClient) -> RemoteWatch {
        RemoteWatch {
            client: Some(client),
            interval: POLL_INTERVAL,
        }
    }

    /// Never fires.
    #[cfg(test)]
    pub fn disabled() -> RemoteWatch {
        RemoteWatch {
            client: None,
            interval: POLL_INTERVAL,
        }
    }

    /// Returns when the watched state changes (never for
    /// [`RemoteTrigger::None`]). The first answer is the baseline; failed
    /// requests are skipped.
    pub async fn wait_for(&self, trigger: &RemoteTrigger) {
        let (Some(client), Some(body)) = (&self.client, query_body(trigger)) else {
            return std::future::pending().await;
        };
        let mut request = DeploymentRequest::new(Method::POST, "/api/query").json(&body);
        // A failed poll is simply skipped: the next one comes soon.
        request.retry = RetryPolicy::None;
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
            tokio::time::sleep(self.interval).await;
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
    use wiremock::matchers::{body_partial_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn fires_when_the_answer_changes() {
        let server = MockServer::start().await;
        let answer = |v: i64| {
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "success", "value": v, "logLines": []}))
        };
        Mock::given(method("POST"))
            .and(path("/api/query"))
            .and(body_partial_json(
                json!({"path": "_system/cli/queryEnvironmentVariables"}),
            ))
            .respond_with(answer(1))
            .up_to_n_times(3)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/query"))
            .respond_with(answer(2))
            .mount(&server)
            .await;
        let http = crate::http::HttpClient::new(&crate::env::Env::default()).unwrap();
        let mut watch = RemoteWatch::new(DeploymentClient::new(http, &server.uri(), "key"));
        watch.interval = Duration::from_millis(10);
        tokio::time::timeout(
            Duration::from_secs(10),
            watch.wait_for(&RemoteTrigger::EnvVars),
        )
        .await
        .expect("a change is noticed");
        let polls = server.received_requests().await.unwrap().len();
        assert_eq!(polls, 4, "baseline, two unchanged answers, then the change");
        // Nothing to watch: never fires.
        let idle = tokio::time::timeout(
            Duration::from_millis(100),
            watch.wait_for(&RemoteTrigger::None),
        );
        assert!(idle.await.is_err());
    }

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
