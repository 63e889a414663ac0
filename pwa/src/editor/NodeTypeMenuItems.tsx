// The step types offered as menu items, in one place: the toolbar's "+ Step" menu and the
// graph's "Create the next step here" menu list the same types, the same way.
import { NODE_TYPES, TYPE_INFO, type NodeType } from "./model";

export function NodeTypeMenuItems({ onPick }: { onPick: (type: NodeType) => void }) {
  return (
    <>
      {NODE_TYPES.map((t) => (
        <button
          key={t}
          type="button"
          role="menuitem"
          className="flex w-full items-center gap-2 rounded-lg px-2.5 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
          onClick={() => onPick(t)}
        >
          <span className={`h-2 w-2 rounded-full ${TYPE_INFO[t].dot}`} />
          <span className="font-medium">{TYPE_INFO[t].label}</span>
          <span className="ml-auto text-xs text-slate-500 dark:text-slate-400">{TYPE_INFO[t].hint}</span>
        </button>
      ))}
    </>
  );
}
