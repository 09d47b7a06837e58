//! Authentication and keys: the JWT keys and their verification ([`keys`]), the token and
//! the caller's access of each request ([`token`]), and the secrets of machine clients and
//! webhooks ([`secrets`]). Who may do what is the domain's policy ([`domain::access`]).

pub mod keys;
pub mod secrets;
pub mod token;

pub use domain::Role;
pub use domain::access::{Grant, Permission, grant};
pub use keys::{Claims, JwtKeys, KeyOrigin};

/// The permissions document (`docs/permissions.md`), rendered from the domain's policy.
pub fn permissions_markdown() -> String {
    domain::access::permissions_markdown("fabriques permissions --output docs/permissions.md")
}
