//! The portal as people use it: guest, shopkeeper and pickup pages driven in
//! real headless Chromium, and the live event streams read over HTTP.

mod browser;
mod options;
mod sse;
mod staff;
mod support;
