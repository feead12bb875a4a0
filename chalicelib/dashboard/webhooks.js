// The dashboard's Webhooks view: the brand's endpoints, their recent deliveries and failures, a replay
// button, and a new or rotated secret shown once. Plain ES module, no dependencies; it loads when its view
// is opened and calls the API with the brand key the page keeps in sessionStorage.
const KEY_STORAGE = "vip-rewards.brand-key";
const $w = (selector) => document.querySelector(selector);
const hooks = { endpoints: [], selected: null };

async function call(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE)}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const payload = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = new Error(payload?.error?.message || `HTTP ${response.status}`);
    error.param = payload?.error?.param;
    throw error;
  }
  return payload;
}

function node(tag, attrs = {}, ...children) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") made.textContent = value;
    else if (name.startsWith("on")) made.addEventListener(name.slice(2), value);
    else made.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) made.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return made;
}

const when = (moment) => (moment ? new Date(moment).toLocaleString() : "—");

function say(text) {
  $w("#wh-status").textContent = text;
}

function showSecret(label, secret) {
  const box = $w("#wh-secret");
  box.replaceChildren(
    node("p", {}, node("strong", { text: label })),
    node("p", {}, node("code", { id: "wh-secret-value", text: secret })),
    node("p", { text: "Copy it now: it is shown only this once. Your receiver verifies every delivery with it." }),
  );
  box.hidden = false;
}

async function loadEndpoints() {
  try {
    const page = await call("/v1/webhook_endpoints?limit=100");
    hooks.endpoints = page.data;
  } catch (failure) {
    say(`Could not load endpoints: ${failure.message}`);
    return;
  }
  renderEndpoints();
  if (hooks.selected && hooks.endpoints.some((e) => e.id === hooks.selected)) await loadDeliveries();
}

function renderEndpoints() {
  const table = $w("#wh-endpoints");
  const head = node("thead", {}, node("tr", {}, ["URL", "Events", "Status", "Actions"].map((label) => node("th", { scope: "col", class: "text" }, label))));
  const rows = hooks.endpoints.map((endpoint) => node("tr", { "data-endpoint": endpoint.id },
    node("th", { scope: "row", class: "text" }, endpoint.url),
    node("td", { class: "text" }, endpoint.events.join(", ")),
    node("td", { class: "text" }, endpoint.status),
    node("td", { class: "text actions" },
      node("button", { type: "button", onclick: () => selectEndpoint(endpoint.id) }, "Deliveries"),
      node("button", { type: "button", onclick: () => toggle(endpoint) }, endpoint.status === "enabled" ? "Disable" : "Enable"),
      node("button", { type: "button", onclick: () => rotate(endpoint) }, "Rotate secret"),
      node("button", { type: "button", onclick: () => remove(endpoint) }, "Delete"))));
  const empty = node("tr", {}, node("td", { colspan: 4, class: "text" }, "No endpoints yet: add one below."));
  table.replaceChildren(node("caption", { class: "visually-hidden", text: "Webhook endpoints" }), head,
    node("tbody", {}, rows.length ? rows : [empty]));
}

async function addEndpoint(event) {
  event.preventDefault();
  const form = event.target;
  const error = $w("#wh-add-error");
  error.textContent = "";
  const events = form.elements.events.value.split(",").map((t) => t.trim()).filter(Boolean);
  const body = { url: form.elements.url.value.trim(), events: events.length ? events : ["*"] };
  if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
  try {
    const created = await call("/v1/webhook_endpoints", { method: "POST", body });
    showSecret(`Signing secret for ${created.url}`, created.secret);
    form.reset();
    say("Endpoint added.");
  } catch (failure) {
    error.textContent = failure.message;
    return;
  }
  await loadEndpoints();
}

async function toggle(endpoint) {
  const status = endpoint.status === "enabled" ? "disabled" : "enabled";
  await call(`/v1/webhook_endpoints/${endpoint.id}`, { method: "PATCH", body: { status } });
  say(`Endpoint ${status}.`);
  await loadEndpoints();
}

async function rotate(endpoint) {
  const rotated = await call(`/v1/webhook_endpoints/${endpoint.id}/rotate_secret`, { method: "POST" });
  showSecret(`New signing secret for ${endpoint.url} (the old one keeps working for 24 hours)`, rotated.secret);
}

async function remove(endpoint) {
  if (!window.confirm(`Delete the endpoint ${endpoint.url}?`)) return;
  await call(`/v1/webhook_endpoints/${endpoint.id}`, { method: "DELETE" });
  if (hooks.selected === endpoint.id) {
    hooks.selected = null;
    $w("#wh-deliveries-block").hidden = true;
  }
  say("Endpoint deleted.");
  await loadEndpoints();
}

async function selectEndpoint(id) {
  hooks.selected = id;
  await loadDeliveries();
}

async function loadDeliveries() {
  const endpoint = hooks.endpoints.find((e) => e.id === hooks.selected);
  const status = $w("#wh-filter").value;
  const params = new URLSearchParams({ limit: "50", ...(status ? { status } : {}) });
  const page = await call(`/v1/webhook_endpoints/${hooks.selected}/deliveries?${params}`);
  $w("#wh-deliveries-title").textContent = `Recent deliveries to ${endpoint.url}`;
  const head = node("thead", {}, node("tr", {}, ["Event", "Type", "Status", "Attempts", "Last answer", "Last attempt", "Next attempt", ""]
    .map((label) => node("th", { scope: "col", class: "text" }, label))));
  const rows = page.data.map((delivery) => node("tr", { class: delivery.status === "failed" ? "failed" : null },
    node("th", { scope: "row", class: "text" }, node("code", { text: delivery.event_id })),
    node("td", { class: "text" }, delivery.type),
    node("td", { class: "text" }, delivery.status),
    node("td", {}, delivery.attempts),
    node("td", {}, delivery.last_status_code ?? "—"),
    node("td", { class: "text" }, when(delivery.last_attempt_at)),
    node("td", { class: "text" }, when(delivery.next_attempt_at)),
    node("td", { class: "text" }, node("button", { type: "button", onclick: () => replay([delivery.event_id]) }, "Replay"))));
  const empty = node("tr", {}, node("td", { colspan: 8, class: "text" }, "No deliveries."));
  $w("#wh-deliveries").replaceChildren(node("caption", { class: "visually-hidden", text: "Deliveries" }), head,
    node("tbody", {}, rows.length ? rows : [empty]));
  $w("#wh-deliveries-block").hidden = false;
}

async function replay(eventIds) {
  const answer = await call(`/v1/webhook_endpoints/${hooks.selected}/replay`, { method: "POST", body: { event_ids: eventIds } });
  say(`Replay queued: ${answer.queued} event${answer.queued === 1 ? "" : "s"}.`);
  await loadDeliveries();
}

function start() {
  const section = $w("#view-webhooks");
  if (!section) return;
  $w("#wh-add").addEventListener("submit", addEndpoint);
  $w("#wh-filter").addEventListener("change", loadDeliveries);
  $w("#wh-refresh").addEventListener("click", loadEndpoints);
  // The page's own navigation shows this section; load whenever it becomes visible.
  new MutationObserver(() => { if (!section.hidden) loadEndpoints(); })
    .observe(section, { attributes: true, attributeFilter: ["hidden"] });
}

start();
