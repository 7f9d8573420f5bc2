//! The composition root: opens the store, seeds the demo, starts the
//! background tasks (auto-cancel, sweeps, control socket), binds the
//! listeners and serves until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::store::{Store, StoreSettings, accounts, checkout, orders};
use crate::web::{self, AppState, WebSettings};

/// A started daemon.
#[derive(Debug)]
pub struct Running {
    /// Where plain HTTP listens (the real port when 0 was asked for).
    pub http_addr: SocketAddr,
    /// The store, for tests and tools.
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops serving and waits for in-flight requests.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
        (&mut self.server)
            .await
            .context("server task")?
            .context("serving HTTP")?;
        Ok(())
    }

    /// Waits until the server stops by itself (an error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.server)
            .await
            .context("server task")?
            .context("serving HTTP")
    }
}

/// Opens everything and starts serving; returns once the listeners are bound.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    create_data_dir(&config)?;
    let db_path = config.database_path();
    let settings = StoreSettings {
        group_commit: config.group_commit,
        utc_offset_minutes: config.utc_offset_minutes,
        ..StoreSettings::default()
    };
    let path = db_path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path, settings))
        .await
        .context("opening the database")?
        .with_context(|| format!("opening database {}", db_path.display()))?;

    let state = AppState::new(
        store.clone(),
        WebSettings {
            venue_name: config.venue_name.clone(),
            secure_cookies: config.secure_cookies,
            login_seconds: u64::from(config.login_hours) * 3600,
            auto_approve_shops: config.auto_approve_shops,
            login_attempts_per_minute: config.login_attempts_per_minute,
            ..WebSettings::default()
        },
    );
    let listener = TcpListener::bind(config.http).await.with_context(|| {
        format!(
            "listening on {} (is another program using that port?)",
            config.http
        )
    })?;
    let http_addr = listener.local_addr()?;
    if config.https.is_some() {
        anyhow::bail!(
            "https is set in the configuration, but this build serves plain HTTP only; \
             remove `https` (and `--https`) until TLS support lands"
        );
    }
    if config.demo && crate::demo::seed_if_empty(&store, &state.passwords).await? {
        tracing::info!("seeded the demo venue");
    }
    if config.demo {
        eprintln!(
            "{}",
            crate::demo::logins_text(&format!("http://{http_addr}"))
        );
    }

    let mut tasks = Vec::new();
    let control = crate::control::bind(&config.control_socket()).with_context(|| {
        format!(
            "creating the control socket {}",
            config.control_socket().display()
        )
    })?;
    tasks.push(tokio::spawn(crate::control::serve(control, store.clone())));
    if config.auto_cancel_seconds > 0 {
        tasks.push(tokio::spawn(auto_cancel(
            store.clone(),
            u64::from(config.auto_cancel_seconds) * 1000,
        )));
    }
    tasks.push(tokio::spawn(sweep(state.clone())));

    let (stop, stopped) = oneshot::channel::<()>();
    let router = web::router(state);
    let server = tokio::spawn(web::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    tracing::info!(http = %http_addr, data = %config.data_dir.display(), "queueless serving");
    Ok(Running {
        http_addr,
        store,
        stop: Some(stop),
        server,
        tasks,
    })
}

/// Runs until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let mut running = start(config).await?;
    tokio::select! {
        () = shutdown => {
            tracing::info!("shutting down");
            running.shutdown().await
        }
        result = running.wait() => result,
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

/// Cancels orders no shop accepted in time, returning their stock.
async fn auto_cancel(store: Store, max_age_ms: u64) {
    let every = Duration::from_millis((max_age_ms / 4).clamp(200, 10_000));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store
            .write(move |tx| orders::cancel_unaccepted(tx, max_age_ms))
            .await
        {
            Ok(cancelled) if !cancelled.is_empty() => {
                tracing::info!(
                    count = cancelled.len(),
                    "auto-cancelled orders no shop accepted"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "auto-cancel sweep failed"),
        }
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
