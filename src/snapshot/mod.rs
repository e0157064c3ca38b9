//! Snapshot export and import (`convex export`, `convex import`): the
//! deployment-API requests, the status polling over the sync protocol, the
//! atomic download and the upload in parts. The commands
//! (`src/commands/export.rs`, `src/commands/import.rs`) parse flags, choose
//! the deployment and call [`export::export_from_deployment`] /
//! [`import::import_into_deployment`].
//!
//! - [`export`]: `POST /api/export/request/zip`, then
//!   `_system/cli/exports:getLatest` followed until `completed` or `failed`,
//!   then `GET /api/export/zip/<ts>` streamed into a temporary file beside
//!   the destination, renamed into place only once complete.
//! - [`import`]: `_system/cli/queryImport:list` (`POST /api/query`),
//!   `start_upload` / `upload_part` × n / `finish_upload`, then
//!   `_system/cli/queryImport` followed through confirmation
//!   (`perform_import`) to `completed` or `failed`.
//! - [`import_file`]: what is read of the input file before the upload
//!   (format, part size, parts); the fuzz target `import_file` drives it.

pub mod export;
mod follow;
pub mod import;
pub mod import_file;

use serde_json::Value;

use crate::values::ConvexValue;

/// `<dashboard>/d/<name><page>`, or `<dashboard><page>` without a name, as
/// the official CLI's `deploymentDashboardUrlPage`.
pub fn dashboard_page(dashboard_host: &str, deployment_name: Option<&str>, page: &str) -> String {
    match deployment_name {
        Some(name) => format!("{dashboard_host}/d/{name}{page}"),
        None => format!("{dashboard_host}{page}"),
    }
}

/// A number from a sync-protocol value as JavaScript would print it in a
/// template string: a Convex int64 (`{"$integer": …}`, a bigint) as its
/// decimal digits, a float as `Number#toString` does. `None` for anything
/// else.
pub fn display_number(value: &Value) -> Option<String> {
    match ConvexValue::from_serde(value).ok()? {
        ConvexValue::Int64(i) => Some(i.to_string()),
        ConvexValue::Number(n) => Some(crate::jsfmt::js_number_to_string(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(
            display_number(&json!({"$integer": "Fc2FPf6clxc="})).as_deref(),
            Some("1700000000123456789")
        );
        assert_eq!(
            display_number(&json!({"$integer": "AgAAAAAAAAA="})).as_deref(),
            Some("2")
        );
        assert_eq!(display_number(&json!(2)).as_deref(), Some("2"));
        assert_eq!(display_number(&json!(2.0)).as_deref(), Some("2"));
        assert_eq!(display_number(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(display_number(&json!(1.7e21)).as_deref(), Some("1.7e+21"));
        assert_eq!(display_number(&json!(1e-9)).as_deref(), Some("1e-9"));
        assert_eq!(display_number(&json!(1e-7)).as_deref(), Some("1e-7"));
        assert_eq!(
            display_number(&json!(0.000001)).as_deref(),
            Some("0.000001")
        );
        assert_eq!(display_number(&json!("2")), None);
        assert_eq!(display_number(&json!({"$integer": "AgAA"})), None);
    }

    #[test]
    fn dashboard_links() {
        assert_eq!(
            dashboard_page(
                "http://localhost:6789",
                Some("happy-otter-123"),
                "/settings/snapshots"
            ),
            "http://localhost:6789/d/happy-otter-123/settings/snapshots"
        );
        assert_eq!(
            dashboard_page("https://dashboard.convex.dev", None, "/settings/snapshots"),
            "https://dashboard.convex.dev/settings/snapshots"
        );
    }
}
