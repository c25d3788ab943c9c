/**
 * The operator console in a real browser (Debian's chromium driven by playwright-core)
 * against the stack `npm run dev` starts: a wrong token refused, sign-in, a key created and
 * copied, a streamed chat in the playground with it, that request in the request log and in
 * the overview's numbers, the key revoked and refused, sign-out (the admin API then
 * refuses). Every failed request and console error is recorded: only the ones each step
 * expects may happen. Screenshots of each page go to docs/console/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../origin/helpers.ts';
import { type DevStack, startDevStack } from './processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'docs', 'console');
const ADMIN_TOKEN = 'dev-admin-token-change-me';
const TENANT = 'console-e2e';

let stack: DevStack;
let edge = '';
let profile = '';
let context: BrowserContext;
let page: Page;
/** `<status> <METHOD> <path>` of every answer >= 400 and every request that failed. */
let failures: string[] = [];
/** Console errors other than the browser's own "Failed to load resource" for an answer above. */
const consoleErrors: string[] = [];

/** The failures since the last call: exactly these, in this order. */
function expectFailures(expected: string[]) {
  const seen = failures;
  failures = [];
  expect(seen).toEqual(expected);
}

const shot = (name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this).`);
  }
  stack = await startDevStack();
  edge = stack.state.edge.url;
  profile = mkdtempSync(join(tmpdir(), 'console-e2e-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('response', (res) => {
    if (res.status() >= 400) {
      failures.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
    }
  });
  page.on('requestfailed', (req) => {
    const reason = req.failure()?.errorText ?? 'failed';
    // A page's own AbortController (a load superseded by the next) is not a failure.
    if (reason !== 'net::ERR_ABORTED')
      failures.push(`${reason} ${req.method()} ${new URL(req.url()).pathname}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of \d+/.test(msg.text()))
      return; // the answer itself is in `failures`, checked step by step
    consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
  page.on('dialog', (dialog) => void dialog.accept());
  mkdirSync(SHOTS, { recursive: true });
}, 200_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  stack?.kill();
});

const nav = (name: string) =>
  page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name });

describe('the operator console in a browser', () => {
  let keyId = '';
  let apiKey = '';
  let requestId = '';

  it('refuses a wrong token and keeps no token in web storage', async () => {
    await page.goto(`${edge}/`); // GET / redirects a browser to the console
    expect(new URL(page.url()).pathname).toBe('/console/');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('A valid admin token (or console session) is required.');
    await shot('sign-in');
    expectFailures(['401 GET /admin/session', '401 POST /admin/session']);
    expect(await context.cookies(`${edge}/admin/`)).toEqual([]);
  });

  it('signs in with the admin token from the keyboard; the session is an HttpOnly cookie', async () => {
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const [cookie] = await context.cookies(`${edge}/admin/`); // Path=/admin
    expect(cookie).toMatchObject({ name: 'gw_console', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(ADMIN_TOKEN);
    const stored = await page.evaluate<string>(
      'JSON.stringify([{ ...localStorage }, { ...sessionStorage }])',
    );
    expect(stored).not.toContain(ADMIN_TOKEN);
    expectFailures([]);
  });

  it('creates a key, shown once, and copies it', async () => {
    await nav('Keys').click();
    await page.getByRole('button', { name: 'Create a key' }).click();
    const form = page.getByRole('form', { name: 'New key' });
    await form.getByLabel('Name').fill('console e2e');
    await form.getByLabel('Tenant').fill(TENANT);
    await form.getByLabel('Residency').fill('none');
    await form.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByLabel('The new key');
    await shown.waitFor();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
    apiKey = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(apiKey).toMatch(/^sk-gw-[0-9A-Za-z]{32}$/);
    expect(await shown.textContent()).toBe(apiKey);
    const item = page.getByRole('listitem', { name: 'Key console e2e' });
    keyId = (await item.locator('code').first().textContent())!;
    expect(keyId).toMatch(/^key_[0-9a-f]{16}$/);
    // Shown once: after "I have copied it" (or a reload) the page holds only its prefix.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(apiKey);
    // Edited with the cookie: a PATCH from the console's own origin passes the CSRF rule.
    const mine = page.getByRole('listitem', { name: 'Key console e2e' });
    await mine.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit console e2e' });
    await edit.getByLabel('Monthly budget (USD)').fill('5');
    await edit.getByRole('button', { name: 'Save' }).click();
    await mine.getByText('$5.00/month').waitFor();
    // A key's spend against its budget (the picture holds no key, only prefixes).
    const limited = page.getByRole('listitem', { name: 'Key example: small limits' });
    await limited.getByRole('button', { name: 'Usage' }).click();
    await limited.locator('meter').waitFor();
    await shot('keys');
    expectFailures([]);
  });

  it('streams a chat in the playground with the copied key, the answer growing as it arrives', async () => {
    await nav('Playground').click();
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Load models' }).click();
    await page.getByRole('combobox', { name: 'Model' }).selectOption('llama-3.1-8b-instruct');
    await page.getByLabel('Message').fill('Tell me about the edge, in a few words.');
    // Every text the answer shows, as the DOM changes.
    // Page scripts as strings: this file is type-checked for Node, without the DOM.
    await page.evaluate(`{
      const out = document.querySelector('output.answer');
      window.answers = [];
      new MutationObserver(() => window.answers.push(out.textContent ?? '')).observe(out, {
        subtree: true, childList: true, characterData: true,
      });
    }`);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText(/^Finished \(/).waitFor({ timeout: 60_000 });
    const answers = (await page.evaluate<string[]>('window.answers')).filter((t) => t && t !== '…');
    const final = answers.at(-1)!;
    expect(final.length).toBeGreaterThan(0);
    // More than one partial answer, each a prefix of the next: it was shown as it arrived.
    expect(new Set(answers).size).toBeGreaterThan(1);
    for (let i = 1; i < answers.length; i++)
      expect(answers[i]!.startsWith(answers[i - 1]!)).toBe(true);
    const headers = page.getByRole('table', { name: 'Response headers' });
    const header = async (name: string) =>
      (await headers
        .getByRole('row', { name: new RegExp(`^${name}\\b`) })
        .locator('td')
        .textContent())!;
    expect(await header('x-gateway-provider')).toBe('origin-us-east');
    expect(await header('x-gateway-region')).toBe('us-east');
    requestId = await header('x-request-id');
    expect(requestId.length).toBeGreaterThan(0);
    await shot('playground');
    expectFailures([]);
  }, 90_000);

  it('shows that request in the request log, with its detail', async () => {
    await nav('Requests').click();
    const log = page.getByRole('table', { name: 'Request log' });
    const apply = async () => {
      await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/requests'),
        page.getByRole('button', { name: /^Apply/ }).click(),
      ]);
      await page.waitForLoadState('networkidle');
    };
    // The key's two requests (the model list, the chat); only the chat is a chat model's.
    await page.getByLabel('Key id').fill(keyId);
    await page.getByLabel('Model').fill('llama-3.1-8b-instruct');
    // The event reaches Postgres through the queue consumer: look again until it is there.
    await waitFor(async () => {
      await apply();
      return (await log.getByRole('link').count()) === 1;
    }, 60_000);
    const row = (await log.getByRole('row').nth(1).textContent())!;
    expect(row).toContain('origin-us-east');
    expect(row).toContain(TENANT);
    // Without filters: the key's model list request too (its event may come a batch later).
    await page.getByRole('button', { name: 'Clear' }).click();
    await waitFor(async () => {
      await apply();
      return (await log.getByRole('link').count()) >= 2;
    }, 60_000);
    await shot('requests');
    await page.getByLabel('Model').fill('llama-3.1-8b-instruct');
    await apply();
    await log.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Routing decision' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain(requestId);
    const detail = (await page.locator('main').textContent())!;
    expect(detail).toContain('origin-us-east in us-east');
    expect(detail).toContain(keyId);
    await page.getByRole('list', { name: 'Timeline' }).waitFor();
    await shot('request-detail');
    expectFailures([]);
  }, 90_000);

  it("counts it in the overview's numbers, split by tenant", async () => {
    await nav('Overview').click();
    await page.getByLabel('Split by').selectOption('tenant');
    const table = page.getByRole('table', { name: 'Totals by tenant' });
    await table.waitFor();
    const cells = await table
      .getByRole('row', { name: new RegExp(`^${TENANT}\\b`) })
      .locator('td')
      .allTextContents();
    expect(cells[0]).toBe('2'); // requests: the model list and the chat
    expect(Number(cells[1]!.replace(/,/g, ''))).toBeGreaterThan(0); // tokens
    await page.getByLabel('Split by').selectOption('model');
    await page.getByRole('table', { name: 'Totals by model' }).waitFor();
    expect(await page.locator('figure.chart canvas').count()).toBeGreaterThanOrEqual(8);
    await shot('overview');
    // The same page at a phone's width: nothing wider than the screen but the tables' own scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100); // let the charts' ResizeObserver redraw before the picture
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      390,
    );
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    expectFailures([]);
  });

  it('shows providers, regions and pools on the health page, and the audit log', async () => {
    await nav('Health').click();
    await page.getByRole('table', { name: 'Providers' }).waitFor();
    for (const region of ['us-east', 'eu-west', 'ap-south'])
      await page.getByRole('table', { name: `Pool vllm in ${region}` }).waitFor();
    await shot('health');
    await nav('Audit').click();
    const audit = page.getByRole('table', { name: 'Audit log' });
    await audit.waitFor();
    expect(
      await audit.getByRole('row', { name: new RegExp(`key\\.create ${keyId}`) }).count(),
    ).toBe(1);
    expect(
      await audit.getByRole('row', { name: new RegExp(`key\\.update ${keyId}`) }).count(),
    ).toBe(1);
    await shot('audit');
    expectFailures([]);
  });

  it('revokes the key, and the playground is refused', async () => {
    await nav('Keys').click();
    const item = page.getByRole('listitem', { name: 'Key console e2e' });
    await item.getByRole('button', { name: 'Revoke' }).click();
    await item.getByText('revoked', { exact: true }).waitFor();
    await nav('Playground').click();
    await page.getByLabel('API key').fill(apiKey);
    await page.getByLabel('Model').fill('llama-3.1-8b-instruct');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('Incorrect API key provided.');
    expectFailures(['401 POST /v1/chat/completions']);
  });

  it('signs out; the admin API then refuses the browser', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    const status = await page.evaluate(async () => (await fetch('/admin/keys')).status);
    expect(status).toBe(401);
    expect(await context.cookies(`${edge}/admin/`)).toEqual([]);
    await page.reload();
    await page.getByLabel('Admin token').waitFor();
    expectFailures(['401 GET /admin/keys', '401 GET /admin/session']);
    expect(consoleErrors).toEqual([]);
  });
});
