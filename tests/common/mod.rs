//! Shared by the integration suites (core, portal, https, gateway): the demo
//! venue's names, the real app in-process on 127.0.0.1:0 over a temp dir
//! ([`App`]), the real binary blind to the caller's `QUEUELESS_*` settings
//! ([`cli`]), ids looked up by name ([`Venue`]) and polling with a deadline
//! ([`eventually`]). Each suite includes it with
//! `#[path = "../common/mod.rs"] mod common;` and keeps its own clients and
//! helpers, which build on these.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use queueless::app::{self, Running};
use queueless::config::Config;
use serde_json::Value;

/// Password of every demo account.
pub const PASSWORD: &str = "queueless-demo";
pub const ADMIN: &str = "admin@demo.queueless";
/// Shopkeeper of [`TEA_SHOP`], made from ingredients.
pub const TEA: &str = "tea@demo.queueless";
/// Shopkeeper of [`DUMPLING_SHOP`], counted stock.
pub const DUMPLINGS: &str = "dumplings@demo.queueless";
/// Shopkeeper of [`JUICE_SHOP`], no stock limits.
pub const JUICE: &str = "juice@demo.queueless";

pub const TEA_SHOP: &str = "Bubble Lab";
pub const DUMPLING_SHOP: &str = "Dumpling House";
pub const JUICE_SHOP: &str = "Fresh Press";

/// Tea: 1 cup, 40 g tapioca, 120 ml milk, 250 ml black tea.
pub const CLASSIC: &str = "Classic milk tea";
/// Tea: 1 cup, 80 g tapioca, 250 ml milk.
pub const BROWN_SUGAR: &str = "Brown sugar boba";
/// Dumplings: counted, 40 at start.
pub const PORK: &str = "Pork dumplings (6)";
/// Dumplings: counted, 30 at start.
pub const VEGGIE: &str = "Vegetable dumplings (6)";
/// Juice: unlimited.
pub const ORANGE: &str = "Orange juice";

/// How long any polling loop waits before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Waits until `check` is true, polling; fails after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `queueless` binary cargo built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_queueless")
}

/// The binary with `--data-dir`, blind to the caller's `QUEUELESS_*`
/// settings (an unknown one would stop it; a known one would change it).
pub fn cli(data_dir: &Path) -> Command {
    let mut c = Command::new(binary());
    blind(&mut c).arg("--data-dir").arg(data_dir);
    c
}

/// Keeps the caller's `QUEUELESS_*` variables from `c` (and what it runs).
pub fn blind(c: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if name.as_encoded_bytes().starts_with(b"QUEUELESS_") {
            c.env_remove(name);
        }
    }
    c
}

/// Settings for an app on loopback over `dir`: HTTP on port 0, nothing else.
pub fn loopback_config(dir: &Path) -> Config {
    let mut c = queueless::config::defaults();
    c.data_dir = dir.join("data");
    c.http = SocketAddr::from(([127, 0, 0, 1], 0));
    c
}

/// The real app with the demo venue, over its own temp dir.
pub struct App {
    pub running: Running,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl App {
    /// Starts it; `tweak` may change the settings (and prepare the data
    /// dir) first. `guests` is the web side's gateway (a fake: no root),
    /// `clock` the store's; at most one of them.
    pub async fn start(
        tweak: impl FnOnce(&mut Config),
        guests: Option<Arc<dyn queueless::gateway::Guests>>,
        clock: Option<queueless::store::Clock>,
    ) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = loopback_config(dir.path());
        config.demo = true;
        tweak(&mut config);
        let running = match (guests, clock) {
            (guests, None) => app::start_with(config, guests).await,
            (None, Some(clock)) => app::start_with_clock(config, clock).await,
            (Some(_), Some(_)) => panic!("the app takes a fake gateway or a clock, not both"),
        }
        .expect("the app starts");
        let base = format!("http://{}", running.http_addr);
        App { running, base, dir }
    }
}

/// The venue's shops and items by name, read through the public API, so
/// tests never hard-code an id.
#[derive(Debug, Default)]
pub struct Venue {
    shops: BTreeMap<String, u64>,
    /// Item name → (shop, item).
    items: BTreeMap<String, (u64, u64)>,
}

impl Venue {
    /// Reads `/api/shops` and each shop's menu at `base` (plain HTTP).
    pub async fn learn(base: &str) -> Venue {
        let http = reqwest::Client::new();
        let get = |path: String| {
            let http = http.clone();
            async move {
                let r = http.get(path).send().await.expect("the API answers");
                assert_eq!(r.status(), 200, "{}", r.url());
                r.json::<Value>().await.expect("JSON")
            }
        };
        let mut v = Venue::default();
        let shops = get(format!("{base}/api/shops")).await;
        for s in shops.as_array().expect("shop list") {
            let id = s["id"].as_u64().expect("shop id");
            v.shops
                .insert(s["name"].as_str().expect("name").to_owned(), id);
            let menu = get(format!("{base}/api/shops/{id}/menu")).await;
            for i in menu["items"].as_array().expect("items") {
                let name = i["name"].as_str().expect("name").to_owned();
                v.items
                    .insert(name, (id, i["id"].as_u64().expect("item id")));
            }
        }
        v
    }

    /// The id of the shop called `name`.
    pub fn shop_id(&self, name: &str) -> u64 {
        *self
            .shops
            .get(name)
            .unwrap_or_else(|| panic!("no shop {name:?}; there are {:?}", self.shops.keys()))
    }

    /// The shop and id of the item called `name`.
    pub fn item(&self, name: &str) -> (u64, u64) {
        *self
            .items
            .get(name)
            .unwrap_or_else(|| panic!("no item {name:?}; there are {:?}", self.items.keys()))
    }

    /// The id of the item called `name`.
    pub fn item_id(&self, name: &str) -> u64 {
        self.item(name).1
    }
}
