/** A Host header or `--allowed-host` value, `name[:port]` or `[v6][:port]` → lower-case name without brackets and the port (null when absent). */
export function splitHost(value: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return null;
  const name = (m[1] as string)
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.$/, "");
  return { name, port: m[2] === undefined ? null : Number(m[2]) };
}
