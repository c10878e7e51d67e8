/**
 * The import graph of src/, read with the TypeScript compiler's own
 * pre-processor (every static, type-only and dynamic import), for the layer
 * test (test/architecture/layers.test.ts) and for docs/architecture.md
 * (`npm run architecture` writes its graph section).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SRC = join(REPO, 'src');

/**
 * The layers, lowest first: a folder may import only from its own layer's
 * folder or a lower one. `errors.ts` (the one error base) sits under all of them.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['crypto'],
  ['data'],
  ['http'],
  ['plc'],
  ['attestation'],
  ['policy'],
  ['verifier'],
  // The verifier's network edge: an at:// record and its proof, fetched for the CLI and the page.
  ['network'],
  ['member'],
  ['enclave'],
  ['server'],
  ['web'],
  // Program entry points that are not the CLI (the enclave image's).
  ['main'],
  ['cli'],
];

/** Folders whose code must run unchanged in a browser and do no I/O (sub-folders listed are the exceptions). */
export const PURE: readonly string[] = ['crypto', 'data', 'plc', 'policy', 'attestation', 'verifier'];
export const PURE_EXCEPTIONS: readonly string[] = [
  // The directory client: the PLC code's I/O edge.
  'plc/directory',
  // libsecp256k1's native binding (k256 verify backend, the enclave key's signing); installed by the Node edges.
  'crypto/k256-libsecp256k1',
];

/**
 * Files that may reach node:crypto at run time through `process.getBuiltinModule`
 * (never an import, so a browser bundle has no Node dependency): an optional
 * native fast path in front of a pure implementation that applies the same
 * rules and gives the same answers (differential tests in test/crypto and
 * test/attestation).
 */
export const NATIVE_FAST_PATHS: readonly string[] = ['crypto/verify.ts', 'attestation/x509/ecdsa.ts'];

export interface Edge {
  from: string;
  to: string;
  /** The specifier as written. */
  specifier: string;
  /** Erased at run time (`import type`, `typeof import()`). */
  typeOnly: boolean;
}

export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.ts$/.test(name) && !/\.d\.ts$/.test(name)) out.push(p);
  }
  return out;
}

/** src-relative path with forward slashes. */
export const rel = (p: string): string => relative(SRC, p).split(sep).join('/');

/** The top-level unit a file belongs to: its first folder under src/, or the file itself. */
export const unitOf = (relPath: string): string => (relPath.includes('/') ? relPath.slice(0, relPath.indexOf('/')) : relPath);

/** Every import of a file: static, re-export, dynamic `import()` and type-only (`import type`, `typeof import()`). */
export function importsOf(file: string): { specifier: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ specifier: node.argument.literal.text, typeOnly: true });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      out.push({ specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function importEdges(files = sourceFiles()): { edges: Edge[]; external: Map<string, { specifier: string; typeOnly: boolean }[]> } {
  const edges: Edge[] = [];
  const external = new Map<string, { specifier: string; typeOnly: boolean }[]>();
  for (const file of files) {
    const from = rel(file);
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (specifier.startsWith('.')) {
        edges.push({ from, to: rel(resolve(dirname(file), specifier)), specifier, typeOnly });
      } else {
        if (!external.has(from)) external.set(from, []);
        external.get(from)!.push({ specifier, typeOnly });
      }
    }
  }
  return { edges, external };
}

export function layerOf(unit: string): number {
  const i = LAYERS.findIndex((l) => l.includes(unit));
  if (i < 0) throw new Error(`src/${unit} is in no layer: add it to LAYERS in tools/import-graph.ts`);
  return i;
}

/** Strongly connected components with more than one node (or a self-loop): the cycles. */
export function cycles(nodes: Iterable<string>, edges: Iterable<[string, string]>): string[][] {
  const adj = new Map<string, string[]>();
  for (const n of nodes) adj.set(n, []);
  const self = new Set<string>();
  for (const [a, b] of edges) {
    if (a === b) self.add(a);
    adj.get(a)?.push(b);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || self.has(v)) out.push(scc.sort());
    }
  };
  for (const n of adj.keys()) if (!idx.has(n)) visit(n);
  return out;
}

/** Folder → folder edges with the number of imports behind each. */
export function unitGraph(edges: Edge[]): Map<string, Map<string, number>> {
  const g = new Map<string, Map<string, number>>();
  for (const e of edges) {
    const a = unitOf(e.from);
    const b = unitOf(e.to);
    if (a === b || e.to.startsWith('..')) continue;
    if (!g.has(a)) g.set(a, new Map());
    g.get(a)!.set(b, (g.get(a)!.get(b) ?? 0) + 1);
  }
  return g;
}

/** The graph as a Mermaid flowchart, folders top (shells) to bottom (core), one arrow per folder pair. */
export function mermaid(edges: Edge[]): string {
  const g = unitGraph(edges);
  const units = [...new Set(edges.filter((e) => !e.to.startsWith('..')).flatMap((e) => [unitOf(e.from), unitOf(e.to)]))].sort((a, b) => layerOf(b) - layerOf(a) || a.localeCompare(b));
  const id = (u: string) => u.replace(/\W/g, '_');
  const lines = ['flowchart TD'];
  for (const u of units) lines.push(`  ${id(u)}["${u}${u.endsWith('.ts') ? '' : '/'}"]`);
  for (const a of units) {
    for (const [b, n] of [...(g.get(a) ?? new Map<string, number>())].sort((x, y) => layerOf(y[0]) - layerOf(x[0]) || x[0].localeCompare(y[0]))) {
      lines.push(`  ${id(a)} -->|${n}| ${id(b)}`);
    }
  }
  return lines.join('\n');
}

/** Globals that do I/O, read the process or the clock's timers: not in pure code. */
export const IMPURE_GLOBALS: ReadonlySet<string> = new Set([
  'process',
  'fetch',
  'Buffer',
  'require',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'XMLHttpRequest',
  'WebSocket',
]);

/** Uses of IMPURE_GLOBALS as free identifiers (not `x.fetch`, not a property name or a declaration of one's own). */
export function impureGlobalUses(file: string): { name: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const declared = new Set<string>();
  const uses: { name: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node)) && node.name && ts.isIdentifier(node.name)) {
      declared.add(node.name.text);
    }
    if (ts.isIdentifier(node) && IMPURE_GLOBALS.has(node.text)) {
      const p = node.parent;
      const isMemberName = (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isPropertyAssignment(p) && p.name === node) ||
        (ts.isPropertySignature(p) && p.name === node) || (ts.isMethodDeclaration(p) && p.name === node) ||
        (ts.isPropertyDeclaration(p) && p.name === node) || ts.isShorthandPropertyAssignment(p) === false && ts.isBindingElement(p) && p.propertyName === node;
      const isTypeOnly = ts.isTypeQueryNode(p) || ts.isTypeReferenceNode(p) || ts.isQualifiedName(p);
      if (!isMemberName && !isTypeOnly) uses.push({ name: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses.filter((u) => !declared.has(u.name));
}

export function isPureFile(relPath: string): boolean {
  return PURE.includes(unitOf(relPath)) && !PURE_EXCEPTIONS.some((x) => relPath === `${x}.ts` || relPath.startsWith(`${x}/`));
}

/** Node built-ins by bare name or node: prefix. */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'url', 'util', 'stream', 'worker_threads', 'zlib', 'buffer', 'events', 'process', 'timers', 'dgram', 'tls', 'dns'].includes(specifier.split('/')[0]!);
}
