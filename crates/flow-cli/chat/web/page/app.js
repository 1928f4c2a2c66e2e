// The web simulator's page. It holds no state of its own beyond what is being typed: every
// answer of the server is the whole view (transcript, options, the waiting webhook step,
// panels), and the page draws it.

const $ = (id) => document.getElementById(id);

/** An error of the simulator's API, with its message for the author. */
class ApiError extends Error {}

let view = null;
/** The answer chosen for the waiting step: "success", "failure", "real" or null. */
let choice = null;
/** The block of the step the editors were prepared for. */
let stepSeen = null;
/** Numbers the checks, so that a late answer to an old payload is dropped. */
let checks = 0;
/** The author changed the test path. */
let pathEdited = false;

async function api(path, body) {
  const init =
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new ApiError(data?.error?.message ?? `the simulator answered ${response.status}`);
  return data;
}

function showProblem(error) {
  const problem = $("problem");
  problem.textContent = error ? String(error.message ?? error) : "";
  problem.hidden = !error;
}

/** Runs `work`, draws the view it returns, and shows what went wrong. */
async function act(work) {
  try {
    showProblem(null);
    const next = await work();
    if (next) draw(next);
  } catch (error) {
    showProblem(error);
  }
}

function entryItem(entry) {
  const item = document.createElement("li");
  item.className = entry.kind;
  const who = (label) => {
    const span = document.createElement("span");
    span.className = "who";
    span.textContent = label;
    item.append(span);
  };
  const text = (value) => item.append(document.createTextNode(value));
  switch (entry.kind) {
    case "bot":
      who("bot");
      text(entry.text);
      if (entry.options.length) text(`\n(${entry.options.join(" · ")})`);
      break;
    case "user":
      who("you");
      text(entry.text);
      break;
    case "event":
      text(`event: ${entry.name}${entry.data === null ? "" : " " + JSON.stringify(entry.data)}`);
      break;
    case "handoff":
      text(entry.team ? `handed off to team ${entry.team}` : "handed off to a human");
      break;
    case "error":
      text(`error: ${entry.text}`);
      break;
    case "note":
      text(`— ${entry.text}`);
      break;
    default:
      text(entry.text);
  }
  return item;
}

function drawLog(entries) {
  const log = $("log");
  // Entries are only ever added, so the items already drawn stay (and screen readers hear
  // only the new ones).
  while (log.children.length > entries.length) log.lastChild.remove();
  for (let index = log.children.length; index < entries.length; index++) {
    log.append(entryItem(entries[index]));
  }
  log.scrollTop = log.scrollHeight;
}

function drawOptions(next) {
  const options = $("options");
  options.replaceChildren();
  if (next.step || next.status !== "waiting") return;
  for (const option of next.options) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = option;
    button.addEventListener("click", () => sendLine(option));
    options.append(button);
  }
}

function requestText(step) {
  const lines = [`${step.method} ${step.url}`];
  for (const [name, value] of step.headers) lines.push(`${name}: ${value}`);
  if (step.body !== null) lines.push("", `body (${step.content_type}):`, step.body);
  return lines.join("\n");
}

function drawStep(step) {
  const section = $("step");
  const wasOpen = !section.hidden;
  section.hidden = !step;
  for (const id of ["message", "send"]) $(id).disabled = Boolean(step);
  if (!step) {
    stepSeen = null;
    if (wasOpen) $("message").focus();
    return;
  }
  if (stepSeen === step.block && wasOpen) return;
  stepSeen = step.block;
  $("step-block").textContent = step.block;
  $("step-request").textContent = requestText(step);
  $("failure-var").textContent = step.failure_variable;
  $("success-payload").value = "{}";
  $("failure-payload").value = '{"error": "simulated failure"}';
  $("anyway").checked = false;
  choose(null);
  $("step-title").focus();
}

function drawReal(real) {
  $("real").hidden = !real;
  if (!real) return;
  $("real-summary").textContent = real.error
    ? `${real.block}: ${real.error} (after ${real.ms} ms)`
    : `${real.block}: status ${real.status} in ${real.ms} ms`;
  $("real-body").textContent = real.body ?? "";
}

function draw(next) {
  view = next;
  $("bot").textContent = next.bot;
  $("file").textContent = next.file;
  $("status").textContent = next.status ? `(${next.status})` : "";
  if (!pathEdited) $("test-path").value = next.default_test;
  drawLog(next.entries);
  drawOptions(next);
  drawStep(next.step);
  drawReal(next.real);
  $("vars").textContent = next.vars || "(no variables yet)";
  $("trace").textContent = next.trace || "(no turn yet)";
}

function choose(which) {
  choice = which;
  for (const name of ["success", "failure", "real"]) {
    $(`choose-${name}`).setAttribute("aria-pressed", String(which === name));
    $(`${name}-editor`).hidden = which !== name;
  }
  if (which === "success") {
    $("success-payload").focus();
    checkSuccess();
  } else if (which === "failure") {
    $("failure-payload").focus();
    checkFailure();
  } else if (which === "real") {
    $("send-real").focus();
  }
}

function saveRow(save, step) {
  const row = document.createElement("tr");
  const declared = step.saves.find((s) => s.to === save.to && s.path === save.path);
  const cells = [save.path, `${save.to} (${declared?.type ?? "any"})`];
  for (const value of cells) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  const gets = document.createElement("td");
  if (save.error !== undefined) {
    gets.className = "error";
    gets.textContent = save.error;
  } else {
    gets.className = "ok";
    gets.textContent = save.value ?? "";
  }
  row.append(gets);
  return row;
}

function verdictText(result) {
  switch (result.verdict) {
    case "fits":
      return "The payload fits every save.";
    case "list":
      return `${result.error}. The conversation does not move on until that path holds a list.`;
    case "fails":
      return `${result.error}. Sent as it is, the step fails with this error.`;
    default:
      return result.error;
  }
}

async function checkSuccess() {
  const number = ++checks;
  const payload = $("success-payload").value;
  // Busy until the answer to the latest payload is drawn.
  $("success-editor").setAttribute("aria-busy", "true");
  try {
    const result = await api("/api/step/check", { choice: "success", payload });
    if (number !== checks || !view?.step) return;
    $("success-editor").setAttribute("aria-busy", "false");
    $("saves").tBodies[0].replaceChildren(...result.saves.map((save) => saveRow(save, view.step)));
    const verdict = $("success-verdict");
    verdict.textContent = verdictText(result);
    verdict.className = `verdict ${result.verdict === "fits" ? "good" : "bad"}`;
    $("anyway-label").hidden = result.verdict !== "fails";
    const sendable = result.verdict === "fits" || (result.verdict === "fails" && $("anyway").checked);
    $("send-success").disabled = !sendable;
  } catch (error) {
    if (number === checks) showProblem(error);
  }
}

async function checkFailure() {
  const number = ++checks;
  try {
    const result = await api("/api/step/check", { choice: "failure", payload: $("failure-payload").value });
    if (number !== checks) return;
    const verdict = $("failure-verdict");
    if (result.verdict === "fits") {
      const failure = result.failure;
      verdict.textContent = failure
        ? `${view.step.failure_variable} gets ${failure.type}: ${failure.message}`
        : "";
      verdict.className = "verdict";
      $("send-failure").disabled = false;
    } else {
      verdict.textContent = result.error;
      verdict.className = "verdict bad";
      $("send-failure").disabled = true;
    }
  } catch (error) {
    if (number === checks) showProblem(error);
  }
}

function sendLine(text) {
  return act(() => api("/api/message", { text }));
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("message");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  sendLine(text);
});
$("restart").addEventListener("click", () => act(() => api("/api/restart", {})));
$("choose-success").addEventListener("click", () => choose("success"));
$("choose-failure").addEventListener("click", () => choose("failure"));
$("choose-real").addEventListener("click", () => choose("real"));
$("success-payload").addEventListener("input", () => {
  $("send-success").disabled = true;
  checkSuccess();
});
$("failure-payload").addEventListener("input", checkFailure);
$("anyway").addEventListener("change", checkSuccess);
$("send-success").addEventListener("click", () =>
  act(() =>
    api("/api/step/answer", {
      choice: "success",
      payload: $("success-payload").value,
      anyway: $("anyway").checked,
    }),
  ),
);
$("send-failure").addEventListener("click", () =>
  act(() => api("/api/step/answer", { choice: "failure", payload: $("failure-payload").value })),
);
$("send-real").addEventListener("click", () => act(() => api("/api/step/answer", { choice: "real" })));
$("test-path").addEventListener("input", () => (pathEdited = true));
$("save-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    const saved = await api("/api/test", { path: $("test-path").value });
    $("saved").textContent = saved.lines.join("\n");
    return api("/api/state");
  });
});

act(() => api("/api/state"));
