//! Push tracing: one trace per push, a span per phase. Each push-body
//! request carries a W3C `traceparent` header naming the current span, and
//! the finished spans go to `report_push_completed`.
//!
//! Wire format (the reference's): ids are base64url (no padding) of 16
//! (trace) or 8 (span) random bytes, the root's parent is 8 zero bytes, and
//! times are base64url of a little-endian u64 of nanoseconds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A finished span as `report_push_completed` takes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedSpan {
    pub trace_id: String,
    pub parent_id: String,
    pub span_id: String,
    pub begin_time_unix_ns: String,
    pub duration_ns: String,
    pub name: String,
    pub properties: Map<String, Value>,
    pub events: Vec<Value>,
}

/// Collects finished spans.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    spans: Arc<Mutex<Vec<CompletedSpan>>>,
}

impl Reporter {
    pub fn spans(&self) -> Vec<CompletedSpan> {
        self.spans.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// An open span. Ending it (or dropping it) records it once.
#[derive(Debug)]
pub struct Span {
    reporter: Option<Reporter>,
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    span_id: [u8; 8],
    begin_ns: u64,
    name: String,
    properties: Map<String, Value>,
    ended: bool,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    for b in &mut bytes {
        *b = fastrand::u8(..);
    }
    bytes
}

fn encode_ns(ns: u64) -> String {
    URL_SAFE_NO_PAD.encode(ns.to_le_bytes())
}

impl Span {
    /// The root span of a push, reporting into `reporter`.
    pub fn root(reporter: &Reporter, name: &str) -> Span {
        Span {
            reporter: Some(reporter.clone()),
            trace_id: random_bytes(),
            parent_id: [0; 8],
            span_id: random_bytes(),
            begin_ns: now_ns(),
            name: name.to_string(),
            properties: Map::new(),
            ended: false,
        }
    }

    /// A span that reports nowhere (its ids still fill `traceparent`).
    pub fn noop() -> Span {
        Span {
            reporter: None,
            trace_id: random_bytes(),
            parent_id: random_bytes(),
            span_id: random_bytes(),
            begin_ns: now_ns(),
            name: String::new(),
            properties: Map::new(),
            ended: false,
        }
    }

    /// Starts a child span.
    pub fn child(&self, name: &str) -> Span {
        Span {
            reporter: self.reporter.clone(),
            trace_id: self.trace_id,
            parent_id: self.span_id,
            span_id: random_bytes(),
            begin_ns: now_ns(),
            name: name.to_string(),
            properties: Map::new(),
            ended: false,
        }
    }

    pub fn set_property(&mut self, key: &str, value: impl Into<String>) {
        self.properties
            .insert(key.to_string(), Value::String(value.into()));
    }

    /// `00-<trace id hex>-<span id hex>-01`. The ids are read as
    /// little-endian integers and printed big-endian, as the reference does.
    pub fn traceparent(&self) -> String {
        let mut trace = self.trace_id;
        trace.reverse();
        let mut span = self.span_id;
        span.reverse();
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        format!("00-{}-{}-01", hex(&trace), hex(&span))
    }

    /// Records the span (once).
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        let Some(reporter) = &self.reporter else {
            return;
        };
        let span = CompletedSpan {
            trace_id: URL_SAFE_NO_PAD.encode(self.trace_id),
            parent_id: URL_SAFE_NO_PAD.encode(self.parent_id),
            span_id: URL_SAFE_NO_PAD.encode(self.span_id),
            begin_time_unix_ns: encode_ns(self.begin_ns),
            duration_ns: encode_ns(now_ns().saturating_sub(self.begin_ns)),
            name: self.name.clone(),
            properties: self.properties.clone(),
            events: Vec::new(),
        };
        reporter
            .spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(span);
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_reads_ids_little_endian() {
        let mut span = Span::noop();
        span.trace_id = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        span.span_id = [1, 0, 0, 0, 0, 0, 0, 0xff];
        assert_eq!(
            span.traceparent(),
            "00-100f0e0d0c0b0a090807060504030201-ff00000000000001-01"
        );
    }

    #[test]
    fn spans_report_parents_and_encodings() {
        let reporter = Reporter::default();
        let mut root = Span::root(&reporter, "runComponentsPush");
        root.set_property("cli_version", "1.48.0");
        {
            let _child = root.child("bundleDefinitions");
        }
        root.end();
        root.end();
        let spans = reporter.spans();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].name, "bundleDefinitions");
        assert_eq!(spans[0].parent_id, spans[1].span_id);
        assert_eq!(spans[1].parent_id, "AAAAAAAAAAA");
        assert_eq!(spans[0].trace_id, spans[1].trace_id);
        assert_eq!(spans[1].trace_id.len(), 22);
        assert_eq!(spans[1].properties["cli_version"], "1.48.0");
        let begin = URL_SAFE_NO_PAD
            .decode(&spans[1].begin_time_unix_ns)
            .unwrap();
        assert_eq!(begin.len(), 8);
        assert!(u64::from_le_bytes(begin.try_into().unwrap()) > 1_600_000_000_000_000_000);
    }
}
