/**
 * `.env.example` lists exactly the environment variables `src/` reads. The sources are parsed with
 * the TypeScript compiler and every read is collected:
 *
 * - `process.env.NAME`, `process.env['NAME']`, `env.NAME`, `env['NAME']` (any object named `env`,
 *   such as a parameter holding the environment or a copy of `process.env`), and destructuring
 *   (`const { NAME } = env`); assignments (`env['NAME'] = ...`) are writes, not reads;
 * - helpers: a function that reads `env[param]` with one of its parameters, or passes a parameter
 *   on to such a helper (`int(name)` calling `text(name)`), reads every string literal it is
 *   called with in that position (`int('PORT', ...)`, `intFromEnv(env, 'PGPOOL_MAX', ...)`).
 *
 * A dynamic read this cannot resolve fails the test, so a new way of reading variables is noticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `env` or `process.env` (or `process?.env`). */
function isEnvObject(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return node.text === 'env';
  return ts.isPropertyAccessExpression(node) && node.name.text === 'env' && ts.isIdentifier(node.expression) && node.expression.text === 'process';
}

function isAssignmentTarget(node: ts.Node): boolean {
  const parent = node.parent;
  return ts.isBinaryExpression(parent) && parent.left === node && parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
}

type FunctionNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration;

/** The name a function is called by: its own, or the variable or property it is assigned to. */
function functionName(fn: FunctionNode): string | undefined {
  if (fn.name !== undefined && ts.isIdentifier(fn.name)) return fn.name.text;
  const parent = fn.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && ts.isIdentifier(parent.name)) return parent.name.text;
  return undefined;
}

function enclosingFunction(node: ts.Node): FunctionNode | undefined {
  for (let at: ts.Node | undefined = node.parent; at !== undefined; at = at.parent) {
    if (ts.isFunctionDeclaration(at) || ts.isFunctionExpression(at) || ts.isArrowFunction(at) || ts.isMethodDeclaration(at)) return at;
  }
  return undefined;
}

/** Index of `identifier` among the parameters of its enclosing function, with that function's name. */
function parameterOf(identifier: ts.Identifier): { name: string; index: number } | undefined {
  const fn = enclosingFunction(identifier);
  if (fn === undefined) return undefined;
  const index = fn.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === identifier.text);
  const name = functionName(fn);
  return index === -1 || name === undefined ? undefined : { name, index };
}

interface Scan {
  names: Map<string, string[]>;
  unresolved: string[];
}

function scanFile(path: string, scan: Scan): void {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const where = (node: ts.Node) => `${relative(repo, path)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const add = (name: string, node: ts.Node) => scan.names.set(name, [...(scan.names.get(name) ?? []), where(node)]);
  const helpers = new Set<string>(); // "name/index"
  const calls: ts.CallExpression[] = [];
  const dynamic: { node: ts.ElementAccessExpression; key: ts.Expression }[] = [];

  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isEnvObject(node.expression) && /^[A-Z][A-Z0-9_]*$/.test(node.name.text)) {
      if (!isAssignmentTarget(node)) add(node.name.text, node);
    } else if (ts.isElementAccessExpression(node) && isEnvObject(node.expression)) {
      const key = node.argumentExpression;
      if (ts.isStringLiteralLike(key)) {
        if (!isAssignmentTarget(node)) add(key.text, node);
      } else {
        dynamic.push({ node, key });
      }
    } else if (ts.isVariableDeclaration(node) && ts.isObjectBindingPattern(node.name) && node.initializer !== undefined && isEnvObject(node.initializer)) {
      for (const element of node.name.elements) {
        const key = element.propertyName ?? element.name;
        if (ts.isIdentifier(key)) add(key.text, element);
      }
    } else if (ts.isCallExpression(node)) {
      calls.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);

  for (const { node, key } of dynamic) {
    const param = ts.isIdentifier(key) ? parameterOf(key) : undefined;
    if (param === undefined) scan.unresolved.push(`${where(node)}: env[${key.getText()}]`);
    else helpers.add(`${param.name}/${param.index}`);
  }
  // Functions that pass one of their parameters on to a helper are helpers too.
  for (let grew = true; grew; ) {
    grew = false;
    for (const call of calls) {
      if (!ts.isIdentifier(call.expression)) continue;
      call.arguments.forEach((arg, index) => {
        if (!helpers.has(`${(call.expression as ts.Identifier).text}/${index}`) || !ts.isIdentifier(arg)) return;
        const param = parameterOf(arg);
        if (param !== undefined && !helpers.has(`${param.name}/${param.index}`)) {
          helpers.add(`${param.name}/${param.index}`);
          grew = true;
        }
      });
    }
  }
  for (const call of calls) {
    if (!ts.isIdentifier(call.expression)) continue;
    call.arguments.forEach((arg, index) => {
      if (!helpers.has(`${(call.expression as ts.Identifier).text}/${index}`)) return;
      if (ts.isStringLiteralLike(arg)) add(arg.text, arg);
      else if (!ts.isIdentifier(arg) || parameterOf(arg) === undefined) scan.unresolved.push(`${where(arg)}: ${call.getText().slice(0, 80)}`);
    });
  }
}

function scanSources(): Scan {
  const scan: Scan = { names: new Map(), unresolved: [] };
  for (const file of sourceFiles(join(repo, 'src'))) scanFile(file, scan);
  return scan;
}

/** Names of `NAME=value` lines, commented out or not. */
function exampleNames(): Set<string> {
  const text = readFileSync(join(repo, '.env.example'), 'utf8');
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string));
}

describe('.env.example', () => {
  const scan = scanSources();
  const listed = exampleNames();

  it('resolves every environment read in src/', () => {
    expect(scan.unresolved).toEqual([]);
    // The scanner itself: a direct read, a helper read, a two-level helper read, a read of a copy.
    for (const name of ['USE_MOCK_DATABASE', 'PGPOOL_MAX', 'PORT', 'NODE_ENV', 'PGOPTIONS']) expect(scan.names.has(name), name).toBe(true);
  });

  it('lists every variable src/ reads', () => {
    const missing = [...scan.names].filter(([name]) => !listed.has(name)).map(([name, at]) => `${name} (read at ${at.join(', ')})`);
    expect(missing, 'add these to .env.example').toEqual([]);
  });

  it('lists no variable that src/ does not read', () => {
    expect([...listed].filter((name) => !scan.names.has(name)), 'remove these from .env.example').toEqual([]);
  });
});
