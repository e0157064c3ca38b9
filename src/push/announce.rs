//! The deployment banner printed before a command acts on a deployment:
//!
//! ```text
//! ▌ Deploying code to deployment:
//! ▌ [Production] acme:rocket:production (prod) (dashboard: https://…)
//! ▌ └─ https://brave-lynx-456.convex.cloud
//! ```
//!
//! Shared by `deploy` ("Deploying code to deployment:") and `dev`
//! ("Developing against deployment:").

use crate::credentials::{DeploymentFields, DeploymentType};

struct Style {
    label: &'static str,
    bg: (u8, u8, u8),
    fg: (u8, u8, u8),
    bar: (u8, u8, u8),
}

fn style_for(kind: Option<&DeploymentType>) -> Style {
    const GREEN: Style = Style {
        label: "Development",
        bg: (0xd2, 0xec, 0xbb),
        fg: (0x2b, 0x65, 0x36),
        bar: (0x3e, 0xa3, 0x4b),
    };
    match kind {
        Some(DeploymentType::Prod) => Style {
            label: "Production",
            bg: (0xea, 0xca, 0xe7),
            fg: (0x64, 0x1a, 0xa9),
            bar: (0x8b, 0x21, 0xf1),
        },
        Some(DeploymentType::Dev) => GREEN,
        Some(DeploymentType::Local | DeploymentType::Anonymous) => Style {
            label: "Local",
            ..GREEN
        },
        Some(DeploymentType::Preview) => Style {
            label: "Preview",
            bg: (0xfc, 0xed, 0xd7),
            fg: (0x93, 0x36, 0x15),
            bar: (0xe2, 0x57, 0x06),
        },
        Some(DeploymentType::Custom) | Some(DeploymentType::Other(_)) | None => Style {
            label: if kind.is_none() { "" } else { "Custom" },
            bg: (0xdf, 0xe2, 0xe9),
            fg: (0x29, 0x2b, 0x30),
            bar: (0x98, 0x9a, 0xa3),
        },
    }
}

/// How to render the banner.
#[derive(Debug, Clone, Copy)]
pub struct BannerStyle {
    /// ANSI colours.
    pub color: bool,
    /// OSC 8 hyperlinks (stderr is a terminal).
    pub links: bool,
}

impl BannerStyle {
    /// From the terminal the process writes to.
    pub fn detect() -> BannerStyle {
        use std::io::IsTerminal;
        BannerStyle {
            color: crate::output::colors_enabled(),
            links: std::io::stderr().is_terminal(),
        }
    }
}

fn rgb(code: u8, (r, g, b): (u8, u8, u8)) -> String {
    format!("\x1b[{code};2;{r};{g};{b}m")
}

fn link(text: &str, url: &str, style: BannerStyle) -> String {
    if style.links {
        format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\")
    } else {
        text.to_string()
    }
}

/// The banner's lines (without a trailing newline).
pub fn format_banner(
    header: Option<&str>,
    url: &str,
    fields: Option<&DeploymentFields>,
    dashboard_host: &str,
    style: BannerStyle,
) -> String {
    let kind = fields.map(|f| &f.deployment_type);
    let s = style_for(kind);
    let paint = |codes: &str, text: &str| {
        if style.color {
            format!("{codes}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let bar = paint(&rgb(38, s.bar), "▌");
    let tag = if style.color {
        format!(
            "\x1b[1m{}{} {} \x1b[0m",
            rgb(48, s.bg),
            rgb(38, s.fg),
            s.label
        )
    } else {
        format!("[{}]", s.label)
    };
    let dim = |t: &str| paint("\x1b[2m", t);
    let bold = |t: &str| paint("\x1b[1m", t);

    let dashboard = fields.and_then(|f| match f.deployment_type {
        DeploymentType::Anonymous => None,
        _ => Some(match (&f.team_slug, &f.project_slug) {
            (Some(team), Some(project)) => {
                format!("{dashboard_host}/t/{team}/{project}/{}", f.deployment_name)
            }
            _ => format!("{dashboard_host}/d/{}", f.deployment_name),
        }),
    });
    let dashboard_suffix = match &dashboard {
        Some(d) if style.links => format!(" ({})", link(&paint("\x1b[4m", "dashboard"), d, style)),
        Some(d) => format!(" (dashboard: {d})"),
        None => String::new(),
    };
    let port = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.port())
        .map(|p| p.to_string());
    let ref_line = fields.map(|f| match f.deployment_type {
        DeploymentType::Local => {
            let port_part = port
                .as_ref()
                .map(|p| format!("Port {}", bold(p)))
                .unwrap_or_else(|| url.to_string());
            let project_part = match (&f.team_slug, &f.project_slug) {
                (Some(t), Some(p)) => format!(" • in {t}{}{p}", dim(":")),
                _ => String::new(),
            };
            format!("{tag} {port_part}{project_part}{dashboard_suffix}")
        }
        DeploymentType::Anonymous => {
            let port_part = port
                .as_ref()
                .map(|p| format!("Port {}", bold(p)))
                .unwrap_or_else(|| url.to_string());
            format!(
                "{tag} {port_part} • No Convex account (run {} to link to a project)",
                bold("npx convex login")
            )
        }
        _ => {
            let cloud = matches!(
                f.deployment_type,
                DeploymentType::Dev
                    | DeploymentType::Prod
                    | DeploymentType::Preview
                    | DeploymentType::Custom
            );
            let reference = match (&f.team_slug, &f.project_slug, &f.reference) {
                (Some(t), Some(p), Some(r)) if cloud => {
                    let alias = match f.deployment_type {
                        DeploymentType::Dev | DeploymentType::Prod if f.is_default => format!(
                            " {}{}{}",
                            dim("("),
                            bold(f.deployment_type.as_str()),
                            dim(")")
                        ),
                        _ => String::new(),
                    };
                    format!("{}{}{alias}", dim(&format!("{t}:{p}:")), bold(r))
                }
                _ => bold(&f.deployment_name),
            };
            format!("{tag} {reference}{dashboard_suffix}")
        }
    });
    let url_line = format!(
        "{bar} {} {}",
        dim("└─"),
        paint("\x1b[2m\x1b[4m", &link(url, url, style))
    );
    let mut lines = Vec::new();
    if let Some(h) = header {
        lines.push(format!("{bar} {h}"));
    }
    if let Some(r) = ref_line {
        lines.push(format!("{bar} {r}"));
    }
    lines.push(url_line);
    lines.join("\n")
}

/// Prints the banner on stderr.
pub fn announce_deployment_target(
    header: &str,
    url: &str,
    fields: Option<&DeploymentFields>,
    dashboard_host: &str,
) {
    crate::output::message(&format_banner(
        Some(header),
        url,
        fields,
        dashboard_host,
        BannerStyle::detect(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: BannerStyle = BannerStyle {
        color: false,
        links: false,
    };

    fn fields(kind: DeploymentType, reference: Option<&str>, default: bool) -> DeploymentFields {
        DeploymentFields {
            deployment_name: "brave-lynx-456".into(),
            deployment_type: kind,
            team_slug: Some("acme".into()),
            project_slug: Some("rocket".into()),
            reference: reference.map(str::to_string),
            is_default: default,
        }
    }

    #[test]
    fn prod_banner_without_terminal() {
        let f = fields(DeploymentType::Prod, Some("production"), true);
        assert_eq!(
            format_banner(
                Some("Deploying code to deployment:"),
                "http://127.0.0.1:1",
                Some(&f),
                "http://localhost:6789",
                PLAIN
            ),
            "▌ Deploying code to deployment:\n▌ [Production] acme:rocket:production (prod) (dashboard: http://localhost:6789/t/acme/rocket/brave-lynx-456)\n▌ └─ http://127.0.0.1:1"
        );
    }

    #[test]
    fn preview_self_hosted_and_local() {
        let f = fields(DeploymentType::Preview, Some("preview/x"), false);
        assert!(format_banner(None, "u", Some(&f), "D", PLAIN).starts_with(
            "▌ [Preview] acme:rocket:preview/x (dashboard: D/t/acme/rocket/brave-lynx-456)"
        ));
        assert_eq!(
            format_banner(Some("H:"), "http://h", None, "D", PLAIN),
            "▌ H:\n▌ └─ http://h"
        );
        let mut local = fields(DeploymentType::Local, None, false);
        local.deployment_name = "local-acme-rocket".into();
        assert_eq!(
            format_banner(None, "http://127.0.0.1:3210", Some(&local), "D", PLAIN),
            "▌ [Local] Port 3210 • in acme:rocket (dashboard: D/t/acme/rocket/local-acme-rocket)\n▌ └─ http://127.0.0.1:3210"
        );
        let mut no_ref = fields(DeploymentType::Dev, None, false);
        no_ref.team_slug = None;
        assert!(
            format_banner(None, "u", Some(&no_ref), "D", PLAIN)
                .starts_with("▌ [Development] brave-lynx-456 (dashboard: D/d/brave-lynx-456)")
        );
    }
}
