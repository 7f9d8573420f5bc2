//! The portal as people use it: guest, shopkeeper and pickup pages driven in
//! real headless Chromium (alerts with the browser's own autoplay rule, the
//! pickup board at TV sizes), and the live event streams read over HTTP.

mod alerts;
mod attacks;
mod board;
mod browser;
mod guests;
mod kitchen;
mod notes;
mod options;
mod shop_options;
mod sse;
mod staff;
mod support;
