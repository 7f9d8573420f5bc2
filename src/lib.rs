//! temp
pub mod domain;
pub mod events;
pub mod store;
