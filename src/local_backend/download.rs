//! Finding the backend binary: the version to run ("latest" is looked up at
//! version.convex.dev once per process), the cache, and the download of the
//! release zip from GitHub.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::LocalBackends;
use super::paths::{BackendDirs, executable_name, release_asset_name};
use super::version::{check_version, error_chain, fetch_latest_version};
use crate::output;

/// Which backend version to make available.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinaryVersion {
    /// The latest release; fails when it cannot be looked up.
    Latest,
    /// The latest release, or this version when the lookup fails (an existing
    /// linked local deployment keeps working offline).
    LatestOr(String),
    /// Exactly this version (`--local-backend-version`, or a saved one).
    Exact(String),
}

/// A backend executable in the cache, and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendBinary {
    pub path: PathBuf,
    pub version: String,
}

impl LocalBackends {
    /// The latest backend version, looked up once per `LocalBackends` (a
    /// failed lookup is not remembered, so a later call tries again).
    pub async fn latest_version(&self) -> Result<String> {
        let mut cached = self.latest_version.lock().await;
        if let Some(version) = cached.as_ref() {
            return Ok(version.clone());
        }
        let version = fetch_latest_version(
            &self.client,
            &self.endpoints.version_api,
            self.convex_client(),
        )
        .await?;
        *cached = Some(version.clone());
        Ok(version)
    }

    /// Makes the requested backend version available in the cache,
    /// downloading it when needed, and returns its path.
    pub async fn ensure_binary(&self, which: BinaryVersion) -> Result<BackendBinary> {
        let version = match which {
            BinaryVersion::Exact(version) => version,
            BinaryVersion::Latest => self.latest_version().await?,
            BinaryVersion::LatestOr(fallback) => match self.latest_version().await {
                Ok(version) => version,
                Err(e) => {
                    output::warning(&format!("{e:#}"));
                    output::warning(&format!(
                        "Using the backend version this deployment already has, {fallback}."
                    ));
                    fallback
                }
            },
        };
        check_version(&version)?;
        let path = match self.cached_binary(&version)? {
            Some(path) => path,
            None => self.download_binary(&version).await?,
        };
        Ok(BackendBinary { path, version })
    }

    /// The cached executable of `version`, made executable; a version folder
    /// without one is removed so the download starts clean.
    fn cached_binary(&self, version: &str) -> Result<Option<PathBuf>> {
        let dir = self.dirs.versioned_binary_dir(version);
        if !dir.exists() {
            return Ok(None);
        }
        let path = self.dirs.executable_path(version);
        if !path.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("Could not remove the incomplete {}", dir.display()))?;
            return Ok(None);
        }
        make_executable(&path)?;
        Ok(Some(path))
    }

    /// Downloads the release zip of `version` for this platform, unpacks it
    /// and moves the executable into the cache.
    async fn download_binary(&self, version: &str) -> Result<PathBuf> {
        let Some(asset) = release_asset_name() else {
            bail!(
                "Local deployments are not available on this platform ({} {}): no Convex backend \
                 is published for it. Use a cloud deployment instead (`convex dev --configure`).",
                std::env::consts::OS,
                std::env::consts::ARCH
            );
        };
        let binaries = self.dirs.binaries_dir();
        let release = self
            .download_release_zip(version, asset, "Convex backend binary", &binaries)
            .await?;
        let executable = release.unpacked.join(executable_name());
        if !executable.is_file() {
            bail!(
                "Could not install the Convex local backend {version} from {}: the archive has no {} \
                 at its top level",
                release.url,
                executable_name()
            );
        }
        make_executable(&executable)?;
        let dest_dir = self.dirs.versioned_binary_dir(version);
        std::fs::create_dir_all(&dest_dir)
            .with_context(|| format!("Could not create the folder {}", dest_dir.display()))?;
        let dest = self.dirs.executable_path(version);
        std::fs::rename(&executable, &dest)
            .with_context(|| format!("Could not move the backend to {}", dest.display()))?;
        Ok(dest)
    }

    /// Downloads `<releases>/<version>/<asset>` and unpacks it in a staging
    /// folder inside `staging_parent` (on the destination's file system, so
    /// the caller's final move is a rename). `what` names it in messages.
    pub(crate) async fn download_release_zip(
        &self,
        version: &str,
        asset: &str,
        what: &str,
        staging_parent: &Path,
    ) -> Result<DownloadedRelease> {
        let url = format!(
            "{}/{version}/{asset}",
            self.endpoints.releases.trim_end_matches('/')
        );
        let failed = |detail: String| {
            anyhow!("Could not download the {what} {version} from {url}: {detail}")
        };
        let mut response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(failed(format!(
                "the server answered {} (is {version} a published release?)",
                response.status()
            )));
        }

        std::fs::create_dir_all(staging_parent)
            .with_context(|| format!("Could not create the folder {}", staging_parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".download-")
            .tempdir_in(staging_parent)
            .with_context(|| {
                format!("Could not create a folder in {}", staging_parent.display())
            })?;
        let zip_path = staging.path().join("download.zip");
        let mut file = std::fs::File::create(&zip_path)
            .with_context(|| format!("Could not create {}", zip_path.display()))?;

        let bar = match response.content_length() {
            Some(total) if total > 0 && self.stderr_is_terminal => Some(progress_bar(total, what)),
            _ => {
                output::message(&format!("Downloading {what}"));
                None
            }
        };
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(error_chain(&e)))?
        {
            file.write_all(&chunk)
                .with_context(|| format!("Could not write {}", zip_path.display()))?;
            if let Some(bar) = &bar {
                bar.inc(chunk.len() as u64);
            }
        }
        file.sync_all()
            .with_context(|| format!("Could not write {}", zip_path.display()))?;
        drop(file);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            output::success(&format!("Downloaded {what}"));
        }

        let unpacked = staging.path().join("unpacked");
        let zip_for_task = zip_path.clone();
        let unpacked_for_task = unpacked.clone();
        tokio::task::spawn_blocking(move || unzip(&zip_for_task, &unpacked_for_task))
            .await
            .context("The unzip task failed")?
            .map_err(|e| failed(format!("{e:#}")))?;
        Ok(DownloadedRelease {
            _staging: staging,
            unpacked,
            url,
        })
    }
}

/// An unpacked release archive; its staging folder is removed on drop.
pub(crate) struct DownloadedRelease {
    _staging: tempfile::TempDir,
    pub unpacked: PathBuf,
    pub url: String,
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(&format!(
        "Downloading {what} [{{bar:40}}] {{percent}}% {{eta}}"
    ))
    .expect("a valid template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn unzip(zip_path: &Path, into: &Path) -> Result<()> {
    let file = std::fs::File::open(zip_path)?;
    let mut archive = zip::ZipArchive::new(file).context("not a zip archive")?;
    archive.extract(into).context("could not unpack it")?;
    Ok(())
}

/// `chmod +x` (a no-op on Windows).
fn make_executable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("Could not read {}", path.display()))?;
        let mode = metadata.permissions().mode();
        if mode & 0o111 != 0o111 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o111))
                .with_context(|| format!("Could not make {} executable", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
