//! The pure halves of a webhook step, each beside a baseline measured in the same run.
//!
//! - `render`: `build_request` of a realistic order request (encoded URL, query, headers with a
//!   secret, a typed JSON body), beside `serde_json::from_str` of a JSON text as long as the
//!   rendered request, i.e. the cost of merely reading that much JSON.
//! - `path`: the builder's paths on a 30-product payload, beside serde_json_path running the
//!   equivalent RFC 9535 query. serde_json_path returns references; a save must store an owned
//!   value, so its `…_owned` variants also clone the result, which is what `Path::evaluate` does.
//!
//! Run with `cargo bench -p flow-http -- --sample-size 20`.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented functions.

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use flow_core::flow::{BlockKind, Webhook, WebhookSettings};
use flow_core::path::Path;
use flow_http::{build_request, Secrets};
use serde_json::{json, Value};
use serde_json_path::JsonPath;

const ORDER_BOT: &str = r#"
bot: shop
blocks:
  order:
    webhook:
      method: POST
      url: "https://api.shop.example/v2/customers/{{customer id}}/orders"
      query:
        lang: "{{language}}"
        source: chatbot
        campaign: "{{campaign}}"
      headers:
        Authorization: "Bearer {{secret.SHOP_TOKEN}}"
        X-Conversation: "{{conversation id}}"
        Accept: application/json
      body:
        json:
          customer: {name: "{{name}}", email: "{{email}}", phone: "{{phone}}"}
          items: "{{cart}}"
          quantity: "{{quantity}}"
          note: "Ordered by {{name}} through the bot, conversation {{conversation id}}"
          gift: "{{gift}}"
          address: "{{address}}"
          channel: web
    next: done
  done:
    end: Thanks
"#;

fn order_webhook() -> (Webhook, WebhookSettings) {
    let flow = flow_core::load(ORDER_BOT)
        .flow
        .expect("the bench bot loads");
    let BlockKind::Webhook(webhook) = &flow.block("order").unwrap().kind else {
        unreachable!("`order` is a webhook")
    };
    (webhook.clone(), flow.settings().webhook.clone())
}

fn order_variables() -> Value {
    json!({
        "customer id": "C-10042/eu",
        "language": "fr",
        "campaign": "spring & summer",
        "conversation id": "3f2a9c1e-7b44-4d0e-9a55-0c1d2e3f4a5b",
        "name": "Jérôme Dupont",
        "email": "jerome.dupont@example.com",
        "phone": "+33 6 12 34 56 78",
        "cart": [
            {"sku": "IPH-9", "title": "iPhone 9", "qty": 1, "price": 549},
            {"sku": "IPH-X", "title": "iPhone X", "qty": 2, "price": 899.5},
        ],
        "quantity": 3,
        "gift": true,
        "address": {"street": "12 rue de la Paix", "city": "Paris", "zip": "75002"},
    })
}

/// A JSON object of about `len` bytes, shaped like an API answer.
fn json_text_of_len(len: usize) -> String {
    let mut items = Vec::new();
    let mut idx = 0;
    loop {
        let text = json!({"items": items}).to_string();
        if text.len() >= len {
            return text;
        }
        items.push(json!({"id": idx, "name": format!("item {idx}"), "ok": idx % 2 == 0}));
        idx += 1;
    }
}

fn render(c: &mut Criterion) {
    let (webhook, settings) = order_webhook();
    let variables = order_variables();
    let lookup = |name: &str| variables.get(name).map(Cow::Borrowed);
    let mut secrets = Secrets::new();
    secrets.insert("SHOP_TOKEN", "tok-0123456789abcdef0123456789abcdef");
    let request = build_request("order", &webhook, &settings, &lookup, &secrets).unwrap();
    let request_len = request.url.len()
        + request
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum::<usize>()
        + request.body.as_ref().map_or(0, |body| body.bytes.len());
    let baseline = json_text_of_len(request_len);

    let mut group = c.benchmark_group("render");
    group.bench_function("build_request", |b| {
        b.iter(|| build_request("order", &webhook, &settings, &lookup, &secrets).unwrap())
    });
    group.bench_function(
        format!("baseline_serde_json_from_str_{}_bytes", baseline.len()),
        |b| b.iter(|| serde_json::from_str::<Value>(black_box(&baseline)).unwrap()),
    );
    group.finish();
}

/// 30 products shaped like dummyjson.com's answer.
fn products_payload() -> Value {
    let products: Vec<Value> = (0..30)
        .map(|idx| {
            json!({
                "id": idx + 1,
                "title": format!("Product {idx}"),
                "description": "An apple mobile which is nothing like apple",
                "price": 549 + idx,
                "discountPercentage": 12.96,
                "rating": 4.69,
                "stock": 94,
                "brand": "Apple",
                "category": if idx % 2 == 0 { "smartphones" } else { "laptops" },
                "thumbnail": format!("https://cdn.example.com/{idx}/thumbnail.jpg"),
                "images": [format!("https://cdn.example.com/{idx}/1.jpg"), format!("https://cdn.example.com/{idx}/2.jpg")],
            })
        })
        .collect();
    json!({"products": products, "total": 100, "skip": 0, "limit": 30})
}

fn path(c: &mut Criterion) {
    let payload = products_payload();
    let cases = [
        (
            "flatMap_titles",
            "products.flatMap(item => item.title)",
            "$.products[*].title",
        ),
        (
            "index_category",
            "products[1].category",
            "$.products[1].category",
        ),
    ];
    let mut group = c.benchmark_group("path");
    for (name, ours, rfc) in cases {
        let ours = Path::parse(ours).unwrap();
        let rfc = JsonPath::parse(rfc).unwrap();
        // Same answer, or the comparison means nothing.
        let nodes: Vec<Value> = rfc.query(&payload).all().into_iter().cloned().collect();
        let expected = match nodes.as_slice() {
            [single] if !ours.yields_list() => single.clone(),
            _ => Value::Array(nodes),
        };
        assert_eq!(ours.evaluate(&payload).unwrap(), expected);

        group.bench_function(format!("{name}/flowbot"), |b| {
            b.iter(|| ours.evaluate(black_box(&payload)).unwrap())
        });
        group.bench_function(format!("{name}/serde_json_path"), |b| {
            b.iter(|| rfc.query(black_box(&payload)).all())
        });
        group.bench_function(format!("{name}/serde_json_path_owned"), |b| {
            b.iter(|| {
                rfc.query(black_box(&payload))
                    .all()
                    .into_iter()
                    .cloned()
                    .collect::<Vec<Value>>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render, path);
criterion_main!(benches);
