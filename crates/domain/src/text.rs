//! Text as searches compare it: without case, accents or punctuation, so that `resilience`
//! finds « Résilience » and `saint etienne` finds Saint-Étienne.

/// `s` lower-cased, transliterated to ASCII (accents, ligatures), its words separated by one
/// space and everything else dropped: `  L'Haÿ-les-Roses ` is `l hay les roses`.
pub fn normalize(s: &str) -> String {
    let plain = deunicode::deunicode(s).to_lowercase();
    plain
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text a row is searched by: its fields normalized, joined by a space (absent ones
/// left out).
pub fn searchable<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    fields
        .into_iter()
        .flatten()
        .map(normalize)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most words of a search that are matched (the longest, the most selective, first).
pub const MAX_SEARCH_WORDS: usize = 6;

/// The words of a search, normalized, distinct, the longest first, at most
/// [`MAX_SEARCH_WORDS`]; a row matches when its searchable text contains every one.
pub fn search_words(text: &str) -> Vec<String> {
    let normalized = normalize(text);
    let mut words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    words.dedup();
    words.truncate(MAX_SEARCH_WORDS);
    words.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_do_not_count() {
        assert_eq!(normalize("Saint-Étienne"), "saint etienne");
        assert_eq!(normalize("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(normalize("ŒUILLY"), "oeuilly");
        assert_eq!(
            normalize("Résilience & «transitions»"),
            "resilience transitions"
        );
        assert_eq!(normalize("—"), "");
    }

    #[test]
    fn a_row_is_searched_by_its_present_fields() {
        assert_eq!(
            searchable([Some("Littoral résilient"), None, Some("Érosion côtière")]),
            "littoral resilient erosion cotiere"
        );
        assert_eq!(searchable([None, Some(" - ")]), "");
    }

    #[test]
    fn a_search_keeps_its_most_selective_words() {
        assert_eq!(
            search_words("la Résilience du LITTORAL"),
            ["resilience", "littoral", "du", "la"]
        );
        assert_eq!(search_words("a a b"), ["a", "b"]);
        assert_eq!(search_words("1 2 3 4 5 6 7 8").len(), MAX_SEARCH_WORDS);
        assert!(search_words(" ' ").is_empty());
    }
}
