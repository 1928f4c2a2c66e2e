//! `set`: assignments and operations, each checked against the variable's value and type.

use flow_core::flow::{BlockId, Flow, SetBlock, SetOperation};
use flow_core::template::value_to_text;
use serde_json::Value;

use crate::conversation::declared_type;
use crate::error::RuntimeError;
use crate::executor::Run;
use crate::values::{self, as_number, kind_name, loosely_equal, number_value};

use super::Step;

/// Applies the assignments in order, each seeing the ones before; one that does not fit leaves
/// its variable unchanged and is reported as an error output.
pub(crate) fn run(run: &mut Run, flow: &Flow, id: &BlockId, set: &SetBlock) -> Step {
    for (name, operation) in &set.assignments {
        let current = run.variable(name).unwrap_or(Value::Null);
        let operand = operand(run, operation);
        let result = apply(operation, current, operand).and_then(|value| {
            values::coerce(value, declared_type(flow, name)).map_err(|mismatch| mismatch.describe())
        });
        match result {
            Ok(value) => run.set_variable(name, value),
            Err(reason) => run.turn.error(RuntimeError::Set {
                block: id.clone(),
                operation: operation.name(),
                variable: name.clone(),
                reason,
            }),
        }
    }
    Step::Goto(set.next.clone())
}

fn operand(run: &Run, operation: &SetOperation) -> Value {
    let lookup = |name: &str| run.lookup(name);
    match operation {
        SetOperation::Assign(value)
        | SetOperation::Add(value)
        | SetOperation::Subtract(value)
        | SetOperation::Multiply(value)
        | SetOperation::Divide(value)
        | SetOperation::Append(value)
        | SetOperation::Push(value)
        | SetOperation::Remove(value) => values::render_value(value, &lookup),
        SetOperation::Clear => Value::Null,
    }
}

/// The new value of a variable holding `current` (`null`: unset).
fn apply(operation: &SetOperation, current: Value, operand: Value) -> Result<Value, String> {
    match operation {
        SetOperation::Assign(_) => Ok(operand),
        SetOperation::Add(_) => arithmetic(&current, &operand, |a, b| Ok(a + b)),
        SetOperation::Subtract(_) => arithmetic(&current, &operand, |a, b| Ok(a - b)),
        SetOperation::Multiply(_) => arithmetic(&current, &operand, |a, b| Ok(a * b)),
        SetOperation::Divide(_) => arithmetic(&current, &operand, |a, b| {
            if b == 0.0 {
                Err("it would divide by zero".to_owned())
            } else {
                Ok(a / b)
            }
        }),
        SetOperation::Append(_) => match current {
            Value::Null => Ok(Value::String(value_to_text(&operand))),
            Value::Array(_) | Value::Object(_) => Err(format!(
                "`append` adds text to a text, but the variable holds {} (use `push` for lists)",
                kind_name(&current)
            )),
            other => Ok(Value::String(
                value_to_text(&other) + &value_to_text(&operand),
            )),
        },
        SetOperation::Push(_) => {
            let mut items = list(current, "push")?;
            items.push(operand);
            Ok(Value::Array(items))
        }
        SetOperation::Remove(_) => {
            let mut items = list(current, "remove")?;
            items.retain(|item| !loosely_equal(item, &operand, false));
            Ok(Value::Array(items))
        }
        SetOperation::Clear => {
            list(current, "clear")?;
            Ok(Value::Array(Vec::new()))
        }
    }
}

/// An unset variable counts as 0; anything else must read as a number, and so must the operand.
fn arithmetic(
    current: &Value,
    operand: &Value,
    compute: impl Fn(f64, f64) -> Result<f64, String>,
) -> Result<Value, String> {
    let left = match current {
        Value::Null => 0.0,
        other => as_number(other)
            .ok_or_else(|| format!("the variable holds {}, not a number", kind_name(other)))?,
    };
    let right = as_number(operand)
        .ok_or_else(|| format!("the operand `{}` is not a number", value_to_text(operand)))?;
    let result = compute(left, right)?;
    number_value(result).ok_or_else(|| "the result is not a finite number".to_owned())
}

/// The items of a list variable; an unset one is an empty list.
fn list(current: Value, operation: &str) -> Result<Vec<Value>, String> {
    match current {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items),
        other => Err(format!(
            "`{operation}` works on lists, but the variable holds {}",
            kind_name(&other)
        )),
    }
}
