import { createHash } from 'node:crypto';

/** An Open Badges 2.0 hashed e-mail recipient: `sha256$` and the hex SHA-256 of the address followed by the salt. */
export const hashedRecipient = (email: string, salt: string) => `sha256$${createHash('sha256').update(email + salt).digest('hex')}`;
