//! Backend version names (`precompiled-YYYY-MM-DD-<id>`), what their release
//! date implies, and the "latest version" lookup.

use anyhow::{Result, anyhow, bail};

/// The first release whose backend accepts `--control-plane-url` and
/// `--control-plane-access-token`.
const FIRST_CONTROL_PLANE_AUTH_VERSION: &str = "precompiled-2026-09-15-4e9b83a";

/// Where the official CLI looks the latest backend version up.
pub const VERSION_API_URL: &str = "https://version.convex.dev/v1/local_backend_version";

/// `precompiled-YYYY-MM-DD-<id>` where `<id>` is one or more of `[A-Za-z0-9_.-]`.
pub fn is_valid_backend_version(version: &str) -> bool {
    match split_version(version) {
        Some((_, id)) => {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        }
        None => false,
    }
}

/// The `YYYY-MM-DD` of a version name. Dates of this form sort as strings.
pub fn release_date(version: &str) -> Option<&str> {
    split_version(version).map(|(date, _)| date)
}

fn split_version(version: &str) -> Option<(&str, &str)> {
    let rest = version.strip_prefix("precompiled-")?;
    let date = rest.get(..10)?;
    let shape_ok = date.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    let id = rest.get(10..)?.strip_prefix('-')?;
    shape_ok.then_some((date, id))
}

/// Whether this backend version takes the control-plane flags.
pub fn supports_control_plane_auth(version: &str) -> bool {
    if version == FIRST_CONTROL_PLANE_AUTH_VERSION {
        return true;
    }
    match (
        release_date(version),
        release_date(FIRST_CONTROL_PLANE_AUTH_VERSION),
    ) {
        (Some(date), Some(first)) => date > first,
        _ => false,
    }
}

/// Whether moving from `old` to `new` goes back in time.
pub fn is_downgrade(old: &str, new: &str) -> bool {
    match (release_date(old), release_date(new)) {
        (Some(old), Some(new)) => new < old,
        _ => false,
    }
}

pub(crate) fn check_version(version: &str) -> Result<()> {
    if !is_valid_backend_version(version) {
        bail!(
            "Invalid local backend version {version:?}: expected a release name like \
             precompiled-2026-01-31-abc1234."
        );
    }
    Ok(())
}

/// `GET <url>` → `{"version": "..."}`, with the `Convex-Client` header the
/// official CLI sends.
pub(crate) async fn fetch_latest_version(
    client: &reqwest::Client,
    url: &str,
    convex_client: &str,
) -> Result<String> {
    let explain = |detail: String| {
        anyhow!(
            "Could not look up the latest local backend version at {url}: {detail}\n\
             Check your network connection (and HTTPS_PROXY if you are behind a proxy), or pass \
             --local-backend-version <version> to use a version that is already downloaded."
        )
    };
    let response = client
        .get(url)
        .header("Convex-Client", convex_client)
        .send()
        .await
        .map_err(|e| explain(error_chain(&e)))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| explain(error_chain(&e)))?;
    if !status.is_success() {
        return Err(explain(format!("the server answered {status}: {body}")));
    }
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| explain(format!("the answer is not JSON ({e})")))?;
    match value.get("version").and_then(|v| v.as_str()) {
        Some(version) if !version.is_empty() => Ok(version.to_string()),
        _ => Err(explain("the answer has no \"version\" field".to_string())),
    }
}

/// An error with its causes, e.g. `error sending request: connection refused`.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names() {
        assert!(is_valid_backend_version("precompiled-2026-11-20-fake001"));
        assert!(is_valid_backend_version("precompiled-2024-01-02-a.b_c-d"));
        assert!(!is_valid_backend_version("precompiled-2026-11-20-"));
        assert!(!is_valid_backend_version("precompiled-2026-11-20"));
        assert!(!is_valid_backend_version("precompiled-2026-1-20-abc"));
        assert!(!is_valid_backend_version("precompiled-2026-11-20-ab/c"));
        assert!(!is_valid_backend_version("1.2.3"));
        assert!(!is_valid_backend_version("precompiled-2026-11-20-abc\n"));
        assert_eq!(release_date("precompiled-2026-11-20-x"), Some("2026-11-20"));
        assert_eq!(release_date("nonsense"), None);
    }

    #[test]
    fn control_plane_support_starts_after_2026_09_15() {
        assert!(supports_control_plane_auth(
            "precompiled-2026-09-15-4e9b83a"
        ));
        assert!(!supports_control_plane_auth("precompiled-2026-09-15-other"));
        assert!(supports_control_plane_auth("precompiled-2026-09-16-a"));
        assert!(supports_control_plane_auth(
            "precompiled-2026-11-20-fake001"
        ));
        assert!(!supports_control_plane_auth(
            "precompiled-2026-01-05-early01"
        ));
    }

    #[test]
    fn downgrades() {
        assert!(is_downgrade(
            "precompiled-2026-11-20-a",
            "precompiled-2026-10-01-b"
        ));
        assert!(!is_downgrade(
            "precompiled-2026-10-01-b",
            "precompiled-2026-11-20-a"
        ));
        assert!(!is_downgrade(
            "precompiled-2026-10-01-a",
            "precompiled-2026-10-01-b"
        ));
    }
}
