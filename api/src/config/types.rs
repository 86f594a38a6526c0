//! The value types and parsers the setting groups share: [`List`] (a comma-separated variable), the
//! path parser that accepts the empty string, and the helpers that read an empty optional setting as
//! unset. Secrets are [`crate::secret::Secret`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::secret::Secret;
use std::str::FromStr;

/// A comma-separated list. Empty items are skipped, so an empty variable is an empty list.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct List<T>(pub Vec<T>);

impl<T> List<T> {
    /// The items.
    pub fn items(&self) -> &[T] {
        &self.0
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: FromStr> FromStr for List<T>
where
    T::Err: fmt::Display,
{
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse().map_err(|e: T::Err| e.to_string()))
            .collect::<Result<Vec<T>, String>>()
            .map(List)
    }
}

/// Unlike clap's default path parser, accepts the empty string (read as unset by the accessors).
pub(super) fn any_path(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s))
}

pub(super) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

pub(super) fn non_empty_secret(value: &Option<Secret<String>>) -> Option<&str> {
    value
        .as_ref()
        .map(|v| v.expose().as_str())
        .filter(|v| !v.trim().is_empty())
}

pub(super) fn non_empty_path(value: &Option<PathBuf>) -> Option<&Path> {
    value.as_deref().filter(|p| !p.as_os_str().is_empty())
}
