//! The Convex sync protocol's messages, as the official JavaScript client
//! (`convex/browser`, `BaseConvexClient`) writes and reads them.
//!
//! Client → server (JSON text frames): `Connect`, `Authenticate`,
//! `ModifyQuerySet` (`Add` / `Remove`). Fields the JS client leaves
//! `undefined` are left out, so the JSON is the same as its
//! `JSON.stringify`. Server → client: `Transition` (with `QueryUpdated`,
//! `QueryFailed`, `QueryRemoved`), `TransitionChunk` (a transition in
//! parts), `Ping`, `FatalError`, `AuthError`; mutation and action answers are
//! read and ignored (the CLI sends neither).

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// `Connect`: the first message on every socket.
pub struct Connect<'a> {
    pub session_id: &'a str,
    /// Sockets opened before this one (0 first).
    pub connection_count: u32,
    /// `"InitialConnect"` first; why the previous socket closed afterwards,
    /// or `None`.
    pub last_close_reason: Option<&'a str>,
    /// Milliseconds since the epoch.
    pub client_ts: u64,
    /// The newest transition timestamp seen (base64 of a little-endian u64).
    pub max_observed_timestamp: Option<&'a str>,
}

impl Connect<'_> {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("connectionCount".into(), json!(self.connection_count));
        m.insert("lastCloseReason".into(), json!(self.last_close_reason));
        m.insert("clientTs".into(), json!(self.client_ts));
        m.insert("type".into(), json!("Connect"));
        m.insert("sessionId".into(), json!(self.session_id));
        if let Some(ts) = self.max_observed_timestamp {
            m.insert("maxObservedTimestamp".into(), json!(ts));
        }
        Value::Object(m)
    }
}

/// `Authenticate` with an admin key, optionally acting as a user
/// (`impersonating`: the fake identity of `run --identity`).
pub fn authenticate_admin(base_version: u32, admin_key: &str, identity: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("Authenticate"));
    m.insert("baseVersion".into(), json!(base_version));
    m.insert("tokenType".into(), json!("Admin"));
    m.insert("value".into(), json!(admin_key));
    if let Some(identity) = identity {
        m.insert("impersonating".into(), identity.clone());
    }
    Value::Object(m)
}

/// One query of a `ModifyQuerySet` `Add`.
pub struct AddQuery<'a> {
    pub query_id: u32,
    /// Canonical path ([`canonical_udf_path`]).
    pub udf_path: &'a str,
    /// The argument object, Convex-encoded JSON.
    pub args: &'a Value,
    /// `None` on a first subscription; the last journal the server sent
    /// (possibly `null`) when re-adding after a reconnect.
    pub journal: Option<&'a Value>,
    pub component_path: Option<&'a str>,
}

impl AddQuery<'_> {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!("Add"));
        m.insert("queryId".into(), json!(self.query_id));
        m.insert("udfPath".into(), json!(self.udf_path));
        m.insert("args".into(), json!([self.args]));
        if let Some(journal) = self.journal {
            m.insert("journal".into(), journal.clone());
        }
        if let Some(component) = self.component_path {
            m.insert("componentPath".into(), json!(component));
        }
        Value::Object(m)
    }
}

/// `ModifyQuerySet` from `base_version` to `new_version`.
pub fn modify_query_set(base_version: u32, new_version: u32, modifications: Vec<Value>) -> Value {
    json!({
        "type": "ModifyQuerySet",
        "baseVersion": base_version,
        "newVersion": new_version,
        "modifications": modifications,
    })
}

/// A `Remove` modification.
pub fn remove_query(query_id: u32) -> Value {
    json!({"type": "Remove", "queryId": query_id})
}

/// `module:function` as the JS client sends it: a missing function name is
/// `default`, a `.js` module suffix is dropped.
pub fn canonical_udf_path(path: &str) -> String {
    let (module, function) = match path.rsplit_once(':') {
        Some((module, function)) => (module, function),
        None => (path, "default"),
    };
    let module = module.strip_suffix(".js").unwrap_or(module);
    format!("{module}:{function}")
}

/// What one query did in a transition.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryModification {
    Updated {
        query_id: u32,
        value: Value,
        log_lines: Vec<Value>,
        journal: Value,
    },
    Failed {
        query_id: u32,
        error_message: String,
        error_data: Option<Value>,
        log_lines: Vec<Value>,
        journal: Value,
    },
    Removed {
        query_id: u32,
    },
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Transition {
        /// `endVersion.ts`, base64 of a little-endian u64.
        end_ts: Option<String>,
        modifications: Vec<QueryModification>,
    },
    TransitionChunk {
        chunk: String,
        part_number: u64,
        total_parts: u64,
        transition_id: String,
    },
    Ping,
    FatalError(String),
    AuthError(String),
    /// Mutation and action answers, unknown types: nothing to do.
    Other(String),
}

/// Parse one server message. Errors name what is malformed.
pub fn parse_server_message(text: &str) -> Result<ServerMessage, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("a message is not JSON ({e})"))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a message has no type")?;
    let str_field = |name: &str| -> Result<String, String> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("a {kind} message has no {name}"))
    };
    match kind {
        "Transition" => {
            let end_ts = value
                .pointer("/endVersion/ts")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut modifications = Vec::new();
            for m in value
                .get("modifications")
                .and_then(Value::as_array)
                .ok_or("a Transition has no modifications")?
            {
                modifications.push(parse_modification(m)?);
            }
            Ok(ServerMessage::Transition {
                end_ts,
                modifications,
            })
        }
        "TransitionChunk" => Ok(ServerMessage::TransitionChunk {
            chunk: str_field("chunk")?,
            part_number: value
                .get("partNumber")
                .and_then(Value::as_u64)
                .ok_or("a TransitionChunk has no partNumber")?,
            total_parts: value
                .get("totalParts")
                .and_then(Value::as_u64)
                .ok_or("a TransitionChunk has no totalParts")?,
            transition_id: str_field("transitionId")?,
        }),
        "Ping" => Ok(ServerMessage::Ping),
        "FatalError" => Ok(ServerMessage::FatalError(str_field("error")?)),
        "AuthError" => Ok(ServerMessage::AuthError(str_field("error")?)),
        other => Ok(ServerMessage::Other(other.to_string())),
    }
}

fn parse_modification(m: &Value) -> Result<QueryModification, String> {
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a query modification has no type")?;
    let query_id = m
        .get("queryId")
        .and_then(Value::as_u64)
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| format!("a {kind} modification has no queryId"))?;
    let log_lines = m
        .get("logLines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let journal = m.get("journal").cloned().unwrap_or(Value::Null);
    match kind {
        "QueryUpdated" => Ok(QueryModification::Updated {
            query_id,
            value: m.get("value").cloned().unwrap_or(Value::Null),
            log_lines,
            journal,
        }),
        "QueryFailed" => Ok(QueryModification::Failed {
            query_id,
            error_message: m
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            error_data: m.get("errorData").filter(|v| !v.is_null()).cloned(),
            log_lines,
            journal,
        }),
        "QueryRemoved" => Ok(QueryModification::Removed { query_id }),
        other => Err(format!("unknown query modification {other}")),
    }
}

/// A protocol timestamp (base64 of a little-endian u64) as a number.
pub fn decode_ts(ts: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(ts).ok()?;
    let bytes: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Reassembles a transition sent as `TransitionChunk`s.
#[derive(Default)]
pub struct ChunkBuffer {
    parts: Vec<String>,
    total: u64,
    id: String,
}

impl ChunkBuffer {
    /// Add a part; the whole message once the last part is in.
    pub fn push(
        &mut self,
        chunk: String,
        part_number: u64,
        total_parts: u64,
        transition_id: String,
    ) -> Result<Option<String>, String> {
        let fresh = self.parts.is_empty();
        if part_number >= total_parts
            || (!fresh && (self.total != total_parts || self.id != transition_id))
        {
            *self = ChunkBuffer::default();
            return Err("invalid TransitionChunk".into());
        }
        if part_number != self.parts.len() as u64 {
            let expected = self.parts.len();
            *self = ChunkBuffer::default();
            return Err(format!(
                "TransitionChunk out of order: expected part {expected}, got {part_number}"
            ));
        }
        self.total = total_parts;
        self.id = transition_id;
        self.parts.push(chunk);
        if self.parts.len() as u64 == self.total {
            let whole = std::mem::take(&mut self.parts).concat();
            *self = ChunkBuffer::default();
            return Ok(Some(whole));
        }
        Ok(None)
    }

    /// Drop a half-received transition (the socket closed).
    pub fn clear(&mut self) {
        *self = ChunkBuffer::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_match_the_js_client() {
        let connect = Connect {
            session_id: "s",
            connection_count: 0,
            last_close_reason: Some("InitialConnect"),
            client_ts: 5,
            max_observed_timestamp: None,
        };
        assert_eq!(
            connect.to_json().to_string(),
            r#"{"connectionCount":0,"lastCloseReason":"InitialConnect","clientTs":5,"type":"Connect","sessionId":"s"}"#
        );
        let reconnect = Connect {
            last_close_reason: None,
            max_observed_timestamp: Some("AQAAAAAAAAA="),
            connection_count: 1,
            ..connect
        };
        assert_eq!(reconnect.to_json()["lastCloseReason"], Value::Null);
        assert_eq!(reconnect.to_json()["maxObservedTimestamp"], "AQAAAAAAAAA=");
        assert_eq!(
            authenticate_admin(0, "k", None).to_string(),
            r#"{"type":"Authenticate","baseVersion":0,"tokenType":"Admin","value":"k"}"#
        );
        assert_eq!(
            authenticate_admin(0, "k", Some(&json!({"subject": "u"})))["impersonating"],
            json!({"subject": "u"})
        );
        let args = json!({});
        let add = AddQuery {
            query_id: 0,
            udf_path: "_system/cli/tables:default",
            args: &args,
            journal: None,
            component_path: Some(""),
        };
        assert_eq!(
            modify_query_set(0, 1, vec![add.to_json()]).to_string(),
            r#"{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0,"udfPath":"_system/cli/tables:default","args":[{}],"componentPath":""}]}"#
        );
        let null = Value::Null;
        let re_add = AddQuery {
            journal: Some(&null),
            component_path: None,
            ..add
        };
        assert_eq!(re_add.to_json()["journal"], Value::Null);
        assert!(re_add.to_json().get("componentPath").is_none());
        assert_eq!(
            modify_query_set(1, 2, vec![remove_query(0)]).to_string(),
            r#"{"type":"ModifyQuerySet","baseVersion":1,"newVersion":2,"modifications":[{"type":"Remove","queryId":0}]}"#
        );
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(canonical_udf_path("notes:list"), "notes:list");
        assert_eq!(canonical_udf_path("notes.js:list"), "notes:list");
        assert_eq!(canonical_udf_path("notes"), "notes:default");
        assert_eq!(canonical_udf_path("a:b:c"), "a:b:c");
        assert_eq!(
            canonical_udf_path("_system/cli/tables"),
            "_system/cli/tables:default"
        );
    }

    #[test]
    fn server_messages() {
        let t = parse_server_message(
            r#"{"type":"Transition","startVersion":{"querySet":0,"identity":0,"ts":"AAAAAAAAAAA="},"endVersion":{"querySet":1,"identity":1,"ts":"AQAAAAAAAAA="},"modifications":[{"type":"QueryUpdated","queryId":0,"value":[1],"logLines":["[LOG] 'x'"],"journal":null},{"type":"QueryFailed","queryId":1,"errorMessage":"boom","logLines":[],"journal":null},{"type":"QueryRemoved","queryId":2}]}"#,
        )
        .unwrap();
        let ServerMessage::Transition {
            end_ts,
            modifications,
        } = t
        else {
            panic!()
        };
        assert_eq!(decode_ts(end_ts.as_deref().unwrap()), Some(1));
        assert_eq!(modifications.len(), 3);
        assert!(
            matches!(&modifications[0], QueryModification::Updated { value, .. } if value == &json!([1]))
        );
        assert!(
            matches!(&modifications[1], QueryModification::Failed { error_message, .. } if error_message == "boom")
        );
        assert_eq!(
            parse_server_message(r#"{"type":"Ping"}"#).unwrap(),
            ServerMessage::Ping
        );
        assert_eq!(
            parse_server_message(r#"{"type":"FatalError","error":"bad"}"#).unwrap(),
            ServerMessage::FatalError("bad".into())
        );
        assert!(parse_server_message("not json").is_err());
        assert!(parse_server_message(r#"{"no":"type"}"#).is_err());
        assert!(matches!(
            parse_server_message(r#"{"type":"MutationResponse"}"#).unwrap(),
            ServerMessage::Other(_)
        ));
    }

    #[test]
    fn chunks_reassemble_in_order_only() {
        let mut b = ChunkBuffer::default();
        assert_eq!(b.push("ab".into(), 0, 2, "t".into()).unwrap(), None);
        assert_eq!(
            b.push("cd".into(), 1, 2, "t".into()).unwrap(),
            Some("abcd".into())
        );
        assert!(b.push("x".into(), 1, 2, "u".into()).is_err());
        assert_eq!(
            b.push("x".into(), 0, 1, "u".into()).unwrap(),
            Some("x".into())
        );
        assert!(b.push("x".into(), 3, 2, "u".into()).is_err());
    }
}
