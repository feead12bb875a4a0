// The brand dashboard: plain ES module, no dependencies. It reads the brand reports of this API with a
// brand key kept only in sessionStorage, draws inline SVG charts and records disbursements.
const KEY_STORAGE = "vip-rewards.brand-key";
const COLORS = ["var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)"];
const $ = (selector) => document.querySelector(selector);
const state = { view: "donations", data: {}, causes: [], planCurrencies: new Set() };

// ---------- money: integer minor units in, text out; text in major units → integer minor units ----------

const digitsCache = new Map();
function fractionDigits(currency) {
  const code = currency.toUpperCase();
  if (!digitsCache.has(code)) {
    const options = new Intl.NumberFormat("en-US", { style: "currency", currency: code }).resolvedOptions();
    digitsCache.set(code, options.maximumFractionDigits);
  }
  return digitsCache.get(code);
}

function formatMoney(minor, currency) {
  const digits = fractionDigits(currency);
  return new Intl.NumberFormat(undefined, {
    style: "currency", currency: currency.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

/**
 * An amount typed in the currency's main unit → integer minor units, or null when it is not one. No floats.
 * Both decimal marks are read: "12.50" and "12,50" are 1250 for usd, "1,5" is 150. With both marks the last
 * one is the decimal mark and the other groups thousands ("1.234,56", "1,234.56"); spaces and ' group too.
 * A lone comma followed by three digits groups thousands only where it cannot be a decimal mark ("1,250"
 * is 125000 for usd); where it could be either (kwd, 3 decimals) the amount is refused, never guessed.
 */
function parseMajor(text, currency) {
  const digits = fractionDigits(currency);
  const typed = text.trim().replace(/[\s\u00a0\u202f']/g, "");
  if (!/^\d[\d.,]*$/.test(typed) || /[.,]$/.test(typed)) return null;
  const grouped = (part, mark) => part.split(mark).every((g, i) => (i === 0 ? /^\d{1,3}$/.test(g) : /^\d{3}$/.test(g)));
  const dot = typed.lastIndexOf("."), comma = typed.lastIndexOf(",");
  let whole = typed, fraction = "";
  if (dot >= 0 && comma >= 0) {
    const at = Math.max(dot, comma), decimal = typed[at], group = decimal === "." ? "," : ".";
    whole = typed.slice(0, at);
    fraction = typed.slice(at + 1);
    if (whole.includes(decimal) || fraction.includes(group) || !grouped(whole, group)) return null;
    whole = whole.split(group).join("");
  } else if (dot >= 0 || comma >= 0) {
    const mark = dot >= 0 ? "." : ",";
    const parts = typed.split(mark);
    const asDecimal = parts.length === 2 && parts[1].length <= digits;
    const asGroups = grouped(typed, mark) && (mark === "," || parts.length > 2);
    if (asDecimal && asGroups) return null;  // "1,250" in a 3-decimal currency: ambiguous
    if (asDecimal) [whole, fraction] = parts;
    else if (asGroups) whole = parts.join("");
    else return null;
  }
  if (fraction.length > digits) return null;
  const value = Number(whole + fraction.padEnd(digits, "0"));
  return Number.isSafeInteger(value) ? value : null;
}

/** Minor units as "999.99 USD" (major units, the code after it): how a person checks what they typed. */
function formatMajor(minor, currency) {
  const digits = fractionDigits(currency);
  const number = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${number.format(minor / 10 ** digits)} ${currency.toUpperCase()}`;
}

const integer = (n) => new Intl.NumberFormat().format(n);
const ratio = (text) => (text === null || text === undefined ? "—" : text);

// ---------- the API ----------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `The server answered ${status}.`);
    this.status = status;
    this.param = body && body.error ? body.error.param : null;
    this.code = body && body.error ? body.error.code : null;
  }
}

async function api(path, { method = "GET", body, key = sessionStorage.getItem(KEY_STORAGE), headers = {} } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${key}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const isJson = (response.headers.get("Content-Type") || "").startsWith("application/json");
  const payload = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401 && method === "GET" && key === sessionStorage.getItem(KEY_STORAGE)) signOut();
    throw new ApiError(response.status, isJson ? payload : null);
  }
  return payload;
}

const range = () => ({ from: $("#from").value, to: $("#to").value });
const query = (extra = {}) => new URLSearchParams({ ...range(), ...extra }).toString();

// ---------- small DOM helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** A table: columns [{label, value(row), text?}] over rows; the first column names the row. */
function fillTable(table, caption, columns, rows, empty = "Nothing in this range.") {
  table.replaceChildren(
    el("caption", { class: "visually-hidden", text: caption }),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.text ? "text" : null }, c.label)))),
    el("tbody", {}, rows.length
      ? rows.map((row) => el("tr", {}, columns.map((c, i) =>
          el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: c.text ? "text" : c.cls ? c.cls(row) : null }, c.value(row)))))
      : [el("tr", {}, el("td", { colspan: columns.length, class: "text" }, empty))]),
  );
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/**
 * Gridlines for values from `min` to `max` (integers: counts, or money in minor units): about four steps of
 * 1, 2 or 5 × 10^k and never less than 1, from a multiple of the step at or below `min` to one at or above
 * `max`. Every tick is a whole number a label shows exactly (no "5" on a 4.5 line), 0 is one of them when
 * the range spans it, and none is drawn twice.
 */
function niceTicks(min, max) {
  if (max <= min) max = min + 1;
  const raw = (max - min) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw));
  const ticks = [];
  for (let tick = Math.floor(min / step) * step; tick < max + step; tick += step) {
    ticks.push(tick);
    if (tick >= max) break;
  }
  return ticks;
}

/**
 * Grouped, optionally stacked bars per period, drawn as inline SVG.
 * series: [{label, color, values: {period: number}, stack?: name, negative?: bool}]
 */
function barChart(figure, { title, periods, series, format, caption }) {
  // Drawn at the figure's own width (at most 720 px), so labels stay readable on a phone.
  const width = Math.max(300, Math.min(720, (figure.clientWidth || 744) - 24));
  const height = width < 500 ? 220 : 260, left = 64, right = 8, top = 12, bottom = 34;
  const stacks = [...new Set(series.map((s) => s.stack || s.label))];
  let max = 0, min = 0;
  for (const period of periods) {
    for (const stack of stacks) {
      let up = 0, down = 0;
      for (const s of series.filter((x) => (x.stack || x.label) === stack)) {
        const v = (s.values[period] || 0) * (s.negative ? -1 : 1);
        if (v >= 0) up += v; else down += v;
      }
      max = Math.max(max, up); min = Math.min(min, down);
    }
  }
  const ticks = niceTicks(min, max);
  [min, max] = [ticks[0], ticks[ticks.length - 1]];
  const plotH = height - top - bottom, plotW = width - left - right;
  const y = (v) => top + ((max - v) / (max - min)) * plotH;
  const slot = plotW / Math.max(periods.length, 1);
  const barW = Math.max(2, Math.min(28, (slot * 0.8) / stacks.length));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  chart.append(svg("title", {}, title));
  for (const tick of ticks) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), stroke: tick === 0 ? "#8893a2" : "#e3e7ed" }));
    chart.append(svg("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": 11, fill: "#4f5b6b" }, format(tick)));
  }
  periods.forEach((period, i) => {
    const x0 = left + i * slot + (slot - barW * stacks.length) / 2;
    stacks.forEach((stack, j) => {
      let up = 0, down = 0;
      for (const s of series.filter((x) => (x.stack || x.label) === stack)) {
        const v = (s.values[period] || 0) * (s.negative ? -1 : 1);
        if (!v) continue;
        const from = v >= 0 ? up : down;
        const to = from + v;
        if (v >= 0) up = to; else down = to;
        const rect = svg("rect", { x: x0 + j * barW, width: barW - 1, y: Math.min(y(from), y(to)),
          height: Math.max(1, Math.abs(y(from) - y(to))), fill: s.color });
        rect.append(svg("title", {}, `${period} · ${s.label}: ${format(Math.abs(v))}`));
        chart.append(rect);
      }
    });
    const label = periods.length > 8 ? period.slice(2).replace("-", "/") : period;
    if (slot < 30 && i % 2 === 1) return;
    chart.append(svg("text", { x: left + i * slot + slot / 2, y: height - 12, "text-anchor": "middle", "font-size": 11, fill: "#4f5b6b" }, label));
  });
  const legend = el("ul", { class: "legend", "aria-hidden": "true" },
    series.map((s) => el("li", {}, Object.assign(el("i"), { style: `background:${s.color}` }), s.label)));
  figure.replaceChildren(chart, legend, el("figcaption", {}, caption));
}

// ---------- sign-in ----------

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.data = {};
  $("#app").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#brand-key").value = "";
  $("#brand-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("#brand-key").value.trim();
  const error = $("#sign-in-error");
  error.textContent = "";
  if (!key) {
    error.textContent = "Enter your brand API key.";
    $("#brand-key").setAttribute("aria-invalid", "true");
    return;
  }
  try {
    await api("/v1/disbursements?limit=1", { key });
  } catch (failure) {
    $("#brand-key").setAttribute("aria-invalid", "true");
    error.textContent = failure.status === 401 ? "That key is not valid. Check it and try again."
      : failure.status === 403 ? "That key is not a brand key; the dashboard needs a brand key."
      : `Could not sign in: ${failure.message}`;
    return;
  }
  $("#brand-key").removeAttribute("aria-invalid");
  sessionStorage.setItem(KEY_STORAGE, key);
  await showApp();
}

async function showApp() {
  $("#sign-in").hidden = true;
  $("#app").hidden = false;
  $("#sign-out").hidden = false;
  const [causes, plans] = await Promise.all([
    fetch("/v1/causes?limit=100").then((r) => r.json()),
    fetch("/v1/plans?limit=100").then((r) => r.json()),
  ]);
  state.causes = causes.data;
  // The currencies some plan charges in: elsewhere the program has no fees to set against its costs.
  state.planCurrencies = new Set(plans.data.map((p) => p.currency));
  $("#d-cause").replaceChildren(...state.causes.map((c) => el("option", { value: c.cause_id }, c.name)));
  await load();
  $("#main").focus();
}

// ---------- loading and views ----------

async function load() {
  const { from, to } = range();
  $("#range-error").textContent = "";
  if (!from || !to || from > to) {
    $("#range-error").textContent = "Choose a first month that is not after the last month.";
    return;
  }
  $("#status").textContent = "Loading…";
  // Each view is drawn as soon as its own report arrives; a newer load (or signing out) discards the rest.
  const loading = (state.loading = (state.loading || 0) + 1);
  state.data = {};
  const reports = {
    donations: `/v1/reports/donations?${query()}`,
    memberships: `/v1/reports/memberships?${query()}`,
    program: `/v1/reports/program?${query()}`,
    referrals: `/v1/reports/referrals?from=${from}&to=${to}`,
  };
  const results = await Promise.allSettled(Object.entries(reports).map(async ([view, url]) => {
    const settled = await api(url).then(
      (value) => ({ status: "fulfilled", value }),
      (reason) => ({ status: "rejected", reason }),
    );
    if (loading !== state.loading || !sessionStorage.getItem(KEY_STORAGE)) return settled;
    state.data[view] = settled;
    RENDER[view]();
    return settled;
  }));
  if (loading !== state.loading || !sessionStorage.getItem(KEY_STORAGE)) return;
  // The referrals panel says itself when its report failed; the status line speaks of the three views.
  const failed = results.slice(0, 3).map((r) => r.value).find((r) => r.status === "rejected");
  $("#status").textContent = failed ? `Could not load: ${failed.reason.message}` : `Showing ${from} to ${to}.`;
}

function months() {
  const { from, to } = range();
  const list = [];
  let [year, month] = from.split("-").map(Number);
  const [endYear, endMonth] = to.split("-").map(Number);
  while (year < endYear || (year === endYear && month <= endMonth)) {
    list.push(`${year}-${String(month).padStart(2, "0")}`);
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return list;
}

const causeName = (id) => (state.causes.find((c) => c.cause_id === id) || { name: id }).name;

function renderDonations() {
  const result = state.data.donations;
  if (!result || result.status !== "fulfilled") return;
  const report = result.value;
  // Currencies by how much was pledged in them, the largest first (and chosen until the user picks another).
  const volume = {};
  for (const t of report.totals) volume[t.currency] = (volume[t.currency] || 0) + t.net;
  const currencies = Object.keys(volume).sort((a, b) => volume[b] - volume[a] || a.localeCompare(b));
  if (!currencies.length) currencies.push("usd");
  const select = $("#donations-currency");
  const chosen = currencies.includes(select.value) ? select.value : currencies[0];
  select.replaceChildren(...currencies.map((c) => el("option", { value: c, selected: c === chosen }, c.toUpperCase())));
  const paying = currencies.includes($("#d-currency").value) ? $("#d-currency").value : chosen;
  $("#d-currency").replaceChildren(...currencies.map((c) => el("option", { value: c, selected: c === paying }, c.toUpperCase())));
  const money = (c) => (v) => formatMoney(v, c);

  const rows = report.data.filter((r) => r.currency === chosen);
  const causes = [...new Set(rows.map((r) => r.cause_id))].sort();
  const series = causes.map((cause, i) => ({
    label: `${causeName(cause)} (net)`, color: COLORS[i % COLORS.length], stack: "net",
    values: Object.fromEntries(rows.filter((r) => r.cause_id === cause).map((r) => [r.period, r.net])),
  }));
  const disbursed = {};
  for (const r of rows) disbursed[r.period] = (disbursed[r.period] || 0) + r.disbursed;
  series.push({ label: "Disbursed (all causes)", color: "var(--grey)", stack: "disbursed", values: disbursed });
  barChart($("#donations-chart"), {
    title: `Net donations per cause and disbursements per month, ${chosen.toUpperCase()}`,
    periods: months(), series, format: money(chosen),
    caption: "Net = pledged − reversed, stacked by cause; the grey bar is what was paid to the causes that month.",
  });

  fillTable($("#outstanding-table"), "Outstanding per cause", [
    { label: "Cause", value: (r) => causeName(r.cause_id), text: true },
    { label: "Currency", value: (r) => r.currency.toUpperCase(), text: true },
    { label: "Outstanding", value: (r) => formatMoney(r.outstanding, r.currency), cls: (r) => (r.outstanding < 0 ? "neg" : null) },
    { label: "Net pledged (all time)", value: (r) => formatMoney(r.net, r.currency) },
    { label: "Disbursed (all time)", value: (r) => formatMoney(r.disbursed, r.currency) },
  ], report.totals, "No donations yet.");

  fillTable($("#donations-table"), "Donations per cause and month", [
    { label: "Month", value: (r) => r.period, text: true },
    { label: "Cause", value: (r) => causeName(r.cause_id), text: true },
    { label: "Orders", value: (r) => integer(r.orders) },
    { label: "Pledged", value: (r) => formatMoney(r.pledged, r.currency) },
    { label: "Reversed", value: (r) => formatMoney(r.reversed, r.currency) },
    { label: "Net", value: (r) => formatMoney(r.net, r.currency) },
    { label: "Disbursed", value: (r) => formatMoney(r.disbursed, r.currency) },
  ], rows);
}

function renderMemberships() {
  const result = state.data.memberships;
  if (!result || result.status !== "fulfilled") return;
  const report = result.value;
  const members = report.members.reduce((n, r) => n + r.perks_active, 0);
  $("#membership-tiles").replaceChildren(
    el("div", { class: "tile" }, el("b", {}, integer(members)), el("span", {}, "members with perks now")),
    ...report.mrr.map((m) => el("div", { class: "tile" }, el("b", {}, formatMoney(m.mrr, m.currency)),
      el("span", {}, `MRR, ${m.currency.toUpperCase()} — ${integer(m.paying_members)} paying`))),
    el("div", { class: "tile" }, el("b", {}, integer(report.months.reduce((n, m) => n + m.joins, 0))), el("span", {}, "joins in range")),
    el("div", { class: "tile" }, el("b", {}, integer(report.months.reduce((n, m) => n + m.cancellations, 0))), el("span", {}, "cancellations in range")),
  );
  barChart($("#memberships-chart"), {
    title: "Joins and cancellations per month",
    periods: report.months.map((m) => m.period),
    series: [
      { label: "Joins", color: "var(--c2)", values: Object.fromEntries(report.months.map((m) => [m.period, m.joins])), stack: "m" },
      { label: "Cancellations", color: "var(--c1)", negative: true, stack: "m",
        values: Object.fromEntries(report.months.map((m) => [m.period, m.cancellations])) },
    ],
    format: (v) => integer(Math.round(v)),
    caption: "Joins above the line, cancellations below it.",
  });
  fillTable($("#plans-table"), "Members per plan", [
    { label: "Plan", value: (r) => r.plan_id || "—", text: true },
    { label: "Status", value: (r) => r.status, text: true },
    { label: "Members", value: (r) => integer(r.members) },
    { label: "With perks now", value: (r) => integer(r.perks_active) },
  ], report.members, "No members yet.");
  fillTable($("#movements-table"), "Joins and cancellations per month", [
    { label: "Month", value: (r) => r.period, text: true },
    { label: "Joins", value: (r) => integer(r.joins) },
    { label: "Cancellations", value: (r) => integer(r.cancellations) },
  ], report.months);
}

/** Money, or "—" where the report has no figure (an average without orders). */
const moneyOrDash = (minor, currency) => (minor === null || minor === undefined ? "—" : formatMoney(minor, currency));

/** A 4-decimal ratio string ("0.1235") as an exact percentage ("12.35 %"): string arithmetic, no rounding. */
function percent(text) {
  if (text === null || text === undefined) return "—";
  const [, sign, whole, fraction] = text.match(/^(-?)(\d+)\.(\d{4})$/);
  const hundreds = String(Number(whole + fraction.slice(0, 2)));
  return `${sign}${hundreds}.${fraction.slice(2)} %`;
}

function segmentRows(row) {
  const c = row.currency;
  const m = row.members, n = row.non_members;
  return [
    ["Customers", integer(m.customers), integer(n.customers), "—"],
    ["Orders", integer(m.orders), integer(n.orders), "—"],
    ["Revenue (net of refunds)", formatMoney(m.revenue, c), formatMoney(n.revenue, c), "—"],
    ["Average order value", moneyOrDash(m.aov, c), moneyOrDash(n.aov, c), ratio(row.lift.aov)],
    ["Orders per customer", ratio(m.orders_per_customer), ratio(n.orders_per_customer), ratio(row.lift.orders_per_customer)],
    ["Returning customers", integer(m.returning_customers), integer(n.returning_customers), "—"],
    ["Returning rate", percent(m.returning_rate), percent(n.returning_rate), ratio(row.lift.returning_rate)],
  ];
}

const PROGRAM_MONEY = [
  ["Membership fees", "fees"], ["Member discounts", "member_discount"], ["Shipping waived", "shipping_waived"],
  ["Donations (net)", "donations"], ["Program net", "program_net"],
];

function renderProgram() {
  const body = $("#program-body");
  const result = state.data.program;
  if (!result) return;  // not arrived yet
  if (result.status !== "fulfilled") {
    body.replaceChildren(el("p", { class: "card" }, `Could not load the program report: ${result.reason.message}`));
    return;
  }
  const report = result.value;
  if (!report.totals.length) {
    body.replaceChildren(el("p", { class: "card" }, "No orders and no membership fees in this range."));
    return;
  }
  const parts = [];
  // The totals rows count each shopper once over the range; the money in them is the months' sum.
  // Currencies by revenue, the largest first.
  const revenue = (t) => t.members.revenue + t.non_members.revenue;
  const totals = [...report.totals].sort((a, b) => revenue(b) - revenue(a) || a.currency.localeCompare(b.currency));
  for (const total of totals) {
    const c = total.currency, C = c.toUpperCase();
    const rows = report.data.filter((r) => r.currency === c);
    const by = (pick) => Object.fromEntries(rows.map((r) => [r.period, pick(r)]));
    const section = el("section", { class: "currency", "aria-labelledby": `program-${c}` },
      el("h3", { id: `program-${c}` }, `${C}: members against non-members, ${total.period.replace("..", " to ")}`));

    const compare = el("table");
    fillTable(compare, `Members against non-members, ${C}`, [
      { label: "Figure", value: (r) => r[0], text: true },
      { label: "Members", value: (r) => r[1] },
      { label: "Non-members", value: (r) => r[2] },
      { label: "Lift (members ÷ non-members)", value: (r) => r[3] },
    ], segmentRows(total));
    section.append(el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `Members against non-members, ${C}` }, compare));

    const aov = el("figure", { class: "chart" });
    barChart(aov, {
      title: `Average order value per month, members and non-members, ${C}`,
      periods: months(),
      series: [
        { label: "Members", color: "var(--c0)", values: by((r) => r.members.aov) },
        { label: "Non-members", color: "var(--grey)", values: by((r) => r.non_members.aov) },
      ],
      format: (v) => formatMoney(Math.round(v), c),
      caption: "Average order value (revenue net of refunds ÷ orders) of each segment, side by side per month.",
    });
    section.append(aov);
    const segments = el("table");
    fillTable(segments, `Members against non-members per month, ${C}`, [
      { label: "Month", value: (r) => r.period, text: true },
      { label: "Member customers", value: (r) => integer(r.members.customers) },
      { label: "Member orders", value: (r) => integer(r.members.orders) },
      { label: "Member AOV", value: (r) => moneyOrDash(r.members.aov, c) },
      { label: "Non-member customers", value: (r) => integer(r.non_members.customers) },
      { label: "Non-member orders", value: (r) => integer(r.non_members.orders) },
      { label: "Non-member AOV", value: (r) => moneyOrDash(r.non_members.aov, c) },
      { label: "AOV lift", value: (r) => ratio(r.lift.aov) },
    ], rows);
    section.append(el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `Members against non-members per month, ${C}` }, segments));

    section.append(el("h4", {}, `What the program earns and costs, ${C}`));
    if (!state.planCurrencies.has(c)) {
      // No fees can come in this currency: a red program net would read as a loss the program never made.
      section.append(el("p", { class: "note", "data-no-plan": c },
        `No plan charges in ${C}, so no membership fees are paid in ${C}. Members' ${C} orders cost `
        + `${formatMoney(total.member_discount, c)} in discounts, ${formatMoney(total.shipping_waived, c)} in shipping waived `
        + `and ${formatMoney(total.donations, c)} in donations; their fees are paid in ${[...state.planCurrencies].map((x) => x.toUpperCase()).join(", ") || "another currency"}.`));
      parts.push(section);
      continue;
    }
    section.append(el("div", { class: "tiles", "data-currency": c },
      PROGRAM_MONEY.map(([label, field]) => el("div", { class: "tile" },
        el("b", { class: total[field] < 0 ? "neg" : null }, formatMoney(total[field], c)), el("span", {}, label)))));
    const money = el("figure", { class: "chart" });
    barChart(money, {
      title: `Fees against perks and donations per month, ${C}`,
      periods: months(),
      series: [
        { label: "Membership fees", color: "var(--c2)", values: by((r) => r.fees), stack: "in" },
        { label: "Member discounts", color: "var(--c0)", values: by((r) => r.member_discount), stack: "out" },
        { label: "Shipping waived", color: "var(--c3)", values: by((r) => r.shipping_waived), stack: "out" },
        { label: "Donations", color: "var(--c1)", values: by((r) => r.donations), stack: "out" },
      ],
      format: (v) => formatMoney(Math.round(v), c),
      caption: "Left bar: fees paid to the club; right bar: what member discounts, shipping waived and donations cost that month.",
    });
    section.append(money);

    const moneyMonthly = el("table");
    fillTable(moneyMonthly, `Fees against perks per month, ${C}`, [
      { label: "Month", value: (r) => r.period, text: true },
      { label: "Membership fees", value: (r) => formatMoney(r.fees, c) },
      { label: "Member discounts", value: (r) => formatMoney(r.member_discount, c) },
      { label: "Shipping waived", value: (r) => formatMoney(r.shipping_waived, c) },
      { label: "Donations (net)", value: (r) => formatMoney(r.donations, c) },
      { label: "Program net", value: (r) => formatMoney(r.program_net, c), cls: (r) => (r.program_net < 0 ? "neg" : null) },
    ], rows);
    section.append(el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `Fees against perks per month, ${C}` }, moneyMonthly));
    parts.push(section);
  }
  body.replaceChildren(...parts);
  renderReferrals();
}

// The Referrals panel of the Program view: codes used, friends joined, rewards and the credit granted.
function renderReferrals() {
  const body = $("#referrals-body");
  const result = state.data.referrals;
  if (!result) return;
  if (result.status !== "fulfilled") {
    body.replaceChildren(el("p", {}, `Could not load the referrals report: ${result.reason.message}`));
    return;
  }
  const rows = result.value.data;
  if (!rows.some((r) => r.codes_used || r.joined || r.rewarded || Object.keys(r.withheld).length)) {
    body.replaceChildren(el("p", {}, "No referrals in this range."));
    return;
  }
  const withheld = (r) => Object.entries(r.withheld).map(([reason, n]) => `${reason.replace(/_/g, " ")}: ${n}`).join(", ") || "–";
  const credit = (r) => r.credit.map((c) => formatMoney(c.amount, c.currency)).join(", ") || "–";
  const table = el("table");
  fillTable(table, "Referrals per month", [
    { label: "Month", value: (r) => r.period, text: true },
    { label: "Codes used", value: (r) => String(r.codes_used) },
    { label: "Friends joined", value: (r) => String(r.joined) },
    { label: "Rewarded", value: (r) => String(r.rewarded) },
    { label: "Clawed back", value: (r) => String(r.clawed_back) },
    { label: "Withheld", value: withheld, text: true },
    { label: "Credit granted (net)", value: credit },
  ], rows);
  body.replaceChildren(el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Referrals per month" }, table));
}

function show(view) {
  state.view = view;
  for (const button of document.querySelectorAll("[data-view]")) {
    if (button.dataset.view === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  if (state.data[view]) RENDER[view]();  // charts take the width of the now visible view
}

const RENDER = { donations: renderDonations, memberships: renderMemberships, program: renderProgram, referrals: renderReferrals };

// ---------- CSV downloads: the API's own CSV, saved under a descriptive name ----------

const CSV_PATHS = { donations: "/v1/reports/donations", memberships: "/v1/reports/memberships", program: "/v1/reports/program" };

async function downloadCsv(view) {
  $("#status").textContent = "Preparing the CSV…";
  try {
    const text = await api(`${CSV_PATHS[view]}?${query({ format: "csv" })}`);
    const { from, to } = range();
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `${view}-${from}-to-${to}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    $("#status").textContent = `Downloaded ${view} CSV.`;
  } catch (failure) {
    $("#status").textContent = `Could not download the CSV: ${failure.message}`;
  }
}

// ---------- recording a disbursement ----------

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

/** The API's refusal for the person who typed the amount: major units and the cause's name. */
function disbursementError(failure, body) {
  // The 409's message ends with its figures in minor units ("outstanding 12000"), for programs like this one.
  const outstanding = failure.code === "exceeds_outstanding" && failure.message.match(/outstanding (-?\d+)/);
  if (!outstanding) return failure.message;
  return `${formatMajor(body.amount, body.currency)} exceeds the ${formatMajor(Number(outstanding[1]), body.currency)} `
    + `outstanding for ${causeName(body.cause_id)}.`;
}

async function recordDisbursement(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#disburse-error"), done = $("#disburse-done");
  error.textContent = ""; done.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const currency = $("#d-currency").value;
  const fail = (field, message) => {
    error.textContent = message;
    if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
  };
  const amount = parseMajor($("#d-amount").value, currency);
  if (amount === null || amount <= 0) {
    return fail($("#d-amount"), fractionDigits(currency)
      ? `Enter the amount in ${currency.toUpperCase()} with at most ${fractionDigits(currency)} decimals, e.g. 250.00 or 250,00 (write 1250.00 or 1.250,00 for a thousand and more).`
      : `Enter the amount in whole ${currency.toUpperCase()}, e.g. 900.`);
  }
  if (!$("#d-date").value) return fail($("#d-date"), "Enter the date the payment was made.");
  if (!$("#d-reference").value.trim()) return fail($("#d-reference"), "Enter the payment's reference.");
  const receipt = $("#d-receipt").value.trim();
  const body = {
    disbursement_id: `dash-${crypto.randomUUID()}`,
    cause_id: $("#d-cause").value,
    currency,
    amount,
    paid_at: `${$("#d-date").value}T12:00:00Z`,
    reference: $("#d-reference").value.trim(),
    ...(receipt ? { receipt_url: receipt } : {}),
  };
  try {
    await api("/v1/disbursements", { method: "POST", body, headers: { "Idempotency-Key": body.disbursement_id } });
  } catch (failure) {
    const fields = { amount: "#d-amount", cause_id: "#d-cause", currency: "#d-currency", paid_at: "#d-date", reference: "#d-reference", receipt_url: "#d-receipt" };
    return fail(failure.param && fields[failure.param] ? $(fields[failure.param]) : null, disbursementError(failure, body));
  }
  done.textContent = `Recorded ${formatMajor(amount, currency)} paid to ${causeName(body.cause_id)}.`;
  // The next payment is most often to the same cause in the same currency: keep both.
  form.reset();
  $("#d-cause").value = body.cause_id;
  $("#d-currency").value = currency;
  $("#d-date").value = today();
  await load();
}

// ---------- start ----------

function defaultRange() {
  const now = new Date();
  const to = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1));
  const from = `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, "0")}`;
  $("#from").value = from;
  $("#to").value = to;
}

function start() {
  defaultRange();
  $("#d-date").value = today();
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  $("#range").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  $("#donations-currency").addEventListener("change", renderDonations);
  $("#disburse").addEventListener("submit", recordDisbursement);
  for (const button of document.querySelectorAll("[data-view]")) button.addEventListener("click", () => show(button.dataset.view));
  for (const button of document.querySelectorAll("[data-csv]")) button.addEventListener("click", () => downloadCsv(button.dataset.csv));
  if (sessionStorage.getItem(KEY_STORAGE)) showApp();
  else signOut();
}

start();
