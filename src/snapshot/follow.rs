//! Following a system query's value over the Convex sync protocol (the one
//! client, [`crate::sync`]) until the caller has seen what it waits for:
//! export and import status, as the official CLI's `subscribe` does.

use std::ops::ControlFlow;

use anyhow::Result;
use serde_json::Value;

use crate::error::fail;
use crate::http::{DeploymentClient, HttpClient};
use crate::sync::{Query, SyncClient};

/// How following a query ended.
pub enum Followed<T> {
    /// `on_value` broke out with this.
    Settled(T),
    /// Ctrl-C: the subscription was closed before a stable value.
    Interrupted,
}

/// Subscribe to `udf_path(args)` with the deployment client's admin key and
/// call `on_value` with each new value until it breaks; then unsubscribe and
/// close (`ModifyQuerySet` / `Remove`, as the official client). Ctrl-C ends
/// the wait the same way, with [`Followed::Interrupted`]. A lost connection
/// is reopened for as long as the wait lasts (the official client does the
/// same); a query that fails on the server ends it with an error.
pub async fn follow_query<T>(
    client: &DeploymentClient,
    http: &HttpClient,
    udf_path: &str,
    args: Value,
    mut on_value: impl FnMut(&Value) -> ControlFlow<T>,
) -> Result<Followed<T>> {
    let sync =
        SyncClient::new(http.clone(), client.url()).with_admin_auth(client.admin_key(), None);
    // Ctrl-C ends the wait here (unsubscribe, close, the caller's message),
    // not the whole command.
    let _claim = crate::commands::CtrlCClaim::new();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut subscription = tokio::select! {
        biased;
        _ = &mut interrupted => return Ok(Followed::Interrupted),
        subscription = sync.subscribe(Query::new(udf_path, args)) => subscription
            .map_err(|e| fail(format!("Could not follow {udf_path} on the deployment: {e}")))?,
    };
    let outcome = loop {
        tokio::select! {
            biased;
            _ = &mut interrupted => break Ok(Followed::Interrupted),
            update = subscription.next() => match update {
                Ok(update) => {
                    if let ControlFlow::Break(result) = on_value(&update.value) {
                        break Ok(Followed::Settled(result));
                    }
                }
                Err(e) => break Err(e),
            },
        }
    };
    subscription.close().await;
    outcome.map_err(|e| {
        fail(format!(
            "Could not follow {udf_path} on the deployment: {e}"
        ))
    })
}
