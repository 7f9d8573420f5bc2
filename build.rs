//! Records the build target for `queueless --version`, and rebuilds when
//! the interface text (`locales/`, compiled in by `rust_i18n::i18n!`) changes.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=QUEUELESS_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=locales");
}
