//! Unit tests of the path language: parsing, evaluation, error messages and offsets.

use insta::assert_snapshot;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{KeyErrorKind, Path, ValueKind};

const SHOP: &str = r#"{
    "products": [
        {"title": "iPhone 9", "category": "smartphones", "tags": ["apple", "phone"]},
        {"title": "iPhone X", "category": "phones", "tags": ["apple"], "full name": "Apple iPhone X"},
        {"name": "no title", "tags": []}
    ],
    "total": 3
}"#;

/// Parses `path`, evaluates it on `json` and shows the outcome as one line.
fn eval(path: &str, json: &str) -> String {
    let root: Value = serde_json::from_str(json).expect("test JSON is valid");
    match Path::parse(path) {
        Err(error) => format!("syntax error at {}: {}", error.offset, error.message),
        Ok(path) => match path.evaluate(&root) {
            Ok(value) => value.to_string(),
            Err(error) => format!("key error: {error}"),
        },
    }
}

/// Shows where and why `path` fails to parse, or `ok`.
fn syntax(path: &str) -> String {
    match Path::parse(path) {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("{}: {}", error.offset, error.message),
    }
}

#[test]
fn flat_map_extracts_one_value_per_element() {
    let seed = r#"{"products":[{"title":"iPhone 9"},{"title":"iPhone X"}]}"#;
    assert_snapshot!(eval("products.flatMap(item => item.title)", seed), @r#"["iPhone 9","iPhone X"]"#);
}

#[test]
fn empty_path_is_the_whole_payload() {
    assert_snapshot!(eval("", r#"{"a":[1,2]}"#), @r#"{"a":[1,2]}"#);
    assert_snapshot!(eval("", "3"), @"3");
}

#[test]
fn dotted_keys_and_indexes() {
    assert_snapshot!(eval("products[1].category", SHOP), @r#""phones""#);
    assert_snapshot!(eval("products[0].tags[1]", SHOP), @r#""phone""#);
    assert_snapshot!(eval("total", SHOP), @"3");
    assert_snapshot!(eval("a.b.c", r#"{"a":{"b":{"c":true}}}"#), @"true");
    assert_snapshot!(eval("[0].x", r#"[{"x":1}]"#), @"1");
    assert_snapshot!(eval("[1][0]", "[[1],[2,3]]"), @"2");
}

#[test]
fn negative_index_counts_from_the_end() {
    assert_snapshot!(eval("products[-1].name", SHOP), @r#""no title""#);
    assert_snapshot!(eval("products[-3].title", SHOP), @r#""iPhone 9""#);
    assert_snapshot!(eval("[-0]", "[1,2]"), @"1");
}

#[test]
fn quoted_keys() {
    assert_snapshot!(eval(r#"products[1]["full name"]"#, SHOP), @r#""Apple iPhone X""#);
    assert_snapshot!(eval("products[1]['title']", SHOP), @r#""iPhone X""#);
    assert_snapshot!(eval(r#"["a.b"][ "c]" ]"#, r#"{"a.b":{"c]":1}}"#), @"1");
    assert_snapshot!(eval(r#"["say \"hi\""]"#, r#"{"say \"hi\"":1}"#), @"1");
    assert_snapshot!(eval(r#"['it\'s']"#, r#"{"it's":2}"#), @"2");
    assert_snapshot!(eval(r#"["back\\slash"]"#, r#"{"back\\slash":3}"#), @"3");
    assert_snapshot!(eval(r#"['"']"#, r#"{"\"":4}"#), @"4");
    assert_snapshot!(eval(r#"["$ref"]"#, r#"{"$ref":5}"#), @"5");
    assert_snapshot!(eval(r#"[""]"#, r#"{"":6}"#), @"6");
}

#[test]
fn non_ascii_keys() {
    let produits = r#"{"produits":[{"catégorie":"a"},{"catégorie":"téléphones"}]}"#;
    assert_snapshot!(eval("produits[1].catégorie", produits), @r#""téléphones""#);
    assert_snapshot!(eval("商品.名前", r#"{"商品":{"名前":"x"}}"#), @r#""x""#);
    assert_snapshot!(eval("a-b.c:d.e=f", r#"{"a-b":{"c:d":{"e=f":1}}}"#), @"1");
}

#[test]
fn flat_map_keeps_lists_aligned_with_null() {
    assert_snapshot!(eval("products.flatMap(item => item.title)", SHOP), @r#"["iPhone 9","iPhone X",null]"#);
    assert_snapshot!(eval("products.flatMap(p => p.category)", SHOP), @r#"["smartphones","phones",null]"#);
}

#[test]
fn flat_map_flattens_one_level() {
    assert_snapshot!(eval("products.flatMap(item => item.tags)", SHOP), @r#"["apple","phone","apple"]"#);
    assert_snapshot!(eval("flatMap(x => x)", "[[1,[2]],3,[]]"), @"[1,[2],3]");
    assert_snapshot!(eval("products.flatMap(item => item)", r#"{"products":[1,2]}"#), @"[1,2]");
}

#[test]
fn flat_map_spacing_and_names() {
    let seed = r#"{"products":[{"title":"a"},{"title":"b"}]}"#;
    assert_snapshot!(eval("products.flatMap(item=>item.title)", seed), @r#"["a","b"]"#);
    assert_snapshot!(eval("products.flatMap( p  =>  p['title'] )", seed), @r#"["a","b"]"#);
    assert_snapshot!(eval("products.flatMap(élément => élément.title)", seed), @r#"["a","b"]"#);
    assert_snapshot!(eval("products.flatMap(_x1 => _x1.title)", seed), @r#"["a","b"]"#);
}

#[test]
fn nested_flat_map() {
    let orders = r#"{"orders":[
        {"items":[{"sku":"a"},{"sku":"b"}]},
        {"items":[{"sku":"c"},{"name":"no sku"}]},
        {"none":true}
    ]}"#;
    assert_snapshot!(eval("orders.flatMap(o => o.items.flatMap(i => i.sku))", orders), @r#"["a","b","c",null,null]"#);
}

#[test]
fn steps_after_flat_map_apply_to_the_list() {
    assert_snapshot!(eval("products.flatMap(item => item.title)[1]", SHOP), @r#""iPhone X""#);
    assert_snapshot!(eval("products.flatMap(item => item.title)[-1]", SHOP), @"null");
    assert_snapshot!(eval("products.flatMap(item => item.title)[5]", SHOP), @"key error: index 5 out of range (3 items) at products.flatMap(item => item.title)");
}

#[test]
fn missing_key_names_the_location() {
    assert_snapshot!(eval("products[2].category", SHOP), @"key error: no key 'category' in object at products[2]");
    assert_snapshot!(eval("nope", SHOP), @"key error: no key 'nope' in object at the top level");
    assert_snapshot!(eval("products[0]['full name']", SHOP), @"key error: no key 'full name' in object at products[0]");
}

#[test]
fn index_out_of_range_says_how_many_items() {
    let two = r#"{"products":[{},{}]}"#;
    assert_snapshot!(eval("products[5]", two), @"key error: index 5 out of range (2 items) at products");
    assert_snapshot!(eval("products[-3]", two), @"key error: index -3 out of range (2 items) at products");
    assert_snapshot!(eval("[1]", "[0]"), @"key error: index 1 out of range (1 item) at the top level");
    assert_snapshot!(eval("[0]", "[]"), @"key error: index 0 out of range (0 items) at the top level");
}

#[test]
fn wrong_type_names_both_kinds() {
    let json = r#"{"products":["x"],"obj":{},"n":null,"b":true,"num":1,"list":[]}"#;
    assert_snapshot!(eval("products[0].title", json), @"key error: expected an object at products[0] but found a string");
    assert_snapshot!(eval("obj[0]", json), @"key error: expected an array at obj but found an object");
    assert_snapshot!(eval("obj.flatMap(i => i)", json), @"key error: expected an array at obj but found an object");
    assert_snapshot!(eval("n.x", json), @"key error: expected an object at n but found null");
    assert_snapshot!(eval("b.x", json), @"key error: expected an object at b but found a boolean");
    assert_snapshot!(eval("num.x", json), @"key error: expected an object at num but found a number");
    assert_snapshot!(eval("list.x", json), @"key error: expected an object at list but found an array");
    assert_snapshot!(eval("flatMap(i => i)", json), @"key error: expected an array at the top level but found an object");
}

#[test]
fn only_the_part_before_flat_map_fails() {
    assert_snapshot!(eval("missing.flatMap(i => i.x)", "{}"), @"key error: no key 'missing' in object at the top level");
    assert_snapshot!(eval("a.flatMap(i => i.x[9].y)", r#"{"a":[{"x":[]}]}"#), @"[null]");
}

#[test]
fn key_error_accessors() {
    let path = Path::parse("products[1].category").unwrap();
    let error = path
        .evaluate(&json!({"products": [{}, {"title": "x"}]}))
        .unwrap_err();
    assert_eq!(error.path(), "products[1].category");
    assert_eq!(error.location(), Some("products[1]"));
    assert_eq!(
        error.kind(),
        &KeyErrorKind::MissingKey {
            key: "category".to_owned()
        }
    );

    let error = Path::parse("x").unwrap().evaluate(&json!([])).unwrap_err();
    assert_eq!(error.location(), Some(""));
    assert_eq!(
        error.kind(),
        &KeyErrorKind::WrongType {
            expected: ValueKind::Object,
            found: ValueKind::Array
        }
    );

    let error = Path::parse("$.x")
        .unwrap()
        .evaluate(&json!({}))
        .unwrap_err();
    assert_eq!(error.location(), None);
    assert_eq!(error.kind(), &KeyErrorKind::NoMatch);
}

#[test]
fn json_path_singular_query_gives_the_value() {
    assert_snapshot!(eval("$", "[1]"), @"[1]");
    assert_snapshot!(eval("$.products[1].category", SHOP), @r#""phones""#);
    assert_snapshot!(eval("$['products'][-1].name", SHOP), @r#""no title""#);
    assert_snapshot!(eval("$.products[0].tags", SHOP), @r#"["apple","phone"]"#);
}

#[test]
fn json_path_other_queries_give_a_list() {
    assert_snapshot!(eval("$.products[*].title", SHOP), @r#"["iPhone 9","iPhone X"]"#);
    assert_snapshot!(eval("$..tags[0]", SHOP), @r#"["apple","apple"]"#);
    assert_snapshot!(eval("$.products[?@.category == 'phones'].title", SHOP), @r#"["iPhone X"]"#);
    assert_snapshot!(eval("$.products[0,1].title", SHOP), @r#"["iPhone 9","iPhone X"]"#);
    assert_snapshot!(eval("$.products[5:].title", SHOP), @"[]");
    assert_snapshot!(eval("$.total[*]", SHOP), @"[]");
}

#[test]
fn json_path_singular_query_without_match_is_a_key_error() {
    assert_snapshot!(eval("$.x", "{}"), @"key error: no match for $.x");
    assert_snapshot!(eval("$.products[7]", SHOP), @"key error: no match for $.products[7]");
}

#[test]
fn yields_list() {
    let cases = [
        ("", false),
        ("a.b", false),
        ("a.flatMap(i => i.b)", true),
        ("flatMap(i => i)", true),
        ("a.flatMap(i => i.b)[0]", false),
        ("a.flatMap(i => i.b.flatMap(j => j))", true),
        ("$", false),
        ("$.a['b'][0]", false),
        ("$ .a [ 'b' ] [ -1 ]", false),
        ("$.a[*]", true),
        ("$.*", true),
        ("$..a", true),
        ("$[0,1]", true),
        ("$[0:1]", true),
        ("$[?@.a]", true),
        ("$['a','b']", true),
        (r#"$["a\"]"]"#, false),
        ("$.é", false),
    ];
    for (source, expected) in cases {
        let path = Path::parse(source).unwrap();
        assert_eq!(path.yields_list(), expected, "{source}");
    }
}

#[test]
fn source_round_trips() {
    let path: Path = "products.flatMap(item => item.title)".parse().unwrap();
    assert_eq!(path.as_str(), "products.flatMap(item => item.title)");
    assert_eq!(path.to_string(), "products.flatMap(item => item.title)");
    assert!(!path.is_empty());
    assert!(Path::parse("").unwrap().is_empty());
    assert_eq!(Path::parse("a[0]").unwrap(), Path::parse("a[0]").unwrap());
    assert_ne!(Path::parse("a[0]").unwrap(), Path::parse("a[1]").unwrap());
}

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Path>();
    assert_send_sync::<super::PathSyntaxError>();
    assert_send_sync::<super::KeyError>();
}

#[test]
fn syntax_errors_point_at_the_problem() {
    assert_snapshot!(syntax("a..b"), @"2: expected a key after `.`");
    assert_snapshot!(syntax("a."), @"2: expected a key after `.`");
    assert_snapshot!(syntax(".a"), @"0: a path cannot start with `.` (write `key`, not `.key`)");
    assert_snapshot!(syntax("a[0"), @"3: expected `]` after index");
    assert_snapshot!(syntax("a[0x]"), @"3: expected `]` after index");
    assert_snapshot!(syntax("a['k' x]"), @"6: expected `]` after quoted key");
    assert_snapshot!(syntax("a[]"), @"2: expected an index or a quoted key after `[`");
    assert_snapshot!(syntax("a[x]"), @"2: expected an index or a quoted key after `[`");
    assert_snapshot!(syntax("a[-]"), @"3: expected digits after `-`");
    assert_snapshot!(syntax("a[99999999999999999999]"), @"2: index is too large");
    assert_snapshot!(syntax(r#"a["k]"#), @"2: unclosed quoted key (add a closing \")");
    assert_snapshot!(syntax(r#"a['k\']"#), @"2: unclosed quoted key (add a closing ')");
    assert_snapshot!(syntax(r#"a["k\n"]"#), @r#"4: unknown escape `\n` (only \", \' and \\ are allowed)"#);
    assert_snapshot!(syntax("a b"), @"1: unexpected space (quote keys that contain spaces: `[\"full name\"]`)");
    assert_snapshot!(syntax("a[0]b"), @"4: expected `.`, `[` or the end of the path, found `b`");
    assert_snapshot!(syntax("a)"), @"1: expected `.`, `[` or the end of the path, found `)`");
    assert_snapshot!(syntax("a]"), @"1: expected `.`, `[` or the end of the path, found `]`");
    assert_snapshot!(syntax(r#"a"b""#), @r#"1: expected `.`, `[` or the end of the path, found `"`"#);
    assert_snapshot!(syntax(r#"a."b""#), @r#"2: expected a key (quoted keys go in brackets: `["full name"]`)"#);
    assert_snapshot!(syntax("(a)"), @"0: expected a key");
}

#[test]
fn flat_map_syntax_errors_point_at_the_problem() {
    assert_snapshot!(syntax("a.map(i => i)"), @"2: unknown function `map` (the only one is `flatMap(item => item.key)`)");
    assert_snapshot!(syntax("a.flatMap(i => i.x"), @"9: unclosed `flatMap(` (add `)`)");
    assert_snapshot!(syntax("a.flatMap(=> x)"), @"10: expected a parameter name after `flatMap(`, as in `flatMap(item => item.key)`");
    assert_snapshot!(syntax("a.flatMap(i i.x)"), @"12: expected `=>` after `i`");
    assert_snapshot!(syntax("a.flatMap(i -> i.x)"), @"12: expected `=>` after `i`");
    assert_snapshot!(syntax("a.flatMap(item => items.x)"), @"18: expected the flatMap body to start with `item`");
    assert_snapshot!(syntax("a.flatMap(item => x.item)"), @"18: expected the flatMap body to start with `item`");
    assert_snapshot!(syntax("a.flatMap(i => )"), @"15: expected the flatMap body to start with `i`");
    assert_snapshot!(syntax("a.flatMap(i => i.x y)"), @"18: unexpected space (quote keys that contain spaces: `[\"full name\"]`)");
    assert_snapshot!(syntax("a.flatMap(i => i.x))"), @"19: expected `.`, `[` or the end of the path, found `)`");
    assert_snapshot!(syntax("a.flatMap(o => o.b.flatMap(i => o.c))"), @"32: expected the flatMap body to start with `i`");
    assert_snapshot!(syntax("a.flatMap"), @"ok");
}

#[test]
fn syntax_error_offsets_count_chars_not_bytes() {
    assert_snapshot!(syntax("catégorie..x"), @"10: expected a key after `.`");
    assert_snapshot!(syntax("é.flatMap(ü => ü.x"), @"9: unclosed `flatMap(` (add `)`)");
    assert_snapshot!(syntax("$.é["), @"3: invalid JSONPath: parser error");
}

#[test]
fn json_path_syntax_errors() {
    assert_snapshot!(syntax("$."), @"2: invalid JSONPath: in dot member name, must start with lowercase alpha or '_'");
    assert_snapshot!(syntax("$foo"), @"1: invalid JSONPath: parser error");
    assert_snapshot!(syntax("$.a "), @"3: invalid JSONPath: parser error");
}

#[test]
fn flat_map_nesting_is_bounded() {
    let nested = |depth: usize| {
        let mut path = "x".to_owned();
        for level in 0..depth {
            path = format!("a.flatMap(v{level} => v{level}.{path})");
        }
        path
    };
    assert_snapshot!(syntax(&nested(32)), @"ok");
    let error = Path::parse(&nested(33)).unwrap_err();
    assert_eq!(
        error.message,
        "flatMap nested too deeply (at most 32 levels)"
    );
}

#[test]
fn syntax_error_display_includes_the_offset() {
    let error = Path::parse("a[0").unwrap_err();
    assert_snapshot!(error, @"expected `]` after index at offset 3");
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[ab]{0,2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[ab]", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Paths that mostly parse: keys, indexes, quoted keys, flatMaps and a few JSONPath queries.
fn arb_path() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        "[ab]".prop_map(|key| format!(".{key}")),
        (-3i64..3).prop_map(|index| format!("[{index}]")),
        "[ab]".prop_map(|key| format!("['{key}']")),
    ];
    let steps = prop::collection::vec(step, 0..4).prop_map(|steps| steps.concat());
    let builder = steps.prop_recursive(3, 12, 2, |inner| {
        (inner.clone(), inner).prop_map(|(before, body)| format!("{before}.flatMap(e => e{body})"))
    });
    prop_oneof![
        builder.prop_map(|path| path.trim_start_matches('.').to_owned()),
        Just("$..a".to_owned()),
        Just("$.a[0]".to_owned()),
        Just("$[*].b".to_owned()),
        ".{0,24}",
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(source in ".{0,40}") {
        let _ = Path::parse(&source);
    }

    #[test]
    fn parse_never_panics_on_path_like_text(source in r#"[ab$.\[\]()'"\\ 0-9=>\-éflatMp?*@]{0,30}"#) {
        if let Ok(path) = Path::parse(&source) {
            prop_assert_eq!(path.as_str(), source.as_str());
        }
    }

    #[test]
    fn evaluate_never_panics(source in arb_path(), root in arb_json()) {
        if let Ok(path) = Path::parse(&source) {
            let _ = path.evaluate(&root).map_err(|error| error.to_string());
        }
    }
}
