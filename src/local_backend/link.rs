//! Moving an anonymous (account-less) deployment into a cloud project, where
//! it becomes the project's local deployment (`login`'s offer to link
//! deployments; the official `handleLinkToProject`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::LocalBackends;
use super::linked::{LocalDeploymentControlPlane, StartLocalDeployment};
use super::paths::BackendDirs;
use super::process::ensure_backend_stopped;
use crate::credentials::local_state::{LocalDeploymentKind, local_deployment_url};
use crate::output;

/// Where a linked anonymous deployment now lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedAnonymousDeployment {
    /// The new `local-…` name.
    pub deployment_name: String,
    pub url: String,
    pub project_slug: String,
}

impl LocalBackends {
    /// Register the anonymous deployment `anonymous_name` as the local
    /// deployment of `team_slug`/`project_slug`: stop it if it runs
    /// (another backend on its port is left alone), `local_deployment/start`,
    /// a new instance secret and admin key, its data moved to the new
    /// deployment's folder (nothing moves when both are the project's
    /// `.convex/local/default`), the new `config.json`, then
    /// `local_deployment/pause` (it is not running).
    pub async fn link_anonymous_deployment(
        &self,
        anonymous_name: &str,
        team_slug: &str,
        project_slug: &str,
        control_plane: &dyn LocalDeploymentControlPlane,
    ) -> Result<LinkedAnonymousDeployment> {
        output::verbose(&format!(
            "Linking {anonymous_name} to a project in team {team_slug}"
        ));
        let Some(config) = self.saved_config(LocalDeploymentKind::Anonymous, anonymous_name) else {
            bail!("Failed to load deployment config - try running `npx convex dev --configure`");
        };
        ensure_backend_stopped(
            &self.client,
            config.ports.cloud,
            anonymous_name,
            Duration::from_secs(5),
        )
        .await?;
        let registered = control_plane
            .start(StartLocalDeployment {
                port: config.ports.cloud,
                project_slug: project_slug.to_string(),
                team_slug: team_slug.to_string(),
                instance_name: None,
            })
            .await?;
        let local_name = registered.deployment_name;
        let credentials = self.generate_credentials(&local_name).await?;
        if self
            .saved_config(LocalDeploymentKind::Local, &local_name)
            .is_some()
        {
            bail!(
                "Project {project_slug} already has a local deployment, so we cannot link this anonymous local deployment to it."
            );
        }
        let old_dir = self.dirs.deployment_state_dir(
            &self.project_dir,
            LocalDeploymentKind::Anonymous,
            anonymous_name,
        );
        let new_dir = self.dirs.deployment_state_dir(
            &self.project_dir,
            LocalDeploymentKind::Local,
            &local_name,
        );
        if old_dir != new_dir {
            output::verbose(&format!("Moving {anonymous_name} to {local_name}"));
            move_dir(&old_dir, &new_dir)?;
        }
        // Keys in the official CLI's order for a linked deployment.
        let mut fields = serde_json::Map::new();
        fields.insert("instanceSecret".into(), credentials.instance_secret.into());
        fields.insert("adminKey".into(), credentials.admin_key.into());
        fields.insert("backendVersion".into(), config.backend_version.into());
        fields.insert(
            "ports".into(),
            serde_json::json!({"cloud": config.ports.cloud, "site": config.ports.site}),
        );
        fields.insert("cloudProjectId".into(), registered.project_id.into());
        super::save_deployment_config_fields(
            &self.dirs,
            &self.project_dir,
            LocalDeploymentKind::Local,
            &local_name,
            fields,
        )?;
        control_plane
            .pause(team_slug.to_string(), project_slug.to_string())
            .await?;
        output::success(&format!(
            "Linked {anonymous_name} to project {project_slug}"
        ));
        Ok(LinkedAnonymousDeployment {
            deployment_name: local_name,
            url: local_deployment_url(config.ports.cloud),
            project_slug: project_slug.to_string(),
        })
    }
}

/// Move the folder `from` to `to` (which must not exist): a rename, or
/// across file systems a copy into a staging folder beside `to` that is
/// renamed into place, then `from` deleted. A failed copy leaves `from`
/// untouched and no `to`.
fn move_dir(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Could not create {}", parent.display()))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    move_by_copy(from, to)
}

/// [`move_dir`] across file systems.
fn move_by_copy(from: &Path, to: &Path) -> Result<()> {
    let staging = to.with_file_name(format!(".convex-tmp-{}", uuid::Uuid::new_v4().simple()));
    let copied = copy_dir(from, &staging).and_then(|()| std::fs::rename(&staging, to));
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e).with_context(|| {
            format!(
                "Could not move the deployment's data from {} to {}",
                from.display(),
                to.display()
            )
        });
    }
    std::fs::remove_dir_all(from)
        .with_context(|| format!("Could not delete {} after copying it", from.display()))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(link, &target)?;
            #[cfg(windows)]
            {
                if entry.path().is_dir() {
                    std::os::windows::fs::symlink_dir(link, &target)?;
                } else {
                    std::os::windows::fs::symlink_file(link, &target)?;
                }
            }
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_a_folder_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("a");
        std::fs::create_dir_all(from.join("x/y")).unwrap();
        std::fs::write(from.join("config.json"), "{}").unwrap();
        std::fs::write(from.join("x/y/data.sqlite3"), "db").unwrap();
        let to = tmp.path().join("b/c");
        move_dir(&from, &to).unwrap();
        assert!(!from.exists());
        assert_eq!(
            std::fs::read_to_string(to.join("x/y/data.sqlite3")).unwrap(),
            "db"
        );
        assert_eq!(
            std::fs::read_to_string(to.join("config.json")).unwrap(),
            "{}"
        );
    }
}
