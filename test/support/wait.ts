/** Polls until the condition holds; tests wait on observable outcomes, never on fixed sleeps alone. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
