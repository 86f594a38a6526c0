//! Helpers for the settings tests: parse [`Settings`] like the command line (optionally with a data
//! directory), write key files, and a token to mint.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use cms_domain::actor::Role;

use super::Settings;
use crate::auth::TokenSpec;

/// `cms <args>`'s settings.
pub(crate) fn parse(args: &[&str]) -> Settings {
    let mut all = vec!["cms"];
    all.extend_from_slice(args);
    Settings::try_parse_from(all).unwrap()
}

/// `cms --data-dir <dir> <args>`'s settings.
pub(crate) fn in_dir(dir: &Path, args: &[&str]) -> Settings {
    let data_dir = dir.to_str().unwrap();
    let mut all = vec!["--data-dir", data_dir];
    all.extend_from_slice(args);
    parse(&all)
}

/// Writes `text` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A warden's token for hostel `north`.
pub(crate) fn spec() -> TokenSpec {
    TokenSpec {
        sub: "w-1".to_owned(),
        role: Role::Warden,
        hostels: vec!["north".to_owned()],
        name: None,
        ttl: Duration::from_secs(600),
    }
}
