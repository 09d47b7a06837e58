// Drives Debian's Chromium (headless, through playwright-core) against a running server:
//   node drive.mjs <api base> <listed page origin> <other page origin> <admin token>
// Prints what each page saw, checks it, and exits 1 on the first unmet expectation.
import { chromium } from "playwright-core";

const [api, listed, other, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const failures = [];
const expect = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

async function visit(origin) {
  const page = await browser.newPage();
  await page.goto(`${origin}/page.html#api=${encodeURIComponent(api)}&token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => document.title === "done", null, { timeout: 30_000 });
  const results = await page.evaluate(() => window.results);
  await page.close();
  console.log(`\n${origin}:`);
  for (const r of results) console.log(`  ${JSON.stringify(r)}`);
  return Object.fromEntries(results.map((r) => [r.name, r]));
}

const mine = await visit(listed);
expect(mine["anonymous catalogue"].status === 200 && mine["anonymous catalogue"].items > 0,
  "listed origin: the public catalogue is read");
expect(Boolean(mine["anonymous catalogue"].request_id), "listed origin: x-request-id is exposed to the page");
expect(mine["read with a token"].status === 200 && Boolean(mine["read with a token"].ratelimit),
  "listed origin: a read with a token succeeds, RateLimit exposed");
expect(mine["write with a token"].status === 201 && Boolean(mine["write with a token"].location),
  "listed origin: a write with a token succeeds (preflighted), Location exposed");

const theirs = await visit(other);
expect(theirs["anonymous catalogue"].status === 200 && theirs["anonymous catalogue"].items > 0,
  "other origin: the public catalogue is read");
expect(theirs["read with a token"].fetched === false, "other origin: a read with a token is refused by the browser");
expect(theirs["write with a token"].fetched === false, "other origin: a write with a token is refused by the browser");

// Swagger UI under its Content-Security-Policy: it renders the document, and the browser
// reports no violation and no script error.
const page = await browser.newPage();
const errors = [];
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));
await page.goto(`${api}/swagger-ui/`);
await page.waitForSelector(".swagger-ui .info .title", { timeout: 30_000 });
const operations = await page.locator(".opblock").count();
console.log(`\nSwagger UI: ${operations} operations shown; console errors: ${JSON.stringify(errors)}`);
expect(operations > 50, "Swagger UI renders every operation");
expect(errors.length === 0, "Swagger UI runs under its CSP with no error");

await browser.close();
if (failures.length) {
  console.error(`\n${failures.length} expectation(s) unmet`);
  process.exit(1);
}
