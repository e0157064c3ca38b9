//! The one place that decides which deployment a command acts on and with what credential.

/// The deployment-selection flags a command passes to the resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionFlags {
    pub url: Option<String>,
    pub admin_key: Option<String>,
    pub env_file: Option<String>,
    pub prod: bool,
    pub preview_name: Option<String>,
    pub deployment_name: Option<String>,
    pub deployment: Option<String>,
    /// The command defaults to prod (`deploy`).
    pub implicit_prod: bool,
}
