//! One long-lived esbuild process, spoken to through its stdin/stdout service
//! protocol (crate `esbuild_client`), and the plumbing that turns our Rust
//! plugins into esbuild plugin callbacks.
//!
//! The client library needs a current-thread tokio runtime, so the service
//! lives on its own thread ([`ServiceThread`]); callers on any runtime send it
//! jobs. Builds of one job run concurrently on that thread: each build gets a
//! unique key, and plugin callbacks are dispatched by that key.

use super::cache::{BuildCache, KeyBuilder};
use super::error::{BundleError, BundleResult};
use super::esbuild::EsbuildBinary;
use super::fingerprint::{Fingerprint, Memo};
use async_trait::async_trait;
use esbuild_client::protocol::{
    BuildPlugin, BuildRequest, Message, OnLoadSetupOptions, OnResolveSetupOptions, PartialMessage,
};
use esbuild_client::{
    EsbuildService, EsbuildServiceOptions, OnEndArgs, OnEndResult, OnLoadArgs, OnLoadResult,
    OnResolveArgs, OnResolveResult, OnStartArgs, OnStartResult, PluginHandler,
};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

pub(crate) type ResolveFn = Box<dyn Fn(&OnResolveArgs) -> anyhow::Result<Option<OnResolveResult>>>;
pub(crate) type LoadFn = Box<dyn Fn(&OnLoadArgs) -> anyhow::Result<Option<OnLoadResult>>>;

/// An esbuild plugin implemented in Rust. Filters are Go regular
/// expressions, evaluated by esbuild; an empty namespace means "any".
pub(crate) struct Plugin {
    pub name: &'static str,
    /// Everything the callbacks' behaviour depends on besides files (part
    /// of the build cache's key; see `cache.rs`).
    pub identity: String,
    pub on_resolve: Vec<(String, String, ResolveFn)>,
    pub on_load: Vec<(String, String, LoadFn)>,
}

impl Plugin {
    /// `identity` must describe every setting the callbacks close over: two
    /// plugins with the same name and identity must behave the same on the
    /// same files.
    pub fn new(name: &'static str, identity: impl Into<String>) -> Self {
        Plugin {
            name,
            identity: identity.into(),
            on_resolve: Vec::new(),
            on_load: Vec::new(),
        }
    }

    pub fn on_resolve(
        mut self,
        filter: &str,
        namespace: &str,
        f: impl Fn(&OnResolveArgs) -> anyhow::Result<Option<OnResolveResult>> + 'static,
    ) -> Self {
        self.on_resolve
            .push((filter.to_string(), namespace.to_string(), Box::new(f)));
        self
    }

    pub fn on_load(
        mut self,
        filter: &str,
        namespace: &str,
        f: impl Fn(&OnLoadArgs) -> anyhow::Result<Option<OnLoadResult>> + 'static,
    ) -> Self {
        self.on_load
            .push((filter.to_string(), namespace.to_string(), Box::new(f)));
        self
    }
}

/// The callbacks of one build, by the ids esbuild sends back.
struct PluginSet {
    resolve: HashMap<u32, (&'static str, ResolveFn)>,
    load: HashMap<u32, (&'static str, LoadFn)>,
}

impl PluginSet {
    /// Numbers every callback (in plugin order, as esbuild's JavaScript API
    /// does) and returns the protocol description plus the dispatch table.
    fn new(plugins: Vec<Plugin>) -> (Vec<BuildPlugin>, PluginSet) {
        let mut next_id = 0u32;
        let mut described = Vec::new();
        let mut set = PluginSet {
            resolve: HashMap::new(),
            load: HashMap::new(),
        };
        for plugin in plugins {
            let mut on_resolve = Vec::new();
            for (filter, namespace, f) in plugin.on_resolve {
                on_resolve.push(OnResolveSetupOptions {
                    id: next_id,
                    filter,
                    namespace,
                });
                set.resolve.insert(next_id, (plugin.name, f));
                next_id += 1;
            }
            let mut on_load = Vec::new();
            for (filter, namespace, f) in plugin.on_load {
                on_load.push(OnLoadSetupOptions {
                    id: next_id,
                    filter,
                    namespace,
                });
                set.load.insert(next_id, (plugin.name, f));
                next_id += 1;
            }
            described.push(BuildPlugin {
                name: plugin.name.to_string(),
                on_start: false,
                on_end: false,
                on_resolve,
                on_load,
            });
        }
        (described, set)
    }
}

fn plugin_error(plugin_name: &str, err: &anyhow::Error) -> Vec<PartialMessage> {
    vec![PartialMessage {
        plugin_name: plugin_name.to_string(),
        text: format!("{err:#}"),
        ..Default::default()
    }]
}

/// Dispatches esbuild's plugin requests to the [`PluginSet`] of the build
/// they belong to.
#[derive(Default)]
struct Dispatcher {
    builds: RefCell<HashMap<u32, Rc<PluginSet>>>,
}

impl Dispatcher {
    fn set(&self, key: u32) -> Option<Rc<PluginSet>> {
        self.builds.borrow().get(&key).cloned()
    }
}

#[async_trait(?Send)]
impl PluginHandler for Dispatcher {
    async fn on_resolve(&self, args: OnResolveArgs) -> anyhow::Result<Option<OnResolveResult>> {
        let Some(set) = self.set(args.key) else {
            return Ok(None);
        };
        for id in &args.ids {
            let Some((name, f)) = set.resolve.get(id) else {
                continue;
            };
            match f(&args) {
                Ok(Some(mut result)) => {
                    result.plugin_name = Some(name.to_string());
                    return Ok(Some(result));
                }
                Ok(None) => {}
                Err(err) => {
                    return Ok(Some(OnResolveResult {
                        plugin_name: Some(name.to_string()),
                        errors: Some(plugin_error(name, &err)),
                        ..Default::default()
                    }));
                }
            }
        }
        Ok(None)
    }

    async fn on_load(&self, args: OnLoadArgs) -> anyhow::Result<Option<OnLoadResult>> {
        let Some(set) = self.set(args.key) else {
            return Ok(None);
        };
        for id in &args.ids {
            let Some((name, f)) = set.load.get(id) else {
                continue;
            };
            match f(&args) {
                Ok(Some(mut result)) => {
                    result.plugin_name = Some(name.to_string());
                    return Ok(Some(result));
                }
                Ok(None) => {}
                Err(err) => {
                    return Ok(Some(OnLoadResult {
                        plugin_name: Some(name.to_string()),
                        errors: Some(plugin_error(name, &err)),
                        ..Default::default()
                    }));
                }
            }
        }
        Ok(None)
    }

    async fn on_start(&self, _args: OnStartArgs) -> anyhow::Result<Option<OnStartResult>> {
        Ok(None)
    }

    async fn on_end(&self, _args: OnEndArgs) -> anyhow::Result<Option<OnEndResult>> {
        Ok(None)
    }
}

/// What plugins record during a build that callers read afterwards (the
/// externals plugin's list of packages), saved with a cached build and put
/// back when it is reused.
pub(crate) trait BuildState {
    fn save(&self) -> Value;
    fn restore(&self, saved: &Value);
}

/// What to build: flags as esbuild's JavaScript API would send them.
pub(crate) struct BuildSpec {
    pub entries: Vec<String>,
    pub flags: Vec<String>,
    pub plugins: Vec<Plugin>,
    /// Plugin state to save and restore with a cached build.
    pub state: Option<Rc<dyn BuildState>>,
}

impl BuildSpec {
    pub fn new(entries: Vec<String>, flags: Vec<String>, plugins: Vec<Plugin>) -> BuildSpec {
        BuildSpec {
            entries,
            flags,
            plugins,
            state: None,
        }
    }
}

/// One output file, path absolute.
pub(crate) struct OutputFile {
    pub path: PathBuf,
    pub text: String,
}

/// A finished build.
pub(crate) struct BuildOutput {
    pub outputs: Vec<OutputFile>,
    /// The metafile, parsed (key order preserved).
    pub metafile: Value,
    pub warnings: Vec<Message>,
}

/// A build esbuild rejected. esbuild has already printed the messages.
pub(crate) struct BuildFailure {
    pub errors: Vec<Message>,
}

/// The esbuild process and the state needed to run builds on it.
pub(crate) struct Service {
    binary: EsbuildBinary,
    /// Started by the first build that is not in the cache.
    esbuild: tokio::sync::OnceCell<EsbuildService>,
    /// Why esbuild could not start (reported by every build after).
    start_error: RefCell<Option<BundleError>>,
    dispatcher: Arc<Dispatcher>,
    next_key: Cell<u32>,
    working_dir: PathBuf,
    /// Roughly how much esbuild has sent us (see [`RECYCLE_AFTER_BYTES`]).
    bytes_received: Cell<u64>,
    /// How many esbuild processes this thread has started (for tests).
    generation: u64,
    /// Set by [`ServiceThread::recycle_when_idle`].
    recycle_requested: Cell<bool>,
    cache: Option<Arc<BuildCache>>,
    /// File hashes computed during the current job.
    memo: RefCell<Memo>,
    /// How an esbuild started during the current job runs.
    next_start: Cell<EsbuildStart>,
}

/// How to run an esbuild process that starts now (see
/// `BundleOptions::one_esbuild_thread` and `BundleOptions::one_shot_esbuild`).
/// The default is Go's own settings (but for our `GOGC`, see
/// [`super::raise_esbuild_gc_target`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EsbuildStart {
    /// `GOMAXPROCS=1`.
    pub one_thread: bool,
    /// `GOGC=off` below [`ONE_SHOT_MEMORY_LIMIT`].
    pub one_shot: bool,
}

/// The memory a one-shot esbuild may take before its garbage collector runs
/// (see `BundleOptions::one_shot_esbuild`). The benchmark project's four
/// builds peak at ~60 MiB without collecting.
const ONE_SHOT_MEMORY_LIMIT: &str = "1GiB";

impl EsbuildStart {
    /// The variables esbuild gets on top of this process's environment;
    /// the user's own `GOMAXPROCS`, `GOGC` and `GOMEMLIMIT` stand.
    fn env(self) -> Vec<(&'static str, &'static str)> {
        use crate::env_vars::{GOGC, GOMAXPROCS, GOMEMLIMIT, process_value};
        let mut env = Vec::new();
        if self.one_thread && process_value(GOMAXPROCS).is_none() {
            env.push((GOMAXPROCS, "1"));
        }
        if self.one_shot && super::go_gc_target_is_ours() {
            env.push((GOGC, "off"));
            if process_value(GOMEMLIMIT).is_none() {
                env.push((GOMEMLIMIT, ONE_SHOT_MEMORY_LIMIT));
            }
        }
        env
    }
}

/// The client library keeps every byte esbuild ever sent in its read buffer.
/// A long `convex dev` session would grow without bound, so the service is
/// replaced by a fresh esbuild process, between jobs, once this much has
/// been received (a restart costs a few milliseconds).
pub(crate) const RECYCLE_AFTER_BYTES: u64 = 64 * 1024 * 1024;

/// The threshold when the caller says the service is idle (`dev` between
/// pushes): the restart then costs no one any waiting, and keeps `dev`'s
/// memory at what one push needs.
const IDLE_RECYCLE_AFTER_BYTES: u64 = 1024 * 1024;

/// A build is stored in the cache only when none of its inputs was modified
/// this shortly before it started (or later): esbuild may then have read
/// other bytes than the ones hashed afterwards. File times can lag the
/// clock by a scheduler tick, hence the margin.
const SETTLED_MARGIN: std::time::Duration = std::time::Duration::from_millis(20);

/// Metafile inputs that are files (absolute, normalised): file-namespace
/// inputs and the `.wasm` files read by the wasm plugin.
pub(crate) fn metafile_files(working_dir: &Path, metafile: &Value) -> Vec<PathBuf> {
    let Some(inputs) = metafile.get("inputs").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for key in inputs.keys() {
        if key.contains("(disabled):") {
            continue;
        }
        if let Some(path) = key.strip_prefix("wasm-binary:") {
            files.push(crate::project::normalize(Path::new(path)));
            continue;
        }
        if super::build::is_virtual_input(key)
            || key.starts_with(super::plugins::VIRTUAL_CONFIG_NAMESPACE)
        {
            continue;
        }
        files.push(crate::project::normalize(&working_dir.join(key)));
    }
    files.sort();
    files.dedup();
    files
}

fn describe_entries(entries: &[String]) -> String {
    match entries {
        [] => "nothing".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

/// Whether none of `files` changed since `margin` before `started`.
fn settled(files: &[PathBuf], started: std::time::SystemTime) -> bool {
    let limit = started
        .checked_sub(SETTLED_MARGIN)
        .unwrap_or(std::time::UNIX_EPOCH);
    files.iter().all(|f| {
        std::fs::metadata(f)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < limit)
    })
}

impl Service {
    fn new(
        binary: &EsbuildBinary,
        working_dir: &Path,
        cache: Option<Arc<BuildCache>>,
        generation: u64,
    ) -> Service {
        // The client library takes its plugin handler as an `Arc`; it never
        // leaves this thread.
        #[allow(clippy::arc_with_non_send_sync)]
        let dispatcher = Arc::new(Dispatcher::default());
        Service {
            binary: binary.clone(),
            esbuild: tokio::sync::OnceCell::new(),
            start_error: RefCell::new(None),
            dispatcher,
            next_key: Cell::new(0),
            working_dir: working_dir.to_path_buf(),
            bytes_received: Cell::new(0),
            generation,
            recycle_requested: Cell::new(false),
            cache,
            memo: RefCell::new(Memo::default()),
            next_start: Cell::new(EsbuildStart::default()),
        }
    }

    /// The esbuild process, started on first use.
    async fn esbuild(&self) -> BundleResult<&EsbuildService> {
        if let Some(err) = self.start_error.borrow().as_ref() {
            return Err(err.clone());
        }
        let result = self
            .esbuild
            .get_or_try_init(|| {
                start_esbuild(
                    &self.binary,
                    &self.working_dir,
                    &self.dispatcher,
                    self.next_start.get(),
                )
            })
            .await;
        if let Err(err) = &result {
            *self.start_error.borrow_mut() = Some(err.clone());
        }
        result
    }

    pub fn working_dir(&self) -> &Path {
        &self.working_dir
    }

    /// 0 for the first esbuild process of this thread, then 1, 2, ...
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The build cache key of `spec`: everything but the files it reads.
    fn cache_key(&self, spec: &BuildSpec) -> String {
        let mut key = KeyBuilder::new();
        key.add(&self.binary.path.to_string_lossy())
            .add(&self.binary.version);
        // An ESBUILD_BINARY_PATH binary replaced in place.
        match std::fs::metadata(&self.binary.path) {
            Ok(meta) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                key.add(&format!("{}:{modified}", meta.len()));
            }
            Err(_) => {
                key.add("-");
            }
        }
        key.add(&self.working_dir.to_string_lossy());
        key.add(&format!("entries:{}", spec.entries.len()));
        for entry in &spec.entries {
            key.add(entry);
        }
        key.add(&format!("flags:{}", spec.flags.len()));
        for flag in &spec.flags {
            key.add(flag);
        }
        key.add(&format!("plugins:{}", spec.plugins.len()));
        for plugin in &spec.plugins {
            key.add(plugin.name).add(&plugin.identity);
        }
        key.finish()
    }

    /// Forget file hashes (between jobs: files may change in between).
    fn begin_job(&self) {
        *self.memo.borrow_mut() = Memo::default();
        self.next_start.set(EsbuildStart::default());
    }

    /// For the rest of the current job: how an esbuild started now runs.
    pub fn tune_next_start(&self, start: EsbuildStart) {
        self.next_start.set(start);
    }

    /// Runs one build, or reuses it from the cache. `Ok(Err(..))` is a
    /// build esbuild rejected.
    pub async fn build(&self, spec: BuildSpec) -> BundleResult<Result<BuildOutput, BuildFailure>> {
        let key = self.cache.as_ref().map(|_| self.cache_key(&spec));
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            let hit = cache.lookup(key, &mut self.memo.borrow_mut());
            if let Some(entry) = hit
                && let Ok(metafile) = serde_json::from_str::<Value>(&entry.metafile)
            {
                if let Some(state) = &spec.state {
                    state.restore(&entry.state);
                }
                crate::output::verbose(&format!(
                    "Reused the cached build of {} (inputs unchanged)",
                    describe_entries(&spec.entries)
                ));
                return Ok(Ok(BuildOutput {
                    outputs: entry
                        .outputs
                        .iter()
                        .map(|(path, text)| OutputFile {
                            path: path.clone(),
                            text: text.clone(),
                        })
                        .collect(),
                    metafile,
                    warnings: Vec::new(),
                }));
            }
        }
        let state = spec.state.clone();
        let started = std::time::SystemTime::now();
        let (result, metafile_text) = self.run_build(spec).await?;
        if let (Ok(output), Some(cache), Some(key)) = (&result, &self.cache, &key)
            && output.warnings.is_empty()
        {
            let files = metafile_files(&self.working_dir, &output.metafile);
            if settled(&files, started) {
                let fingerprint =
                    Fingerprint::capture(&files, &self.working_dir, &mut self.memo.borrow_mut());
                cache.store(
                    key,
                    fingerprint,
                    output
                        .outputs
                        .iter()
                        .map(|o| (o.path.clone(), o.text.clone()))
                        .collect(),
                    metafile_text.unwrap_or_default(),
                    state.map_or(Value::Null, |s| s.save()),
                );
            }
        }
        Ok(result)
    }

    /// Runs one build on esbuild. Also returns the metafile's text.
    async fn run_build(
        &self,
        spec: BuildSpec,
    ) -> BundleResult<(Result<BuildOutput, BuildFailure>, Option<String>)> {
        let esbuild = self.esbuild().await?;
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        let (plugins, set) = PluginSet::new(spec.plugins);
        self.dispatcher
            .builds
            .borrow_mut()
            .insert(key, Rc::new(set));
        let request = BuildRequest {
            key,
            entries: spec
                .entries
                .into_iter()
                .map(|entry| (String::new(), entry))
                .collect(),
            flags: spec.flags,
            write: false,
            abs_working_dir: self.working_dir.to_string_lossy().into_owned(),
            plugins: (!plugins.is_empty()).then_some(plugins),
            ..Default::default()
        };
        let response = tokio::select! {
            response = esbuild.client().send_build_request(request) => Some(response),
            _ = esbuild.wait_for_exit() => None,
        };
        self.dispatcher.builds.borrow_mut().remove(&key);
        let response = match response {
            None => return Err(BundleError::internal("esbuild exited unexpectedly")),
            Some(Err(err)) => {
                return Err(BundleError::internal(format!(
                    "Lost the connection to esbuild: {err}"
                )));
            }
            Some(Ok(Err(message))) => {
                return Err(BundleError::internal(format!(
                    "esbuild refused the build: {}",
                    message.text
                )));
            }
            Some(Ok(Ok(response))) => response,
        };
        if !response.errors.is_empty() {
            return Ok((
                Err(BuildFailure {
                    errors: response.errors,
                }),
                None,
            ));
        }
        let received = response
            .output_files
            .iter()
            .flatten()
            .map(|f| f.contents.len() + f.path.len())
            .sum::<usize>()
            + response.metafile.as_ref().map_or(0, String::len);
        self.bytes_received
            .set(self.bytes_received.get() + received as u64);
        let metafile = match &response.metafile {
            Some(text) => serde_json::from_str(text).map_err(|err| {
                BundleError::internal(format!("esbuild's metafile is not JSON: {err}"))
            })?,
            None => Value::Null,
        };
        let outputs = response
            .output_files
            .unwrap_or_default()
            .into_iter()
            .map(|file| OutputFile {
                path: PathBuf::from(file.path),
                text: match String::from_utf8(file.contents) {
                    Ok(text) => text,
                    Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
                },
            })
            .collect();
        Ok((
            Ok(BuildOutput {
                outputs,
                metafile,
                warnings: response.warnings,
            }),
            response.metafile,
        ))
    }

    async fn stop(self) {
        if let Some(esbuild) = self.esbuild.into_inner() {
            let _ = esbuild.stop().await;
        }
    }
}

/// Starts esbuild's service process, run as `start` says.
async fn start_esbuild(
    binary: &EsbuildBinary,
    working_dir: &Path,
    dispatcher: &Arc<Dispatcher>,
    start: EsbuildStart,
) -> BundleResult<EsbuildService> {
    let env = start.env();
    let esbuild = EsbuildService::new(
        &binary.path,
        &binary.version,
        dispatcher.clone(),
        EsbuildServiceOptions {
            cwd: Some(working_dir),
            env: &env,
        },
    )
    .await
    .map_err(|err| {
        BundleError::setup(format!(
            "Could not start esbuild ({}): {err}",
            binary.path.display()
        ))
    })?;
    // A version mismatch makes esbuild exit at once instead of answering.
    if let Ok(Ok(status)) =
        tokio::time::timeout(std::time::Duration::ZERO, esbuild.wait_for_exit()).await
    {
        return Err(BundleError::setup(format!(
            "esbuild ({}, version {}) exited at start-up ({status}); see its message above. \
             A reinstall (`npm install`) usually fixes a mismatched esbuild binary.",
            binary.path.display(),
            binary.version
        )));
    }
    Ok(esbuild)
}

type Job =
    Box<dyn FnOnce(Result<Rc<Service>, BundleError>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// The thread that owns the esbuild process.
pub(crate) struct ServiceThread {
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServiceThread {
    /// Spawns the thread. esbuild itself starts with the first build that
    /// the cache (when there is one) cannot answer.
    pub fn spawn(
        binary: EsbuildBinary,
        working_dir: PathBuf,
        recycle_after_bytes: u64,
        cache: Option<Arc<BuildCache>>,
    ) -> BundleResult<ServiceThread> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("esbuild-service".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(_) => return,
                };
                runtime.block_on(async move {
                    let mut generation = 0;
                    let mut service = Rc::new(Service::new(
                        &binary,
                        &working_dir,
                        cache.clone(),
                        generation,
                    ));
                    // Without a cache every push needs esbuild: start it
                    // now, in parallel with whatever the caller does next.
                    if cache.is_none() {
                        let _ = service.esbuild().await;
                    }
                    while let Some(job) = rx.recv().await {
                        service.begin_job();
                        job(Ok(service.clone())).await;
                        // An esbuild started between jobs gets Go's default.
                        service.tune_next_start(EsbuildStart::default());
                        let received = service.bytes_received.get();
                        // A request counts for the moment it was made only.
                        let idle = service.recycle_requested.replace(false);
                        let worn_out = received > recycle_after_bytes
                            || (idle && received > IDLE_RECYCLE_AFTER_BYTES);
                        if worn_out {
                            generation += 1;
                            let fresh = Rc::new(Service::new(
                                &binary,
                                &working_dir,
                                cache.clone(),
                                generation,
                            ));
                            let old = std::mem::replace(&mut service, fresh);
                            if let Ok(old) = Rc::try_unwrap(old) {
                                old.stop().await;
                            }
                        }
                        // Between `dev` pushes: have esbuild ready for the
                        // next change.
                        if idle || cache.is_none() {
                            let _ = service.esbuild().await;
                        }
                    }
                    if let Ok(service) = Rc::try_unwrap(service) {
                        service.stop().await;
                    }
                });
            })
            .map_err(|err| BundleError::internal(format!("Could not start a thread: {err}")))?;
        Ok(ServiceThread {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the service thread and returns its result.
    pub async fn run<T, F, Fut>(&self, f: F) -> BundleResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Rc<Service>) -> Fut + Send + 'static,
        Fut: Future<Output = BundleResult<T>> + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |service| {
            Box::pin(async move {
                let result = match service {
                    Ok(service) => f(service).await,
                    Err(err) => Err(err),
                };
                let _ = tx.send(result);
            })
        });
        let sender = self
            .jobs
            .as_ref()
            .ok_or_else(|| BundleError::internal("the bundler was stopped"))?;
        sender
            .send(job)
            .map_err(|_| BundleError::internal("the esbuild service thread has stopped"))?;
        rx.await
            .map_err(|_| BundleError::internal("the esbuild service thread stopped mid-build"))?
    }

    /// Says that no build is coming soon: the esbuild process is then
    /// replaced, in the background, once it has sent more than
    /// `IDLE_RECYCLE_AFTER_BYTES` (see [`RECYCLE_AFTER_BYTES`]). Does not
    /// wait.
    pub fn recycle_when_idle(&self) {
        let job: Job = Box::new(|service| {
            Box::pin(async move {
                if let Ok(service) = service {
                    service.recycle_requested.set(true);
                }
            })
        });
        if let Some(sender) = &self.jobs {
            let _ = sender.send(job);
        }
    }

    /// Stops esbuild and waits for the thread to finish.
    pub fn stop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServiceThread {
    fn drop(&mut self) {
        self.stop();
    }
}
