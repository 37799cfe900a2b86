import type { CheckedPage } from './browser';
import type { RunningServer } from './server';

/** Runs a journey; if it fails, the error ends with what the server printed (warnings and errors), which often says why. */
export async function withServerOutput(server: RunningServer, journey: () => Promise<void>): Promise<void> {
  try {
    await journey();
  } catch (err) {
    if (err instanceof Error) err.message += `\n\nServer output (${server.engines}), last 4000 characters:\n${server.output().slice(-4000) || '(none)'}`;
    throw err;
  }
}

/** Polls `condition` until it holds (or throws after `timeout` ms, naming `what`). */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface SignUpDetails {
  name: string;
  email: string;
  password: string;
  organisation: string;
  jobRole: string;
}

/**
 * Signs up through the form, as a newcomer does. When no organisation has the name typed yet, the form comes back
 * offering to ask for a new one: the newcomer asks for it and sends the form again.
 */
export async function signUpThroughForm(checked: CheckedPage, details: SignUpDetails): Promise<void> {
  const { page } = checked;
  await checked.goto('/sign-up', { expectStatus: 200 });
  await page.getByLabel('Full name').fill(details.name);
  await page.getByLabel('E-mail address').fill(details.email);
  await page.getByLabel('Password').fill(details.password);
  await page.getByLabel('Organisation').fill(details.organisation);
  await page.getByLabel('Job role').fill(details.jobRole);
  await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
  const askForNew = page.getByLabel(`Ask for a new organisation called “${details.organisation}”`);
  if (await askForNew.count()) {
    await askForNew.check();
    await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
  }
  if (new URL(page.url()).pathname === '/sign-up') throw new Error(`sign-up did not go through: ${await page.locator('.nhsuk-error-summary').textContent().catch(() => '')}`);
}
