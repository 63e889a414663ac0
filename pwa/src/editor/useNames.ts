// The team's names by user id (any role may list them), so reviews and versions name people.
import { useEffect, useState } from "react";
import { exportNames, loadDirectory, useSignIn } from "../data";

export function useNames(): (id: string | null | undefined) => string {
  const signin = useSignIn();
  const tenantId = signin?.account.tenant.id || "";
  const [names, setNames] = useState<Record<string, string>>(() => (tenantId ? exportNames(tenantId) : {}));
  useEffect(() => {
    if (!tenantId) return;
    loadDirectory(tenantId).then(
      (items) => setNames(Object.fromEntries(items.map((u) => [u.id, u.display_name]))),
      () => undefined, // offline: the names kept from the last time stay
    );
  }, [tenantId]);
  return (id) => (id ? names[id] || "someone" : "someone");
}
