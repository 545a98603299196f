/** scrubSecrets removes connection-string passwords from any text before it is printed. */
import { describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../src/util/scrub-secrets.js';

describe('scrubSecrets', () => {
  it('masks the password of a postgres URL and of password= pairs, and nothing else', () => {
    expect(scrubSecrets('cannot reach postgres://app:s3cret@db:5432/x')).toBe('cannot reach postgres://app:***@db:5432/x');
    expect(scrubSecrets('postgresql://u:p@h/db and POSTGRES://v:q@h/db')).toBe('postgresql://u:***@h/db and POSTGRES://v:***@h/db');
    expect(scrubSecrets("host=h password='a b\\'c' sslpassword=k dbname=x")).toBe('host=h password=*** sslpassword=*** dbname=x');
    expect(scrubSecrets('postgres://h/db?password=secret&sslmode=require')).toBe('postgres://h/db?password=***&sslmode=require');
    expect(scrubSecrets('nothing secret here')).toBe('nothing secret here');
  });
});
