// The web chat of `flowbot serve` in Chromium: the page at /chat/{bot} and the widget on a page
// of another origin, against the real binary with a temporary SQLite store, the shop's webhook
// answered by a loopback server, and the rest of the API behind a token.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO, SCREENSHOTS, scratch, openBrowser, startFlowbot, startWebhookServer } from "./lib/harness.mjs";

const TOKEN = "t-webchat-1";
const SECRET = "s3cr3t-shop-token";

/** A bot that says one thing, sleeps, and comes back by itself. */
const NAP = `bot: nap
start: hello
blocks:
  hello:
    message: Give me a moment.
    next: nap
  nap:
    sleep: 1s
    next: back
  back:
    end: I'm back.
`;

/** A bot that sends an event for the host page and hands the conversation to a team. */
const DESK = `bot: desk
start: ask
variables:
  want: text
blocks:
  ask:
    question: Shall I find you a person?
    options: [Talk to a person]
    save_to: want
    next: tag
  tag:
    event:
      name: wants_person
      data:
        asked: "{{want}}"
    next: pass
  pass:
    handoff:
      message: A colleague will take it from here.
      team: support
`;

/** A bot that is loaded but not opened with --public-bot. */
const PRIVATE = `bot: private
start: hello
blocks:
  hello:
    end: Not for the web.
`;

let shopApi;
let flowbot;
let host;

before(async () => {
  // The shop's API: three products, the first one named after the Authorization header it got,
  // so that the secret it carries would show if the server did not mask it.
  shopApi = await startWebhookServer((request) => ({
    json: {
      products: [
        { title: `Echo ${request.headers.authorization ?? "none"}`, category: "tests" },
        { title: "Laptop", category: "laptops" },
        { title: "Phone", category: "phones" },
      ],
    },
  }));
  const dir = scratch("webchat");
  const flows = join(dir, "flows");
  mkdirSync(flows);
  const shop = readFileSync(join(REPO, "flows", "shop.yaml"), "utf8")
    .replace("https://dummyjson.com/products", `${shopApi.url}/products`)
    .replace(
      "        Accept: application/json\n",
      '        Accept: application/json\n        Authorization: "Bearer {{secret.SHOP_TOKEN}}"\n',
    );
  assert.ok(shop.includes(shopApi.url) && shop.includes("secret.SHOP_TOKEN"), "the shop flow moved");
  writeFileSync(join(flows, "shop.yaml"), shop);
  writeFileSync(join(flows, "nap.yaml"), NAP);
  writeFileSync(join(flows, "desk.yaml"), DESK);
  writeFileSync(join(flows, "private.yaml"), PRIVATE);
  flowbot = await startFlowbot(
    [
      "serve",
      "--flows", flows,
      "--store", `sqlite:${join(dir, "flowbot.db")}`,
      "--listen", "127.0.0.1:0",
      "--public-bot", "shop",
      "--public-bot", "nap",
      "--public-bot", "desk",
      "--allow-webhook", "127.0.0.1",
    ],
    { env: { FLOWBOT_API_TOKENS: TOKEN, FLOWBOT_SECRET_SHOP_TOKEN: SECRET }, cwd: dir },
  );
  host = new URL(flowbot.url).host;
});

after(async () => {
  await flowbot?.stop();
  shopApi?.close();
});

/** The texts of the chat's transcript, in order. */
async function transcript(root) {
  return root.locator(".fb-bubble").allTextContents();
}

async function saved(page, bot) {
  return page.evaluate((bot) => {
    for (let index = 0; index < localStorage.length; index += 1) {
      const key = localStorage.key(index);
      if (key.endsWith(`:${bot}`)) return JSON.parse(localStorage.getItem(key));
    }
    return null;
  }, bot);
}

async function apiGet(path) {
  const response = await fetch(`${flowbot.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: await response.json() };
}

/** Brings the shop to its product question: the name typed and sent with Enter. */
async function answerName(root, page, name) {
  await root.getByText("What's your name?").waitFor();
  const input = root.getByLabel("Your message");
  await input.fill(name);
  await input.press("Enter");
  await root.getByRole("button", { name: "Laptop" }).waitFor();
  return page;
}

test("a whole shop conversation in the chat page, by keyboard, with the secret masked", async () => {
  const hitsBefore = shopApi.seen.length;
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const { page } = session;
    const response = await page.goto(`${flowbot.url}/chat/shop`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html; charset=utf-8/);
    assert.match(response.headers()["content-security-policy"], /default-src 'none'/);
    // For screen readers: the transcript is a polite live log, the controls have names.
    const log = page.getByRole("log", { name: "Conversation" });
    assert.equal(await log.getAttribute("aria-live"), "polite");
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "shop");
    await answerName(page, page, "Ada");
    assert.equal(await page.getByRole("group", { name: "Choices" }).getByRole("button").count(), 3);
    const texts = await transcript(page);
    assert.deepEqual(texts.slice(0, 3), ["Welcome to the shop!", "What's your name?", "Ada"]);
    assert.match(texts[3], /^Ada, we have: /);
    // The secret the webhook echoed is masked before the bot stores it, so the page never has it.
    assert.ok(!(await page.content()).includes(SECRET), "the page shows the secret");
    assert.match(texts[3], /Echo Bearer \*\*\*/);
    const options = await page.locator(".fb-option").allTextContents();
    assert.deepEqual(options, ["Echo Bearer ***", "Laptop", "Phone"]);
    await page.screenshot({ path: join(SCREENSHOTS, "web-chat.png") });
    // By keyboard: the options come just before the text field, so Shift+Tab reaches the last.
    assert.equal(await page.evaluate(() => document.activeElement.className), "fb-input");
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Phone");
    await page.keyboard.press("Enter");
    await page.getByText("You picked Phone.").waitFor();
    await page.getByRole("button", { name: "Start a new conversation" }).waitFor();
    assert.equal(await page.getByRole("status").textContent(), "The conversation has ended.");
    assert.equal(await page.getByLabel("Your message").isVisible(), false);
    const state = await saved(page, "shop");
    const shown = await apiGet(`/v1/bots/shop/conversations/${state.conversation}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.status, "ended");
    assert.equal(shown.body.variables.choice, "Phone");
    assert.equal(shopApi.seen.length - hitsBefore, 1, "one webhook call for one conversation");
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("on a phone-sized screen the chat fits the width, and a screenshot is taken", async () => {
  const session = await openBrowser({ allowedHosts: [host], viewport: { width: 390, height: 844 } });
  try {
    const { page } = session;
    await page.goto(`${flowbot.url}/chat/shop`);
    await answerName(page, page, "Grace");
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      form: document.querySelector(".fb-form").getBoundingClientRect().right,
    }));
    assert.ok(widths.page <= 390 && widths.form <= 390, JSON.stringify(widths));
    assert.ok(await page.getByRole("button", { name: "Send" }).isVisible());
    await page.screenshot({ path: join(SCREENSHOTS, "web-chat-phone.png") });
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("a reload in the middle resumes the same conversation", async () => {
  const hitsBefore = shopApi.seen.length;
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const { page } = session;
    await page.goto(`${flowbot.url}/chat/shop`);
    await answerName(page, page, "Linus");
    const before = await saved(page, "shop");
    const shownBefore = await transcript(page);
    await page.reload();
    await page.getByRole("button", { name: "Laptop" }).waitFor();
    assert.deepEqual(await transcript(page), shownBefore);
    assert.equal((await saved(page, "shop")).conversation, before.conversation);
    await page.getByRole("button", { name: "Laptop" }).click();
    await page.getByText("You picked Laptop.").waitFor();
    const shown = await apiGet(`/v1/bots/shop/conversations/${before.conversation}`);
    assert.equal(shown.body.status, "ended");
    assert.equal(shown.body.variables.name, "Linus");
    assert.equal(shopApi.seen.length - hitsBefore, 1, "the reload started no second conversation");
    // The transcript after the reload is the whole conversation, each output once.
    const outputs = await apiGet(`/v1/bots/shop/conversations/${before.conversation}/outputs`);
    const botTexts = outputs.body.outputs.map((output) => output.text);
    const userTexts = ["Linus", "Laptop"];
    assert.deepEqual(
      (await transcript(page)).filter((text) => !userTexts.includes(text)),
      botTexts,
    );
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("a send whose answer was lost is sent again with its id, and runs the bot once", async () => {
  const hitsBefore = shopApi.seen.length;
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const { page } = session;
    // The first message reaches the server, which runs the turn; its answer never reaches the page.
    let cut = false;
    await page.route("**/messages", async (route) => {
      if (cut) return route.continue();
      cut = true;
      await route.fetch();
      return route.abort("connectionreset");
    });
    const sends = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/messages")) sends.push(request.postDataJSON());
    });
    await page.goto(`${flowbot.url}/chat/shop`);
    const replay = page.waitForResponse(
      (response) => response.url().endsWith("/messages") && response.status() === 200,
    );
    await answerName(page, page, "Margaret");
    assert.equal((await replay).headers()["idempotent-replay"], "true");
    assert.equal(sends.length, 2);
    assert.deepEqual(sends[1], sends[0], "the retry is the same message with the same id");
    assert.equal(shopApi.seen.length - hitsBefore, 1, "the webhook ran once");
    const texts = await transcript(page);
    assert.equal(texts.filter((text) => text === "Margaret").length, 1);
    assert.equal(texts.filter((text) => text.startsWith("Margaret, we have")).length, 1);
    // The cut connection is the one problem, on purpose.
    assert.deepEqual(
      session.problems().filter((problem) => !problem.includes("ERR_CONNECTION_RESET")),
      [],
    );
  } finally {
    await session.close();
  }
});

test("a sleep's output arrives by itself, by long poll", async () => {
  const session = await openBrowser({ allowedHosts: [host] });
  const sent = [];
  session.context.on("request", (request) => {
    if (request.method() === "POST") sent.push(request.url());
  });
  try {
    const { page } = session;
    await page.goto(`${flowbot.url}/chat/nap`);
    await page.getByText("Give me a moment.").waitFor();
    await page.getByText("I'm back.").waitFor({ timeout: 20_000 });
    await page.getByText("The conversation has ended.").waitFor();
    assert.deepEqual(await transcript(page), ["Give me a moment.", "I'm back."]);
    assert.deepEqual(sent, [`${flowbot.url}/public/v1/bots/nap/conversations`], "only the start was sent");
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("what a timer sent while the page was closed is there when it opens again", async () => {
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const { page } = session;
    await page.goto(`${flowbot.url}/chat/nap`);
    await page.getByText("Give me a moment.").waitFor();
    const { conversation } = await saved(page, "nap");
    await page.goto("about:blank");
    // The timer fires with no page open; the server's record says when it has.
    let status;
    for (let tries = 0; tries < 150 && status !== "ended"; tries += 1) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await apiGet(`/v1/bots/nap/conversations/${conversation}`)).body.status;
    }
    assert.equal(status, "ended", "the timer fired while no page was open");
    await page.goto(`${flowbot.url}/chat/nap`);
    await page.getByText("I'm back.").waitFor();
    assert.deepEqual(await transcript(page), ["Give me a moment.", "I'm back."]);
    assert.equal((await saved(page, "nap")).conversation, conversation);
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("the widget on a page of another origin holds a whole conversation, and resumes it", async () => {
  const site = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>A shop's site</title>
<style>body { font-family: Georgia, serif; background: #fdf6e3; margin: 2rem; }</style></head>
<body><h1>Our shop</h1><p>Questions? Ask the bot in the corner.</p>
<script src="${flowbot.url}/widget.js" data-bot="shop"></script></body></html>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  const siteHost = `127.0.0.1:${site.address().port}`;
  assert.notEqual(siteHost, host);
  const session = await openBrowser({ allowedHosts: [host, siteHost] });
  try {
    const { page } = session;
    await page.goto(`http://${siteHost}/`);
    await page.getByRole("button", { name: "Chat with us" }).click();
    const panel = page.getByRole("dialog", { name: "Chat: shop" });
    await answerName(panel, page, "Ada");
    await page.screenshot({ path: join(SCREENSHOTS, "web-chat-widget.png") });
    await page.reload();
    await panel.getByRole("button", { name: "Laptop" }).click();
    await panel.getByText("You picked Laptop.").waitFor();
    const texts = await transcript(panel);
    assert.deepEqual(texts.slice(0, 3), ["Welcome to the shop!", "What's your name?", "Ada"]);
    assert.equal(texts.at(-1), "You picked Laptop.");
    // Escape closes the panel and gives the focus back to the button.
    await panel.getByRole("button", { name: "Start a new conversation" }).focus();
    await page.keyboard.press("Escape");
    assert.equal(await panel.isVisible(), false);
    assert.equal(await page.evaluate(() => document.activeElement.className), "flowbot-widget");
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
    site.close();
  }
});

/** Serves one page on a loopback port of its own: another origin than the server's. */
async function startSite(html, headers = {}) {
  const site = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
    response.end(html);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  return { host: `127.0.0.1:${site.address().port}`, close: () => site.close() };
}

test("the widget says so when the site's CSP keeps the chat from loading, or the bot is not public", async () => {
  const blocked = await startSite(
    `<!doctype html><title>t</title><body><script src="${flowbot.url}/widget.js" data-bot="shop"></script>`,
    // The widget's own file is allowed, the module it imports is not.
    { "content-security-policy": `script-src ${flowbot.url}/widget.js; style-src ${flowbot.url}` },
  );
  const closed = await startSite(
    `<!doctype html><title>t</title><body><script src="${flowbot.url}/widget.js" data-bot="private"></script>`,
  );
  const session = await openBrowser({ allowedHosts: [host, blocked.host, closed.host] });
  try {
    const { page } = session;
    await page.goto(`http://${blocked.host}/`);
    await page.getByRole("button", { name: "Chat with us" }).click();
    await page.getByText("The chat could not be loaded.").waitFor();
    await page.goto(`http://${closed.host}/`);
    await page.getByRole("button", { name: "Chat with us" }).click();
    await page.getByRole("status").getByText("This chat is not available.").waitFor();
    assert.equal(await page.getByRole("button", { name: "Send" }).isDisabled(), true);
    // The refusals show in the console as the browser words them; nothing else went wrong.
    const unexpected = session
      .problems()
      .filter((problem) => !/Content Security Policy|status of 404/.test(problem));
    assert.deepEqual(unexpected, []);
    assert.ok(session.problems().some((problem) => problem.includes("status of 404")), session.problems().join("\n"));
  } finally {
    await session.close();
    blocked.close();
    closed.close();
  }
});

test("a handoff is shown, the chat takes no more messages, and events reach the host page", async () => {
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const { page } = session;
    await page.goto(`${flowbot.url}/chat/desk`);
    await page.evaluate(() => {
      window.seenEvents = [];
      document.addEventListener("flowbot:event", (event) => window.seenEvents.push(event.detail));
    });
    await page.getByRole("button", { name: "Talk to a person" }).click();
    await page.getByText("You are being handed over to the support team.").waitFor();
    assert.equal(await page.getByRole("status").textContent(), "This conversation was handed over to a person.");
    assert.equal(await page.getByLabel("Your message").isVisible(), false);
    await page.getByRole("button", { name: "Start a new conversation" }).waitFor();
    assert.deepEqual(await transcript(page), [
      "Shall I find you a person?",
      "Talk to a person",
      "A colleague will take it from here.",
      "You are being handed over to the support team.",
    ]);
    assert.deepEqual(await page.evaluate(() => window.seenEvents), [
      { name: "wants_person", data: { asked: "Talk to a person" } },
    ]);
    // A new conversation starts afresh, under another id.
    const before = (await saved(page, "desk")).conversation;
    await page.getByRole("button", { name: "Start a new conversation" }).click();
    await page.getByRole("button", { name: "Talk to a person" }).waitFor();
    assert.deepEqual(await transcript(page), ["Shall I find you a person?"]);
    assert.notEqual((await saved(page, "desk")).conversation, before);
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
  }
});

test("a bot that is not public has no chat page", async () => {
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    const response = await session.page.goto(`${flowbot.url}/chat/private`);
    assert.equal(response.status(), 404);
    const body = JSON.parse(await response.text());
    assert.equal(body.error.code, "unknown_bot");
  } finally {
    await session.close();
  }
});
