//! A cgroup v1 pair (`cpu` and `memory`) that limits a child to a small
//! router's resources; removed on drop. Needs root and the v1 controllers
//! under `/sys/fs/cgroup`.

use std::path::PathBuf;

/// The two groups of one run.
pub struct Router {
    cpu: PathBuf,
    memory: PathBuf,
}

impl Router {
    /// Creates `queueless-<name>-<pid>` in both controllers with a CPU quota
    /// of `quota_ms` per 100 ms and `memory_mib` of memory (swap included
    /// where the kernel accounts it). `Err` says why it cannot.
    pub fn create(name: &str, quota_ms: u32, memory_mib: u64) -> Result<Router, String> {
        let leaf = format!("queueless-{name}-{}", std::process::id());
        let cpu = PathBuf::from("/sys/fs/cgroup/cpu").join(&leaf);
        let memory = PathBuf::from("/sys/fs/cgroup/memory").join(&leaf);
        for c in [&cpu, &memory] {
            std::fs::create_dir(c).map_err(|e| format!("cannot create {} ({e})", c.display()))?;
        }
        let r = Router { cpu, memory };
        let limit = memory_mib * 1024 * 1024;
        r.set(&r.cpu, "cpu.cfs_period_us", "100000")?;
        r.set(&r.cpu, "cpu.cfs_quota_us", &(quota_ms * 1000).to_string())?;
        r.set(&r.memory, "memory.limit_in_bytes", &limit.to_string())?;
        // Swap would hide the limit; not every kernel accounts it.
        let _ = std::fs::write(
            r.memory.join("memory.memsw.limit_in_bytes"),
            limit.to_string(),
        );
        let _ = std::fs::write(r.memory.join("memory.swappiness"), "0");
        Ok(r)
    }

    fn set(&self, dir: &std::path::Path, file: &str, value: &str) -> Result<(), String> {
        std::fs::write(dir.join(file), value)
            .map_err(|e| format!("cannot set {}/{file} = {value} ({e})", dir.display()))
    }

    /// The `cgroup.procs` files a shell writes its pid to before `exec`.
    pub fn procs(&self) -> [PathBuf; 2] {
        [
            self.cpu.join("cgroup.procs"),
            self.memory.join("cgroup.procs"),
        ]
    }

    fn read(&self, dir: &std::path::Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap_or_default()
    }

    /// Peak memory use of the group, bytes (page cache included).
    pub fn peak_bytes(&self) -> u64 {
        self.read(&self.memory, "memory.max_usage_in_bytes")
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// OOM kills in the group (`oom_kill` of `memory.oom_control`).
    pub fn oom_kills(&self) -> u64 {
        field(&self.read(&self.memory, "memory.oom_control"), "oom_kill")
    }

    /// How often the quota stopped the group, and for how long (ms).
    pub fn throttled(&self) -> (u64, u64) {
        let stat = self.read(&self.cpu, "cpu.stat");
        (
            field(&stat, "nr_throttled"),
            field(&stat, "throttled_time") / 1_000_000,
        )
    }
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

impl Drop for Router {
    fn drop(&mut self) {
        // The daemon has exited by now; an empty group can be removed.
        for c in [&self.cpu, &self.memory] {
            for _ in 0..50 {
                if std::fs::remove_dir(c).is_ok() || !c.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}
