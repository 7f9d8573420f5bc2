//! One behaviour on every build: a panic anywhere ends the process at once.
//!
//! Our release profile has `panic = "abort"`, but OpenWrt's packages feed
//! builds Rust with `panic=unwind` whatever Cargo.toml says; there a panic
//! in a tokio task would only end that task (tokio catches it) and the
//! daemon would go on half-working. The hook prints the panic as usual and
//! then aborts (SIGABRT), so procd or systemd restarts a whole process.
//!
//! Self-contained (std only): the binary includes it, and so does the test
//! fixture built with `panic = "unwind"` (tests/fixtures/panic-unwind).

/// Installs the hook; call first thing in `main`.
pub fn abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
}
