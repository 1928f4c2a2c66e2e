//! STAND-IN, TO BE REPOINTED: `flow_http::extract`.
//!
//! Another branch is writing `flow_http::extract` (in `crates/flow-http/src/extract.rs`) with
//! this exact signature. Until it lands, this copy of `flow-runtime`'s stand-in (which is private
//! to that crate) lets the simulator check fake payloads and the probe show each `save`. When
//! merging, make this function call `flow_http::extract`, or delete the module and import it.

use flow_core::flow::{Save, VarType};
use flow_http::{ErrorKind, WebhookError};
use serde_json::Value;

/// Every save of a step applied to `body`, all or nothing (S15); a non-list into a list-typed
/// variable is a `KeyError`.
pub(crate) fn extract(
    saves: &[Save],
    body: &Value,
    declared_type: &dyn Fn(&str) -> Option<VarType>,
) -> Result<Vec<(String, Value)>, WebhookError> {
    let mut values = Vec::with_capacity(saves.len());
    for save in saves {
        let value = match (save.path.evaluate(body), &save.default) {
            (Ok(value), _) => value,
            (Err(_), Some(default)) => default.clone(),
            (Err(error), None) => {
                return Err(WebhookError::new(ErrorKind::KeyError, error.to_string()))
            }
        };
        if declared_type(&save.to) == Some(VarType::List) && !value.is_array() {
            let message = format!(
                "path `{}` gives {}, but `{}` is a list",
                save.path,
                kind_name(&value),
                save.to
            );
            return Err(WebhookError::new(ErrorKind::KeyError, message));
        }
        values.push((save.to.clone(), value));
    }
    Ok(values)
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
