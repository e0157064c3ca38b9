//! File watching for `convex dev`: what a push looked at, and waiting until
//! one of those things changes.
//!
//! After each push, [`Observations::record`] notes the state of what the push
//! read: each file's identity and size and modification time (or that it was
//! missing), and the listing of each directory of the functions tree. A
//! [`FileWatcher`] (the `notify` crate: inotify, FSEvents, ...) watches those
//! directories and the parents of those files; an event matters only when it
//! *overlaps* the observations, as in the official CLI:
//!
//! - a path observed as a file whose state now differs (so `touch` counts),
//!   or observed as missing and now present;
//! - a name that appeared in, or disappeared from, a listed directory (a new
//!   `convex/notes.txt` counts even though it is not a module).
//!
//! Anything else (an unrelated `README.md`, a file the functions do not
//! import) is ignored. `node_modules`, `_generated` and `.git` are never
//! observed: generated files are written by the push itself, and installs
//! would otherwise trigger pushes by the thousand.
//!
//! [`FileWatcher::wait_for_change`] returns once an overlapping event has
//! been followed by a quiet period (the debounce), so an editor's burst of
//! writes becomes one push.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};
use notify::Watcher as _;

/// Folder names that are never observed or listed.
const IGNORED_NAMES: [&str; 3] = ["node_modules", "_generated", ".git"];

/// Whether a path lies in (or is) an ignored folder.
pub fn is_ignored(path: &Path) -> bool {
    path.components().any(|c| match c {
        Component::Normal(name) => IGNORED_NAMES.iter().any(|n| name == *n),
        _ => false,
    })
}

/// What identifies one version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileState {
    is_dir: bool,
    /// Which file it is, whatever its name: device and inode on Unix,
    /// volume serial number and file index on Windows.
    identity: (u64, u64),
    size: u64,
    modified: Option<SystemTime>,
}

impl FileState {
    fn read(path: &Path) -> Option<FileState> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        // The metadata std gives on Windows has no file index: ask for it.
        // A file gone since is a file gone.
        #[cfg(windows)]
        let identity = {
            let (volume, index) = crate::win::file_identity(path)?;
            (u64::from(volume), index)
        };
        Some(FileState {
            is_dir: meta.is_dir(),
            identity,
            size: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Observed {
    /// A file (or a directory read as a whole) in this state.
    File(FileState),
    /// Looked for and not found.
    Missing,
    /// A directory and its entries (ignored names left out).
    Listing(BTreeSet<OsString>),
}

/// The state of everything one push read (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observations {
    entries: BTreeMap<PathBuf, Observed>,
}

/// Absolute path with `.`/`..` removed and symbolic links in the folder part
/// resolved, so event paths and observed paths compare equal.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = dunce::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical(parent).join(name)
        }
        _ => path.to_path_buf(),
    }
}

fn listing(dir: &Path) -> Option<(BTreeSet<OsString>, Vec<PathBuf>)> {
    let mut names = BTreeSet::new();
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        if IGNORED_NAMES.iter().any(|n| name == *n) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            subdirs.push(entry.path());
        }
        names.insert(name);
    }
    Some((names, subdirs))
}

impl Observations {
    /// Record the current state of `files` (each a file, possibly missing)
    /// and of the directory trees under `trees` (every folder listed, every
    /// file noted). Ignored paths are skipped.
    pub fn record<F, T>(files: F, trees: T) -> Observations
    where
        F: IntoIterator<Item = PathBuf>,
        T: IntoIterator<Item = PathBuf>,
    {
        let mut entries = BTreeMap::new();
        let mut pending: Vec<PathBuf> = trees
            .into_iter()
            .filter(|p| !is_ignored(p))
            .map(|p| canonical(&p))
            .collect();
        while let Some(dir) = pending.pop() {
            if entries.contains_key(&dir) {
                continue;
            }
            match listing(&dir) {
                Some((names, subdirs)) => {
                    for name in &names {
                        let path = dir.join(name);
                        if let Some(state) = FileState::read(&path)
                            && !state.is_dir
                        {
                            entries.insert(path, Observed::File(state));
                        }
                    }
                    pending.extend(subdirs);
                    entries.insert(dir, Observed::Listing(names));
                }
                None => {
                    entries.insert(dir, Observed::Missing);
                }
            }
        }
        for file in files {
            if is_ignored(&file) {
                continue;
            }
            let file = canonical(&file);
            if entries.contains_key(&file) {
                continue;
            }
            let observed = match FileState::read(&file) {
                Some(state) => Observed::File(state),
                None => Observed::Missing,
            };
            entries.insert(file, observed);
        }
        Observations { entries }
    }

    /// Number of observed paths.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Why an event on `path` should trigger a push, or `None`.
    pub fn overlaps(&self, path: &Path) -> Option<&'static str> {
        let path = canonical(path);
        if let Some(observed) = self.entries.get(&path) {
            let now = FileState::read(&path);
            match (observed, now) {
                (Observed::File(before), Some(now)) if *before != now => {
                    return Some("modified");
                }
                (Observed::File(_), None) => return Some("deleted"),
                (Observed::Missing, Some(_)) => return Some("created"),
                _ => {}
            }
        }
        let parent = path.parent()?;
        let name = path.file_name()?;
        if let Some(Observed::Listing(names)) = self.entries.get(parent) {
            if is_ignored(&path) {
                return None;
            }
            let listed = names.contains(name);
            let exists = std::fs::symlink_metadata(&path).is_ok();
            if exists && !listed {
                return Some("added to an observed folder");
            }
            if !exists && listed {
                return Some("removed from an observed folder");
            }
        }
        None
    }

    /// A path observed in both `self` and `earlier` whose state differs:
    /// something changed between the two recordings.
    pub fn first_difference(&self, earlier: &Observations) -> Option<&Path> {
        self.entries
            .iter()
            .find(|(path, observed)| {
                earlier
                    .entries
                    .get(*path)
                    .is_some_and(|before| before != *observed)
            })
            .map(|(p, _)| p.as_path())
    }

    /// An observed file modified at or after `time` (a change made while a
    /// push that started at `time` was reading).
    pub fn modified_since(&self, time: SystemTime) -> Option<&Path> {
        self.entries
            .iter()
            .find(|(_, observed)| match observed {
                Observed::File(state) => state.modified.is_some_and(|m| m >= time),
                _ => false,
            })
            .map(|(p, _)| p.as_path())
    }

    /// The directories to watch: listed ones and the parents of files.
    pub fn watch_dirs(&self) -> BTreeSet<PathBuf> {
        let mut dirs = BTreeSet::new();
        for (path, observed) in &self.entries {
            match observed {
                Observed::Listing(_) => {
                    dirs.insert(path.clone());
                }
                _ => {
                    if let Some(parent) = path.parent() {
                        dirs.insert(parent.to_path_buf());
                    }
                }
            }
        }
        dirs
    }
}

/// Watches the folders of the latest [`Observations`].
pub struct FileWatcher {
    watcher: notify::RecommendedWatcher,
    events: tokio::sync::mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    watched: BTreeSet<PathBuf>,
}

/// Progress notes of [`FileWatcher::wait_for_change`] (`--trace-events`).
pub type Trace<'a> = Option<&'a dyn Fn(&str)>;

impl FileWatcher {
    pub fn new() -> Result<FileWatcher> {
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .context("Could not start watching files")?;
        Ok(FileWatcher {
            watcher,
            events,
            watched: BTreeSet::new(),
        })
    }

    /// Watch the folders `observations` needs, stop watching the others.
    pub fn update(&mut self, observations: &Observations) {
        let wanted = observations.watch_dirs();
        for gone in self.watched.difference(&wanted) {
            let _ = self.watcher.unwatch(gone);
        }
        // Watch again even what is already watched: a folder deleted and
        // created again since needs a new watch.
        let mut watched = BTreeSet::new();
        for dir in wanted {
            if self
                .watcher
                .watch(&dir, notify::RecursiveMode::NonRecursive)
                .is_ok()
            {
                watched.insert(dir);
            }
        }
        self.watched = watched;
    }

    /// Folders currently watched.
    pub fn watched(&self) -> &BTreeSet<PathBuf> {
        &self.watched
    }

    fn paths_of(event: notify::Result<notify::Event>, out: &mut Vec<PathBuf>) {
        // An error (e.g. a queue overflow) carries no path; the next push's
        // before/after comparison still catches real changes.
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            out.extend(event.paths);
        }
    }

    /// Paths of the events already received.
    pub fn drain(&mut self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            Self::paths_of(event, &mut out);
        }
        out
    }

    /// Wait for events; returns their paths (at least one event's worth).
    async fn next_paths(&mut self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        while out.is_empty() {
            match self.events.recv().await {
                Some(event) => Self::paths_of(event, &mut out),
                None => std::future::pending::<()>().await,
            }
            out.extend(self.drain());
        }
        out
    }

    /// Wait until an event overlaps `observations`, then until no further
    /// overlapping event arrives for `quiet`. Events already queued (e.g.
    /// during the push the observations come from) count.
    pub async fn wait_for_change(
        &mut self,
        observations: &Observations,
        quiet: Duration,
        trace: Trace<'_>,
    ) {
        self.wait_for_overlap(observations, trace).await;
        self.wait_for_quiet(observations, quiet, trace).await;
    }

    /// Wait until an event overlaps `observations` (events already queued
    /// count).
    pub async fn wait_for_overlap(&mut self, observations: &Observations, trace: Trace<'_>) {
        loop {
            for path in self.next_paths().await {
                if let Some(t) = trace {
                    t(&format!("Processing {}", path.display()));
                }
                if let Some(reason) = observations.overlaps(&path) {
                    if let Some(t) = trace {
                        t(&format!("{} {reason}, rebuilding...", path.display()));
                    }
                    return;
                }
            }
        }
    }

    /// Wait until no event overlapping `observations` has arrived for
    /// `quiet`.
    pub async fn wait_for_quiet(
        &mut self,
        observations: &Observations,
        quiet: Duration,
        trace: Trace<'_>,
    ) {
        let mut deadline = tokio::time::Instant::now() + quiet;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                () = self.next_overlap(observations) => {
                    if let Some(t) = trace {
                        t("Received an overlapping event, delaying push.");
                    }
                    deadline = tokio::time::Instant::now() + quiet;
                }
            }
        }
    }

    /// Wait for the next event that overlaps `observations`. Cancel-safe:
    /// dropping it loses no event that overlaps.
    pub async fn next_overlap(&mut self, observations: &Observations) {
        loop {
            let paths = self.next_paths().await;
            if paths.iter().any(|p| observations.overlaps(p).is_some()) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch_later(path: &Path) {
        // Make sure the modification time moves even on coarse clocks.
        let meta = fs::metadata(path).unwrap();
        let later = meta.modified().unwrap() + Duration::from_secs(2);
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(later).unwrap();
    }

    #[test]
    fn overlap_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let convex = root.join("convex");
        fs::create_dir_all(convex.join("_generated")).unwrap();
        fs::create_dir_all(convex.join("sub")).unwrap();
        fs::write(convex.join("a.ts"), "a").unwrap();
        fs::write(convex.join("sub/b.ts"), "b").unwrap();
        fs::write(root.join("package.json"), "{}").unwrap();
        fs::write(root.join("README.md"), "readme").unwrap();

        let obs = Observations::record(
            [root.join("package.json"), root.join("convex.json")],
            [convex.clone()],
        );
        assert!(obs.overlaps(&convex.join("a.ts")).is_none());
        assert!(obs.overlaps(&root.join("README.md")).is_none());

        touch_later(&convex.join("a.ts"));
        assert_eq!(obs.overlaps(&convex.join("a.ts")), Some("modified"));
        fs::write(convex.join("sub/b.ts"), "bigger").unwrap();
        assert_eq!(obs.overlaps(&convex.join("sub/b.ts")), Some("modified"));
        fs::write(convex.join("notes.txt"), "x").unwrap();
        assert_eq!(
            obs.overlaps(&convex.join("notes.txt")),
            Some("added to an observed folder")
        );
        fs::write(root.join("convex.json"), "{}").unwrap();
        assert_eq!(obs.overlaps(&root.join("convex.json")), Some("created"));
        fs::write(root.join("other.txt"), "x").unwrap();
        assert!(obs.overlaps(&root.join("other.txt")).is_none());
        fs::write(convex.join("_generated/api.js"), "x").unwrap();
        assert!(obs.overlaps(&convex.join("_generated/api.js")).is_none());
        fs::remove_file(convex.join("sub/b.ts")).unwrap();
        assert_eq!(obs.overlaps(&convex.join("sub/b.ts")), Some("deleted"));
    }

    #[test]
    fn differences_between_recordings() {
        let tmp = tempfile::tempdir().unwrap();
        let convex = tmp.path().join("convex");
        fs::create_dir_all(&convex).unwrap();
        fs::write(convex.join("a.ts"), "a").unwrap();
        let before = Observations::record([], [convex.clone()]);
        let same = Observations::record([], [convex.clone()]);
        assert_eq!(same.first_difference(&before), None);
        fs::write(convex.join("b.ts"), "b").unwrap();
        let after = Observations::record([], [convex.clone()]);
        assert_eq!(
            after.first_difference(&before),
            Some(canonical(&convex).as_path())
        );
        let start = SystemTime::now() + Duration::from_secs(1);
        assert!(after.modified_since(start).is_none());
        touch_later(&convex.join("a.ts"));
        let touched = Observations::record([], [convex.clone()]);
        assert!(touched.modified_since(start).is_some());
    }

    #[test]
    fn ignored_paths() {
        assert!(is_ignored(Path::new("/p/node_modules/convex/x.js")));
        assert!(is_ignored(Path::new("/p/convex/_generated/api.js")));
        assert!(!is_ignored(Path::new("/p/convex/generated.ts")));
    }

    #[tokio::test]
    async fn a_burst_of_saves_is_one_change() {
        let tmp = tempfile::tempdir().unwrap();
        let convex = tmp.path().join("convex");
        fs::create_dir_all(&convex).unwrap();
        fs::write(convex.join("a.ts"), "a").unwrap();
        let obs = Observations::record([], [convex.clone()]);
        let mut watcher = FileWatcher::new().unwrap();
        watcher.update(&obs);
        assert!(watcher.watched().contains(&canonical(&convex)));

        // Unrelated: nothing happens.
        let waited = tokio::time::timeout(
            Duration::from_millis(300),
            watcher.wait_for_change(&obs, Duration::from_millis(30), None),
        );
        fs::write(tmp.path().join("elsewhere.txt"), "x").unwrap();
        assert!(waited.await.is_err());

        let file = convex.join("a.ts");
        let writer = tokio::spawn(async move {
            for i in 0..5 {
                fs::write(&file, format!("edit {i}")).unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let started = std::time::Instant::now();
        tokio::time::timeout(
            Duration::from_secs(10),
            watcher.wait_for_change(&obs, Duration::from_millis(60), None),
        )
        .await
        .expect("the edit is seen");
        writer.await.unwrap();
        // The quiet period ran after the last write of the burst.
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Nothing of the burst is left to trigger a second push.
        let obs = Observations::record([], [convex.clone()]);
        watcher.drain();
        let again = tokio::time::timeout(
            Duration::from_millis(200),
            watcher.wait_for_change(&obs, Duration::from_millis(30), None),
        );
        assert!(again.await.is_err());
    }
}
