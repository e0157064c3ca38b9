//! What the build environment tells a deploy: the default audit-log
//! message, the preview name (the branch being built), whether a production
//! deploy key is being used from a non-production build, and the framework's
//! names for the deployment URL variables.

use crate::env::Env;
use crate::env_vars as v;
use crate::project::PackageJson;

/// `Deployed from <Platform> • <sha7>` for the first CI platform detected
/// (the reference's order), `Deployed from <Platform>` without a commit,
/// `None` outside CI.
pub fn default_deploy_message(env: &Env) -> Option<String> {
    let set = |name: &str| env.is_truthy(name);
    let platforms: [(&str, bool, &str); 11] = [
        ("GitHub Actions", set(v::GITHUB_ACTIONS), v::GITHUB_SHA),
        ("Vercel", set(v::VERCEL), v::VERCEL_GIT_COMMIT_SHA),
        ("Netlify", set(v::NETLIFY), v::COMMIT_REF),
        ("Cloudflare Pages", set(v::CF_PAGES), v::CF_PAGES_COMMIT_SHA),
        (
            "Cloudflare Workers",
            set(v::WORKERS_CI),
            v::WORKERS_CI_COMMIT_SHA,
        ),
        ("Render", set(v::RENDER), v::RENDER_GIT_COMMIT),
        (
            "Railway",
            set(v::RAILWAY_ENVIRONMENT),
            v::RAILWAY_GIT_COMMIT_SHA,
        ),
        ("GitLab CI", set(v::GITLAB_CI), v::CI_COMMIT_SHA),
        ("CircleCI", set(v::CIRCLECI), v::CIRCLE_SHA1),
        (
            "Google Cloud Build",
            set(v::BUILD_ID) && set(v::PROJECT_ID) && set(v::PROJECT_NUMBER) && set(v::LOCATION),
            v::SHORT_SHA,
        ),
        (
            "Heroku",
            set(v::HEROKU_APP_NAME) || set(v::DYNO),
            v::HEROKU_BUILD_COMMIT,
        ),
    ];
    let (name, _, sha_var) = platforms.iter().find(|(_, detected, _)| *detected)?;
    Some(match env.non_empty(sha_var) {
        Some(sha) => format!(
            "Deployed from {name} • {}",
            sha.chars().take(7).collect::<String>()
        ),
        None => format!("Deployed from {name}"),
    })
}

/// The branch being built, used as the preview deployment's name.
pub fn git_branch_from_environment(env: &Env) -> Option<String> {
    let get = |name: &str| env.get(name).map(str::to_string);
    if env.is_truthy(v::VERCEL) {
        return get(v::VERCEL_GIT_COMMIT_REF);
    }
    if env.is_truthy(v::NETLIFY) {
        return get(v::HEAD);
    }
    if env.is_truthy(v::CF_PAGES) || env.is_truthy(v::WORKERS_CI) {
        return get(v::CF_PAGES_BRANCH).or_else(|| get(v::WORKERS_CI_BRANCH));
    }
    if env.is_truthy(v::CI) {
        return get(v::GITHUB_HEAD_REF).or_else(|| get(v::CI_COMMIT_REF_NAME));
    }
    None
}

/// A Vercel / Netlify / Cloudflare build that is not the production one.
pub fn is_non_prod_build_environment(env: &Env) -> bool {
    if env.is_truthy(v::VERCEL) {
        return env.get(v::VERCEL_ENV) != Some("production");
    }
    if env.is_truthy(v::NETLIFY) {
        return env.get(v::CONTEXT) != Some("production");
    }
    if env.is_truthy(v::CF_PAGES) || env.is_truthy(v::WORKERS_CI) {
        let branch = env
            .get(v::CF_PAGES_BRANCH)
            .or_else(|| env.get(v::WORKERS_CI_BRANCH));
        return branch != Some("main");
    }
    false
}

/// Every framework's name for the deployment (client) URL variable, as
/// `dev` recognises them in an env file.
pub const URL_VAR_NAMES: [&str; 6] = [
    "CONVEX_URL",
    "PUBLIC_CONVEX_URL",
    "NEXT_PUBLIC_CONVEX_URL",
    "VITE_CONVEX_URL",
    "REACT_APP_CONVEX_URL",
    "EXPO_PUBLIC_CONVEX_URL",
];
/// Every framework's name for the HTTP-actions (site) URL variable.
pub const SITE_URL_VAR_NAMES: [&str; 6] = [
    "CONVEX_SITE_URL",
    "PUBLIC_CONVEX_SITE_URL",
    "NEXT_PUBLIC_CONVEX_SITE_URL",
    "VITE_CONVEX_SITE_URL",
    "REACT_APP_CONVEX_SITE_URL",
    "EXPO_PUBLIC_CONVEX_SITE_URL",
];

/// The framework's names for the deployment URL and site URL variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlEnvVarNames {
    pub convex_url: &'static str,
    pub convex_site_url: &'static str,
    /// Detected framework, if any (`Next.js`, `Vite`, ...).
    pub framework: Option<&'static str>,
}

/// Chosen from `package.json`'s `dependencies` and `devDependencies`, first
/// match wins (the reference's order): create-react-app, Next.js, Expo,
/// SvelteKit, TanStack Start, Vite, Remix, else plain `CONVEX_URL` (also
/// when there is no readable `package.json`).
pub fn suggested_url_env_var_names(package_json: Option<&PackageJson>) -> UrlEnvVarNames {
    let plain = UrlEnvVarNames {
        convex_url: "CONVEX_URL",
        convex_site_url: "CONVEX_SITE_URL",
        framework: None,
    };
    let Some(package_json) = package_json else {
        return plain;
    };
    let has = |name: &str| {
        ["dependencies", "devDependencies"].iter().any(|section| {
            package_json
                .value
                .get(*section)
                .and_then(|d| d.get(name))
                .is_some()
        })
    };
    let named = |framework, url, site| UrlEnvVarNames {
        convex_url: url,
        convex_site_url: site,
        framework: Some(framework),
    };
    if has("react-scripts") {
        named(
            "create-react-app",
            "REACT_APP_CONVEX_URL",
            "REACT_APP_CONVEX_SITE_URL",
        )
    } else if has("next") {
        named(
            "Next.js",
            "NEXT_PUBLIC_CONVEX_URL",
            "NEXT_PUBLIC_CONVEX_SITE_URL",
        )
    } else if has("expo") {
        named(
            "Expo",
            "EXPO_PUBLIC_CONVEX_URL",
            "EXPO_PUBLIC_CONVEX_SITE_URL",
        )
    } else if has("@sveltejs/kit") {
        named("SvelteKit", "PUBLIC_CONVEX_URL", "PUBLIC_CONVEX_SITE_URL")
    } else if has("@tanstack/start") || has("@tanstack/react-start") {
        named("TanStackStart", "VITE_CONVEX_URL", "VITE_CONVEX_SITE_URL")
    } else if has("vite") {
        named("Vite", "VITE_CONVEX_URL", "VITE_CONVEX_SITE_URL")
    } else if has("@remix-run/dev") {
        named("Remix", "CONVEX_URL", "CONVEX_SITE_URL")
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_messages() {
        assert_eq!(default_deploy_message(&Env::default()), None);
        let vercel = Env::from_pairs([("VERCEL", "1"), ("VERCEL_GIT_COMMIT_SHA", "abcdef123456")]);
        assert_eq!(
            default_deploy_message(&vercel).as_deref(),
            Some("Deployed from Vercel • abcdef1")
        );
        // GitHub Actions comes first.
        let both = Env::from_pairs([("VERCEL", "1"), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(
            default_deploy_message(&both).as_deref(),
            Some("Deployed from GitHub Actions")
        );
        let gcb = Env::from_pairs([
            ("BUILD_ID", "1"),
            ("PROJECT_ID", "p"),
            ("PROJECT_NUMBER", "2"),
        ]);
        assert_eq!(default_deploy_message(&gcb), None);
        let heroku = Env::from_pairs([("DYNO", "web.1"), ("HEROKU_BUILD_COMMIT", "0123")]);
        assert_eq!(
            default_deploy_message(&heroku).as_deref(),
            Some("Deployed from Heroku • 0123")
        );
    }

    #[test]
    fn branches() {
        assert_eq!(git_branch_from_environment(&Env::default()), None);
        let vercel = Env::from_pairs([("VERCEL", "1"), ("VERCEL_GIT_COMMIT_REF", "feat")]);
        assert_eq!(
            git_branch_from_environment(&vercel).as_deref(),
            Some("feat")
        );
        // GITHUB_HEAD_REF only counts in CI.
        let gh = Env::from_pairs([("GITHUB_HEAD_REF", "pr")]);
        assert_eq!(git_branch_from_environment(&gh), None);
        let ci = Env::from_pairs([("CI", "true"), ("CI_COMMIT_REF_NAME", "main")]);
        assert_eq!(git_branch_from_environment(&ci).as_deref(), Some("main"));
        let cf = Env::from_pairs([("WORKERS_CI", "1"), ("WORKERS_CI_BRANCH", "w")]);
        assert_eq!(git_branch_from_environment(&cf).as_deref(), Some("w"));
    }

    #[test]
    fn non_prod_builds() {
        assert!(!is_non_prod_build_environment(&Env::default()));
        assert!(is_non_prod_build_environment(&Env::from_pairs([(
            "VERCEL", "1"
        )])));
        assert!(!is_non_prod_build_environment(&Env::from_pairs([
            ("VERCEL", "1"),
            ("VERCEL_ENV", "production")
        ])));
        assert!(is_non_prod_build_environment(&Env::from_pairs([
            ("NETLIFY", "true"),
            ("CONTEXT", "deploy-preview")
        ])));
        assert!(!is_non_prod_build_environment(&Env::from_pairs([
            ("CF_PAGES", "1"),
            ("CF_PAGES_BRANCH", "main")
        ])));
    }

    #[test]
    fn framework_names() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            suggested_url_env_var_names(PackageJson::read(dir.path()).ok().as_ref()).convex_url,
            "CONVEX_URL"
        );
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies": {"vite": "5"}, "devDependencies": {"next": "14"}}"#,
        )
        .unwrap();
        let names = suggested_url_env_var_names(PackageJson::read(dir.path()).ok().as_ref());
        assert_eq!(names.convex_url, "NEXT_PUBLIC_CONVEX_URL");
        assert_eq!(names.convex_site_url, "NEXT_PUBLIC_CONVEX_SITE_URL");
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies": {"@remix-run/dev": "2", "vite": "5"}}"#,
        )
        .unwrap();
        assert_eq!(
            suggested_url_env_var_names(PackageJson::read(dir.path()).ok().as_ref()).convex_url,
            "VITE_CONVEX_URL"
        );
    }
}
