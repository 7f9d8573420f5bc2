//! Records the build target for `queueless --version`.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=QUEUELESS_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
