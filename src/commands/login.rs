//! `convex login` and `convex login status`.

/// `--login-flow <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LoginFlow {
    Paste,
    #[default]
    Auto,
    Poll,
}

/// Login to Convex
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, disable_help_subcommand = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Provide a name for the device being authorized
    #[arg(long = "device-name", value_name = "name")]
    pub device_name: Option<String>,
    /// Proceed with login even if a valid access token already exists for this device
    #[arg(short, long)]
    pub force: bool,
    /// Don't automatically open the login link in the default browser
    #[arg(long = "no-open")]
    pub no_open: bool,
    /// How to log in; defaults to guessing based on the environment.
    #[arg(long = "login-flow", value_enum, value_name = "mode", default_value_t = LoginFlow::Auto)]
    pub login_flow: LoginFlow,
    #[arg(long = "link-deployments", hide = true)]
    pub link_deployments: bool,
    #[arg(long = "override-auth-url", value_name = "url", hide = true)]
    pub override_auth_url: Option<String>,
    #[arg(long = "override-auth-client", value_name = "id", hide = true)]
    pub override_auth_client: Option<String>,
    #[arg(long = "override-auth-username", value_name = "username", hide = true)]
    pub override_auth_username: Option<String>,
    #[arg(long = "override-auth-password", value_name = "password", hide = true)]
    pub override_auth_password: Option<String>,
    #[arg(long = "override-access-token", value_name = "token", hide = true)]
    pub override_access_token: Option<String>,
    #[arg(long = "accept-opt-ins", hide = true)]
    pub accept_opt_ins: bool,
    #[arg(long = "dump-access-token", hide = true)]
    pub dump_access_token: bool,
    #[arg(long = "check-login", hide = true)]
    pub check_login: bool,
    /// Redirect to Vercel SSO integration for login
    #[arg(long, hide = true)]
    pub vercel: bool,
    #[arg(long = "vercel-override", value_name = "slug", hide = true)]
    pub vercel_override: Option<String>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Check login status and list accessible teams
    Status(StatusArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(crate::error::fail("login: not built yet"))
}
