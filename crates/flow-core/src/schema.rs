//! The JSON Schema of the flow file, for editors and for `flowbot schema`.

/// Returns the JSON Schema (draft 2020-12) that describes a flow file.
///
/// Editors that speak yaml-language-server use it to complete keys, show their help and flag
/// unknown or misplaced ones while a bot author types.
/// It checks the shape of one file only: graph rules such as reachable blocks, an `else` in
/// every `choice` or declared variables are left to flow validation.
pub fn json_schema() -> &'static str {
    include_str!("../schema/flow.schema.json")
}

#[cfg(test)]
mod tests;
