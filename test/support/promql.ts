/**
 * The metric names a PromQL expression reads, found by tokenizing it (strings, numbers and
 * durations, identifiers, punctuation) and walking the tokens with PromQL's grammar in mind:
 * label names inside `{...}`, grouping labels after by/without/on/ignoring/group_left/group_right,
 * ranges inside `[...]`, function and aggregation names before `(`, keywords and Grafana
 * variables are not metrics; `{__name__="x"}` names metric x. An unknown function or an
 * unbalanced bracket is an error, so a typo cannot pass as "no metrics".
 */

const FUNCTIONS = new Set(
  `abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min count_over_time day_of_month day_of_week
   day_of_year days_in_month delta deriv exp floor histogram_avg histogram_count histogram_fraction histogram_quantile
   histogram_stddev histogram_stdvar histogram_sum holt_winters double_exponential_smoothing hour idelta increase irate
   label_join label_replace last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month
   predict_linear present_over_time quantile_over_time rate resets round scalar sgn sort sort_desc sort_by_label
   sort_by_label_desc sqrt stddev_over_time stdvar_over_time sum_over_time time timestamp vector year
   acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi`.split(/\s+/),
);
const AGGREGATIONS = new Set('sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio'.split(' '));
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'start', 'end']);

/** A token of a PromQL expression. */
export interface Token {
  kind: 'string' | 'number' | 'identifier' | 'variable' | 'punct' | 'operator';
  text: string;
}

/** Splits an expression into tokens; throws on a character PromQL does not have. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const rules: Array<[Token['kind'] | null, RegExp]> = [
    [null, /^\s+/],
    [null, /^#[^\n]*/],
    ['string', /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/],
    ['variable', /^\$(?:\{[^}]+\}|\w+)/],
    ['number', /^(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?:(?:ms|[smhdwy])(?:[0-9]+(?:ms|[smhdwy]))*)?|\.[0-9]+)/],
    ['identifier', /^[a-zA-Z_:][a-zA-Z0-9_:]*/],
    ['operator', /^(?:==|!=|>=|<=|=~|!~|[-+*/%^<>=@])/],
    ['punct', /^[(){}[\],:]/],
  ];
  let rest = expr;
  while (rest.length > 0) {
    const rule = rules.find(([, pattern]) => pattern.test(rest));
    if (rule === undefined) throw new Error(`unexpected character ${JSON.stringify(rest[0])} in ${expr}`);
    const text = (rule[1].exec(rest) as RegExpExecArray)[0];
    if (rule[0] !== null) tokens.push({ kind: rule[0], text });
    rest = rest.slice(text.length);
  }
  return tokens;
}

/** The metric names `expr` reads, sorted and unique. */
export function metricNames(expr: string): string[] {
  const tokens = tokenize(expr);
  const names = new Set<string>();
  const closing: string[] = [];
  const peek = (i: number) => tokens[i]?.text;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    if (token.kind === 'punct') {
      if (token.text === '(' || token.text === '{' || token.text === '[') {
        closing.push({ '(': ')', '{': '}', '[': ']' }[token.text] as string);
        if (token.text === '{') i = labelMatchers(tokens, i + 1, names) - 1;
        if (token.text === '[') i = skipTo(tokens, i + 1, ']') - 1;
      } else if (token.text === ')' || token.text === '}' || token.text === ']') {
        if (closing.pop() !== token.text) throw new Error(`unbalanced ${token.text} in ${expr}`);
      }
      continue;
    }
    if (token.kind !== 'identifier') continue;
    const word = token.text;
    if (GROUPING.has(word)) {
      if (peek(i + 1) === '(') i = skipTo(tokens, i + 2, ')');
      continue;
    }
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (peek(i + 1) === '(') {
      if (!FUNCTIONS.has(word) && !AGGREGATIONS.has(word)) throw new Error(`unknown function ${word} in ${expr}`);
      continue;
    }
    // An aggregation with its grouping first: `sum by (le) (...)`.
    if (AGGREGATIONS.has(word) && GROUPING.has(peek(i + 1) ?? '')) continue;
    names.add(word);
  }
  if (closing.length > 0) throw new Error(`unclosed ${closing.join('')} in ${expr}`);
  return [...names].sort();
}

/** Reads label matchers up to the closing `}`; a `__name__` matcher names a metric. Returns the index of the `}`. */
function labelMatchers(tokens: Token[], start: number, names: Set<string>): number {
  for (let i = start; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    if (token.text === '}') return i;
    if (token.kind === 'identifier' && token.text === '__name__' && tokens[i + 1]?.text === '=' && tokens[i + 2]?.kind === 'string') {
      names.add((tokens[i + 2] as Token).text.slice(1, -1));
    }
  }
  throw new Error('unclosed {');
}

/** The index of the next `close` from `start`; throws when there is none. */
function skipTo(tokens: Token[], start: number, close: string): number {
  for (let i = start; i < tokens.length; i += 1) if (tokens[i]?.text === close) return i;
  throw new Error(`unclosed ${close}`);
}
