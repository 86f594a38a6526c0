//! Small helpers that normalise and measure free text. Lengths are counted in Unicode scalar values
//! (`char`s) after trimming surrounding whitespace, so limits mean the same for every script.

/// Trims `raw` and returns it when its length in chars lies within `min..=max`.
pub(crate) fn bounded(raw: &str, min: usize, max: usize) -> Option<String> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    (min..=max).contains(&len).then(|| trimmed.to_owned())
}

/// Like [`bounded`], for an optional text: `None` stays `None`; a present text must satisfy the bounds.
pub(crate) fn bounded_opt(raw: Option<&str>, min: usize, max: usize) -> Result<Option<String>, ()> {
    match raw {
        None => Ok(None),
        Some(text) => bounded(text, min, max).map(Some).ok_or(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bounded_counts_chars_after_trimming() {
        assert_eq!(bounded("  héé ", 3, 3), Some("héé".to_owned()));
        assert_eq!(bounded("   ", 1, 10), None);
        assert_eq!(bounded("abcd", 1, 3), None);
    }

    #[test]
    fn bounded_opt_keeps_absence() {
        assert_eq!(bounded_opt(None, 1, 3), Ok(None));
        assert_eq!(bounded_opt(Some(" "), 1, 3), Err(()));
        assert_eq!(bounded_opt(Some("ab"), 1, 3), Ok(Some("ab".to_owned())));
    }
}
