/**
 * The per-file state machine. A state is committed durably *before* the side
 * effect that relies on it, and every side effect is idempotent, so recovery
 * after a crash re-runs the step that belongs to the recorded state.
 *
 *   discovered ─▶ hashed ─▶ stored ─▶ manifested ─▶ done
 *                   │                     ▲
 *                   └─(duplicate)─────────┘──────▶ duplicate
 *   any pre-stored state ─▶ quarantine ─▶ failed
 */
export type FileState =
  | "discovered"
  | "hashed"
  | "stored"
  | "manifested"
  | "done"
  | "duplicate"
  | "quarantine"
  | "failed";

export const TERMINAL_STATES: readonly FileState[] = ["done", "duplicate", "failed"];

export function isTerminal(state: FileState): boolean {
  return TERMINAL_STATES.includes(state);
}
