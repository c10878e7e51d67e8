/**
 * Kconfig text, read and checked. Pure: strings in, findings out.
 *
 * `make olddefconfig` silently drops an option whose dependencies are not met,
 * so the fragment (enclave/kernel/encumber.config) is checked against the
 * FINAL .config: every `CONFIG_X=y` of the fragment must be `=y` there, every
 * `# CONFIG_X is not set` of the fragment must be unset there, any other
 * value must be there as written.
 */

/** Option name → value as written (`y`, `m`, `"text"`, `123`); unset options (`# CONFIG_X is not set`) → `n`. */
export function parseKconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) {
      out.set(unset[1]!, 'n');
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!set) throw new Error(`not a Kconfig line: ${JSON.stringify(raw)}`);
    out.set(set[1]!, set[2]!);
  }
  return out;
}

export interface ConfigRequirements {
  /** Options that must be `=y`. */
  builtIn: string[];
  /** Options that must be unset. */
  unset: string[];
  /** Other options and the exact value they must have (`CONFIG_NR_CPUS=128`). */
  values: Record<string, string>;
}

/** What a fragment demands: each option it names, with the value it gives. */
export function requirementsOf(fragment: string): ConfigRequirements {
  const req: ConfigRequirements = { builtIn: [], unset: [], values: {} };
  for (const [name, value] of parseKconfig(fragment)) {
    if (value === 'y') req.builtIn.push(name);
    else if (value === 'n') req.unset.push(name);
    else req.values[name] = value;
  }
  return req;
}

export interface ConfigProblem {
  option: string;
  /** `y`, `unset`, or the exact value. */
  expected: string;
  /** What the final .config has: a value, or `unset` (absent or `is not set`). */
  actual: string;
}

/** Every requirement the final .config breaks (empty: all met). */
export function configProblems(req: ConfigRequirements, finalConfig: string): ConfigProblem[] {
  const have = parseKconfig(finalConfig);
  const value = (o: string) => {
    const v = have.get(o);
    return v === undefined || v === 'n' ? 'unset' : v;
  };
  const problems: ConfigProblem[] = [];
  for (const o of req.builtIn) if (value(o) !== 'y') problems.push({ option: o, expected: 'y', actual: value(o) });
  for (const o of req.unset) if (value(o) !== 'unset') problems.push({ option: o, expected: 'unset', actual: value(o) });
  for (const [o, v] of Object.entries(req.values)) if (value(o) !== v) problems.push({ option: o, expected: v, actual: value(o) });
  return problems;
}

export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.option}: expected ${p.expected}, the final .config has ${p.actual}`).join('; ');
}
