//! Test harness: a real server over a temp-dir redb on 127.0.0.1:0, an HTTP
//! client that keeps its cookies, and headless Chromium via chromedriver.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use queueless::app::Running;
use serde_json::{Value, json};

use crate::common::{App, Venue};
pub use crate::common::{DUMPLING_SHOP, PASSWORD};

impl From<App> for Server {
    fn from(app: App) -> Server {
        Server {
            running: app.running,
            base: app.base,
            _dir: app.dir,
        }
    }
}

/// A running daemon with the demo venue.
pub struct Server {
    pub running: Running,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        Server::from(App::start(|_| {}, None, None).await)
    }

    /// The same, with the web side's gateway given (a fake: no root).
    pub async fn start_with_guests(guests: Arc<dyn queueless::gateway::Guests>) -> Server {
        Server::from(App::start(|_| {}, Some(guests), None).await)
    }

    /// The same, served over HTTPS (the self-signed certificate for
    /// `localhost`); `base` is the HTTPS address.
    pub async fn start_https() -> Server {
        let app = App::start(
            |c| c.https = Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            None,
            None,
        )
        .await;
        let port = app.running.https_addr.expect("https").port();
        Server {
            base: format!("https://localhost:{port}"),
            ..Server::from(app)
        }
    }

    /// The venue's shop and item ids by name (read over plain HTTP).
    pub async fn venue(&self) -> Venue {
        Venue::learn(&format!("http://{}", self.running.http_addr)).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(self) {
        self.running.shutdown().await.expect("clean shutdown");
    }
}

/// A JSON API client that carries its cookies (device, login).
pub struct Api {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: server.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((pair, _)) = v.to_str().expect("ascii cookie").split_once(';') else {
                continue;
            };
            let (k, val) = pair.split_once('=').expect("cookie pair");
            self.cookies.retain(|(n, _)| n != k);
            self.cookies.push((k.to_owned(), val.to_owned()));
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request sent");
        self.keep(&r);
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn login(&mut self, email: &str) {
        let (status, body) = self
            .send(
                "POST",
                "/api/auth/login",
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "login of {email}: {body}");
    }

    /// GET a page: status, body, and the redirect target if any.
    pub async fn page(&mut self, path: &str) -> (u16, String, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("request sent");
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (status, r.text().await.expect("body"), location)
    }

    /// POST a form (as a browser on this site would): status, body, redirect.
    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        self.post_raw(
            path,
            "application/x-www-form-urlencoded",
            encode(fields).into_bytes(),
        )
        .await
    }

    /// POST any body with any content type, as a browser or an attacker
    /// could: status, body, redirect.
    pub async fn post_raw(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, String, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (status, r.text().await.expect("body"), location)
    }

    /// Sets a cookie by hand (one someone planted, or copied).
    pub fn plant_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// The value of one of this client's cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// The CSRF token of this device, read from a page's form.
    pub async fn csrf(&mut self) -> String {
        let (_, body, _) = self.page("/staff/login").await;
        body.split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a form with a token")
            .to_owned()
    }

    /// Cookie header value, for raw streams.
    pub fn cookies(&self) -> String {
        self.cookie_header()
    }
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether this test may run; without Chromium it fails in CI and skips
/// elsewhere, saying why either way.
pub fn browser_available() -> bool {
    let missing: Vec<&str> = ["chromium", "chromedriver"]
        .into_iter()
        .filter(|b| {
            Command::new("which")
                .arg(b)
                .stdout(Stdio::null())
                .status()
                .map(|s| !s.success())
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "browser test needs {} (Debian packages chromium and chromium-driver; .ci/run installs them)",
        missing.join(" and ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    false
}

/// A chromedriver child process on a free port; it and the browsers it
/// started are killed (by its process group) on drop.
pub struct Driver {
    child: Child,
    pub url: String,
    profiles: tempfile::TempDir,
}

impl Driver {
    pub async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        // Its own process group: the browsers it starts are ended with it,
        // even when a failing test never closes its session.
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver {
            child,
            url,
            profiles: tempfile::tempdir().expect("profiles dir"),
        }
    }

    /// A new browser with its own profile (its own cookies): one person.
    pub async fn browser(&self, name: &str) -> Client {
        self.browser_with(name, &[]).await
    }

    /// A browser with `extra` command-line switches.
    pub async fn browser_with(&self, name: &str, extra: &[&str]) -> Client {
        self.open(name, extra, false, false).await
    }

    /// A phone: the page laid out 390 px wide (headless windows are at
    /// least 500 px, so the width is emulated), with `extra` switches.
    pub async fn phone(&self, name: &str, extra: &[&str]) -> Client {
        self.open(name, extra, true, false).await
    }

    /// A phone whose pages run no JavaScript: blocked by the content
    /// setting, as a user switching it off would (the `scriptEnabled=false`
    /// switch also stops ChromeDriver's own scripts, and every navigation
    /// then waits out its timeout).
    pub async fn phone_without_scripts(&self, name: &str) -> Client {
        self.open(name, &[], true, true).await
    }

    async fn open(&self, name: &str, extra: &[&str], phone: bool, no_scripts: bool) -> Client {
        let profile = self.profiles.path().join(name);
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=412,915",
            "--autoplay-policy=no-user-gesture-required",
        ]
        .into_iter()
        // A switch in `extra` replaces the default of the same name.
        .filter(|d| {
            let name = d.split('=').next().unwrap_or(d);
            !extra.iter().any(|e| e.split('=').next() == Some(name))
        })
        .chain(extra.iter().copied())
        .map(str::to_owned)
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = serde_json::Map::new();
        let mut options = json!({ "binary": "/usr/bin/chromium", "args": args });
        if phone {
            // Taps are touch events, which ChromeDriver sends only after a
            // timer in the page fires: with scripts blocked that never
            // happens, so a phone without scripts clicks with the mouse.
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": 390, "height": 844, "pixelRatio": 1.0, "touch": !no_scripts,
            }});
        }
        if no_scripts {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group this driver leads: chromedriver and its browsers.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `css` matches an element whose text contains `text`.
pub async fn wait_text(c: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = None;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t.contains(text) {
                return;
            }
            seen = Some(t);
        }
        assert!(
            Instant::now() < deadline,
            "no {css:?} with text {text:?} within 10 s on {} (it says {seen:?})",
            c.current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks what `css` matches (it must be there).
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Waits until `css` matches something.
pub async fn wait_for(c: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.find(Locator::Css(css)).await.is_err() {
        assert!(Instant::now() < deadline, "no {css:?} within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where screenshots go: `QUEUELESS_SCREENSHOTS`, else under target/.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("QUEUELESS_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Saves a PNG of what `c` shows now.
pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

/// A guest places one unit of `item`: the order's id and status token.
pub async fn place(guest: &mut Api, item: u64, key: &str) -> (u64, String) {
    let (status, body) = guest
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": item, "quantity": 1}], "idempotency_key": format!("test-checkout-of-{key}")})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let o = &body["orders"][0];
    (
        o["id"].as_u64().expect("id"),
        o["token"].as_str().expect("token").to_owned(),
    )
}

/// The shopkeeper moves an order on (with a reason when cancelling).
pub async fn advance(keeper: &mut Api, id: u64, status: &str) {
    let mut body = json!({"status": status});
    if status == "cancelled" {
        body["reason"] = json!("Out of tapioca today, sorry");
    }
    let (code, reply) = keeper
        .send("POST", &format!("/api/shop/orders/{id}/status"), Some(body))
        .await;
    assert_eq!(code, 200, "{status}: {reply}");
}

/// An attribute of `<body>` (the pages' state for tests).
pub async fn body_attr(c: &Client, name: &str) -> Option<String> {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .attr(name)
        .await
        .expect("attribute")
}

/// Waits until `<body>` has `name="value"`.
pub async fn wait_attr(c: &Client, name: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = body_attr(c, name).await;
        if now.as_deref() == Some(value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "body {name} is {now:?}, not {value:?}, after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
