//! Deploy keys: reading them from the environment (with the alias and the
//! sentinels) and classifying them.
//!
//! | shape | kind | management auth | selects |
//! |---|---|---|---|
//! | `preview:TEAM:PROJECT\|secret` | [`DeployKeyKind::Preview`] | lowest (after the account) | that project |
//! | `project:TEAM:PROJECT\|secret` | [`DeployKeyKind::Project`] | above the account | any deployment of the project |
//! | `dev:NAME\|secret`, `prod:NAME\|secret` | [`DeployKeyKind::Deployment`] | above the account | that deployment |
//! | `NAME\|secret`, `preview:NAME\|s`, `custom:NAME\|s`, ... | [`DeployKeyKind::Deployment`] | none of its own | that deployment |
//! | no `\|` | [`DeployKeyKind::Deployment`] with no name | none | an error when used |

use crate::env::Env;
use crate::env_vars;
use crate::error::fail;

/// The value meaning "as if no deploy key were set".
pub const IGNORE_SENTINEL: &str = "<ignore_deploy_key>";

/// What a deploy key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployKeyKind {
    /// `preview:team:project|…`: lets `deploy` create preview deployments.
    Preview {
        team_slug: String,
        project_slug: String,
    },
    /// `project:…|…`: any deployment of one project.
    Project,
    /// Any other shape: one deployment. `name` is `None` when the key has no
    /// `|` (unusable: the user must get a new key).
    Deployment {
        name: Option<String>,
        deployment_type: String,
    },
}

/// The raw deploy-key value from an environment: `CONVEX_DEPLOY_KEY`, else
/// `CONVEX_DEPLOYMENT_TOKEN` (first non-empty), before sentinel processing.
pub fn raw_deploy_key(env: &Env) -> Option<&str> {
    env.non_empty(env_vars::CONVEX_DEPLOY_KEY)
        .or_else(|| env.non_empty(env_vars::CONVEX_DEPLOYMENT_TOKEN))
}

/// The deploy key after the sentinels: `<ignore_deploy_key>` means none;
/// `<missing_deploy_key:MESSAGE>` fails with `MESSAGE` (exit 1).
pub fn deploy_key_from_env(env: &Env) -> anyhow::Result<Option<String>> {
    let Some(raw) = raw_deploy_key(env) else {
        return Ok(None);
    };
    let raw = trim_deploy_key(raw, deploy_key_var_name(env));
    if raw == IGNORE_SENTINEL {
        return Ok(None);
    }
    if let Some(message) = raw
        .strip_prefix("<missing_deploy_key:")
        .and_then(|rest| rest.strip_suffix('>'))
        .filter(|m| !m.is_empty())
    {
        return Err(fail(message));
    }
    Ok(Some(raw.to_string()))
}

/// A deploy key never holds whitespace or quotes, but CI secret stores,
/// `docker --env-file` and copy-paste add them (`" dev:x|y "`, a trailing
/// newline). The official CLI keeps them, then misreads the key's kind and
/// sends an `Authorization` header the server rejects; we drop them, with a
/// warning (once) that names the variable but not the key.
fn trim_deploy_key<'a>(raw: &'a str, var: &str) -> &'a str {
    let mut key = raw.trim();
    for quote in ['"', '\''] {
        if key.len() >= 2 && key.starts_with(quote) && key.ends_with(quote) {
            key = key[1..key.len() - 1].trim();
        }
    }
    if key != raw {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !WARNED.swap(true, std::sync::atomic::Ordering::SeqCst) {
            crate::output::warning(&format!(
                "Ignoring the whitespace or quotes around the value of {var}."
            ));
        }
    }
    key
}

/// Which variable the user set the deploy key in (for messages):
/// `CONVEX_DEPLOYMENT_TOKEN` only when it is set and `CONVEX_DEPLOY_KEY` is not.
pub fn deploy_key_var_name(env: &Env) -> &'static str {
    if env.is_truthy(env_vars::CONVEX_DEPLOYMENT_TOKEN)
        && !env.is_truthy(env_vars::CONVEX_DEPLOY_KEY)
    {
        env_vars::CONVEX_DEPLOYMENT_TOKEN
    } else {
        env_vars::CONVEX_DEPLOY_KEY
    }
}

/// `preview:team:project|…` (exactly three `:` pieces before the first `|`).
pub fn is_preview_deploy_key(key: &str) -> bool {
    match key.split_once('|') {
        None => false,
        Some((prefix, _)) => {
            let pieces: Vec<&str> = prefix.split(':').collect();
            pieces.len() == 3 && pieces[0] == "preview"
        }
    }
}

/// `project:…|…`.
pub fn is_project_key(key: &str) -> bool {
    key.strip_prefix("project:")
        .is_some_and(|rest| rest.contains('|'))
}

/// `dev:…|…` or `prod:…|…`: the deployment keys that authenticate
/// management-API calls.
pub fn is_deployment_key(key: &str) -> bool {
    ["dev:", "prod:"]
        .iter()
        .any(|p| key.strip_prefix(p).is_some_and(|rest| rest.contains('|')))
}

/// Deployment name in a key: text before the first `|`, after its last `:`.
/// `None` without a `|` or for a preview deploy key.
pub fn deployment_name_from_key(key: &str) -> Option<String> {
    let (prefix, _) = key.split_once('|')?;
    if is_preview_deploy_key(key) {
        return None;
    }
    Some(prefix.rsplit(':').next().unwrap_or(prefix).to_string())
}

/// Deployment type of a key: the first `:` piece of the whole key, or `prod`
/// for a key without `:` (legacy keys).
pub fn deployment_type_from_key(key: &str) -> String {
    match key.split_once(':') {
        None => "prod".to_string(),
        Some((first, _)) => first.to_string(),
    }
}

/// Team and project slugs of a preview deploy key.
pub fn preview_key_slugs(key: &str) -> anyhow::Result<(String, String)> {
    let prefix = key.split('|').next().unwrap_or(key);
    let pieces: Vec<&str> = prefix.split(':').collect();
    if pieces.len() != 3 {
        return Err(fail(
            "Malformed preview CONVEX_DEPLOY_KEY, get a new key from Project Settings.",
        ));
    }
    Ok((pieces[1].to_string(), pieces[2].to_string()))
}

/// Classify a deploy key (after sentinels).
pub fn classify(key: &str) -> DeployKeyKind {
    if is_preview_deploy_key(key) {
        let (team_slug, project_slug) =
            preview_key_slugs(key).expect("a preview deploy key has three pieces");
        return DeployKeyKind::Preview {
            team_slug,
            project_slug,
        };
    }
    if is_project_key(key) {
        return DeployKeyKind::Project;
    }
    DeployKeyKind::Deployment {
        name: deployment_name_from_key(key),
        deployment_type: deployment_type_from_key(key),
    }
}

/// The secret part of a key: everything after the first `|` (the whole
/// value if there is none).
pub fn secret_part(key: &str) -> &str {
    key.split_once('|').map(|(_, s)| s).unwrap_or(key)
}

/// Fail if the user's shell split a deploy key at its `|`: the part after it
/// (`ey…`, base64 JSON with a `v2` field) then shows up as an empty variable
/// whose *name* is the secret. With `CONVEX_IGNORE_SUSPICIOUS_ENV_VARS` set,
/// only warn.
pub fn check_shell_split_keys(process_env: &Env) -> anyhow::Result<()> {
    let ignore = process_env.is_truthy(env_vars::CONVEX_IGNORE_SUSPICIOUS_ENV_VARS);
    let mut names: Vec<&str> = process_env
        .iter()
        .filter(|(name, value)| value.is_empty() && name.starts_with("ey"))
        .map(|(name, _)| name)
        .filter(|name| looks_like_v2_token(name))
        .collect();
    names.sort_unstable();
    for name in names {
        if ignore {
            crate::output::warning(&format!(
                "Ignoring the suspicious environment variable {}…: did you mean to quote a deploy key, like CONVEX_DEPLOY_KEY='...'?",
                name.chars().take(4).collect::<String>()
            ));
        } else {
            let first: String = name.chars().take(4).collect();
            let last: String = {
                let chars: Vec<char> = name.chars().collect();
                chars[chars.len().saturating_sub(4)..].iter().collect()
            };
            return Err(fail(format!(
                "Your shell split a deploy key at its `|`: an environment variable named \
                 `{first}...{last}` looks like the secret half of a key. Quote the value, e.g. \
                 CONVEX_DEPLOY_KEY='project:name:project|{first}...{last}=' npx convex dev \
                 (or set CONVEX_IGNORE_SUSPICIOUS_ENV_VARS=1 to continue anyway)."
            )));
        }
    }
    Ok(())
}

fn looks_like_v2_token(name: &str) -> bool {
    let decoded = lenient_base64_decode(&format!("{name}="));
    match serde_json::from_slice::<serde_json::Value>(&decoded) {
        Ok(serde_json::Value::Object(map)) => map.contains_key("v2"),
        _ => false,
    }
}

/// Base64 decoding as Node's `Buffer.from(s, "base64")` does it: characters
/// outside the alphabet are skipped, decoding stops at the first `=`, both
/// the standard and URL-safe alphabets are accepted.
pub fn lenient_base64_decode(input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in input.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrounding_whitespace_and_quotes_are_dropped() {
        for raw in [
            " dev:a-b-1|ey ",
            "dev:a-b-1|ey\n",
            "\"dev:a-b-1|ey\"",
            "'dev:a-b-1|ey'",
            " \" dev:a-b-1|ey\"\r\n",
        ] {
            let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", raw)]);
            assert_eq!(
                deploy_key_from_env(&env).unwrap().as_deref(),
                Some("dev:a-b-1|ey"),
                "{raw:?}"
            );
        }
        // A lone quote is not a pair.
        let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", "\"dev:a-b-1|ey")]);
        assert_eq!(
            deploy_key_from_env(&env).unwrap().as_deref(),
            Some("\"dev:a-b-1|ey")
        );
    }

    #[test]
    fn classification_table() {
        use DeployKeyKind as K;
        let dep = |name: Option<&str>, t: &str| K::Deployment {
            name: name.map(str::to_string),
            deployment_type: t.to_string(),
        };
        let cases: Vec<(&str, DeployKeyKind)> = vec![
            (
                "prod:happy-animal-123|s",
                dep(Some("happy-animal-123"), "prod"),
            ),
            (
                "dev:happy-animal-123|s",
                dep(Some("happy-animal-123"), "dev"),
            ),
            ("happy-animal-123|s", dep(Some("happy-animal-123"), "prod")),
            (
                "preview:tidy-heron-789|s",
                dep(Some("tidy-heron-789"), "preview"),
            ),
            ("custom:x-y-1|s", dep(Some("x-y-1"), "custom")),
            ("a:b:c:d|s", dep(Some("d"), "a")),
            (
                "preview:my-team:my-project|s",
                K::Preview {
                    team_slug: "my-team".into(),
                    project_slug: "my-project".into(),
                },
            ),
            ("project:my-team:my-project|s", K::Project),
            ("project:anything|s", K::Project),
            ("no-pipe-here", dep(None, "prod")),
            ("dev:no-pipe", dep(None, "dev")),
            // A secret with a `:` in a bare key gives a nonsense type, as in
            // the official CLI.
            ("name|se:cret", dep(Some("name"), "name|se")),
        ];
        for (key, expected) in cases {
            assert_eq!(classify(key), expected, "key {key}");
        }
    }

    #[test]
    fn auth_capable_keys() {
        assert!(is_deployment_key("dev:x|s"));
        assert!(is_deployment_key("prod:x|s"));
        assert!(!is_deployment_key("prod:x"));
        assert!(!is_deployment_key("preview:x|s"));
        assert!(!is_deployment_key("x|s"));
        assert!(is_project_key("project:t:p|s"));
        assert!(!is_project_key("project:t:p"));
        assert!(!is_preview_deploy_key("preview:x|s"));
        assert!(!is_preview_deploy_key("preview:t:p"));
    }

    #[test]
    fn alias_and_sentinels() {
        let env = Env::from_pairs([("CONVEX_DEPLOYMENT_TOKEN", "dev:a|s")]);
        assert_eq!(
            deploy_key_from_env(&env).unwrap().as_deref(),
            Some("dev:a|s")
        );
        assert_eq!(deploy_key_var_name(&env), "CONVEX_DEPLOYMENT_TOKEN");

        let env = Env::from_pairs([
            ("CONVEX_DEPLOY_KEY", ""),
            ("CONVEX_DEPLOYMENT_TOKEN", "dev:a|s"),
        ]);
        assert_eq!(
            deploy_key_from_env(&env).unwrap().as_deref(),
            Some("dev:a|s")
        );

        let env = Env::from_pairs([
            ("CONVEX_DEPLOY_KEY", "prod:b|s"),
            ("CONVEX_DEPLOYMENT_TOKEN", "dev:a|s"),
        ]);
        assert_eq!(
            deploy_key_from_env(&env).unwrap().as_deref(),
            Some("prod:b|s")
        );
        assert_eq!(deploy_key_var_name(&env), "CONVEX_DEPLOY_KEY");

        // The ignore sentinel wins over the alias too.
        let env = Env::from_pairs([
            ("CONVEX_DEPLOY_KEY", IGNORE_SENTINEL),
            ("CONVEX_DEPLOYMENT_TOKEN", "dev:a|s"),
        ]);
        assert_eq!(deploy_key_from_env(&env).unwrap(), None);

        let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", "<missing_deploy_key:Set it in CI>")]);
        let err = deploy_key_from_env(&env).unwrap_err();
        assert_eq!(err.to_string(), "Set it in CI");

        let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", "<missing_deploy_key:>")]);
        assert_eq!(
            deploy_key_from_env(&env).unwrap().as_deref(),
            Some("<missing_deploy_key:>")
        );
    }

    #[test]
    fn shell_split_keys_are_detected() {
        // base64 of {"v2":"dev-key-5c1f77aa"} without its final `=`.
        let name = "eyJ2MiI6ImRldi1rZXktNWMxZjc3YWEifQ=";
        let name = name.trim_end_matches('=');
        let env = Env::from_pairs([(name, "")]);
        assert!(check_shell_split_keys(&env).is_err());
        let env = Env::from_pairs([(name, ""), ("CONVEX_IGNORE_SUSPICIOUS_ENV_VARS", "1")]);
        assert!(check_shell_split_keys(&env).is_ok());
        // Not JSON with v2, or not empty: fine.
        let env = Env::from_pairs([("eyJhIjoxfQ", ""), (name, "x")]);
        assert!(check_shell_split_keys(&env).is_ok());
    }

    #[test]
    fn secret_part_splits_at_the_first_pipe() {
        assert_eq!(secret_part("dev:x|A|B"), "A|B");
        assert_eq!(secret_part("name"), "name");
    }
}
