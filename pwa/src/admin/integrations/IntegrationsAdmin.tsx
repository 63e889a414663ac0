// Integrations (owners and admins): ConnectWise and Autotask PSA, webhook subscriptions with their delivery logs, and the
// way to the API keys, so everything that connects Branchline to other tools is found here.
// Online only: it manages what the server sends, and says so when there is no connection.
import { useCallback, useEffect, useState } from "react";
import { useOnline, useSignIn } from "../../data";
import { Button, Card, CopyButton, Dialog, ErrorBox, Link, Loading } from "../../ui/kit";
import { AdminTabs } from "../AdminTabs";
import { errorText, listWebhooks } from "./api";
import { AutotaskSection } from "./AutotaskSection";
import { ConnectWiseSection } from "./ConnectWiseSection";
import { WebhookCard } from "./WebhookCard";
import { WebhookDialog } from "./WebhookDialog";
import { splitUrl, type Webhook } from "./webhooks";

const REFRESH_MS = 30000;

function SecretDialog({ hook, secret, onClose }: { hook: Webhook; secret: string; onClose: () => void }) {
  return (
    <Dialog
      title="Copy the signing secret now"
      onClose={onClose}
      footer={
        <Button tone="primary" onClick={onClose}>
          I have stored it
        </Button>
      }
    >
      <div className="space-y-3 text-sm text-slate-700 dark:text-slate-300">
        <p>
          The webhook to <span className="font-semibold text-slate-900 dark:text-white">{splitUrl(hook.url).host}</span> is created. Your receiver checks each delivery's <code className="font-mono">webhook-signature</code> with this secret.
        </p>
        <div className="flex items-center gap-2 rounded-xl bg-slate-900 pl-3 text-slate-100">
          <span className="sr-only">Signing secret</span>
          <code className="min-w-0 flex-1 py-2 font-mono text-[13px] break-all" data-testid="webhook-secret">
            {secret}
          </code>
          <CopyButton text={secret} />
        </div>
        <p className="rounded-xl border border-amber-300 bg-amber-50 p-3 font-semibold text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
          You will not see this secret again. If it is lost, delete this webhook and create a new one.
        </p>
      </div>
    </Dialog>
  );
}

export function IntegrationsAdmin() {
  const signin = useSignIn();
  const online = useOnline();
  const allowed = !!signin && ["owner", "admin"].includes(signin.account.role);
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ hook: Webhook; secret: string } | null>(null);

  const load = useCallback(() => {
    listWebhooks().then(
      (r) => {
        setHooks(r.items);
        setError(null);
      },
      (e) => setError(errorText(e)),
    );
  }, []);
  useEffect(() => {
    if (allowed && online) load();
  }, [allowed, online, load]);
  // Statuses and last deliveries change on the server by themselves: read them again now and then.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!allowed || !online) return;
    const t = setInterval(() => {
      load();
      setTick((n) => n + 1);
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [allowed, online, load]);

  // A card reports a changed subscription, or just that something happened (then read them all).
  const changed = useCallback(
    (hook?: Webhook) => {
      if (hook) setHooks((hs) => hs && hs.map((h) => (h.id === hook.id ? hook : h)));
      else load();
    },
    [load],
  );

  if (!allowed)
    return (
      <ErrorBox title="Admins only">
        Integrations (webhooks and API keys) are managed by your team's owners and admins. Ask one of them if you need a webhook or a key.
      </ErrorBox>
    );
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Integrations</h1>
          <p className="text-sm text-slate-600 dark:text-slate-400">Send Branchline's events to your PSA, chat or automation.</p>
        </div>
        <AdminTabs tab="integrations" />
      </div>
      {!online && (
        <div role="status" className="rounded-xl border border-amber-300 bg-amber-50 p-4 text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" data-testid="offline-note">
          <p className="font-semibold">You are offline.</p>
          <p className="mt-1 text-sm">Webhooks live on the server, so this page needs a connection: {hooks ? "what you see may be out of date, and changes are off until you are back online." : "it loads as soon as you are back online."}</p>
        </div>
      )}

      <Card className="flex flex-wrap items-center justify-between gap-x-3 px-4 py-1.5">
        <p className="py-2 text-sm text-slate-700 dark:text-slate-300">
          <span className="font-semibold text-slate-900 dark:text-white">API keys</span> let connectors and scripts call the Branchline API.
        </p>
        <Link to="/admin/keys" className="-mx-3 inline-flex min-h-11 items-center rounded-xl px-3 text-sm font-semibold text-indigo-700 hover:bg-indigo-50 dark:text-indigo-300 dark:hover:bg-slate-800">
          Manage API keys →
        </Link>
      </Card>

      <ConnectWiseSection online={online} />

      <AutotaskSection online={online} />

      <section aria-labelledby="webhooks-heading" className="space-y-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <div className="min-w-0">
            <h2 id="webhooks-heading" className="text-lg font-semibold text-slate-900 dark:text-white">
              Webhooks
            </h2>
            <p className="text-sm text-slate-600 dark:text-slate-400">A signed POST to your URL when sessions start or end, trees are published or files attached.</p>
          </div>
          <Button tone="primary" disabled={!online} onClick={() => setCreating(true)}>
            + New webhook
          </Button>
        </div>
        {error && (
          <ErrorBox title="Webhooks could not be read" onRetry={online ? load : undefined}>
            {error}
          </ErrorBox>
        )}
        {!hooks && !error && online && <Loading label="Reading webhooks…" />}
        {hooks && hooks.length === 0 && (
          <Card className="p-6 text-center text-sm text-slate-600 dark:text-slate-400">
            <p>No webhooks yet. Create one to tell your PSA, a Slack or Teams channel, or your own automation what happens in Branchline.</p>
          </Card>
        )}
        {hooks && hooks.length > 0 && (
          <div className="space-y-3" data-testid="webhook-list">
            {hooks.map((h) => (
              <WebhookCard key={h.id} hook={h} online={online} tick={tick} onChanged={changed} onDeleted={(id) => setHooks((hs) => hs && hs.filter((x) => x.id !== id))} />
            ))}
          </div>
        )}
      </section>

      {creating && (
        <WebhookDialog
          onClose={() => setCreating(false)}
          onSaved={(hook, secret) => {
            setCreating(false);
            setHooks((hs) => [...(hs ?? []).filter((h) => h.id !== hook.id), hook]);
            if (secret) setCreated({ hook, secret });
          }}
        />
      )}
      {created && <SecretDialog hook={created.hook} secret={created.secret} onClose={() => setCreated(null)} />}
    </div>
  );
}
