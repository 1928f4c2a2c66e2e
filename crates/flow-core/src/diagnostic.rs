//! What `flowbot validate` reports: problems with their position, block and a hint.

use std::fmt;

use crate::yaml::Span;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The flow cannot run.
    Error,
    /// The flow runs, but probably not as meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Every problem the loader and validator report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The file is not valid YAML.
    #[error("invalid YAML: {0}")]
    YamlSyntax(String),
    /// The top level is not a mapping, or the file is empty.
    #[error("a flow file must be a mapping with `bot` and `blocks`, found {0}")]
    NotAMapping(&'static str),
    /// A key that this place does not take.
    #[error("{0}")]
    UnknownKey(String),
    /// A value of the wrong shape or type.
    #[error("{0}")]
    WrongType(String),
    /// A required key is missing.
    #[error("{0}")]
    MissingKey(String),
    /// The same key twice in one mapping.
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// A block with no kind key.
    #[error("block `{block}` has no kind (add one of {kinds})")]
    NoKind {
        /// The block.
        block: String,
        /// The kind keys, listed.
        kinds: String,
    },
    /// A block with two kind keys or more.
    #[error("block `{block}` has several kinds ({kinds}); a block has exactly one")]
    SeveralKinds {
        /// The block.
        block: String,
        /// The kind keys found.
        kinds: String,
    },
    /// A target that names no block.
    #[error("block `{block}` goes to unknown block `{target}`")]
    UnknownTarget {
        /// The block.
        block: String,
        /// The missing target.
        target: String,
    },
    /// `start` names no block.
    #[error("`start` names unknown block `{0}`")]
    UnknownStart(String),
    /// A flow with no blocks.
    #[error("the flow has no blocks")]
    NoBlocks,
    /// A block that needs `next` has none.
    #[error("block `{0}` has no `next`")]
    MissingNext(String),
    /// A choice without `else`.
    #[error("choice `{0}` has no `else`")]
    MissingElse(String),
    /// A webhook without URL or with an empty method (S6).
    #[error("MissingParameter: {0}")]
    MissingParameter(String),
    /// An invalid webhook parameter (S11).
    #[error("BadRequest: {0}")]
    BadRequest(String),
    /// A template that does not parse.
    #[error("invalid template: {0}")]
    TemplateSyntax(String),
    /// A path that does not parse.
    #[error("invalid path: {0}")]
    PathSyntax(String),
    /// A regex that does not compile.
    #[error("invalid regex: {0}")]
    RegexSyntax(String),
    /// A duration that does not parse or is out of range.
    #[error("{0}")]
    BadDuration(String),
    /// Any other value that cannot be right.
    #[error("{0}")]
    BadValue(String),
    /// `{{secret.NAME}}` outside a webhook request.
    #[error("secret `{0}` used outside a webhook request (secrets are never shown to users)")]
    SecretOutsideRequest(String),
    /// A jump to a bot the project does not have.
    #[error("jump to unknown bot `{0}`")]
    UnknownBot(String),
    /// A jump to a block the other bot does not have.
    #[error("jump to unknown block `{block}` of bot `{bot}`")]
    UnknownJumpBlock {
        /// The other bot.
        bot: String,
        /// The missing block.
        block: String,
    },
    /// Two files of one project with the same bot id.
    #[error("bot `{0}` is defined twice")]
    DuplicateBot(String),
    /// A block the start never leads to.
    #[error("block `{0}` cannot be reached from the start block")]
    Unreachable(String),
    /// A cycle that never waits and cannot be left.
    #[error("blocks {0} form a loop that never waits for the user and never leaves (the runtime stops a turn after 1,000 blocks)")]
    EndlessLoop(String),
    /// A variable read but never assigned, declared or built in.
    #[error("variable `{0}` is read but never assigned, declared or built in")]
    UnassignedVariable(String),
    /// A list-producing path saved into a non-list variable.
    #[error("path `{path}` gives a list, but `{variable}` is declared as {declared}")]
    ListIntoNonList {
        /// The path.
        path: String,
        /// The variable.
        variable: String,
        /// Its declared type.
        declared: &'static str,
    },
    /// A set operation or value that does not fit the declared type.
    #[error("{operation} does not fit `{variable}`, declared as {declared}")]
    SetTypeMismatch {
        /// The operation, as "`append`", or what the assigned value is, as "text".
        operation: String,
        /// The variable.
        variable: String,
        /// Its declared type.
        declared: &'static str,
    },
}

impl Problem {
    /// A stable code for tools (`--format json`).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::YamlSyntax(_) => "yaml-syntax",
            Problem::NotAMapping(_) => "not-a-mapping",
            Problem::UnknownKey(_) => "unknown-key",
            Problem::WrongType(_) => "wrong-type",
            Problem::MissingKey(_) => "missing-key",
            Problem::DuplicateKey(_) => "duplicate-key",
            Problem::NoKind { .. } => "no-kind",
            Problem::SeveralKinds { .. } => "several-kinds",
            Problem::UnknownTarget { .. } => "unknown-target",
            Problem::UnknownStart(_) => "unknown-start",
            Problem::NoBlocks => "no-blocks",
            Problem::MissingNext(_) => "missing-next",
            Problem::MissingElse(_) => "missing-else",
            Problem::MissingParameter(_) => "missing-parameter",
            Problem::BadRequest(_) => "bad-request",
            Problem::TemplateSyntax(_) => "template-syntax",
            Problem::PathSyntax(_) => "path-syntax",
            Problem::RegexSyntax(_) => "regex-syntax",
            Problem::BadDuration(_) => "bad-duration",
            Problem::BadValue(_) => "bad-value",
            Problem::SecretOutsideRequest(_) => "secret-outside-request",
            Problem::UnknownBot(_) => "unknown-bot",
            Problem::UnknownJumpBlock { .. } => "unknown-jump-block",
            Problem::DuplicateBot(_) => "duplicate-bot",
            Problem::Unreachable(_) => "unreachable",
            Problem::EndlessLoop(_) => "endless-loop",
            Problem::UnassignedVariable(_) => "unassigned-variable",
            Problem::ListIntoNonList { .. } => "list-into-non-list",
            Problem::SetTypeMismatch { .. } => "set-type-mismatch",
        }
    }

    /// Errors stop a flow from loading; warnings do not.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::Unreachable(_)
            | Problem::EndlessLoop(_)
            | Problem::UnassignedVariable(_)
            | Problem::ListIntoNonList { .. }
            | Problem::SetTypeMismatch { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One reported problem, where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    /// The flow file, once known (set by whoever read the file).
    pub file: Option<String>,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `unknown-target`.
    pub code: &'static str,
    /// The block concerned, if any.
    pub block: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do, when there is something specific to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic for `problem` at `span`.
    pub fn new(problem: Problem, span: Span) -> Diagnostic {
        Diagnostic {
            file: None,
            line: span.line,
            column: span.column,
            severity: problem.severity(),
            code: problem.code(),
            block: None,
            message: problem.to_string(),
            help: None,
        }
    }

    /// Names the block concerned.
    pub fn in_block(mut self, block: Option<&str>) -> Diagnostic {
        self.block = block.map(str::to_owned);
        self
    }

    /// Adds what to do.
    pub fn with_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The errors that kept a flow from loading; shown one per line, as `flowbot validate` would.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct FlowErrors(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostic {
    /// `file:line:column: severity: message (help)`, the form editors and terminals link.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.severity, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// Diagnostics in file order, errors before warnings on the same spot.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity))
    });
}
