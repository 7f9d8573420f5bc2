//! Records the build target for `queueless --version`, rebuilds when the
//! interface text (`locales/`, compiled in by `rust_i18n::i18n!`) changes,
//! and draws the demo venue's photos (`build/demo_art.rs`) into `OUT_DIR`
//! for `src/demo_photos.rs`, so the daemon carries a PNG encoder's output,
//! not the encoder.

#[path = "build/demo_art.rs"]
mod demo_art;

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=QUEUELESS_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=build/demo_art.rs");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut table = String::from("/// Demo items with a photo: item name, PNG bytes.\n");
    table.push_str("pub const PHOTOS: &[(&str, &[u8])] = &[\n");
    for &(item, stem, background, shape) in demo_art::PHOTOS {
        let bytes = demo_art::draw(background, shape).expect("a demo photo encodes");
        let file = out.join(format!("{stem}.png"));
        std::fs::write(&file, bytes).expect("OUT_DIR is writable");
        writeln!(
            table,
            "    ({item:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    table.push_str("];\n");
    std::fs::write(out.join("demo_photos.rs"), table).expect("OUT_DIR is writable");
}
