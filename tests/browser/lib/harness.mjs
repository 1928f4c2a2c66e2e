// Shared by the browser tests: Debian's Chromium driven headless by playwright-core, the real
// `flowbot` binary started on 127.0.0.1, and a check that a page made no request to any other
// host and logged no console error.
//
// The Rust test `tests/it/browser.rs` runs these files with `node --test` and passes the
// binary's path in FLOWBOT_BIN; run them alone with
// `FLOWBOT_BIN=target/debug/flowbot npm test --prefix tests/browser`.

import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:http";
import { chromium } from "playwright-core";

/** The repository's root folder. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The `flowbot` binary under test. */
export const FLOWBOT = process.env.FLOWBOT_BIN ?? join(REPO, "target", "debug", "flowbot");

/** Where screenshots for docs/ are written. */
export const SCREENSHOTS = join(REPO, "docs", "images");

/** A fresh scratch folder. */
export function scratch(name) {
  return mkdtempSync(join(tmpdir(), `flowbot-browser-${name}-`));
}

/**
 * Starts Chromium headless. Returns the browser, a page, and `problems()`: every console error,
 * page error and request to a host other than those in `allowedHosts` (host:port strings).
 */
export async function openBrowser({ allowedHosts, viewport } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  const context = await browser.newContext({ viewport: viewport ?? { width: 1100, height: 800 } });
  const found = [];
  const allowed = new Set(allowedHosts ?? []);
  context.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol === "data:" || url.protocol === "blob:") return;
    if (!allowed.has(url.host)) found.push(`request to another host: ${request.url()}`);
  });
  // A request to another host never leaves the machine.
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (allowed.has(url.host) || url.protocol === "data:") return route.continue();
    return route.abort();
  });
  const watch = (page) => {
    page.on("console", (message) => {
      if (message.type() === "error") found.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => found.push(`page error: ${error.message}`));
  };
  context.on("page", watch);
  const page = await context.newPage();
  return {
    browser,
    context,
    page,
    /** Lets pages of `host` (host:port) be loaded too. */
    allow: (host) => allowed.add(host),
    problems: () => [...found],
    close: () => browser.close(),
  };
}

/**
 * Starts `flowbot ARGS...` and waits for its `listening on http://ADDR` line on stderr.
 * Returns the child, its base URL and `stop()`.
 */
export function startFlowbot(args, { env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(FLOWBOT, args, {
      cwd: cwd ?? REPO,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flowbot ${args.join(" ")} did not start listening:\n${stderr}`));
    }, 30_000);
    const look = () => {
      // Up to the line's end: the line may come in several chunks.
      const match = /listening on (http:\/\/[^\s]+)\r?\n/.exec(stderr + stdout);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1].replace(/\/$/, ""),
          output: () => ({ stdout, stderr }),
          stop: () => stopChild(child),
        });
      }
    };
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      look();
    });
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      look();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`flowbot ${args.join(" ")} exited with ${code}:\n${stderr}`));
    });
  });
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

/**
 * A loopback HTTP server answering every request with `handler(request, body)` =>
 * `{status, json}`. Returns its base URL, the requests it saw and `close()`.
 */
export function startWebhookServer(handler) {
  const seen = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ method: request.method, url: request.url, headers: request.headers, body });
      const { status, json } = handler(request, body);
      response.writeHead(status ?? 200, { "content-type": "application/json" });
      response.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, seen, close: () => server.close() });
    });
  });
}
