//! Unit tests of `extract`: paths on a payload, defaults, typed variables, all or nothing.

use flow_core::path::Path;
use serde_json::{json, Value};

use super::*;

fn payload() -> Value {
    json!({
        "products": [
            {"title": "iPhone 9", "category": "smartphones", "price": 549, "stock": "94", "new": "TRUE"},
            {"title": "iPhone X", "price": "899.5", "tags": ["apple", "phone"], "new": false},
        ],
        "total": 2,
        "ok": true,
    })
}

/// A save of `path` into `to`, with `default` if given.
fn save(path: &str, to: &str, default: Option<Value>) -> Save {
    Save {
        path: Path::parse(path).unwrap(),
        to: to.to_owned(),
        default,
    }
}

fn types(name: &str) -> Option<VarType> {
    match name {
        "titles" | "tags" => Some(VarType::List),
        "price" | "stock" => Some(VarType::Number),
        "category" | "label" => Some(VarType::Text),
        "new" => Some(VarType::Boolean),
        "raw" => Some(VarType::Object),
        _ => None,
    }
}

/// The one place tests call [`extract`]: the stored pairs as JSON, or the error as text.
fn run(saves: &[Save], body: &Value) -> Result<Value, String> {
    match extract(saves, body, &types) {
        Ok(pairs) => Ok(Value::Array(
            pairs
                .into_iter()
                .map(|(name, value)| json!([name, value]))
                .collect(),
        )),
        Err(error) => {
            assert_eq!(error.kind, ErrorKind::KeyError);
            assert_eq!(error.body.as_ref(), Some(body));
            Err(error.to_string())
        }
    }
}

fn one(path: &str, to: &str) -> Result<Value, String> {
    run(&[save(path, to, None)], &payload()).map(|pairs| pairs[0][1].clone())
}

#[test]
fn the_seed_flat_map_stores_every_title() {
    let body = json!({"products":[{"title":"iPhone 9"},{"title":"iPhone X"}]});
    assert_eq!(
        run(
            &[save("products.flatMap(item => item.title)", "titles", None)],
            &body
        ),
        Ok(json!([["titles", ["iPhone 9", "iPhone X"]]]))
    );
}

#[test]
fn several_saves_from_one_response() {
    let saves = [
        save("products.flatMap(item => item.title)", "titles", None),
        save("products[1].title", "second", None),
        save("total", "count", None),
        save("", "raw", None),
    ];
    assert_eq!(
        run(&saves, &payload()),
        Ok(json!([
            ["titles", ["iPhone 9", "iPhone X"]],
            ["second", "iPhone X"],
            ["count", 2],
            ["raw", payload()],
        ]))
    );
}

#[test]
fn a_path_that_does_not_match_names_the_failing_step_and_the_path() {
    assert_eq!(
        one("products[1].category", "category"),
        Err(
            "KeyError: no key 'category' in object at products[1] (path products[1].category)"
                .to_owned()
        )
    );
    assert_eq!(
        one("products[5].title", "x"),
        Err(
            "KeyError: index 5 out of range (2 items) at products (path products[5].title)"
                .to_owned()
        )
    );
    assert_eq!(
        one("total.value", "x"),
        Err(
            "KeyError: expected an object at total but found a number (path total.value)"
                .to_owned()
        )
    );
    assert_eq!(
        one("$.products[9]", "x"),
        Err("KeyError: no match for $.products[9]".to_owned())
    );
    assert_eq!(
        run(&[save("products", "x", None)], &Value::Null),
        Err(
            "KeyError: expected an object at the top level but found null (path products)"
                .to_owned()
        )
    );
}

#[test]
fn nothing_is_stored_when_one_save_fails() {
    let saves = [
        save("total", "count", None),
        save("products[1].category", "category", None),
        save("ok", "flag", None),
    ];
    assert!(run(&saves, &payload()).is_err());
}

#[test]
fn a_default_replaces_a_path_that_does_not_match() {
    let saves = [
        save("products[1].category", "category", Some(json!("unknown"))),
        save("products[0].category", "label", Some(json!("unknown"))),
        save("missing", "stock", Some(json!("0"))),
    ];
    assert_eq!(
        run(&saves, &payload()),
        Ok(json!([
            ["category", "unknown"],
            ["label", "smartphones"],
            ["stock", 0],
        ]))
    );
}

#[test]
fn a_default_does_not_hide_a_value_of_the_wrong_type() {
    assert_eq!(
        run(
            &[save("products[0].title", "titles", Some(json!([])))],
            &payload()
        ),
        Err("KeyError: path products[0].title gives a string, but `titles` is a list".to_owned())
    );
    assert_eq!(
        run(
            &[save("missing", "titles", Some(json!("none")))],
            &payload()
        ),
        Err(
            "KeyError: the default of path missing gives a string, but `titles` is a list"
                .to_owned()
        )
    );
}

#[test]
fn list_variables_need_an_array() {
    assert_eq!(
        one("products[1].tags", "tags"),
        Ok(json!(["apple", "phone"]))
    );
    assert_eq!(
        one("products[0].title", "titles"),
        Err("KeyError: path products[0].title gives a string, but `titles` is a list".to_owned())
    );
    assert_eq!(
        one("products[0]", "titles"),
        Err("KeyError: path products[0] gives an object, but `titles` is a list".to_owned())
    );
}

#[test]
fn number_variables_take_numbers_and_numeric_text() {
    assert_eq!(one("products[0].price", "price"), Ok(json!(549)));
    assert_eq!(one("products[1].price", "price"), Ok(json!(899.5)));
    assert_eq!(one("products[0].stock", "stock"), Ok(json!(94)));
    let body =
        json!({"a": " -3 ", "b": "1e3", "c": "NaN", "d": "inf", "e": "12 apples", "f": true});
    let number =
        |path: &str| run(&[save(path, "price", None)], &body).map(|pairs| pairs[0][1].clone());
    assert_eq!(number("a"), Ok(json!(-3)));
    assert_eq!(number("b"), Ok(json!(1000.0)));
    for path in ["c", "d", "e"] {
        assert_eq!(
            number(path),
            Err(format!(
                "KeyError: path {path} gives a string that is not a number, but `price` is a number"
            ))
        );
    }
    assert_eq!(
        number("f"),
        Err("KeyError: path f gives a boolean, but `price` is a number".to_owned())
    );
}

#[test]
fn text_variables_take_scalars_as_text() {
    let body = json!({"s": "hi", "n": 3, "x": 0.5, "b": true, "z": null, "l": [1], "o": {}});
    let text =
        |path: &str| run(&[save(path, "label", None)], &body).map(|pairs| pairs[0][1].clone());
    assert_eq!(text("s"), Ok(json!("hi")));
    assert_eq!(text("n"), Ok(json!("3")));
    assert_eq!(text("x"), Ok(json!("0.5")));
    assert_eq!(text("b"), Ok(json!("true")));
    assert_eq!(text("z"), Ok(Value::Null));
    assert_eq!(
        text("l"),
        Err("KeyError: path l gives an array, but `label` is text".to_owned())
    );
    assert_eq!(
        text("o"),
        Err("KeyError: path o gives an object, but `label` is text".to_owned())
    );
}

#[test]
fn boolean_variables_take_booleans_and_true_or_false_text() {
    assert_eq!(one("ok", "new"), Ok(json!(true)));
    assert_eq!(one("products[0].new", "new"), Ok(json!(true)));
    assert_eq!(one("products[1].new", "new"), Ok(json!(false)));
    assert_eq!(
        one("products[0].title", "new"),
        Err(
            "KeyError: path products[0].title gives a string other than \"true\" or \"false\", \
             but `new` is a boolean"
                .to_owned()
        )
    );
    assert_eq!(
        one("total", "new"),
        Err("KeyError: path total gives a number, but `new` is a boolean".to_owned())
    );
}

#[test]
fn object_and_undeclared_variables_take_anything() {
    for path in ["products", "products[0]", "total", "ok", "products[1].tags"] {
        let expected = Path::parse(path).unwrap().evaluate(&payload()).unwrap();
        assert_eq!(one(path, "raw"), Ok(expected.clone()));
        assert_eq!(one(path, "anything"), Ok(expected));
    }
}

#[test]
fn no_saves_store_nothing() {
    assert_eq!(run(&[], &payload()), Ok(json!([])));
}
