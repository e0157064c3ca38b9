//! Finding the esbuild binary of the user's project, and its version.
//!
//! The reference bundles with the esbuild its `convex` package depends on, so
//! we look in the same place: `ESBUILD_BINARY_PATH` when given, else the
//! `esbuild` package resolved from `node_modules/convex` the way Node would,
//! then that package's platform package `@esbuild/<platform>`.

use super::error::{BundleError, BundleResult};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The `GOGC` value esbuild gets when the user has not set one.
const ESBUILD_GOGC: &str = "400";

/// Whether this process put `GOGC` into its own environment for esbuild.
static GOGC_RAISED: AtomicBool = AtomicBool::new(false);

/// Lets esbuild's garbage collector run less often. Its service mode keeps
/// Go's default (`GOGC=100`); at 400 the four builds of a push take about 15%
/// less CPU (deploy of the benchmark project: 264 → 225 ms CPU, 296 → 256 ms
/// wall, median of 7), for a few MiB more memory in esbuild. The esbuild
/// client library starts esbuild with this process's environment, so the
/// variable goes there; a `GOGC` the user set is left alone, and
/// [`hide_esbuild_gc_target`] keeps ours from the user's own commands.
///
/// # Safety
///
/// Changes the process environment: call it before any thread starts.
pub unsafe fn raise_esbuild_gc_target() {
    if crate::env_vars::process_value(crate::env_vars::GOGC).is_none() {
        // SAFETY: the caller guarantees the process is single-threaded.
        unsafe { std::env::set_var(crate::env_vars::GOGC, ESBUILD_GOGC) };
        GOGC_RAISED.store(true, Ordering::Relaxed);
    }
}

/// Undoes [`raise_esbuild_gc_target`] for a child process that is not
/// esbuild (the user's `--cmd` / `--run-sh`).
pub fn hide_esbuild_gc_target(command: &mut tokio::process::Command) {
    if GOGC_RAISED.load(Ordering::Relaxed) {
        command.env_remove(crate::env_vars::GOGC);
    }
}

/// Whether Go's garbage-collector target is ours to choose: the user set no
/// `GOGC` (ours for esbuild aside).
pub fn go_gc_target_is_ours() -> bool {
    GOGC_RAISED.load(Ordering::Relaxed)
        || crate::env_vars::process_value(crate::env_vars::GOGC).is_none()
}

/// [`hide_esbuild_gc_target`] for `std` processes.
pub fn hide_esbuild_gc_target_std(command: &mut std::process::Command) {
    if GOGC_RAISED.load(Ordering::Relaxed) {
        command.env_remove(crate::env_vars::GOGC);
    }
}

/// esbuild versions whose service protocol this client has been checked
/// against (`convex` 1.48.0 pins 0.27.0). Others get a warning.
const TESTED_MINOR_VERSIONS: std::ops::RangeInclusive<u64> = 25..=27;

/// A located esbuild binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsbuildBinary {
    pub path: PathBuf,
    /// The version the binary reports; the service handshake must name it.
    pub version: String,
}

/// Directories Node searches for packages when resolving from `start`
/// (`<dir>/node_modules` for `start` and each ancestor, skipping folders that
/// are themselves named `node_modules`).
pub fn node_modules_dirs(start: &Path) -> Vec<PathBuf> {
    start
        .ancestors()
        .filter(|dir| dir.file_name().is_none_or(|n| n != "node_modules"))
        .map(|dir| dir.join("node_modules"))
        .collect()
}

/// Resolves package `name` from `start` as Node does; returns the package
/// folder with symbolic links resolved.
pub fn resolve_package(name: &str, start: &Path) -> Option<PathBuf> {
    node_modules_dirs(start)
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.join("package.json").is_file())
        .and_then(|found| dunce::canonicalize(found).ok())
}

/// The `@esbuild/*` package name and binary path inside it for this machine.
fn platform_package() -> Option<(&'static str, &'static str)> {
    use std::env::consts::{ARCH, OS};
    let package = match (OS, ARCH) {
        ("linux", "x86_64") => "@esbuild/linux-x64",
        ("linux", "aarch64") => "@esbuild/linux-arm64",
        ("linux", "arm") => "@esbuild/linux-arm",
        ("linux", "x86") => "@esbuild/linux-ia32",
        ("linux", "riscv64") => "@esbuild/linux-riscv64",
        ("linux", "s390x") => "@esbuild/linux-s390x",
        ("linux", "powerpc64") => "@esbuild/linux-ppc64",
        ("linux", "loongarch64") => "@esbuild/linux-loong64",
        ("macos", "x86_64") => "@esbuild/darwin-x64",
        ("macos", "aarch64") => "@esbuild/darwin-arm64",
        ("windows", "x86_64") => "@esbuild/win32-x64",
        ("windows", "aarch64") => "@esbuild/win32-arm64",
        ("windows", "x86") => "@esbuild/win32-ia32",
        ("freebsd", "x86_64") => "@esbuild/freebsd-x64",
        ("freebsd", "aarch64") => "@esbuild/freebsd-arm64",
        _ => return None,
    };
    let binary = if OS == "windows" {
        "esbuild.exe"
    } else {
        "bin/esbuild"
    };
    Some((package, binary))
}

fn read_version(package_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_dir.join("package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("version")?.as_str().map(str::to_string)
}

fn is_native_executable(path: &Path) -> bool {
    // The `esbuild` package's own `bin/esbuild` is a Node script unless the
    // install step replaced it with the native binary.
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 2];
    use std::io::Read;
    file.read_exact(&mut head).is_ok() && &head != b"#!"
}

/// Runs `<binary> --version`.
fn version_of_binary(path: &Path) -> BundleResult<String> {
    let output = std::process::Command::new(path)
        .arg("--version")
        .output()
        .map_err(|err| {
            BundleError::setup(format!(
                "Could not run the esbuild binary {}: {err}",
                path.display()
            ))
        })?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || version.is_empty() {
        return Err(BundleError::setup(format!(
            "{} --version failed; is it an esbuild binary?",
            path.display()
        )));
    }
    Ok(version)
}

/// Locates the project's esbuild. `binary_override` is the value of
/// `ESBUILD_BINARY_PATH` when set.
pub fn locate(project_root: &Path, binary_override: Option<&Path>) -> BundleResult<EsbuildBinary> {
    let install_hint = "Run `npm install` (or your package manager's install command) in the \
                        project directory first.";
    let convex_dir = resolve_package("convex", project_root).ok_or_else(|| {
        BundleError::setup(format!(
            "The `convex` package is not installed in {} (no node_modules/convex here or \
             above). {install_hint}",
            project_root.display()
        ))
    })?;
    let binary = match binary_override {
        Some(path) => {
            let version = version_of_binary(path)?;
            EsbuildBinary {
                path: path.to_path_buf(),
                version,
            }
        }
        None => {
            let esbuild_dir = resolve_package("esbuild", &convex_dir).ok_or_else(|| {
                BundleError::setup(format!(
                    "The `esbuild` package that `convex` depends on is not installed (looked \
                     in the node_modules folders above {}). {install_hint}",
                    convex_dir.display()
                ))
            })?;
            let version = read_version(&esbuild_dir).ok_or_else(|| {
                BundleError::setup(format!(
                    "{} has no version. {install_hint}",
                    esbuild_dir.join("package.json").display()
                ))
            })?;
            let from_platform_package = platform_package().and_then(|(package, binary)| {
                let dir = resolve_package(package, &esbuild_dir)?;
                let path = dir.join(binary);
                path.is_file().then_some(path)
            });
            let path = match from_platform_package {
                Some(path) => path,
                None => {
                    let own = esbuild_dir.join("bin").join("esbuild");
                    if is_native_executable(&own) {
                        own
                    } else {
                        return Err(BundleError::setup(format!(
                            "esbuild {version} is installed without its binary for this \
                             platform ({}). {install_hint} Make sure optional dependencies \
                             are installed (no `--no-optional` / `--omit=optional`).",
                            platform_package().map_or("unsupported platform", |p| p.0)
                        )));
                    }
                }
            };
            EsbuildBinary { path, version }
        }
    };
    check_version(&binary.version)?;
    Ok(binary)
}

/// Accepts versions the service protocol client is known to work with;
/// warns about other `0.x` releases and rejects what cannot be esbuild.
pub fn check_version(version: &str) -> BundleResult<()> {
    let mut parts = version.split('.').map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(0)), Some(Ok(minor))) if TESTED_MINOR_VERSIONS.contains(&minor) => Ok(()),
        (Some(Ok(0)), Some(Ok(minor))) if minor >= 18 => {
            super::warn(&format!(
                "esbuild {version} is installed; this CLI was tested with esbuild 0.25 to 0.27 \
                 (convex 1.48.0 uses 0.27.0). Bundles may differ from the official CLI's."
            ));
            Ok(())
        }
        _ => Err(BundleError::setup(format!(
            "esbuild {version} is too old or not recognised: this CLI needs esbuild 0.18 or \
             newer (convex 1.48.0 uses 0.27.0). Update the `convex` package and run `npm \
             install`."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_modules_search_path() {
        let dirs = node_modules_dirs(Path::new("/a/node_modules/convex"));
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("/a/node_modules/convex/node_modules"),
                PathBuf::from("/a/node_modules"),
                PathBuf::from("/node_modules"),
            ]
        );
    }

    #[test]
    fn version_policy() {
        assert!(check_version("0.27.0").is_ok());
        assert!(check_version("0.25.5").is_ok());
        assert!(check_version("0.28.1").is_ok());
        assert!(check_version("0.17.0").is_err());
        assert!(check_version("garbage").is_err());
    }

    #[test]
    fn missing_packages_say_to_install() {
        let tmp = tempfile::tempdir().unwrap();
        let err = locate(tmp.path(), None).unwrap_err();
        assert!(err.to_string().contains("npm install"), "{err}");
        assert!(err.to_string().contains("`convex`"), "{err}");

        let convex = tmp.path().join("node_modules/convex");
        std::fs::create_dir_all(&convex).unwrap();
        std::fs::write(convex.join("package.json"), r#"{"version":"1.48.0"}"#).unwrap();
        let err = locate(tmp.path(), None).unwrap_err();
        assert!(err.to_string().contains("`esbuild`"), "{err}");
        assert!(err.to_string().contains("npm install"), "{err}");

        let esbuild = tmp.path().join("node_modules/esbuild");
        std::fs::create_dir_all(esbuild.join("bin")).unwrap();
        std::fs::write(esbuild.join("package.json"), r#"{"version":"0.27.0"}"#).unwrap();
        std::fs::write(esbuild.join("bin/esbuild"), "#!/usr/bin/env node\n").unwrap();
        let err = locate(tmp.path(), None).unwrap_err();
        assert!(
            err.to_string().contains("binary for this platform"),
            "{err}"
        );
    }
}
