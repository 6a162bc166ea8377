import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/** One regex the source code builds, with where it stands. */
export interface FoundRegex {
  /** `src/scrub/builtins.ts:42`. */
  where: string;
  source: string;
  flags: string;
}

/** A `new RegExp(...)` whose pattern is not a constant the scanner can fold: it must be covered another way. */
export interface DynamicRegex {
  where: string;
  /** The file, and the text of the pattern argument, e.g. `src/scrub/compile.ts new RegExp([SENSITIVE_KEY_SOURCE, ...fields].join("|"))`. */
  site: string;
}

export interface Collected {
  found: FoundRegex[];
  dynamic: DynamicRegex[];
}

const STRING_AS_REGEX = new Set(["match", "matchAll", "search"]);

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/**
 * Every regex literal and every `new RegExp(...)` / `RegExp(...)` in the
 * TypeScript files under `dir`. Pattern arguments are folded when they are
 * made of string literals, templates, `+`, `[...].join(sep)` and `const`s
 * bound to those (in the same file, or imported from another scanned file);
 * anything else is returned as dynamic.
 */
export function collectRegexes(root: string, dir: string): Collected {
  const files = filesUnder(join(root, dir));
  const sources = new Map(files.map((f) => [f, ts.createSourceFile(f, readFileSync(f, "utf8"), ts.ScriptTarget.ES2022, true)]));
  const found: FoundRegex[] = [];
  const dynamic: DynamicRegex[] = [];

  /** Top-level `const NAME = <expr>` of each file, and the files its imports come from. */
  const consts = new Map<string, Map<string, ts.Expression>>();
  const imports = new Map<string, Map<string, string>>();
  for (const [file, sf] of sources) {
    const mine = new Map<string, ts.Expression>();
    const from = new Map<string, string>();
    for (const statement of sf.statements) {
      if (ts.isVariableStatement(statement) && statement.declarationList.flags & ts.NodeFlags.Const) {
        for (const decl of statement.declarationList.declarations) {
          if (ts.isIdentifier(decl.name) && decl.initializer) mine.set(decl.name.text, decl.initializer);
        }
      }
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith(".")) {
        const target = resolveImport(file, statement.moduleSpecifier.text, sources);
        const named = statement.importClause?.namedBindings;
        if (target && named && ts.isNamedImports(named)) {
          for (const element of named.elements) from.set(element.name.text, `${target}#${(element.propertyName ?? element.name).text}`);
        }
      }
    }
    consts.set(file, mine);
    imports.set(file, from);
  }

  const fold = (expr: ts.Expression, file: string, depth = 0): string | undefined => {
    if (depth > 20) return undefined;
    if (ts.isParenthesizedExpression(expr)) return fold(expr.expression, file, depth + 1);
    if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return expr.text;
    if (ts.isTemplateExpression(expr)) {
      let text = expr.head.text;
      for (const span of expr.templateSpans) {
        const part = fold(span.expression, file, depth + 1);
        if (part === undefined) return undefined;
        text += part + span.literal.text;
      }
      return text;
    }
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const left = fold(expr.left, file, depth + 1);
      const right = fold(expr.right, file, depth + 1);
      return left === undefined || right === undefined ? undefined : left + right;
    }
    if (ts.isIdentifier(expr)) {
      const local = consts.get(file)?.get(expr.text);
      if (local) return fold(local, file, depth + 1);
      const imported = imports.get(file)?.get(expr.text);
      if (imported) {
        const [target, name] = imported.split("#") as [string, string];
        const init = consts.get(target)?.get(name);
        return init ? fold(init, target, depth + 1) : undefined;
      }
      return undefined;
    }
    // [a, b, c].join(sep)
    if (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression) && expr.expression.name.text === "join") {
      const target = expr.expression.expression;
      const array = ts.isArrayLiteralExpression(target) ? target : ts.isIdentifier(target) ? constArray(target, file) : undefined;
      if (!array) return undefined;
      const separator = expr.arguments[0] === undefined ? "," : fold(expr.arguments[0], file, depth + 1);
      if (separator === undefined) return undefined;
      const parts = array.elements.map((e) => (ts.isSpreadElement(e) ? undefined : fold(e, file, depth + 1)));
      return parts.every((p) => p !== undefined) ? parts.join(separator) : undefined;
    }
    return undefined;
  };
  const constArray = (id: ts.Identifier, file: string): ts.ArrayLiteralExpression | undefined => {
    const init = consts.get(file)?.get(id.text);
    return init && ts.isArrayLiteralExpression(init) ? init : undefined;
  };

  for (const [file, sf] of sources) {
    const name = relative(root, file);
    const visit = (node: ts.Node): void => {
      const where = () => `${name}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
      if (ts.isRegularExpressionLiteral(node)) {
        const text = node.text;
        const slash = text.lastIndexOf("/");
        found.push({ where: where(), source: text.slice(1, slash), flags: text.slice(slash + 1) });
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === "RegExp") {
        const [patternArg, flagsArg] = node.arguments ?? [];
        const source = patternArg ? fold(patternArg, file) : undefined;
        const flags = flagsArg === undefined ? "" : fold(flagsArg, file);
        if (source !== undefined && flags !== undefined) found.push({ where: where(), source, flags });
        else dynamic.push({ where: where(), site: `${name} RegExp(${node.arguments?.map((a) => a.getText(sf)).join(", ")})` });
      }
      // `text.match("a+")`, `.search`, `.matchAll`: a string argument is compiled as a regex too.
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && STRING_AS_REGEX.has(node.expression.name.text)) {
        const [arg] = node.arguments;
        if (arg && !ts.isRegularExpressionLiteral(arg)) {
          const source = fold(arg, file);
          if (source !== undefined) found.push({ where: where(), source, flags: "" });
          else if (ts.isStringLiteralLike(arg) || ts.isTemplateExpression(arg)) dynamic.push({ where: where(), site: `${name} .${node.expression.name.text}(${arg.getText(sf)})` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { found, dynamic };
}

function resolveImport(from: string, spec: string, sources: Map<string, unknown>): string | undefined {
  const base = join(from, "..", spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) if (sources.has(candidate)) return candidate;
  return undefined;
}
