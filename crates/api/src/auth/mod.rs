//! Authentication and keys: the JWT keys and their verification ([`keys`]), the token and
//! the caller's access of each request ([`token`]), and the secrets of machine clients and
//! webhooks ([`secrets`]). Who may do what is the domain's policy ([`domain::access`]).

pub mod keys;
pub mod secrets;
pub mod token;

pub use domain::Role;
pub use domain::access::{Grant, Permission, grant};
pub use keys::{Claims, JwtKeys, KeyOrigin};

/// The permissions document (`docs/permissions.md`), rendered from the domain's policy and
/// the field tiers each read model declares ([`store::tiers::all`]).
pub fn permissions_markdown() -> String {
    let mut out =
        domain::access::permissions_markdown("fabriques permissions --output docs/permissions.md");
    out.push_str("\n| schema | field | tier | shown to |\n|---|---|---|---|\n");
    for (_, schema, tiers) in store::tiers::all() {
        for (field, tier) in tiers {
            out.push_str(&format!(
                "| `{schema}` | `{field}` | {} | {} |\n",
                tier.as_str(),
                tier.audience()
            ));
        }
    }
    out.push_str("\nEvery other field of a visible row is shown to whoever may see the row.\n");
    out
}
