//! Storage: the data directory on a small tmpfs the test mounts (root
//! only; skipped with a message otherwise, failed under `CI`).
//!
//! - Below the floor of free space new orders are refused with a clear
//!   status while reads and staff actions on placed orders keep working;
//!   after space is freed orders are taken again, without a restart.
//! - A write that hits a full disk: honest 503s meanwhile, the store
//!   re-opens the database by itself once space is back, and no
//!   acknowledged order is lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{JUICE, ORANGE, TestServer, cli, eventually};

/// A tmpfs of `size` MiB mounted on a temp dir; unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts it, or says why not: `None` skips the test (fails under CI).
    pub fn mount(size_mib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m,mode=0700")])
            .arg("tmpfs")
            .arg(dir.path())
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Tmpfs { dir }),
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        };
        let message = format!("cannot mount a tmpfs (needs root): {why}");
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        None
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Free bytes on it.
    pub fn free(&self) -> u64 {
        queueless::store::space::measure(self.path())
            .expect("statvfs")
            .0
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a writer thread may still be closing the file after a failed test.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes zeros to `path` until `bytes` are written or the disk is full.
fn fill(path: &Path, bytes: u64) -> u64 {
    let mut f = std::fs::File::create(path).expect("filler file");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    while written < bytes {
        let n = usize::try_from((bytes - written).min(chunk.len() as u64)).expect("small");
        match f.write(&chunk[..n]) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = f.sync_all();
    written
}

async fn status_text(data: PathBuf) -> String {
    tokio::task::spawn_blocking(move || {
        let out = cli(&data).arg("status").output().expect("queueless status");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
    .await
    .expect("status task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_floor_new_orders_wait_while_placed_ones_are_finished() {
    let Some(fs) = Tmpfs::mount(24) else { return };
    let data = fs.path().join("data");
    let d = data.clone();
    let server = TestServer::start_with(move |c| {
        c.data_dir = d;
        c.auto_cancel_seconds = 0;
        c.space_warning_mib = 12;
        c.space_floor_mib = 8;
    })
    .await;
    let orange = server.item_id(ORANGE);
    let mut guest = server.guest();
    let mut placed = Vec::new();
    for i in 0..4 {
        placed.push(guest.place(&[(orange, 1)], &format!("before-{i}")).await);
    }

    // Leave 6 MiB: below the floor (8), above nothing.
    let filler = fs.path().join("filler");
    let free = fs.free();
    fill(&filler, free.saturating_sub(6 * 1024 * 1024));
    let refused = guest
        .order(&[(orange, 1)], "storage-at-the-floor-0001")
        .await;
    assert_eq!(refused.error(503), "out_of_storage", "{}", refused.body);
    assert!(
        refused.message().contains("out of storage") && refused.message().contains("counter"),
        "{}",
        refused.message()
    );
    let status = status_text(data.clone()).await;
    assert!(status.contains("new orders are refused"), "{status}");

    // Reads and staff actions on placed orders keep working.
    server
        .menu(server.shop_id(crate::support::JUICE_SHOP))
        .await;
    for o in &placed {
        assert_eq!(guest.view(o).await["status"], "placed");
    }
    let mut staff = server.login(JUICE).await;
    for stage in ["accepted", "preparing", "ready", "completed"] {
        staff.set_status(&placed[0], stage).await.expect(200);
    }
    staff.set_status(&placed[1], "cancelled").await.expect(200);
    staff
        .post(
            &format!("/api/shop/orders/{}/payment", placed[2]["id"]),
            serde_json::json!({"status": "successful"}),
        )
        .await
        .expect(200);

    // Space is freed: orders are taken again, without a restart.
    std::fs::remove_file(&filler).expect("remove the filler");
    let again = guest.place(&[(orange, 1)], "after-freeing").await;
    placed.push(again);
    let status = status_text(data.clone()).await;
    assert!(status.contains("(ok)"), "{status}");
    for o in &placed {
        guest.view(o).await;
    }
    assert_eq!(guest.view(&placed[0]).await["status"], "completed");
    server.stop().await;
    drop(fs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_survived_without_a_restart_or_a_lost_order() {
    let Some(fs) = Tmpfs::mount(8) else { return };
    let d = fs.path().join("data");
    let server = TestServer::start_with(move |c| {
        c.data_dir = d;
        c.auto_cancel_seconds = 0;
        // No floor: let the writes meet the full disk itself.
        c.space_warning_mib = 0;
        c.space_floor_mib = 0;
    })
    .await;
    let orange = server.item_id(ORANGE);
    let mut guest = server.guest();
    let mut acknowledged: Vec<Value> = Vec::new();
    for i in 0..3 {
        acknowledged.push(guest.place(&[(orange, 1)], &format!("before-{i}")).await);
    }
    let filler = fs.path().join("filler");
    fill(&filler, u64::MAX);
    assert!(fs.free() < 64 * 1024, "the disk is full: {}", fs.free());

    // Orders until one meets the full disk; every 201 is kept.
    let mut failure = None;
    for i in 0..5000 {
        let r = guest
            .order(&[(orange, 2)], &format!("storage-until-full-{i:05}"))
            .await;
        if r.status == 201 {
            acknowledged.push(r.body["orders"][0].clone());
        } else {
            failure = Some(r);
            break;
        }
    }
    let failure = failure.expect("some write met the full disk");
    assert_eq!(failure.error(503), "storage_failed", "{}", failure.body);
    assert!(
        !failure.message().contains("restarting") && failure.message().contains("counter"),
        "an honest message: {}",
        failure.message()
    );
    // While the disk stays full, requests keep getting the honest error.
    let still = guest.order(&[(orange, 1)], "storage-still-full-0001").await;
    assert_eq!(still.error(503), "storage_failed");

    // Space comes back: the store re-opens the file by itself.
    std::fs::remove_file(&filler).expect("remove the filler");
    let mut n = 0;
    eventually("orders are taken again", || {
        n += 1;
        let mut g = guest.clone();
        let key = format!("storage-after-freeing-{n:05}");
        async move { g.order(&[(orange, 1)], &key).await.status == 201 }
    })
    .await;
    for o in &acknowledged {
        let token = o["token"].as_str().expect("token");
        let seen = guest.get(&format!("/api/orders/{token}")).await;
        assert_eq!(seen.status, 200, "acknowledged order {} lost", o["id"]);
    }
    server.stop().await;
    drop(fs);
}
