//! RFC 8785 JSON Canonicalization Scheme (JCS) for `serde_json::Value`: object members sorted by the
//! UTF-16 code units of their names, no whitespace, strings escaped as ECMAScript's `JSON.stringify`
//! does, numbers in ECMAScript `Number.prototype.toString` form.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jcs(value: &Value) -> String {
        String::from_utf8(canonicalize(value)).unwrap()
    }

    #[test]
    fn the_rfc_8785_primitive_example_canonicalizes_exactly() {
        // RFC 8785 section 3.2.2, built from Rust literals so no JSON parser rounds the numbers.
        let value = json!({
            "numbers": [333_333_333.333_333_3_f64, 1e30, 4.50, 2e-3, 0.000_000_000_000_000_000_000_000_001],
            "string": "\u{20ac}$\u{000F}\u{000a}A'\u{0042}\u{0022}\u{005c}\\\"/",
            "literals": [null, true, false]
        });
        assert_eq!(
            jcs(&value),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn object_members_sort_by_utf16_code_units() {
        // RFC 8785 section 3.2.3: the emoji (a surrogate pair) sorts before U+FB33.
        let value = json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{0080}": "Control",
            "\u{00f6}": "Latin Small Letter O With Diaeresis"
        });
        let text = jcs(&value);
        let order: Vec<usize> = [
            "\\r",
            "\"1\"",
            "\u{0080}",
            "\u{00f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .iter()
        .map(|needle| text.find(needle).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn doubles_print_as_ecmascript_does_for_the_rfc_8785_table() {
        // RFC 8785 appendix B.
        let table: [(u64, &str); 24] = [
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ];
        for (bits, expected) in table {
            assert_eq!(format_double(f64::from_bits(bits)), expected, "{bits:#x}");
        }
    }

    #[test]
    fn integers_beyond_two_to_the_53_are_taken_as_doubles() {
        assert_eq!(jcs(&json!(9_007_199_254_740_993_u64)), "9007199254740992");
        assert_eq!(jcs(&json!(-42)), "-42");
        assert_eq!(jcs(&json!(u64::MAX)), "18446744073709552000");
    }

    #[test]
    fn control_characters_escape_as_lowercase_unicode_and_others_stay_literal() {
        assert_eq!(
            jcs(&json!("\u{1}\u{1f}\u{7f}\u{2028}é")),
            "\"\\u0001\\u001f\u{7f}\u{2028}é\""
        );
    }
}
