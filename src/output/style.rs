//! ANSI styling for stderr lines (the official CLI's chalk colours),
//! applied only when colours are on ([`crate::output::colors_enabled`]).

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
