//! Writing generated files: only when the bytes change, atomically, or
//! reported instead of written (`--dry-run`, `--debug`).

use anyhow::{Context as _, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::GeneratedFile;

/// What to do with generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Write files whose contents changed.
    #[default]
    Write,
    /// Write nothing; print `Command would write file: <path>` on stdout for
    /// each file whose contents would change (and the deletions cleanup
    /// would make).
    DryRun,
    /// Write nothing; print `# <path>` and the contents of every file on stdout.
    Debug,
}

/// Where codegen reports: data (`--dry-run` / `--debug` listings) goes to
/// `stdout`, notes for the user to `stderr`.
pub struct Output<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

impl Output<'_> {
    /// Runs `f` with the process's stdout and stderr (locked per write, so
    /// a spinner on another thread is not held up).
    pub fn with_std<T>(f: impl FnOnce(&mut Output<'_>) -> T) -> T {
        let mut stdout = std::io::stdout();
        let mut stderr = std::io::stderr();
        f(&mut Output {
            stdout: &mut stdout,
            stderr: &mut stderr,
        })
    }

    pub(super) fn note(&mut self, message: &str) {
        // A closed stderr is no reason to fail codegen.
        let _ = writeln!(self.stderr, "{message}");
    }

    fn data(&mut self, text: &str) -> Result<()> {
        self.stdout
            .write_all(text.as_bytes())
            .context("could not write to stdout")
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path` already holds exactly `contents`.
fn unchanged(path: &Path, contents: &str) -> Result<bool> {
    match std::fs::read(path) {
        Ok(existing) => Ok(existing == contents.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Writes `files` into `dir` per `mode`. Returns the paths whose contents
/// changed (or would change). Unchanged files are not touched at all, so
/// their inode and mtime stay as they were.
pub fn write_files(
    dir: &Path,
    files: &[GeneratedFile],
    mode: WriteMode,
    out: &mut Output<'_>,
) -> Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for file in files {
        let path = absolute(&dir.join(&file.name));
        if mode == WriteMode::Debug {
            out.data(&format!("# {}\n{}\n", path.display(), file.contents))?;
            continue;
        }
        if unchanged(&path, &file.contents)? {
            continue;
        }
        if mode == WriteMode::DryRun {
            out.data(&format!("Command would write file: {}\n", path.display()))?;
        } else {
            write_atomically(&path, file.contents.as_bytes())?;
        }
        changed.push(path);
    }
    Ok(changed)
}

/// Writes through a temporary file in the same directory, renamed over the
/// target, so a reader (or an interrupted run) never sees half a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("{} has no parent directory", path.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".convex-codegen-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("could not create a temporary file in {}", dir.display()))?;
    temp.write_all(contents)
        .with_context(|| format!("could not write {}", temp.path().display()))?;
    #[cfg(unix)]
    {
        // Generated sources are ordinary files (tempfile creates them 0600).
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("could not set permissions on {}", temp.path().display()))?;
    }
    crate::fsutil::replace_with(temp, path)
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// Entries of `_generated/` the reference never deletes.
const PRESERVED: &[&str] = &["ai"];

/// Deletes every entry of `generated` that is not in `keep` (recursively),
/// except `ai/`. In dry-run mode the deletions are listed instead; in debug
/// mode nothing happens.
pub fn remove_stale_entries(
    generated: &Path,
    keep: &[String],
    mode: WriteMode,
    out: &mut Output<'_>,
) -> Result<()> {
    if mode == WriteMode::Debug {
        return Ok(());
    }
    let entries = match std::fs::read_dir(generated) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("could not list {}", generated.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if PRESERVED.contains(&name.as_str()) || keep.contains(&name) {
            continue;
        }
        remove_recursively(&absolute(&generated.join(&name)), mode, out)?;
    }
    Ok(())
}

fn remove_recursively(path: &Path, mode: WriteMode, out: &mut Output<'_>) -> Result<()> {
    let metadata = std::fs::symlink_metadata(path)
        .with_context(|| format!("could not inspect {}", path.display()))?;
    if metadata.is_dir() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("could not list {}", path.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        children.sort();
        for child in children {
            remove_recursively(&child, mode, out)?;
        }
        if mode == WriteMode::DryRun {
            return out.data(&format!(
                "Command would delete directory: {}\n",
                path.display()
            ));
        }
        ignore_missing(std::fs::remove_dir(path))
            .with_context(|| format!("could not delete {}", path.display()))
    } else {
        if mode == WriteMode::DryRun {
            return out.data(&format!("Command would delete file: {}\n", path.display()));
        }
        ignore_missing(std::fs::remove_file(path))
            .with_context(|| format!("could not delete {}", path.display()))
    }
}

fn ignore_missing(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which file it is (inode; volume and file index on Windows).
    fn identity(path: &Path) -> (u64, u64) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(path).unwrap();
            (meta.dev(), meta.ino())
        }
        #[cfg(windows)]
        {
            let (volume, index) = crate::win::file_identity(path).unwrap();
            (u64::from(volume), index)
        }
    }

    fn run<T>(f: impl FnOnce(&mut Output<'_>) -> T) -> (T, String) {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let result = f(&mut Output {
            stdout: &mut stdout,
            stderr: &mut stderr,
        });
        (result, String::from_utf8(stdout).unwrap())
    }

    fn generated(name: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            name: name.to_string(),
            contents: contents.to_string(),
        }
    }

    #[test]
    fn unchanged_files_keep_their_inode_and_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let files = [generated("a.ts", "one\n"), generated("b.ts", "two\n")];
        let (changed, _) = run(|out| write_files(dir.path(), &files, WriteMode::Write, out));
        assert_eq!(changed.unwrap().len(), 2);
        let before = std::fs::metadata(dir.path().join("a.ts")).unwrap();
        let before_identity = identity(&dir.path().join("a.ts"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let files = [generated("a.ts", "one\n"), generated("b.ts", "TWO\n")];
        let (changed, _) = run(|out| write_files(dir.path(), &files, WriteMode::Write, out));
        assert_eq!(changed.unwrap(), vec![absolute(&dir.path().join("b.ts"))]);
        let after = std::fs::metadata(dir.path().join("a.ts")).unwrap();
        assert_eq!(before_identity, identity(&dir.path().join("a.ts")));
        assert_eq!(before.modified().unwrap(), after.modified().unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.ts")).unwrap(),
            "TWO\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(after.mode() & 0o777, 0o644);
        }
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn dry_run_lists_changes_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("same.ts"), "x\n").unwrap();
        let files = [generated("same.ts", "x\n"), generated("new.ts", "y\n")];
        let (_, stdout) =
            run(|out| write_files(dir.path(), &files, WriteMode::DryRun, out).unwrap());
        assert_eq!(
            stdout,
            format!(
                "Command would write file: {}\n",
                dir.path().join("new.ts").display()
            )
        );
        assert!(!dir.path().join("new.ts").exists());
    }

    #[test]
    fn debug_prints_every_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("same.ts"), "x\n").unwrap();
        let files = [generated("same.ts", "x\n")];
        let (_, stdout) =
            run(|out| write_files(dir.path(), &files, WriteMode::Debug, out).unwrap());
        assert_eq!(
            stdout,
            format!("# {}\nx\n\n", dir.path().join("same.ts").display())
        );
    }

    #[test]
    fn stale_entries_go_except_kept_ones_and_ai() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path();
        std::fs::write(g.join("api.js"), "").unwrap();
        std::fs::write(g.join("junk.txt"), "").unwrap();
        std::fs::create_dir_all(g.join("old/deeper")).unwrap();
        std::fs::write(g.join("old/deeper/x"), "").unwrap();
        std::fs::create_dir(g.join("ai")).unwrap();
        std::fs::write(g.join("ai/notes.md"), "").unwrap();
        let keep = vec!["api.js".to_string()];
        let (_, stdout) =
            run(|out| remove_stale_entries(g, &keep, WriteMode::DryRun, out).unwrap());
        assert_eq!(
            stdout,
            format!(
                "Command would delete file: {0}/junk.txt\nCommand would delete file: {0}/old/deeper/x\nCommand would delete directory: {0}/old/deeper\nCommand would delete directory: {0}/old\n",
                g.display()
            )
        );
        assert!(g.join("junk.txt").exists());
        run(|out| remove_stale_entries(g, &keep, WriteMode::Write, out).unwrap());
        let mut left: Vec<String> = std::fs::read_dir(g)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["ai", "api.js"]);
        assert!(g.join("ai/notes.md").exists());
    }
}
