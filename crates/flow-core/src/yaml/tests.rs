use super::*;

fn root(source: &str) -> Node {
    parse(source).expect("valid YAML").expect("a document")
}

#[test]
fn scalars_know_their_line_and_column() {
    let node = root("bot: shop\nblocks:\n  a:\n    message: \"hi\"\n");
    let blocks = &node.as_map().unwrap()[1];
    assert_eq!(blocks.0.span, Span::new(2, 1));
    let block = &blocks.1.as_map().unwrap()[0];
    assert_eq!(block.0.span, Span::new(3, 3));
    let message = &block.1.as_map().unwrap()[0];
    assert_eq!(message.1.span, Span::new(4, 14));
    assert_eq!(message.1.text_start(), Span::new(4, 15));
}

#[test]
fn block_mappings_start_at_their_first_key() {
    let node = root("a:\n  b: 1\n");
    let inner = &node.as_map().unwrap()[0].1;
    assert_eq!(inner.span, Span::new(2, 3));
}

#[test]
fn plain_scalars_resolve_by_the_core_schema() {
    let node = root("[1, -2.5, true, null, ~, '1', text, 1e3, .inf]");
    let json = node.to_json();
    assert_eq!(
        json,
        serde_json::json!([1, -2.5, true, null, null, "1", "text", 1000.0, ".inf"])
    );
}

#[test]
fn aliases_copy_their_anchor() {
    let node = root("a: &x {k: 1}\nb: *x\n");
    let json = node.to_json();
    assert_eq!(json["b"], serde_json::json!({"k": 1}));
}

#[test]
fn syntax_errors_carry_a_position() {
    let error = parse("a: 1\nb: c: 2\n").unwrap_err();
    assert_eq!(error.span.line, 2);
    assert!(!error.message.is_empty());
}

#[test]
fn an_unclosed_bracket_is_reported_where_it_opens() {
    let error = parse("a: [1,\nb: 2").unwrap_err();
    assert_eq!(error.span, Span::new(1, 4));
    assert!(error.message.contains("never closed"), "{}", error.message);
}

#[test]
fn a_second_document_is_an_error() {
    let error = parse("a: 1\n---\nb: 2\n").unwrap_err();
    assert_eq!(error.span, Span::new(2, 1));
}

#[test]
fn an_empty_file_has_no_document() {
    assert_eq!(parse("").unwrap(), None);
    assert_eq!(parse("# only a comment\n").unwrap(), None);
}

/// The first mapping value of the first entry of `source`, and where `offset` of it is written.
fn located(source: &str, offset: usize) -> Span {
    let node = root(source);
    let value = &node.as_map().unwrap()[0].1;
    SourceMap::new(source).locate(value, offset)
}

#[test]
fn locates_characters_of_plain_and_quoted_scalars() {
    assert_eq!(located("a: hello {{x\n", 6), Span::new(1, 10));
    assert_eq!(located("a: 'it''s {{x'\n", 5), Span::new(1, 11));
    assert_eq!(located("a: \"prénom 🍕 {{x\"\n", 9), Span::new(1, 14));
}

#[test]
fn locates_characters_after_escapes() {
    // `"Hi" €9 {{` : the value is shorter than its source.
    assert_eq!(
        located("a: \"\\\"Hi\\\" \\u20ac9 {{\"\n", 8),
        Span::new(1, 20)
    );
    assert_eq!(located("a: \"tab\\there {{\"\n", 9), Span::new(1, 15));
}

#[test]
fn locates_characters_on_later_lines() {
    assert_eq!(located("a: one two\n  three {{x\n", 14), Span::new(2, 9));
    assert_eq!(located("a: |\n  one\n  two {{x\n", 8), Span::new(3, 7));
    assert_eq!(located("a: >-\n  one\n\n  two {{x\n", 8), Span::new(4, 7));
    assert_eq!(located("a: \"one \\\n  two {{x\"\n", 8), Span::new(2, 7));
}

#[test]
fn empty_values_stand_at_their_key() {
    let node = root("a:\nb: 1\n");
    assert_eq!(node.as_map().unwrap()[0].1.span, Span::new(1, 1));
}

#[test]
fn tab_errors_point_at_the_tab() {
    let error = parse("a:\n  b: 1\n\tc: 2\n").unwrap_err();
    assert_eq!(error.span, Span::new(3, 1));
}
