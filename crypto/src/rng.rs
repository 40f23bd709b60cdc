//! Randomness is always passed in: every function that needs it takes `&mut impl CryptoRng`
//! and its documentation says exactly what it draws, so tests and vectors can be deterministic.

pub use hpke::rand_core::CryptoRng;

/// The operating system's generator (`getrandom`; `crypto.getRandomValues` in the browser).
///
/// # Panics
/// Drawing from it panics if the operating system cannot provide randomness, since no secret
/// can safely be made then.
// The one place in crypto/ that names the operating system's generator (crypto/clippy.toml
// forbids it everywhere else): a constructor for callers, used by no function of this crate.
#[allow(clippy::disallowed_types)]
pub fn system_rng() -> impl CryptoRng {
    hpke::rand_core::UnwrapErr(getrandom::SysRng)
}
