//! Test harness: the real app on 127.0.0.1:0 over a temp-dir redb with the
//! demo venue ([`TestServer`]), the real binary as a child process
//! ([`Daemon`]), the demo venue's names, and a dump of every table
//! ([`Dump`]) that proves a refused request wrote nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use queueless::app::Running;
use queueless::config::Config;
use queueless::store::StoreError;
use queueless::store::tables::{TableVisitor, visit_all};
use redb::{Key, ReadableTable, TableDefinition, TableHandle};
use serde_json::Value;

pub use crate::client::Client;

pub use crate::common::{
    ADMIN, BROWN_SUGAR, CLASSIC, DUMPLING_SHOP, DUMPLINGS, JUICE, JUICE_SHOP, ORANGE, PASSWORD,
    PATIENCE, PORK, TEA, TEA_SHOP, VEGGIE, cli, eventually,
};
use crate::common::{App, Venue};

/// A running app with the demo venue, over its own temp dir.
pub struct TestServer {
    running: Running,
    pub base: String,
    venue: Venue,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// The demo venue with default settings.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// The demo venue; `tweak` may change the settings (and prepare the
    /// data dir) before the app starts.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_with_clock(tweak, queueless::store::Clock::system()).await
    }

    /// [`TestServer::start_with`] with the store on `clock`.
    pub async fn start_with_clock(
        tweak: impl FnOnce(&mut Config),
        clock: queueless::store::Clock,
    ) -> TestServer {
        let App { running, base, dir } = App::start(tweak, None, Some(clock)).await;
        let venue = Venue::learn(&base).await;
        TestServer {
            running,
            base,
            venue,
            _dir: dir,
        }
    }

    /// The running store (for tests that drive it directly).
    pub fn store(&self) -> &queueless::store::Store {
        &self.running.store
    }

    pub fn port(&self) -> u16 {
        self.running.http_addr.port()
    }

    /// A new guest device (no cookies yet).
    pub fn guest(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client logged in as `email` with the demo password.
    pub async fn login(&self, email: &str) -> Client {
        let mut c = self.guest();
        c.login(email, PASSWORD).await;
        c
    }

    pub fn shop_id(&self, name: &str) -> u64 {
        self.venue.shop_id(name)
    }

    pub fn item_id(&self, name: &str) -> u64 {
        self.venue.item_id(name)
    }

    /// A shop's public menu.
    pub async fn menu(&self, shop: u64) -> Value {
        self.guest()
            .get(&format!("/api/shops/{shop}/menu"))
            .await
            .ok()
    }

    /// An item as the public menu shows it.
    pub async fn item(&self, name: &str) -> Value {
        let (shop, id) = self.venue.item(name);
        find(&self.menu(shop).await["items"], id).clone()
    }

    /// Units left of a counted item (directly or through its recipe).
    pub async fn stock_left(&self, name: &str) -> u64 {
        self.item(name).await["stock_left"]
            .as_u64()
            .expect("a counted item")
    }

    /// Every row of every table.
    pub async fn dump(&self) -> Dump {
        self.running
            .store
            .read(|txn| {
                let mut d = Dumper {
                    txn,
                    out: Dump::default(),
                };
                visit_all(&mut d)?;
                Ok(d.out)
            })
            .await
            .expect("dump the database")
    }

    /// Shuts down cleanly (the test fails if it does not).
    pub async fn stop(self) {
        self.running.shutdown().await.expect("clean shutdown");
    }
}

/// The element of a JSON array with this `id`.
pub fn find(list: &Value, id: u64) -> &Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no id {id} in {list}"))
}

/// Every table's rows, as raw bytes, by table name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dump(BTreeMap<String, Rows>);

/// A table's `(key, value)` rows as bytes.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

impl Dump {
    /// The rows of one table (empty if it has none).
    pub fn rows(&self, table: &str) -> &[(Vec<u8>, Vec<u8>)] {
        self.0.get(table).map_or(&[], Vec::as_slice)
    }

    /// Fails, naming the tables that changed, unless `after` is the same.
    pub fn assert_same(&self, after: &Dump, what: &str) {
        let changed: std::collections::BTreeSet<&String> = self
            .0
            .keys()
            .chain(after.0.keys())
            .filter(|t| self.0.get(*t) != after.0.get(*t))
            .collect();
        assert!(
            changed.is_empty(),
            "{what} wrote to the database: {changed:?} changed"
        );
    }
}

struct Dumper<'a> {
    txn: &'a redb::ReadTransaction,
    out: Dump,
}

impl TableVisitor for Dumper<'_> {
    fn visit<K: Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), StoreError> {
        let table = self.txn.open_table(def)?;
        let mut rows = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            rows.push((
                K::as_bytes(&k.value()).as_ref().to_vec(),
                V::as_bytes(&v.value()).as_ref().to_vec(),
            ));
        }
        self.out.0.insert(def.name().to_owned(), rows);
        Ok(())
    }
}

/// Units of `item` in a list of orders (cancelled ones excluded).
pub fn units_sold(orders: &[Value], item: u64) -> u64 {
    orders
        .iter()
        .filter(|o| o["status"] != "cancelled")
        .flat_map(|o| o["lines"].as_array().expect("lines").iter())
        .filter(|l| l["item_id"] == item)
        .map(|l| l["quantity"].as_u64().expect("quantity"))
        .sum()
}

/// The real binary (`serve --demo`) as a child process on a free port.
pub struct Daemon {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Daemon {
    /// Starts it over `data_dir` and waits until it answers.
    pub async fn spawn(data_dir: &Path) -> Daemon {
        // Bind port 0 to learn a free port, then free it for the daemon.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = data_dir.with_extension(format!("{port}.log"));
        let child = cli(data_dir)
            .args(["serve", "--demo", "--http", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the daemon starts");
        let mut d = Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = d.child.try_wait().expect("child state") {
                panic!("the daemon exited ({status}): {}", d.log_text());
            }
            let up = reqwest::get(format!("{}/api/shops", d.base))
                .await
                .is_ok_and(|r| r.status() == 200);
            if up {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not answer: {}",
                d.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9` of this child (and only it), then reaps it.
    pub fn sigkill(&mut self) {
        self.signal("-9");
        let status = self.child.wait().expect("reaped");
        assert!(!status.success(), "killed, not exited: {status}");
    }

    /// `kill -TERM`, then waits for a clean exit.
    pub async fn stop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("child state") {
                assert!(status.success(), "clean exit: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Only our own child: SIGKILL if it still runs, then reap it.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
