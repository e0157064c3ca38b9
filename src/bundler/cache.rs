//! Reuse of esbuild builds whose inputs did not change.
//!
//! Every build of a push (component discovery, definitions, schema, isolate
//! and Node.js functions, auth config) is looked up by a key made of
//! everything that is not a file: the esbuild binary and its version, this
//! CLI's version, the working folder, the entry points, every flag, and the
//! configuration of every plugin (externals, virtual modules, component
//! imports). An entry for that key is used only when its [`Fingerprint`]
//! still holds: every file the build read (the metafile's inputs, `.wasm`
//! files included) has the same bytes, and nothing that could change module
//! resolution changed (see `fingerprint.rs`). Builds that printed warnings
//! or failed are not stored, so their messages show every time.
//!
//! Entries live in memory for the whole run (`dev` reuses them between
//! pushes; at most [`MEMORY_LIMIT_BYTES`] of them, the least recently used
//! dropped first) and, when a folder is given, on disk across runs:
//! `<cache>/build-cache/<key>.entry`, one file per key (the newest build),
//! a checksum line then JSON. An entry that does not parse, fails its
//! checksum, or belongs to another key or format is ignored and replaced.
//! The folder is kept under [`DISK_LIMIT_BYTES`] by removing the entries used
//! least recently.

use super::fingerprint::{Fingerprint, Memo, hex, sha256_hex};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bump when the entry layout or what goes into keys changes.
const FORMAT: u32 = 1;

/// Upper bound of the on-disk cache (oldest entries go first).
pub const DISK_LIMIT_BYTES: u64 = 96 * 1024 * 1024;

/// Upper bound of the entries kept in memory (their outputs and
/// metafiles): a long `dev` session whose entry points change keeps making
/// new keys. The entry in use always stays; dropped ones are read from disk
/// again when needed.
pub const MEMORY_LIMIT_BYTES: usize = 8 * 1024 * 1024;

const MAGIC: &str = "convex-build-cache";

/// One cached build.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    format: u32,
    key: String,
    pub fingerprint: Fingerprint,
    /// `(absolute path, text)` of each output file, in esbuild's order.
    pub outputs: Vec<(PathBuf, String)>,
    /// The metafile's JSON text.
    pub metafile: String,
    /// What plugins recorded during the build (the externals plugin's list).
    pub state: serde_json::Value,
}

/// A builder of cache keys: feed it everything that is not a file.
pub(crate) struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new() -> KeyBuilder {
        let mut hasher = Sha256::new();
        hasher.update(MAGIC.as_bytes());
        hasher.update(FORMAT.to_le_bytes());
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        KeyBuilder(hasher)
    }

    pub fn add(&mut self, part: &str) -> &mut Self {
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part.as_bytes());
        self
    }

    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

impl Entry {
    /// About what it takes in memory.
    fn size(&self) -> usize {
        let outputs: usize = self
            .outputs
            .iter()
            .map(|(path, text)| path.as_os_str().len() + text.len())
            .sum();
        outputs
            + self.metafile.len()
            + 64 * (self.fingerprint.files.len() + self.fingerprint.dirs.len())
    }
}

/// The entries kept in memory, with when each was last used.
#[derive(Debug, Default)]
struct Memory {
    entries: HashMap<String, (Arc<Entry>, u64)>,
    clock: u64,
    bytes: usize,
}

impl Memory {
    fn get(&mut self, key: &str) -> Option<Arc<Entry>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(entry, used)| {
            *used = clock;
            entry.clone()
        })
    }

    /// Keeps `entry` under `key`, then drops the least recently used others
    /// while the whole is over `limit`.
    fn insert(&mut self, key: &str, entry: Arc<Entry>, limit: usize) {
        self.clock += 1;
        self.bytes += entry.size();
        if let Some((old, _)) = self.entries.insert(key.to_string(), (entry, self.clock)) {
            self.bytes = self.bytes.saturating_sub(old.size());
        }
        while self.bytes > limit && self.entries.len() > 1 {
            let Some(oldest) = self
                .entries
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((gone, _)) = self.entries.remove(&oldest) {
                self.bytes = self.bytes.saturating_sub(gone.size());
            }
        }
    }
}

/// The cache of one run (see the module docs).
#[derive(Debug)]
pub struct BuildCache {
    dir: Option<PathBuf>,
    memory: Mutex<Memory>,
    memory_limit: usize,
    limit: u64,
    hits: AtomicU64,
}

impl BuildCache {
    /// A cache kept in memory only.
    pub fn in_memory() -> BuildCache {
        BuildCache {
            dir: None,
            memory: Mutex::new(Memory::default()),
            memory_limit: MEMORY_LIMIT_BYTES,
            limit: 0,
            hits: AtomicU64::new(0),
        }
    }

    /// A cache also kept on disk in `dir` (created when first written).
    pub fn on_disk(dir: PathBuf) -> BuildCache {
        BuildCache::on_disk_with_limit(dir, DISK_LIMIT_BYTES)
    }

    #[doc(hidden)]
    pub fn on_disk_with_limit(dir: PathBuf, limit: u64) -> BuildCache {
        BuildCache {
            dir: Some(dir),
            memory: Mutex::new(Memory::default()),
            memory_limit: MEMORY_LIMIT_BYTES,
            limit,
            hits: AtomicU64::new(0),
        }
    }

    /// How many builds were reused so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn entry_path(&self, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{key}.entry")))
    }

    /// The entry for `key` whose fingerprint still holds.
    pub(crate) fn lookup(&self, key: &str, memo: &mut Memo) -> Option<Arc<Entry>> {
        let in_memory = self.memory.lock().ok()?.get(key);
        if let Some(entry) = in_memory {
            if entry.fingerprint.still_holds(memo) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Some(entry);
            }
            return None;
        }
        let path = self.entry_path(key)?;
        let entry = read_entry(&path, key)?;
        if !entry.fingerprint.still_holds(memo) {
            return None;
        }
        // Used now: the eviction keeps the most recently used entries.
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        let entry = Arc::new(entry);
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(key, entry.clone(), self.memory_limit);
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry)
    }

    /// Stores a build (in memory, and on disk when there is a folder).
    /// Failures to write are ignored: the cache is an optimisation.
    pub(crate) fn store(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        outputs: Vec<(PathBuf, String)>,
        metafile: String,
        state: serde_json::Value,
    ) {
        let entry = Arc::new(Entry {
            format: FORMAT,
            key: key.to_string(),
            fingerprint,
            outputs,
            metafile,
            state,
        });
        if let Some(path) = self.entry_path(key) {
            if let Err(err) = write_entry(&path, &entry) {
                crate::output::verbose(&format!(
                    "Could not write the build cache entry {}: {err}",
                    path.display()
                ));
            } else if let Some(dir) = &self.dir {
                evict(dir, self.limit, &path);
            }
        }
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(key, entry, self.memory_limit);
        }
    }
}

fn read_entry(path: &Path, key: &str) -> Option<Entry> {
    let bytes = std::fs::read(path).ok()?;
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..newline]).ok()?;
    let body = &bytes[newline + 1..];
    let mut parts = header.split(' ');
    let valid = parts.next() == Some(MAGIC)
        && parts.next() == Some(FORMAT.to_string().as_str())
        && parts.next() == Some(sha256_hex(body).as_str());
    if !valid {
        return None;
    }
    let entry: Entry = serde_json::from_slice(body).ok()?;
    (entry.format == FORMAT && entry.key == key && entry.fingerprint.is_well_formed())
        .then_some(entry)
}

fn write_entry(path: &Path, entry: &Entry) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let body = serde_json::to_vec(entry)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    writeln!(tmp, "{MAGIC} {FORMAT} {}", sha256_hex(&body))?;
    tmp.write_all(&body)?;
    // No fsync: a torn entry fails its checksum and is rebuilt.
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes the least recently used entries (and stray temporary files)
/// until the folder holds at most `limit` bytes.
fn evict(dir: &Path, limit: u64, keep: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    let now = std::time::SystemTime::now();
    for item in read.flatten() {
        let path = item.path();
        let Ok(meta) = item.metadata() else {
            continue;
        };
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let name = item.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".tmp-") {
            // Left by a run that died while writing.
            if now
                .duration_since(modified)
                .is_ok_and(|age| age.as_secs() > 3600)
            {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if name.ends_with(".entry") && path != keep {
            entries.push((modified, meta.len(), path));
        }
    }
    let kept = std::fs::metadata(keep).map_or(0, |m| m.len());
    let mut total: u64 = entries.iter().map(|e| e.1).sum::<u64>() + kept;
    if total <= limit {
        return;
    }
    entries.sort();
    for (_, size, path) in entries {
        if total <= limit {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> String {
        let mut k = KeyBuilder::new();
        k.add(&n.to_string());
        k.finish()
    }

    #[test]
    fn keys_separate_their_parts() {
        let mut a = KeyBuilder::new();
        a.add("ab").add("c");
        let mut b = KeyBuilder::new();
        b.add("a").add("bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn entries_round_trip_and_bad_ones_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_tmp = tempfile::tempdir().unwrap();
        let dir = cache_tmp.path().join("cache");
        let input = tmp.path().join("a.ts");
        std::fs::write(&input, "1").unwrap();
        let root = tmp.path().to_path_buf();
        let fingerprint =
            Fingerprint::capture(std::slice::from_ref(&input), &root, &mut Memo::default());
        let cache = BuildCache::on_disk(dir.clone());
        cache.store(
            &key(1),
            fingerprint.clone(),
            vec![(PathBuf::from("/out/a.js"), "x".into())],
            "{}".into(),
            serde_json::Value::Null,
        );
        // A second run reads it from disk.
        let fresh = BuildCache::on_disk(dir.clone());
        let hit = fresh.lookup(&key(1), &mut Memo::default()).unwrap();
        assert_eq!(hit.outputs[0].1, "x");
        // A changed input misses.
        std::fs::write(&input, "2").unwrap();
        assert!(
            BuildCache::on_disk(dir.clone())
                .lookup(&key(1), &mut Memo::default())
                .is_none()
        );
        std::fs::write(&input, "1").unwrap();
        // Corrupt, truncated and foreign entries miss.
        let path = dir.join(format!("{}.entry", key(1)));
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(
            BuildCache::on_disk(dir.clone())
                .lookup(&key(1), &mut Memo::default())
                .is_none()
        );
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert!(
            BuildCache::on_disk(dir.clone())
                .lookup(&key(1), &mut Memo::default())
                .is_none()
        );
        std::fs::write(dir.join(format!("{}.entry", key(2))), &good).unwrap();
        assert!(
            BuildCache::on_disk(dir.clone())
                .lookup(&key(2), &mut Memo::default())
                .is_none()
        );
        std::fs::write(&path, &good).unwrap();
        assert!(
            BuildCache::on_disk(dir)
                .lookup(&key(1), &mut Memo::default())
                .is_some()
        );
    }

    #[test]
    fn the_folder_stays_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let cache = BuildCache::on_disk_with_limit(dir.clone(), 10_000);
        for n in 0..20 {
            cache.store(
                &key(n),
                Fingerprint::default(),
                vec![(PathBuf::from("/o.js"), "y".repeat(2000))],
                "{}".into(),
                serde_json::Value::Null,
            );
        }
        let total: u64 = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(total <= 10_000, "{total}");
        // The newest entry is kept.
        assert!(dir.join(format!("{}.entry", key(19))).exists());
    }

    #[test]
    fn memory_stays_bounded_and_keeps_what_is_used() {
        let cache = BuildCache::in_memory();
        let store = |n: u32, size: usize| {
            cache.store(
                &key(n),
                Fingerprint::default(),
                vec![(PathBuf::from("/o.js"), "z".repeat(size))],
                "{}".into(),
                serde_json::Value::Null,
            )
        };
        let quarter = MEMORY_LIMIT_BYTES / 4;
        for n in 0..3 {
            store(n, quarter);
        }
        // 0 used last: 1 is the least recently used when room is needed.
        assert!(cache.lookup(&key(0), &mut Memo::default()).is_some());
        store(3, quarter);
        assert!(cache.lookup(&key(1), &mut Memo::default()).is_none());
        for n in [0, 2, 3] {
            assert!(cache.lookup(&key(n), &mut Memo::default()).is_some(), "{n}");
        }
        let memory = cache.memory.lock().unwrap();
        assert!(memory.bytes <= MEMORY_LIMIT_BYTES, "{}", memory.bytes);
        drop(memory);
        // One entry larger than the limit still stays (alone).
        store(5, MEMORY_LIMIT_BYTES + 1);
        assert!(cache.lookup(&key(5), &mut Memo::default()).is_some());
        assert_eq!(cache.memory.lock().unwrap().entries.len(), 1);
    }
}
