//! The per-run context every command builds first ([`Context::new`]).
//!
//! Building it does what the official CLI does before any command body:
//! 1. read the environment: the real one, plus `./.env.local` and `./.env`
//!    unless `--env-file` or both `--url` and `--admin-key` were given;
//! 2. refuse a deploy key that the shell split at its `|`;
//! 3. apply the deploy-key sentinels (`<missing_deploy_key:MSG>` fails here);
//! 4. decide the management-API credential ([`crate::credentials::initial_auth`]).
//!
//! It then hands out the HTTP clients (built lazily, once: commands that never
//! touch the network never pay for TLS set-up).

use anyhow::Result;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use crate::credentials::{self, ManagementAuth, deploy_key};
use crate::env::Env;
use crate::env_vars;
use crate::global_config::{self, ConvexDirs};
use crate::http::{DeploymentClient, HttpClient, ManagementClient, VersionClient};
use crate::project::ProjectFiles;

/// Default management API host.
pub const DEFAULT_PROVISION_HOST: &str = "https://api.convex.dev";

/// Which flags of the command change how the environment is read.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// `--url` (counts only together with `--admin-key`).
    pub url: Option<String>,
    /// `--admin-key` (counts only together with `--url`).
    pub admin_key: Option<String>,
    /// `--env-file`.
    pub env_file: Option<String>,
}

impl From<&credentials::SelectionFlags> for ContextOptions {
    fn from(flags: &credentials::SelectionFlags) -> Self {
        ContextOptions {
            url: flags.url.clone(),
            admin_key: flags.admin_key.clone(),
            env_file: flags.env_file.clone(),
        }
    }
}

/// Everything a command needs to know about where it runs.
pub struct Context {
    /// Working directory (the project root for most commands).
    pub cwd: PathBuf,
    /// Home directory.
    pub home: PathBuf,
    /// The real process environment only.
    pub process_env: Env,
    /// The environment as the command sees it: real env, then `.env.local`,
    /// then `.env` (files skipped with `--env-file` or `--url`+`--admin-key`).
    pub env: Env,
    /// Global state and cache folders.
    pub dirs: ConvexDirs,
    /// `CONVEX_PROVISION_HOST` (real environment) or the default, verbatim.
    pub provision_host: String,
    /// The options the context was built with.
    pub options: ContextOptions,
    auth: Mutex<Option<ManagementAuth>>,
    http: OnceLock<HttpClient>,
    project: ProjectFiles,
    deprecation_printed: Arc<AtomicBool>,
}

impl Context {
    /// Build the context (see the module docs). Fails with the user-facing
    /// error for a shell-split key, a `<missing_deploy_key:…>` sentinel or a
    /// missing `--env-file`.
    pub fn new(options: ContextOptions) -> Result<Context> {
        let cwd = std::env::current_dir()?;
        let home = global_config::home_dir()?;
        Context::with_parts(cwd, home, Env::from_process(), options)
    }

    /// [`Context::new`] with explicit working directory, home and process
    /// environment (tests, embedding).
    pub fn with_parts(
        cwd: PathBuf,
        home: PathBuf,
        process_env: Env,
        options: ContextOptions,
    ) -> Result<Context> {
        let url_and_key = options.url.is_some() && options.admin_key.is_some();
        let mut env = process_env.clone();
        if options.env_file.is_none() && !url_and_key {
            env.merge_project_dotenv_files(&cwd);
        }
        crate::output::set_verbose(env.is_truthy(env_vars::CONVEX_VERBOSE));
        let dirs = ConvexDirs::new(&home, &process_env);
        let provision_host = process_env
            .non_empty(env_vars::CONVEX_PROVISION_HOST)
            .unwrap_or(DEFAULT_PROVISION_HOST)
            .to_string();

        deploy_key::check_shell_split_keys(&process_env)?;
        let file_env = match (&options.env_file, url_and_key) {
            (Some(path), false) => Some(crate::credentials::read_env_file_for_context(&cwd, path)?),
            _ => None,
        };
        let deploy_key_env = if url_and_key {
            None
        } else {
            Some(file_env.as_ref().unwrap_or(&env))
        };
        let auth = credentials::initial_auth(&env, deploy_key_env, &dirs)?;
        crate::output::verbose(&format!(
            "Management API credential: {}",
            match &auth {
                None => "none",
                Some(ManagementAuth::AccessToken(_)) => "access token",
                Some(ManagementAuth::ProjectKey(_)) => "project key",
                Some(ManagementAuth::DeploymentKey(_)) => "deployment key",
                Some(ManagementAuth::PreviewDeployKey(_)) => "preview deploy key",
            }
        ));
        Ok(Context {
            home,
            process_env,
            env,
            dirs,
            provision_host,
            options,
            auth: Mutex::new(auth),
            http: OnceLock::new(),
            project: ProjectFiles::new(&cwd),
            cwd,
            deprecation_printed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The project in `cwd`: its `package.json` and `convex.json`, read
    /// once for the whole run, when first needed.
    pub fn project(&self) -> &ProjectFiles {
        &self.project
    }

    /// The current management credential.
    pub fn auth(&self) -> Option<ManagementAuth> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replace the management credential.
    pub fn set_auth(&self, auth: Option<ManagementAuth>) {
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) = auth;
    }

    /// After a login: the new access token becomes the credential, unless a
    /// project key is in force (it keeps precedence).
    pub fn update_auth_after_login(&self, access_token: &str) {
        let mut auth = self.auth.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*auth, Some(ManagementAuth::ProjectKey(_))) {
            return;
        }
        *auth = Some(ManagementAuth::AccessToken(access_token.to_string()));
    }

    /// The process-wide HTTP client (built on first use).
    pub fn http(&self) -> Result<HttpClient> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let client = HttpClient::new(&self.process_env)?;
        Ok(self.http.get_or_init(|| client).clone())
    }

    /// A management-API client with the current credential.
    pub fn management(&self) -> Result<ManagementClient> {
        let deploy_key_var = deploy_key::raw_deploy_key(&self.env)
            .map(|_| deploy_key::deploy_key_var_name(&self.env));
        Ok(ManagementClient::new(
            self.http()?,
            &self.provision_host,
            self.auth().map(|a| a.header()),
            deploy_key_var,
            self.deprecation_printed.clone(),
        ))
    }

    /// A deployment-API client.
    pub fn deployment_client(&self, url: &str, admin_key: &str) -> Result<DeploymentClient> {
        let deploy_key_var = deploy_key::raw_deploy_key(&self.env)
            .map(|_| deploy_key::deploy_key_var_name(&self.env));
        Ok(DeploymentClient::new(self.http()?, url, admin_key)
            .with_advice(self.deprecation_printed.clone(), deploy_key_var))
    }

    /// A version-API client (`CONVEX_VERSION_API_ORIGIN` from the merged env).
    pub fn version_client(&self) -> Result<VersionClient> {
        Ok(VersionClient::new(
            self.http()?,
            self.env.non_empty(env_vars::CONVEX_VERSION_API_ORIGIN),
        ))
    }

    /// Dashboard origin: `https://dashboard.convex.dev`, or
    /// `http://localhost:6789` while `CONVEX_PROVISION_HOST` is set.
    pub fn dashboard_host(&self) -> &'static str {
        if self.process_env.is_truthy(env_vars::CONVEX_PROVISION_HOST) {
            "http://localhost:6789"
        } else {
            "https://dashboard.convex.dev"
        }
    }
}
