// Suggestion groups as the editor keeps them between fetches from the server.
import type { DismissedGroup, NodeDismissed, NodeSuggestions } from "./api";

/** A group the author dismissed in this editor, offered back with an undo. */
export interface DismissedSuggestion {
  node_id: string;
  text_key: string;
  text: string;
}

/** The listing without one group, node counts adjusted and emptied nodes dropped, so the
 * badge on the graph changes the moment the server has accepted the dismissal. */
export function withoutGroup<T extends NodeSuggestions>(items: T[], nodeId: string, textKey: string): T[] {
  return items.flatMap((g) => {
    if (g.node_id !== nodeId) return [g];
    const suggestions = g.suggestions.filter((s) => s.text_key !== textKey);
    if (!suggestions.length) return [];
    return [{ ...g, suggestions, count: suggestions.reduce((n, s) => n + s.count, 0) }];
  });
}

/** The groups dismissed at one node, as the server lists them, other than those this editor
 * still offers back with an undo (one way back per group is enough). */
export function dismissedAt(items: NodeDismissed[], nodeId: string, undoable: DismissedSuggestion[]): DismissedGroup[] {
  const offered = new Set(undoable.filter((d) => d.node_id === nodeId).map((d) => d.text_key));
  return (items.find((g) => g.node_id === nodeId)?.suggestions || []).filter((s) => !offered.has(s.text_key));
}
