import { useState } from "react";
import { register } from "../data";
import { Button, ErrorBox, Field, inputClass } from "../ui/kit";
import { AuthFrame, AuthSwitch } from "./SignInScreen";
import { useAuthSubmit } from "./useAuthSubmit";

export default function RegisterScreen() {
  const [form, setForm] = useState({ tenant_name: "", display_name: "", email: "", password: "", starter_library: true });
  const set = (k: keyof typeof form) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.type === "checkbox" ? !!e.target.checked : e.target.value }));
  const { busy, error, submit } = useAuthSubmit(() =>
    register({ ...form, email: form.email.trim(), tenant_name: form.tenant_name.trim() }),
  );

  return (
    <AuthFrame title="Create your workspace" subtitle="One workspace per MSP. You become its owner and can invite your engineers.">
      <form onSubmit={submit} className="space-y-5">
        <Field label="Company name" htmlFor="tenant">
          <input id="tenant" required className={inputClass} value={form.tenant_name} onChange={set("tenant_name")} placeholder="Contoso IT Services" />
        </Field>
        <Field label="Your name" htmlFor="name">
          <input id="name" required autoComplete="name" className={inputClass} value={form.display_name} onChange={set("display_name")} />
        </Field>
        <Field label="Work email" htmlFor="email">
          <input id="email" type="email" required autoComplete="username" className={inputClass} value={form.email} onChange={set("email")} />
        </Field>
        <Field label="Password" htmlFor="password" hint="At least 10 characters. A short sentence works well.">
          <input id="password" type="password" required autoComplete="new-password" className={inputClass} value={form.password} onChange={set("password")} />
        </Field>
        <label className="flex min-h-11 items-start gap-3 text-[0.9375rem]">
          <input type="checkbox" className="mt-1 h-5 w-5 rounded accent-indigo-600" checked={form.starter_library} onChange={set("starter_library")} />
          <span>
            <span className="font-semibold">Add the starter library</span>
            <span className="block text-sm text-slate-500">15 ready-to-run trees: Citrix, Microsoft 365, VPN, backups and more.</span>
          </span>
        </label>
        {error && <ErrorBox title="Could not create the workspace">{error}</ErrorBox>}
        <Button type="submit" tone="primary" className="w-full" busy={busy}>
          Create workspace
        </Button>
      </form>
      <AuthSwitch question="Already have an account?" to="/signin" label="Sign in" />
    </AuthFrame>
  );
}
