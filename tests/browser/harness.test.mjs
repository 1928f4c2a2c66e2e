// The harness itself: a page's request to a host that is not the server's is caught and never
// sent, and a console error is reported, so the "no other host, no console error" checks of the
// page tests can fail.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { openBrowser, startWebhookServer } from "./lib/harness.mjs";

test("a request to another host and a console error are reported as problems", async () => {
  const other = await startWebhookServer(() => ({ json: { reached: true } }));
  const page = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(`<!doctype html><title>t</title><script>
      fetch(${JSON.stringify(other.url)} + "/x").catch(() => {});
      console.error("broken on purpose");
    </script>`);
  });
  await new Promise((resolve) => page.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${page.address().port}`;
  const session = await openBrowser({ allowedHosts: [host] });
  try {
    await session.page.goto(`http://${host}/`);
    await session.page.waitForTimeout(300);
    const problems = session.problems();
    assert.ok(problems.some((p) => p.includes(`request to another host: ${other.url}/x`)), problems.join("\n"));
    assert.ok(problems.some((p) => p.includes("broken on purpose")), problems.join("\n"));
    assert.equal(other.seen.length, 0, "the request to the other host was not sent");
  } finally {
    await session.close();
    page.close();
    other.close();
  }
});
