//! Where the push pipeline's human output goes.
//!
//! The pipeline never prints on its own: every line goes through a
//! [`PushOutput`]. Commands use [`ConsoleOutput`] (spinner and lines on
//! stderr via [`crate::output`]); `convex dev` can pass its own to reword,
//! silence or collect them. Data for stdout (`codegen --dry-run` listings)
//! is written by the codegen module, and esbuild's and tsc's diagnostics are
//! passed on as they come.

/// Receives the pipeline's progress and messages.
pub trait PushOutput: Sync {
    /// The current phase changed (spinner text).
    fn progress(&self, text: &str);
    /// A phase finished with something worth saying (`✔ text`).
    fn step_done(&self, text: &str);
    /// A plain informational line (may span several lines).
    fn message(&self, text: &str);
    /// A warning line.
    fn warning(&self, text: &str);
    /// A failure line that does not end the push by itself (`✖ text`).
    fn failure(&self, text: &str);
    /// A grey hint.
    fn note(&self, text: &str);
    /// Ask yes or no. Without a terminal this must fail (the pipeline asks
    /// only after checking [`PushOutput::can_prompt`]).
    fn confirm(&self, question: &str, default: bool) -> anyhow::Result<bool>;
    /// Whether [`PushOutput::confirm`] can ask anyone.
    fn can_prompt(&self) -> bool;
}

/// Spinner and lines on stderr (the official CLI's look).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleOutput;

impl PushOutput for ConsoleOutput {
    fn progress(&self, text: &str) {
        crate::output::progress(text);
    }
    fn step_done(&self, text: &str) {
        crate::output::success(text);
    }
    fn message(&self, text: &str) {
        crate::output::message(text);
    }
    fn warning(&self, text: &str) {
        crate::output::warning(text);
    }
    fn failure(&self, text: &str) {
        crate::output::failure(text);
    }
    fn note(&self, text: &str) {
        crate::output::note(text);
    }
    fn confirm(&self, question: &str, default: bool) -> anyhow::Result<bool> {
        crate::output::prompt_yes_no(question, Some(default))
    }
    fn can_prompt(&self) -> bool {
        crate::output::stdin_is_terminal()
    }
}

/// Collects everything (tests, or callers that print later).
#[derive(Debug, Default)]
pub struct RecordingOutput {
    lines: std::sync::Mutex<Vec<String>>,
    /// Answer to every confirmation (`None`: cannot prompt).
    pub answer: Option<bool>,
}

impl RecordingOutput {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, kind: &str, text: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{kind} {text}"));
    }
}

impl PushOutput for RecordingOutput {
    fn progress(&self, text: &str) {
        self.push("-", text);
    }
    fn step_done(&self, text: &str) {
        self.push("✔", text);
    }
    fn message(&self, text: &str) {
        self.push("|", text);
    }
    fn warning(&self, text: &str) {
        self.push("!", text);
    }
    fn failure(&self, text: &str) {
        self.push("✖", text);
    }
    fn note(&self, text: &str) {
        self.push("~", text);
    }
    fn confirm(&self, question: &str, _default: bool) -> anyhow::Result<bool> {
        self.push("?", question);
        self.answer.ok_or_else(|| {
            crate::error::fail("Cannot prompt for input in non-interactive terminals.")
        })
    }
    fn can_prompt(&self) -> bool {
        self.answer.is_some()
    }
}
