// The "choose a password" field of accepting an invitation and of a password reset: the
// server's password policy explains a refusal right under it, announced and linked to it.
import { Field, inputClass } from "../ui/kit";

export function NewPasswordField({ id, label, value, onChange, refused }: { id: string; label: string; value: string; onChange: (value: string) => void; refused: string | null }) {
  return (
    <>
      <Field label={label} htmlFor={id} hint="At least 10 characters; a phrase of three or four unrelated words works well.">
        <input
          id={id}
          type="password"
          autoComplete="new-password"
          required
          className={inputClass}
          value={value}
          aria-invalid={refused ? true : undefined}
          aria-describedby={refused ? `${id}-error` : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      </Field>
      {refused && (
        <p id={`${id}-error`} role="alert" className="text-sm font-medium text-rose-700 dark:text-rose-300">
          {refused}
        </p>
      )}
    </>
  );
}
