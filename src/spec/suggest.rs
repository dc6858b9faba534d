//! "Did you mean ...?" for unknown field names and commands: the nearest candidate by edit
//! distance, if it is near enough to be a typo rather than a different word.

/// Levenshtein distance over Unicode scalar values, case-insensitive (a field typed as
/// `PeriodSeconds` is as much a typo as `periodSecons`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `word`, when it is within a third of the word's length (at
/// least 2 edits): close enough that the user most likely meant it.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Up to `n` candidates ordered by distance, for "valid names near X are ..." lists.
pub fn nearest_n<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates.into_iter().map(|c| (edit_distance(word, c), c)).collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tutorial_typo() {
        let fields = ["timeoutSeconds", "periodSeconds", "initialDelaySeconds"];
        assert_eq!(nearest("timeoutSecoonds", fields), Some("timeoutSeconds"));
        assert_eq!(nearest("PeriodSeconds", fields), Some("periodSeconds"));
    }

    #[test]
    fn ignores_unrelated_words() {
        assert_eq!(nearest("banana", ["timeoutSeconds", "periodSeconds"]), None);
    }

    #[test]
    fn distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
