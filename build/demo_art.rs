//! The demo venue's item photos, drawn when the crate is built (no
//! downloaded images, and no PNG encoder in the daemon): a 96 × 96 PNG per
//! item, a round shape (a cup's top, a dumpling, a glass) on a soft
//! gradient in the item's colours, a few hundred bytes each. `build.rs`
//! writes them to `OUT_DIR`; `src/demo_photos.rs` includes them.

/// Side of a demo photo, in pixels.
pub const SIDE: u32 = 96;

/// Demo items with a photo: name, file stem, background and shape colours.
pub const PHOTOS: &[(&str, &str, [u8; 3], [u8; 3])] = &[
    (
        "Classic milk tea",
        "classic-milk-tea",
        [0xF3, 0xE4, 0xCF],
        [0xB5, 0x83, 0x4F],
    ),
    (
        "Taro milk tea",
        "taro-milk-tea",
        [0xEE, 0xE6, 0xF5],
        [0xA8, 0x8B, 0xC9],
    ),
    (
        "Pork dumplings (6)",
        "pork-dumplings",
        [0xF2, 0xEE, 0xE4],
        [0xE9, 0xD9, 0xB8],
    ),
    (
        "Orange juice",
        "orange-juice",
        [0xFF, 0xF1, 0xDC],
        [0xF5, 0x9E, 0x2B],
    ),
];

/// A PNG of a disc of `shape` on a vertical gradient from `background`.
pub fn draw(background: [u8; 3], shape: [u8; 3]) -> Result<Vec<u8>, png::EncodingError> {
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    let c = f64::from(SIDE) / 2.0;
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (dx, dy) = (f64::from(x) + 0.5 - c, f64::from(y) + 0.5 - c * 1.1);
            let inside = (dx * dx + dy * dy).sqrt() < c * 0.62;
            let shade = u8::try_from(y / 6).unwrap_or(0);
            let rgb = if inside {
                shape
            } else {
                background.map(|v| v.saturating_sub(shade))
            };
            pixels.extend_from_slice(&rgb);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}
