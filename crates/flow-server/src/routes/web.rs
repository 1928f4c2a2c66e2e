//! The web chat: the page at `/chat/{bot}`, the widget script and their assets, plain HTML,
//! CSS and JavaScript modules from `crates/flow-server/assets/`, embedded in the binary.
//!
//! Nothing they load comes from another host. The page's Content-Security-Policy allows its
//! own scripts, styles and API calls only; the assets are sent with an ETag and a short
//! max-age, and may be loaded from any site (the widget imports `chat.js` into the host page).

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::public::check_public_bot;
use crate::error::ApiError;
use crate::store::Store;
use crate::AppState;

/// The chat page's policy: its own origin for scripts, styles and API calls, nothing else, and
/// never inside a frame.
pub const CHAT_PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const CHAT_HTML: &str = include_str!("../../assets/chat.html");

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/chat.js"),
    },
    Asset {
        name: "chat-page.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/chat-page.js"),
    },
    Asset {
        name: "chat.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/chat.css"),
    },
];

const WIDGET: Asset = Asset {
    name: "widget.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../assets/widget.js"),
};

/// The ETag of an asset: FNV-1a of its bytes, which do not change while the binary runs.
fn etag(asset: &Asset) -> &'static HeaderValue {
    static TAGS: OnceLock<Vec<(&'static str, HeaderValue)>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .chain(std::iter::once(&WIDGET))
            .map(|asset| {
                let hash = asset
                    .body
                    .bytes()
                    .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
                    });
                let tag = HeaderValue::from_str(&format!("\"{hash:016x}\""))
                    .expect("a hex ETag is a valid header value");
                (asset.name, tag)
            })
            .collect()
    });
    tags.iter()
        .find(|(name, _)| *name == asset.name)
        .map(|(_, tag)| tag)
        .expect("every asset has its ETag")
}

fn asset_response(asset: &Asset, request: &HeaderMap) -> Response {
    let tag = etag(asset);
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|given| given == tag);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ),
        (header::ETAG, tag.clone()),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // The widget imports the module into pages of other sites, which needs CORS.
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
    ];
    match fresh {
        true => (StatusCode::NOT_MODIFIED, headers).into_response(),
        false => (headers, asset.body).into_response(),
    }
}

/// `GET /assets/{name}`: the page's modules and style sheet.
pub(super) async fn asset(path: Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|asset| asset.name == path.0) {
        Some(asset) => asset_response(asset, &headers),
        None => super::not_found().await,
    }
}

/// `GET /widget.js`: the script tag a site adds to show the chat of a public bot.
pub(super) async fn widget(headers: HeaderMap) -> Response {
    asset_response(&WIDGET, &headers)
}

/// `GET /chat/{bot}`: the chat page of a public bot; `unknown_bot` for any other.
pub(super) async fn chat_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(bot) = path.map_err(super::path_error)?;
    check_public_bot(&state, &bot)?;
    let page = CHAT_HTML.replace("{{bot}}", &escape_html(&bot));
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CHAT_PAGE_CSP),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    Ok((headers, page).into_response())
}

/// `text` safe inside HTML text and double-quoted attributes.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
