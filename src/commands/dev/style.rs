//! ANSI styling for `dev`'s stderr lines, applied only when colours are on
//! ([`crate::output::colors_enabled`]).

fn paint(codes: &str, text: &str) -> String {
    if crate::output::colors_enabled() && !text.is_empty() {
        format!("\x1b[{codes}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn bold(text: &str) -> String {
    paint("1", text)
}

pub fn dim(text: &str) -> String {
    paint("2", text)
}

pub fn red(text: &str) -> String {
    paint("31", text)
}

pub fn green(text: &str) -> String {
    paint("32", text)
}

pub fn yellow(text: &str) -> String {
    paint("33", text)
}

pub fn cyan(text: &str) -> String {
    paint("36", text)
}

pub fn gray(text: &str) -> String {
    paint("90", text)
}

pub fn underline(text: &str) -> String {
    paint("4", text)
}

pub fn dim_underline(text: &str) -> String {
    paint("2;4", text)
}

/// 24-bit foreground colour (`#rrggbb`).
pub fn hex(color: u32, text: &str) -> String {
    paint(
        &format!(
            "38;2;{};{};{}",
            (color >> 16) & 0xff,
            (color >> 8) & 0xff,
            color & 0xff
        ),
        text,
    )
}

/// Bold text on a 24-bit background with a 24-bit foreground: a badge.
pub fn badge(background: u32, foreground: u32, text: &str) -> String {
    paint(
        &format!(
            "1;48;2;{};{};{};38;2;{};{};{}",
            (background >> 16) & 0xff,
            (background >> 8) & 0xff,
            background & 0xff,
            (foreground >> 16) & 0xff,
            (foreground >> 8) & 0xff,
            foreground & 0xff
        ),
        text,
    )
}

/// An OSC 8 hyperlink when stderr is a terminal (plain text otherwise).
pub fn link(text: &str, url: &str) -> String {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\")
    } else {
        text.to_string()
    }
}
