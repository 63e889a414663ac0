// The tabs of the admin area (owners and admins): one place for members and teams, API keys,
// integrations, single sign-on, brand, usage, backups and the audit log.
import { useEffect, useRef } from "react";
import { Link } from "../ui/kit";
import { StorageNotice } from "./StorageNotice";

export type AdminTab = "users" | "keys" | "integrations" | "sso" | "brand" | "usage" | "backups" | "audit";

const TABS: { tab: AdminTab; to: string; label: string }[] = [
  { tab: "users", to: "/admin", label: "Members" },
  { tab: "keys", to: "/admin/keys", label: "API keys" },
  { tab: "integrations", to: "/admin/integrations", label: "Integrations" },
  { tab: "sso", to: "/admin/sso", label: "Single sign-on" },
  { tab: "brand", to: "/admin/brand", label: "Brand" },
  { tab: "usage", to: "/admin/usage", label: "Usage" },
  { tab: "backups", to: "/admin/backups", label: "Backups" },
  { tab: "audit", to: "/admin/audit", label: "Audit log" },
];

export function AdminTabs({ tab }: { tab: AdminTab }) {
  const current = useRef<HTMLAnchorElement>(null);
  // On a phone the tabs are one row that scrolls sideways (nine tabs would take three rows
  // above every admin page); the open one is brought into view.
  useEffect(() => {
    current.current?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [tab]);
  const cls = (on: boolean) =>
    `min-h-11 inline-flex shrink-0 items-center whitespace-nowrap rounded-lg px-3 text-sm font-semibold ${on ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"}`;
  return (
    <>
    {tab !== "usage" && <StorageNotice />}
    <nav className="-mx-1 flex gap-1 overflow-x-auto px-1 pb-1 sm:flex-wrap sm:overflow-visible" aria-label="Team admin">
      {TABS.map((t) => (
        <Link key={t.tab} ref={tab === t.tab ? current : undefined} to={t.to} className={cls(tab === t.tab)} aria-current={tab === t.tab ? "page" : undefined}>
          {t.label}
        </Link>
      ))}
      {/* Phones have Profile in the bottom bar. */}
      <Link to="/profile" className={cls(false).replace("inline-flex", "hidden sm:inline-flex")}>
        My profile
      </Link>
    </nav>
    </>
  );
}
