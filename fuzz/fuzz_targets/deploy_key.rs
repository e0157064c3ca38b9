//! The deploy-key parser: classification, name/type/secret extraction and the
//! shell-split check never panic and agree with each other.
#![no_main]

use convex_cli::credentials::deploy_key::{self, DeployKeyKind};
use convex_cli::env::Env;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = std::str::from_utf8(data) else {
        return;
    };
    let secret = deploy_key::secret_part(key);
    assert!(key.ends_with(secret));
    match deploy_key::classify(key) {
        DeployKeyKind::Preview {
            team_slug,
            project_slug,
        } => {
            assert!(deploy_key::is_preview_deploy_key(key));
            assert!(key.starts_with(&format!("preview:{team_slug}:{project_slug}|")));
        }
        DeployKeyKind::Project => assert!(deploy_key::is_project_key(key)),
        DeployKeyKind::Deployment {
            name,
            deployment_type,
        } => {
            assert!(!deploy_key::is_preview_deploy_key(key));
            assert_eq!(name.is_some(), key.contains('|'));
            if let Some(name) = name {
                // The name comes from before the first `|`.
                let prefix = key.split('|').next().unwrap();
                assert!(prefix.ends_with(&name));
                assert!(!name.contains(':') && !name.contains('|'));
            }
            assert!(!deployment_type.contains(':'));
        }
    }
    let _ = deploy_key::is_deployment_key(key);
    let _ = deploy_key::lenient_base64_decode(key);
    // As a variable name (the shell split a key) and as a value.
    let env = Env::from_pairs([(key, ""), ("CONVEX_DEPLOY_KEY", key)]);
    let _ = deploy_key::check_shell_split_keys(&env);
    let _ = deploy_key::deploy_key_from_env(&env);
});
