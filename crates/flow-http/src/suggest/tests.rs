//! Unit tests of `suggest`: the paths offered for sample payloads, as snapshots.

use serde_json::{json, Value};

use super::*;

/// The suggestions one per line: the path, then its preview.
fn suggestions(payload: Value) -> String {
    suggest_paths(&payload)
        .iter()
        .map(|suggestion| format!("{}  =>  {}", suggestion.path, suggestion.preview))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn products_payload_offers_keys_first_element_and_flat_maps() {
    insta::assert_snapshot!(suggestions(json!({
        "products": [
            {"id": 1, "title": "iPhone 9", "category": "smartphones"},
            {"id": 2, "title": "iPhone X", "category": "smartphones", "stock": 34},
        ],
        "total": 2,
    })), @r#"
    products  =>  [{"id":1,"title":"iPhone 9","category":"…
    products[0]  =>  {"id":1,"title":"iPhone 9","category":"s…
    products[0].id  =>  1
    products[0].title  =>  "iPhone 9"
    products[0].category  =>  "smartphones"
    products.flatMap(item => item.id)  =>  [1,2]
    products.flatMap(item => item.title)  =>  ["iPhone 9","iPhone X"]
    products.flatMap(item => item.category)  =>  ["smartphones","smartphones"]
    products.flatMap(item => item.stock)  =>  [null,34]
    total  =>  2
    "#);
}

#[test]
fn odd_keys_are_quoted_and_non_ascii_keys_are_not() {
    insta::assert_snapshot!(suggestions(json!({
        "produits": [{"catégorie": "téléphones", "full name": "Jérôme", "$ref": 1, "2nd": true}],
        "a\"b": null,
        "": 0,
        "_id": "x",
    })), @r#"
    produits  =>  [{"catégorie":"téléphones","full name":"…
    produits[0]  =>  {"catégorie":"téléphones","full name":"J…
    produits[0].catégorie  =>  "téléphones"
    produits[0]["full name"]  =>  "Jérôme"
    produits[0]["$ref"]  =>  1
    produits[0]["2nd"]  =>  true
    produits.flatMap(item => item.catégorie)  =>  ["téléphones"]
    produits.flatMap(item => item["full name"])  =>  ["Jérôme"]
    produits.flatMap(item => item["$ref"])  =>  [1]
    produits.flatMap(item => item["2nd"])  =>  [true]
    ["a\"b"]  =>  null
    [""]  =>  0
    _id  =>  "x"
    "#);
}

#[test]
fn root_array_and_nested_arrays() {
    insta::assert_snapshot!(suggestions(json!([
        {"tags": ["a", "b"], "matrix": [[1, 2], [3]]},
        {"tags": []},
        "not an object",
    ])), @r#"
    [0]  =>  {"tags":["a","b"],"matrix":[[1,2],[3]]}
    [0].tags  =>  ["a","b"]
    [0].tags[0]  =>  "a"
    [0].matrix  =>  [[1,2],[3]]
    [0].matrix[0]  =>  [1,2]
    [0].matrix[0][0]  =>  1
    flatMap(item => item.tags)  =>  ["a","b",null]
    flatMap(item => item.matrix)  =>  [[1,2],[3],null,null]
    "#);
}

#[test]
fn previews_are_short_compact_json() {
    insta::assert_snapshot!(suggestions(json!({
        "description": "An apple mobile which is nothing like apple, really nothing like it",
        "nested": {"deep": {"list": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}},
    })), @r#"
    description  =>  "An apple mobile which is nothing like a…
    nested  =>  {"deep":{"list":[1,2,3,4,5,6,7,8,9,10,11…
    nested.deep  =>  {"list":[1,2,3,4,5,6,7,8,9,10,11,12,13,1…
    nested.deep.list  =>  [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]
    nested.deep.list[0]  =>  1
    "#);
}

#[test]
fn scalars_and_empty_containers_offer_little() {
    assert_eq!(suggest_paths(&json!(42)), []);
    assert_eq!(suggest_paths(&json!({})), []);
    assert_eq!(
        suggest_paths(&json!({"items": []})),
        [PathSuggestion {
            path: "items".to_owned(),
            preview: "[]".to_owned()
        }]
    );
}

#[test]
fn depth_is_bounded() {
    let mut payload = json!("bottom");
    for _ in 0..20 {
        payload = json!({ "a": payload });
    }
    let paths = suggest_paths(&payload);
    assert_eq!(paths.len(), MAX_DEPTH);
    assert_eq!(paths.last().unwrap().path, "a.a.a.a.a.a");
}

#[test]
fn count_is_bounded_and_large_values_preview_quickly() {
    let items: Vec<Value> = (0..2_000)
        .map(|idx| json!({ format!("key{idx}"): "x".repeat(100) }))
        .collect();
    let paths = suggest_paths(&json!({ "items": items }));
    assert_eq!(paths.len(), MAX_SUGGESTIONS);
    assert!(paths
        .iter()
        .all(|suggestion| suggestion.preview.chars().count() <= PREVIEW_MAX_CHARS + 1));
}

/// Payloads with the shapes and keys that are hard to write as paths.
fn awkward_payloads() -> Vec<Value> {
    vec![
        json!({
            "products": [
                {"id": 1, "title": "iPhone 9", "tags": ["a", "b"], "dims": {"w": 1}},
                {"id": 2, "title": "iPhone X", "stock": 34, "tags": []},
                "not an object",
                [1, 2],
            ],
            "total": 2,
        }),
        json!([
            {"tags": ["a", "b"], "matrix": [[1, 2], [3]]},
            {"tags": []},
            [[{"deep": true}]],
        ]),
        json!({
            "line\nbreak": 1,
            "tab\there": 2,
            "back\\slash": 3,
            "quote\"d": 4,
            "single'quote": 5,
            "bell\u{7}": 6,
            "": 7,
            "$ref": 8,
            "2nd": 9,
            "a.b": 10,
            "a[0]": 11,
            "flatMap": {"x": 12},
            "with space": [{"in ner": 1, "ok": 2}],
            "catégorie": "téléphones",
        }),
        json!([[1, [2, 3]], [], [[4]]]),
    ]
}

#[test]
fn every_suggested_path_parses_and_selects_its_preview() {
    for payload in awkward_payloads() {
        let suggestions = suggest_paths(&payload);
        assert!(!suggestions.is_empty());
        for suggestion in suggestions {
            let path = flow_core::path::Path::parse(&suggestion.path)
                .unwrap_or_else(|error| panic!("{}: {error}", suggestion.path));
            let value = path
                .evaluate(&payload)
                .unwrap_or_else(|error| panic!("{}: {error}", suggestion.path));
            assert_eq!(preview(&value), suggestion.preview, "{}", suggestion.path);
        }
    }
}
