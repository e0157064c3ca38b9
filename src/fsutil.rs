//! Small file helpers shared by every module that writes user files.

use std::io::Write;
use std::path::Path;

/// Write `contents` to `path` atomically: a temporary file in the same folder,
/// flushed, then renamed over the target, so a crash or a full disk never
/// leaves a half-written file.
///
/// `mode`: the permissions of the new file (Unix). `None` keeps the mode of an
/// existing file, or uses the default (0666 minus umask) for a new one. On
/// Windows a file's access comes from its folder's access list, which the new
/// file inherits as the old one did (a private folder such as the user's
/// profile stays private); `mode` has no meaning there.
pub fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    // Write through a symlink (e.g. a shared `.env.local`) instead of
    // replacing the link with a regular file.
    let resolved;
    let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = dunce::canonicalize(path)?;
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
    #[cfg(windows)]
    {
        let _ = mode;
        if existing_permissions.is_some_and(|p| p.readonly()) {
            // Unix replaces a read-only file (the folder's permissions
            // decide); Windows refuses to, so say why rather than "access
            // denied".
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is read-only; clear its read-only attribute and try again",
                    path.display()
                ),
            ));
        }
    }
    replace_with(tmp, path)
}

/// Renames the temporary file `tmp` over `path` (replacing it atomically).
///
/// On Windows the rename fails while another process holds `path` open
/// without sharing deletion: an editor, a virus scanner or the search indexer
/// reading the file that was just written. Those hold it for milliseconds, so
/// the rename is tried again for about two seconds before the error is
/// returned. (Unix replaces an open file without waiting.)
pub fn replace_with(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let mut tmp = tmp;
        let mut delay = std::time::Duration::from_millis(5);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match tmp.persist(path) {
                Ok(_) => return Ok(()),
                Err(e) if is_transient_lock(&e.error) && std::time::Instant::now() < deadline => {
                    tmp = e.file;
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(std::time::Duration::from_millis(200));
                }
                Err(e) => return Err(e.error),
            }
        }
    }
    #[cfg(not(windows))]
    {
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Access denied, sharing or lock violation: another process has the file
/// open for now.
#[cfg(windows)]
fn is_transient_lock(err: &std::io::Error) -> bool {
    // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION.
    matches!(err.raw_os_error(), Some(5 | 32 | 33))
}

/// Create a folder (and missing parents) readable only by the user (0700 on
/// Unix; on Windows it inherits its parent's access list, which for the
/// user's profile means the user, administrators and the system). An
/// existing folder is left as it is.
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
