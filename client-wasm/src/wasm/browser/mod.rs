//! The browser part: the exports ([`ticket`]: the ticket handle of all three roles;
//! [`account`]: the support tab; [`admin`]: the panel) over the [`bridge`] to JavaScript
//! (`fetch`, promises, JavaScript errors, the lock that orders a handle's operations, event
//! streams). Without the `panel` feature (the reporter's module) only the anonymous reporter's
//! exports are built.

#[cfg(feature = "panel")]
mod account;
#[cfg(feature = "panel")]
mod admin;
pub(crate) mod bridge;
#[cfg(feature = "panel")]
mod device;
#[cfg(feature = "panel")]
mod session;
mod ticket;

#[cfg(feature = "panel")]
pub use self::account::*;
#[cfg(feature = "panel")]
pub use self::admin::*;
pub use self::bridge::*;
#[cfg(feature = "panel")]
pub use self::device::*;
pub use self::ticket::*;
