//! Following a system query's value over the Convex sync protocol until the
//! caller has seen what it waits for (export and import status).

use std::ops::ControlFlow;

use anyhow::Result;
use serde_json::Value;

use crate::http::DeploymentClient;

/// How following a query ended.
pub enum Followed<T> {
    /// `on_value` broke out with this.
    Settled(T),
    /// Ctrl-C: the subscription was closed before a stable value.
    Interrupted,
}

/// Subscribe to `udf_path(args)` with the client's admin key and call
/// `on_value` with each new value until it breaks.
pub async fn follow_query<T>(
    client: &DeploymentClient,
    udf_path: &str,
    args: Value,
    on_value: impl FnMut(&Value) -> ControlFlow<T>,
) -> Result<Followed<T>> {
    let _ = (client, udf_path, args, on_value);
    Err(crate::error::fail(
        "the sync protocol client is not wired in yet",
    ))
}
