// Suggestion groups as the editor keeps them between fetches from the server.
import type { NodeSuggestions } from "./api";

/** A group the author dismissed in this editor, offered back with an undo. */
export interface DismissedSuggestion {
  node_id: string;
  text_key: string;
  text: string;
}

/** The listing without one group, node counts adjusted and emptied nodes dropped, so the
 * badge on the graph changes the moment the server has accepted the dismissal. */
export function withoutGroup(items: NodeSuggestions[], nodeId: string, textKey: string): NodeSuggestions[] {
  return items.flatMap((g) => {
    if (g.node_id !== nodeId) return [g];
    const suggestions = g.suggestions.filter((s) => s.text_key !== textKey);
    if (!suggestions.length) return [];
    return [{ ...g, suggestions, count: suggestions.reduce((n, s) => n + s.count, 0) }];
  });
}
