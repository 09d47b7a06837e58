//! Field tiers, declared once per resource.
//!
//! Policy: each read model says which of its fields are not public ([`Tiered::TIERS`]); the
//! same declaration redacts the typed value a caller reads ([`Tiered::redact`]), the journal
//! states of the history, the change feed and webhook payloads ([`redact_state`]), and is
//! shown in the OpenAPI document on each such property. Tests check that `redact` clears
//! exactly the declared fields.

use domain::{EntityType, Tier, View};
use serde::Serialize;

/// A read model whose non-public fields are declared.
pub trait Tiered: Serialize {
    /// The name of its schema in the OpenAPI document.
    const SCHEMA: &'static str;
    /// Its fields that are not public, with their tier. Each is optional in the schema and
    /// left out when the caller may not see it.
    const TIERS: &'static [(&'static str, Tier)];

    /// Clears what `view` does not show.
    fn redact(&mut self, view: View);
}

/// A tiered resource: its journal entity type (if it is journalled), its schema name, its
/// tiers.
pub type TieredResource = (
    Option<EntityType>,
    &'static str,
    &'static [(&'static str, Tier)],
);

/// Every tiered resource.
pub fn all() -> Vec<TieredResource> {
    use crate::*;
    vec![
        (
            Some(EntityType::Participation),
            participations::Participation::SCHEMA,
            participations::Participation::TIERS,
        ),
        (
            Some(EntityType::Seminar),
            seminars::Seminar::SCHEMA,
            seminars::Seminar::TIERS,
        ),
        (
            Some(EntityType::WorkingGroupMember),
            working_groups::Member::SCHEMA,
            working_groups::Member::TIERS,
        ),
        (
            Some(EntityType::RoadmapAction),
            roadmaps::Action::SCHEMA,
            roadmaps::Action::TIERS,
        ),
        (None, events::Actor::SCHEMA, events::Actor::TIERS),
    ]
}

/// The tiers of a journal state of this entity type.
pub fn of(entity_type: EntityType) -> &'static [(&'static str, Tier)] {
    all()
        .into_iter()
        .find(|(t, _, _)| *t == Some(entity_type))
        .map(|(_, _, tiers)| tiers)
        .unwrap_or_default()
}

/// Removes from a journal state the fields `view` does not show. A roadmap's state carries
/// its actions: each is redacted as an action.
pub fn redact_state(entity_type: EntityType, state: &mut serde_json::Value, view: View) {
    let Some(obj) = state.as_object_mut() else {
        return;
    };
    for (field, tier) in of(entity_type) {
        if !view.shows(*tier) {
            obj.remove(*field);
        }
    }
    if entity_type == EntityType::Roadmap
        && let Some(serde_json::Value::Array(actions)) = obj.get_mut("actions")
    {
        for a in actions {
            redact_state(EntityType::RoadmapAction, a, view);
        }
    }
}

/// Serializes `value` fully, redacts it with `view`, and returns the keys that went.
#[cfg(test)]
pub fn removed_keys<T: Tiered + Clone>(value: &T, view: View) -> Vec<String> {
    let full = serde_json::to_value(value).unwrap_or_default();
    let mut r = value.clone();
    r.redact(view);
    let redacted = serde_json::to_value(&r).unwrap_or_default();
    let mut out: Vec<String> = full
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| redacted.get(k.as_str()).is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The keys `view` hides according to the declaration.
#[cfg(test)]
pub fn declared_hidden<T: Tiered>(view: View) -> Vec<String> {
    let mut out: Vec<String> = T::TIERS
        .iter()
        .filter(|(_, t)| !view.shows(*t))
        .map(|(f, _)| (*f).to_owned())
        .collect();
    out.sort();
    out
}
