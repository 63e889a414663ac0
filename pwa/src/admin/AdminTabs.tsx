// The tabs of the admin area (owners and admins): members, API keys, integrations, single sign-on and brand.
import { Link } from "../ui/kit";

export type AdminTab = "users" | "keys" | "integrations" | "sso" | "brand" | "backups";

const TABS: { tab: AdminTab; to: string; label: string }[] = [
  { tab: "users", to: "/admin", label: "Members" },
  { tab: "keys", to: "/admin/keys", label: "API keys" },
  { tab: "integrations", to: "/admin/integrations", label: "Integrations" },
  { tab: "sso", to: "/admin/sso", label: "Single sign-on" },
  { tab: "brand", to: "/admin/brand", label: "Brand" },
  { tab: "backups", to: "/admin/backups", label: "Backups" },
];

export function AdminTabs({ tab }: { tab: AdminTab }) {
  const cls = (on: boolean) => `min-h-11 inline-flex items-center rounded-lg px-3 text-sm font-semibold ${on ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"}`;
  return (
    <nav className="flex flex-wrap gap-1" aria-label="Team admin">
      {TABS.map((t) => (
        <Link key={t.tab} to={t.to} className={cls(tab === t.tab)} aria-current={tab === t.tab ? "page" : undefined}>
          {t.label}
        </Link>
      ))}
      {/* Phones have Profile in the bottom bar; without it here the three tabs fit one line. */}
      <Link to="/profile" className={cls(false).replace("inline-flex", "hidden sm:inline-flex")}>
        My profile
      </Link>
    </nav>
  );
}
