//! The cursors lists hand out: opaque to clients, base64url of the last item's sort value
//! and id. The edge decodes them into [`domain::query::Cursor`] with the kind of key its
//! list's sort needs; a cursor this API did not issue for that list is refused there.

use base64::Engine;
use domain::query::{Cursor, CursorKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    /// The sort key of the last item (absent when sorting by creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    id: Uuid,
}

/// The kind of key a list's sort puts in its cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Creation order: no key, the id alone.
    None,
    Text,
    Time,
    Day,
    Number,
}

pub fn encode(c: &Cursor) -> String {
    let k = c.key.as_ref().map(|k| match k {
        CursorKey::Text(t) => t.clone(),
        CursorKey::Time(t) => t.to_rfc3339(),
        CursorKey::Day(d) => d.to_string(),
        CursorKey::Number(n) => n.to_string(),
    });
    let json = serde_json::to_vec(&Data { k, id: c.id }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// The cursor, if this API issued it for a list whose keys are of `kind`.
pub fn decode(text: &str, kind: KeyKind) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let d: Data = serde_json::from_slice(&bytes).ok()?;
    let key = match (kind, d.k) {
        (KeyKind::None, _) => None,
        (KeyKind::Text, Some(k)) => Some(CursorKey::Text(k)),
        // Held to the rule of the instants the API takes: a cursor is a request's too.
        (KeyKind::Time, Some(k)) => Some(CursorKey::Time(domain::parse_instant(&k).ok()?)),
        (KeyKind::Day, Some(k)) => Some(CursorKey::Day(domain::parse_day(&k).ok()?)),
        (KeyKind::Number, Some(k)) => Some(CursorKey::Number(k.parse().ok()?)),
        (_, None) => return None,
    };
    Some(Cursor { key, id: d.id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_refused_for_another_kind_of_list() {
        let c = Cursor {
            key: Some(CursorKey::Number(42)),
            id: Uuid::nil(),
        };
        let text = encode(&c);
        assert_eq!(decode(&text, KeyKind::Number), Some(c));
        assert!(decode(&text, KeyKind::Time).is_none());
        assert!(decode("not a cursor", KeyKind::None).is_none());
        assert!(decode("", KeyKind::None).is_none());
    }

    #[test]
    fn a_time_key_is_an_instant_as_the_api_takes_them() {
        let c = Cursor {
            key: Some(CursorKey::Time(
                chrono::DateTime::parse_from_rfc3339("2026-11-28T09:00:00.123456789Z")
                    .unwrap()
                    .to_utc(),
            )),
            id: Uuid::nil(),
        };
        assert_eq!(decode(&encode(&c), KeyKind::Time), Some(c));
        let forged = |k: &str| {
            let json = serde_json::json!({"k": k, "id": Uuid::nil()}).to_string();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        };
        assert!(decode(&forged("2026-11-28T09:00:00+01:00"), KeyKind::Time).is_some());
        for bad in [
            "0000-01-01T00:00:00Z",
            "2026-11-28 09:00:00Z",
            "-4714-01-01T00:00:00Z",
        ] {
            assert!(decode(&forged(bad), KeyKind::Time).is_none(), "{bad}");
        }
    }
}
