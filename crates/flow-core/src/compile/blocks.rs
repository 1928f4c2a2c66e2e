//! Reading each kind of block: its kind key, the keys beside it, and their targets.

use std::time::Duration;

use crate::diagnostic::Problem;
use crate::flow::{
    BlockId, BlockKind, Body, Edge, End, EventBlock, Expect, Handoff, Jump, Message, Method,
    Options, Question, Save, SetBlock, SetOperation, Sleep, Wait, Webhook,
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
            "save_to",
            "options",
            "expect",
            "pattern",
            "retry",
            "attempts",
            "on_invalid",
            "timeout",
            "on_timeout",
            "next",
        ],
        "wait" => &["next", "on_timeout"],
        "webhook" => &["next", "on_failure"],
        _ => &[],
    }
}

/// The keys a kind takes in the mapping under its kind key.
fn inner_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "wait" => &["save_to", "timeout"],
        "webhook" => WEBHOOK_KEYS,
        "jump" => JUMP_KEYS,
        "event" => &["name", "data"],
        "handoff" => &["message", "team"],
        "end" => &["message", "restart"],
        _ => &[],
    }
}

/// The keys that name another block; they always sit beside the kind key.
const TARGET_KEYS: &[&str] = &["next", "on_failure", "on_invalid", "on_timeout"];

/// Reads one block; `None` (with reports) when it cannot be used.
/// `key` is the block's id as written, where problems of the whole block point.
pub(crate) fn read_block(
    reporter: &mut Reporter,
    id: &BlockId,
    key: &Node,
    node: &Node,
    targets: &mut Vec<TargetRef>,
) -> Option<BlockKind> {
    if node.as_map().is_none() {
        let help = "write what the block does below its id, such as `message: <text>` and `next: <block id>`".to_owned();
        reporter.wrong_type_with_help(node, &format!("block `{id}`"), "a mapping", Some(help));
        return None;
    }
    // `fields` names the place only for a value that is not a mapping or for a key that is not
    // allowed, neither of which can happen here: the name is not built for every block.
    let mut block = fields(reporter, node, "a block", &[])?;
    let kind = read_kind_key(reporter, id, key, &block)?;
    let (siblings_ok, meant) = check_siblings(reporter, kind, &block);
    block.add_meant(meant);
    let value = block.get(kind)?;
    let mut links = Links {
        reporter_block: id.clone(),
        block: &block,
        targets,
        missing: false,
        unreadable: false,
    };
    let kind_key = block.key_node(kind).unwrap_or(key);
    let read = match kind {
        "message" => read_message(reporter, value, &mut links),
        "question" => read_question(reporter, value, &mut links),
        "wait" => read_wait(reporter, value, &mut links),
        "choice" => condition::read_choice(reporter, id, kind_key, value, links.targets),
        "webhook" => read_webhook(reporter, kind_key, value, &mut links),
        "set" => read_set(reporter, value, &mut links),
        "jump" => read_jump(reporter, kind_key, value, &mut links),
        "sleep" => read_sleep(reporter, value, &mut links),
        "event" => read_event(reporter, kind_key, value, &mut links),
        "handoff" => read_handoff(reporter, value),
        _ => read_end(reporter, value),
    };
    if links.missing {
        // A misspelt or misplaced `next` was reported already, with what to do about it.
        if !block.mentions("next") && !has_key(value, "next") {
            reporter.report_with_help(
                Problem::MissingNext(id.to_string()),
                key.span,
                Some(format!("add `next: <block id>` beside `{kind}:`")),
            );
        }
        return None;
    }
    let kind = read;
    // A target that could not be read leaves the block without a way on: it cannot be used.
    kind.filter(|_| siblings_ok && !links.unreadable)
}

/// The one kind key of a block; `None` after reporting a block with none or several.
fn read_kind_key<'n>(
    reporter: &mut Reporter,
    id: &BlockId,
    key: &Node,
    block: &Fields<'n>,
) -> Option<&'n str> {
    let kinds: Vec<&str> = block
        .iter()
        .map(|(key, ..)| key)
        .filter(|key| BLOCK_KINDS.contains(key))
        .collect();
    match kinds.as_slice() {
        [kind] => Some(*kind),
        [] => {
            // A misspelt kind key is the likeliest cause: name it, and point at it.
            let misspelt = block.iter().find_map(|(name, key_node, _)| {
                Some((
                    name,
                    suggest::closest(name, BLOCK_KINDS.iter().copied())?,
                    key_node,
                ))
            });
            match misspelt {
                Some((name, kind, key_node)) => reporter.report_with_help(
                    Problem::UnknownKey(format!("block `{id}` has an unknown key `{name}`")),
                    key_node.span,
                    Some(format!("did you mean `{kind}`?")),
                ),
                None => reporter.report(
                    Problem::NoKind {
                        block: id.to_string(),
                        kinds: suggest::backticked(BLOCK_KINDS),
                    },
                    key.span,
                ),
            }
            None
        }
        several => {
            let second = block.key_node(several[1]).map_or(key.span, |key| key.span);
            reporter.report_with_help(
                Problem::SeveralKinds { block: id.to_string(), kinds: suggest::backticked(several) },
                second,
                Some(format!(
                    "split it into blocks, one per kind, each with a `next` to the following one: `{}`, then `{}`",
                    several[0], several[1]
                )),
            );
            None
        }
    }
}

/// Reports the keys beside the kind key that it does not take. Returns whether all were
/// fine, and the keys the unknown ones stand for.
fn check_siblings(reporter: &mut Reporter, kind: &str, block: &Fields) -> (bool, Vec<String>) {
    let allowed = sibling_keys(kind);
    let mut ok = true;
    let mut meant = Vec::new();
    for (key, key_node, _) in block.iter() {
        if key != kind && !allowed.contains(&key) {
            let place = match allowed {
                [] => format!(
                    "{} `{kind}` block, which takes no keys beside `{kind}:`",
                    suggest::article(kind)
                ),
                _ => format!("{} `{kind}` block", suggest::article(kind)),
            };
            let elsewhere = sibling_elsewhere(kind, key, block.get(kind));
            meant.extend(reader::report_unknown_key(
                reporter, key_node, key, &place, allowed, elsewhere,
            ));
            ok = false;
        }
    }
    (ok, meant)
}

/// Where a key written beside `kind` belongs instead, as help.
fn sibling_elsewhere(kind: &str, key: &str, value: Option<&Node>) -> Option<String> {
    let ends = matches!(kind, "end" | "handoff");
    if key == "next" && ends {
        return Some(format!(
            "{} `{kind}` finishes the conversation, so it has no `next`: remove it",
            suggest::article(kind)
        ));
    }
    if key == "next" && kind == "choice" {
        return Some("a `choice` goes on through its branches: give the branch `next`, or add `- else: <block id>`".to_owned());
    }
    if TARGET_KEYS.contains(&key) {
        let targets: Vec<&str> = sibling_keys(kind)
            .iter()
            .copied()
            .filter(|k| TARGET_KEYS.contains(k))
            .collect();
        return Some(format!(
            "{} `{kind}` block goes on with {} only",
            suggest::article(kind),
            suggest::backticked(&targets)
        ));
    }
    if !inner_keys(kind).contains(&key) {
        return None;
    }
    match value.and_then(Node::as_scalar).filter(|_| ends) {
        Some(_) => Some(format!("`{key}` goes under `{kind}:`, written as a mapping: `{kind}: {{message: ..., {key}: ...}}`")),
        None => Some(format!("`{key}` goes under `{kind}:`, not beside it")),
    }
}

/// Reads the mapping under a kind key, pointing a target written there to its place beside it.
fn kind_fields<'n>(
    reporter: &mut Reporter,
    value: &'n Node,
    kind: &str,
    allowed: &[&str],
) -> Option<Fields<'n>> {
    if value.as_map().is_none() {
        let example = match kind {
            "webhook" => "url: https://...",
            "jump" => "bot: <bot id>",
            "wait" => "timeout: 10m",
            "event" => "name: <event name>",
            _ => "message: <text>",
        };
        reporter.report_with_help(
            Problem::WrongType(format!(
                "`{kind}` must be a mapping, found {}",
                value.describe()
            )),
            value.span,
            Some(format!(
                "write its keys under `{kind}:`, such as `{example}`, one per line"
            )),
        );
        return None;
    }
    let elsewhere = |key: &str| {
        TARGET_KEYS
            .contains(&key)
            .then(|| format!("`{key}` goes beside `{kind}:`, not under it"))
    };
    let what = match kind {
        "question" => "`question`",
        "wait" => "`wait`",
        "webhook" => "`webhook`",
        "jump" => "`jump`",
        "event" => "`event`",
        "handoff" => "`handoff`",
        "end" => "`end`",
        "message" => "`message`",
        _ => &format!("`{kind}`"),
    };
    reader::fields_or_elsewhere(reporter, value, what, allowed, &elsewhere)
}

/// True when `node` is a mapping with `key`.
fn has_key(node: &Node, key: &str) -> bool {
    node.as_map().is_some_and(|entries| {
        entries
            .iter()
            .any(|(name, _)| name.as_scalar() == Some(key))
    })
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
        let name = match node.as_scalar().filter(|_| !node.is_null()) {
            Some(name) => name,
            None => {
                let help = format!("write the id of the block to go to: `{key}: <block id>`");
                reporter.wrong_type_with_help(node, &format!("`{key}`"), "a block id", Some(help));
                self.unreadable = true;
                return None;
            }
        };
        let to = BlockId::new(name);
        self.targets.push(TargetRef {
            from: self.reporter_block.clone(),
            to: to.clone(),
            span: node.span,
            edge,
        });
        Some(to)
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
    let save_to = block
        .get("save_to")
        .and_then(|node| reader::variable_name(reporter, node, "`save_to`"));
    let options = block
        .get("options")
        .and_then(|node| read_options(reporter, node));
    // Whether `options` is written, not whether it could be read: its own error says the rest.
    let expect = read_expect(reporter, block, block.mentions("options"));
    let retry = block
        .get("retry")
        .and_then(|node| reader::template(reporter, node, "`retry`", false));
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
        if let (Some(key), false) = (block.key_node(present), block.mentions(absent)) {
            reporter.report_with_help(
                Problem::MissingKey(format!("`{present}` needs `{absent}` beside it")),
                key.span,
                Some(format!("add `{absent}`, or remove `{present}`")),
            );
        }
    }
}

fn read_timeout(reporter: &mut Reporter, links: &mut Links) -> (Option<Duration>, Option<BlockId>) {
    let timeout = links.block.get("timeout").and_then(|node| {
        reader::duration(
            reporter,
            node,
            "`timeout`",
            Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600),
        )
    });
    let on_timeout = links.optional(reporter, "on_timeout", Edge::OnTimeout);
    pair_required(reporter, links.block, "timeout", "on_timeout");
    (timeout, on_timeout)
}

fn read_options(reporter: &mut Reporter, node: &Node) -> Option<Options> {
    match &node.value {
        NodeValue::Seq(items) if items.is_empty() => {
            reporter.report_with_help(
                Problem::BadValue("`options` is an empty list: no answer could ever be valid".to_owned()),
                node.span,
                Some("list the choices offered, such as `options: [Small, Large]`, or remove `options`".to_owned()),
            );
            None
        }
        NodeValue::Seq(items) => {
            let options: Vec<_> = items
                .iter()
                .filter_map(|item| reader::template(reporter, item, "an option", false))
                .collect();
            (options.len() == items.len()).then_some(Options::List(options))
        }
        NodeValue::Map(_) => {
            reporter.wrong_type(
                node,
                "`options`",
                "a list, or one list variable such as \"{{titles}}\"",
            );
            None
        }
        NodeValue::Scalar(..) => {
            let template = reader::template(reporter, node, "`options`", false)?;
            if reader::single_variable(&template) {
                Some(Options::Variable(template))
            } else {
                let help = format!(
                    "write the options as a list: `options: [{}]`",
                    template.source()
                );
                reporter.wrong_type_with_help(
                    node,
                    "`options`",
                    "a list, or one list variable such as \"{{titles}}\"",
                    Some(help),
                );
                None
            }
        }
    }
}

fn read_expect(reporter: &mut Reporter, block: &Fields, has_options: bool) -> Option<Expect> {
    let pattern = block.get("pattern");
    let Some(node) = block.get("expect") else {
        // A misspelt `expect` was reported already, with a did-you-mean.
        if let Some(pattern) = block
            .key_node("pattern")
            .filter(|_| !block.mentions("expect"))
        {
            reporter.report_with_help(
                Problem::MissingKey("`pattern` needs `expect: regex` beside it".to_owned()),
                pattern.span,
                Some("add `expect: regex`".to_owned()),
            );
        }
        return Some(if has_options {
            Expect::Option
        } else {
            Expect::Text
        });
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
                if block.mentions("pattern") {
                    return None;
                }
                reporter.report_with_help(
                    Problem::MissingKey("`expect: regex` needs a `pattern`".to_owned()),
                    node.span,
                    Some("add `pattern: <regex>` beside `expect`".to_owned()),
                );
                return None;
            };
            let source = reader::text(reporter, pattern, "`pattern`")?;
            Expect::Regex(reader::regex(reporter, pattern, source, false)?)
        }
        _ => {
            reporter.report_with_help(
                Problem::BadValue(format!(
                    "unknown `expect` value `{name}` (expected one of {})",
                    suggest::backticked(EXPECTS)
                )),
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
        reporter.report(
            Problem::BadValue("`pattern` is only used with `expect: regex`".to_owned()),
            node.span,
        );
    }
    Some(expect)
}

fn read_wait(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let on_timeout = links.optional(reporter, "on_timeout", Edge::OnTimeout);
    let mut wait = Wait {
        save_to: None,
        timeout: None,
        on_timeout,
        next,
    };
    if value.is_null() {
        if let Some(key) = links.block.key_node("on_timeout") {
            report_wait_pair(
                reporter,
                key,
                "`on_timeout` needs a `timeout` under `wait:`",
                "add `timeout: <duration>` under `wait:`, or remove `on_timeout`",
            );
        }
        return Some(BlockKind::Wait(wait));
    }
    let keys = kind_fields(reporter, value, "wait", inner_keys("wait"))?;
    wait.save_to = keys
        .get("save_to")
        .and_then(|node| reader::variable_name(reporter, node, "`save_to`"))
        .map(str::to_owned);
    wait.timeout = keys.get("timeout").and_then(|node| {
        reader::duration(
            reporter,
            node,
            "`timeout`",
            Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600),
        )
    });
    // The pair is judged on the keys written, not on their values: a bad duration is its own error.
    let has_on_timeout = links.block.mentions("on_timeout") || keys.mentions("on_timeout");
    match (keys.key_node("timeout"), links.block.key_node("on_timeout")) {
        (Some(key), None) if !has_on_timeout => report_wait_pair(
            reporter,
            key,
            "`timeout` needs an `on_timeout` beside `wait:`",
            "add `on_timeout: <block id>` beside `wait:`, or remove `timeout`",
        ),
        (None, Some(key)) => report_wait_pair(
            reporter,
            key,
            "`on_timeout` needs a `timeout` under `wait:`",
            "add `timeout: <duration>` under `wait:`, or remove `on_timeout`",
        ),
        _ => {}
    }
    Some(BlockKind::Wait(wait))
}

/// Reports half of the `timeout` (under `wait:`) and `on_timeout` (beside it) pair.
fn report_wait_pair(reporter: &mut Reporter, key: &Node, message: &str, help: &str) {
    reporter.report_with_help(
        Problem::MissingKey(message.to_owned()),
        key.span,
        Some(help.to_owned()),
    );
}

const WEBHOOK_KEYS: &[&str] = &[
    "method",
    "url",
    "query",
    "headers",
    "body",
    "save",
    "failure",
    "timeout",
    "accept_status",
    "idempotency_key",
];

fn read_webhook(
    reporter: &mut Reporter,
    kind_key: &Node,
    value: &Node,
    links: &mut Links,
) -> Option<BlockKind> {
    let next = links.next(reporter);
    let on_failure = links.optional(reporter, "on_failure", Edge::OnFailure);
    let keys = kind_fields(reporter, value, "webhook", WEBHOOK_KEYS)?;
    let method = read_method(reporter, &keys);
    let url = read_url(reporter, kind_key, &keys);
    let query = keys
        .get("query")
        .and_then(|node| read_pairs(reporter, node, "`query`", true));
    let headers = keys
        .get("headers")
        .and_then(|node| read_headers(reporter, node));
    // Every part is read even when one fails, so that all their problems are reported at once.
    let body = keys.get("body").map(|node| read_body(reporter, node));
    let save = keys.get("save").map(|node| read_saves(reporter, node));
    let failure = keys
        .get("failure")
        .and_then(|node| reader::variable_name(reporter, node, "`failure`"))
        .map(str::to_owned);
    let timeout = keys.get("timeout").and_then(|node| {
        reader::duration(
            reporter,
            node,
            "the webhook timeout",
            MIN_TIMEOUT..=MAX_TIMEOUT,
        )
    });
    let accept_status = keys
        .get("accept_status")
        .and_then(|node| read_accept_status(reporter, node));
    let idempotency_key = read_idempotency_key(reporter, &keys, headers.as_ref());
    Some(BlockKind::Webhook(Webhook {
        method: method?,
        url: url?,
        query: query.unwrap_or_default(),
        headers: headers.unwrap_or_default(),
        body: body.map_or(Some(None), |body| body.map(Some))?,
        save: save.unwrap_or(Some(Vec::new()))?,
        failure,
        timeout,
        accept_status,
        idempotency_key,
        next,
        on_failure,
    }))
}

/// `idempotency_key`: a boolean, and not beside a header of the same name, which would send
/// two.
fn read_idempotency_key(
    reporter: &mut Reporter,
    keys: &Fields,
    headers: Option<&Vec<(String, crate::template::Template)>>,
) -> bool {
    use crate::flow::IDEMPOTENCY_KEY_HEADER;
    let Some(node) = keys.get("idempotency_key") else {
        return false;
    };
    let Some(wanted) = reader::boolean(reporter, node, "`idempotency_key`") else {
        return false;
    };
    let own = headers
        .into_iter()
        .flatten()
        .any(|(name, _)| name.eq_ignore_ascii_case(IDEMPOTENCY_KEY_HEADER));
    if wanted && own {
        reporter.report_with_help(
            Problem::BadRequest(format!(
                "`idempotency_key: true` adds an `{IDEMPOTENCY_KEY_HEADER}` header, and `headers` \
                 sets one too"
            )),
            node.span,
            Some(format!(
                "remove `{IDEMPOTENCY_KEY_HEADER}` from `headers`, or remove `idempotency_key`"
            )),
        );
        return false;
    }
    wanted
}

fn read_method(reporter: &mut Reporter, keys: &Fields) -> Option<Method> {
    let Some(node) = keys.get("method") else {
        return Some(Method::Get);
    };
    let name = match node.as_scalar() {
        Some(name) if !name.trim().is_empty() => name,
        None => {
            reporter.wrong_type(
                node,
                "the webhook's `method`",
                "one method, such as `GET` or `POST`",
            );
            return None;
        }
        Some(_) => {
            reporter.report_with_help(
                Problem::MissingParameter("the webhook's `method` is empty".to_owned()),
                node.span,
                Some(
                    "write a method such as `GET` or `POST`, or remove `method` for GET".to_owned(),
                ),
            );
            return None;
        }
    };
    let method = Method::parse(name);
    if method.is_none() {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        reporter.report_with_help(
            Problem::BadRequest(format!(
                "unknown method `{name}` (expected one of {})",
                suggest::backticked(&names)
            )),
            node.span,
            suggest::did_you_mean(name, names.iter().copied()),
        );
    }
    method
}

fn read_url(
    reporter: &mut Reporter,
    kind_key: &Node,
    keys: &Fields,
) -> Option<crate::template::Template> {
    let Some(node) = keys.get("url").filter(|node| !node.is_null()) else {
        // A misspelt `url` was reported already, with a did-you-mean.
        if keys.has("url") || !keys.mentions("url") {
            reporter.report_with_help(
                Problem::MissingParameter("the webhook has no `url`".to_owned()),
                keys.key_node("url").unwrap_or(kind_key).span,
                Some("add `url: https://...` under `webhook:`: the URL is the only required parameter".to_owned()),
            );
        }
        return None;
    };
    if node.as_scalar().is_some_and(|url| url.trim().is_empty()) {
        reporter.report_with_help(
            Problem::MissingParameter("the webhook's `url` is empty".to_owned()),
            node.span,
            Some("write the address to call: `url: https://...`".to_owned()),
        );
        return None;
    }
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
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some("") if url.parts().len() == 1 => {
            Some(format!("the URL `{}` has no host", url.source()))
        }
        Some(_) => None,
        None if lower.is_empty() => Some("the URL is empty".to_owned()),
        // A placeholder may still complete the scheme (`http{{s}}://`), but only that.
        None if url.parts().len() > 1
            && ("https://".starts_with(&lower) || "http://".starts_with(&lower)) =>
        {
            None
        }
        None => Some(format!(
            "the URL `{}` can never be valid: it is not http or https",
            url.source()
        )),
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
        let values = match &value.value {
            NodeValue::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(value),
        };
        for value in values {
            if let Some(template) = reader::template(
                reporter,
                value,
                format_args!("{what} `{name}`"),
                allow_secrets,
            ) {
                pairs.push((name.to_owned(), template));
            }
        }
    }
    Some(pairs)
}

/// An HTTP token, as RFC 9110 defines a field name.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn read_headers(
    reporter: &mut Reporter,
    node: &Node,
) -> Option<Vec<(String, crate::template::Template)>> {
    let entries = fields(reporter, node, "`headers`", &[])?;
    let mut headers = Vec::new();
    for (name, key, value) in entries.iter() {
        if !is_header_name(name) {
            let dashed = name.trim().replace(char::is_whitespace, "-");
            let help = match is_header_name(&dashed) {
                true => format!("a header name has no spaces; write it like `{dashed}`"),
                false => {
                    "a header name is ASCII letters, digits and `-`, such as `X-Api-Key`".to_owned()
                }
            };
            reporter.report_with_help(
                Problem::BadRequest(format!("`{name}` is not a valid header name")),
                key.span,
                Some(help),
            );
            continue;
        }
        let what = format!("header `{name}`");
        if let Some(template) = reader::template(reporter, value, &what, true) {
            if template.source().contains(['\r', '\n']) {
                reporter.report_with_help(
                    Problem::BadRequest(format!("{what} contains a line break")),
                    value.span,
                    Some("write the header's value on one line".to_owned()),
                );
                continue;
            }
            headers.push((name.to_owned(), template));
        }
    }
    Some(headers)
}

const BODY_KINDS: &[&str] = &["json", "form", "text"];

fn read_body(reporter: &mut Reporter, node: &Node) -> Option<Body> {
    let keys = fields(
        reporter,
        node,
        "`body`",
        &["json", "form", "text", "content_type"],
    )?;
    let kinds: Vec<&str> = BODY_KINDS
        .iter()
        .copied()
        .filter(|key| keys.has(key))
        .collect();
    match kinds.as_slice() {
        [_] => {}
        // A misspelt `jsn:` was reported already, with a did-you-mean.
        [] if BODY_KINDS.iter().any(|kind| keys.mentions(kind)) => return None,
        [] => {
            reporter.report_with_help(
                Problem::BadRequest("a body needs one of `json`, `form` or `text`".to_owned()),
                node.span,
                Some("write the body under `json:`, `form:` or `text:`".to_owned()),
            );
            return None;
        }
        [first, second, ..] => {
            reporter.report_with_help(
                Problem::BadRequest(format!("a body has both `{first}` and `{second}`, but takes only one of `json`, `form` or `text`")),
                keys.key_node(second).map_or(node.span, |key| key.span),
                Some("keep one of them".to_owned()),
            );
            return None;
        }
    }
    if let (Some(key), false) = (keys.key_node("content_type"), keys.has("text")) {
        reporter.report_with_help(
            Problem::BadRequest("`content_type` goes with a `text` body".to_owned()),
            key.span,
            Some("remove it: a `json` body is sent as application/json, a `form` body as application/x-www-form-urlencoded".to_owned()),
        );
        return None;
    }
    let body = match kinds[0] {
        "json" => Body::Json(reader::value_template(
            reporter,
            keys.get("json")?,
            "the JSON body",
            true,
        )?),
        "form" => Body::Form(read_pairs(
            reporter,
            keys.get("form")?,
            "the form body",
            true,
        )?),
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
        reporter.report_with_help(
            Problem::WrongType(format!("`save` must be a list of `{{path, to}}`, found {}", node.describe())),
            node.span,
            Some("start each entry with `- `: `- path: products[0].title` with `to: <variable>` below it".to_owned()),
        );
        return None;
    };
    let mut saves = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(keys) = fields(reporter, item, "a `save` entry", &["path", "to", "default"])
        else {
            ok = false;
            continue;
        };
        let path = match keys.get("path") {
            Some(path) => reader::path(reporter, path, "the path"),
            None => crate::path::Path::parse("").ok(),
        };
        let Some(to) = keys.get("to") else {
            // A misspelt `too:` was reported already, with a did-you-mean.
            if !keys.mentions("to") {
                reporter.report_with_help(
                    Problem::MissingKey("a `save` entry has no `to`".to_owned()),
                    item.span,
                    Some(
                        "add `to: <variable>`: the variable that receives what `path` picks"
                            .to_owned(),
                    ),
                );
            }
            ok = false;
            continue;
        };
        let to = reader::variable_name(reporter, to, "`to`");
        let default = keys.get("default").map(Node::to_json);
        match (path, to) {
            (Some(path), Some(to)) => saves.push(Save {
                path,
                to: to.to_owned(),
                default,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(saves)
}

const SET_OPERATIONS: &[&str] = &[
    "add", "subtract", "multiply", "divide", "append", "push", "remove", "clear",
];

fn read_set(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let entries = fields(reporter, value, "`set`", &[])?;
    let mut assignments = Vec::new();
    let mut ok = true;
    for (key_name, key, node) in entries.iter() {
        if TARGET_KEYS.contains(&key_name) {
            reporter.report_with_help(
                Problem::UnknownKey(format!(
                    "`{key_name}` under `set:` would assign a variable named `{key_name}`"
                )),
                key.span,
                Some(format!("`{key_name}` goes beside `set:`, not under it")),
            );
            ok = false;
            continue;
        }
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
    let entries = node.as_map().unwrap_or_default();
    let is_operation = |key: &Node| key.as_scalar().is_some_and(|k| SET_OPERATIONS.contains(&k));
    let (name, operand) = match entries {
        [(key, operand)] if is_operation(key) => (key.as_scalar()?, operand),
        [_, _, ..] if entries.iter().any(|(key, _)| is_operation(key)) => {
            report_mixed_operation(reporter, entries);
            return None;
        }
        _ => {
            return Some(SetOperation::Assign(reader::value_template(
                reporter,
                node,
                "the value",
                false,
            )?))
        }
    };
    if name == "clear" {
        return match reader::boolean(reporter, operand, "`clear`")? {
            true => Some(SetOperation::Clear),
            false => {
                reporter.report_with_help(
                    Problem::BadValue(
                        "`clear` only takes `true`, which empties the list".to_owned(),
                    ),
                    operand.span,
                    Some("remove this line to leave the list as it is".to_owned()),
                );
                None
            }
        };
    }
    let value = reader::value_template(reporter, operand, format_args!("`{name}`"), false)?;
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

/// Reports a mapping that has an operation key and other keys: neither one operation nor
/// an object the author could mean (the schema refuses such objects too).
fn report_mixed_operation(reporter: &mut Reporter, entries: &[(Node, Node)]) {
    let names: Vec<&str> = entries
        .iter()
        .filter_map(|(key, _)| key.as_scalar())
        .collect();
    reporter.report_with_help(
        Problem::BadValue(format!(
            "an operation is a mapping with exactly one key, found {} keys: {}",
            names.len(),
            suggest::backticked(&names)
        )),
        entries[1].0.span,
        Some("to apply two operations, use two `set` blocks in a row; an object value cannot use operation names (`add`, `push`...) as keys".to_owned()),
    );
}

const JUMP_KEYS: &[&str] = &["bot", "block", "with", "return", "save"];

fn read_jump(
    reporter: &mut Reporter,
    kind_key: &Node,
    value: &Node,
    links: &mut Links,
) -> Option<BlockKind> {
    let keys = kind_fields(reporter, value, "jump", JUMP_KEYS)?;
    let return_after = match keys.get("return") {
        Some(node) => reader::boolean(reporter, node, "`return`"),
        None => Some(false),
    };
    let next = match return_after {
        Some(true) => Some(links.next(reporter)),
        Some(false) => {
            // Without `return` the child bot never comes back, so a `next` would only hide
            // unreachable blocks behind an edge that is never taken.
            if let Some(key) = links.block.key_node("next") {
                reporter.report_with_help(
                    Problem::BadValue(
                        "`next` is only followed after a jump with `return: true`".to_owned(),
                    ),
                    key.span,
                    Some(
                        "add `return: true` under `jump:` to come back, or remove `next`"
                            .to_owned(),
                    ),
                );
            }
            None
        }
        None => links.optional(reporter, "next", Edge::Next),
    };
    let bot_node = keys.get("bot");
    if bot_node.is_none() && !keys.mentions("bot") {
        reporter.report_with_help(
            Problem::MissingKey("a `jump` has no `bot`".to_owned()),
            kind_key.span,
            Some("add `bot: <bot id>` under `jump:`: the bot to run".to_owned()),
        );
    }
    let bot = bot_node.and_then(|node| reader::text(reporter, node, "`bot`"));
    let block = keys
        .get("block")
        .map(|node| reader::text(reporter, node, "`block`"));
    let with = keys.get("with").map(|node| read_jump_with(reporter, node));
    let save = keys.get("save").map(|node| read_jump_save(reporter, node));
    Some(BlockKind::Jump(Jump {
        bot: bot?.to_owned(),
        bot_span: bot_node?.span,
        block: block.map_or(Some(None), |block| block.map(|id| Some(BlockId::new(id))))?,
        block_span: keys.get("block").map(|node| node.span),
        with: with.unwrap_or(Some(Vec::new()))?,
        return_after: return_after?,
        save: save.unwrap_or(Some(Vec::new()))?,
        next,
    }))
}

/// `with:`: values for the other bot's variables.
fn read_jump_with(
    reporter: &mut Reporter,
    node: &Node,
) -> Option<Vec<(String, crate::flow::ValueTemplate)>> {
    let mut with = Vec::new();
    let mut ok = true;
    for (_, key, value) in fields(reporter, node, "`with`", &[])?.iter() {
        let name = reader::variable_name(reporter, key, "a `with` variable");
        let value = reader::value_template(reporter, value, "a `with` value", false);
        match (name, value) {
            (Some(name), Some(value)) => with.push((name.to_owned(), value)),
            _ => ok = false,
        }
    }
    ok.then_some(with)
}

/// The jump's `save:`: the other bot's variable, then this bot's.
fn read_jump_save(reporter: &mut Reporter, node: &Node) -> Option<Vec<(String, String)>> {
    let mut save = Vec::new();
    let mut ok = true;
    for (_, key, value) in fields(reporter, node, "the jump's `save`", &[])?.iter() {
        let child = reader::variable_name(reporter, key, "a variable of the other bot");
        let parent = reader::variable_name(reporter, value, "a variable of this bot");
        match (child, parent) {
            (Some(child), Some(parent)) => save.push((child.to_owned(), parent.to_owned())),
            _ => ok = false,
        }
    }
    ok.then_some(save)
}

fn read_sleep(reporter: &mut Reporter, value: &Node, links: &mut Links) -> Option<BlockKind> {
    let next = links.next(reporter);
    let duration = reader::duration(
        reporter,
        value,
        "`sleep`",
        Duration::from_secs(1)..=Duration::from_secs(3600),
    )?;
    Some(BlockKind::Sleep(Sleep { duration, next }))
}

fn read_event(
    reporter: &mut Reporter,
    kind_key: &Node,
    value: &Node,
    links: &mut Links,
) -> Option<BlockKind> {
    let next = links.next(reporter);
    if value.as_scalar().is_some() {
        let name = reader::template(reporter, value, "the event name", false)?;
        return Some(BlockKind::Event(EventBlock {
            name,
            data: None,
            next,
        }));
    }
    let keys = kind_fields(reporter, value, "event", inner_keys("event"))?;
    let name_node = keys.get("name");
    if name_node.is_none() && !keys.mentions("name") {
        reporter.report_with_help(
            Problem::MissingKey("an `event` has no `name`".to_owned()),
            kind_key.span,
            Some("add `name: <event name>` under `event:`".to_owned()),
        );
    }
    let name = name_node.and_then(|node| reader::template(reporter, node, "the event name", false));
    let data = keys
        .get("data")
        .map(|node| reader::value_template(reporter, node, "the event data", false));
    Some(BlockKind::Event(EventBlock {
        name: name?,
        data: data.map_or(Some(None), |data| data.map(Some))?,
        next,
    }))
}

/// The three forms `handoff` and `end` take: nothing, the message alone, or a mapping with
/// `message` and the kind's own keys. Gives the message (`None` when unreadable, reported) and
/// the mapping, whose other keys the caller reads, so every problem of the block is reported.
fn message_form<'n>(
    reporter: &mut Reporter,
    value: &'n Node,
    kind: &str,
) -> Option<(
    Option<Option<crate::template::Template>>,
    Option<Fields<'n>>,
)> {
    let what = format!("the {kind} message");
    if value.is_null() {
        return Some((Some(None), None));
    }
    if value.as_scalar().is_some() {
        let message = reader::template(reporter, value, &what, false)?;
        return Some((Some(Some(message)), None));
    }
    let keys = kind_fields(reporter, value, kind, inner_keys(kind))?;
    let message = keys
        .get("message")
        .map(|node| reader::template(reporter, node, &what, false));
    Some((
        message.map_or(Some(None), |message| message.map(Some)),
        Some(keys),
    ))
}

fn read_handoff(reporter: &mut Reporter, value: &Node) -> Option<BlockKind> {
    let (message, keys) = message_form(reporter, value, "handoff")?;
    let team = keys
        .as_ref()
        .and_then(|keys| keys.get("team"))
        .map(|node| reader::text(reporter, node, "`team`"));
    Some(BlockKind::Handoff(Handoff {
        message: message?,
        team: team.map_or(Some(None), |team| team.map(|team| Some(team.to_owned())))?,
    }))
}

fn read_end(reporter: &mut Reporter, value: &Node) -> Option<BlockKind> {
    let (message, keys) = message_form(reporter, value, "end")?;
    let restart = keys
        .as_ref()
        .and_then(|keys| keys.get("restart"))
        .map(|node| reader::boolean(reporter, node, "`restart`"));
    Some(BlockKind::End(End {
        message: message?,
        restart: restart.unwrap_or(Some(false))?,
    }))
}
