//! Percent-encoding of inserted values, shared by rendering and by secret masking.
//!
//! Both must agree byte for byte: a secret is masked in a URL or a form by looking for the very
//! forms these functions write.

/// Appends `value` to `out` with every byte but RFC 3986's unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded in upper-case hex.
///
/// Nothing a value holds can then act as structure in a URL: `/`, `?`, `#`, `&`, `=`, `+`, `%`,
/// `\`, spaces and control characters all become `%XX`, and non-ASCII text its UTF-8 bytes.
/// With `space_as_plus`, a space is written `+` instead, as HTML forms encode it
/// (`application/x-www-form-urlencoded`).
pub(crate) fn percent_encode_into(value: &str, space_as_plus: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' if space_as_plus => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xF)]));
            }
        }
    }
}

/// `value` with every byte but RFC 3986's unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded in upper-case hex, so it is safe as one URL path segment or query value;
/// with `space_as_plus`, a space is `+` as forms write it.
pub fn percent_encode(value: &str, space_as_plus: bool) -> String {
    let mut encoded = String::with_capacity(value.len());
    percent_encode_into(value, space_as_plus, &mut encoded);
    encoded
}

/// Appends `name=value` to a form or query string, both form-encoded, after a `&` unless
/// `out` is empty or already ends with a separator.
pub(crate) fn push_form_pair(out: &mut String, name: &str, value: &str) {
    if !(out.is_empty() || out.ends_with('&') || out.ends_with('?')) {
        out.push('&');
    }
    percent_encode_into(name, true, out);
    out.push('=');
    percent_encode_into(value, true, out);
}
