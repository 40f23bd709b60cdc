//! The browser part: the exports ([`ticket`]: the ticket handle of all three roles;
//! [`account`]: the support tab; [`admin`]: the panel) over the [`bridge`] to JavaScript
//! (`fetch`, promises, JavaScript errors, the lock that orders a handle's operations, event
//! streams). Each page's module has its feature (client-wasm/Cargo.toml): `account` (the
//! support tab), `admin` (the panel), both on the sign-in of `session`; without any (the
//! reporter's module) only the anonymous reporter's exports are built.

#[cfg(feature = "session")]
mod account;
#[cfg(feature = "admin")]
mod admin;
#[cfg(feature = "bench")]
mod bench;
pub(crate) mod bridge;
#[cfg(feature = "admin")]
mod canned;
#[cfg(feature = "session")]
mod device;
#[cfg(feature = "admin")]
mod recoveries;
#[cfg(feature = "reporter")]
mod recovery;
#[cfg(feature = "admin")]
mod search;
#[cfg(feature = "session")]
mod session;
mod ticket;

#[cfg(feature = "session")]
pub use self::account::*;
#[cfg(feature = "admin")]
pub use self::admin::*;
#[cfg(feature = "bench")]
pub use self::bench::*;
pub use self::bridge::*;
#[cfg(feature = "admin")]
pub use self::canned::*;
#[cfg(feature = "session")]
pub use self::device::*;
#[cfg(feature = "admin")]
pub use self::recoveries::*;
#[cfg(feature = "reporter")]
pub use self::recovery::*;
#[cfg(feature = "admin")]
pub use self::search::*;
pub use self::ticket::*;
