//! Small file helpers shared by every module that writes user files.

use std::io::Write;
use std::path::Path;

/// Write `contents` to `path` atomically: a temporary file in the same folder,
/// flushed, then renamed over the target, so a crash or a full disk never
/// leaves a half-written file.
///
/// `mode`: the permissions of the new file (Unix). `None` keeps the mode of an
/// existing file, or uses the default (0666 minus umask) for a new one.
pub fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    // Write through a symlink (e.g. a shared `.env.local`) instead of
    // replacing the link with a regular file.
    let resolved;
    let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = std::fs::canonicalize(path)?;
        resolved.as_path()
    } else {
        path
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let existing_permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(".convex-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match (mode, existing_permissions) {
            (Some(mode), _) => std::fs::Permissions::from_mode(mode),
            (None, Some(existing)) => existing,
            (None, None) => std::fs::Permissions::from_mode(0o666 & !current_umask()),
        };
        tmp.as_file().set_permissions(permissions)?;
    }
    #[cfg(not(unix))]
    {
        let _ = (mode, existing_permissions);
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Create a folder (and missing parents) readable only by the user (0700 on
/// Unix). An existing folder is left as it is.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // There is no way to read the umask without setting it; read it from
    // /proc where available, else assume the common 022.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if let Some(v) = line.strip_prefix("Umask:")
                && let Ok(mask) = u32::from_str_radix(v.trim(), 8)
            {
                return mask;
            }
        }
    }
    0o022
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        write_atomic(&path, b"one", None).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_atomic(&path, b"two", None).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_write_into_missing_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("f.txt");
        assert!(write_atomic(&path, b"x", None).is_err());
    }
}
