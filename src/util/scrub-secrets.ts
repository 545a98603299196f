/**
 * Removing secrets from text before it is printed or logged: the password of a PostgreSQL
 * connection string, in URL form or as `password=...` keyword pairs.
 */

/** Removes `postgres(ql)://user:pass@` passwords and `password=...` pairs from any text. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^\s:@/]*):[^\s/]*@/gi, '$1:***@')
    .replace(/((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi, '$1***');
}
