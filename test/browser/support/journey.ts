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
