//! The sync-protocol client (`convex_cli::sync`) against a local
//! sync-protocol server: the messages it sends, one-shot and paginated
//! queries, live subscriptions across reconnects, failures, proxy tunnels.

mod support;

use convex_cli::env::Env;
use convex_cli::http::HttpClient;
use convex_cli::sync::{Query, SyncClient, SyncError};
use serde_json::{Value, json};
use support::fake_convex::{FakeConvex, SyncScript};

fn client(fake: &FakeConvex) -> SyncClient {
    let http = HttpClient::new(&Env::default()).unwrap();
    SyncClient::new(http, &fake.url()).with_admin_auth("dev:x|admin", None)
}

fn without_volatile(mut messages: Vec<Value>) -> Vec<Value> {
    for m in &mut messages {
        if m["type"] == "Connect" {
            assert!(
                m["sessionId"].as_str().is_some_and(|s| s.len() == 36),
                "{m}"
            );
            assert!(m["clientTs"].as_u64().is_some(), "{m}");
            m["sessionId"] = json!("<S>");
            m["clientTs"] = json!(0);
        }
    }
    messages
}

#[tokio::test]
async fn one_shot_query_sends_the_official_sequence() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().query(
        "_system/cli/queryEnvironmentVariables:get",
        vec![json!({"name": "A", "value": "1"})],
    ));
    let value = client(&fake)
        .query(&Query::new(
            "_system/cli/queryEnvironmentVariables:get",
            json!({"name": "A"}),
        ))
        .await
        .unwrap();
    assert_eq!(value, json!({"name": "A", "value": "1"}));
    let upgrade = &fake.requests_to("/api/1.48.0/sync")[0];
    assert_eq!(upgrade.method, "GET");
    assert!(upgrade.header("convex-client").is_none());
    assert_eq!(
        without_volatile(fake.ws_messages()),
        vec![
            json!({"connectionCount": 0, "lastCloseReason": "InitialConnect", "clientTs": 0, "type": "Connect", "sessionId": "<S>"}),
            json!({"type": "Authenticate", "baseVersion": 0, "tokenType": "Admin", "value": "dev:x|admin"}),
            json!({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [
                {"type": "Add", "queryId": 0, "udfPath": "_system/cli/queryEnvironmentVariables:get", "args": [{"name": "A"}]}]}),
            json!({"type": "ModifyQuerySet", "baseVersion": 1, "newVersion": 2, "modifications": [
                {"type": "Remove", "queryId": 0}]}),
        ]
    );
}

#[tokio::test]
async fn paginated_query_follows_the_cursor_one_connection_per_page() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().query(
        "_system/cli/tables:default",
        vec![json!({"page": [{"name": "b"}], "isDone": false, "continueCursor": "c2"})],
    ));
    fake.sync(SyncScript::default().query(
        "_system/cli/tables:default",
        vec![json!({"page": [{"name": "a"}], "isDone": true, "continueCursor": "end"})],
    ));
    let rows = client(&fake)
        .paginated_query(
            &Query::new("_system/cli/tables", json!({})).component(Some("")),
            None,
        )
        .await
        .unwrap();
    assert_eq!(rows, vec![json!({"name": "b"}), json!({"name": "a"})]);
    assert_eq!(fake.requests_to("/api/1.48.0/sync").len(), 2);
    let adds: Vec<Value> = fake
        .ws_messages()
        .into_iter()
        .filter(|m| m["type"] == "ModifyQuerySet" && m["newVersion"] == 1)
        .map(|m| m["modifications"][0].clone())
        .collect();
    assert_eq!(adds[0]["componentPath"], "");
    assert_eq!(
        adds[0]["args"],
        json!([{"paginationOpts": {"cursor": null, "numItems": 10000}}])
    );
    assert_eq!(
        adds[1]["args"],
        json!([{"paginationOpts": {"cursor": "c2", "numItems": 10000}}])
    );
}

#[tokio::test]
async fn paginated_query_stops_at_the_limit() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().query(
        "_system/cli/tableData:default",
        vec![json!({"page": [1, 2, 3], "isDone": false, "continueCursor": "c"})],
    ));
    let rows = client(&fake)
        .paginated_query(
            &Query::new("_system/cli/tableData", json!({"table": "t"})),
            Some(3),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(fake.requests_to("/api/1.48.0/sync").len(), 1);
    let add = &fake.ws_messages()[2]["modifications"][0];
    assert_eq!(add["args"][0]["paginationOpts"]["numItems"], 3);
    assert_eq!(add["args"][0]["table"], "t");
}

#[tokio::test]
async fn a_query_that_throws_is_an_error_naming_it() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().error("_system/cli/tables:default", "Uncaught Error: boom"));
    let err = client(&fake)
        .query(&Query::new("_system/cli/tables", json!({})))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "[CONVEX Q(_system/cli/tables:default)] Uncaught Error: boom"
    );
}

#[tokio::test]
async fn subscription_yields_every_value_and_resubscribes_after_a_reconnect() {
    let fake = FakeConvex::start().await;
    fake.sync(
        SyncScript::default()
            .query("notes:list", vec![json!([1]), json!([1, 2])])
            .close_after(),
    );
    fake.sync(SyncScript::default().query("notes:list", vec![json!([1, 2, 3])]));
    let identity = json!({"subject": "u1"});
    let http = HttpClient::new(&Env::default()).unwrap();
    let client = SyncClient::new(http, &fake.url()).with_admin_auth("k", Some(identity.clone()));
    let mut sub = client
        .subscribe(Query::new("notes.js:list", json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().value, json!([1]));
    assert_eq!(sub.next().await.unwrap().value, json!([1, 2]));
    // The server closes with InternalServerError: the client reconnects
    // after the official backoff (about 1 s) and subscribes again.
    assert_eq!(sub.next().await.unwrap().value, json!([1, 2, 3]));
    sub.close().await;
    let messages = fake.ws_messages();
    let connects: Vec<&Value> = messages.iter().filter(|m| m["type"] == "Connect").collect();
    assert_eq!(connects.len(), 2);
    assert_eq!(connects[0]["sessionId"], connects[1]["sessionId"]);
    assert_eq!(connects[1]["connectionCount"], 1);
    assert_eq!(connects[1]["lastCloseReason"], "InternalServerError: test");
    assert_eq!(connects[1]["maxObservedTimestamp"], "AgAAAAAAAAA=");
    let auths: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == "Authenticate")
        .collect();
    assert_eq!(auths.len(), 2);
    assert_eq!(auths[1]["impersonating"], identity);
    let adds: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == "ModifyQuerySet" && m["newVersion"] == 1)
        .collect();
    // The first add has no journal; the re-add carries the last one (null).
    assert!(adds[0]["modifications"][0].get("journal").is_none());
    assert_eq!(adds[1]["modifications"][0]["journal"], Value::Null);
    assert_eq!(adds[1]["modifications"][0]["udfPath"], "notes:list");
}

#[tokio::test]
async fn a_refused_upgrade_fails_at_once_and_a_missing_route_gives_up() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().refuse(401));
    let err = client(&fake)
        .query(&Query::new("x:y", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Refused { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 401"), "{err}");
    assert_eq!(fake.requests_to("/api/1.48.0/sync").len(), 1);

    // Nothing listens: every attempt fails and the query gives up.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let http = HttpClient::new(&Env::from_pairs([("CONVEX_TEST_RETRY_DELAY_MS", "1")])).unwrap();
    let started = std::time::Instant::now();
    let err = SyncClient::new(http, &url)
        .query(&Query::new("x:y", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Connection { attempts: 5, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert!(started.elapsed().as_secs() < 60);
}

/// A minimal HTTP proxy: answers `CONNECT host:port` and pipes bytes.
async fn start_connect_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                log.lock().unwrap().push(line.trim().to_string());
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).await.unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                let target = line.split_whitespace().nth(1).unwrap().to_string();
                let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                let mut client = reader.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn sockets_go_through_the_proxy_unless_no_proxy_says_otherwise() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().query("a:b", vec![json!(1)]));
    let (proxy, seen) = start_connect_proxy().await;
    // The deployment is reached by a name that only the proxy rule decides
    // about (`localhost`), so NO_PROXY can exempt 127.0.0.1 alone.
    let url = format!("http://localhost:{}", fake.port());
    let http = HttpClient::new(&Env::from_pairs([
        ("HTTP_PROXY", proxy.as_str()),
        ("NO_PROXY", "127.0.0.1"),
    ]))
    .unwrap();
    let value = SyncClient::new(http, &url)
        .query(&Query::new("a:b", json!({})))
        .await
        .unwrap();
    assert_eq!(value, json!(1));
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![format!("CONNECT localhost:{} HTTP/1.1", fake.port())]
    );

    let http = HttpClient::new(&Env::from_pairs([
        ("HTTP_PROXY", proxy.as_str()),
        ("NO_PROXY", "localhost"),
    ]))
    .unwrap();
    SyncClient::new(http, &url)
        .query(&Query::new("a:b", json!({})))
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "NO_PROXY host went through the proxy"
    );
}

/// A TLS front for the fake (certificate for `localhost`, signed by a test
/// CA); returns the CA as PEM and the front's port.
async fn start_tls_front(backend_port: u16) -> (String, u16) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut upstream = tokio::net::TcpStream::connect(("127.0.0.1", backend_port))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (ca.pem(), port)
}

#[tokio::test]
async fn wss_trusts_the_roots_of_ssl_cert_file_only() {
    let fake = FakeConvex::start().await;
    fake.sync(SyncScript::default().query("a:b", vec![json!("secure")]));
    let (ca, port) = start_tls_front(fake.port()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let url = format!("https://localhost:{port}");
    let http = HttpClient::new(&Env::from_pairs([(
        "SSL_CERT_FILE",
        ca_file.to_str().unwrap(),
    )]))
    .unwrap();
    let value = SyncClient::new(http, &url)
        .query(&Query::new("a:b", json!({})))
        .await
        .unwrap();
    assert_eq!(value, json!("secure"));

    // Without the extra root the certificate is refused.
    let http = HttpClient::new(&Env::from_pairs([("CONVEX_TEST_RETRY_DELAY_MS", "1")])).unwrap();
    let err = SyncClient::new(http, &url)
        .query(&Query::new("a:b", json!({})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
}
