// VIP Rewards storefront kit: one dependency-free ES module. Importing it defines <vip-join-offer>,
// <vip-member-badge>, <vip-account> and <vip-disclosure>; nothing is fetched until an element is connected.
// Types: /kit/vip.d.ts. Docs: docs/storefront.md.

// ---- client: configuration, fetch with the shopper token (refreshed once after a 401), money ----------
let config = { api: "", token: null };
let configured = false;
let tokenPromise = null;
let memo = new Map();

export function configure(options) {
  config = { ...config, ...options, api: String(options.api ?? config.api).replace(/\/+$/, "") };
  configured = true;
  tokenPromise = null;
  memo = new Map();
  document.dispatchEvent(new Event("vip:configure"));
}

export class VipError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const shopperToken = (refresh) => {
  if (!config.token) return Promise.resolve(null);
  if (refresh || !tokenPromise) tokenPromise = Promise.resolve().then(() => config.token()).catch(() => null);
  return tokenPromise;
};

export async function request(path, { method = "GET", body, shopper = false, text = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = {};
    if (shopper) {
      const token = await shopperToken(attempt > 0);
      if (!token) throw new VipError("Sign in to continue.", 401);
      headers.authorization = `Bearer ${token}`;
    }
    if (body) headers["content-type"] = "application/json";
    let answer;
    try {
      answer = await fetch(config.api + path, {
        method, headers, body: body && JSON.stringify(body), credentials: "omit",
      });
    } catch {
      throw new VipError("The club is unreachable right now.", 0);
    }
    if (answer.status === 401 && shopper && attempt === 0) continue;
    const data = text && answer.ok ? await answer.text() : await answer.json().catch(() => null);
    if (!answer.ok) throw new VipError(data?.error?.message || `Request failed (${answer.status}).`, answer.status);
    return data;
  }
}

// Shared reads: every element on the page asks once.
const once = (key, load) => {
  if (!memo.has(key)) memo.set(key, load().catch((error) => (memo.delete(key), Promise.reject(error))));
  return memo.get(key);
};
export const offer = (currency) => once(`offer:${currency || ""}`, () => request(`/v1/offer${currency ? `?currency=${currency}` : ""}`));
// null for a guest (no token, or none accepted).
export const membership = () => once("membership", () => request("/v1/shopper/membership", { shopper: true })
  .catch((error) => (error.status === 401 ? null : Promise.reject(error))));
const forget = (key) => memo.delete(key);

const locale = () => document.documentElement.lang || navigator.language || "en";
export function money(amount, currency) {
  const format = new Intl.NumberFormat(locale(), { style: "currency", currency: currency.toUpperCase() });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
}
const day = (when) => new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(new Date(when));
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---- elements --------------------------------------------------------------------------------------------
const STYLE = `:host{display:block;box-sizing:border-box;font:var(--vip-font,inherit);color:var(--vip-text,inherit);contain:layout}
:host([hidden]){display:none}*{box-sizing:border-box}
.box{min-height:inherit;padding:var(--vip-padding,.75rem 1rem);border:var(--vip-border,1px solid #d0d0d7);border-radius:var(--vip-radius,.5rem);background:var(--vip-bg,transparent);overflow-wrap:anywhere}
.box:empty{border-color:transparent;background:transparent}
p{margin:0 0 .5rem}h2{font-size:1.1em;margin:0 0 .5rem}
button,select{font:inherit;min-height:2.75rem;border-radius:var(--vip-radius,.5rem)}
button{padding:.5rem 1rem;border:0;background:var(--vip-accent,#1d4ed8);color:var(--vip-accent-text,#fff);cursor:pointer}
button:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--vip-focus,#f59e0b);outline-offset:2px}
select{max-width:100%;padding:.25rem .5rem;border:1px solid #767680;background:#fff;color:#111}
label{display:block;margin:.5rem 0 .25rem}.error{color:var(--vip-error,#b91c1c)}summary{cursor:pointer;min-height:1.5rem}`;

const sheets = new Map();
const sheet = (css) => {
  if (!sheets.has(css)) {
    const made = new CSSStyleSheet();
    made.replaceSync(css);
    sheets.set(css, made);
  }
  return sheets.get(css);
};

class VipElement extends HTMLElement {
  static observedAttributes = [];

  constructor() {
    super();
    // Constructed style sheets: no <style> element, so a page's CSP needs no style-src exception for the kit.
    const root = this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [sheet(STYLE), sheet(this.constructor.style || "")];
    root.innerHTML = `<div class="box" part="box" aria-live="polite"></div>`;
    this.box = root.firstChild;
    this.run = 0;
    // Delegated: the content is replaced on every render.
    this.box.addEventListener("click", (event) => event.target.closest("button") && this.press?.(event.target.closest("button")));
    this.box.addEventListener("change", (event) => this.change?.(event.target));
  }

  connectedCallback() {
    document.addEventListener("vip:configure", this);
    this.refresh();
  }

  disconnectedCallback() {
    document.removeEventListener("vip:configure", this);
    this.run++;
  }

  attributeChangedCallback() {
    if (this.isConnected) this.refresh();
  }

  handleEvent() {
    this.refresh();
  }

  async refresh() {
    // Before `configure` the element keeps its empty box: it cannot know where the API is.
    if (!configured) return;
    const run = ++this.run;
    this.box.setAttribute("aria-busy", "true");
    let html;
    try {
      html = await this.view();
    } catch (error) {
      html = `<p class="error" part="error" role="alert">${esc(error instanceof VipError ? error.message : "Something went wrong.")}</p>`;
    }
    if (run !== this.run) return;
    this.box.removeAttribute("aria-busy");
    this.box.innerHTML = html;
    this.toggleAttribute("empty", !html);
    this.dispatchEvent(new CustomEvent("vip:render", { bubbles: true, composed: true }));
  }

  fail(error) {
    this.box.insertAdjacentHTML("beforeend", `<p class="error" part="error" role="alert">${esc(error.message || "Something went wrong.")}</p>`);
  }
}

function disclosureHtml(disclosure) {
  const causes = disclosure.causes.map((c) => `<li>${esc(c.name)}${c.legal_name ? ` — ${esc(c.legal_name)}` : ""}${c.tax_id ? `, tax id ${esc(c.tax_id)}` : ""}</li>`).join("");
  return `<details part="disclosure"><summary>How your membership gives</summary><p>${disclosure.plans.map((p) => esc(p.text)).join(" ")}</p>${causes ? `<ul>${causes}</ul>` : ""}</details>`;
}

const here = () => location.href.split("#")[0];

class JoinOffer extends VipElement {
  static observedAttributes = ["cart"];
  // A box only for a cart with items (the page may reserve the same before the kit loads).
  static style = `:host([cart*='"sku"']){min-height:var(--vip-join-offer-height,10.5rem)}:host([empty]){min-height:0}`;

  async view() {
    const cart = JSON.parse(this.getAttribute("cart") || "null");
    if (!cart?.items?.length) return "";
    const [shopper, preview, club] = await Promise.all([
      membership().catch(() => null),
      request("/v1/offer/preview", { method: "POST", body: cart }),
      offer(cart.currency),
    ]);
    const plan = preview.join_preview && club.plans.find((p) => p.plan_id === preview.join_preview.plan_id);
    if (shopper?.perks_active || !plan) return "";
    this.plan = plan;
    return `<h2 part="heading">Join ${esc(plan.name)} and save ${money(preview.join_preview.saves, cart.currency)} on this order</h2>
<p part="price">${money(plan.amount, plan.currency)} / ${plan.interval}${plan.trial_days ? `, ${plan.trial_days} days free` : ""}</p>
<button type="button" part="button">Join ${esc(plan.name)}</button>${disclosureHtml(club.disclosure)}`;
  }

  async press(button) {
    button.disabled = true;
    try {
      const started = await request("/v1/shopper/checkout", {
        method: "POST", shopper: true,
        body: { plan_id: this.plan.plan_id, success_url: this.getAttribute("success-url") || here(), cancel_url: this.getAttribute("cancel-url") || here() },
      });
      this.dispatchEvent(new CustomEvent("vip:checkout", { bubbles: true, composed: true, detail: started }));
      location.assign(started.checkout_url);
    } catch (error) {
      button.disabled = false;
      if (error.status === 401) this.dispatchEvent(new CustomEvent("vip:sign-in", { bubbles: true, composed: true }));
      this.fail(error);
    }
  }
}

class MemberBadge extends VipElement {
  // A fixed box: the badge appears inside a line of the page without moving it.
  static style = ":host{display:inline-block;width:var(--vip-badge-width,7.5rem);height:2rem;vertical-align:middle}.box{height:2rem;padding:.25rem .5rem;border-radius:999px;background:var(--vip-badge-bg,#1d4ed8);color:var(--vip-badge-text,#fff);border:0;font-size:.875rem;line-height:1.5rem;text-align:center;white-space:nowrap;overflow:hidden}";

  async view() {
    const shopper = await membership();
    return shopper?.perks_active ? `<span part="badge">VIP member</span>` : "";
  }
}

class Account extends VipElement {
  static style = ":host{min-height:var(--vip-account-height,21rem)}";

  async view() {
    const [shopper, club] = await Promise.all([membership(), offer()]);
    if (!shopper) throw new VipError("Sign in to see your membership.", 401);
    const status = shopper.perks_active ? "Active member" : shopper.status === "none" ? "Not a member yet" : `Membership ${shopper.status.replace(/_/g, " ")}`;
    const end = shopper.current_period_end && `${shopper.cancel_at_period_end ? "Ends" : "Renews"} on ${day(shopper.current_period_end)}`;
    const saved = Object.entries(shopper.value || {}).map(([cur, v]) => `Membership saved you ${money(v.saved, cur)} on ${money(v.fees_paid, cur)} of fees.`);
    const given = Object.entries(shopper.impact || {}).map(([cur, v]) => `Your purchases gave ${money(v.net, cur)}${v.units ? ` (${esc(v.units)})` : ""}.`);
    // A cause the brand retired takes no new pledges: ask for another (they go to the default cause meanwhile).
    const retired = shopper.cause_active === false;
    // The member's code, when their plan offers referrals (404/409 otherwise: nothing to show).
    const referral = shopper.perks_active ? await request("/v1/shopper/referral", { shopper: true }).catch(() => null) : null;
    const options = (retired ? `<option value="" selected disabled>Choose a cause</option>` : "") + club.causes.map((c) => `<option value="${esc(c.cause_id)}"${!retired && c.cause_id === shopper.cause_id ? " selected" : ""}>${esc(c.name)}</option>`).join("");
    return `<h2 part="heading">${status}</h2>${end ? `<p>${end}</p>` : ""}
<p part="saved">${esc(saved.join(" ") || "No savings yet.")}</p><p part="impact">${esc(given.join(" ") || "No donations yet.")}</p>
${referral ? `<p part="referral">Your referral code: <strong>${esc(referral.code)}</strong>. Friends get ${referral.friend_free_months} month${referral.friend_free_months === 1 ? "" : "s"} free.</p>` : ""}
${shopper.status === "none" ? "" : `${retired ? `<p part="notice" id="cause-note">Your cause no longer takes donations. Please pick another.</p>` : ""}<label part="label" for="cause">Your cause</label><select id="cause" part="select"${retired ? ` aria-describedby="cause-note"` : ""}>${options}</select>
<p><button type="button" part="button">Manage membership</button> <button type="button" part="button" name="statement">Giving statement</button></p>`}${disclosureHtml(club.disclosure)}`;
  }

  async change(select) {
    select.disabled = true;
    try {
      await request("/v1/shopper/cause", { method: "PUT", shopper: true, body: { cause_id: select.value } });
      forget("membership");
      this.dispatchEvent(new CustomEvent("vip:cause", { bubbles: true, composed: true, detail: select.value }));
    } catch (error) {
      this.fail(error);
    }
    select.disabled = false;
    select.focus();
  }

  // This year's giving statement as a printable page, in a tab opened on the click itself (popup blockers).
  async statement() {
    const tab = window.open("", "_blank");
    try {
      const page = await request(`/v1/shopper/impact/page?year=${new Date().getFullYear()}`, { shopper: true, text: true });
      tab.location = URL.createObjectURL(new Blob([page], { type: "text/html" }));
    } catch (error) {
      tab?.close();
      this.fail(error);
    }
  }

  async press(button) {
    if (button.name === "statement") return this.statement();
    button.disabled = true;
    try {
      const portal = await request("/v1/shopper/portal", { method: "POST", shopper: true, body: { return_url: this.getAttribute("return-url") || here() } });
      location.assign(portal.portal_url);
    } catch (error) {
      button.disabled = false;
      this.fail(error);
    }
  }
}

class Disclosure extends VipElement {
  static style = ":host{min-height:var(--vip-disclosure-height,3.25rem)}";

  async view() {
    return disclosureHtml((await offer()).disclosure);
  }
}

for (const [name, element] of [["vip-join-offer", JoinOffer], ["vip-member-badge", MemberBadge], ["vip-account", Account], ["vip-disclosure", Disclosure]]) {
  if (!customElements.get(name)) customElements.define(name, element);
}
