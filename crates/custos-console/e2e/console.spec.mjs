// Browser test of the custos console: Playwright (playwright-core) driving
// Debian's Chromium headless. Started by tests/integration.rs with:
//   CONSOLE_URL          base URL of a console on a real port
//   CONSOLE_USER         a lead's user name, CONSOLE_PASSWORD their password
//   CONSOLE_TOTP_SECRET  their TOTP secret (base32), to compute codes like an app
//   CONSOLE_STEPUP_SECRET their custos step-up secret (base32), for approvals
//   CONSOLE_DATA_CUSTOMER a customer frozen in the engine, with PII in the vault,
//   CONSOLE_DATA_TICKET   and the open ticket of theirs assigned to the user's agent
//   CHROMIUM             the browser binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR       where the screenshots go
// Signs in, triages an alert, adds a passkey (Chromium's virtual WebAuthn
// authenticator over CDP) and releases a suspension with it as the step-up,
// approves another lead's reveal request with step-up (and finds no button
// on their own), views a customer's data through the access broker (masked,
// under the watermark, the live freeze shown), verifies an audit entry's inclusion proof in the page (and
// sees a tampered proof fail), checks the pages at phone width, signs out and
// back in with the passkey, removes it with a passkey step-up and sees it
// refused after, and fails on any console error, CSP violation or request
// that leaves the console's origin. CONSOLE_URL must be http://localhost:PORT
// (the relying party id is `localhost`; an IP address cannot be one).
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";

const base = must("CONSOLE_URL");
const user = must("CONSOLE_USER");
const password = must("CONSOLE_PASSWORD");
const key = base32Decode(must("CONSOLE_TOTP_SECRET"));
const stepUpKey = base32Decode(must("CONSOLE_STEPUP_SECRET"));
const dataCustomer = must("CONSOLE_DATA_CUSTOMER");
const dataTicket = must("CONSOLE_DATA_TICKET");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = process.env.SCREENSHOT_DIR || "screenshots";
mkdirSync(shots, { recursive: true });

function must(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let buffer = 0, bits = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "")) {
    const value = alphabet.indexOf(c.toUpperCase());
    if (value < 0) continue;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

// RFC 4226 HOTP / RFC 6238 TOTP, six digits, 30-second steps.
function hotp(counter, secret = key) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac("sha1", secret).update(message).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(binary).padStart(6, "0");
}
const currentStep = () => Math.floor(Date.now() / 1000 / 30);

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok: ${message}`);
}

const problems = [];
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => { if (!r.url().startsWith(base)) problems.push(`external request: ${r.url()}`); });
  page.on("dialog", (d) => d.accept());
  const shot = (name) => page.screenshot({ path: path.join(shots, name), fullPage: true });
  // A platform authenticator with resident keys and user verification,
  // answering without a gesture.
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // No session: the queue sends us to sign in.
  await page.goto(`${base}/console/alerts`);
  check(page.url() === `${base}/console/signin`, "no session redirects to sign-in");

  check(await page.evaluate(() => document.activeElement?.id === "name"), "sign-in starts in the user name field");

  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  const signInStep = currentStep();
  await page.getByLabel("Authenticator code").fill(hotp(signInStep));
  await shot("signin.png");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${base}/console/`);
  check(await page.getByRole("heading", { name: "Overview", level: 1 }).isVisible(), "signed in to the overview");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "custos_console");
  check(session && session.httpOnly && session.secure && session.sameSite === "Strict" && session.path === "/console",
    "session cookie is HttpOnly, Secure, SameSite=Strict, Path=/console");
  await shot("overview.png");
  // Keyboard: the first Tab reaches the skip link, which takes focus to main.
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.classList.contains("skip")), "first Tab focuses the skip link");
  await page.keyboard.press("Enter");
  check(await page.evaluate(() => document.activeElement?.id === "main"), "the skip link moves focus to main");

  // Triage: the newest critical agent_behavior alert.
  await page.getByRole("link", { name: "Alerts", exact: true }).click();
  await page.waitForURL(/\/console\/alerts/);
  await shot("alerts.png");
  await page.getByLabel("Detector").selectOption("agent_behavior");
  await page.getByLabel("Severity at least").selectOption("critical");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/severity=critical/);
  const first = page.locator("table.alerts tbody tr th a").first();
  const alertId = (await first.textContent()).trim();
  await first.click();
  await page.waitForURL(new RegExp(`/console/alerts/${alertId}$`));
  check(await page.getByRole("heading", { name: "Evidence timeline" }).isVisible(), `alert ${alertId} shows its evidence`);
  await shot("alert-detail.png");
  await page.getByRole("button", { name: "Assign to me" }).click();
  await page.waitForLoadState();
  check(await page.getByText(`${user} assign`).isVisible(), "assigned to me, in the history");
  await page.getByLabel("Resolution").selectOption("true_positive");
  await page.getByRole("button", { name: "Resolve" }).click();
  await page.waitForLoadState();
  check(await page.locator("dl.facts").getByText("resolved: true_positive").isVisible(), "resolved as a true positive");

  const alertUrl = page.url();

  // Add a passkey on the account page (a fresh TOTP code as the step-up).
  await page.getByRole("link", { name: `${user} · lead` }).click();
  await page.waitForURL(`${base}/console/account`);
  check(await page.locator("#no-passkeys").isVisible(), "the account page says there is no passkey yet");
  await shot("account.png");
  await page.getByLabel("Name of the passkey").fill("browser test key");
  // A code of a later step than the sign-in's (the server accepts one step of drift).
  const stepUp = Math.max(signInStep + 1, currentStep());
  await page.locator("#passkey-code").fill(hotp(stepUp));
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.waitForURL(/done=added/);
  check(await page.locator("table.passkeys").getByText("browser test key").isVisible(), "the passkey is listed");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(credentials.length === 1 && credentials[0].isResidentCredential && credentials[0].rpId === "localhost",
    "the authenticator holds one discoverable credential for rp id localhost");
  await shot("account-passkey.png");

  // Release the suspension on the alert's agent, with a passkey step-up.
  await page.goto(alertUrl);
  await page.locator('dl.facts a[href^="/console/agents/"]').first().click();
  await page.waitForURL(/\/console\/agents\//);
  const agentUrl = page.url();
  check(await page.getByRole("heading", { name: "Countermeasures in force" }).isVisible(), "agent page lists countermeasures");
  await shot("agent.png");
  await page.getByLabel("Countermeasure", { exact: true }).selectOption("suspend_access");
  await page.getByLabel("Reason (recorded)").fill("benign: QA review in the browser test");
  await page.getByRole("button", { name: "Use a passkey instead" }).click();
  await page.locator(".passkey-status.ok").waitFor();
  check(await page.getByLabel("Authenticator code (step-up)").isDisabled(), "the passkey replaces the code");
  await page.getByRole("button", { name: "Release" }).click();
  await page.waitForURL(/released=suspend_access/);
  check(await page.locator("p.notice.ok").getByText("Released suspend_access").isVisible(), "release confirmed");
  check(await page.getByRole("region", { name: "Releases" }).getByText(`${user} released`).isVisible(), "release listed with who did it");
  await shot("agent-released.png");

  // Approvals: lee's own request has no button; kim's is approved with a
  // code from lee's custos step-up authenticator.
  await page.getByRole("link", { name: "Approvals", exact: true }).click();
  await page.waitForURL(`${base}/console/approvals`);
  const requests = page.locator("article.grant");
  check(await requests.count() === 2, "two pending reveal requests");
  const own = requests.filter({ has: page.getByRole("link", { name: `agent ${user}` }) });
  check(await own.getByText("This is your own request").isVisible(), "own request says another lead decides");
  check(await own.getByRole("button", { name: "Approve" }).count() === 0, "no Approve button on one's own request");
  const kims = requests.filter({ has: page.getByRole("link", { name: "agent kim" }) });
  check(await kims.getByText("national_id").isVisible(), "the request shows its fields");
  await shot("approvals.png");
  const grantId = (await kims.locator("h2 code").textContent()).trim();
  await kims.getByLabel("Step-up code").fill(hotp(currentStep(), stepUpKey));
  await kims.getByRole("button", { name: "Approve" }).click();
  await page.waitForURL(/done=approved/);
  check(await page.locator("p.notice.ok").getByText(`${grantId} approved`).isVisible(), `request ${grantId} approved`);
  check(await page.locator("article.grant").count() === 1, "one request left pending");
  await shot("approvals-approved.png");

  // Audit: the checkpoint, then entry 0's inclusion proof checked in the page.
  await page.getByRole("link", { name: "Audit", exact: true }).click();
  await page.waitForURL(`${base}/console/audit`);
  check(await page.getByRole("heading", { name: "Latest signed checkpoint" }).isVisible(), "the audit page shows the checkpoint");
  await page.getByLabel("Entity (agent, grant, ticket or commitment)").fill(grantId);
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/q=/);
  check(await page.locator("table.audit tbody tr").count() === 2, "the search finds the grant's request and approval entries");
  check(await page.locator("table.audit").getByText("grant_approved").isVisible(), "the approval is in the audit log");
  await shot("audit.png");
  await page.goto(`${base}/console/audit/entries/0`);
  await page.getByRole("button", { name: "Verify inclusion" }).click();
  await page.locator("#verify-result.ok").waitFor();
  const verdict = await page.locator("#verify-result").textContent();
  check(verdict.startsWith("Verified: entry 0 is in the signed checkpoint"), `inclusion verified in the browser: ${verdict}`);
  await shot("audit-verified.png");
  // A proof whose root was tampered with on the way fails in the page.
  await page.route("**/console/audit/entries/0/proof", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const root = Buffer.from(body.checkpoint.root, "base64");
    root[0] ^= 1;
    body.checkpoint.root = root.toString("base64");
    await route.fulfill({ response, json: body });
  });
  await page.getByRole("button", { name: "Verify inclusion" }).click();
  await page.locator("#verify-result.failed").waitFor();
  check((await page.locator("#verify-result").textContent()).includes("differs from the checkpoint"), "a tampered root fails the check");
  await page.unroute("**/console/audit/entries/0/proof");
  // The approval came after the checkpoint: its entry cannot be proved yet.
  await page.goto(`${base}/console/audit`);
  const newest = (await page.locator("table.audit tbody tr th a").first().textContent()).trim();
  await page.goto(`${base}/console/audit/entries/${newest}`);
  check(await page.locator("#proof-unavailable").isVisible(), "an entry after the checkpoint says it cannot be proved yet");

  // Leak attribution: ranked agents, then a victim's customer page.
  await page.getByRole("link", { name: "Attribution", exact: true }).click();
  await page.waitForURL(`${base}/console/attribution`);
  check(await page.getByRole("heading", { name: "Ranked agents: observed against expected" }).isVisible(), "the newest attribution run ranks agents");
  check(await page.locator("figure.chart svg[role=img] desc").count() === 1, "the ranking chart has a text description");
  await shot("attribution.png");
  const victim = page.locator("table.overlap tbody th a").first();
  const customerId = (await victim.textContent()).trim().replace(/^customer /, "");
  await victim.click();
  await page.waitForURL(new RegExp(`/console/customers/${customerId}$`));
  check(await page.getByRole("heading", { name: "Protection", exact: true }).isVisible(), `customer ${customerId} shows its protection state`);
  const customerUrl = page.url();
  await shot("customer.png");
  // Customer data through the access broker: the live freeze, then the
  // name and email masked on the user's ticket, under the watermark.
  await page.goto(`${base}/console/customers/${dataCustomer}`);
  check(await page.locator("#live-frozen").isVisible(), "the customer's freeze is read live from the engine");
  await page.getByLabel("Ticket id (optional)").fill(dataTicket);
  await page.getByRole("checkbox", { name: "name", exact: true }).check();
  await page.getByRole("checkbox", { name: "email", exact: true }).check();
  await page.getByLabel("Purpose (recorded)").fill("the customer cannot log in");
  await page.getByRole("button", { name: "View", exact: true }).click();
  await page.locator("#served").waitFor();
  check(await page.locator("table.served-fields").getByText("j***@e***.com").isVisible(), "the email is served masked");
  const band = (await page.locator("#watermark").textContent()) || "";
  check(band.includes(`${user} as ${user}`) && band.includes(dataTicket), "the watermark names the user, the agent and the ticket");
  check(await page.locator(".watermark span").count() > 1, "the watermark overlay tiles the page");
  check(!(await page.content()).includes("jane.doe@example.com"), "the plaintext email is nowhere in the page");
  await shot("customer-data.png");

  await page.goto(agentUrl.split("?")[0]);
  check(await page.getByRole("heading", { name: "Against baseline and peers" }).isVisible(), "the agent page has the baseline section");
  const charts = await page.locator("#chart-suspicion-desc").count();
  check(charts === 1, "the agent page charts suspicion against own and peer norms");

  // Phone width: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [url, name] of [[`${base}/console/`, "overview-phone.png"], [`${base}/console/alerts?status=all`, "alerts-phone.png"], [agentUrl.split("?")[0], "agent-phone.png"], [`${base}/console/approvals`, "approvals-phone.png"], [`${base}/console/audit`, "audit-phone.png"], [`${base}/console/audit/entries/0`, "audit-entry-phone.png"], [`${base}/console/attribution`, "attribution-phone.png"], [customerUrl, "customer-phone.png"], [`${base}/console/account`, "account-phone.png"]]) {
    await page.goto(url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${name}: no horizontal page scroll at 390 px (${overflow})`);
    await shot(name);
  }

  await page.setViewportSize({ width: 1280, height: 860 });

  // Sign out, then back in with the passkey alone (no name, no code).
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/console/signin`);
  const passkeyButton = page.getByRole("button", { name: "Sign in with a passkey" });
  check(await passkeyButton.isVisible(), "the sign-in page offers a passkey");
  await shot("signin-passkey.png");
  await passkeyButton.click();
  await page.waitForURL(`${base}/console/`);
  check(await page.getByRole("heading", { name: "Overview", level: 1 }).isVisible(), "signed in with the passkey");
  const passkeySession = (await context.cookies()).find((c) => c.name === "custos_console");
  check(passkeySession && passkeySession.httpOnly && passkeySession.sameSite === "Strict" && passkeySession.value !== session.value,
    "the passkey sign-in set a new locked-down session cookie");
  await page.goto(`${base}/console/account`);
  check(!(await page.locator("table.passkeys tbody td").getByText("never").isVisible()), "the passkey's last use is recorded");

  // Remove the passkey, confirming with the passkey itself.
  await page.getByRole("button", { name: "Use a passkey instead" }).click();
  await page.locator(".passkey-status.ok").waitFor();
  await page.getByRole("button", { name: "Remove" }).click();
  await page.waitForURL(/done=removed/);
  check(await page.locator("#no-passkeys").isVisible(), "the passkey is removed");
  // The authenticator still has it, but the console refuses it, clearly.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/console/signin`);
  const before = problems.length;
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.locator("#signin-error").waitFor();
  check((await page.locator("#signin-error").textContent()).includes("not registered"), "a removed passkey is refused with a clear error");
  // The refusal is a 401 page, which Chromium logs as a failed load.
  problems.splice(before, problems.length - before, ...problems.slice(before).filter((p) => !p.includes("401")));
  await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });

  check(problems.length === 0, `no console errors, CSP violations or external requests ${JSON.stringify(problems)}`);
  console.log("browser test passed");
} finally {
  await browser.close();
}
