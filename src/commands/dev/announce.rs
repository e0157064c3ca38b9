//! The three-line banner naming the deployment `dev` works against (spec
//! §7.6):
//!
//! ```text
//! ▌ Developing against deployment:
//! ▌ [Development] acme:rocket:dev/alice (dev) (dashboard: <url>)
//! ▌ └─ https://happy-otter-123.convex.cloud
//! ```

use std::io::IsTerminal;

use super::style;
use crate::credentials::{DeploymentFields, DeploymentType};

struct Look {
    label: &'static str,
    background: u32,
    foreground: u32,
    bar: u32,
}

fn look(deployment_type: Option<&DeploymentType>) -> Look {
    let green = Look {
        label: "",
        background: 0xd2ecbb,
        foreground: 0x2b6536,
        bar: 0x3ea34b,
    };
    match deployment_type {
        Some(DeploymentType::Prod) => Look {
            label: "Production",
            background: 0xeacae7,
            foreground: 0x641aa9,
            bar: 0x8b21f1,
        },
        Some(DeploymentType::Dev) => Look {
            label: "Development",
            ..green
        },
        Some(DeploymentType::Local | DeploymentType::Anonymous) => Look {
            label: "Local",
            ..green
        },
        Some(DeploymentType::Preview) => Look {
            label: "Preview",
            background: 0xfcedd7,
            foreground: 0x933615,
            bar: 0xe25706,
        },
        Some(DeploymentType::Custom) => Look {
            label: "Custom",
            background: 0xdfe2e9,
            foreground: 0x292b30,
            bar: 0x989aa3,
        },
        None => Look {
            label: "",
            background: 0xdfe2e9,
            foreground: 0x292b30,
            bar: 0x989aa3,
        },
        Some(DeploymentType::Other(_)) => Look {
            label: "Unknown",
            background: 0xdfe2e9,
            foreground: 0x292b30,
            bar: 0x989aa3,
        },
    }
}

fn port_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    // Like JavaScript's URL: no port when it is the scheme's default.
    parsed.port().map(|p| p.to_string())
}

/// The banner text (without a trailing newline). `dashboard_host`:
/// `https://dashboard.convex.dev` or the test host.
pub fn banner(
    header: &str,
    url: &str,
    fields: Option<&DeploymentFields>,
    dashboard_host: &str,
) -> String {
    let look = look(fields.map(|f| &f.deployment_type));
    let bar = style::hex(look.bar, "▌");
    let tag = if crate::output::colors_enabled() {
        style::badge(
            look.background,
            look.foreground,
            &format!(" {} ", look.label),
        )
    } else {
        format!("[{}]", look.label)
    };
    let url_line = style::dim_underline(&style::link(url, url));
    let dashboard = fields.and_then(|f| match f.deployment_type {
        DeploymentType::Anonymous => None,
        _ => Some(match (&f.team_slug, &f.project_slug) {
            (Some(team), Some(project)) => {
                format!("{dashboard_host}/t/{team}/{project}/{}", f.deployment_name)
            }
            _ => format!("{dashboard_host}/d/{}", f.deployment_name),
        }),
    });
    let dashboard_suffix = match dashboard {
        Some(d) if std::io::stderr().is_terminal() => {
            format!(" ({})", style::link(&style::underline("dashboard"), &d))
        }
        Some(d) => format!(" (dashboard: {d})"),
        None => String::new(),
    };
    let reference_line = fields.map(|f| match &f.deployment_type {
        DeploymentType::Local => {
            let port = port_of(url)
                .map(|p| format!("Port {}", style::bold(&p)))
                .unwrap_or_else(|| url.to_string());
            let project = match (&f.team_slug, &f.project_slug) {
                (Some(t), Some(p)) => format!(" • in {t}{}{p}", style::dim(":")),
                _ => String::new(),
            };
            format!("{tag} {port}{project}{dashboard_suffix}")
        }
        DeploymentType::Anonymous => {
            let port = port_of(url)
                .map(|p| format!("Port {}", style::bold(&p)))
                .unwrap_or_else(|| url.to_string());
            format!(
                "{tag} {port} • No Convex account (run {} to link to a project)",
                style::bold("npx convex login")
            )
        }
        deployment_type => {
            let cloud = matches!(
                deployment_type,
                DeploymentType::Dev
                    | DeploymentType::Preview
                    | DeploymentType::Prod
                    | DeploymentType::Custom
            );
            let (prefix, tail, alias) = match (&f.team_slug, &f.project_slug, &f.reference) {
                (Some(team), Some(project), Some(reference)) if cloud => {
                    let alias = match deployment_type {
                        DeploymentType::Dev if f.is_default => Some("dev"),
                        DeploymentType::Prod if f.is_default => Some("prod"),
                        _ => None,
                    };
                    (format!("{team}:{project}:"), reference.clone(), alias)
                }
                _ => (String::new(), f.deployment_name.clone(), None),
            };
            let alias = alias
                .map(|a| format!(" {}{}{}", style::dim("("), style::bold(a), style::dim(")")))
                .unwrap_or_default();
            format!(
                "{tag} {}{}{alias}{dashboard_suffix}",
                style::dim(&prefix),
                style::bold(&tail)
            )
        }
    });
    let mut lines = vec![format!("{bar} {header}")];
    if let Some(line) = reference_line {
        lines.push(format!("{bar} {line}"));
    }
    lines.push(format!("{bar} {} {url_line}", style::dim("└─")));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(t: DeploymentType) -> DeploymentFields {
        DeploymentFields {
            deployment_name: "happy-otter-123".into(),
            deployment_type: t,
            team_slug: Some("acme".into()),
            project_slug: Some("rocket".into()),
            reference: Some("dev/alice".into()),
            is_default: true,
        }
    }

    #[test]
    fn plain_banners() {
        // The plain form is what a pipe (the harness, CI) gets.
        if std::io::stderr().is_terminal() || crate::output::colors_enabled() {
            return;
        }
        let host = "http://localhost:6789";
        assert_eq!(
            banner(
                "Developing against deployment:",
                "http://127.0.0.1:39071",
                Some(&fields(DeploymentType::Dev)),
                host
            ),
            "▌ Developing against deployment:\n▌ [Development] acme:rocket:dev/alice (dev) (dashboard: http://localhost:6789/t/acme/rocket/happy-otter-123)\n▌ └─ http://127.0.0.1:39071"
        );
        assert_eq!(
            banner(
                "Developing against deployment:",
                "http://127.0.0.1:3",
                None,
                host
            ),
            "▌ Developing against deployment:\n▌ └─ http://127.0.0.1:3"
        );
        let mut anonymous = fields(DeploymentType::Anonymous);
        anonymous.team_slug = None;
        assert_eq!(
            banner("H:", "http://127.0.0.1:3210", Some(&anonymous), host),
            "▌ H:\n▌ [Local] Port 3210 • No Convex account (run npx convex login to link to a project)\n▌ └─ http://127.0.0.1:3210"
        );
        assert_eq!(
            banner(
                "H:",
                "http://127.0.0.1:3210",
                Some(&fields(DeploymentType::Local)),
                host
            ),
            "▌ H:\n▌ [Local] Port 3210 • in acme:rocket (dashboard: http://localhost:6789/t/acme/rocket/happy-otter-123)\n▌ └─ http://127.0.0.1:3210"
        );
        let mut bare = fields(DeploymentType::Prod);
        bare.reference = None;
        assert_eq!(
            banner("H:", "https://x.convex.cloud", Some(&bare), host),
            "▌ H:\n▌ [Production] happy-otter-123 (dashboard: http://localhost:6789/t/acme/rocket/happy-otter-123)\n▌ └─ https://x.convex.cloud"
        );
    }
}
