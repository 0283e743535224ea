import { type FormEvent, useEffect, useRef, useState } from "react";

/** Asks for the API token once per session (the server said 401); kept in sessionStorage by the client. */
export function TokenPrompt({ reason, onSubmit }: { reason: "missing" | "rejected"; onSubmit(token: string): void }) {
  const [value, setValue] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = value.trim();
    if (t) onSubmit(t);
  };
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="token-title">
        <h2 id="token-title">API token needed</h2>
        <p>
          {reason === "rejected"
            ? "The server refused that token. Enter the token sluice was started with (SLUICE_API_TOKEN)."
            : "This sluice asks for a token. Enter the token it was started with (SLUICE_API_TOKEN)."}
        </p>
        <form onSubmit={submit}>
          <label htmlFor="token-input">API token</label>
          <input
            id="token-input"
            ref={input}
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
          <button type="submit" disabled={!value.trim()}>
            Continue
          </button>
        </form>
        <p className="hint">It is kept for this browser tab only, and sent only to this server.</p>
      </div>
    </div>
  );
}
