/**
 * Client file names are display text only — they never reach a path. Still, they are cleaned so
 * they are safe to show and to put in a Content-Disposition header: the directory part is dropped
 * (`../../etc/passwd` → `passwd`, `C:\x\y.png` → `y.png`), control and bidi-override characters
 * are removed, whitespace is collapsed, and the result is cut to 200 characters (keeping the
 * extension). An empty result becomes `file`.
 */
export const MAX_NAME = 200;

// C0/C1 controls, DEL, and the Unicode bidi/zero-width format characters used to disguise names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function sanitizeName(raw: string | undefined | null): string {
  let name = String(raw ?? "").replace(UNSAFE, "");
  name = name.split(/[/\\]/).pop() ?? "";
  name = name.replace(/\s+/g, " ").trim();
  // "." and ".." (and names made of dots only) mean nothing as a file name.
  if (/^\.+$/.test(name)) name = "";
  const chars = [...name];
  if (chars.length > MAX_NAME) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 ? [...name.slice(dot)] : [];
    name =
      ext.length > 0 && ext.length <= 16
        ? chars.slice(0, MAX_NAME - ext.length).join("") + ext.join("")
        : chars.slice(0, MAX_NAME).join("");
  }
  return name || "file";
}

/** The lowercase extension of a (sanitised) name when it is a plausible one, else null. */
export function nameExtension(name: string): string | null {
  const m = /\.([A-Za-z0-9]{1,10})$/.exec(name);
  return m ? (m[1] as string).toLowerCase() : null;
}
