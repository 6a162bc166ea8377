import { ALNUM_CHARS, charSet, isSpace, type Spans } from "./chars";

const isUser = charSet(`${ALNUM_CHARS}%_.~-`);
/** `[^@\s/]`. */
const isPassword = (c: number): boolean => c !== 64 && c !== 47 && !isSpace(c);

/**
 * Credentials in URLs, `//user:password@host`, in one pass: each `//` is read
 * forward over the user name and the password, neither of which may hold a
 * `/`, so no character is read for two `//`s. `part` picks what is returned:
 * the whole `user:password` or the password alone (non-empty).
 *
 * The scheme before `//` is not required (a protocol-relative URL carries
 * credentials just the same), so `HTTP://u:p@h` and `//u:p@h` count too.
 */
export function findUrlCredentials(text: string, part: "userinfo" | "password"): Spans | undefined {
  let spans: Spans | undefined;
  const n = text.length;
  let from = 0;
  for (let slashes = text.indexOf("//"); slashes >= 0; slashes = text.indexOf("//", from)) {
    const user = slashes + 2;
    let i = user;
    while (i < n && isUser(text.charCodeAt(i))) i++;
    if (i === user) {
      from = slashes + 1;
      continue;
    }
    let password = -1;
    if (text.charCodeAt(i) === 58 /* : */) {
      password = ++i;
      while (i < n && isPassword(text.charCodeAt(i))) i++;
    }
    if (text.charCodeAt(i) === 64 /* @ */) {
      if (part === "userinfo") (spans ??= []).push(user, i);
      else if (password >= 0 && i > password) (spans ??= []).push(password, i);
      from = i + 1;
    } else {
      from = i;
    }
  }
  return spans;
}
