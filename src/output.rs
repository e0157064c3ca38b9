//! Human output on stderr: success/failure lines, spinners, prompts.
//! stdout carries data only ([`data`]).
//!
//! - `✔ text` ([`success`]) and `✖ text` ([`failure`]) lines; colour only when
//!   stderr is a terminal and `NO_COLOR` is unset.
//! - One spinner at a time ([`start_spinner`]): animated with `indicatif` when
//!   stderr is a terminal and `CI` is unset, otherwise a single `- text` line.
//!   [`success`] / [`failure`] finish an active spinner.
//! - `[verbose] <time> text` lines when `CONVEX_VERBOSE` is set ([`verbose`]).
//! - Prompts ([`prompt_string`], [`prompt_yes_no`]) need stdin to be a
//!   terminal; otherwise they fail at once with an error naming the question
//!   (exit 1), as the official CLI does. Ctrl-C in a prompt exits 130.

pub mod style;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::env_vars;
use crate::error::{Failure, Interrupted};

#[derive(Debug, Clone, Copy)]
struct Settings {
    verbose: bool,
    color: bool,
    animate: bool,
    stdin_tty: bool,
}

static SETTINGS: Mutex<Option<Settings>> = Mutex::new(None);

enum SpinnerState {
    Animated(indicatif::ProgressBar),
    Plain(String),
}

static SPINNER: Mutex<Option<SpinnerState>> = Mutex::new(None);

fn settings() -> Settings {
    let mut guard = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    *guard.get_or_insert_with(|| {
        detect(env_vars::process_value(env_vars::CONVEX_VERBOSE).is_some_and(|v| !v.is_empty()))
    })
}

fn detect(verbose: bool) -> Settings {
    let stderr_tty = std::io::stderr().is_terminal();
    let dumb_terminal = env_vars::process_value(env_vars::TERM).is_some_and(|t| t == "dumb");
    let no_color = env_vars::process_value(env_vars::NO_COLOR).is_some() || dumb_terminal;
    let ci = env_vars::process_value(env_vars::CI).is_some_and(|v| !v.is_empty());
    Settings {
        verbose,
        color: stderr_tty && !no_color,
        animate: stderr_tty && !ci && !dumb_terminal,
        stdin_tty: std::io::stdin().is_terminal(),
    }
}

/// Decide once, from the command's merged environment, whether verbose lines
/// are printed (the official CLI reads `CONVEX_VERBOSE` after merging
/// `.env.local`).
pub fn set_verbose(verbose: bool) {
    let mut guard = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = guard.unwrap_or_else(|| detect(verbose));
    s.verbose = verbose;
    *guard = Some(s);
}

/// The width of stdout when it is a terminal (`process.stdout.columns`),
/// `None` when it is piped.
pub fn stdout_columns() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    console::Term::stdout()
        .size_checked()
        .map(|(_, columns)| usize::from(columns))
}

/// Whether stdin is a terminal (prompts are possible). Never while stdout
/// and stdin carry a protocol ([`reserve_stdout_for_protocol`]).
pub fn stdin_is_terminal() -> bool {
    settings().stdin_tty && !STDOUT_RESERVED.load(std::sync::atomic::Ordering::Relaxed)
}

static STDOUT_RESERVED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on stdin and stdout carry a protocol (`mcp start`): data lines
/// go to stderr instead of stdout, and prompts fail as without a terminal.
pub fn reserve_stdout_for_protocol() {
    STDOUT_RESERVED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether stderr gets ANSI colours (a terminal, and `NO_COLOR` unset).
pub fn colors_enabled() -> bool {
    // Messages become protocol data under `mcp start`: no ANSI codes there.
    settings().color && !STDOUT_RESERVED.load(std::sync::atomic::Ordering::Relaxed)
}

fn write_stderr_line(line: &str) {
    let mut spinner = SPINNER.lock().unwrap_or_else(|e| e.into_inner());
    match spinner.as_mut() {
        Some(SpinnerState::Animated(bar)) => bar.suspend(|| eprintln_raw(line)),
        _ => eprintln_raw(line),
    }
}

fn eprintln_raw(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// A data line on stdout (the only thing that goes there).
pub fn data(text: &str) {
    if STDOUT_RESERVED.load(std::sync::atomic::Ordering::Relaxed) {
        write_stderr_line(text);
        return;
    }
    let _ = clear_spinner_for_output();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn clear_spinner_for_output() -> Option<()> {
    let spinner = SPINNER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(SpinnerState::Animated(bar)) = spinner.as_ref() {
        bar.suspend(|| ());
    }
    Some(())
}

/// A plain informational line on stderr.
pub fn message(text: &str) {
    write_stderr_line(text);
}

/// A warning line on stderr (yellow when colours are on).
pub fn warning(text: &str) {
    write_stderr_line(&style::yellow(text));
}

/// An error line on stderr that does not end anything (red).
pub fn error_line(text: &str) {
    write_stderr_line(&style::red(text));
}

/// A grey progress note on stderr.
pub fn note(text: &str) {
    write_stderr_line(&style::gray(text));
}

/// `✔ text`; finishes an active spinner.
pub fn success(text: &str) {
    let line = format!("{} {text}", style::green("✔"));
    finish_spinner_with(&line);
}

/// `✖ text`; finishes an active spinner.
pub fn failure(text: &str) {
    fail_spinner();
    write_stderr_line(&format!("{} {text}", style::red("✖")));
}

/// `[verbose] <ISO time> text` when `CONVEX_VERBOSE` is set.
pub fn verbose(text: &str) {
    if settings().verbose {
        write_stderr_line(&format!("[verbose] {} {text}", iso_time(SystemTime::now())));
    }
}

/// Whether verbose output is on.
pub fn is_verbose() -> bool {
    settings().verbose
}

/// Whether spinners are animated (stderr is a terminal, not CI); otherwise
/// each spinner is one `- text` line.
pub fn spinner_is_animated() -> bool {
    settings().animate
}

/// Start a spinner (replacing any active one).
pub fn start_spinner(text: &str) {
    stop_spinner();
    let state = if settings().animate {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_message(text.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        SpinnerState::Animated(bar)
    } else {
        eprintln_raw(&format!("- {text}"));
        SpinnerState::Plain(text.to_string())
    };
    *SPINNER.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
}

/// Change the active spinner's text (prints a line if there is none).
pub fn change_spinner(text: &str) {
    let mut spinner = SPINNER.lock().unwrap_or_else(|e| e.into_inner());
    match spinner.as_mut() {
        Some(SpinnerState::Animated(bar)) => bar.set_message(text.to_string()),
        Some(SpinnerState::Plain(current)) => {
            eprintln_raw(&format!("- {text}"));
            *current = text.to_string();
        }
        None => eprintln_raw(text),
    }
}

/// Show `text` on the active spinner, or start one (so progress after a
/// `✔` line keeps spinning on a terminal; `- text` lines otherwise).
pub fn progress(text: &str) {
    let active = SPINNER.lock().unwrap_or_else(|e| e.into_inner()).is_some();
    if active {
        change_spinner(text);
    } else {
        start_spinner(text);
    }
}

/// Stop the active spinner without a final line.
pub fn stop_spinner() {
    if let Some(SpinnerState::Animated(bar)) =
        SPINNER.lock().unwrap_or_else(|e| e.into_inner()).take()
    {
        bar.finish_and_clear();
    }
}

/// Mark the active spinner as failed (`✖ <its text>`), if there is one.
pub fn fail_spinner() {
    let state = SPINNER.lock().unwrap_or_else(|e| e.into_inner()).take();
    match state {
        Some(SpinnerState::Animated(bar)) => {
            let text = bar.message();
            bar.finish_and_clear();
            eprintln_raw(&format!("{} {text}", style::red("✖")));
        }
        Some(SpinnerState::Plain(_)) | None => {}
    }
}

fn finish_spinner_with(line: &str) {
    let state = SPINNER.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(SpinnerState::Animated(bar)) = state {
        bar.finish_and_clear();
    }
    eprintln_raw(line);
}

fn not_interactive(question: &str) -> anyhow::Error {
    Failure::new(format!(
        "Cannot prompt for input in non-interactive terminals. ({question})"
    ))
    .into()
}

fn prompt_error(e: dialoguer::Error) -> anyhow::Error {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            Interrupted.into()
        }
        dialoguer::Error::IO(io) => anyhow::anyhow!("Could not read your answer: {io}"),
    }
}

/// Ask for a line of text. Without a terminal: fails (exit 1) naming the
/// question, before anything is read.
pub fn prompt_string(question: &str, default: Option<&str>) -> anyhow::Result<String> {
    if !stdin_is_terminal() {
        return Err(not_interactive(question));
    }
    stop_spinner();
    let theme = dialoguer::theme::SimpleTheme;
    let mut input =
        dialoguer::Input::<String>::with_theme(&theme).with_prompt(question.trim_end_matches(':'));
    if let Some(d) = default {
        input = input.default(d.to_string());
    }
    input.interact_text().map_err(prompt_error)
}

/// Ask yes or no. Without a terminal: the question goes to stdout (as the
/// official CLI does) and the command fails (exit 1).
pub fn prompt_yes_no(question: &str, default: Option<bool>) -> anyhow::Result<bool> {
    if !stdin_is_terminal() {
        data(question);
        return Err(not_interactive(question));
    }
    stop_spinner();
    let theme = dialoguer::theme::SimpleTheme;
    let mut confirm = dialoguer::Confirm::with_theme(&theme).with_prompt(question);
    if let Some(d) = default {
        confirm = confirm.default(d);
    }
    confirm.interact().map_err(prompt_error)
}

/// Pick one of `choices` (arrow keys, Enter); returns its index. Without a
/// terminal: fails (exit 1) naming the question.
pub fn prompt_select(question: &str, choices: &[String], default: usize) -> anyhow::Result<usize> {
    if !stdin_is_terminal() {
        return Err(not_interactive(question));
    }
    stop_spinner();
    let theme = dialoguer::theme::SimpleTheme;
    dialoguer::Select::with_theme(&theme)
        .with_prompt(question.trim_end_matches(':'))
        .items(choices)
        .default(default.min(choices.len().saturating_sub(1)))
        .interact()
        .map_err(prompt_error)
}

/// `2024-01-02T03:04:05.678Z`, as JavaScript's `Date.toISOString`.
pub fn iso_time(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let millis = since.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_formats_like_javascript() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso_time(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso_time(leap), "2000-02-29T00:00:00.000Z");
    }
}
