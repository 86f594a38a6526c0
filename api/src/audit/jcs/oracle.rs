//! The hand-written RFC 8785 JSON Canonicalization Scheme (JCS) CMS chained with until it moved to
//! `serde_json_canonicalizer`, kept unchanged (only its tests moved) as a test oracle: every stored
//! chain hash and checkpoint signature was computed from these bytes, so the crate must keep producing
//! them. Object members sorted by the UTF-16 code units of their names, no whitespace, strings escaped
//! as ECMAScript's `JSON.stringify` does, numbers in ECMAScript `Number.prototype.toString` form.
//!
//! Numbers: integers of magnitude up to 2^53 print as themselves; every other number is taken as an
//! IEEE 754 double (as JCS requires) and printed from ryu's shortest round-trip digits, laid out by
//! the ECMAScript rules. `serde_json` (without `float_roundtrip`) may parse a decimal with 17 or more
//! significant digits one ulp away from the correctly rounded double; CMS payloads hold integers and
//! strings, and a value already in memory is canonicalized exactly.

use std::fmt::Write;

use serde_json::Value;

/// The largest integer every double represents exactly (2^53).
const MAX_SAFE: u64 = 1 << 53;

/// The canonical bytes of `value`.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(&mut out, value);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE) {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE) {
        let _ = write!(out, "{i}");
    } else {
        // serde_json numbers are always finite.
        out.push_str(&format_double(n.as_f64().unwrap_or(0.0)));
    }
}

/// ECMAScript `Number.prototype.toString(10)` of a finite double (NaN and infinities print as
/// `null`, which JSON cannot carry anyway).
pub fn format_double(x: f64) -> String {
    if !x.is_finite() {
        return "null".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned(); // also -0
    }
    if x < 0.0 {
        return format!("-{}", format_double(-x));
    }
    // Ryu gives the shortest digits that round-trip, ties broken to even as ECMAScript wants
    // (Rust's own `{:e}` breaks them upwards: 1424953923781206.25 would print ...206.3).
    let mut buffer = ryu::Buffer::new();
    let (digits, n) = decimal_digits(buffer.format_finite(x));
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if k <= n && n <= 21 {
        let zeros = usize::try_from(n - k).unwrap_or(0);
        format!("{digits}{}", "0".repeat(zeros))
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        format!("{}.{}", &digits[..split], &digits[split..])
    } else if -6 < n && n <= 0 {
        let zeros = usize::try_from(-n).unwrap_or(0);
        format!("0.{}{digits}", "0".repeat(zeros))
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{sign}{}", e.abs())
        }
    }
}

/// The significant digits of a positive decimal (`"1.5e-7"`, `"0.001"`, `"120.0"`) and ECMAScript's
/// n, with the value equal to 0.digits × 10^n.
fn decimal_digits(text: &str) -> (String, i32) {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut n = i32::try_from(int_part.len()).unwrap_or(0) + exponent;
    while digits.starts_with('0') && digits.len() > 1 {
        digits.remove(0);
        n -= 1;
    }
    while digits.ends_with('0') && digits.len() > 1 {
        digits.pop();
    }
    (digits, n)
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
