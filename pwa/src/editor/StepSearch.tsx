// The search box in the editor's toolbar: type part of a step's title, id or text, pick a match, and
// the editor selects that step and centres the graph on it.
import { forwardRef, useId, useMemo, useState } from "react";
import type { TreeNode } from "./model";
import { findSteps } from "./search";

export const StepSearch = forwardRef<HTMLInputElement, { nodes: Record<string, TreeNode>; onPick: (id: string) => void }>(function StepSearch({ nodes, onPick }, ref) {
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const matches = useMemo(() => (open ? findSteps(nodes, query) : []), [nodes, query, open]);
  const shown = open && query.trim() !== "";
  const pick = (id: string) => {
    setOpen(false);
    onPick(id);
  };
  return (
    <div className="relative w-full sm:w-56 xl:w-72" data-testid="step-search">
      <input
        ref={ref}
        type="search"
        role="combobox"
        aria-label="Find a step"
        aria-expanded={shown}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={shown && matches[active] ? `${listId}-${active}` : undefined}
        placeholder="Find a step (title, id or text)   /"
        autoComplete="off"
        className="block w-full rounded-lg border-0 bg-slate-50 px-3 py-1.5 text-sm text-slate-900 ring-1 ring-slate-300 ring-inset placeholder:text-slate-400 focus:ring-2 focus:ring-indigo-600 dark:bg-slate-950 dark:text-slate-100 dark:ring-slate-700"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            setOpen(true);
            if (matches.length) setActive((a) => (a + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
          } else if (e.key === "Enter" && matches[active]) {
            e.preventDefault();
            pick(matches[active].id);
          } else if (e.key === "Escape") {
            setQuery("");
            setOpen(false);
          }
        }}
      />
      {shown && (
        <ul id={listId} role="listbox" aria-label="Matching steps" className="absolute top-full left-0 z-40 mt-1 max-h-80 w-80 max-w-[calc(100vw-1.5rem)] overflow-y-auto rounded-xl border border-slate-200 bg-white p-1 shadow-xl dark:border-slate-700 dark:bg-slate-900">
          {matches.length === 0 && <li className="px-2.5 py-2 text-sm text-slate-500">No step matches “{query.trim()}”.</li>}
          {matches.map((m, i) => (
            <li
              key={m.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              data-step-id={m.id}
              className={`cursor-pointer rounded-lg px-2.5 py-1.5 ${i === active ? "bg-indigo-50 dark:bg-indigo-950" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`}
              // Before the input's blur closes the list.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(m.id);
              }}
            >
              <span className="block truncate text-sm font-semibold text-slate-900 dark:text-slate-100">{m.title || "Untitled step"}</span>
              <span className="block truncate font-mono text-[11px] text-slate-500">
                {m.id}
                {m.where === "text" ? " · found in its text" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
});
