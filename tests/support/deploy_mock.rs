//! The management, version and deployment routes of a successful
//! `convex deploy` with a production deploy key, on a wiremock server (the
//! deployment is served by the same mock).

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What `start_push` answers: one added index, an environment variable
/// whose value must never be printed.
pub fn start_push_response() -> Value {
    json!({
        "environmentVariables": {"SECRET": "a-long-secret-value"},
        "externalDepsId": null,
        "componentDefinitionPackages": {},
        "appAuth": [],
        "analysis": {"": {
            "definition": {"path": "", "definitionType": {"type": "app"}, "childComponents": [],
                           "httpMounts": {}, "exports": {"type": "branch", "branch": []}},
            "schema": {"tables": [], "schemaValidation": true},
            "functions": {},
            "udfConfig": {"serverVersion": "0.0.0-test"}
        }},
        "app": {"definitionPath": "", "componentPath": "", "args": {}, "childComponents": {},
                "httpRoutes": {"httpModuleRoutes": null, "mounts": []}, "exports": {}},
        "schemaChange": {"allocatedComponentIds": {}, "schemaIds": {},
                         "indexDiffs": {"": {"added_indexes": [{"name": "notes.by_tag", "type": "database", "fields": ["tag"]}],
                                             "removed_indexes": [], "enabled_indexes": [], "disabled_indexes": []}}}
    })
}

async fn mount(server: &MockServer, http_method: &str, route: &str, status: u16, body: Value) {
    Mock::given(method(http_method))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// Every route of the push, answered as a deployment that accepts it.
pub async fn mount_defaults(server: &MockServer) {
    let uri = server.uri();
    mount(
        server,
        "POST",
        "/api/deployment/url_for_key",
        200,
        json!(uri),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deployment/team_and_project_for_key",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242,
               "reference": "production", "isDefault": true}),
    )
    .await;
    mount(server, "GET", "/v1/version", 200, json!({"message": null})).await;
    mount(
        server,
        "POST",
        "/api/get_config_hashes",
        200,
        json!({"config": {"functions": "convex/", "authInfo": []}, "moduleHashes": [],
               "nodeDependencies": [], "udfServerVersion": null}),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/evaluate_schema",
        200,
        json!({"componentSchemaEvaluations": {"": {"tables": [], "indexes": []}}}),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/evaluate_push",
        200,
        json!({"schemaChange": {"indexDiffs": {}}}),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/start_push",
        200,
        start_push_response(),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/wait_for_schema",
        200,
        json!({"type": "complete"}),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/finish_push",
        200,
        json!({"authDiff": {"added": [], "removed": []}, "definitionDiffs": {},
               "componentDiffs": {"": {"diffType": {"type": "modify"}}}}),
    )
    .await;
    mount(
        server,
        "POST",
        "/api/deploy2/report_push_completed",
        200,
        json!({}),
    )
    .await;
    mount(
        server,
        "GET",
        "/api/v1/get_canonical_urls",
        200,
        json!({"convexCloudUrl": "https://canonical.convex.cloud",
               "convexSiteUrl": "https://canonical.convex.site"}),
    )
    .await;
}
