// A one-line storage notice above every admin tab but Usage (which shows the full banner):
// an owner working on members or keys learns the team is near its quota before writes are
// refused. Silent while storage is below 80%, offline, or when the answer cannot be read.
import { useEffect, useState } from "react";
import { api } from "../data";
import { Link } from "../ui/kit";
import type { UsageWarning } from "./UsageAdmin";

export function StorageNotice() {
  const [warning, setWarning] = useState<UsageWarning | null>(null);
  useEffect(() => {
    let live = true;
    api<{ warnings: UsageWarning[] }>("/api/v1/tenant/usage/warnings")
      .then((u) => live && setWarning(u.warnings[0] ?? null))
      .catch(() => undefined); // the notice is a courtesy: the Usage tab reports errors
    return () => {
      live = false;
    };
  }, []);
  if (!warning) return null;
  const critical = warning.level === "critical";
  return (
    <p
      role={critical ? "alert" : "status"}
      className={`w-full basis-full rounded-xl border px-3 py-2 text-sm ${critical ? "border-rose-300 bg-rose-50 text-rose-950 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100" : "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"}`}
      data-testid="usage-notice"
    >
      <span className="font-semibold">{critical ? "Storage full." : "Storage almost full."}</span>{" "}
      <Link to="/admin/usage" className="font-semibold underline">
        See Usage
      </Link>
    </p>
  );
}
