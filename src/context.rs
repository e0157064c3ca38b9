//! The per-run context every command builds first.

use anyhow::Result;
use std::path::PathBuf;

use crate::env::Env;
use crate::global_config::{self, ConvexDirs};

/// Which flags of the command affect how the environment is read.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    pub url: Option<String>,
    pub admin_key: Option<String>,
    pub env_file: Option<String>,
}

pub struct Context {
    pub cwd: PathBuf,
    pub home: PathBuf,
    pub process_env: Env,
    pub env: Env,
    pub dirs: ConvexDirs,
}

impl Context {
    pub fn new(options: ContextOptions) -> Result<Context> {
        let cwd = std::env::current_dir()?;
        let home = global_config::home_dir()?;
        let process_env = Env::from_process();
        let mut env = process_env.clone();
        let merge =
            options.env_file.is_none() && !(options.url.is_some() && options.admin_key.is_some());
        if merge {
            env.merge_project_dotenv_files(&cwd);
        }
        let dirs = ConvexDirs::new(&home, &process_env);
        Ok(Context {
            cwd,
            home,
            process_env,
            env,
            dirs,
        })
    }
}
