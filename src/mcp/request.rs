//! What every tool call shares: the server's options, deployment selectors
//! (the opaque strings `status` hands out and the other tools take back),
//! the production safeguards, and the per-call [`Context`].
//!
//! A selector is `<kind>:<base64 of {"projectDir": ..., "deployment": ...}>`
//! as the official server writes it, `deployment` being the choice within
//! the project (`{"kind": "unspecified"}`, `{"kind": "prod"}`,
//! `{"kind": "deploymentSelector", "selector": "..."}`, ...).
//!
//! Each call gets its own [`Context`] rooted at the project folder it names
//! (the environment, `.env.local` and `.env` of that folder, the
//! deployment-selection flags the server was started with), so calls for
//! different projects never see each other's settings and the process's own
//! working directory is never changed.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::tools::{ProdAccess, ToolName};
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    self, DeploymentCredentials, DeploymentType, LoadOptions, SelectionFlags,
    SelectionWithinProject,
};
use crate::env::Env;
use crate::error::fail;
use crate::values::{JsValue, stringify};

/// How the server was started (`mcp start` flags).
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// `--project-dir`: the project of calls that name none.
    pub project_dir: Option<String>,
    /// `--cautiously-allow-production-pii`.
    pub cautiously_allow_production_pii: bool,
    /// `--dangerously-enable-production-deployments`.
    pub dangerously_enable_production_deployments: bool,
    /// `--prod`, `--deployment`, ... as for any command.
    pub selection: SelectionFlags,
    /// Tools left after `--disable-tools`, in catalogue order.
    pub enabled: Vec<ToolName>,
    /// Where the server was started: relative project folders are taken
    /// from here, and calls that name no project read their settings here.
    pub launch_dir: PathBuf,
    /// Home folder (global login state).
    pub home: PathBuf,
}

pub const PROD_REFUSED_FULL: &str = "This tool cannot be used with production deployments. Use a read-only tool like `insights` instead, or enable production access with --dangerously-enable-production-deployments.";
pub const PROD_REFUSED_PII: &str = "This read-only tool may expose PII from production. Enable with --cautiously-allow-production-pii, or use --dangerously-enable-production-deployments for full access.";

impl McpOptions {
    /// The production deployment may be used by tools of this kind.
    pub fn prod_allowed(&self, access: ProdAccess) -> bool {
        match access {
            ProdAccess::Metadata => true,
            ProdAccess::PersonalData => {
                self.dangerously_enable_production_deployments
                    || self.cautiously_allow_production_pii
            }
            ProdAccess::Full => self.dangerously_enable_production_deployments,
        }
    }

    /// Refuse a tool on production unless the server's flags allow it.
    pub fn check_prod(&self, access: ProdAccess) -> Result<()> {
        if self.prod_allowed(access) {
            return Ok(());
        }
        Err(fail(match access {
            ProdAccess::PersonalData => PROD_REFUSED_PII,
            _ => PROD_REFUSED_FULL,
        }))
    }

    /// A project folder named by a call or by `--project-dir`, relative to
    /// where the server was started; it must exist.
    pub fn resolve_project_dir(&self, raw: &str) -> Result<PathBuf> {
        let dir = self.launch_dir.join(raw);
        if !dir.is_dir() {
            return Err(fail(format!(
                "The project directory {raw} does not exist or is not a folder. Pass the folder that holds your project's package.json and convex/ folder."
            )));
        }
        Ok(dir)
    }

    /// The per-call context for a project folder.
    pub fn context_at(&self, dir: &Path) -> Result<Context> {
        Context::with_parts(
            dir.to_path_buf(),
            self.home.clone(),
            Env::from_process(),
            ContextOptions::from(&self.selection),
        )
    }

    /// The server's own choice within the project (from `--prod`,
    /// `--deployment`, ...).
    pub fn selection_within_project(&self) -> SelectionWithinProject {
        SelectionWithinProject::from_flags(&self.selection)
    }
}

/// A decoded deployment selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub project_dir: String,
    pub deployment: SelectionWithinProject,
}

/// The `kind` name of a choice within a project.
pub fn kind_name(within: &SelectionWithinProject) -> &'static str {
    match within {
        SelectionWithinProject::PreviewName(_) => "previewName",
        SelectionWithinProject::DeploymentName(_) => "deploymentName",
        SelectionWithinProject::Prod => "prod",
        SelectionWithinProject::ImplicitProd => "implicitProd",
        SelectionWithinProject::Unspecified => "unspecified",
        SelectionWithinProject::Selector(_) => "deploymentSelector",
    }
}

fn within_to_js(within: &SelectionWithinProject) -> JsValue {
    let kind = (
        "kind".to_string(),
        JsValue::String(kind_name(within).into()),
    );
    let extra = match within {
        SelectionWithinProject::PreviewName(n) => Some(("previewName", n)),
        SelectionWithinProject::DeploymentName(n) => Some(("deploymentName", n)),
        SelectionWithinProject::Selector(s) => Some(("selector", s)),
        _ => None,
    };
    let mut fields = vec![kind];
    if let Some((key, value)) = extra {
        fields.push((key.to_string(), JsValue::String(value.clone())));
    }
    JsValue::Object(fields)
}

fn within_from_json(value: &Value) -> Option<SelectionWithinProject> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    Some(match value.get("kind")?.as_str()? {
        "previewName" => SelectionWithinProject::PreviewName(text("previewName")?),
        "deploymentName" => SelectionWithinProject::DeploymentName(text("deploymentName")?),
        "prod" => SelectionWithinProject::Prod,
        "implicitProd" => SelectionWithinProject::ImplicitProd,
        "unspecified" => SelectionWithinProject::Unspecified,
        "deploymentSelector" => SelectionWithinProject::Selector(text("selector")?),
        _ => return None,
    })
}

/// Encode a selector as the official server does (`btoa` of the JSON: each
/// character one byte). A folder name with characters past U+00FF, which
/// `btoa` refuses, is written as UTF-8 instead.
pub fn encode_selector(project_dir: &str, within: &SelectionWithinProject) -> String {
    use base64::Engine as _;
    let payload = JsValue::Object(vec![
        (
            "projectDir".to_string(),
            JsValue::String(project_dir.to_string()),
        ),
        ("deployment".to_string(), within_to_js(within)),
    ]);
    let text = stringify(&payload, 0);
    let bytes: Vec<u8> = if text.chars().all(|c| (c as u32) <= 0xFF) {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.into_bytes()
    };
    format!(
        "{}:{}",
        kind_name(within),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Decode a selector (the part after the first `:`; the kind in front is
/// not trusted).
pub fn decode_selector(encoded: &str) -> Result<Selector> {
    let invalid = |why: &str| {
        fail(format!(
            "Invalid deployment selector \"{encoded}\": {why}. Call the `status` tool and pass one of the deploymentSelector values it returns."
        ))
    };
    let Some(payload) = encoded.split(':').nth(1) else {
        return Err(invalid("it has no `:`"));
    };
    let bytes = credentials::deploy_key::lenient_base64_decode(payload);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|b| *b as char).collect(),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|_| invalid("its payload is not valid"))?;
    let project_dir = value
        .get("projectDir")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("it names no project directory"))?;
    let deployment = value
        .get("deployment")
        .and_then(within_from_json)
        .ok_or_else(|| invalid("it names no deployment"))?;
    Ok(Selector {
        project_dir: project_dir.to_string(),
        deployment,
    })
}

/// The deployment a tool acts on: the selection the server's flags give
/// in the context's project, with the choice within the project replaced
/// by the selector's (a known deployment, such as one of a deploy key,
/// stays as it is).
pub async fn load_credentials(
    ctx: &Context,
    options: &McpOptions,
    within: &SelectionWithinProject,
) -> Result<DeploymentCredentials> {
    let selection = credentials::get_deployment_selection(ctx, &options.selection)
        .await?
        .with_selection_within_project(within.clone());
    credentials::load_selected_deployment_credentials(ctx, &selection, LoadOptions::default()).await
}

/// Whether resolved credentials are a production deployment.
pub fn is_production(credentials: &DeploymentCredentials) -> bool {
    credentials
        .fields
        .as_ref()
        .is_some_and(|f| f.deployment_type == DeploymentType::Prod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_written_as_the_official_server_writes_them() {
        // btoa(JSON.stringify({projectDir: "/home/me/app", deployment: {kind: "unspecified"}}))
        assert_eq!(
            encode_selector("/home/me/app", &SelectionWithinProject::Unspecified),
            "unspecified:eyJwcm9qZWN0RGlyIjoiL2hvbWUvbWUvYXBwIiwiZGVwbG95bWVudCI6eyJraW5kIjoidW5zcGVjaWZpZWQifX0="
        );
        let s = encode_selector("/p", &SelectionWithinProject::Selector("dev/alice".into()));
        assert!(s.starts_with("deploymentSelector:"));
        assert_eq!(
            decode_selector(&s).unwrap(),
            Selector {
                project_dir: "/p".into(),
                deployment: SelectionWithinProject::Selector("dev/alice".into())
            }
        );
    }

    #[test]
    fn selectors_round_trip_every_kind_and_odd_folders() {
        for within in [
            SelectionWithinProject::PreviewName("feat".into()),
            SelectionWithinProject::DeploymentName("happy-otter-123".into()),
            SelectionWithinProject::Prod,
            SelectionWithinProject::ImplicitProd,
            SelectionWithinProject::Unspecified,
        ] {
            for dir in ["/a b/c", "C:\\Users\\é", "/home/日本/\"q\""] {
                let decoded = decode_selector(&encode_selector(dir, &within)).unwrap();
                assert_eq!(decoded.project_dir, dir);
                assert_eq!(decoded.deployment, within);
            }
        }
    }

    #[test]
    fn bad_selectors_are_explained() {
        for bad in [
            "",
            "prod",
            "prod:!!!",
            "prod:e30=",
            "x:eyJwcm9qZWN0RGlyIjoxfQ==",
        ] {
            let err = crate::error::message_of(&decode_selector(bad).unwrap_err());
            assert!(err.contains("Invalid deployment selector"), "{bad}: {err}");
            assert!(err.contains("`status` tool"), "{err}");
        }
    }

    #[test]
    fn production_guards() {
        let mut options = McpOptions {
            project_dir: None,
            cautiously_allow_production_pii: false,
            dangerously_enable_production_deployments: false,
            selection: SelectionFlags::default(),
            enabled: Vec::new(),
            launch_dir: PathBuf::from("/"),
            home: PathBuf::from("/"),
        };
        assert!(options.prod_allowed(ProdAccess::Metadata));
        assert!(!options.prod_allowed(ProdAccess::PersonalData));
        assert!(!options.prod_allowed(ProdAccess::Full));
        options.cautiously_allow_production_pii = true;
        assert!(options.prod_allowed(ProdAccess::PersonalData));
        assert!(!options.prod_allowed(ProdAccess::Full));
        options.cautiously_allow_production_pii = false;
        options.dangerously_enable_production_deployments = true;
        assert!(options.prod_allowed(ProdAccess::PersonalData));
        assert!(options.prod_allowed(ProdAccess::Full));
    }
}
