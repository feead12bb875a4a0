// The demo store's own script: a brand's page code, using only the kit.
const api = document.documentElement.dataset.api;
const { configure, membership, money } = await import(`${api}/kit/vip.js`);

const $ = (selector) => document.querySelector(selector);
// The cart and the signed-in shopper live in cookies, so the store's server renders them into the page.
const cookie = (name) => decodeURIComponent(document.cookie.split("; ").find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1) || "");
const setCookie = (name, value) => { document.cookie = `${name}=${encodeURIComponent(value)}; path=/; SameSite=Lax${value ? "" : "; max-age=0"}`; };
const shopper = () => cookie("demo-shopper");
const cart = () => JSON.parse(cookie("demo-cart") || "[]");
const LAUNCH = new Date(Date.now() + 24 * 3600 * 1000).toISOString();

// The brand's server mints the shopper token (its storefront key never reaches the browser).
async function token() {
  if (!shopper()) return null;
  const answer = await fetch("/demo-store/session", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ shopper: shopper() }),
  });
  return answer.ok ? (await answer.json()).token : null;
}

function renderCart() {
  const lines = cart();
  $("#cart-lines").innerHTML = lines.length
    ? lines.map((l) => `<li>${l.quantity} × ${l.sku} — ${money(l.unit_amount * l.quantity, "usd")}</li>`).join("")
    : "<li>Your cart is empty.</li>";
  const total = lines.reduce((sum, l) => sum + l.unit_amount * l.quantity, 0);
  $("#cart-total").textContent = `Subtotal ${money(total, "usd")}, standard shipping ${money(695, "usd")}`;
  const offer = { currency: "usd", items: lines, shipping: { method: "standard", amount: 695 } };
  const join = $("#join-offer");
  if (join && lines.length) join.setAttribute("cart", JSON.stringify(offer));
  else join?.removeAttribute("cart");
}

async function renderSignIn() {
  const who = shopper();
  $("#signed-in").textContent = who ? `Signed in as ${who}` : "Browsing as a guest";
  $("#sign-out").hidden = !who;
  const member = await membership().catch(() => null);
  for (const button of document.querySelectorAll("[data-members-only]")) button.disabled = !member?.perks_active;
}

function refresh() {
  configure({ api, token });
  renderSignIn();
}

$("#sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  setCookie("demo-shopper", $("#shopper").value);
  refresh();
});
$("#sign-out").addEventListener("click", () => {
  setCookie("demo-shopper", "");
  refresh();
});
$("#empty-cart").addEventListener("click", () => {
  setCookie("demo-cart", "");
  renderCart();
});
for (const button of document.querySelectorAll("[data-sku]")) {
  button.addEventListener("click", () => {
    const lines = cart();
    const line = lines.find((l) => l.sku === button.dataset.sku);
    if (line) line.quantity += 1;
    else lines.push({
      sku: button.dataset.sku, unit_amount: Number(button.dataset.price), quantity: 1,
      ...(button.dataset.launchHours ? { launch_at: LAUNCH } : {}),
      ...("membersOnly" in button.dataset ? { members_only: true } : {}),
    });
    setCookie("demo-cart", JSON.stringify(lines));
    renderCart();
  });
}
document.addEventListener("vip:sign-in", () => $("#shopper").focus());

// Back from the hosted checkout: ask the brand's server to re-read the shopper from Stripe, then show the perks.
if (new URLSearchParams(location.search).has("joined") && shopper()) {
  await fetch("/demo-store/sync", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ shopper: shopper() }),
  });
}
$("#join-offer")?.setAttribute("success-url", `${location.origin}/demo-store?joined=1`);
$("#join-offer")?.setAttribute("cancel-url", `${location.origin}/demo-store`);
$("#account").setAttribute("return-url", `${location.origin}/demo-store`);
configure({ api, token });
renderSignIn();
document.documentElement.dataset.ready = "true";
