//! Reading each kind of block: its kind key, the keys beside it, and their targets.

use std::time::Duration;

use crate::diagnostic::Problem;
use crate::flow::{
    BlockId, BlockKind, Body, Edge, End, EventBlock, Expect, Handoff, Jump, Message, Method, Options, Question,
    Save, SetBlock, SetOperation, Sleep, Wait, Webhook,
};
use crate::suggest;
use crate::yaml::{Node, NodeValue};

use super::reader::{self, fields, Fields, Reporter};
use super::{condition, read_accept_status, TargetRef, BLOCK_KINDS, MAX_TIMEOUT, MIN_TIMEOUT};

/// The keys allowed beside each kind key.
fn sibling_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "message" | "set" | "jump" | "sleep" | "event" => &["next"],
        "question" => &[
            "save_to", "options", "expect", "pattern", "retry", "attempts", "on_invalid", "timeout", "on_timeout", "next",
        ],
        "wait" => &["next", "on_timeout"],
        "webhook" => &["next", "on_failure"],
        _ => &[],
    }
}

/// Reads one block; `None` (with reports) when it cannot be used.
pub(crate) fn read_block(
    reporter: &mut Reporter,
    id: &BlockId,
    node: &Node,
    targets: &mut Vec<TargetRef>,
) -> Option<BlockKind> {
    let what = format!("block `{id}`");
    let block = fields(reporter, node, &what, &[])?;
    let kinds: Vec<&str> = block.iter().map(|(key, ..)| key).filter(|key| BLOCK_KINDS.contains(key)).collect();
    let kind = match kinds.as_slice() {
        [kind] => *kind,
        [] => {
            let help = block
                .iter()
                .find_map(|(key, ..)| suggest::closest(key, BLOCK_KINDS.iter().copied()))
                .map(|kind| format!("did you mean `{kind}`?"));
            reporter.report_with_help(
                Problem::NoKind {
                    block: id.to_string(),
                    kinds: suggest::backticked(BLOCK_KINDS),
                },
                node.span,
                help,
            );
            return None;
        }
        several => {
            let second = block.key_node(several[1]).map_or(node.span, |key| key.span);
            reporter.report(
                Problem::SeveralKinds {
                    block: id.to_string(),
                    kinds: suggest::backticked(several),
                },
                second,
            );
            return None;
        }
    };
    let allowed = sibling_keys(kind);
    let mut siblings_ok = true;
    for (key, key_node, _) in block.iter() {
        if key != kind && !allowed.contains(&key) {
            let place = format!("a `{kind}` block");
            reader::report_unknown_key(reporter, key_node, key, &place, allowed);
            siblings_ok = false;
        }
    }
    let value = block.get(kind)?;
    let mut links = Links { reporter_block: id.clone(), block: &block, targets, missing: false, unreadable: false };
    let kind = match kind {
        "message" => read_message(reporter, value, &mut links),
        "question" => read_question(reporter, value, &mut links),
        "wait" => read_wait(reporter, value, &mut links),
        "choice" => condition::read_choice(reporter, id, value, links.targets),
        "webhook" => read_webhook(reporter, value, &mut links),
        "set" => read_set(reporter, value, &mut links),
        "jump" => read_jump(reporter, value, &mut links),
        "sleep" => read_sleep(reporter, value, &mut links),
        "event" => read_event(reporter, value, &mut links),
        "handoff" => read_handoff(reporter, value),
        _ => read_end(reporter, value),
    };
    if links.missing {
        reporter.report_with_help(
            Problem::MissingNext(id.to_string()),
            node.span,
            Some("add `next: <block id>` beside the kind key".to_owned()),
        );
        return None;
    }
    // A target that could not be read leaves the block without a way on: it cannot be used.
    kind.filter(|_| siblings_ok && !links.unreadable)
}

/// The targets beside a block's kind key.
struct Links<'a, 'n> {
    reporter_block: BlockId,
    block: &'a Fields<'n>,
    targets: &'a mut Vec<TargetRef>,
    missing: bool,
    unreadable: bool,
}

impl Links<'_, '_> {
    /// An optional target under `key`.
    fn optional(&mut self, reporter: &mut Reporter, key: &str, edge: Edge) -> Option<BlockId> {
        let node = self.block.get(key)?;
        let Some(name) = reader::text(reporter, node, &format!("`{key}`")) else {
            self.unreadable = true;
            return None;
        };
        self.targets.push(TargetRef {
            from: self.reporter_block.clone(),
            to: name.to_owned(),
            span: node.span,
            edge,
        });
        Some(BlockId::new(name))
    }

    /// `next`, which this kind of block needs.
    fn next(&mut self, reporter: &mut Reporter) -> BlockId {
        match self.optional(reporter, "next", Edge::Next) {
            Some(next) => next,
            None => {
                self.missing |= !self.block.has("next");
                BlockId::new("")
            }
        }
    }
}

fn read_message(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let text = reader::template(reporter, value, "the message", false)?;
    Some(BlockKind::Message(Message { text, next }))
}

const EXPECTS: &[&str] = &["text", "number", "email", "phone", "option", "regex"];

fn read_question(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let block = links.block;
    let next = links.next(reporter);
    let text = reader::template(reporter, value, "the question", false);
    let save_to = block.get("save_to").and_then(|node| reader::variable_name(reporter, node, "`save_to`"));
    let options = block.get("options").and_then(|node| read_options(reporter, node));
    let expect = read_expect(reporter, block, options.is_some());
    let retry = block.get("retry").and_then(|node| reader::template(reporter, node, "`retry`", false));
    let attempts = block
        .get("attempts")
        .and_then(|node| reader::whole_number(reporter, node, "`attempts`", 1..=1000))
        .map(|n| n as u32);
    let on_invalid = links.optional(reporter, "on_invalid", Edge::OnInvalid);
    pair_required(reporter, block, "attempts", "on_invalid");
    let (timeout, on_timeout) = read_timeout(reporter, links);
    Some(BlockKind::Question(Question {
        text: text?,
        save_to: save_to.map(str::to_owned),
        options,
        expect: expect?,
        retry,
        attempts,
        on_invalid,
        timeout,
        on_timeout,
        next,
    }))
}

/// Reports when one of two keys that go together is present without the other.
fn pair_required(reporter: &mut Reporter, block: &Fields, first: &str, second: &str) {
    for (present, absent) in [(first, second), (second, first)] {
        if let (Some(key), false) = (block.key_node(present), block.has(absent)) {
            reporter.report_with_help(
                Problem::MissingKey(format!("`{present}` needs `{absent}` beside it")),
                key.span,
                Some(format!("add `{absent}`, or remove `{present}`")),
            );
        }
    }
}

fn read_timeout(reporter: &mut Reporter, links: &mut Links) -> (Option<Duration>, Option<BlockId>) {
    let timeout = links
        .block
        .get("timeout")
        .and_then(|node| reader::duration(reporter, node, "`timeout`", Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600)));
    let on_timeout = links.optional(reporter, "on_timeout", Edge::OnTimeout);
    pair_required(reporter, links.block, "timeout", "on_timeout");
    (timeout, on_timeout)
}

fn read_options(reporter: &mut Reporter, node: &Node) -> Option<Options> {
    match &node.value {
        NodeValue::Seq(items) => {
            let options: Vec<_> = items
                .iter()
                .filter_map(|item| reader::template(reporter, item, "an option", false))
                .collect();
            (options.len() == items.len()).then_some(Options::List(options))
        }
        _ => {
            let template = reader::template(reporter, node, "`options`", false)?;
            if reader::single_variable(&template) {
                Some(Options::Variable(template))
            } else {
                reporter.wrong_type(node, "`options`", "a list, or one list variable such as \"{{titles}}\"");
                None
            }
        }
    }
}

fn read_expect(reporter: &mut Reporter, block: &Fields, has_options: bool) -> Option<Expect> {
    let pattern = block.get("pattern");
    let Some(node) = block.get("expect") else {
        if let Some(pattern) = block.key_node("pattern") {
            reporter.report_with_help(
                Problem::MissingKey("`pattern` needs `expect: regex` beside it".to_owned()),
                pattern.span,
                Some("add `expect: regex`".to_owned()),
            );
        }
        return Some(if has_options { Expect::Option } else { Expect::Text });
    };
    let name = reader::text(reporter, node, "`expect`")?;
    let expect = match name {
        "text" => Expect::Text,
        "number" => Expect::Number,
        "email" => Expect::Email,
        "phone" => Expect::Phone,
        "option" => Expect::Option,
        "regex" => {
            let Some(pattern) = pattern else {
                reporter.report_with_help(
                    Problem::MissingKey("`expect: regex` needs a `pattern`".to_owned()),
                    node.span,
                    Some("add `pattern: <regex>` beside `expect`".to_owned()),
                );
                return None;
            };
            let source = reader::text(reporter, pattern, "`pattern`")?;
            match regex::Regex::new(source) {
                Ok(regex) => Expect::Regex(regex),
                Err(error) => {
                    reporter.report(Problem::RegexSyntax(first_line(&error.to_string())), pattern.span);
                    return None;
                }
            }
        }
        _ => {
            reporter.report_with_help(
                Problem::BadValue(format!("unknown `expect` value `{name}` (expected one of {})", suggest::backticked(EXPECTS))),
                node.span,
                suggest::did_you_mean(name, EXPECTS.iter().copied()),
            );
            return None;
        }
    };
    if matches!(expect, Expect::Option) && !has_options {
        reporter.report_with_help(
            Problem::MissingKey("`expect: option` needs `options`".to_owned()),
            node.span,
            Some("add `options:` with the choices offered".to_owned()),
        );
        return None;
    }
    if pattern.is_some() && !matches!(expect, Expect::Regex(_)) {
        reporter.report(Problem::BadValue("`pattern` is only used with `expect: regex`".to_owned()), node.span);
    }
    Some(expect)
}

/// The most telling line of a regex error (the crate's message spans several lines).
pub(crate) fn first_line(message: &str) -> String {
    message
        .lines()
        .rev()
        .find(|line| line.starts_with("error:"))
        .or_else(|| message.lines().next())
        .unwrap_or(message)
        .trim_start_matches("error:")
        .trim()
        .to_owned()
}

fn read_wait(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let on_timeout = links.optional(reporter, "on_timeout", Edge::OnTimeout);
    let mut wait = Wait { save_to: None, timeout: None, on_timeout, next };
    if !value.is_null() {
        let keys = fields(reporter, value, "`wait`", &["save_to", "timeout"])?;
        wait.save_to = keys
            .get("save_to")
            .and_then(|node| reader::variable_name(reporter, node, "`save_to`"))
            .map(str::to_owned);
        wait.timeout = keys
            .get("timeout")
            .and_then(|node| reader::duration(reporter, node, "`timeout`", Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600)));
    }
    if wait.timeout.is_some() != wait.on_timeout.is_some() {
        let span = links.block.key_node("on_timeout").map_or(value.span, |key| key.span);
        reporter.report_with_help(
            Problem::MissingKey("a `wait` needs both `timeout` (inside) and `on_timeout` (beside), or neither".to_owned()),
            span,
            Some("add the missing one, or remove the other".to_owned()),
        );
    }
    Some(BlockKind::Wait(wait))
}

const WEBHOOK_KEYS: &[&str] = &[
    "method", "url", "query", "headers", "body", "save", "failure", "timeout", "accept_status",
];

fn read_webhook(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let on_failure = links.optional(reporter, "on_failure", Edge::OnFailure);
    let keys = fields(reporter, value, "`webhook`", WEBHOOK_KEYS)?;
    let method = read_method(reporter, &keys);
    let url = read_url(reporter, value, &keys);
    let query = keys.get("query").and_then(|node| read_pairs(reporter, node, "`query`", true));
    let headers = keys.get("headers").and_then(|node| read_headers(reporter, node));
    let body = match keys.get("body") {
        Some(node) => Some(read_body(reporter, node)?),
        None => None,
    };
    let save = match keys.get("save") {
        Some(node) => read_saves(reporter, node)?,
        None => Vec::new(),
    };
    let failure = keys
        .get("failure")
        .and_then(|node| reader::variable_name(reporter, node, "`failure`"))
        .map(str::to_owned);
    let timeout = keys
        .get("timeout")
        .and_then(|node| reader::duration(reporter, node, "the webhook timeout", MIN_TIMEOUT..=MAX_TIMEOUT));
    let accept_status = keys.get("accept_status").and_then(|node| read_accept_status(reporter, node));
    Some(BlockKind::Webhook(Webhook {
        method: method?,
        url: url?,
        query: query.unwrap_or_default(),
        headers: headers.unwrap_or_default(),
        body,
        save,
        failure,
        timeout,
        accept_status,
        next,
        on_failure,
    }))
}

fn read_method(reporter: &mut Reporter, keys: &Fields) -> Option<Method> {
    let Some(node) = keys.get("method") else {
        return Some(Method::Get);
    };
    let name = match node.as_scalar() {
        Some(name) if !name.trim().is_empty() => name,
        _ => {
            reporter.report_with_help(
                Problem::MissingParameter("the webhook's `method` is empty".to_owned()),
                node.span,
                Some("write a method such as `GET` or `POST`, or remove `method` for GET".to_owned()),
            );
            return None;
        }
    };
    let method = Method::parse(name);
    if method.is_none() {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        reporter.report_with_help(
            Problem::BadRequest(format!("unknown method `{name}` (expected one of {})", suggest::backticked(&names))),
            node.span,
            suggest::did_you_mean(name, names.iter().copied()),
        );
    }
    method
}

fn read_url(reporter: &mut Reporter, webhook: &Node, keys: &Fields) -> Option<crate::template::Template> {
    let Some(node) = keys.get("url").filter(|node| !node.is_null()) else {
        reporter.report_with_help(
            Problem::MissingParameter("the webhook has no `url`".to_owned()),
            keys.key_node("url").map_or(webhook.span, |key| key.span),
            Some("add `url: https://...`: the URL is the only required parameter".to_owned()),
        );
        return None;
    };
    let url = reader::template(reporter, node, "the URL", true)?;
    if let Some(problem) = url_problem(&url) {
        reporter.report_with_help(
            Problem::BadRequest(problem),
            node.span,
            Some("a webhook URL starts with `http://` or `https://`".to_owned()),
        );
        return None;
    }
    Some(url)
}

/// Why a URL can never be valid, judging by its literal start.
fn url_problem(url: &crate::template::Template) -> Option<String> {
    use crate::template::Part;
    let literal = match url.parts().first() {
        Some(Part::Literal(text)) => text.as_str(),
        Some(_) => return None,
        None => "",
    };
    let lower = literal.trim_start().to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some("") if url.parts().len() == 1 => Some(format!("the URL `{}` has no host", url.source())),
        Some(_) => None,
        None if lower.is_empty() => Some("the URL is empty".to_owned()),
        // A placeholder may still complete the scheme (`http{{s}}://`), but only that.
        None if url.parts().len() > 1 && ("https://".starts_with(&lower) || "http://".starts_with(&lower)) => None,
        None => Some(format!("the URL `{}` can never be valid: it is not http or https", url.source())),
    }
}

/// A mapping of names to templates (query parameters, form fields); a list value repeats the name.
fn read_pairs(
    reporter: &mut Reporter,
    node: &Node,
    what: &str,
    allow_secrets: bool,
) -> Option<Vec<(String, crate::template::Template)>> {
    let entries = fields(reporter, node, what, &[])?;
    let mut pairs = Vec::new();
    for (name, _, value) in entries.iter() {
        let values: Vec<&Node> = match &value.value {
            NodeValue::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        for value in values {
            if let Some(template) = reader::template(reporter, value, &format!("{what} `{name}`"), allow_secrets) {
                pairs.push((name.to_owned(), template));
            }
        }
    }
    Some(pairs)
}

fn read_headers(reporter: &mut Reporter, node: &Node) -> Option<Vec<(String, crate::template::Template)>> {
    let entries = fields(reporter, node, "`headers`", &[])?;
    let mut headers = Vec::new();
    for (name, key, value) in entries.iter() {
        let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid {
            reporter.report(Problem::BadRequest(format!("`{name}` is not a valid header name")), key.span);
            continue;
        }
        let what = format!("header `{name}`");
        if let Some(template) = reader::template(reporter, value, &what, true) {
            if template.source().contains(['\r', '\n']) {
                reporter.report(Problem::BadRequest(format!("{what} contains a line break")), value.span);
                continue;
            }
            headers.push((name.to_owned(), template));
        }
    }
    Some(headers)
}

fn read_body(reporter: &mut Reporter, node: &Node) -> Option<Body> {
    let keys = fields(reporter, node, "`body`", &["json", "form", "text", "content_type"])?;
    let kinds: Vec<&str> = ["json", "form", "text"].into_iter().filter(|key| keys.has(key)).collect();
    if kinds.len() != 1 {
        reporter.report_with_help(
            Problem::BadRequest(format!("a body has exactly one of `json`, `form` or `text`, found {}", kinds.len())),
            node.span,
            Some("keep one of them".to_owned()),
        );
        return None;
    }
    if let (Some(key), false) = (keys.key_node("content_type"), keys.has("text")) {
        reporter.report(Problem::BadRequest("`content_type` goes with a `text` body".to_owned()), key.span);
        return None;
    }
    let body = match kinds[0] {
        "json" => Body::Json(reader::value_template(reporter, keys.get("json")?, "the JSON body", true)?),
        "form" => Body::Form(read_pairs(reporter, keys.get("form")?, "the form body", true)?),
        _ => {
            let text = reader::template(reporter, keys.get("text")?, "the text body", true)?;
            let content_type = match keys.get("content_type") {
                Some(node) => reader::text(reporter, node, "`content_type`")?.to_owned(),
                None => "text/plain; charset=utf-8".to_owned(),
            };
            Body::Text { text, content_type }
        }
    };
    Some(body)
}

fn read_saves(reporter: &mut Reporter, node: &Node) -> Option<Vec<Save>> {
    let NodeValue::Seq(items) = &node.value else {
        reporter.wrong_type(node, "`save`", "a list of `{path, to}`");
        return None;
    };
    let mut saves = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(keys) = fields(reporter, item, "a `save` entry", &["path", "to", "default"]) else {
            ok = false;
            continue;
        };
        let Some(to) = keys.get("to") else {
            reporter.report_with_help(
                Problem::MissingKey("a `save` entry has no `to`".to_owned()),
                item.span,
                Some("add `to: <variable>`".to_owned()),
            );
            ok = false;
            continue;
        };
        let to = reader::variable_name(reporter, to, "`to`");
        let path = match keys.get("path") {
            Some(path) => reader::path(reporter, path, "the path"),
            None => crate::path::Path::parse("").ok(),
        };
        let default = keys.get("default").map(Node::to_json);
        match (path, to) {
            (Some(path), Some(to)) => saves.push(Save { path, to: to.to_owned(), default }),
            _ => ok = false,
        }
    }
    ok.then_some(saves)
}

const SET_OPERATIONS: &[&str] = &["add", "subtract", "multiply", "divide", "append", "push", "remove", "clear"];

fn read_set(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let entries = fields(reporter, value, "`set`", &[])?;
    let mut assignments = Vec::new();
    let mut ok = true;
    for (_, key, node) in entries.iter() {
        let Some(name) = reader::variable_name(reporter, key, "a `set` variable") else {
            ok = false;
            continue;
        };
        match read_set_operation(reporter, node) {
            Some(operation) => assignments.push((name.to_owned(), operation)),
            None => ok = false,
        }
    }
    ok.then_some(BlockKind::Set(SetBlock { assignments, next }))
}

fn read_set_operation(reporter: &mut Reporter, node: &Node) -> Option<SetOperation> {
    let operation = match node.as_map() {
        Some([(key, operand)]) if key.as_scalar().is_some_and(|k| SET_OPERATIONS.contains(&k)) => (key.as_scalar()?, operand),
        _ => return Some(SetOperation::Assign(reader::value_template(reporter, node, "the value", false)?)),
    };
    let (name, operand) = operation;
    if name == "clear" {
        return match reader::boolean(reporter, operand, "`clear`")? {
            true => Some(SetOperation::Clear),
            false => {
                reporter.wrong_type(operand, "`clear`", "`true`");
                None
            }
        };
    }
    let value = reader::value_template(reporter, operand, &format!("`{name}`"), false)?;
    Some(match name {
        "add" => SetOperation::Add(value),
        "subtract" => SetOperation::Subtract(value),
        "multiply" => SetOperation::Multiply(value),
        "divide" => SetOperation::Divide(value),
        "append" => SetOperation::Append(value),
        "push" => SetOperation::Push(value),
        _ => SetOperation::Remove(value),
    })
}

fn read_jump(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let keys = fields(reporter, value, "`jump`", &["bot", "block", "with", "return", "save"])?;
    let return_after = match keys.get("return") {
        Some(node) => reader::boolean(reporter, node, "`return`")?,
        None => false,
    };
    let next = match return_after {
        true => Some(links.next(reporter)),
        false => links.optional(reporter, "next", Edge::Next),
    };
    let Some(bot_node) = keys.get("bot") else {
        reporter.report_with_help(
            Problem::MissingKey("a `jump` has no `bot`".to_owned()),
            value.span,
            Some("add `bot: <bot id>`".to_owned()),
        );
        return None;
    };
    let bot = reader::text(reporter, bot_node, "`bot`")?.to_owned();
    let block = match keys.get("block") {
        Some(node) => Some(BlockId::new(reader::text(reporter, node, "`block`")?)),
        None => None,
    };
    let mut with = Vec::new();
    if let Some(node) = keys.get("with") {
        for (_, key, value) in fields(reporter, node, "`with`", &[])?.iter() {
            let name = reader::variable_name(reporter, key, "a `with` variable")?;
            with.push((name.to_owned(), reader::value_template(reporter, value, "a `with` value", false)?));
        }
    }
    let mut save = Vec::new();
    if let Some(node) = keys.get("save") {
        for (_, key, value) in fields(reporter, node, "the jump's `save`", &[])?.iter() {
            let child = reader::variable_name(reporter, key, "a child variable")?;
            let parent = reader::variable_name(reporter, value, "a parent variable")?;
            save.push((child.to_owned(), parent.to_owned()));
        }
    }
    Some(BlockKind::Jump(Jump {
        bot,
        bot_span: bot_node.span,
        block,
        block_span: keys.get("block").map(|node| node.span),
        with,
        return_after,
        save,
        next,
    }))
}

fn read_sleep(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let duration = reader::duration(reporter, value, "`sleep`", Duration::from_secs(1)..=Duration::from_secs(3600))?;
    Some(BlockKind::Sleep(Sleep { duration, next }))
}

fn read_event(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    if value.as_scalar().is_some() {
        let name = reader::template(reporter, value, "the event name", false)?;
        return Some(BlockKind::Event(EventBlock { name, data: None, next }));
    }
    let keys = fields(reporter, value, "`event`", &["name", "data"])?;
    let Some(name) = keys.get("name") else {
        reporter.report_with_help(
            Problem::MissingKey("an `event` has no `name`".to_owned()),
            value.span,
            Some("add `name: <event name>`".to_owned()),
        );
        return None;
    };
    let name = reader::template(reporter, name, "the event name", false)?;
    let data = match keys.get("data") {
        Some(node) => Some(reader::value_template(reporter, node, "the event data", false)?),
        None => None,
    };
    Some(BlockKind::Event(EventBlock { name, data, next }))
}

fn read_handoff(reporter: &mut Reporter, value: &Node) -> Option<BlockKind> {
    if value.is_null() {
        return Some(BlockKind::Handoff(Handoff { message: None, team: None }));
    }
    if value.as_scalar().is_some() {
        let message = reader::template(reporter, value, "the handoff message", false)?;
        return Some(BlockKind::Handoff(Handoff { message: Some(message), team: None }));
    }
    let keys = fields(reporter, value, "`handoff`", &["message", "team"])?;
    let message = match keys.get("message") {
        Some(node) => Some(reader::template(reporter, node, "the handoff message", false)?),
        None => None,
    };
    let team = match keys.get("team") {
        Some(node) => Some(reader::text(reporter, node, "`team`")?.to_owned()),
        None => None,
    };
    Some(BlockKind::Handoff(Handoff { message, team }))
}

fn read_end(reporter: &mut Reporter, value: &Node) -> Option<BlockKind> {
    if value.is_null() {
        return Some(BlockKind::End(End { message: None, restart: false }));
    }
    if value.as_scalar().is_some() {
        let message = reader::template(reporter, value, "the end message", false)?;
        return Some(BlockKind::End(End { message: Some(message), restart: false }));
    }
    let keys = fields(reporter, value, "`end`", &["message", "restart"])?;
    let message = match keys.get("message") {
        Some(node) => Some(reader::template(reporter, node, "the end message", false)?),
        None => None,
    };
    let restart = match keys.get("restart") {
        Some(node) => reader::boolean(reporter, node, "`restart`")?,
        None => false,
    };
    Some(BlockKind::End(End { message, restart }))
}
