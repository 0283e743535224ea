/** Result of {@link safeMemberPath}: the normalised relative path, or why the name is refused. */
export type MemberPathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Normalises an archive member name into a safe relative path (forward slashes, no empty or
 * "." segments), or says why it is unsafe. Backslash counts as a separator because a name
 * like `..\..\x` is a traversal once a Windows tool or a later join sees it. Only NUL is
 * refused among control characters: newlines and the like are legal POSIX names (the corpus
 * has `new\nline.csv`). Unicode is left byte-exact, never normalised.
 */
export function safeMemberPath(raw: string): MemberPathCheck {
  if (raw.length === 0) return { ok: false, reason: "empty member path" };
  if (raw.includes("\0")) return { ok: false, reason: "NUL byte in member path" };
  const slashed = raw.replaceAll("\\", "/");
  if (slashed.startsWith("//")) return { ok: false, reason: "UNC path (\\\\server\\share)" };
  if (slashed.startsWith("/")) return { ok: false, reason: "absolute member path" };
  // `C:x` (drive-relative) is as dangerous on Windows as `C:/x`.
  if (/^[A-Za-z]:/.test(slashed)) return { ok: false, reason: "absolute member path (drive letter)" };
  const segments = slashed.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) return { ok: false, reason: "parent-directory segment (..) in member path" };
  if (segments.length === 0) return { ok: false, reason: "member path names no file" };
  return { ok: true, path: segments.join("/") };
}
