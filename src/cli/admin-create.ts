import 'reflect-metadata';
import { createInterface } from 'node:readline/promises';
import { NestFactory } from '@nestjs/core';
import { validate } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { SignUpDto } from '../accounts/accounts.dto';
import { AccountsService } from '../accounts/accounts.service';
import { passwordProblem } from '../accounts/password-policy';
import { AppModule } from '../app.module';
import { ConfigError, loadConfig } from '../config/config';
import { fieldErrorsOf } from '../common/forms';

const USAGE = 'Usage: npm run admin:create -- --email EMAIL --name "FULL NAME" [--password PASSWORD] [--organisation NAME]\n(asks for anything left out; the password can also come from ADMIN_PASSWORD)';

function flag(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

async function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY) throw new Error(`Missing ${question.replace(/:\s*$/, '')}.\n${USAGE}`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => (s.includes(question) ? write.call(rl, s) : undefined);
  }
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stdout.write('\n');
  return answer.trim();
}

/** `npm run admin:create`: creates the first administrator, or makes an existing account an administrator. */
async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help')) return console.log(USAGE);
  const config = { ...loadConfig(), role: 'web' as const, demoData: false };
  const input = plainToInstance(SignUpDto, {
    email: flag(args, 'email') ?? (await ask('E-mail: ')),
    name: flag(args, 'name') ?? (await ask('Full name: ')),
    password: flag(args, 'password') ?? process.env.ADMIN_PASSWORD ?? (await ask('Password: ', true)),
    organisation: flag(args, 'organisation') ?? config.academyName,
    jobRole: 'Academy administrator',
  });
  const errors = fieldErrorsOf(await validate(input));
  // The same check as sign-up, password change and reset (the service applies it too): said before connecting to anything.
  const weak = errors.password || errors.email || errors.name ? null : passwordProblem(input.password, input);
  if (weak) errors.password = weak;
  if (Object.keys(errors).length) throw new Error(Object.entries(errors).map(([field, message]) => `${field}: ${message}`).join('\n'));
  const app = await NestFactory.createApplicationContext(AppModule.register(config), { logger: ['error'] });
  try {
    const outcome = await app.get(AccountsService).createOrPromoteAdmin(input);
    console.log(outcome === 'created' ? `Created administrator ${input.email}` : `${input.email} is now an administrator (password updated, signed out everywhere)`);
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
