/**
 * Sentry's filter globs: `*` any run of characters, `?` one, matched against
 * the whole text, case-insensitively (as Relay's error-message and release
 * filters match).
 */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "is");
}

const compiled = new WeakMap<readonly string[], (text: string) => boolean>();

/** One matcher per list, compiled on first use: config lists live as long as the config. */
export function compileGlobs(globs: readonly string[]): (text: string) => boolean {
  let matcher = compiled.get(globs);
  if (!matcher) {
    const regexes = globs.map(globToRegExp);
    matcher = (text) => regexes.some((re) => re.test(text));
    compiled.set(globs, matcher);
  }
  return matcher;
}
