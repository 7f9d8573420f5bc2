//! The portal as people use it: guest, shopkeeper and pickup pages driven in
//! real headless Chromium (alerts with the browser's own autoplay rule, the
//! pickup board at TV sizes), every page checked by axe-core, and the live
//! event streams read over HTTP.

mod a11y;
mod alerts;
mod attacks;
mod axe;
mod board;
mod browser;
#[path = "../common/mod.rs"]
#[expect(dead_code, reason = "each suite uses part of the shared support")]
mod common;
mod guests;
mod kitchen;
mod languages;
mod languages_staff;
mod notes;
mod options;
mod shop_options;
mod sse;
mod staff;
mod support;
