//! The composition root: opens the store, seeds the demo, starts the
//! background tasks (auto-cancel, sweeps, control socket), binds the
//! listeners and serves until shutdown; `run` also reloads the certificate
//! on SIGHUP.
//!
//! With `https` set, the full router is served over TLS and plain HTTP
//! only redirects there (`web::redirect`); without it, plain HTTP serves
//! the full router. With `[acme]`, plain HTTP also answers HTTP-01
//! challenges, and the ACME task ([`crate::acme::maintain`]) keeps the
//! certificate; its first certificate restarts the listeners in place.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::store::compaction;
use crate::store::retention::{self, RetentionSettings};
use crate::store::{Clock, SpaceLevels, Store, StoreSettings, accounts, checkout, orders};
use crate::tls::{Tls, TlsListener};
use crate::web::{self, AppState, WebSettings};

/// A started daemon.
#[derive(Debug)]
pub struct Running {
    /// Where plain HTTP listens (the real port when 0 was asked for).
    pub http_addr: SocketAddr,
    /// Where HTTPS listens, if on.
    pub https_addr: Option<SocketAddr>,
    /// The store, for tests and tools.
    pub store: Store,
    /// The captive gateway, if on.
    pub gateway: Option<Gateway>,
    tls: Option<Arc<Tls>>,
    /// Told when the listeners must start again (the first ACME certificate).
    restart: Arc<tokio::sync::Notify>,
    state: AppState,
    stop: Option<watch::Sender<bool>>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops serving, waits for in-flight requests, and lets the gateway
    /// leave the firewall as configured (`fail_open`).
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.state.begin_shutdown();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        for s in self.servers.drain(..) {
            s.await.context("server task")?.context("serving")?;
        }
        if let Some(gw) = self.gateway.take() {
            gw.stop().await.context("stopping the gateway")?;
        }
        let store = self.store.clone();
        drop(self);
        if !store.close(Duration::from_secs(10)).await {
            tracing::warn!("the database was still in use at shutdown");
        }
        Ok(())
    }

    /// Reads the certificate files again (what SIGHUP does). On failure the
    /// old pair stays in service. Without HTTPS there is nothing to do.
    pub fn reload_certificate(&self) -> anyhow::Result<()> {
        match &self.tls {
            Some(tls) => tls.reload(),
            None => Ok(()),
        }
    }

    /// Waits until a server stops by itself (an error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        if self.servers.is_empty() {
            return Ok(());
        }
        let (result, _, _) = futures_util::future::select_all(self.servers.iter_mut()).await;
        result.context("server task")?.context("serving")
    }
}

fn shutdown_signal(rx: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut rx = rx.clone();
    async move {
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("listening for {what} on {addr} (is another program using that port? ports below 1024 need root or CAP_NET_BIND_SERVICE)")
    })
}

async fn hsts(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Opens everything and starts serving; returns once the listeners are bound.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_full(config, None, Clock::system()).await
}

/// Like [`start`], with the web side's gateway given (a fake in tests,
/// which need no root): no firewall is touched then, whatever the config
/// says about guest interfaces.
pub async fn start_with(
    config: Config,
    guests: Option<Arc<dyn crate::gateway::Guests>>,
) -> anyhow::Result<Running> {
    start_full(config, guests, Clock::system()).await
}

/// [`start`] with the store reading time from `clock` (tests move it).
pub async fn start_with_clock(config: Config, clock: Clock) -> anyhow::Result<Running> {
    start_full(config, None, clock).await
}

async fn start_full(
    config: Config,
    guests: Option<Arc<dyn crate::gateway::Guests>>,
    clock: Clock,
) -> anyhow::Result<Running> {
    create_data_dir(&config)?;
    let db_path = config.database_path();
    let settings = StoreSettings {
        group_commit: config.group_commit,
        utc_offset_minutes: config.utc_offset_minutes,
        cache_bytes: usize::try_from(config.database_cache_mib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024 * 1024),
        space: SpaceLevels {
            warning_bytes: u64::from(config.space_warning_mib) * 1024 * 1024,
            floor_bytes: u64::from(config.space_floor_mib) * 1024 * 1024,
        },
        ..StoreSettings::default()
    };
    let path = db_path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open_with_clock(&path, settings, clock))
        .await
        .context("opening the database")?
        .with_context(|| format!("opening database {}", db_path.display()))?;

    let http = bind(config.http, "HTTP").await?;
    let http_addr = http.local_addr()?;
    let https = match config.https {
        Some(addr) => {
            let tls = Tls::load_or_create(&config).context("setting up HTTPS")?;
            let listener = bind(addr, "HTTPS").await?;
            Some((Arc::new(tls), listener))
        }
        None => None,
    };
    let https_addr = match &https {
        Some((_, l)) => Some(l.local_addr()?),
        None => None,
    };
    let portal = portal_host(&config, https_addr.unwrap_or(http_addr));
    // Guests are sent to HTTPS only with a certificate phones trust (the
    // operator's own); with the self-signed one they stay on plain HTTP.
    let trusted = https.as_ref().is_some_and(|(tls, _)| tls.configured);
    let portal_url = match https_addr {
        Some(a) if trusted => format!("{}/", web::redirect::origin(&portal, a.port())),
        _ => format!(
            "{}/",
            web::redirect::plain_origin(&portal_host(&config, http_addr), http_addr.port())
        ),
    };

    let mut state = AppState::new(
        store.clone(),
        WebSettings {
            venue_name: config.venue_name.clone(),
            currency: config.currency,
            language: config.language,
            secure_cookies: config.secure_cookies,
            login_seconds: u64::from(config.login_hours) * 3600,
            auto_approve_shops: config.auto_approve_shops,
            login_attempts_per_minute: config.login_attempts_per_minute,
            max_streams_per_client: config.max_streams_per_client,
            portal_url: Some(portal_url.clone()),
            staff_from_guest_network: config.staff_from_guest_network,
            device_seconds: device_seconds(config.order_retention_days),
            board_ready_minutes: config.board_ready_minutes,
        },
    );
    state.key = Arc::new(
        crate::web::keys::PortalKey::load_or_create(&config.data_dir)
            .context("the portal's key")?,
    );
    let mut tasks = Vec::new();
    let gateway = match &config.gateway {
        _ if guests.is_some() => None,
        Some(g) => {
            let ports: Vec<u16> = std::iter::once(http_addr.port())
                .chain(https_addr.map(|a| a.port()))
                .collect();
            let gw = Gateway::start(
                g.clone(),
                store.clone(),
                &config.data_dir,
                http_addr.port(),
                ports,
            )
            .await
            .context("starting the captive gateway")?;
            tasks.extend(gw.spawn_tasks().context("watching the guest interfaces")?);
            state = state.with_gateway(Arc::new(gw.clone()));
            Some(gw)
        }
        None => None,
    };
    if let Some(fake) = guests {
        state = state.with_gateway(fake);
    }
    if config.demo && crate::demo::seed_if_empty(&store, &state.passwords).await? {
        tracing::info!("seeded the demo venue");
    }
    if config.demo {
        eprintln!(
            "{}",
            crate::demo::logins_text(portal_url.trim_end_matches('/'))
        );
    }

    let control = crate::control::bind(&config.control_socket()).with_context(|| {
        format!(
            "creating the control socket {}",
            config.control_socket().display()
        )
    })?;
    tasks.push(tokio::spawn(crate::control::serve_with(
        control,
        store.clone(),
        gateway.clone(),
    )));
    if config.auto_cancel_seconds > 0 {
        tasks.push(tokio::spawn(auto_cancel(
            store.clone(),
            u64::from(config.auto_cancel_seconds) * 1000,
        )));
    }
    tasks.push(tokio::spawn(sweep(state.clone())));
    tasks.push(tokio::spawn(watch_space(store.clone())));
    tasks.push(tokio::spawn(retain(
        store.clone(),
        RetentionSettings {
            order_days: config.order_retention_days,
            notification_hours: config.notification_hours,
            wifi_days: config.wifi_session_days,
        },
    )));
    let (printers, printing) = crate::printer::start(store.clone(), config.utc_offset_minutes);
    tasks.push(printing);
    state = state.with_printers(printers);

    let challenges = crate::acme::Challenges::default();
    let restart = Arc::new(tokio::sync::Notify::new());
    // HTTP-01 answers come before redirects and the guest guard.
    let acme_layer = |r: axum::Router| match &config.acme {
        Some(_) => r.layer(axum::middleware::from_fn_with_state(
            challenges.clone(),
            crate::acme::answer,
        )),
        None => r,
    };
    let (stop, stopped) = watch::channel(false);
    let app = web::router(state.clone());
    let mut servers = Vec::new();
    let tls = match https {
        Some((tls, listener)) => {
            // HSTS pins browsers to HTTPS for a year: only with a
            // certificate they will accept, never the self-signed one.
            let app = if tls.configured {
                app.layer(axum::middleware::map_response(hsts))
            } else {
                app
            };
            let listener = TlsListener::new(listener, tls.server_config()?)
                .context("starting the HTTPS listener")?;
            servers.push(tokio::spawn(web::serve(
                listener,
                app.clone(),
                shutdown_signal(&stopped),
            )));
            let redirect = web::redirect::Portal {
                host: config.portal_host.clone(),
                https_port: https_addr.map_or(443, |a| a.port()),
                fallback: portal_host(&config, http_addr),
                plain_port: (!trusted).then_some(http_addr.port()),
            };
            if trusted {
                servers.push(tokio::spawn(web::serve(
                    http,
                    acme_layer(web::redirect::router(redirect)),
                    shutdown_signal(&stopped),
                )));
            } else {
                let guests = app.layer(axum::middleware::from_fn_with_state(
                    Arc::new(redirect),
                    web::redirect::plain_guard,
                ));
                servers.push(tokio::spawn(web::serve(
                    http,
                    acme_layer(guests),
                    shutdown_signal(&stopped),
                )));
            }
            if let Some(settings) = &config.acme {
                tasks.push(tokio::spawn(crate::acme::maintain(
                    crate::acme::Maintainer {
                        settings: settings.clone(),
                        data_dir: config.data_dir.clone(),
                        challenges: challenges.clone(),
                        tls: Arc::clone(&tls),
                        restart: Arc::clone(&restart),
                    },
                )));
            }
            Some(tls)
        }
        None => {
            servers.push(tokio::spawn(web::serve(
                http,
                app,
                shutdown_signal(&stopped),
            )));
            None
        }
    };
    tracing::info!(
        http = %http_addr,
        https = %https_addr.map_or_else(|| "off".to_owned(), |a| a.to_string()),
        portal = %portal_url,
        certificate = %tls.as_ref().map_or_else(|| "none".to_owned(), |t| t.cert_path().display().to_string()),
        data = %config.data_dir.display(),
        gateway = gateway.is_some(),
        "queueless serving"
    );
    crate::notify::ready();
    Ok(Running {
        http_addr,
        https_addr,
        store,
        gateway,
        tls,
        restart,
        state,
        stop: Some(stop),
        servers,
        tasks,
    })
}

/// The host part of portal links: the configured portal host, else the
/// listener's address (`localhost` when it listens everywhere).
fn portal_host(config: &Config, listen: SocketAddr) -> String {
    match &config.portal_host {
        Some(h) => h.clone(),
        None if listen.ip().is_unspecified() => "localhost".into(),
        None => web::redirect::url_host(listen.ip()),
    }
}

/// Runs until `shutdown` resolves; SIGHUP reloads the certificate files.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    // Before anything starts: from here on SIGHUP (`systemctl reload`) never
    // kills the daemon, with or without HTTPS.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("listening for SIGHUP")?;
    let mut running = start(config.clone()).await?;
    tokio::pin!(shutdown);
    loop {
        let restart = Arc::clone(&running.restart);
        tokio::select! {
            () = &mut shutdown => {
                tracing::info!("shutting down");
                crate::notify::status("stopping");
                return running.shutdown().await;
            }
            result = running.wait() => return result,
            () = restart.notified() => {
                crate::notify::status("restarting the listeners");
                running.shutdown().await?;
                running = start(config.clone()).await?;
                // Only the first ACME certificate restarts the listeners.
                if let Some(acme) = &config.acme {
                    tokio::spawn(crate::acme::procd::first_certificate(acme.name.clone()));
                }
            }
            Some(()) = hangup.recv() => {
                crate::notify::status("reloading the certificate");
                match running.reload_certificate() {
                    Ok(()) if running.https_addr.is_none() => {
                        tracing::info!("SIGHUP: HTTPS is off, nothing to reload");
                    }
                    Ok(()) => {}
                    Err(e) => tracing::error!(
                        error = %format!("{e:#}"),
                        "certificate reload failed; keeping the old one"
                    ),
                }
                crate::notify::status("serving");
            }
        }
    }
}

fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    // Database, certificate keys and the control socket live here.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting data directory {}", dir.display()))?;
    Ok(())
}

/// Cancels orders no shop accepted in time, returning their stock, and
/// closes ready orders nobody collected within their shop's time.
async fn auto_cancel(store: Store, max_age_ms: u64) {
    let every = Duration::from_millis((max_age_ms / 4).clamp(200, 10_000));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store
            .write(move |tx| {
                Ok((
                    orders::cancel_unaccepted(tx, max_age_ms)?,
                    crate::store::kitchen::close_uncollected(tx)?,
                ))
            })
            .await
        {
            Ok((cancelled, uncollected)) => {
                if !cancelled.is_empty() {
                    tracing::info!(
                        count = cancelled.len(),
                        "auto-cancelled orders no shop accepted"
                    );
                }
                if !uncollected.is_empty() {
                    tracing::info!(count = uncollected.len(), "closed orders nobody collected");
                }
            }
            Err(e) => tracing::warn!(error = %e, "auto-cancel sweep failed"),
        }
    }
}

/// A device id's cookie lives as long as its last order's details plus a
/// day; browsers cap cookies at 400 days (also when retention is off).
fn device_seconds(order_retention_days: u32) -> u64 {
    match order_retention_days {
        0 => 400 * 86_400,
        d => (u64::from(d) + 1).min(400) * 86_400,
    }
}

/// Forgets what retention allows, a minute after start and then every ten
/// minutes, in small writer batches (see [`retention`]); then compacts the
/// file if that is worth it and the venue is quiet (see [`compaction`]).
async fn retain(store: Store, settings: RetentionSettings) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match retention::run(&store, settings).await {
            Ok(s) if s.any() => tracing::info!(
                orders = s.orders,
                notifications = s.notifications,
                wifi_sessions = s.wifi_sessions,
                "retention: folded old orders and removed old records"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        match compaction::maybe_compact(&store).await {
            Ok(c) if c.compacted => tracing::info!(
                before = c.before.file_bytes,
                after = c.after_bytes,
                "compacted the database while the venue was quiet"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "compaction failed"),
        }
    }
}

/// Measures free space while nothing is written (the writer measures
/// before every batch): logs level changes, and lets orders in again once
/// space was freed even if no write came to notice.
async fn watch_space(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = store.clone();
        let _ = tokio::task::spawn_blocking(move || s.check_space()).await;
    }
}

/// Hourly housekeeping: expired logins, old idempotency keys, idle rate-limit entries.
async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let result = state
            .store
            .write(|tx| {
                Ok((
                    accounts::sweep_logins(tx)?,
                    checkout::sweep_idempotency(tx)?,
                ))
            })
            .await;
        match result {
            Ok((logins, keys)) => tracing::debug!(logins, keys, "swept expired records"),
            Err(e) => tracing::warn!(error = %e, "housekeeping sweep failed"),
        }
        state.login_limiter.shrink();
    }
}
