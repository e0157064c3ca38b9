//! The `--deployment` selector grammar.
//!
//! 1. `^[a-z]+-[a-z]+-[0-9]+$` → a deployment name (`joyful-capybara-123`).
//! 2. Three `:` pieces → `team:project:<sel>`; two → `project:<sel>` (the
//!    current project's team); one (or four or more) → `<sel>` in the current
//!    project (four or more pieces make the whole string a reference).
//!
//! `<sel>`: `dev` (personal cloud dev deployment), `prod` (default production),
//! `local` (this directory's local deployment), anything else a reference
//! (`staging`, `dev/james`, `preview/branch`).

/// A selector within one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InProjectSelector {
    Dev,
    Prod,
    Local,
    Reference(String),
}

/// A parsed `--deployment` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedSelector {
    DeploymentName(String),
    InCurrentProject(InProjectSelector),
    InProject {
        project_slug: String,
        selector: InProjectSelector,
    },
    InTeamProject {
        team_slug: String,
        project_slug: String,
        selector: InProjectSelector,
    },
}

impl ParsedSelector {
    /// The selector within the project, whatever the project.
    pub fn in_project_selector(&self) -> Option<&InProjectSelector> {
        match self {
            ParsedSelector::DeploymentName(_) => None,
            ParsedSelector::InCurrentProject(s)
            | ParsedSelector::InProject { selector: s, .. }
            | ParsedSelector::InTeamProject { selector: s, .. } => Some(s),
        }
    }
}

fn in_project(s: &str) -> InProjectSelector {
    match s {
        "dev" => InProjectSelector::Dev,
        "prod" => InProjectSelector::Prod,
        "local" => InProjectSelector::Local,
        other => InProjectSelector::Reference(other.to_string()),
    }
}

/// Whether `s` has the shape of a deployment name (`word-word-123`).
pub fn is_deployment_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && !parts[0].is_empty()
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_lowercase())
        && !parts[2].is_empty()
        && parts[2].bytes().all(|b| b.is_ascii_digit())
}

/// Parse a `--deployment` value.
pub fn parse_selector(selector: &str) -> ParsedSelector {
    if is_deployment_name(selector) {
        return ParsedSelector::DeploymentName(selector.to_string());
    }
    let parts: Vec<&str> = selector.split(':').collect();
    match parts.as_slice() {
        [team, project, sel] => ParsedSelector::InTeamProject {
            team_slug: team.to_string(),
            project_slug: project.to_string(),
            selector: in_project(sel),
        },
        [project, sel] => ParsedSelector::InProject {
            project_slug: project.to_string(),
            selector: in_project(sel),
        },
        _ => ParsedSelector::InCurrentProject(in_project(selector)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InProjectSelector as S;
    use ParsedSelector as P;

    #[test]
    fn grammar() {
        assert_eq!(
            parse_selector("joyful-capybara-123"),
            P::DeploymentName("joyful-capybara-123".into())
        );
        assert_eq!(
            parse_selector("Joyful-capybara-123"),
            P::InCurrentProject(S::Reference("Joyful-capybara-123".into()))
        );
        assert_eq!(parse_selector("dev"), P::InCurrentProject(S::Dev));
        assert_eq!(parse_selector("prod"), P::InCurrentProject(S::Prod));
        assert_eq!(parse_selector("local"), P::InCurrentProject(S::Local));
        assert_eq!(
            parse_selector("dev/james"),
            P::InCurrentProject(S::Reference("dev/james".into()))
        );
        assert_eq!(
            parse_selector("staging"),
            P::InCurrentProject(S::Reference("staging".into()))
        );
        assert_eq!(
            parse_selector("otherproj:staging"),
            P::InProject {
                project_slug: "otherproj".into(),
                selector: S::Reference("staging".into())
            }
        );
        assert_eq!(
            parse_selector("team:proj:prod"),
            P::InTeamProject {
                team_slug: "team".into(),
                project_slug: "proj".into(),
                selector: S::Prod
            }
        );
        assert_eq!(
            parse_selector("team:proj:local"),
            P::InTeamProject {
                team_slug: "team".into(),
                project_slug: "proj".into(),
                selector: S::Local
            }
        );
        assert_eq!(
            parse_selector("a:b:c:d"),
            P::InCurrentProject(S::Reference("a:b:c:d".into()))
        );
        assert!(!is_deployment_name("a-b-c"));
        assert!(!is_deployment_name("a-b-1-2"));
    }
}
