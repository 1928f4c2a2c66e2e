//! Templates: text with `{{variable}}`, `{{variable.path}}` and `{{secret.NAME}}` placeholders.
//!
//! A template is parsed once, when the flow loads, so that a broken placeholder fails
//! validation with a position.
//! Rendering is pure: the caller passes a lookup for variables, and this module turns values
//! into text by the rules of [`value_to_text`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::path::Path;

mod parse;
mod text;

#[cfg(test)]
mod tests;

pub(crate) use parse::{bare_variables, find_doubled};
pub use text::{push_value_text, value_to_text};

/// How rendering finds a variable's value by name: `None` when it is unset. The value is
/// borrowed where the caller keeps it, so looking up a long list copies nothing; a value made
/// for the occasion comes owned.
pub type Lookup<'l, 'v> = &'l dyn Fn(&str) -> Option<Cow<'v, Value>>;

/// A parsed template: its source text and the parts it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Text written as is (never empty; adjacent text is merged into one literal).
    Literal(String),
    /// `{{name}}` or `{{name.path}}`.
    Variable(VariableRef),
    /// `{{secret.NAME}}`: the secret's name, supplied at run time and never shown in logs.
    Secret(String),
}

/// A `{{name}}` or `{{name.path}}` placeholder.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableRef {
    /// The variable's name, with surrounding whitespace trimmed (`shop failure`).
    pub name: String,
    /// The path into the variable's value: `status` in `{{shop failure.status}}`, `[0]` in
    /// `{{titles[0]}}`; `None` for the whole value.
    pub path: Option<Path>,
    /// Char offset of the placeholder's `{{` in the template source.
    pub offset: usize,
}

impl Template {
    /// Parses a template; errors carry the char offset of the problem.
    pub fn parse(source: &str) -> Result<Template, TemplateSyntaxError> {
        Ok(Template {
            source: source.to_owned(),
            parts: parse::parts(source)?,
        })
    }

    /// The template as it was written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The literals and placeholders, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The placeholder, when the whole template is exactly one placeholder (`"{{titles}}"`,
    /// with nothing around it, not even spaces).
    ///
    /// Such a template keeps the value's type where a type can be kept: in a JSON body or a
    /// `set`, a number stays a number and a list stays a list.
    pub fn single_placeholder(&self) -> Option<&Part> {
        match self.parts.as_slice() {
            [part @ (Part::Variable(_) | Part::Secret(_))] => Some(part),
            _ => None,
        }
    }

    /// Whether the template has no placeholder at all (the empty template included).
    pub fn is_literal(&self) -> bool {
        self.parts
            .iter()
            .all(|part| matches!(part, Part::Literal(_)))
    }

    /// The variables the template reads, in order, repeats included.
    pub fn variables(&self) -> impl Iterator<Item = &VariableRef> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(variable) => Some(variable),
            _ => None,
        })
    }

    /// The names of the secrets the template reads, in order, repeats included.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Secret(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Renders the template as text: each variable through [`VariableRef::resolve`] and
    /// [`value_to_text`], an unset variable (or a path that does not match) as nothing.
    ///
    /// Secrets render as nothing here: they are only allowed in webhook requests, whose
    /// rendering supplies them and encodes every value for the place it lands in.
    pub fn render_text(&self, lookup: Lookup) -> String {
        // Placeholders are about as long as short values, so the source's length saves most
        // of the growing.
        let mut text = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(literal) => text.push_str(literal),
                Part::Variable(variable) => {
                    if let Some(value) = variable.resolve(lookup) {
                        push_value_text(&mut text, &value);
                    }
                }
                Part::Secret(_) => {}
            }
        }
        text
    }
}

impl FromStr for Template {
    type Err = TemplateSyntaxError;

    fn from_str(source: &str) -> Result<Template, TemplateSyntaxError> {
        Template::parse(source)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl VariableRef {
    /// The variable's value, then the part its path names; `None` when the variable is unset
    /// or the path does not match (a template treats both as unset).
    pub fn resolve<'v>(&self, lookup: Lookup<'_, 'v>) -> Option<Cow<'v, Value>> {
        let value = lookup(&self.name)?;
        match &self.path {
            None => Some(value),
            Some(path) => path.evaluate(&value).ok().map(Cow::Owned),
        }
    }
}

/// A template that could not be parsed, with the character where the problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub struct TemplateSyntaxError {
    /// Index of the offending character in the template, counted in chars (not bytes) from 0.
    pub offset: usize,
    /// What is wrong, in lowercase, e.g. "unclosed `{{` (add `}}`)".
    pub message: String,
}
