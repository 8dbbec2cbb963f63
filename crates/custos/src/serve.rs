//! `custos serve`: the store, the HTTP edge with durable group-commit
//! ingest, and the pipeline thread tailing the store, wired together.

use crate::config::{Settings, to_hex};
use crate::detectors;
use crate::tailer::{Progress, Tailer};
use anyhow::Context as _;
use custos_http::{AppState, HttpSettings, Metrics, Scope, TokenSpec};
use custos_store::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A running server: HTTP on `addr`, the pipeline on its own thread.
pub struct Server {
    pub addr: SocketAddr,
    pub progress: Arc<Mutex<Progress>>,
    stop_pipeline: Arc<AtomicBool>,
    pipeline: Option<std::thread::JoinHandle<()>>,
    webhooks: Option<std::thread::JoinHandle<()>>,
    audit: Option<std::thread::JoinHandle<()>>,
    policies: Option<std::thread::JoinHandle<()>>,
    janitor: Option<std::thread::JoinHandle<()>>,
    rules: Vec<std::thread::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    http: Option<tokio::task::JoinHandle<()>>,
}

pub fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.as_ref().map(|s| s.expose());
    let store =
        custos_store::open_store(url, &settings.data_dir).context("cannot open the store")?;
    Ok(Arc::from(store))
}

impl Server {
    /// Binds `settings.listen` (or `fallback_any_port`: an ephemeral port
    /// when that one is taken), rebuilds pipeline state, starts serving.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        store: Arc<dyn Store>,
        http: HttpSettings,
        settings: &Settings,
        fallback_any_port: bool,
    ) -> anyhow::Result<Server> {
        let listener = match runtime.block_on(tokio::net::TcpListener::bind(settings.listen)) {
            Ok(l) => l,
            Err(e) if fallback_any_port => {
                eprintln!(
                    "custos: {} is taken ({e}); using another port",
                    settings.listen
                );
                runtime
                    .block_on(tokio::net::TcpListener::bind(SocketAddr::new(
                        settings.listen.ip(),
                        0,
                    )))
                    .context("cannot bind any port")?
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot listen on `{}`", settings.listen));
            }
        };
        let addr = listener.local_addr()?;
        let metrics = Arc::new(Metrics::new());
        let ready = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Mutex::new(Progress::default()));
        let stop_pipeline = Arc::new(AtomicBool::new(false));

        let risk = custos_risk::RiskHandle::new(
            custos_risk::ActionRisk::new(settings.detectors.risk.clone()).context("`risk`")?,
        );
        let countermeasures = custos_http::AgentCountermeasures::default();
        let live_contacts = Arc::new(custos_access::LiveContacts::default());
        let pipeline = {
            let countermeasures = countermeasures.clone();
            let live_contacts = live_contacts.clone();
            let risk = risk.clone();
            let store = store.clone();
            let metrics = metrics.clone();
            let ready = ready.clone();
            let progress = progress.clone();
            let stop = stop_pipeline.clone();
            let config = settings.pipeline.clone();
            let detector_settings = settings.detectors.clone();
            let idle_flush = settings.idle_flush;
            std::thread::Builder::new().name("custos-pipeline".into()).spawn(move || {
                let tailer = loop {
                    match detectors::pipeline_sharing(&config, &detector_settings, &risk).and_then(|p| Tailer::start(store.clone(), p, idle_flush, Some(live_contacts.clone()))).map(|t| t.share_countermeasures(countermeasures.clone())) {
                        Ok(t) => break t,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot rebuild pipeline state; retrying");
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            std::thread::sleep(std::time::Duration::from_secs(1));
                        }
                    }
                };
                ready.store(true, Ordering::SeqCst);
                // However the thread ends (stop, or a panic in a detector),
                // `/readyz` must stop answering ready.
                let _not_ready_on_exit = NotReadyOnDrop(ready.clone());
                let last = Mutex::new(Progress::default());
                tailer.run(&stop, &|p: &Progress| {
                    if let Ok(mut last) = last.lock() {
                        report_progress(&metrics, &store, &last, p);
                        *last = p.clone();
                    }
                    if let Ok(mut shared) = progress.lock() {
                        *shared = p.clone();
                    }
                });
            })?
        };

        let webhooks = match settings.webhooks.clone() {
            None => None,
            Some(webhook_settings) => {
                let sender = crate::webhook::WebhookSender::new(store.clone(), webhook_settings);
                let stop = stop_pipeline.clone();
                Some(
                    std::thread::Builder::new()
                        .name("custos-webhooks".into())
                        .spawn(move || sender.run(&stop))?,
                )
            }
        };

        let (audit_log, commitment_key) = crate::audit::open_log(settings)?;
        let audit_log = Arc::new(Mutex::new(audit_log));
        crate::audit::record_start(&audit_log, settings)?;
        let audit = {
            let pump =
                crate::audit::AuditPump::new(store.clone(), audit_log.clone(), commitment_key)?;
            let stop = stop_pipeline.clone();
            std::thread::Builder::new()
                .name("custos-audit".into())
                .spawn(move || pump.run(&stop))?
        };
        let (access, broker) =
            crate::access::open(settings, store.clone(), countermeasures, live_contacts)?;
        let policies = {
            let stop = stop_pipeline.clone();
            let audit = Some(audit_log.clone());
            std::thread::Builder::new()
                .name("custos-policies".into())
                .spawn(move || crate::access::watch_policies(broker, audit, &stop))?
        };
        let access = Arc::new(access);
        let janitor = {
            let janitor = crate::access::GrantJanitor {
                store: store.clone(),
                access: access.clone(),
                audit: Some(audit_log.clone()),
            };
            let stop = stop_pipeline.clone();
            std::thread::Builder::new()
                .name("custos-grants".into())
                .spawn(move || janitor.run(&stop))?
        };
        let mut rules = Vec::new();
        let risk_files = [
            (settings.detectors.risk.rules_path.clone(), false),
            (settings.detectors.risk.candidate_rules_path.clone(), true),
        ];
        for (path, candidate) in risk_files {
            let Some(path) = path else { continue };
            let watcher = crate::risk_rules::RulesWatcher::new(
                path,
                risk.clone(),
                Some(audit_log.clone()),
                candidate,
            );
            let stop = stop_pipeline.clone();
            rules.push(
                std::thread::Builder::new()
                    .name("custos-risk-rules".into())
                    .spawn(move || watcher.run(&stop))?,
            );
        }
        // The console calls the same workflow and log as the API.
        let console_services = custos_console::ConsoleServices {
            approvals: Some(access.approvals.clone()),
            step_ups: Some(access.step_ups.clone()),
            audit: Some(audit_log.clone()),
            access: Some(access.service.clone()),
            risk: Some(risk.clone()),
        };
        let services = custos_http::Services {
            access: Some(access),
            audit: Some(audit_log),
            risk: Some(risk),
            messages: Some(Arc::new(
                custos_http::MessageScorer::new(settings.detectors.conversation.clone())
                    .context("the conversation model")?,
            )),
        };
        let state = AppState::new(store.clone(), http, metrics.clone(), ready.clone())
            .context("cannot start the ingest thread")?
            .with_services(services);
        let console =
            custos_console::ConsoleState::open(&settings.data_dir.join("console"), store.clone())
                .context("cannot open the console's user store")?
                .with_services(console_services);
        let console = match &settings.console {
            Some(passkeys) => console
                .with_relying_party(&passkeys.rp_id, passkeys.origins.clone())
                .context("`[console]` passkeys")?,
            None => console,
        };
        let app = custos_http::router(state).merge(custos_console::router(console));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let http = runtime.spawn(async move {
            if let Err(e) = custos_http::serve_app(listener, app, async {
                let _ = rx.await;
            })
            .await
            {
                tracing::error!(error = %e, "http server stopped");
            }
        });
        Ok(Server {
            addr,
            progress,
            stop_pipeline,
            pipeline: Some(pipeline),
            webhooks,
            audit: Some(audit),
            policies: Some(policies),
            janitor: Some(janitor),
            rules,
            shutdown: Some(tx),
            http: Some(http),
        })
    }

    /// Stops accepting requests, lets in-flight ones finish, stops the pipeline.
    pub fn stop(mut self, runtime: &tokio::runtime::Runtime) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(http) = self.http.take() {
            let _ = runtime.block_on(http);
        }
        self.stop_pipeline.store(true, Ordering::SeqCst);
        if let Some(p) = self.pipeline.take() {
            let _ = p.join();
        }
        if let Some(w) = self.webhooks.take() {
            let _ = w.join();
        }
        if let Some(a) = self.audit.take() {
            let _ = a.join();
        }
        if let Some(p) = self.policies.take() {
            let _ = p.join();
        }
        if let Some(j) = self.janitor.take() {
            let _ = j.join();
        }
        for r in self.rules.drain(..) {
            let _ = r.join();
        }
    }
}

struct NotReadyOnDrop(Arc<AtomicBool>);

impl Drop for NotReadyOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn report_progress(metrics: &Metrics, store: &Arc<dyn Store>, last: &Progress, now: &Progress) {
    metrics.add_pipeline_processed(now.processed.saturating_sub(last.processed));
    metrics.add_late_events(now.late.saturating_sub(last.late));
    for (detector, n) in &now.alerts_by_detector {
        let before = last
            .alerts_by_detector
            .iter()
            .find(|(d, _)| d == detector)
            .map_or(0, |(_, n)| *n);
        metrics.add_alerts(detector, n.saturating_sub(before));
    }
    if let Ok(head) = store.last_seq() {
        metrics.set_pipeline_lag_events(head.saturating_sub(now.cursor));
    }
}

/// With no tokens configured, `serve` uses one admin token: generated on
/// first start, printed once, only its SHA-256 kept (in the data directory).
pub fn ensure_admin_token(
    data_dir: &Path,
    http: &mut HttpSettings,
) -> anyhow::Result<Option<String>> {
    if !http.tokens.is_empty() {
        return Ok(None);
    }
    let path = data_dir.join("admin-token.sha256");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let hash = custos_http::parse_sha256_hex(&text).ok().with_context(|| {
            format!(
                "`{}` is not a SHA-256 in hex; delete it to generate a new token",
                path.display()
            )
        })?;
        http.tokens.push(TokenSpec {
            name: "admin".into(),
            token_sha256: hash,
            scopes: vec![Scope::Admin],
        });
        return Ok(None);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create `{}`", data_dir.display()))?;
    let token = generate_token()?;
    let hash = custos_http::token_sha256(&token);
    write_private(&path, &to_hex(&hash))?;
    http.tokens.push(TokenSpec {
        name: "admin".into(),
        token_sha256: hash,
        scopes: vec![Scope::Admin],
    });
    Ok(Some(token))
}

pub fn generate_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(format!("custos_{}", to_hex(&bytes)))
}

pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

pub fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings)?;
    let mut http = settings.http.clone();
    if let Some(token) = ensure_admin_token(&settings.data_dir, &mut http)? {
        println!(
            "custos: generated an admin token; it is shown only this once, keep it:\n  {token}"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let backend = store.backend();
    let server = Server::start(&runtime, store, http, &settings, false)?;
    println!(
        "custos: serving on http://{} ({backend} store); Ctrl-C stops",
        server.addr
    );
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    eprintln!("custos: stopping");
    server.stop(&runtime);
    Ok(())
}
