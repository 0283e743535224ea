import type { Status } from "../api/types";

const LABEL: Record<Status, string> = {
  waiting: "waiting",
  processing: "processing",
  processed: "processed",
  partial: "partial",
  failed: "failed",
  duplicate: "duplicate",
};

/** Colour plus the word itself: status is never told by colour alone. */
export function StatusBadge({ status }: { status: Status }) {
  return <span className={`badge badge-${status}`}>{LABEL[status]}</span>;
}
