import type { INestApplicationContext } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';

/**
 * Demo content for the embedded default: one account per role, created at the first start only.
 * Passwords are random and shown once, in the console, so no known password ever ships with the code.
 */
export async function seedDemo(app: INestApplicationContext, publicUrl: string, print: (line: string) => void): Promise<void> {
  const accounts = await app.get(AccountsService).seedDemoAccounts();
  if (!accounts.length) return;
  print('');
  print(`Demo accounts (shown once; sign in at ${publicUrl}/sign-in):`);
  for (const { role, email, password } of accounts) print(`  ${role.padEnd(12)} ${email.padEnd(34)} ${password}`);
  print('');
}
