//! Opening a URL in the user's browser (`dashboard`, `docs`, `login`).
//!
//! The official CLI hands the URL to `open` (the npm package), which spawns
//! `xdg-open` / `open` / PowerShell and reports only whether that program
//! could be started. We do the same with the `open` crate, but first ask
//! whether a browser can be shown at all: on Linux and the BSDs without an
//! X11 or Wayland display (an SSH session, a container, CI) and outside WSL,
//! nothing is started and the caller prints the URL instead.

use crate::env::Env;
use crate::env_vars;

/// What [`open_url`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The opener program started (the browser may still fail later, as
    /// with the official CLI).
    Started,
    /// No display to show a browser on: nothing was started.
    NoDisplay,
    /// No opener program could be started.
    Failed(String),
}

/// Whether a browser window can be shown from this process.
pub fn has_display(env: &Env) -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    env.is_truthy(env_vars::DISPLAY)
        || env.is_truthy(env_vars::WAYLAND_DISPLAY)
        || env.is_truthy(env_vars::WSL_DISTRO_NAME)
}

/// Opens `url` in the default browser without waiting for it.
pub fn open_url(env: &Env, url: &str) -> Opened {
    if !has_display(env) {
        return Opened::NoDisplay;
    }
    match open::that_detached(url) {
        Ok(()) => Opened::Started,
        Err(e) => Opened::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    #[test]
    fn no_display_opens_nothing() {
        let env = Env::from_pairs([("DISPLAY", "")]);
        assert!(!has_display(&env));
        assert_eq!(open_url(&env, "https://example.com"), Opened::NoDisplay);
        assert!(has_display(&Env::from_pairs([(
            "WAYLAND_DISPLAY",
            "wayland-0"
        )])));
        assert!(has_display(&Env::from_pairs([("DISPLAY", ":0")])));
        assert!(has_display(&Env::from_pairs([(
            "WSL_DISTRO_NAME",
            "Ubuntu"
        )])));
    }

    #[cfg(any(target_os = "macos", target_os = "windows"))]
    #[test]
    fn macos_and_windows_always_have_a_display() {
        assert!(has_display(&Env::from_pairs([("DISPLAY", "")])));
    }
}
