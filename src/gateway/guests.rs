//! What the web side needs of a gateway, as a narrow trait: is this address
//! a guest, which MAC, is it still captive, let it through; plus the
//! settings and the client list the pages show. The running [`Gateway`]
//! answers it on this router; a fake answers it in tests without root, and
//! a gateway on another router could answer it later (SPEC, "Beyond one
//! router").

use std::net::IpAddr;

use futures_util::future::BoxFuture;

use super::mac::Mac;
use super::{CaptiveState, ClientView, Gateway, GatewayError, GatewaySettings};
use crate::domain::service::WifiSession;

/// A gateway as the web side sees it.
pub trait Guests: Send + Sync + std::fmt::Debug {
    /// The settings (the pages read `internet`).
    fn settings(&self) -> &GatewaySettings;
    /// Whether `ip` is on the guest network.
    fn is_guest(&self, ip: IpAddr) -> bool;
    /// The MAC of the guest at `ip`, if it is one.
    fn mac_of(&self, ip: IpAddr) -> Option<Mac>;
    /// Whether the guest at `ip` is still held by the portal.
    fn state_of(&self, ip: IpAddr) -> BoxFuture<'_, Result<CaptiveState, GatewayError>>;
    /// Lets a guest through for `minutes` (the session length by default).
    fn authorize(
        &self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> BoxFuture<'_, Result<WifiSession, GatewayError>>;
    /// Every client, for the admin page.
    fn clients(&self) -> BoxFuture<'_, Result<Vec<ClientView>, GatewayError>>;
}

impl Guests for Gateway {
    fn settings(&self) -> &GatewaySettings {
        Gateway::settings(self)
    }

    fn is_guest(&self, ip: IpAddr) -> bool {
        Gateway::is_guest(self, ip)
    }

    fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        Gateway::mac_of(self, ip)
    }

    fn state_of(&self, ip: IpAddr) -> BoxFuture<'_, Result<CaptiveState, GatewayError>> {
        Box::pin(Gateway::state_of(self, ip))
    }

    fn authorize(
        &self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> BoxFuture<'_, Result<WifiSession, GatewayError>> {
        Box::pin(Gateway::authorize(self, mac, minutes))
    }

    fn clients(&self) -> BoxFuture<'_, Result<Vec<ClientView>, GatewayError>> {
        Box::pin(Gateway::clients(self))
    }
}
