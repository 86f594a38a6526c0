//! The canonicalizer against the RFC 8785 examples and against the hand-written oracle CMS chained
//! with before: every case checks `canonicalize` (the crate) and `oracle::canonicalize`, and that both
//! give the same bytes.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{json, Number, Value};

use super::{canonicalize, oracle};

/// The crate's canonical text of `value`, after checking it is byte-identical to the oracle's.
fn jcs(value: &Value) -> String {
    let bytes = canonicalize(value);
    assert_eq!(
        bytes,
        oracle::canonicalize(value),
        "the crate and the oracle differ on {value:?}"
    );
    String::from_utf8(bytes).unwrap()
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
fn the_rfc_8785_primitive_example_parsed_from_its_text_canonicalizes_exactly() {
    // The same example as text: `float_roundtrip` (turned on by the crate) parses 333333333.33333329
    // to the correctly rounded double.
    let value: Value = serde_json::from_str(
        r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#,
    )
    .unwrap();
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
    assert_eq!(
        jcs(&value),
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\",\
         \"\u{00f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
         \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
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
        let x = f64::from_bits(bits);
        assert_eq!(oracle::format_double(x), expected, "{bits:#x}");
        assert_eq!(jcs(&json!(x)), expected, "{bits:#x}");
    }
}

#[test]
fn integers_beyond_two_to_the_53_are_taken_as_doubles() {
    assert_eq!(jcs(&json!(9_007_199_254_740_993_u64)), "9007199254740992");
    assert_eq!(jcs(&json!(-9_007_199_254_740_993_i64)), "-9007199254740992");
    assert_eq!(jcs(&json!(-42)), "-42");
    assert_eq!(jcs(&json!(u64::MAX)), "18446744073709552000");
    assert_eq!(jcs(&json!(i64::MIN)), "-9223372036854776000");
}

#[test]
fn control_characters_escape_as_lowercase_unicode_and_others_stay_literal() {
    assert_eq!(
        jcs(&json!("\u{1}\u{1f}\u{7f}\u{2028}é")),
        "\"\\u0001\\u001f\u{7f}\u{2028}é\""
    );
}

#[test]
fn the_edges_of_the_number_layouts_print_alike() {
    for (x, expected) in [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (-0.0, "0"),
        (5e-324, "5e-324"),
        (0.1, "0.1"),
        (123e-20, "1.23e-18"),
        (1.5, "1.5"),
    ] {
        assert_eq!(jcs(&json!(x)), expected, "{x:e}");
    }
}

/// Numbers of every kind, weighted towards the layout boundaries and the 2^53 edge.
fn number() -> impl Strategy<Value = Value> {
    const SAFE: i64 = 1 << 53;
    let special = prop::sample::select(vec![
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        2.225_073_858_507_201e-308,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1e21,
        1e-7,
        1e-6,
        9.999_999_999_999_997e-7,
        999_999_999_999_999_900_000.0,
        1e23,
        9_007_199_254_740_992.0,
        9_007_199_254_740_994.0,
        18_446_744_073_709_551_616.0,
        1_424_953_923_781_206.2,
        0.1,
        0.3,
    ]);
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_i64..=1_000).prop_map(|d| Value::from(SAFE + d)),
        (-1_000_i64..=1_000).prop_map(|d| Value::from(-SAFE + d)),
        (-1_000_i64..=1_000).prop_map(|d| Value::from(u64::MAX - d.unsigned_abs())),
        any::<u64>().prop_filter_map("finite", |bits| double(f64::from_bits(bits))),
        any::<f64>().prop_filter_map("finite", double),
        // A short mantissa at every power of ten, where the plain and exponent layouts meet.
        (1_u32..100_000, -330_i32..=310, any::<bool>()).prop_filter_map(
            "finite",
            |(m, e, negative)| {
                let x = f64::from(m) * 10_f64.powi(e);
                double(if negative { -x } else { x })
            }
        ),
        special.prop_filter_map("finite", double),
    ]
}

fn double(x: f64) -> Option<Value> {
    Number::from_f64(x).map(Value::Number)
}

/// Characters that exercise escaping and UTF-16 order: controls, quotes, backslash, DEL, line and
/// paragraph separators, the top of the BMP and characters outside it (surrogate pairs in UTF-16).
fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::char::range('\u{0}', '\u{7f}'),
        prop::sample::select(vec![
            '"',
            '\\',
            '/',
            '\u{7f}',
            '\u{80}',
            '\u{2028}',
            '\u{2029}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fb33}',
            '\u{ffff}',
            '\u{10000}',
            '\u{1f600}',
            '\u{10ffff}',
            'é',
            '€',
        ]),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(character(), 0..max).prop_map(String::from_iter)
}

/// Arbitrary JSON: up to four levels of arrays and objects over all the leaves above; short member
/// names so names sharing a prefix, and BMP against non-BMP names, meet in one object.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(text(4), inner, 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_048))]

    #[test]
    fn arbitrary_values_canonicalize_exactly_as_the_oracle_does(value in json()) {
        prop_assert_eq!(canonicalize(&value), oracle::canonicalize(&value));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn arbitrary_numbers_canonicalize_exactly_as_the_oracle_does(value in number()) {
        prop_assert_eq!(canonicalize(&value), oracle::canonicalize(&value));
    }
}
