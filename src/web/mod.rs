//! The HTTP side, and the only module that uses axum: the JSON API with its
//! OpenAPI document, the error → status mapping, extractors, and the
//! middleware stack (body limit, CSRF guard, device cookie).
//!
//! `serve(listener, state, shutdown)` takes a bound listener so tests can
//! bind port 0. Every listener is served by one connection driver
//! ([`conn`]); live streams leave hyper once their head is decided
//! ([`detach`]) and keep the lightest socket their connection allows
//! ([`wire`]).

pub mod api;
pub mod captive;
pub mod conn;
pub mod detach;
pub mod error;
pub mod extract;
pub mod keys;
pub mod ops;
pub mod pages;
pub mod photos;
pub mod queue;
pub mod redirect;
pub mod sse;
pub mod wire;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::Passwords;
use crate::store::Store;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Settings the web layer needs.
#[derive(Clone, Debug)]
pub struct WebSettings {
    /// The venue's name.
    pub venue_name: String,
    /// The venue's currency.
    pub currency: crate::domain::currency::Currency,
    /// The interface's default language (a guest's cookie or browser overrides it).
    pub language: crate::i18n::Lang,
    /// Cookies carry `Secure`.
    pub secure_cookies: bool,
    /// Staff login length in seconds.
    pub login_seconds: u64,
    /// Approve new shops at once.
    pub auto_approve_shops: bool,
    /// Login/registration attempts per minute per address.
    pub login_attempts_per_minute: u32,
    /// Most open event streams per client address.
    pub max_streams_per_client: u32,
    /// The portal's HTTPS address for guests (RFC 8908 `user-portal-url`).
    pub portal_url: Option<String>,
    /// Staff may log in from the guest network.
    pub staff_from_guest_network: bool,
    /// How long a guest's device id lives in its browser: renewed with each
    /// order, so an id outlives its last order's details by a day at most.
    pub device_seconds: u64,
    /// Minutes a ready number stays on the pickup board (0: until collected).
    pub board_ready_minutes: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            venue_name: "queueless venue".into(),
            currency: crate::domain::currency::Currency::default(),
            language: crate::i18n::Lang::En,
            secure_cookies: false,
            login_seconds: 12 * 3600,
            auto_approve_shops: false,
            login_attempts_per_minute: 10,
            max_streams_per_client: 16,
            portal_url: None,
            staff_from_guest_network: false,
            device_seconds: 6 * 86_400,
            board_ready_minutes: 10,
        }
    }
}

/// Shared state of every handler: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Password hashing.
    pub passwords: Passwords,
    /// Login attempts per client address.
    pub login_limiter: Arc<LoginLimiter>,
    /// Settings.
    pub web: Arc<WebSettings>,
    /// The portal's secret key: signs device ids and form tokens (kept in
    /// the data directory by the daemon, random per process otherwise).
    pub key: Arc<keys::PortalKey>,
    /// Open event streams per client address.
    pub streams: Arc<sse::Streams>,
    /// Shops' queues, read once per event for all their order streams.
    pub queues: Arc<queue::Queues>,
    /// The captive gateway, when guest interfaces are configured (the
    /// narrow trait: the real one on this router, a fake in tests).
    pub gateway: Option<Arc<dyn crate::gateway::Guests>>,
    /// Set at shutdown: live streams end so the server can stop.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// The ticket printers' state, when the printer task runs.
    pub printers: Option<crate::printer::Printers>,
}

/// Rate limiter of login and registration attempts, keyed by client address.
pub struct LoginLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginLimiter")
    }
}

impl LoginLimiter {
    /// `per_minute` attempts per minute from one address, all usable at once.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Whether `ip` may try again now.
    pub fn check(&self, ip: IpAddr) -> bool {
        self.0.check_key(&ip).is_ok()
    }

    /// Forgets addresses that are back to a full quota (memory stays bounded).
    pub fn shrink(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

impl AppState {
    /// An amount for people, in the venue's currency (`€4.50`, `¥450`).
    pub fn money(&self, amount: crate::domain::Cents) -> String {
        self.web.currency.format(amount)
    }

    /// State over a store.
    pub fn new(store: Store, web: WebSettings) -> Self {
        Self {
            store,
            passwords: Passwords::default(),
            login_limiter: Arc::new(LoginLimiter::new(web.login_attempts_per_minute)),
            key: Arc::new(keys::PortalKey::random()),
            streams: Arc::new(sse::Streams::new(web.max_streams_per_client)),
            queues: Arc::default(),
            web: Arc::new(web),
            gateway: None,
            printers: None,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Ends the live streams (at shutdown).
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// The same state with the captive gateway.
    pub fn with_gateway(mut self, gateway: Arc<dyn crate::gateway::Guests>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// The same state with the ticket printers' handle.
    pub fn with_printers(mut self, printers: crate::printer::Printers) -> Self {
        self.printers = Some(printers);
        self
    }
}

/// `GET /api/openapi.json`: the document, built on its first request on a
/// thread of its own and kept as JSON (113 KB). Its builders' 2 MiB of
/// small allocations stay in that thread's malloc arena, which gives them
/// back when they are freed; built on a runtime thread, they would stay in
/// the daemon's resident memory for good.
async fn openapi_json() -> Result<impl axum::response::IntoResponse, error::ApiError> {
    use error::ApiError;
    static JSON: tokio::sync::OnceCell<axum::body::Bytes> = tokio::sync::OnceCell::const_new();
    let json = JSON
        .get_or_try_init(|| async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("openapi".into())
                .spawn(move || {
                    let json = serde_json::to_vec(&api::document());
                    let _ = tx.send(json);
                })
                .map_err(|e| {
                    ApiError::internal(format_args!("no thread for the API document: {e}"))
                })?;
            let json = rx
                .await
                .map_err(|_| ApiError::internal("the API document's thread ended"))?
                .map_err(|e| ApiError::internal(format_args!("the API document: {e}")))?;
            // Copied here, so nothing of that arena stays in use.
            Ok::<_, ApiError>(axum::body::Bytes::copy_from_slice(&json))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json.clone()))
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    api::routes()
        .route("/api/openapi.json", axum::routing::get(openapi_json))
        .merge(pages::router())
        .merge(photos::router())
        .merge(sse::router())
        .merge(captive::router())
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            pages::error_pages,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            extract::device_cookie,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            extract::cookie_prefix,
        ))
        .layer(middleware::from_fn(extract::csrf_guard))
        .layer(middleware::map_response(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves `router` on `listener` (plain TCP or TLS) until `shutdown`
/// resolves and the open connections have closed (or the grace time,
/// [`conn::SHUTDOWN_GRACE`], has passed).
pub async fn serve<L>(
    listener: L,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    L::Io: wire::Socket,
{
    conn::serve(listener, router, shutdown).await
}
