//! The push behind each cycle of the loop: the shared push pipeline
//! ([`crate::push::Pusher`]), which keeps one esbuild service alive between
//! pushes so rebuilds are incremental.

use std::path::PathBuf;

use anyhow::Result;

use super::DevOptions;
use super::watch_loop::{DevPush, FailureCategory, Gate, PushFailure, PushSuccess};
use crate::context::Context;
use crate::credentials::{DeploymentFields, DeploymentType};
use crate::push::{
    CheckMode, ConsoleOutput, ErrorCategory, PushChecks, PushError, PushOptions, PushOutput,
    PushTarget, Pusher,
};

/// `dev`'s view of the pipeline's output: phase changes only move an
/// animated spinner (on a terminal); everything else as in `deploy`.
struct DevOutput {
    animated: bool,
}

impl PushOutput for DevOutput {
    fn progress(&self, text: &str) {
        if self.animated {
            crate::output::progress(text);
        }
    }
    fn step_done(&self, text: &str) {
        ConsoleOutput.step_done(text)
    }
    fn message(&self, text: &str) {
        ConsoleOutput.message(text)
    }
    fn warning(&self, text: &str) {
        ConsoleOutput.warning(text)
    }
    fn failure(&self, text: &str) {
        ConsoleOutput.failure(text)
    }
    fn note(&self, text: &str) {
        ConsoleOutput.note(text)
    }
    fn confirm(&self, question: &str, default: bool) -> Result<bool> {
        ConsoleOutput.confirm(question, default)
    }
    fn can_prompt(&self) -> bool {
        ConsoleOutput.can_prompt()
    }
}

/// The pipeline, set up once for the whole `dev` run.
pub struct PipelinePush<'a> {
    ctx: &'a Context,
    pusher: Pusher,
    target: PushTarget,
    options: PushOptions,
    output: DevOutput,
}

/// Start esbuild and fix the push options for this run.
pub fn start<'a>(
    ctx: &'a Context,
    url: &str,
    admin_key: &str,
    fields: Option<&DeploymentFields>,
    options: &DevOptions,
) -> Result<PipelinePush<'a>> {
    let pusher = Pusher::start(ctx).map_err(crate::error::Failure::from)?;
    // Saves are typechecked by a checker kept warm between pushes.
    pusher.keep_typecheck_warm(options.typecheck);
    pusher.expect_many_pushes();
    let is_prod = fields.is_some_and(|f| f.deployment_type == DeploymentType::Prod);
    let mut checks = PushChecks::dev(is_prod);
    if is_prod && options.allow_unstaging_schema {
        checks.staged_validator_deletion = CheckMode::Allowed;
    }
    let push_options = PushOptions {
        verbose: options.verbose,
        codegen: options.codegen,
        typecheck: options.typecheck,
        typecheck_components: options.typecheck_components,
        debug_bundle_path: options.debug_bundle_path.as_ref().map(PathBuf::from),
        live_component_sources: options.live_component_sources,
        push_all_modules: options.push_all_modules,
        checks,
        ..PushOptions::default()
    };
    Ok(PipelinePush {
        ctx,
        pusher,
        target: PushTarget {
            url: url.to_string(),
            admin_key: admin_key.to_string(),
            deployment_name: fields.map(|f| f.deployment_name.clone()),
            deployment_type: fields.map(|f| f.deployment_type.clone()),
        },
        options: push_options,
        output: DevOutput {
            animated: crate::output::spinner_is_animated(),
        },
    })
}

/// A push-pipeline error in the loop's terms.
pub(super) fn failure_of(error: PushError) -> PushFailure {
    let category = match &error.category {
        ErrorCategory::Fatal => FailureCategory::Fatal,
        ErrorCategory::Transient => FailureCategory::Transient,
        ErrorCategory::InvalidFilesystemData => FailureCategory::InvalidFiles,
        ErrorCategory::InvalidFilesystemOrEnvVars => FailureCategory::InvalidFilesOrEnvVars,
        ErrorCategory::InvalidFilesystemOrDbData {
            table_name,
            component_path,
        } => FailureCategory::InvalidFilesOrDbData {
            table_name: table_name.clone(),
            component_path: component_path.clone(),
        },
    };
    PushFailure {
        category,
        context: error.context.clone(),
        message: error.message.clone(),
        observed: error.observed_files.clone(),
    }
}

#[async_trait::async_trait(?Send)]
impl DevPush for PipelinePush<'_> {
    async fn push(&mut self, gate: Option<Gate<'_>>) -> Result<PushSuccess, PushFailure> {
        let outcome = self
            .pusher
            .push_gated(self.ctx, &self.target, &self.options, &self.output, gate)
            .await
            .map_err(failure_of);
        // `dev` now waits for the next change: a good time to let esbuild's
        // client buffers go.
        self.pusher.release_memory();
        let outcome = outcome?;
        if let Some(report) = outcome.completion_report {
            // Fire and forget, as the official CLI does.
            tokio::spawn(report.send());
        }
        Ok(PushSuccess {
            observed: outcome.observed_files,
        })
    }

    fn watch_roots(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let root = self.pusher.project_root();
        let functions_dir = crate::project::ProjectConfig::read(root)
            .map(|c| c.functions_dir(root))
            .unwrap_or_else(|_| root.join("convex"));
        let files = vec![
            root.join("package.json"),
            root.join(crate::project::CONVEX_JSON),
            root.join("tsconfig.json"),
            functions_dir.join("tsconfig.json"),
        ];
        (vec![functions_dir], files)
    }
}
