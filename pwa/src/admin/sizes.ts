// Sizes in words, for the Usage page and the audit log.

/** Binary units with one decimal, as the server words sizes (api/usage/sizes.py). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let value = n;
  for (const unit of ["KB", "MB", "GB"]) {
    value /= 1024;
    if (value < 1024) return `${value.toFixed(1)} ${unit}`;
  }
  return `${(value / 1024).toFixed(1)} TB`;
}
