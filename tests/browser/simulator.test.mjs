// The web simulator, `flowbot chat FILE --web`, driven in Chromium: the shop bot clicked through
// with fake outcomes and a real request, the S18 payload check, and "save as test" replayed by
// `flowbot test`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FLOWBOT, REPO, SCREENSHOTS, openBrowser, scratch, startFlowbot, startWebhookServer } from "./lib/harness.mjs";

/** A products payload that fits both saves of the shop's `fetch_products`. */
const PRODUCTS = JSON.stringify({
  products: [
    { title: "Red Lipstick", category: "beauty" },
    { title: "Blue Kettle", category: "kitchen" },
  ],
});

/** A copy of flows/shop.yaml in a scratch folder, its webhook URL replaced by `url` if given. */
function shopCopy(name, url) {
  const dir = scratch(name);
  const file = join(dir, "shop.yaml");
  const text = readFileSync(join(REPO, "flows", "shop.yaml"), "utf8");
  writeFileSync(file, url ? text.replace("https://dummyjson.com/products", url) : text);
  return { dir, file };
}

/** The simulator on `file` and a browser on its page; `run(page, simulator)` does the test. */
async function withSimulator({ name, url, viewport }, run) {
  const { dir, file } = shopCopy(name, url);
  const simulator = await startFlowbot(["chat", "shop.yaml", "--web", "--listen", "127.0.0.1:0"], { cwd: dir });
  const session = await openBrowser({ allowedHosts: [new URL(simulator.url).host], viewport });
  try {
    await session.page.goto(simulator.url + "/");
    await session.page.getByText("What's your name?").waitFor();
    await run(session.page, { dir, file, simulator });
    assert.deepEqual(session.problems(), [], "no console error and no request to another host");
  } finally {
    await session.close();
    await simulator.stop();
  }
}

/** Sends `text` from the message box, by keyboard. */
async function say(page, text) {
  await page.getByLabel(/^Message/).fill(text);
  await page.getByLabel(/^Message/).press("Enter");
}

/** Types `payload` into the fake success editor and waits for the editor's verdict. */
async function typeSuccess(page, payload) {
  const editor = page.getByLabel(/^Response payload/);
  await editor.fill(payload);
  await page.locator('#success-editor[aria-busy="false"]').waitFor();
}

test("the shop bot clicked through with a fake success", async () => {
  await withSimulator({ name: "sim-success" }, async (page) => {
    await say(page, "Ada");
    const step = page.getByRole("region", { name: /Webhook step fetch_products/ });
    await step.waitFor();
    // The request about to be sent, as the terminal shows it.
    await assert.doesNotReject(step.getByText("GET https://dummyjson.com/products?user=Ada").waitFor());
    await step.getByRole("button", { name: "Fake success" }).click();
    await typeSuccess(page, PRODUCTS);
    // Every save applied as it was typed.
    const rows = page.locator("#saves tbody tr");
    await assert.doesNotReject(rows.filter({ hasText: '["Red Lipstick","Blue Kettle"]' }).waitFor());
    await assert.doesNotReject(rows.filter({ hasText: '"kitchen"' }).waitFor());
    assert.equal(await page.locator("#success-verdict").textContent(), "The payload fits every save.");
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "simulator-desktop.png"), fullPage: true });
    await page.getByRole("button", { name: "Send this fake success" }).click();
    await page.getByText("Ada, we have: Red Lipstick, Blue Kettle").waitFor();
    assert.equal(await step.isHidden(), true, "the step is answered");
    // Options are buttons.
    await page.getByRole("group", { name: /Options/ }).getByRole("button", { name: "Blue Kettle" }).click();
    await page.getByText("You picked Blue Kettle.").waitFor();
    assert.match(await page.locator("#status").textContent(), /ended/);
    // The panels: what /vars and /trace show.
    assert.match(await page.locator("#vars").textContent(), /choice \(text\) = "Blue Kettle"/);
    assert.match(await page.locator("#trace").textContent(), /end `confirm` \(shop\)/);
  });
});

test("S18: a fake payload whose list path holds no array shows the error and does not move on", async () => {
  await withSimulator({ name: "sim-s18" }, async (page) => {
    await say(page, "Ada");
    await page.getByRole("button", { name: "Fake success" }).click();
    const entriesBefore = await page.locator("#log li").count();
    await typeSuccess(page, '{"products": {"title": "Red Lipstick"}}');
    const verdict = page.locator("#success-verdict");
    assert.match(await verdict.textContent(), /KeyError: expected an array at products but found an object/);
    const titles = page.locator("#saves tbody tr").filter({ hasText: "titles (list)" });
    assert.match(await titles.textContent(), /expected an array at products/);
    const send = page.getByRole("button", { name: "Send this fake success" });
    assert.equal(await send.isDisabled(), true, "send stays disabled while the payload does not fit");
    // Nothing moved on: the step still waits and the transcript has not grown.
    await page.waitForTimeout(200);
    assert.equal(await page.locator("#log li").count(), entriesBefore);
    assert.equal(await page.getByRole("region", { name: /Webhook step fetch_products/ }).isVisible(), true);
    assert.equal(await page.getByLabel(/^Message/).isDisabled(), true);
    // A payload that fits lets it go on.
    await typeSuccess(page, PRODUCTS);
    await page.getByText("The payload fits every save.").waitFor();
    await send.click();
    await page.getByText("Which one?").waitFor();
  });
});

test("S18: a list variable whose path holds a text is refused with no way around it", async () => {
  const dir = scratch("sim-s18-list");
  const file = join(dir, "catalog.yaml");
  writeFileSync(
    file,
    `bot: catalog
start: search
variables:
  titles: list
blocks:
  search:
    webhook:
      url: http://127.0.0.1:9/search
      save:
        - path: results
          to: titles
    next: done
  done:
    end: "Found {{titles}}."
`,
  );
  const simulator = await startFlowbot(["chat", file, "--web", "--listen", "127.0.0.1:0"], { cwd: dir });
  const session = await openBrowser({ allowedHosts: [new URL(simulator.url).host] });
  try {
    const page = session.page;
    await page.goto(simulator.url + "/");
    await page.getByRole("button", { name: "Fake success" }).click();
    await typeSuccess(page, '{"results": "none"}');
    assert.match(await page.locator("#success-verdict").textContent(), /does not move on until that path holds a list/);
    assert.equal(await page.locator("#anyway-label").isHidden(), true, "no 'use it anyway' for a list");
    assert.equal(await page.getByRole("button", { name: "Send this fake success" }).isDisabled(), true);
    await typeSuccess(page, '{"results": ["a", "b"]}');
    await page.getByRole("button", { name: "Send this fake success" }).click();
    await page.getByText("Found a, b.").waitFor();
    assert.deepEqual(session.problems(), []);
  } finally {
    await session.close();
    await simulator.stop();
  }
});

test("a fake failure takes the shop's closed path", async () => {
  await withSimulator({ name: "sim-failure" }, async (page) => {
    await say(page, "Ada");
    await page.getByRole("button", { name: "Fake failure" }).click();
    const editor = page.getByLabel(/^Failure payload/);
    await editor.fill('{"error": "shop closed"}');
    await page.locator("#failure-verdict").filter({ hasText: "shop failure gets BadResponse" }).waitFor();
    await page.getByRole("button", { name: "Send this fake failure" }).click();
    await page.getByText("Sorry Ada, the shop is closed.").waitFor();
    assert.match(await page.locator("#vars").textContent(), /shop failure \(text\) = \{"type":"BadResponse"/);
  });
});

test("'save as test' writes a conversation test that flowbot test passes", async () => {
  await withSimulator({ name: "sim-save" }, async (page, { dir }) => {
    await say(page, "Ada");
    await page.getByRole("button", { name: "Fake success" }).click();
    await typeSuccess(page, PRODUCTS);
    await page.getByRole("button", { name: "Send this fake success" }).click();
    // A number picks the option with that number, as in the terminal.
    await say(page, "1");
    await page.getByText("You picked Red Lipstick.").waitFor();
    const testFile = join(dir, "recorded", "shop-test.yaml");
    await page.getByLabel(/^Conversation test file/).fill(testFile);
    await page.getByRole("button", { name: "Save as test" }).click();
    await page.locator("#saved").filter({ hasText: `recorded 1 case in ${testFile}` }).waitFor();
    assert.ok(existsSync(testFile));
    const run = spawnSync(FLOWBOT, ["test", testFile], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /1 passed, 0 failed/);
    // The default file is beside the flow, in tests/.
    await page.getByLabel(/^Conversation test file/).fill("");
    await page.getByRole("button", { name: "Save as test" }).click();
    await page.locator("#saved").filter({ hasText: "recorded 1 case in" }).filter({ hasText: "tests/shop.yaml" }).waitFor();
    assert.ok(existsSync(join(dir, "tests", "shop.yaml")));
  });
});

test("no webhook request is sent until the real one is picked, and its response is shown", async () => {
  const shop = await startWebhookServer(() => ({ status: 200, json: JSON.parse(PRODUCTS) }));
  try {
    await withSimulator({ name: "sim-real", url: `${shop.url}/products` }, async (page) => {
      await say(page, "Ada");
      await page.getByRole("button", { name: "Fake success" }).click();
      await typeSuccess(page, "{}");
      await page.getByRole("button", { name: "Fake failure" }).click();
      assert.equal(shop.seen.length, 0, "nothing sent before the real request is picked");
      await page.getByRole("button", { name: "Real request" }).click();
      await page.getByRole("button", { name: "Send the real request" }).click();
      await page.getByText("Ada, we have: Red Lipstick, Blue Kettle").waitFor();
      assert.equal(shop.seen.length, 1);
      assert.equal(shop.seen[0].url, "/products?user=Ada");
      const real = page.getByRole("region", { name: "Real response" });
      assert.match(await real.textContent(), /fetch_products: status 200 in \d+ ms/);
      assert.match(await real.textContent(), /"Blue Kettle"/);
    });
  } finally {
    shop.close();
  }
});

test("restart leaves a waiting step unanswered and starts over; the page fits a phone", async () => {
  await withSimulator({ name: "sim-phone", viewport: { width: 390, height: 844 } }, async (page) => {
    await say(page, "Ada");
    await page.getByRole("button", { name: "Fake success" }).click();
    await typeSuccess(page, '{"products": {"title": "Red Lipstick"}}');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is no wider than the phone (${width} px)`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "simulator-phone.png"), fullPage: true });
    await page.getByRole("button", { name: "Restart" }).click();
    await page.getByText("starting over").waitFor();
    assert.equal(await page.getByRole("region", { name: /Webhook step/ }).isHidden(), true);
    assert.equal(await page.getByLabel(/^Message/).isEnabled(), true);
    assert.equal(await page.getByText("What's your name?").count(), 2);
  });
});

test("the webhook step can be answered by keyboard alone", async () => {
  await withSimulator({ name: "sim-keyboard" }, async (page) => {
    await page.getByLabel(/^Message/).focus();
    await page.keyboard.type("Ada");
    await page.keyboard.press("Enter");
    // Focus moves to the step when it appears, and on to its first answer.
    await page.getByRole("region", { name: /Webhook step fetch_products/ }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "step-title");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Fake success");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "success-payload");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(PRODUCTS);
    await page.locator('#success-editor[aria-busy="false"]').waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "send-success");
    await page.keyboard.press("Enter");
    await page.getByText("Ada, we have: Red Lipstick, Blue Kettle").waitFor();
    // Back in the message box once the step is answered.
    assert.equal(await page.evaluate(() => document.activeElement.id), "message");
    // The options come just before the message box.
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Blue Kettle");
    await page.keyboard.press("Enter");
    await page.getByText("You picked Blue Kettle.").waitFor();
  });
});
