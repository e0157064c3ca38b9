//! `<functions>/_generated/ai/ai-files.state.json`: the hashes of what was
//! last installed (guidelines, the two managed sections) and the
//! agent-skills commit, so that staleness can be told later.
//!
//! The four keys are all required (a string or `null`); a file that is not
//! such an object counts as no state, and the next install replaces it.
//! Written as two-space-indented JSON with a final newline, keys in this
//! order, as the official CLI writes it.

use serde_json::{Map, Value};
use std::path::Path;

/// The recorded state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiFilesState {
    pub guidelines_hash: Option<String>,
    pub agents_md_section_hash: Option<String>,
    pub claude_md_hash: Option<String>,
    pub agent_skills_sha: Option<String>,
}

const KEYS: [&str; 4] = [
    "guidelinesHash",
    "agentsMdSectionHash",
    "claudeMdHash",
    "agentSkillsSha",
];

/// What reading the state file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadState {
    /// Missing or empty.
    NoFile,
    Ok(AiFilesState),
    /// Present but not a valid state.
    Invalid,
}

impl AiFilesState {
    fn from_value(value: &Value) -> Option<AiFilesState> {
        let obj = value.as_object()?;
        let field = |key: &str| -> Option<Option<String>> {
            match obj.get(key)? {
                Value::Null => Some(None),
                Value::String(s) => Some(Some(s.clone())),
                _ => None,
            }
        };
        Some(AiFilesState {
            guidelines_hash: field(KEYS[0])?,
            agents_md_section_hash: field(KEYS[1])?,
            claude_md_hash: field(KEYS[2])?,
            agent_skills_sha: field(KEYS[3])?,
        })
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut obj = Map::new();
        for (key, value) in KEYS.iter().zip([
            &self.guidelines_hash,
            &self.agents_md_section_hash,
            &self.claude_md_hash,
            &self.agent_skills_sha,
        ]) {
            obj.insert(
                key.to_string(),
                value.clone().map(Value::String).unwrap_or(Value::Null),
            );
        }
        let mut text = serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Reads the state file at `path`. Unreadable for another reason than
/// absence is an error.
pub fn read(path: &Path) -> std::io::Result<ReadState> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ReadState::NoFile),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() {
        return Ok(ReadState::NoFile);
    }
    let state = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| AiFilesState::from_value(&v));
    Ok(state.map(ReadState::Ok).unwrap_or(ReadState::Invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_invalid_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        assert_eq!(read(&path).unwrap(), ReadState::NoFile);
        std::fs::write(&path, "").unwrap();
        assert_eq!(read(&path).unwrap(), ReadState::NoFile);
        let state = AiFilesState {
            guidelines_hash: Some("g".into()),
            ..Default::default()
        };
        assert_eq!(
            state.to_text(),
            "{\n  \"guidelinesHash\": \"g\",\n  \"agentsMdSectionHash\": null,\n  \"claudeMdHash\": null,\n  \"agentSkillsSha\": null\n}\n"
        );
        std::fs::write(&path, state.to_text()).unwrap();
        assert_eq!(read(&path).unwrap(), ReadState::Ok(state));
        // A missing key or a wrong type makes it invalid.
        std::fs::write(&path, r#"{"guidelinesHash": "g"}"#).unwrap();
        assert_eq!(read(&path).unwrap(), ReadState::Invalid);
        std::fs::write(
            &path,
            r#"{"guidelinesHash": 1, "agentsMdSectionHash": null, "claudeMdHash": null, "agentSkillsSha": null}"#,
        )
        .unwrap();
        assert_eq!(read(&path).unwrap(), ReadState::Invalid);
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(read(&path).unwrap(), ReadState::Invalid);
    }
}
