//! A panic ends the process by SIGABRT also in a build with
//! `panic = "unwind"` (OpenWrt's feed builds Rust that way): the fixture
//! program installs the binary's own hook (src/panic_hook.rs) and panics in
//! a spawned tokio task.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

fn fixture() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("tests/fixtures/panic-unwind/Cargo.toml");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), Into::into)
        .join("panic-unwind-fixture");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the fixture: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/panic-unwind-fixture")
}

#[test]
fn a_panic_in_a_spawned_task_aborts_an_unwind_build() {
    let bin = fixture();
    let out = Command::new(&bin).output().expect("fixture runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc_sigabrt()),
        "ended by SIGABRT: {:?} {stderr}",
        out.status
    );
    assert!(stderr.contains("a bug in a background task"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran after the panic");

    // Without the hook the same build lives on: the hook is what ends it.
    let out = Command::new(&bin)
        .env("FIXTURE_NO_HOOK", "1")
        .output()
        .expect("fixture runs");
    assert!(out.status.success(), "{:?}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("still running"));
}

/// SIGABRT on Linux.
fn libc_sigabrt() -> i32 {
    6
}
