//! The push behind each cycle of the loop: the shared push pipeline
//! (`crate::push`), once it is part of this branch.

use std::path::PathBuf;

use anyhow::Result;

use super::DevOptions;
use super::watch_loop::{DevPush, PushFailure, PushSuccess};
use crate::context::Context;
use crate::credentials::DeploymentFields;
use crate::error::fail;

/// Temporary: the push pipeline has not been merged into this branch yet.
pub struct PipelinePush;

pub fn start(
    _ctx: &Context,
    _url: &str,
    _admin_key: &str,
    _fields: Option<&DeploymentFields>,
    _options: &DevOptions,
) -> Result<PipelinePush> {
    Err(fail(
        "This build of the native CLI cannot push functions yet; run `npx convex dev` with the official CLI.",
    ))
}

#[async_trait::async_trait(?Send)]
impl DevPush for PipelinePush {
    async fn push(&mut self) -> Result<PushSuccess, PushFailure> {
        Err(PushFailure {
            category: super::watch_loop::FailureCategory::Fatal,
            context: None,
            message: Some("pushing is not available in this build".into()),
            observed: Vec::new(),
        })
    }

    fn watch_roots(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        (Vec::new(), Vec::new())
    }
}
