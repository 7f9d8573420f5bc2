//! The disk under a bench: writing out what others left dirty before the
//! daemon starts, and a probe of how long an fsync takes on the daemon's
//! filesystem while the bench runs. Every order waits for the commit's
//! fsync, so a disk that stalls shows in the placement tail whatever the
//! daemon does; the probe says whether it did.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Writes out every filesystem's dirty pages (in CI: the builds just
/// before, gigabytes of them), so the daemon's fsyncs do not queue behind
/// that writeback. With 3 GB written beside the smoke rush, placement p99
/// rose from 2–70 ms to 350–675 ms while the daemon's CPU stayed the same.
pub fn settle() {
    let synced = std::process::Command::new("sync").status().expect("sync");
    assert!(synced.success(), "sync");
}

/// A thread that writes 4 KiB and fdatasyncs a file of its own every
/// 100 ms until stopped (about 40 KiB/s, a small share beside a daemon's
/// commits).
pub struct FsyncProbe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Duration>>,
}

impl FsyncProbe {
    /// Starts probing in `dir` (the daemon's filesystem).
    pub fn start(dir: &Path) -> FsyncProbe {
        let path = dir.join("fsync-probe");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut f = std::fs::File::create(&path).expect("probe file");
            f.write_all(&[0u8; 4096]).expect("probe write");
            let mut lat = Vec::new();
            let mut n = 0u8;
            while !flag.load(Ordering::Relaxed) {
                n = n.wrapping_add(1);
                f.write_all_at(&[n; 4096], 0).expect("probe write");
                let t = Instant::now();
                f.sync_data().expect("fdatasync");
                lat.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = std::fs::remove_file(&path);
            lat
        });
        FsyncProbe { stop, thread }
    }

    /// Stops the probe; its latencies, sorted.
    pub fn finish(self) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        let mut lat = self.thread.join().expect("probe thread");
        lat.sort_unstable();
        lat
    }
}
