// The tenant's brand (white-label): its name, logo and colour in the app shell. Fetched after
// sign-in and on each refresh, kept in localStorage per tenant (the logo is a data: URL in the
// same answer), so the shell stays branded offline and on the first paint after a reload.
import { Observable } from "./observable";

export interface Brand {
  name: string;
  primary_color: string | null;
  on_primary: string | null;
  accent_color: string | null;
  custom_domain: string | null;
  /** Whether the custom domain serves the brand yet; while not, the TXT record that proves it. */
  custom_domain_verified?: boolean;
  /** pending (not proven yet), verified, or taken (another workspace proved it first). */
  custom_domain_status?: "pending" | "verified" | "taken" | null;
  custom_domain_record?: { type: "TXT"; name: string; value: string } | null;
  logo: { content_type: string; sha256: string; data_url: string } | null;
}

export const brand = new Observable<Brand | null>(null);

const key = (tenantId: string) => `bl.brand.${tenantId}`;
const HEX = /^#[0-9a-f]{6}$/;

function stored(tenantId: string): Brand | null {
  try {
    const raw = localStorage.getItem(key(tenantId));
    return raw ? (JSON.parse(raw) as Brand) : null;
  } catch {
    return null;
  }
}

/** Show the brand kept for `tenantId` (null: the app's own look, e.g. once signed out). */
export function showStoredBrand(tenantId: string | null): void {
  const b = tenantId ? stored(tenantId) : null;
  brand.set(b);
  applyBrand(b);
}

/** Keep and show a brand just fetched from the server. */
export function rememberBrand(tenantId: string, b: Brand): void {
  localStorage.setItem(key(tenantId), JSON.stringify(b));
  brand.set(b);
  applyBrand(b);
}

const HOST = "host";

/** Before sign-in: the brand of the workspace whose custom domain this is (the server
 * answers 204 on any other address), or, offline, the one last seen here. */
export async function showHostBrand(): Promise<void> {
  let res: Response;
  try {
    res = await fetch("/api/v1/brand");
  } catch {
    showStoredBrand(HOST);
    return;
  }
  if (res.status === 200) rememberBrand(HOST, (await res.json()) as Brand);
  else {
    localStorage.removeItem(key(HOST));
    showStoredBrand(null);
  }
}

/** The brand's colours as CSS variables on <html> (index.css uses them when `data-brand` is
 * set). The server refused colours whose text would miss 4.5:1; the check here only keeps
 * a damaged stored value from reaching the style sheet. */
export function applyBrand(b: Brand | null, root: HTMLElement = document.documentElement): void {
  const color = b?.primary_color ?? "";
  const on = b?.on_primary ?? "";
  if (HEX.test(color) && HEX.test(on)) {
    root.style.setProperty("--brand-primary", color);
    root.style.setProperty("--brand-on-primary", on);
    root.dataset.brand = "";
  } else {
    root.style.removeProperty("--brand-primary");
    root.style.removeProperty("--brand-on-primary");
    delete root.dataset.brand;
  }
  const meta = document.querySelector<HTMLMetaElement>('meta[name="theme-color"]');
  if (meta) {
    meta.dataset.original ??= meta.content;
    meta.content = HEX.test(color) ? color : meta.dataset.original;
  }
}
