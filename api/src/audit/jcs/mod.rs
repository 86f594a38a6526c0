//! RFC 8785 JSON Canonicalization Scheme (JCS) for `serde_json::Value`, written by
//! `serde_json_canonicalizer`: object members sorted by the UTF-16 code units of their names, no
//! whitespace, strings escaped as ECMAScript's `JSON.stringify` does, every number taken as an IEEE 754
//! double and printed in ECMAScript `Number.prototype.toString` form (an integer beyond 2^53 is first
//! rounded to the nearest double).
//!
//! The audit chain hashes these bytes, so they must never change. The hand-written implementation
//! CMS used before is kept as a test oracle (`oracle.rs`), and the tests (`tests.rs`) hold the crate to
//! it byte for byte: on the RFC 8785 examples and number table, and on arbitrary values. The crate
//! turns on `serde_json`'s `float_roundtrip`, so decimals with 17 or more significant digits now parse
//! to the correctly rounded double (CMS payloads hold integers and strings).

use serde_json::Value;

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;

/// The canonical bytes of `value`.
///
/// # Panics
///
/// Never: the canonicalizer fails only on map keys that are not strings, NaN or infinite numbers,
/// duplicate member names, raw JSON fragments and writer errors, and a `Value` written to memory has
/// none of them.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always canonicalizes")
}
