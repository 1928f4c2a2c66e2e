//! "Did you mean" suggestions and lists of expected keys for error messages.

/// The closest candidate to a misspelled `word`, as help text: "did you mean `next`?".
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|best| format!("did you mean `{best}`?"))
}

/// The candidate closest to `word`, if any is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                similarity(&word_lower, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        // Ties go to the alphabetically first candidate: callers pass hash sets, whose order
        // changes from run to run, and a hint must not.
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate)
}

/// Jaro-Winkler favours shared prefixes; one edit in a short word (`GOT`, `GET`) counts as
/// close too, and swapping two neighbours (`GTE`, `GET`) is one edit.
fn similarity(word: &str, candidate: &str) -> f64 {
    let one_edit = strsim::osa_distance(word, candidate) <= 1 && word.chars().count() >= 3;
    match one_edit {
        true => 1.0_f64.min(0.8_f64.max(strsim::jaro_winkler(word, candidate))),
        false => strsim::jaro_winkler(word, candidate),
    }
}

/// " (expected one of `a`, `b`)" for an unknown key, or nothing when no key is allowed.
pub fn expected_keys(expected: &[&str]) -> String {
    match expected {
        [] => String::new(),
        _ => format!(" (expected one of {})", backticked(expected)),
    }
}

/// " (expected one of `a`, `b`)" for an unknown value.
pub fn expected_values(expected: &[&str]) -> String {
    format!(" (expected one of {})", backticked(expected))
}

/// "a" or "an", for "a `message` block" and "an `end` block".
pub fn article(word: &str) -> &'static str {
    match word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        true => "an",
        false => "a",
    }
}

/// `a`, `b`, `c`.
pub fn backticked(words: &[&str]) -> String {
    words
        .iter()
        .map(|word| format!("`{word}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_key() {
        assert_eq!(
            did_you_mean("nxt", ["next", "message"]).as_deref(),
            Some("did you mean `next`?")
        );
        assert_eq!(
            did_you_mean("list_prodcts", ["list_products", "pick"]).as_deref(),
            Some("did you mean `list_products`?")
        );
    }

    #[test]
    fn one_edit_in_a_short_word_is_close() {
        assert_eq!(closest("GOT", ["GET", "POST"]), Some("GET"));
    }

    #[test]
    fn swapped_letters_are_close() {
        assert_eq!(closest("GTE", ["GET", "POST"]), Some("GET"));
        assert_eq!(closest("nxet", ["next", "message"]), Some("next"));
    }

    #[test]
    fn a_tie_goes_to_the_same_candidate_whatever_the_order() {
        assert_eq!(closest("cat", ["hat", "bat"]), Some("bat"));
        assert_eq!(closest("cat", ["bat", "hat"]), Some("bat"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(did_you_mean("zzz", ["next", "message"]), None);
    }
}
