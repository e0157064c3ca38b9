//! A deployment's instance secret and the admin key derived from it.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The fixed secret early local deployments ran with. A saved config with this
/// secret (or none) gets a fresh secret and admin key.
pub const LEGACY_INSTANCE_SECRET: &str =
    "4361726e697461732c206c69746572616c6c79206d65616e696e6720226c6974";

/// 32 random bytes as 64 lowercase hex digits.
pub fn generate_instance_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).context("Could not get random bytes for the instance secret")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs `<binary> keygen admin-key --instance-name <name> --instance-secret <secret>`
/// and returns its trimmed stdout. The binary must be a recent one: old
/// releases have no `keygen` subcommand.
pub async fn generate_admin_key(
    binary: &Path,
    deployment_name: &str,
    secret: &str,
) -> Result<String> {
    let output = tokio::process::Command::new(binary)
        .args(["keygen", "admin-key", "--instance-name"])
        .arg(deployment_name)
        .arg("--instance-secret")
        .arg(secret)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| {
            format!(
                "Could not run the local backend {} to generate an admin key",
                binary.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "The local backend could not generate an admin key ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let key = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if key.is_empty() {
        bail!(
            "The local backend {} printed no admin key for `keygen admin-key`.",
            binary.display()
        );
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_hex_digits_and_differ() {
        let a = generate_instance_secret().unwrap();
        let b = generate_instance_secret().unwrap();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
